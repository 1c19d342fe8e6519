"""Our semantic checks on their own: the RFC 3339 grammar, the configurable clock skew, and that a
check with nothing to judge is not applicable rather than passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from conformance.checks import parse_rfc3339
from conformance.engine import ALL_CHECKS, RunOptions, VendorRunner
from conformance.transport import HttpxTransport
from conformance.vendors import known_vendors
from tests.test_transport_respx import BASE, TOKEN, _thread

VALID = [
    "2024-01-01T00:00:00Z",
    "2024-01-01t00:00:00z",
    "2024-01-01T00:00:00.123456+02:00",
    "2024-01-01T00:00:00.1-23:59",
    "2016-12-31T23:59:60Z",  # a leap second
]
INVALID = [
    "2024-01-01T00:00+00:00",  # no seconds
    "2024-01-01T00:00:00+0000",  # offset without a colon
    "2024-01-01T00:00:00+00",
    "2024-W01-1T00:00:00Z",  # ISO week date
    "2024-01-01T00:00:00,5Z",  # comma fraction
    "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00",  # no offset
    "2024-13-01T00:00:00Z",
    "2024-01-01 00:00:00",
    "\uff11\uff12\uff13\uff14-01-01T00:00:00Z",  # non-ASCII (fullwidth) digits
    "",
]


@pytest.mark.parametrize("text", VALID)
def test_rfc3339_date_times_parse(text: str) -> None:
    parsed = parse_rfc3339(text)
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("text", INVALID)
def test_what_rfc3339_excludes_does_not_parse(text: str) -> None:
    assert parse_rfc3339(text) is None


def _seekrflow_run(offset: timedelta, skew: float | None) -> dict[str, str]:
    """The checks' outcomes against a conforming SeekrFlow whose clock is `offset` ahead."""

    def handler(request: httpx.Request) -> httpx.Response:
        response = _thread(request)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            body["created_at"] = (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return httpx.Response(200, json=body)
        return response

    profile = known_vendors()["seekrflow"]
    with respx.mock(assert_all_called=True) as router:
        router.route(url=f"{BASE}/v1/threads").mock(side_effect=handler)
        transport = HttpxTransport()
        options = RunOptions(seed=3, max_examples=10, timestamp_skew=skew)
        runner = VendorRunner(profile, BASE, TOKEN, transport, options)
        [operation] = runner.operations()
        outcome = runner.run_operation(operation)
        transport.close()
    return {r.check: r.outcome for r in outcome.results("seekrflow", ALL_CHECKS)}


@pytest.mark.parametrize(
    ("minutes_ahead", "skew", "expected"),
    [
        (4, None, "passed"),  # within the default 5 minutes
        (6, None, "failed"),
        (6, 600.0, "passed"),  # --timestamp-skew 600
        (4, 60.0, "failed"),
    ],
)
def test_timestamp_skew_is_configurable(minutes_ahead: int, skew: float | None, expected: str) -> None:
    outcomes = _seekrflow_run(timedelta(minutes=minutes_ahead), skew)
    assert outcomes["timestamps"] == expected
    assert {check for check, outcome in outcomes.items() if outcome == "failed"} <= {"timestamps"}


def test_a_check_with_nothing_to_judge_is_not_applicable() -> None:
    # SeekrFlow's request schema has no field with a default: defaults_applied never judges a case.
    outcomes = _seekrflow_run(timedelta(0), None)
    assert outcomes["defaults_applied"] == "not_applicable"
    assert outcomes["round_trip"] == outcomes["unique_ids"] == outcomes["timestamps"] == "passed"
