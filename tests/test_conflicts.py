"""Client-chosen ids: a documented 409 to an id the run created is right; a duplicate or an ignored policy is not."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.vendors import REJECT, RETURN_EXISTING, ClientId, known_vendors
from tests.suite_runner import mock_target, run_suite

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


def _counting(counts: Counter[int]) -> Callable[[Any], Any]:
    """Wraps an ASGI app, counting the statuses it answers with."""

    def wrap(app: Any) -> Any:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            async def spy(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    counts[message["status"]] += 1
                await send(message)

            await app(scope, receive, spy)

        return counted

    return wrap


def _stateless_conflicts(app: Any) -> Any:
    """A vendor that answers 409 "already exists" to every request that chooses its id, created or not."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body, replay = await _read_json(receive)
        if isinstance(body, dict) and isinstance(body.get("thread_id"), str):
            await send(
                {"type": "http.response.start", "status": 409, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": b'{"detail":"Thread already exists"}'})
            return
        await app(scope, replay, send)

    return wrapped


async def _read_json(receive: Receive) -> tuple[Any, Receive]:
    """The request's body as JSON (None if it is not), and a `receive` that gives the app the same body again."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    return body, replay


def test_policy_behaviours_from_the_profile() -> None:
    [rule] = known_vendors()["langgraph"].client_ids
    assert rule.behaviour({}) == REJECT
    assert rule.behaviour({"if_exists": "raise"}) == REJECT
    assert rule.behaviour({"if_exists": "do_nothing"}) == RETURN_EXISTING
    assert rule.behaviour({"if_exists": "merge"}) is None  # not a policy the profile knows: nothing to judge
    assert ClientId(name="id", response="id").behaviour({"anything": 1}) == REJECT


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_answers_repeats_409_and_that_is_not_a_rejected_valid_request(tmp_path: Path, seed: int) -> None:
    counts: Counter[int] = Counter()
    with mock_target(["langgraph"], wrap=_counting(counts)) as target:
        run = run_suite(tmp_path, "--max-examples", "15", target=target, vendors=["langgraph"], seed=seed)
    assert run.returncode == 0, run.stdout[-3000:]
    outcomes = run.outcomes("langgraph")
    assert outcomes["positive_data_acceptance"] == "passed"
    assert outcomes["conflict_policy"] == "passed"
    assert counts[409] >= 2  # the probe's repeats at least: raise by default and explicitly


def test_a_409_to_an_id_the_run_never_created_is_a_rejected_valid_request(tmp_path: Path) -> None:
    # The stateless view is wrong the other way too: "already exists" for a fresh id is a rejection.
    with mock_target(["langgraph"], wrap=_stateless_conflicts) as target:
        run = run_suite(tmp_path, "--max-examples", "10", target=target, vendors=["langgraph"], seed=1)
    assert run.returncode == 1
    assert "positive_data_acceptance" in run.failed_checks("langgraph")


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize(
    ("mutant", "title"),
    [
        ("conflict-creates-duplicate", "Repeated client-chosen id answered 2xx, not the documented conflict"),
        ("ignores-do-nothing", "Repeated client-chosen id did not return the existing resource"),
    ],
)
def test_conflict_mutants_fail_only_the_new_check(tmp_path: Path, mutant: str, title: str, seed: int) -> None:
    with mock_target(["langgraph"], mutant=mutant) as target:
        run = run_suite(tmp_path, "--max-examples", "10", target=target, vendors=["langgraph"], seed=seed)
    assert run.returncode == 1
    assert run.failed_checks("langgraph") == {"conflict_policy"}
    assert run.report is not None
    [result] = [r for r in run.report["results"] if r["check"] == "conflict_policy"]
    assert title in {f["title"] for f in result["failures"]}


def _upper_case_ids(app: Any) -> Any:
    """A vendor that answers every thread_id in upper case: the same UUID, another spelling."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Any] = {}

        async def rewrite(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body = message.get("body", b"")
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("thread_id"), str):
                body = json.dumps({**data, "thread_id": data["thread_id"].upper()}).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return wrapped


def test_a_uuid_in_another_spelling_is_the_same_id(tmp_path: Path) -> None:
    # RFC 9562: UUIDs are case-insensitive on input; a server may answer in another case than it was sent.
    with mock_target(["langgraph"], wrap=_upper_case_ids) as target:
        run = run_suite(tmp_path, "--max-examples", "10", target=target, vendors=["langgraph"], seed=1)
    assert run.returncode == 0, run.stdout[-3000:]
    outcomes = run.outcomes("langgraph")
    assert outcomes["round_trip"] == outcomes["conflict_policy"] == outcomes["unique_ids"] == "passed"


def _do_nothing_answered_201_with_a_message(app: Any) -> Any:
    """A vendor that answers every create under `if_exists: do_nothing` 201 with an error message, not a thread, as
    the real LangGraph server answers a create that also carries `supersteps` (docs/interop/langgraph.md, 2). 201 is
    not documented for the operation."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body, replay = await _read_json(receive)
        if not (isinstance(body, dict) and body.get("if_exists") == "do_nothing"):
            await app(scope, replay, send)
            return
        statuses: list[int] = []

        async def swallow(message: dict[str, Any]) -> None:  # the thread is created (or found) as usual
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, replay, swallow)
        if statuses[0] >= 300:
            await app(scope, replay, send)  # a rejected request is answered as before
            return
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"detail":"Thread was created, but there were problems"}'})

    return wrapped


def test_an_undocumented_status_to_a_repeat_is_not_compared_with_the_existing_resource(tmp_path: Path) -> None:
    # Its body is not the resource (the operation documents no 201), so conflict_policy has nothing to compare:
    # the undocumented status is status_code_conformance's failure alone.
    with mock_target(["langgraph"], wrap=_do_nothing_answered_201_with_a_message) as target:
        run = run_suite(tmp_path, "--max-examples", "10", target=target, vendors=["langgraph"], seed=1)
    assert run.returncode == 1
    failed = run.failed_checks("langgraph")
    assert "status_code_conformance" in failed and "conflict_policy" not in failed, failed
    assert run.outcomes("langgraph")["conflict_policy"] == "passed"
