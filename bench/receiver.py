"""A loopback webhook receiver in its own process, so its work is billed to neither
side: asyncio, HTTP/1.1 keep-alive, every path accepted.

Run: `python bench/receiver.py SPEC`, SPEC a number (every POST answered after that
many seconds) or JSON: `{"delay": s, "delays": {"0003": s}, "throttled": ["0005"],
"retry_after": "2"}`, where a key is the last part of the path (`/any/prefix/hooks/0003`).
The first POST to each throttled path is answered 429 with `Retry-After`, the later ones
200, each after its path's delay. A 200 carries `{"id", "url"}`. `GET /count/PREFIX`
answers how many POSTs under that prefix were answered 200, with the wall-clock times
(`time.time()`) the first POST under it arrived and the last 200 was answered. It prints its port on the
first line of stdout and serves until stdin closes."""
from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter

COUNTER = itertools.count(1)
ACCEPTED: Counter[str] = Counter()
SEEN: set[str] = set()
ARRIVED: dict[str, float] = {}
ANSWERED: dict[str, float] = {}


def answer(status: int, body: bytes, extra: bytes = b"") -> bytes:
    reason = {200: b"OK", 429: b"Too Many Requests"}[status]
    return (b"HTTP/1.1 " + str(status).encode() + b" " + reason + b"\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, spec: dict) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path = head.split(b" ", 2)[:2]
            path_text = path.decode()
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            if length:
                await reader.readexactly(length)
            if method == b"GET" and path_text.startswith("/count/"):
                prefix = path_text[len("/count"):]
                total = sum(count for key, count in ACCEPTED.items() if key.startswith(prefix))
                first = min((at for key, at in ARRIVED.items() if key.startswith(prefix)), default=None)
                last = max((at for key, at in ANSWERED.items() if key.startswith(prefix)), default=None)
                writer.write(answer(200, json.dumps({"accepted": total, "first": first, "last": last}).encode()))
                await writer.drain()
                continue
            key = path_text.rsplit("/", 1)[-1]
            ARRIVED.setdefault(path_text, time.time())
            delay = float(spec.get("delays", {}).get(key, spec.get("delay", 0.0)))
            if delay:
                await asyncio.sleep(delay)
            if key in spec.get("throttled", ()) and path_text not in SEEN:
                SEEN.add(path_text)
                retry_after = str(spec.get("retry_after", "2")).encode()
                writer.write(answer(429, b'{"error": "slow down"}', b"Retry-After: " + retry_after + b"\r\n"))
            else:
                number = next(COUNTER)
                ACCEPTED[path_text] += 1
                ANSWERED[path_text] = time.time()
                body = json.dumps({"id": f"evt_{number}", "url": f"https://status.example.org/e/{number}"})
                writer.write(answer(200, body.encode()))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(spec: dict) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, spec), "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def parse_spec(text: str) -> dict:
    text = text.strip()
    return json.loads(text) if text.startswith("{") else {"delay": float(text or 0)}


if __name__ == "__main__":
    asyncio.run(main(parse_spec(sys.argv[1] if len(sys.argv) > 1 else "0")))
