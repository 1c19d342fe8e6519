"""--workers N: cases sent from N threads give the same cases and verdicts, and share the budget and rate exactly."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.api import make_settings
from conformance.errors import UsageError
from conformance.transport import BudgetExhausted, HttpxTransport, RateLimit, SendCancelled
from tests.faults import CountingApp, raw_server
from tests.suite_runner import SuiteRun, mock_target, run_suite


async def read_body(receive: Any) -> bytes:
    """The whole body of an ASGI request, however many messages it came in."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Any) -> Any:
    """An ASGI `receive` that gives the app `body`, already read, then whatever `receive` gives."""
    delivered = False

    async def replay() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Recording:
    """ASGI wrapper: keeps the method, path and body of every request, in arrival order."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        with self.lock:
            self.requests.append((scope["method"], scope["path"], body))
        await self.app(scope, replaying(body, receive), send)


def recorded_run(
    tmp_path: Path,
    vendor: str,
    workers: int,
    *args: str,
    mutant: str | None = None,
    inner: Callable[[Any], Any] = lambda app: app,
) -> tuple[SuiteRun, Recording]:
    """One suite run against a fresh mock (a second run must not find the first one's resources), `inner`
    wrapping the mock inside the recording."""
    holder: dict[str, Recording] = {}

    def wrap(app: Any) -> Recording:
        holder["app"] = Recording(inner(app))
        return holder["app"]

    with mock_target([vendor], mutant=mutant, wrap=wrap) as target:
        run = run_suite(tmp_path / f"w{workers}", "--workers", str(workers), *args, target=target, vendors=[vendor])
    return run, holder["app"]


def verdicts(run: SuiteRun) -> list[tuple[Any, ...]]:
    assert run.report is not None, run.stdout[-3000:]
    return [
        (r["operation"], r["check"], r["outcome"], r["cases"], sorted(f["id"] for f in r["failures"]))
        for r in run.report["results"]
    ]


def sent_bodies(recording: Recording) -> list[tuple[str, str, bytes]]:
    return sorted(recording.requests)


@pytest.mark.parametrize("vendor", ["langgraph", "seekrflow"])
def test_four_workers_send_the_same_cases_and_give_the_same_verdicts_as_one(tmp_path: Path, vendor: str) -> None:
    """langgraph lets the client choose the thread id: its repeats (conflicts) must be judged as with one worker."""
    one, one_sent = recorded_run(tmp_path, vendor, 1, "--max-examples", "15")
    four, four_sent = recorded_run(tmp_path, vendor, 4, "--max-examples", "15")
    assert one.returncode == four.returncode == 0, four.stdout[-3000:]
    assert verdicts(four) == verdicts(one)
    assert len(four_sent.requests) == len(one_sent.requests) > 50
    assert sent_bodies(four_sent) == sent_bodies(one_sent)


def test_four_workers_find_the_same_failures_in_a_mutant(tmp_path: Path) -> None:
    mutant = "success-status-swapped"
    one, one_sent = recorded_run(tmp_path, "langgraph", 1, "--max-examples", "15", mutant=mutant)
    four, four_sent = recorded_run(tmp_path, "langgraph", 4, "--max-examples", "15", mutant=mutant)
    assert one.returncode == four.returncode == 1
    assert one.failed_checks("langgraph")  # the mutant is caught...
    assert verdicts(four) == verdicts(one)  # ...alike, down to the failure ids
    assert sent_bodies(four_sent) == sent_bodies(one_sent)  # confirmation re-sends included


def test_the_budget_is_exact_at_the_server_with_four_workers(tmp_path: Path) -> None:
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    with mock_target(["langgraph"], wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-requests", "45", "--workers", "4", target=target, vendors=["langgraph"])
    assert counter["app"].requests == 45
    assert run.report is not None and run.report["budget_exhausted"] is True
    assert run.returncode == 0, run.stdout[-3000:]


def test_the_budget_covers_the_same_cases_whatever_the_timing(tmp_path: Path) -> None:
    """Budget slots are reserved in generation order: two runs with four workers send the same requests."""
    first, first_sent = recorded_run(tmp_path / "a", "seekrflow", 4, "--max-requests", "70")
    second, second_sent = recorded_run(tmp_path / "b", "seekrflow", 4, "--max-requests", "70")
    assert len(first_sent.requests) == len(second_sent.requests) == 70
    assert sent_bodies(first_sent) == sent_bodies(second_sent)
    assert verdicts(first) == verdicts(second)


@pytest.mark.parametrize("budget", [5, 14, 23, 32, 41, 50])
def test_under_a_budget_four_workers_send_the_same_requests_and_give_the_same_verdicts_as_one(
    tmp_path: Path, budget: int
) -> None:
    """ignored_auth's probes are sent while a case is judged, after later cases were handed to the sending
    threads: the budget must still end where it ends with one worker, not a few cases later."""
    args = ("--max-examples", "30", "--max-requests", str(budget))
    one, one_sent = recorded_run(tmp_path, "seekrflow", 1, *args)
    four, four_sent = recorded_run(tmp_path, "seekrflow", 4, *args)
    assert one.report is not None and one.report["budget_exhausted"] is True, one.stdout[-3000:]
    assert len(four_sent.requests) == len(one_sent.requests) == budget
    assert sent_bodies(four_sent) == sent_bodies(one_sent)
    assert verdicts(four) == verdicts(one)


@pytest.mark.parametrize("budget", [45, 75, 105])
def test_under_a_budget_rejected_valid_requests_taken_apart_end_it_as_with_one_worker(
    tmp_path: Path, budget: int
) -> None:
    """A rejected valid case is sent again, part by part, while it is judged (conformance.identity); what those
    requests create is remembered for the conflict rule. With four workers the same requests go out, the same
    verdicts come back. (The bound in `extra_requests_per_case` counts them; at these budgets its 429 retry
    term alone would leave room enough.)"""
    args = ("--max-examples", "30", "--max-requests", str(budget), "--skip-check", "ignored_auth")
    one, one_sent = recorded_run(tmp_path, "langgraph", 1, *args, mutant="rejects-nested-object")
    four, four_sent = recorded_run(tmp_path, "langgraph", 4, *args, mutant="rejects-nested-object")
    assert one.report is not None and one.report["budget_exhausted"] is True, one.stdout[-3000:]
    assert "positive_data_acceptance" in one.failed_checks("langgraph")
    assert len(four_sent.requests) == len(one_sent.requests) == budget
    assert sent_bodies(four_sent) == sent_bodies(one_sent)
    assert verdicts(four) == verdicts(one)


class ThrottlesSomeCasesOnce:
    """ASGI wrapper: answers the first sending of about one case in three with 429 (Retry-After: 0), chosen by
    the request's content, so the same cases are throttled whatever order they arrive in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: set[bytes] = set()
        self.lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        key = hashlib.sha256(scope["method"].encode() + scope["path"].encode() + body).digest()
        with self.lock:
            throttle = key[0] % 3 == 0 and key not in self.seen
            self.seen.add(key)
        if throttle:
            headers = [(b"retry-after", b"0"), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, replaying(body, receive), send)


@pytest.mark.parametrize("budget", [9, 26, 43])
def test_under_a_budget_429_retries_end_it_as_with_one_worker(tmp_path: Path, budget: int) -> None:
    """A retry takes a budget slot on a sending thread, while the run's thread reserves later cases.
    (Without ignored_auth, whose probes would leave room for the retries anyway.)"""
    args = ("--max-examples", "30", "--max-requests", str(budget), "--skip-check", "ignored_auth")
    one, one_sent = recorded_run(tmp_path, "seekrflow", 1, *args, inner=ThrottlesSomeCasesOnce)
    four, four_sent = recorded_run(tmp_path, "seekrflow", 4, *args, inner=ThrottlesSomeCasesOnce)
    assert one.report is not None and one.report["budget_exhausted"] is True, one.stdout[-3000:]
    assert len(four_sent.requests) == len(one_sent.requests) == budget
    assert len(set(one_sent.requests)) < budget  # some requests were throttled and sent again
    assert sent_bodies(four_sent) == sent_bodies(one_sent)
    assert verdicts(four) == verdicts(one)


class ThreadClock:
    """A frozen clock for many threads: a thread's pacing sleep ends at the slot it was given, kept per thread,
    so a request's send time is its slot (pacing proved without measuring time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.local = threading.local()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.local.woke = self.now + seconds

    def sent_at(self) -> float:
        return float(getattr(self.local, "woke", self.now))


def test_the_rate_holds_across_sending_threads() -> None:
    """Eight threads send reserved requests at 40/s: the slots are evenly spaced, and no one-second window,
    wherever it starts, holds more than 40 of them."""
    import respx

    clock = ThreadClock()
    sent_at: list[float] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            sent_at.append(clock.sent_at())
        return httpx.Response(200, json={})

    transport = HttpxTransport(clock=clock, sleep=clock.sleep, rate_limit=RateLimit.parse("40/s"), max_requests=100)
    with respx.mock() as router:
        router.post("https://rate.test/x").mock(side_effect=handler)
        for _ in range(100):
            transport.reserve()
        with pytest.raises(BudgetExhausted):
            transport.reserve()

        def send(count: int) -> None:
            for _ in range(count):
                transport.request("POST", "https://rate.test/x", content=b"{}", reserved=True)

        threads = [threading.Thread(target=send, args=(12 if n < 4 else 13,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    transport.close()
    assert len(sent_at) == 100 and transport.stats.requests == 100
    times = sorted(round(t, 6) for t in sent_at)  # the slots are sums of 1/40: float error aside
    assert [b - a for a, b in itertools.pairwise(times)] == pytest.approx([1 / 40] * 99)
    assert all(sum(1 for t in times if start <= t < start + 1.0) <= 40 for start in times)


class VirtualTime:
    """Simulated time shared by a fixed set of threads: a sleep parks its thread until the simulated clock reaches
    its end, and the clock jumps to the earliest such end once every thread is parked (asleep, or waiting for
    another request's end in the transport). Many threads and a jittery network, without measuring time."""

    def __init__(self, threads: int) -> None:
        self.now = 1000.0
        self.running = threads
        self.wakeups: list[float] = []
        self.changed = threading.Condition()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.changed:
            target = self.now + max(seconds, 0.0)
            heapq.heappush(self.wakeups, target)
            self._park()
            while self.now < target:
                self.changed.wait()

    def park(self) -> None:
        with self.changed:
            self._park()

    def unpark(self) -> None:
        with self.changed:
            self.running += 1

    def _park(self) -> None:
        self.running -= 1
        if self.running == 0 and self.wakeups:  # everyone waits: time moves to the next wake-up
            self.now = self.wakeups[0]
            while self.wakeups and self.wakeups[0] == self.now:
                heapq.heappop(self.wakeups)
                self.running += 1
            self.changed.notify_all()


class ParkingCondition(threading.Condition):
    """The transport's condition, parking its thread in the simulated time while it waits."""

    def __init__(self, lock: Any, time: VirtualTime) -> None:
        super().__init__(lock)
        self.time = time

    def wait(self, timeout: float | None = None) -> bool:
        self.time.park()
        try:
            return super().wait(timeout)
        finally:
            self.time.unpark()


@pytest.mark.parametrize("seed", range(5))
def test_the_rate_holds_at_the_server_whatever_the_jitter(seed: int) -> None:
    """Sixteen threads send at 10/s over a network that delays each request 0 to 2 s on the way and its answer
    up to 0.1 s: in the server's own arrival times, no one-second window holds more than 10 requests (evenly
    spaced sends alone put 11 to 14 into one on these seeds)."""
    import random

    import respx

    threads_count, each = 16, 10
    clock = VirtualTime(threads_count)
    exchanges: list[tuple[float, float, float]] = []  # sent, arrived at the server, answered
    lock = threading.Lock()
    rng = random.Random(seed)
    delays = iter([(rng.uniform(0, 2), rng.uniform(0, 0.1)) for _ in range(threads_count * each)])

    def handler(request: httpx.Request) -> httpx.Response:
        sent = clock()
        with lock:
            there, back = next(delays)
        clock.sleep(there)
        arrived = clock()
        clock.sleep(back)
        with lock:
            exchanges.append((sent, arrived, clock()))
        return httpx.Response(200, json={})

    transport = HttpxTransport(clock=clock, sleep=clock.sleep, rate_limit=RateLimit.parse("10/s"))
    transport._ended = ParkingCondition(transport._lock, clock)
    with respx.mock() as router:
        router.post("https://rate.test/x").mock(side_effect=handler)

        def send() -> None:
            try:
                for _ in range(each):
                    transport.request("POST", "https://rate.test/x", content=b"{}")
            finally:
                clock.park()  # this thread is done: time no longer waits for it

        threads = [threading.Thread(target=send, daemon=True) for _ in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)  # bounded, so a regression fails instead of hanging
    transport.close()
    assert len(exchanges) == threads_count * each
    arrivals = [arrived for _, arrived, _ in exchanges]
    assert max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals) <= 10
    assert all(arrived <= ended for _, arrived, ended in exchanges)  # what the transport's rule relies on


def test_a_request_waiting_for_its_predecessor_stops_when_the_run_is_cancelled() -> None:
    """Request 1 at 1/s waits for request 0's exchange, stalled on the wire; `cancelling` ends both at once."""
    outcomes: list[BaseException] = []
    with stalled_server() as url:
        transport = HttpxTransport(timeout=600, rate_limit=RateLimit.parse("1/s"))

        def send() -> None:
            try:
                transport.request("POST", f"{url}/x", content=b"{}")
            except BaseException as exc:  # what the thread ended with, for the assertion below
                outcomes.append(exc)

        first = threading.Thread(target=send)
        first.start()
        while not list(transport._streams):  # request 0 is on the wire
            threading.Event().wait(0.01)
        second = threading.Thread(target=send)
        second.start()
        while transport._numbered < 2:  # request 1 has its number: it waits for request 0's end
            threading.Event().wait(0.01)
        with transport.cancelling():
            first.join(60)  # bounded, so a regression fails instead of hanging
            second.join(60)
        transport.close()
    assert not first.is_alive() and not second.is_alive()
    assert len(outcomes) == 2 and all(isinstance(outcome, SendCancelled) for outcome in outcomes)


def windows_over(arrivals: list[float], count: int, period: float) -> int:
    """How many of the server's windows of `period` (one starting at each arrival) hold more than `count`."""
    return sum(1 for start in arrivals if sum(1 for t in arrivals if start <= t < start + period) > count)


def test_the_rate_holds_at_a_counting_server_with_four_workers(tmp_path: Path) -> None:
    """A real run, four sending threads at 20/s: the server's own arrival times never hold more than 20 in a
    second, however the machine's load delays requests between the sender and the server."""
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    with mock_target(["seekrflow"], wrap=wrap) as target:
        run = run_suite(
            tmp_path,
            "--workers",
            "4",
            "--rate-limit",
            "20/s",
            "--max-requests",
            "70",
            target=target,
            vendors=["seekrflow"],
        )
    app = counter["app"]
    assert app.requests == 70 and run.report is not None and run.report["budget_exhausted"] is True
    assert windows_over(sorted(app.arrivals), 20, 1.0) == 0


@pytest.mark.slow
def test_the_rate_holds_at_a_counting_server_under_xdist_with_workers(tmp_path: Path) -> None:
    """Two processes with two sending threads each at 20/s, paced through the ledger: the same at the server."""
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    vendors = ["seekrflow", "andibase"]
    with mock_target(vendors, wrap=wrap) as target:
        run = run_suite(
            tmp_path,
            "-n",
            "2",
            "--workers",
            "2",
            "--rate-limit",
            "20/s",
            "--max-requests",
            "70",
            target=target,
            vendors=vendors,
        )
    app = counter["app"]
    assert app.requests == 70 and run.report is not None and run.report["budget_exhausted"] is True
    assert windows_over(sorted(app.arrivals), 20, 1.0) == 0


def test_a_reserved_request_is_not_counted_twice_and_a_retry_takes_its_own_slot() -> None:
    import respx

    transport = HttpxTransport(max_requests=2, sleep=lambda seconds: None)
    with respx.mock() as router:
        router.post("https://budget.test/x").mock(
            side_effect=[httpx.Response(429, headers={"retry-after": "0"}), httpx.Response(200, json={})]
        )
        transport.reserve()
        assert transport.request("POST", "https://budget.test/x", content=b"{}", reserved=True).status_code == 200
    transport.close()
    assert transport.stats.requests == 2 and transport.stats.retried_429 == 1
    with pytest.raises(BudgetExhausted):
        transport.reserve()


@contextmanager
def stalled_server() -> Iterator[str]:
    with raw_server(lambda index, request: ("stall", b"")) as (url, _):
        yield url


def test_cancelling_frees_a_thread_blocked_on_a_stalled_target() -> None:
    """What an interrupted run does before it joins its sending threads: the blocked read ends, as SendCancelled."""
    outcome: list[BaseException] = []
    with stalled_server() as url:
        transport = HttpxTransport(timeout=600)
        started = threading.Event()

        def send() -> None:
            started.set()
            try:
                transport.request("POST", f"{url}/x", content=b"{}")
            except BaseException as exc:  # what the thread ended with, for the assertion below
                outcome.append(exc)

        thread = threading.Thread(target=send)
        thread.start()
        started.wait()
        while not list(transport._streams):  # the connection is open: the request is on the wire
            threading.Event().wait(0.01)
        with transport.cancelling():
            thread.join(60)  # bounded, so a regression fails instead of hanging; the request's own timeout is 600 s
        transport.close()
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], SendCancelled)


@pytest.mark.parametrize("value", [0, 65, -1, True])
def test_a_bad_worker_count_is_a_usage_error(value: Any) -> None:
    with pytest.raises(UsageError, match="--workers must be a whole number from 1 to 64"):
        make_settings(vendors=["seekrflow"], workers=value, check_report_dir=False)


def test_a_bad_worker_count_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--workers", "many", vendors=["seekrflow"])
    assert run.returncode == 4  # pytest's usage error
    assert "--workers must be a whole number from 1 to 64 (got 'many')" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def test_workers_come_from_the_ini_key(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nconformance_workers = 0\n")
    run = run_suite(tmp_path / "r", "-c", str(tmp_path / "pytest.ini"), vendors=["seekrflow"])
    assert run.returncode == 4
    assert "--workers must be a whole number from 1 to 64 (got 0)" in run.stderr


@pytest.mark.slow
def test_the_budget_is_exact_under_xdist_with_workers_in_each_process(tmp_path: Path) -> None:
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    vendors = ["seekrflow", "andibase", "watsonx"]
    with mock_target(vendors, wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-requests", "80", "-n", "2", "--workers", "2", target=target, vendors=vendors)
    assert counter["app"].requests == 80
    assert run.report is not None and run.report["budget_exhausted"] is True
    assert json.loads((tmp_path / "conformance.json").read_text())["budget_exhausted"] is True


@pytest.mark.slow
def test_ctrl_c_with_workers_stops_promptly_and_writes_complete_reports(tmp_path: Path) -> None:
    """Ctrl-C while four threads send: the run ends as interrupted (exit 2), no traceback, the reports complete."""
    from conformance.catalogue import ALL_CHECKS
    from tests.test_interruptions import INTERRUPTED_NOTE, slow_counting, suite_process, wait_for_requests

    apps: list[CountingApp] = []
    with (
        mock_target(["andibase"], wrap=slow_counting(apps)) as target,
        suite_process(tmp_path, target, ["andibase"], "--workers", "4") as proc,
    ):
        wait_for_requests(apps[0], 40, proc)
        proc.send_signal(2)  # SIGINT
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["interrupted"] is True
    assert len(report["results"]) == len(ALL_CHECKS)
    judged = [r for r in report["results"] if r["outcome"] == "passed"]
    assert judged and all(INTERRUPTED_NOTE in r["note"] for r in judged)


@pytest.mark.slow
def test_a_target_that_dies_under_workers_ends_as_a_usage_error_with_reports(tmp_path: Path) -> None:
    from tests.test_interruptions import UNREACHABLE_NOTE, slow_counting, suite_process, wait_for_requests

    apps: list[CountingApp] = []
    server = mock_target(["seekrflow"], wrap=slow_counting(apps), dedicated=True)
    target = server.__enter__()
    with suite_process(tmp_path, target, ["seekrflow"], "--workers", "4") as proc:
        try:
            wait_for_requests(apps[0], 30, proc)
        finally:
            server.__exit__(None, None, None)  # from now on every connection is refused
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, output[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    assert f"warning: {UNREACHABLE_NOTE}: cannot reach http://127.0.0.1:" in output, output[-3000:]


def test_dry_run_plans_the_same_cases_with_workers(tmp_path: Path) -> None:
    one = run_suite(tmp_path / "one", "--dry-run", "--max-examples", "5", vendors=["langgraph"])
    four = run_suite(tmp_path / "four", "--dry-run", "--max-examples", "5", "--workers", "4", vendors=["langgraph"])

    def planned(run: SuiteRun) -> list[str]:  # the embedded mock's port differs between the runs
        return [
            re.sub(r"127\.0\.0\.1:\d+", "HOST", line) for line in run.stdout.splitlines() if line.startswith("curl")
        ]

    assert one.returncode == four.returncode == 0
    assert planned(one) and planned(one) == planned(four)
