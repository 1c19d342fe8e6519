"""The suite's verdicts: clean against the reference on every seed, failing on every mutant with the right check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance import checks as checks_module
from conformance.mutants import MUTANTS, OUR_CHECKS
from conformance.vendors import known_vendors
from tests.suite_runner import mock_target, run_suite

VENDORS = list(known_vendors())
# Seed 1 in the inner loop (`-m "not slow"`); every seed in CI.
SEEDS = [1, *(pytest.param(seed, marks=pytest.mark.slow) for seed in range(2, 11))]
CRASH_MUTANTS = sorted(name for name in MUTANTS if name.startswith("crash-"))
# A run of LangGraph's spec at the default budget costs several times another vendor's: those mutants are slow.
ZOO = [
    pytest.param(name, marks=[pytest.mark.slow] if "langgraph" in MUTANTS[name].vendors else [])
    for name in sorted(MUTANTS)
]


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_mocks_pass_on_every_seed(tmp_path: Path, seed: int) -> None:
    with mock_target(VENDORS) as target:
        run = run_suite(tmp_path, target=target, vendors=VENDORS, seed=seed)
    assert run.returncode == 0, run.stdout[-4000:]
    outcomes = run.outcomes()
    assert set(outcomes.values()) <= {"passed", "not_applicable"}
    # Every semantic check judged at least one case wherever the vendor gives it something to judge;
    # it is not applicable exactly where the spec and profile give it nothing.
    judged = {
        "andibase": {"round_trip", "unique_ids", "timestamps", "unknown_resource", "error_shape"},
        "seekrflow": {"round_trip", "unique_ids", "timestamps", "error_shape"},
        "watsonx": {"round_trip", "defaults_applied", "error_shape"},
        "langgraph": {"round_trip", "unique_ids", "timestamps", "conflict_policy", "error_shape"},
    }
    for vendor, checks in judged.items():
        for check in checks_module.OUR_CHECKS:
            expected = "passed" if check in checks else "not_applicable"
            assert outcomes[f"{vendor}::{check}"] == expected, (vendor, check)


def test_the_zoo_is_big_enough() -> None:
    assert len(MUTANTS) >= 15
    assert {v for m in MUTANTS.values() for v in m.vendors} == set(VENDORS)


@pytest.mark.parametrize("name", ZOO)
def test_each_mutant_fails_with_the_expected_check(tmp_path: Path, name: str) -> None:
    mutant = MUTANTS[name]
    vendors = list(mutant.vendors)
    with mock_target(vendors, mutant=name) as target:
        run = run_suite(tmp_path, target=target, vendors=vendors, seed=1)
    assert run.returncode == 1, run.stdout[-4000:]
    for vendor in vendors:
        failed = run.failed_checks(vendor)
        expected = set(mutant.expected_checks)
        if expected <= OUR_CHECKS:
            # A semantic mutant answers with schema-valid data: only the semantic check may notice.
            assert failed == expected, f"{vendor}: {failed}"
        else:
            assert expected <= failed, f"{vendor}: expected {expected}, failed {failed}"
        for check in expected:
            # pytest names the failing item, so the user sees which check caught it.
            assert re.search(rf"FAILED \S+\[{vendor}::[^\]]*::{check}\]", run.stdout), (vendor, check)


@pytest.mark.parametrize("seed", SEEDS[1:])
@pytest.mark.parametrize("name", CRASH_MUTANTS)
def test_crash_mutants_are_caught_on_every_seed(tmp_path: Path, name: str, seed: int) -> None:
    # One item per mutant x seed, so that xdist spreads the runs evenly over its workers. Seed 1 is
    # test_each_mutant_fails_with_the_expected_check's run at the default budget, which asserts more of it.
    # Here one fuzzing example: the coverage phase alone must catch every crash class on every seed. It is the
    # part of a run that every budget sends first and alike, so what it catches a run of any budget catches;
    # a crash that only the seeded fuzzing found would be missed by some users' runs.
    mutant = MUTANTS[name]
    vendors = list(mutant.vendors)
    with mock_target(vendors, mutant=name) as target:
        run = run_suite(tmp_path, "--max-examples", "1", target=target, vendors=vendors, seed=seed)
    missed = [vendor for vendor in vendors if "not_a_server_error" not in run.failed_checks(vendor)]
    assert not missed, run.stdout[-3000:]


def _answering(status: int, post: bool, content_type: bytes = b"text/plain", body: bytes = b"no") -> Any:
    """A wrapper of the mock that answers POST (`post`), or every other method, with `status`, `content_type` and
    `body`, as a framework that does not route the method to the operation does. POST is what each vendor's spec
    declares."""
    head = {"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]}

    def wrap(app: Any) -> Any:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and (scope["method"] == "POST") == post:
                await send(head)
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)

        return wrapped

    return wrap


# How servers nobody here wrote answer a method their routes do not have.
UNDECLARED_METHOD_ANSWERS = {
    # RFC 9110 (15.6.2): the answer to a method the server does not recognise (Python's http.server)
    "501": (501, b"text/plain", b"Not Implemented"),
    # FastAPI, Starlette: the route's 404 in the framework's JSON, not in the vendor's error shape
    "404-json": (404, b"application/json", b'{"detail": "Not Found"}'),
    # Apache with TraceEnable on (its default): the request echoed back, 200
    "200-trace-echo": (200, b"message/http", b"TRACE /v1/threads HTTP/1.1\r\nHost: x\r\n\r\n"),
}


@pytest.mark.parametrize(
    "answer",
    [
        "501",
        *(pytest.param(name, marks=pytest.mark.slow) for name in UNDECLARED_METHOD_ANSWERS if name != "501"),
    ],
)
def test_the_answer_to_a_method_the_spec_does_not_declare_is_not_charged_to_the_vendor(
    tmp_path: Path, answer: str
) -> None:
    """The coverage phase sends a method the spec does not declare on the path (TRACE). The spec says nothing of
    its answer, so neither a 501 (not a server error: HTTP's own answer), a 404 in the framework's error shape
    (error_shape judges what the operation documents), nor a 2xx (it created nothing: a later POST of the same
    client-chosen id is no duplicate) fails a conforming server."""
    status, content_type, body = UNDECLARED_METHOD_ANSWERS[answer]
    with mock_target(VENDORS, wrap=_answering(status, post=False, content_type=content_type, body=body)) as target:
        # The coverage phase sends the undeclared methods whatever the budget: a small one will do.
        run = run_suite(tmp_path, "--max-examples", "5", target=target, vendors=VENDORS, seed=1)
    assert run.returncode == 0, run.stdout[-3000:]
    assert {vendor: " ".join(sorted(run.failed_checks(vendor))) for vendor in VENDORS} == dict.fromkeys(VENDORS, "")


def test_a_crash_on_an_undeclared_method_and_a_501_to_the_declared_one_are_server_errors(tmp_path: Path) -> None:
    with mock_target(VENDORS, wrap=_answering(500, post=False)) as target:
        run = run_suite(tmp_path, "--max-examples", "5", target=target, vendors=VENDORS, seed=1)
    failed = {vendor: " ".join(sorted(run.failed_checks(vendor))) for vendor in VENDORS}
    assert failed == dict.fromkeys(VENDORS, "not_a_server_error")
    assert run.report is not None
    assert {f["exchange"]["method"] for r in run.report["results"] for f in r["failures"]} == {"TRACE"}
    with mock_target(["seekrflow"], wrap=_answering(501, post=True)) as target:
        run = run_suite(tmp_path / "post", "--max-examples", "5", target=target, vendors=["seekrflow"], seed=1)
    assert "not_a_server_error" in run.failed_checks("seekrflow")
