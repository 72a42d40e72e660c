"""A console running on a loopback port for the browser and HTTP tests."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CONSOLE_CONFIG = """
[console]
base_url = "http://localhost:{port}"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(workspace, port: int, extra: str = "") -> None:
    """Approvers ana and luis, operator marta, viewer vera; the console on `port`."""
    workspace.write_config(extra=extra + CONSOLE_CONFIG.format(port=port))
    path = workspace.path / "config" / "publisher.toml"
    text = path.read_text(encoding="utf-8").replace(
        'approvers = ["ana", "luis"]', 'approvers = ["ana", "luis"]\noperators = ["marta"]\nviewers = ["vera"]')
    path.write_text(text, encoding="utf-8")


@contextmanager
def running_console(workspace_path: Path, port: int) -> Iterator[object]:
    import uvicorn

    from publisher.web.server import create_app
    from publisher.workspace.app import App

    app = App(workspace_path)
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.05)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(10)
