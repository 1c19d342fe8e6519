"""--shrink: Hypothesis's own shrinker reduces a failing case to a minimal request that fails the same way."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import api, compat
from conformance.mock import create_app
from conformance.reports import render
from conformance.reports.json import validation_errors
from conformance.results import RunResult
from conformance.server import running_server
from conformance.vendors import select_vendors

TOKEN = "tok-shrink-19c2"
MUTANT = "crash-non-ascii-key"  # a 500 whenever an object key in the body is not ASCII


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEKRFLOW_API_KEY", TOKEN)


def _run(**options: Any) -> RunResult:
    app = create_app(select_vendors(["seekrflow"]), tokens={TOKEN}, mutant=MUTANT)
    with running_server(app) as url:
        settings = api.make_settings(
            vendors=["seekrflow"], target_url=url, seed=3, max_examples=30, check_report_dir=False, **options
        )
        return api.run(settings)


def _keys(value: Any) -> list[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(value, dict):
        return [k for k, v in value.items() for k in [k, *_keys(v)]]
    if isinstance(value, list):
        return [k for item in value for k in _keys(item)]
    return []


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _server_errors(result: RunResult) -> Any:
    """The crash on a non-ASCII key at the top level of the body (an undeclared property), not the one on a
    non-ASCII key inside meta_data (conformance.identity keys them apart)."""
    (failure,) = [
        f
        for r in result.results
        if r.check == "not_a_server_error"
        for f in r.failures
        if f.finding == "ST101 500 body /additionalProperties"
    ]
    return failure


def test_a_failing_body_shrinks_to_the_one_key_that_triggers_the_defect() -> None:
    result = _run(shrink=True)
    failure = _server_errors(result)
    assert failure.shrunk_exchange is not None, failure.shrink_note
    shrunk = failure.shrunk_exchange.body
    (key,) = _keys(shrunk)  # one key, and it is the trigger: not ASCII
    assert not key.isascii()
    assert all(leaf in (None, 0, False, "") for leaf in _leaves(shrunk))  # nothing else left to remove
    assert len(json.dumps(shrunk)) <= len(json.dumps(failure.exchange.body))
    assert failure.shrunk_exchange.status == 500 and failure.shrink_requests and failure.shrink_requests > 0
    assert failure.shrunk_curl and "$SEEKRFLOW_API_KEY" in failure.shrunk_curl and TOKEN not in failure.shrunk_curl
    assert not validation_errors(json.loads(json.dumps(result.to_dict())))
    assert "Shrunk (" in str(render(result, "html")) and "Shrunk (" in str(render(result, "junit"))


def test_off_by_default_against_a_target_and_verdicts_unchanged() -> None:
    plain = _run()
    assert all(f.shrunk_exchange is None and f.shrink_requests is None for r in plain.results for f in r.failures)
    shrunk = _run(shrink=True)
    assert [(r.key, r.outcome, [f.id for f in r.failures]) for r in plain.results] == [
        (r.key, r.outcome, [f.id for f in r.failures]) for r in shrunk.results
    ]


def _spent_without_shrinking() -> int:
    """Requests of the run and its confirmation, without shrinking."""
    app = create_app(select_vendors(["seekrflow"]), tokens={TOKEN}, mutant=MUTANT)
    with running_server(app) as url:
        settings = api.make_settings(vendors=["seekrflow"], target_url=url, seed=3, max_examples=30)
        with api.Runner(settings) as runner:
            runner.operation("seekrflow", "POST /v1/threads")
            assert runner._transport is not None
            return runner._transport.stats.requests


def test_shrinking_respects_max_requests_and_keeps_the_smallest_so_far() -> None:
    spent = _spent_without_shrinking()
    full = _server_errors(_run(shrink=True)).shrink_requests
    assert full is not None and full > 2
    # One request short of what the whole search takes: Hypothesis had found the failure again (the search
    # goes on shrinking after it), so the smallest failing case so far is kept, and the note says so.
    failure = _server_errors(_run(shrink=True, max_requests=spent + full - 1))
    assert failure.shrink_requests == full - 1
    assert failure.shrink_note == "the request budget ran out while shrinking: the smallest failing case so far"
    assert failure.shrunk_exchange is not None and failure.shrunk_exchange.status == 500


def test_a_budget_spent_before_the_failure_is_found_again_says_so() -> None:
    spent = _spent_without_shrinking()
    failure = _server_errors(_run(shrink=True, max_requests=spent + 1))
    assert failure.shrink_requests == 1
    assert failure.shrink_note is not None and "budget ran out" in failure.shrink_note
    # Never "the smallest so far" beside no case: the note and the case agree.
    if failure.shrunk_exchange is None:
        assert "before" in failure.shrink_note and "smallest failing case so far" not in failure.shrink_note
    else:
        assert failure.shrink_note.endswith("the smallest failing case so far")


@pytest.mark.local_constants
def test_the_same_seed_shrinks_alike_from_a_checkout_and_from_a_wheel() -> None:
    """Hypothesis mixes the literals of imported modules outside site-packages into what it draws: from an
    editable checkout that is the suite's own code (and a user's conftest), from a wheel nothing. The run and
    its shrinking must draw the same either way, or one seed would name different cases on two installs."""

    def summary(result: RunResult) -> list[Any]:
        return [
            (f.id, f.exchange and f.exchange.body, f.shrunk_exchange and f.shrunk_exchange.body, f.shrink_requests)
            for r in result.results
            for f in r.failures
        ]

    from_checkout = summary(_run(shrink=True))  # this checkout's modules are local: their literals are in the pool
    with compat.without_local_constants():  # what a wheel install sees: no local literals at all
        from_wheel = summary(_run(shrink=True))
    assert from_checkout == from_wheel


def test_shrinking_is_on_by_default_against_the_embedded_mock() -> None:
    assert api.make_settings(vendors=["seekrflow"], check_report_dir=False).shrink
    assert not api.make_settings(vendors=["seekrflow"], target_url="http://127.0.0.1:9", check_report_dir=False).shrink
