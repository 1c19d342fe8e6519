"""The upgrade gate end to end: a mutant mock plays the vendor's new build."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from tests.suite_runner import ROOT, mock_target, run_suite

VENDOR = "andibase"
REGRESSION = "external-id-ignored"  # the new build silently drops externalId: round_trip catches it


def compare(old: Path, new: Path, fmt: str = "text") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "compare",
            str(old / "conformance.json"),
            str(new / "conformance.json"),
            "--format",
            fmt,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_gate_fails_on_a_regression_and_passes_once_it_is_accepted(tmp_path: Path) -> None:
    old, new, accepted = tmp_path / "old", tmp_path / "new", tmp_path / "accepted"
    baseline = tmp_path / "baseline.toml"

    with mock_target([VENDOR]) as target:
        assert run_suite(old, target=target, vendors=[VENDOR]).returncode == 0  # the last published report

    with mock_target([VENDOR], mutant=REGRESSION) as target:
        broken = run_suite(new, target=target, vendors=[VENDOR])
        assert broken.returncode == 1
        assert broken.failed_checks(VENDOR) == {"round_trip"}
        gate = compare(old, new)
        assert gate.returncode == 1
        assert "round_trip" in gate.stdout and "regression" in gate.stdout.lower()

        # Accept it: --baseline-update writes the failure with a TODO reason; the team writes the real one.
        run_suite(
            tmp_path / "update", "--baseline", str(baseline), "--baseline-update", target=target, vendors=[VENDOR]
        )
        text = baseline.read_text()
        assert 'check = "round_trip"' in text and "TODO" in text
        baseline.write_text(
            text.replace("TODO: explain why this deviation is accepted", "externalId lands in v2; tracked")
        )

        passing = run_suite(accepted, "--baseline", str(baseline), target=target, vendors=[VENDOR])
        assert passing.returncode == 0, passing.stdout[-3000:]
        assert passing.outcomes(VENDOR)["round_trip"] == "accepted"
        assert "externalId lands in v2; tracked" in (accepted / "conformance.html").read_text()
        assert compare(old, accepted).returncode == 0

        # The baseline may also come from pytest's ini (or pyproject) instead of the command line.
        via_ini = run_suite(tmp_path / "ini", "-o", f"conformance_baseline={baseline}", target=target, vendors=[VENDOR])
        assert via_ini.returncode == 0

    # The vendor fixes it: the entry no longer reproduces and fails the run, like a strict xfail.
    with mock_target([VENDOR]) as target:
        fixed = run_suite(tmp_path / "fixed", "--baseline", str(baseline), target=target, vendors=[VENDOR])
    assert fixed.returncode == 1
    assert fixed.outcomes(VENDOR)["round_trip"] == "stale"
    assert "stale, remove it" in fixed.stdout


def test_an_expired_acceptance_fails_the_run(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    baseline.write_text(
        "version = 1\n\n[[entry]]\n"
        f'id = "*"\nvendor = "{VENDOR}"\noperation = "POST /api/v1/channels/{{channelId}}/threads"\n'
        f'check = "round_trip"\nreason = "accepted until the fix ships"\nexpires = "{yesterday}"\n'
    )
    with mock_target([VENDOR], mutant=REGRESSION) as target:
        run = run_suite(tmp_path / "r", "--baseline", str(baseline), target=target, vendors=[VENDOR])
    assert run.returncode == 1
    assert run.outcomes(VENDOR)["round_trip"] == "failed"
    assert f"expired on {yesterday}" in run.stdout + (tmp_path / "r" / "conformance.json").read_text()


def test_a_deselected_check_does_not_make_its_entry_stale(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(
        "version = 1\n\n[[entry]]\n"
        f'id = "*"\nvendor = "{VENDOR}"\noperation = "POST /api/v1/channels/{{channelId}}/threads"\n'
        'check = "round_trip"\nreason = "accepted"\n'
    )
    with mock_target([VENDOR]) as target:
        run = run_suite(
            tmp_path / "r", "--baseline", str(baseline), "-k", "unique_ids", target=target, vendors=[VENDOR]
        )
    assert run.returncode == 0, run.stdout[-3000:]


def test_a_missing_baseline_file_is_a_usage_error(tmp_path: Path) -> None:
    with mock_target([VENDOR]) as target:
        run = run_suite(tmp_path / "r", "--baseline", str(tmp_path / "nope.toml"), target=target, vendors=[VENDOR])
    assert run.returncode == 4
    assert "does not exist" in run.stdout + run.stderr
