"""Safe and robust against misbehaving targets: every fault is a verdict on the target, never a crash of ours."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.engine import ALL_CHECKS, RunOptions, VendorRunner
from conformance.results import CheckResult
from conformance.transport import HttpxTransport, RateLimit, RequestTimedOut
from conformance.vendors import known_vendors
from tests.faults import CountingApp, http_response, raw_server, rejecting
from tests.suite_runner import ROOT, TOKEN, mock_target, run_suite


def run_engine(
    url: str, *, timeout: float = 5.0, max_examples: int = 3, max_body: int = 10 * 1024 * 1024
) -> dict[str, CheckResult]:
    profile = known_vendors()["seekrflow"]
    transport = HttpxTransport(timeout=timeout, max_body_bytes=max_body)
    try:
        runner = VendorRunner(profile, url, TOKEN, transport, RunOptions(seed=1, max_examples=max_examples))
        [operation] = runner.operations()
        outcome = runner.run_operation(operation)
    finally:
        transport.close()
    return {r.check: r for r in outcome.results("seekrflow", ALL_CHECKS)}


def on_requests(indexes: set[int], action: tuple[str, bytes]) -> Any:
    def behaviour(index: int, request: bytes) -> tuple[str, bytes]:
        return action if index in indexes else rejecting(index, request)

    return behaviour


def test_a_stalled_request_is_a_timeout_failure_and_the_run_goes_on() -> None:
    with raw_server(on_requests({1, 4}, ("stall", b""))) as (url, server):
        results = run_engine(url, timeout=0.5)
    timeout = results["request_timeout"]
    assert timeout.outcome == "failed"
    assert timeout.failures[0].title == "Request timed out"
    assert "within 0.5 s" in timeout.failures[0].message
    assert server.requests > 10  # it went on after both stalls


def test_a_body_that_stalls_midway_ends_at_the_timeout() -> None:
    partial = http_response(200, b'{"id": "x', length=1000)
    with raw_server(on_requests({0}, ("stall", partial))) as (url, _):
        results = run_engine(url, timeout=0.5, max_examples=1)
    # The server never finishes that body: only the request's deadline can have ended the exchange.
    assert results["request_timeout"].outcome == "failed"


def test_a_response_dripped_a_byte_at_a_time_ends_at_the_timeout() -> None:
    # Each read gets a byte well within the timeout, so only a deadline over the whole request ends it;
    # without one this complete (if slow) response would be returned once its long head had dripped in.
    head = b"HTTP/1.1 200 OK\r\nx-padding: " + b"p" * 200 + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    dripped = head
    with raw_server(on_requests({0}, ("drip", dripped))) as (url, _):
        transport = HttpxTransport(timeout=0.5)
        with pytest.raises(RequestTimedOut):
            transport.request("POST", f"{url}/v1/threads", content=b"{}")
        transport.close()


def test_a_reset_mid_body_is_a_broken_response() -> None:
    with raw_server(on_requests({0, 2}, ("reset", http_response(200, b'{"id": "abc", "crea', length=500)))) as (url, _):
        results = run_engine(url)
    broken = results["broken_response"]
    assert broken.outcome == "failed"
    assert "broken mid-body" in broken.failures[0].message


def test_a_wrong_content_length_is_a_broken_response() -> None:
    with raw_server(on_requests({0}, ("close", http_response(200, b'{"id": "a"}', length=100)))) as (url, _):
        results = run_engine(url)
    assert results["broken_response"].outcome == "failed"


def test_invalid_json_under_application_json_is_a_schema_failure() -> None:
    with raw_server(on_requests({0, 1, 2, 3}, ("send", http_response(200, b"{not json")))) as (url, _):
        results = run_engine(url)
    schema = results["response_schema_conformance"]
    assert schema.outcome == "failed"
    assert any("JSON" in f.title for f in schema.failures)


def test_a_50_mb_body_is_capped_and_recorded() -> None:
    huge = http_response(200, b'{"id": "' + b"x" * (50 * 1024 * 1024) + b'"}')
    with raw_server(on_requests({0}, ("send", huge))) as (url, _):
        results = run_engine(url, max_body=1024 * 1024)
    broken = results["broken_response"]
    assert broken.outcome == "failed"
    assert broken.failures[0].title == "Response body exceeds the read cap"
    assert "1048576 bytes" in broken.failures[0].message
    assert len(broken.failures[0].exchange.response_body or "") < 10_000  # type: ignore[union-attr]


def test_transport_timeout_is_bounded() -> None:
    with raw_server(on_requests({0}, ("stall", b""))) as (url, _):
        transport = HttpxTransport(timeout=0.3)
        with pytest.raises(RequestTimedOut):
            transport.request("POST", f"{url}/v1/threads", content=b"{}")
        transport.close()


def test_rate_limit_parsing() -> None:
    assert RateLimit.parse("10/s").interval == pytest.approx(0.1)
    assert RateLimit.parse("120/m").interval == pytest.approx(0.5)


# ------------------------------------------------------------- through the whole suite, as a user runs it


def test_max_requests_is_a_hard_budget_counted_at_the_server(tmp_path: Path) -> None:
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    vendors = ["seekrflow", "andibase", "watsonx"]
    with mock_target(vendors, wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-requests", "60", target=target, vendors=vendors)
    assert counter["app"].requests <= 60
    assert run.report is not None and run.report["budget_exhausted"] is True
    not_reached = [r for r in run.report["results"] if r["outcome"] == "not_reached"]
    assert not_reached and all("request budget of 60" in r["note"] for r in not_reached)
    assert "not reached" in (tmp_path / "summary.md").read_text()


@pytest.mark.slow
def test_max_requests_holds_across_xdist_workers(tmp_path: Path) -> None:
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    vendors = ["seekrflow", "andibase", "watsonx"]
    with mock_target(vendors, wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-requests", "50", "-n", "2", target=target, vendors=vendors)
    assert counter["app"].requests == 50
    assert run.report is not None and run.report["budget_exhausted"] is True


@pytest.mark.slow
def test_an_idle_xdist_worker_leaves_no_budget_unused(tmp_path: Path) -> None:
    """One operation, two workers: one of them has nothing to do, and the other still gets the whole budget."""
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    with mock_target(["seekrflow"], wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-requests", "40", "-n", "2", target=target, vendors=["seekrflow"])
    assert counter["app"].requests == 40
    assert run.report is not None and run.report["budget_exhausted"] is True


class FakeClock:
    """A clock that only moves when the transport sleeps: pacing is checked without measuring time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _paced_transport(clock: FakeClock, **kwargs: Any) -> HttpxTransport:
    return HttpxTransport(clock=clock, sleep=clock.sleep, **kwargs)


def test_rate_limit_spaces_requests_evenly() -> None:
    import respx

    clock = FakeClock()
    sent_at: list[float] = []

    def handler(request: Any) -> Any:
        import httpx

        sent_at.append(clock())
        return httpx.Response(200, json={})

    transport = _paced_transport(clock, rate_limit=RateLimit.parse("40/s"))
    with respx.mock() as router:
        router.post("https://rate.test/x").mock(side_effect=handler)
        for _ in range(30):
            transport.request("POST", "https://rate.test/x", content=b"{}")
    transport.close()
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert gaps == pytest.approx([1 / 40] * 29)
    # However the requests are spread, no one-second window ever holds more than 40.
    assert all(sum(1 for t in sent_at if start <= t < start + 1.0) <= 40 for start in sent_at)


def test_a_delayed_request_holds_back_the_one_a_rate_later_until_its_end_plus_the_period() -> None:
    """Request 0 is delayed 3 s on the way to the server (jitter): the even slots alone would put request 4 at
    4/s into the same second of arrivals as requests 0 to 3; it waits for request 0's end + 1 s instead."""
    import httpx
    import respx

    clock = FakeClock()
    sent_at: list[float] = []
    arrivals: list[float] = []

    def handler(request: Any) -> Any:
        sent_at.append(clock())
        if len(sent_at) == 1:
            clock.now += 3.0  # on the wire: the server receives it, and answers, 3 s after it was sent
        arrivals.append(clock())
        return httpx.Response(200, json={})

    transport = _paced_transport(clock, rate_limit=RateLimit.parse("4/s"))
    with respx.mock() as router:
        router.post("https://rate.test/x").mock(side_effect=handler)
        for _ in range(10):
            transport.request("POST", "https://rate.test/x", content=b"{}")
    transport.close()
    start = sent_at[0]
    # 1 to 3 go out as soon as 0 is answered (their even slots are past); 4 waits for 0's end + 1 s, the
    # rest are evenly spaced again from there (5 waits for 1's end + 1 s, which is the same time).
    assert [t - start for t in sent_at] == pytest.approx([0, 3, 3.25, 3.5, 4, 4.25, 4.5, 4.75, 5, 5.25])
    assert all(sum(1 for t in arrivals if begin <= t < begin + 1.0) <= 4 for begin in arrivals)


def test_under_xdist_each_worker_gets_its_share_of_budget_and_rate() -> None:
    from conformance.api import WorkerShare

    assert [WorkerShare(i, 3).budget(100) for i in range(3)] == [34, 33, 33]  # sums to the budget
    shares = [WorkerShare(i, 4).rate(RateLimit.parse("10/s")) for i in range(4)]
    assert sum(1 / share.interval for share in shares if share) == pytest.approx(10)
    # With the controller's ledger, each worker counts against the whole budget and paces on the whole rate.
    assert WorkerShare(1, 3, ledger="ledger").budget(100) == 100
    assert WorkerShare(1, 4, ledger="ledger").rate(RateLimit.parse("10/s")) == RateLimit.parse("10/s")


def test_a_ledger_shares_the_budget_and_the_rate_between_transports(tmp_path: Path) -> None:
    """Two transports (as two xdist workers) on one ledger file: together they send exactly the budget, and
    their requests, interleaved, keep the one rate's spacing."""
    import httpx
    import respx

    from conformance.transport import BudgetExhausted, Ledger

    clock = FakeClock()
    sent_at: list[float] = []

    def handler(request: Any) -> Any:
        sent_at.append(clock())
        return httpx.Response(200, json={})

    ledger = Ledger.create(str(tmp_path / "ledger"))
    transports = [
        _paced_transport(clock, rate_limit=RateLimit.parse("40/s"), max_requests=9, ledger=ledger) for _ in range(2)
    ]
    refused = 0
    with respx.mock() as router:
        router.post("https://rate.test/x").mock(side_effect=handler)
        for index in range(12):
            try:
                transports[index % 2 if index < 6 else 0].request("POST", "https://rate.test/x", content=b"{}")
            except BudgetExhausted:
                refused += 1
    for transport in transports:
        transport.close()
    assert len(sent_at) == 9 and refused == 3
    assert [t.stats.requests for t in transports] == [6, 3]
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert gaps == pytest.approx([1 / 40] * 8)


def test_a_ledger_holds_back_the_request_a_rate_later_until_the_earlier_one_ended(tmp_path: Path) -> None:
    """Across processes: the ledger gives no turn to the request `count` places after one still on the wire,
    then a turn a period after its end; an entry whose process died counts as ended after the timeout."""
    from conformance.transport import LEDGER_MAX_TRACKED, Ledger

    rate = RateLimit.parse("4/s")
    ledger = Ledger.create(str(tmp_path / "ledger"))
    turns = [ledger.take_turn(None, rate, 1000.0, stale_after=10) for _ in range(4)]
    assert [turn.slot for turn in turns if turn] == [1000.0, 1000.25, 1000.5, 1000.75]
    assert ledger.take(100, None, 1001.0) == 1001.0  # a budget-only take (`reserve`): no number, the ring kept
    assert ledger.take_turn(None, rate, 1001.0, stale_after=10) is None  # request 0 is still on the wire
    assert turns[0] is not None
    ledger.end(turns[0], rate, 1003.0)
    fifth = ledger.take_turn(None, rate, 1003.0, stale_after=10)
    assert fifth is not None and (fifth.number, fifth.slot) == (4, 1004.0)
    # Request 1 never ends (its process died): after the timeout and a margin, it no longer holds up request 5.
    assert ledger.take_turn(None, rate, 1010.0, stale_after=10) is None
    sixth = ledger.take_turn(None, rate, 1016.0, stale_after=10)
    assert sixth is not None and sixth.slot == 1000.25 + 10 + 5.0 + 1.0
    # Beyond the tracked rates, only the even spacing: no request ever waits for another's end.
    fast = RateLimit(LEDGER_MAX_TRACKED + 1, 1.0)
    other = Ledger.create(str(tmp_path / "fast"))
    assert all(other.take_turn(None, fast, 1000.0) is not None for _ in range(LEDGER_MAX_TRACKED + 5))


def test_two_transports_on_a_ledger_hold_back_the_request_a_rate_after_a_delayed_one(tmp_path: Path) -> None:
    """As the one-process test above, with the requests alternating between two transports on one ledger."""
    import httpx
    import respx

    from conformance.transport import Ledger

    clock = FakeClock()
    sent_at: list[float] = []

    def handler(request: Any) -> Any:
        sent_at.append(clock())
        if len(sent_at) == 1:
            clock.now += 3.0
        return httpx.Response(200, json={})

    ledger = Ledger.create(str(tmp_path / "ledger"))
    transports = [_paced_transport(clock, rate_limit=RateLimit.parse("4/s"), ledger=ledger) for _ in range(2)]
    with respx.mock() as router:
        router.post("https://rate.test/x").mock(side_effect=handler)
        for index in range(10):
            transports[index % 2].request("POST", "https://rate.test/x", content=b"{}")
    for transport in transports:
        transport.close()
    start = sent_at[0]
    assert [t - start for t in sent_at] == pytest.approx([0, 3, 3.25, 3.5, 4, 4.25, 4.5, 4.75, 5, 5.25])


@pytest.mark.parametrize(
    ("retry_after", "waits"),
    [("2", [2.0, 2.0, 2.0]), ("Wed, 21 Oct 2015 07:28:00 GMT", [0.0, 0.0, 0.0]), ("3600", []), ("soon", [])],
    ids=["seconds", "http-date-in-the-past", "longer-than-we-wait", "unparseable"],
)
def test_429_retry_after_is_waited_out_up_to_a_bound(retry_after: str, waits: list[float]) -> None:
    import httpx
    import respx

    clock = FakeClock()
    transport = _paced_transport(clock)
    with respx.mock() as router:
        route = router.post("https://busy.test/x").mock(
            return_value=httpx.Response(429, headers={"retry-after": retry_after}, json={})
        )
        response = transport.request("POST", "https://busy.test/x", content=b"{}")
    transport.close()
    assert response.status_code == 429
    assert clock.sleeps == waits
    assert route.call_count == len(waits) + 1  # at most 3 retries


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime

    from conformance.transport import _retry_after

    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert _retry_after("Thu, 26 Nov 2026 12:00:30 GMT", now=lambda: now) == pytest.approx(30.0)
    assert _retry_after("7") == 7.0
    assert _retry_after("not a date") is None


def test_429_with_retry_after_is_waited_out_and_never_a_verdict(tmp_path: Path) -> None:
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app, too_many=lambda index: index % 4 == 1, retry_after="0")
        return counter["app"]

    with mock_target(["andibase"], wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-examples", "20", target=target, vendors=["andibase"])
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.outcomes("andibase")["positive_data_acceptance"] == "passed"
    assert run.outcomes("andibase")["negative_data_rejection"] == "passed"


def test_persistent_429_is_not_an_acceptance_or_rejection_failure(tmp_path: Path) -> None:
    def wrap(app: Any) -> CountingApp:
        return CountingApp(app, too_many=lambda index: True, retry_after="0")

    with mock_target(["andibase"], wrap=wrap) as target:
        run = run_suite(tmp_path, "--max-examples", "5", target=target, vendors=["andibase"])
    outcomes = run.outcomes("andibase")
    assert outcomes["positive_data_acceptance"] != "failed"
    assert outcomes["negative_data_rejection"] != "failed"
    # ...but a target that throttles everything is not thereby conformant: nothing was judged.
    assert run.returncode == 1, run.stdout[-3000:]
    assert run.report is not None and run.report["unjudged"] == ["andibase"]
    assert "not one response could be judged" in (tmp_path / "summary.md").read_text()


def test_dry_run_sends_nothing_and_lists_redacted_cases(tmp_path: Path) -> None:
    counter: dict[str, CountingApp] = {}

    def wrap(app: Any) -> CountingApp:
        counter["app"] = CountingApp(app)
        return counter["app"]

    with mock_target(["seekrflow"], wrap=wrap) as target:
        run = run_suite(tmp_path, "--dry-run", "--max-examples", "5", target=target, vendors=["seekrflow"])
    assert counter["app"].requests == 0
    assert run.returncode == 0
    assert "would be sent" in run.stdout
    assert "# seekrflow [coverage: " in run.stdout
    # The token is never printed: the command reads it from the variable it came from.
    assert '-H "Authorization: Bearer $CONFORMANCE_TOKEN"' in run.stdout  # where run_suite puts the token
    assert TOKEN not in run.stdout + run.stderr


def test_created_threads_are_reported(tmp_path: Path) -> None:
    from conformance.mock import create_app
    from conformance.server import running_server
    from conformance.vendors import select_vendors

    app = create_app(select_vendors(["andibase"]), tokens=[TOKEN], prefix_by_vendor=False)
    with running_server(app) as target:
        run = run_suite(tmp_path, "--max-examples", "10", target=target, vendors=["andibase"])
    assert run.report is not None
    [vendor] = run.report["vendors"]
    assert vendor["created_resources"] == app.state.created > 0


@pytest.mark.slow
def test_sigterm_stops_promptly_with_complete_reports(tmp_path: Path) -> None:
    class Slow(CountingApp):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            import asyncio

            if scope["type"] == "http" and "/watsonx/" in scope["path"]:
                await asyncio.sleep(0.2)  # the last vendor is slow, so the run is still going when stopped
            await super().__call__(scope, receive, send)

    vendors = ["andibase", "seekrflow", "watsonx"]
    with mock_target(vendors, wrap=lambda app: Slow(app)) as target:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.suite",
            "-p",
            "no:cacheprovider",
            "-v",
            "--max-examples",
            "20",
            "--seed",
            "1",
            f"--report-dir={tmp_path}",
            "--target-url",
            target,
        ]
        env = {**os.environ, "CONFORMANCE_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        seen = ""
        # The first two vendors are done and watsonx's operation is under way. Read what is there, not whole
        # lines: `-v` ends an item's line only when the item ends, after the whole slow operation has run.
        while "[watsonx::" not in seen:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, seen[-2000:]
            seen += chunk.decode(errors="replace")
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)  # a hang guard, not a measurement
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, (seen + rest)[-3000:]
    assert (tmp_path / "conformance.json").exists(), (seen + rest)[-3000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["interrupted"] is True
    assert {r["vendor"] for r in report["results"]} >= {"andibase", "seekrflow"}
    # Promptly: watsonx's operation, under way when the signal came, stopped part-way instead of running out.
    assert any(r["vendor"] == "watsonx" and "interrupted" in (r.get("note") or "") for r in report["results"])
    assert (tmp_path / "junit.xml").read_text().strip().endswith("</testsuites>")


@pytest.fixture
def tls_target(tmp_path: Path) -> Any:
    """The seekrflow mock over HTTPS with a certificate from a private CA (trustme)."""
    import trustme

    from conformance.mock import create_app
    from conformance.server import running_server
    from conformance.vendors import select_vendors

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, bundle = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(bundle))
    app = create_app(select_vendors(["seekrflow"]), tokens=[TOKEN], prefix_by_vendor=False)
    with running_server(app, ssl_certfile=str(certfile), ssl_keyfile=str(keyfile)) as url:
        yield url, bundle


def test_tls_is_verified_by_default(tmp_path: Path, tls_target: Any) -> None:
    url, _ = tls_target
    run = run_suite(tmp_path / "r", target=url, vendors=["seekrflow"])
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "TLS handshake failed" in run.stderr and "CERTIFICATE_VERIFY_FAILED" in run.stderr


def test_ca_bundle_trusts_a_private_ca(tmp_path: Path, tls_target: Any) -> None:
    url, bundle = tls_target
    run = run_suite(
        tmp_path / "r", "--ca-bundle", str(bundle), "--max-examples", "10", target=url, vendors=["seekrflow"]
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.report is not None and run.report["warnings"] == []


def test_insecure_opts_out_with_a_warning_in_the_reports(tmp_path: Path, tls_target: Any) -> None:
    url, _ = tls_target
    run = run_suite(tmp_path / "r", "--insecure", "--max-examples", "10", target=url, vendors=["seekrflow"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.report is not None and any("--insecure" in w for w in run.report["warnings"])
    assert "--insecure" in (tmp_path / "r" / "conformance.html").read_text()
