"""The same seed against the same target gives the same cases and the same verdicts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.suite_runner import mock_target, run_suite

# What legitimately differs between two runs: the mock's port and Schemathesis's random case ids.
_VOLATILE = (
    (re.compile(r"http://127\.0\.0\.1:\d+"), "http://127.0.0.1:PORT"),
    (re.compile(r"'X-Schemathesis-TestCaseId': '[^']*'"), "'X-Schemathesis-TestCaseId': 'ID'"),
)


def _planned(stdout: str, vendor: str) -> list[str]:
    """The dry run's case list for one vendor, with the volatile parts normalised."""
    lines = [line for line in stdout.splitlines() if f"  # {vendor} [" in line]
    for pattern, replacement in _VOLATILE:
        lines = [pattern.sub(replacement, line) for line in lines]
    return lines


def _verdicts(report: dict[str, Any] | None) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    assert report is not None
    return [
        (r["vendor"], r["operation"], r["check"], r["outcome"], tuple(sorted(f["title"] for f in r["failures"])))
        for r in report["results"]
    ]


def test_a_vendors_cases_do_not_depend_on_the_other_vendors_in_the_run(tmp_path: Path) -> None:
    # Regression: Hypothesis draws literals from whichever local modules are imported, so running
    # andibase first used to change seekrflow's fuzzing cases for the same seed.
    alone = run_suite(tmp_path / "alone", "--dry-run", "--max-examples", "30", vendors=["seekrflow"], seed=7)
    together = run_suite(
        tmp_path / "together", "--dry-run", "--max-examples", "30", vendors=["andibase", "seekrflow"], seed=7
    )
    assert alone.returncode == together.returncode == 0, alone.stdout[-2000:] + together.stdout[-2000:]
    planned = _planned(alone.stdout, "seekrflow")
    assert len(planned) > 50
    assert planned == _planned(together.stdout, "seekrflow")


def test_the_same_seed_gives_the_same_cases_and_another_seed_does_not(tmp_path: Path) -> None:
    runs = [
        run_suite(tmp_path / name, "--dry-run", "--max-examples", "30", vendors=["andibase"], seed=seed)
        for name, seed in (("a", 11), ("b", 11), ("c", 12))
    ]
    first, second, other = (_planned(run.stdout, "andibase") for run in runs)
    assert first == second
    assert first != other


def test_the_same_seed_gives_the_same_verdicts_against_a_mutant(tmp_path: Path) -> None:
    with mock_target(["watsonx"], mutant="success-status-swapped") as target:
        runs = [
            run_suite(tmp_path / name, "--max-examples", "20", target=target, vendors=["watsonx"], seed=3)
            for name in ("a", "b")
        ]
    assert runs[0].returncode == runs[1].returncode == 1
    assert _verdicts(runs[0].report) == _verdicts(runs[1].report)


@pytest.mark.slow
def test_xdist_gives_the_same_verdicts(tmp_path: Path) -> None:
    vendors = ["andibase", "watsonx"]
    with mock_target(vendors, mutant="success-status-swapped") as target:
        serial = run_suite(tmp_path / "n0", "--max-examples", "20", target=target, vendors=vendors, seed=5)
        parallel = run_suite(tmp_path / "n2", "--max-examples", "20", "-n", "2", target=target, vendors=vendors, seed=5)
    assert serial.returncode == parallel.returncode == 1
    assert _verdicts(serial.report) == _verdicts(parallel.report)
