"""Fault-injecting servers on 127.0.0.1 for the robustness self-tests.

`raw_server` speaks just enough HTTP/1.1 over a plain socket to misbehave in ways a real framework
won't (stall, reset mid-body, lie about Content-Length). `CountingApp` wraps the reference mock to
count requests, record their arrival, and answer some of them with 429.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# An action gets the request index (0-based) and returns what to do: ("send", bytes), ("stall", bytes),
# ("drip", bytes), ("reset", bytes) or ("close", bytes).
Action = tuple[str, bytes]
Behaviour = Callable[[int, bytes], Action]

VALIDATION_ERROR = b'{"detail":[{"loc":["body"],"msg":"rejected by the fault server","type":"value_error"}]}'


def http_response(status: int, body: bytes, content_type: str = "application/json", length: int | None = None) -> bytes:
    declared = len(body) if length is None else length
    head = (
        f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {declared}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


def rejecting(index: int, request: bytes) -> Action:
    """The fallback answer: the documented SeekrFlow/watsonx 422."""
    return ("send", http_response(422, VALIDATION_ERROR))


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@dataclass
class RawServer:
    """A threaded one-connection-at-a-time server; `requests` counts what it received."""

    behaviour: Behaviour
    requests: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    open_connections: list[socket.socket] = field(default_factory=list)

    def handle(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if not request:
                return
            index = self.requests
            self.requests += 1
            kind, payload = self.behaviour(index, request)
            try:
                if kind == "drip":
                    # A byte at a time, 50 ms apart: every read completes quickly, the response never does.
                    for i in range(len(payload)):
                        conn.sendall(payload[i : i + 1])
                        if self.stop.wait(0.05):
                            return
                    return
                conn.sendall(payload)
                if kind == "stall":
                    self.stop.wait(30)
                elif kind == "reset":
                    # SO_LINGER with a zero timeout turns close() into a TCP RST.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[tuple[str, RawServer]]:
    """Serve `behaviour` on a free 127.0.0.1 port; yields (base URL, server)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    server = RawServer(behaviour)
    threads: list[threading.Thread] = []

    def loop() -> None:
        while not server.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=server.handle, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=loop, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", server
    finally:
        server.stop.set()
        acceptor.join(5)
        listener.close()
        for thread in threads:
            thread.join(5)


class CountingApp:
    """ASGI wrapper: counts requests, records arrival times, and answers chosen ones with 429."""

    def __init__(
        self, app: Any, *, too_many: Callable[[int], bool] = lambda index: False, retry_after: str = "0"
    ) -> None:
        self.app = app
        self.too_many = too_many
        self.retry_after = retry_after
        self.requests = 0
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self.lock:
            index = self.requests
            self.requests += 1
            self.arrivals.append(time.monotonic())
        if self.too_many(index):
            body = b'{"detail":"slow down"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", self.retry_after.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
