"""The suite's verdicts: clean against the reference on every seed, failing on every mutant with the right check."""

from __future__ import annotations

import re
from pathlib import Path

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
