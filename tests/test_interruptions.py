"""Runs that end early (the target dies, the user interrupts) still end cleanly, with complete reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import ALL_CHECKS
from conformance.engine import StopReason
from tests.faults import CountingApp
from tests.suite_runner import ROOT, TOKEN, mock_target

INTERRUPTED_NOTE = StopReason.INTERRUPTED.note()
UNREACHABLE_NOTE = StopReason.UNREACHABLE.note("").removesuffix(": ")


class SlowApp(CountingApp):
    """The reference mock, a little slow, so a run is still under way when the test acts on it."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import asyncio

        if scope["type"] == "http":
            await asyncio.sleep(0.02)
        await super().__call__(scope, receive, send)


@contextmanager
def suite_process(
    report_dir: Path, target: str, vendors: list[str], *extra: str, new_session: bool = False
) -> Iterator[subprocess.Popen[str]]:
    """The suite in a process of its own; with `new_session`, also a process group of its own (with its
    xdist workers), so that a test can send a signal to the group, as Ctrl-C in a terminal does."""
    command = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-p", "no:cacheprovider", "-q"]
    command += ["--seed", "1", "--request-timeout", "2", f"--report-dir={report_dir}", "--target-url", target]
    for vendor in vendors:
        command += ["--vendor", vendor]
    env = {**os.environ, "CONFORMANCE_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    if "-n" in extra:
        command += ["--dist", "loadscope"]  # what a conformance run under xdist needs
    proc = subprocess.Popen(
        [*command, *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            if new_session:
                os.killpg(proc.pid, signal.SIGKILL)  # the workers too
            else:
                proc.kill()
            proc.communicate()


def wait_for_requests(app: CountingApp, count: int, proc: subprocess.Popen[str]) -> None:
    """Until the server has seen `count` requests (bounded, so a broken run cannot hang the self-tests)."""
    for _ in range(1200):
        if app.requests >= count:
            return
        assert proc.poll() is None, "the suite ended before the test could act on it"
        time.sleep(0.05)
    raise AssertionError(f"the server saw only {app.requests} requests")


def slow_counting(apps: list[CountingApp]) -> Any:
    def wrap(app: Any) -> CountingApp:
        apps.append(SlowApp(app))
        return apps[-1]

    return wrap


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_target_that_dies_mid_run_ends_as_a_usage_error_with_reports(tmp_path: Path, workers: str) -> None:
    vendors = ["seekrflow", "watsonx"]
    apps: list[CountingApp] = []
    server = mock_target(vendors, wrap=slow_counting(apps), dedicated=True)
    target = server.__enter__()
    with suite_process(tmp_path, target, vendors, "-n", workers) as proc:
        try:
            wait_for_requests(apps[0], 30, proc)
        finally:
            server.__exit__(None, None, None)  # from now on every connection is refused
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, output[-3000:]
    assert "INTERNALERROR" not in output and "Traceback" not in output, output[-3000:]
    assert f"warning: {UNREACHABLE_NOTE}: cannot reach http://127.0.0.1:" in output, output[-3000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert any(w.startswith(UNREACHABLE_NOTE) for w in report["warnings"])
    assert len(report["results"]) == len(vendors) * len(ALL_CHECKS)
    assert any(r["outcome"] == "not_reached" for r in report["results"])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_during_the_only_operation_still_writes_complete_reports(tmp_path: Path, sig: int) -> None:
    apps: list[CountingApp] = []
    with (
        mock_target(["andibase"], wrap=slow_counting(apps)) as target,
        suite_process(tmp_path, target, ["andibase"]) as proc,
    ):
        wait_for_requests(apps[0], 40, proc)
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=60)
        created_on_the_server = apps[0].app.state.created
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["interrupted"] is True
    assert len(report["results"]) == len(ALL_CHECKS)
    notes = {r["note"] for r in report["results"] if r["outcome"] == "not_reached"}
    assert notes <= {INTERRUPTED_NOTE}
    judged = [r for r in report["results"] if r["outcome"] == "passed"]
    assert judged, "what ran before the interrupt is reported"
    assert all(INTERRUPTED_NOTE in r["note"] for r in judged)
    [vendor] = report["vendors"]
    # Every thread the run left behind is accounted for (one more may have been in flight).
    assert 0 < vendor["created_resources"] <= created_on_the_server <= vendor["created_resources"] + 1
    assert (tmp_path / "junit.xml").read_text().strip().endswith("</testsuites>")


@pytest.mark.slow
def test_ctrl_c_under_xdist_keeps_what_the_workers_ran(tmp_path: Path) -> None:
    report = interrupt_under_xdist(tmp_path, os.killpg)  # what Ctrl-C in a terminal does: controller and workers
    judged = [r for r in report["results"] if r["outcome"] == "passed"]
    assert judged, "what the workers ran before the interrupt is reported"
    assert [v for v in report["vendors"] if v["cases"] > 0], report["vendors"]
    created = sum(v["created_resources"] for v in report["vendors"])
    # Every thread the run left behind is accounted for (one more per worker may have been in flight).
    assert 0 < created <= report["created_on_the_server"] <= created + 2


@pytest.mark.slow
def test_an_interrupt_of_the_xdist_controller_alone_still_ends_the_run_as_interrupted(tmp_path: Path) -> None:
    # The workers go on (they were not signalled); the controller waits for them, boundedly, and never
    # forgets that it was interrupted.
    interrupt_under_xdist(tmp_path, os.kill)


def interrupt_under_xdist(tmp_path: Path, kill: Any) -> dict[str, Any]:
    """Interrupt a `-n 2` run with `kill(pid, SIGINT)` once the server has answered some requests; check that
    it ends as interrupted, cleanly, with every check in its reports; return conformance.json."""
    vendors = ["seekrflow", "watsonx", "andibase"]
    apps: list[CountingApp] = []
    with (
        mock_target(vendors, wrap=slow_counting(apps)) as target,
        # A small budget: the run is still going after 60 requests (the coverage phases alone send hundreds),
        # and the workers that the controller-alone interrupt leaves running finish sooner on the slow mock.
        suite_process(tmp_path, target, vendors, "-n", "2", "--max-examples", "10", new_session=True) as proc,
    ):
        wait_for_requests(apps[0], 60, proc)
        kill(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
        created_on_the_server = apps[0].app.state.created
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "INTERNALERROR" not in output and "Traceback" not in output, output[-3000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["interrupted"] is True
    assert len(report["results"]) == len(vendors) * len(ALL_CHECKS)  # every check, reached or not
    notes = {r["note"] for r in report["results"] if r["outcome"] == "not_reached"}
    assert notes <= {INTERRUPTED_NOTE}
    assert (tmp_path / "junit.xml").read_text().strip().endswith("</testsuites>")
    return {**report, "created_on_the_server": created_on_the_server}


def _traceback_without_a_line_number(tb_next: Any = None) -> Any:
    """A real traceback entry whose frame has no line number (`tb_lineno` None), as CPython 3.11 gives an
    interrupt that lands on an instruction without one (a `with` block's cleanup, say)."""
    import types

    def frame_with_cleanup() -> Any:
        with open(os.devnull, encoding="utf-8"):
            pass
        return sys._getframe()

    frame = frame_with_cleanup()
    for lasti in range(0, len(frame.f_code.co_code), 2):
        tb = types.TracebackType(tb_next, frame, lasti, -1)
        if tb.tb_lineno is None:
            return tb
    pytest.skip(f"every instruction of the frame has a line number on Python {sys.version.split()[0]}")


def test_ctrl_c_on_an_instruction_without_a_line_number_is_an_interrupt_not_an_internal_error() -> None:
    """Seen once in about twenty full self-test runs: pytest's report of such an interrupt crashed (TypeError in
    TracebackEntry.lineno), and the run ended with INTERNALERROR and exit 1, not as interrupted (exit 2)."""
    import types

    from conformance.plugin import State

    def user_pressed_ctrl_c() -> None:
        raise KeyboardInterrupt

    try:
        user_pressed_ctrl_c()
    except KeyboardInterrupt as exc:
        interrupt, where = exc, exc.__traceback__
    assert where is not None

    def excinfo() -> Any:
        chain = types.TracebackType(_traceback_without_a_line_number(), where.tb_frame, where.tb_lasti, where.tb_lineno)
        return pytest.ExceptionInfo.from_exc_info((KeyboardInterrupt, interrupt, chain))

    with pytest.raises(TypeError):  # pytest alone
        excinfo().getrepr(funcargs=True)
    info = excinfo()
    State.pytest_keyboard_interrupt(info)  # what the plugin does first, in a conformance run
    text = str(info.getrepr(funcargs=True))
    assert "KeyboardInterrupt" in text and "test_ctrl_c_on_an_instruction_without_a_line_number" in text, text
