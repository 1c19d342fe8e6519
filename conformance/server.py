"""Serving an ASGI app with uvicorn: in a background thread (tests, the embedded mock) or in the foreground (CLI)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from conformance.errors import UsageError

STARTUP_TIMEOUT = 10.0  # seconds; binding a loopback socket and starting an event loop takes milliseconds
SHUTDOWN_TIMEOUT = 10.0


def base_url(host: str, port: int) -> str:
    """http://host:port, with an IPv6 literal in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a UsageError that says in one line why not."""
    if not 0 <= port <= 65535:
        raise UsageError(f"port {port} is out of range (0-65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot listen on host {host!r}: {getattr(exc, 'strerror', None) or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a restart is not refused while old connections linger in TIME_WAIT. On
        # Linux this does not let two servers listen on one port, so "in use" is still detected.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is already in use on {host}") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise UsageError(
                f"permission denied to listen on {host}:{port} (ports below 1024 need privileges)"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"cannot listen on {host}: the address is not on this machine") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _server(app: Any, host: str, port: int, log_level: str, **tls: Any) -> uvicorn.Server:
    # log_config=None: uvicorn must not reconfigure the process's logging (pytest's, the CLI's).
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, log_config=None, **tls)
    return uvicorn.Server(config)


@contextmanager
def running_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "error",
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[str]:
    """Serve `app` from a background thread while the block runs; yields its base URL (a free port when 0).

    With a certificate and key it serves HTTPS (used by the TLS self-tests).
    """
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    server = _server(app, host, actual_port, log_level, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the caller's thread below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"conformance-server-{actual_port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not server.started:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
            reason = repr(failure[0]) if failure else "it did not start"
            raise RuntimeError(f"the server on {base_url(host, actual_port)} failed: {reason}")
        url = base_url(host, actual_port)
        yield url.replace("http://", "https://", 1) if ssl_certfile else url
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()


def serve_forever(
    app: Any,
    host: str,
    port: int,
    *,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "error",
) -> None:
    """Serve `app` in the foreground until interrupted (Ctrl-C); `on_ready` gets the base URL once bound.

    Binding first means "port in use", a bad host and the like are UsageErrors, not uvicorn tracebacks.
    """
    sock = bind(host, port)
    try:
        url = base_url(host, sock.getsockname()[1])
        server = _server(app, host, sock.getsockname()[1], log_level)
        if on_ready is not None:
            on_ready(url)
        server.run(sockets=[sock])
    finally:
        sock.close()
