"""Runs the conformance suite against a mock on a loopback port, as a user would: the same `pytest --pyargs
conformance.suite` command line, in this process (`pytest.main`, the plugin and its terminal output unchanged)
or, where the process itself is under test (xdist, exit of the interpreter), in a subprocess.

The mocks of a self-test session share one loopback server (`MockHost`, started by a session fixture in
tests/conftest.py): each `mock_target` mounts its own app, with its own state, under a path prefix of its own.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.cli import join_option_values
from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import select_vendors

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "self-test-token-5f1c2a9e"


@dataclass
class SuiteRun:
    """What one suite run produced."""

    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    report_dir: Path

    def outcomes(self, vendor: str | None = None) -> dict[str, str]:
        assert self.report is not None, self.stdout[-3000:] + self.stderr[-3000:]
        return {
            (r["check"] if vendor else f"{r['vendor']}::{r['check']}"): r["outcome"]
            for r in self.report["results"]
            if vendor is None or r["vendor"] == vendor
        }

    def failed_checks(self, vendor: str) -> set[str]:
        return {check for check, outcome in self.outcomes(vendor).items() if outcome in ("failed", "stale")}


class MockHost:
    """One loopback server for many ASGI apps, each under a path prefix of its own (`/m<n>`): the app sees the
    request as if it were served at the root (`path` and `raw_path` without the prefix).

    Started on the first `mount`, so a worker that runs no suite starts no server; a self-test that needs a
    server of its own (one that dies mid-run, TLS) uses `mock_target(..., dedicated=True)` or `running_server`.
    """

    def __init__(self) -> None:
        self._apps: dict[str, Any] = {}
        self._names = itertools.count(1)
        self._server: Any = None
        self._root = ""

    @contextmanager
    def mounted(self, app: Any) -> Iterator[str]:
        """`app` served under a new prefix while the block runs; yields its base URL."""
        if self._server is None:
            self._server = running_server(self)
            self._root = self._server.__enter__().rstrip("/")
        name = f"m{next(self._names)}"
        self._apps[name] = app
        try:
            yield f"{self._root}/{name}"
        finally:
            del self._apps[name]

    def close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.__exit__(None, None, None)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the mounted apps keep no state that needs a startup
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        name = scope["path"][1:].split("/", 1)[0]
        app = self._apps.get(name)
        if app is None:
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        cut = len(name) + 1
        inner = {**scope, "path": scope["path"][cut:] or "/"}
        if scope.get("raw_path"):
            inner["raw_path"] = scope["raw_path"][cut:] or b"/"
        await app(inner, receive, send)


HOST: MockHost | None = None  # set for the session by tests/conftest.py


@contextmanager
def mock_target(
    vendors: Sequence[str],
    mutant: str | None = None,
    tokens: Sequence[str] = (TOKEN,),
    wrap: Callable[[Any], Any] | None = None,
    *,
    dedicated: bool = False,
) -> Iterator[str]:
    """Serve the reference mock (or one mutant) on 127.0.0.1; yields the URL to pass as --target-url.

    On the session's shared server unless `dedicated` (a server of its own, stopped when the block ends: from
    then on every connection to it is refused)."""
    profiles = select_vendors(list(vendors))
    app = create_app(profiles, tokens=list(tokens), mutant=mutant, prefix_by_vendor=True)
    served = wrap(app) if wrap else app
    with running_server(served) if dedicated or HOST is None else HOST.mounted(served) as root:
        root = root.rstrip("/")
        yield f"{root}/{vendors[0]}" if len(vendors) == 1 else root


def run_suite(
    report_dir: Path,
    *args: str,
    target: str | None = None,
    vendors: Sequence[str] = (),
    seed: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    subprocess_run: bool = False,
) -> SuiteRun:
    """`pytest --pyargs conformance.suite ...`; reads back conformance.json when it was written.

    In this process unless `subprocess_run` or `-n` (xdist starts worker processes of its own): an interpreter
    start and the imports cost more than a small run, and about fifty self-tests run the suite."""
    arguments = [
        "--pyargs",
        "conformance.suite",
        "-q",
        "-p",
        "no:cacheprovider",
        "--seed",
        str(seed),
        "--report-dir",
        str(report_dir),
    ]
    for vendor in vendors:
        arguments += ["--vendor", vendor]
    if target is not None:
        arguments += ["--target-url", target]
    arguments += list(args)
    # `--report-dir=DIR`, as `conformance run` passes them: pytest would take a separate DIR outside the checkout for
    # a test path when it looks for its ini file, and the plugin stops such a run (tests/test_product.py).
    arguments = join_option_values(arguments)
    if "-n" in args:
        arguments += ["--dist", "loadscope"]  # what a conformance run under xdist needs (see the README)
    environment = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    environment["CONFORMANCE_TOKEN"] = TOKEN
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID", "PYTEST_CURRENT_TEST"):
        environment.pop(name, None)
    environment.update(env or {})
    if subprocess_run or "-n" in args:
        command = [sys.executable, "-m", "pytest", *arguments]
        proc = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    else:
        returncode, stdout, stderr = _in_process(arguments, environment)
    report_path = report_dir / "conformance.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return SuiteRun(returncode, stdout, stderr, report, report_dir)


def _in_process(arguments: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
    """`pytest.main(arguments)` from the repository root with `environment`, its output captured (as
    pytester's runpytest_inprocess does); the environment and directory are restored afterwards."""
    import pytest

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(ROOT)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            returncode = int(pytest.main(arguments))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return returncode, out.getvalue(), err.getvalue()
