"""The transport seam: respx routes stand in for a server, and every request (probes included) goes through it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import respx

from conformance.engine import ALL_CHECKS, RunOptions, VendorRunner
from conformance.transport import HttpxTransport
from conformance.vendors import known_vendors

BASE = "https://seekrflow.test/prefix"
TOKEN = "respx-token-1234"


def _thread(request: httpx.Request) -> httpx.Response:
    """A tiny conforming SeekrFlow: 405 for other methods, 401 without the token, 422 for a bad body, else 200."""
    if request.method != "POST":
        return httpx.Response(405, json={"detail": "Method Not Allowed"}, headers={"allow": "POST"})
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return httpx.Response(401, json={"detail": "Not authenticated"})
    try:
        body = json.loads(request.content)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not (body.get("meta_data") is None or isinstance(body["meta_data"], dict)):
        return httpx.Response(422, json={"detail": [{"loc": ["body"], "msg": "invalid", "type": "value_error"}]})
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return httpx.Response(
        200,
        json={
            "id": str(uuid.uuid4()),
            "object": "thread",
            "created_at": now,
            "status": "available",
            "active_run_id": None,
            "meta_data": body.get("meta_data") or {},
        },
    )


def _run(handler: object, max_examples: int = 25) -> tuple[dict[str, str], int, HttpxTransport]:
    profile = known_vendors()["seekrflow"]
    with respx.mock(assert_all_called=True) as router:
        route = router.route(url=f"{BASE}/v1/threads").mock(side_effect=handler)
        transport = HttpxTransport()
        runner = VendorRunner(profile, BASE, TOKEN, transport, RunOptions(seed=3, max_examples=max_examples))
        [operation] = runner.operations()
        outcome = runner.run_operation(operation)
        transport.close()
        outcomes = {r.check: r.outcome for r in outcome.results("seekrflow", ALL_CHECKS)}
        return outcomes, route.call_count, transport


def test_a_conforming_respx_route_passes_every_applicable_check() -> None:
    outcomes, calls, transport = _run(_thread)
    assert {o for o in outcomes.values()} <= {"passed", "not_applicable"}
    assert outcomes["response_schema_conformance"] == "passed"
    assert outcomes["round_trip"] == "passed"
    # Every request, Schemathesis's ignored_auth probes included, went through our transport.
    assert calls == transport.stats.requests > 0


def test_a_server_error_route_fails_not_a_server_error() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="boom") if b"meta_data" in request.content else _thread(request)

    outcomes, _, _ = _run(broken)
    assert outcomes["not_a_server_error"] == "failed"


def test_auth_not_enforced_is_caught_by_ignored_auth() -> None:
    def open_door(request: httpx.Request) -> httpx.Response:
        request.headers["authorization"] = f"Bearer {TOKEN}"
        return _thread(request)

    outcomes, _, _ = _run(open_door)
    assert outcomes["ignored_auth"] == "failed"


def test_401_to_valid_credentials_is_a_failure() -> None:
    def locked(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Not authenticated"})

    outcomes, _, _ = _run(locked)
    assert outcomes["positive_data_acceptance"] == "failed"
    assert outcomes["status_code_conformance"] == "failed"


def test_distinct_failures_of_one_check_are_all_reported() -> None:
    """Three schema violations share Schemathesis's title; each is still its own failure."""

    def three_defects(request: httpx.Request) -> httpx.Response:
        response = _thread(request)
        if response.status_code == 422:
            return httpx.Response(422, json={"detail": "Invalid request"})  # not HTTPValidationError
        if response.status_code == 200:
            body = response.json()
            body["active_run_id"] = 42  # anyOf [string, null]
            body["status"] = "deleted"  # outside the enum
            return httpx.Response(200, json=body)
        return response

    profile = known_vendors()["seekrflow"]
    with respx.mock() as router:
        router.route(url=f"{BASE}/v1/threads").mock(side_effect=three_defects)
        transport = HttpxTransport()
        runner = VendorRunner(profile, BASE, TOKEN, transport, RunOptions(seed=3, max_examples=25))
        [operation] = runner.operations()
        outcome = runner.run_operation(operation)
        transport.close()
    [result] = outcome.results("seekrflow", ("response_schema_conformance",))
    assert result.outcome == "failed"
    messages = "\n".join(f.message for f in result.failures)
    assert len(result.failures) >= 3, messages
    assert "deleted" in messages and "42" in messages and "Invalid request" in messages
