"""--shrink: Hypothesis's own shrinker reduces a failing case to a minimal request that fails the same way."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import api
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
    (failure,) = [f for r in result.results if r.check == "not_a_server_error" for f in r.failures]
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


def test_shrinking_respects_max_requests_and_says_so() -> None:
    app = create_app(select_vendors(["seekrflow"]), tokens={TOKEN}, mutant=MUTANT)
    with running_server(app) as url:
        settings = api.make_settings(vendors=["seekrflow"], target_url=url, seed=3, max_examples=30)
        with api.Runner(settings) as runner:
            runner.operation("seekrflow", "POST /v1/threads")
            assert runner._transport is not None
            spent = runner._transport.stats.requests  # the run and its confirmation, without shrinking
    budget = spent + 5  # a few requests for shrinking, far fewer than it takes
    result = _run(shrink=True, max_requests=budget)
    failure = _server_errors(result)
    assert failure.shrink_note is not None and "budget ran out" in failure.shrink_note
    assert failure.shrink_requests == 5 and failure.shrunk_exchange is not None  # the smallest failing case so far


def test_shrinking_is_on_by_default_against_the_embedded_mock() -> None:
    assert api.make_settings(vendors=["seekrflow"], check_report_dir=False).shrink
    assert not api.make_settings(vendors=["seekrflow"], target_url="http://127.0.0.1:9", check_report_dir=False).shrink
