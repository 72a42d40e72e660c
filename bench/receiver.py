"""A loopback webhook receiver in its own process, so its work is billed to neither
side: asyncio, HTTP/1.1 keep-alive, every path accepted. Each POST is answered after
a fixed delay with `{"id", "url"}`. Run: `python bench/receiver.py DELAY_SECONDS`;
it prints its port on the first line of stdout and serves until stdin closes."""
from __future__ import annotations

import asyncio
import itertools
import json
import sys

COUNTER = itertools.count(1)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            if length:
                await reader.readexactly(length)
            if delay:
                await asyncio.sleep(delay)
            number = next(COUNTER)
            body = json.dumps({"id": f"evt_{number}", "url": f"https://status.example.org/e/{number}"}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(delay: float) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, delay), "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0))
