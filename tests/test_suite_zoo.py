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
    # test_each_mutant_fails_with_the_expected_check's run, the same one, which asserts more of it.
    mutant = MUTANTS[name]
    vendors = list(mutant.vendors)
    with mock_target(vendors, mutant=name) as target:
        run = run_suite(tmp_path, target=target, vendors=vendors, seed=seed)
    missed = [vendor for vendor in vendors if "not_a_server_error" not in run.failed_checks(vendor)]
    assert not missed, run.stdout[-3000:]


def _answering(status: int, post: bool) -> Any:
    """A wrapper of the mock that answers POST (`post`), or every other method, with `status` and plain text, as
    a framework that does not recognise the method does. POST is what each vendor's spec declares."""
    head = {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}

    def wrap(app: Any) -> Any:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and (scope["method"] == "POST") == post:
                await send(head)
                await send({"type": "http.response.body", "body": b"no"})
                return
            await app(scope, receive, send)

        return wrapped

    return wrap


@pytest.mark.parametrize("status", [501, 500])
def test_a_501_to_an_undeclared_method_is_http_not_a_server_error(tmp_path: Path, status: int) -> None:
    """RFC 9110 (15.6.2): 501 is the answer to a method the server does not recognise. The coverage phase sends
    such methods (TRACE); a server answering them 501 conforms. A 500 to the same request is still a crash."""
    with mock_target(VENDORS, wrap=_answering(status, post=False)) as target:
        # The coverage phase sends the undeclared methods whatever the budget: a small one will do.
        run = run_suite(tmp_path, "--max-examples", "5", target=target, vendors=VENDORS, seed=1)
    for vendor in VENDORS:
        failed = run.failed_checks(vendor)
        assert failed == (set() if status == 501 else {"not_a_server_error"}), (vendor, failed)
    assert run.report is not None
    methods = {f["exchange"]["method"] for r in run.report["results"] for f in r["failures"]}
    assert methods == (set() if status == 501 else {"TRACE"}), methods


def test_a_501_to_the_declared_method_is_a_server_error(tmp_path: Path) -> None:
    with mock_target(["seekrflow"], wrap=_answering(501, post=True)) as target:
        run = run_suite(tmp_path, "--max-examples", "5", target=target, vendors=["seekrflow"], seed=1)
    assert "not_a_server_error" in run.failed_checks("seekrflow")
