"""The installable product: the engine's entry point without pytest, the plugin inert outside a
conformance run, the documented pytest form from anywhere, --dry-run, and the one check catalogue."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis.checks

from conformance import catalogue
from conformance import checks as our_checks
from conformance.api import OperationReport, Runner, make_settings, run
from conformance.engine import CheckId, StopReason
from conformance.mutants import MUTANTS
from conformance.vendors import FALLBACK_TOKEN_ENV
from tests.faults import CountingApp
from tests.suite_runner import TOKEN, mock_target

# ---------------------------------------------------------------- the engine, without pytest


def test_the_entry_point_passes_against_the_embedded_mock() -> None:
    result = run(make_settings(vendors=["seekrflow"], seed=1, max_examples=10, check_report_dir=False))
    assert not result.failed, [r.key for r in result.results if r.outcome in ("failed", "stale")]
    assert {r.outcome for r in result.results} <= {"passed", "not_applicable"}
    assert len(result.results) == len(catalogue.ALL_CHECKS)
    assert result.vendors[0].cases > 0 and result.seed == 1


def test_the_entry_point_fails_against_a_mutant_with_the_expected_check(monkeypatch: pytest.MonkeyPatch) -> None:
    mutant = MUTANTS["same-id"]
    assert mutant.expected_checks == ("unique_ids",)
    monkeypatch.setenv(FALLBACK_TOKEN_ENV, TOKEN)
    with mock_target(["seekrflow"], mutant=mutant.name) as target:
        settings = make_settings(vendors=["seekrflow"], target_url=target, seed=1, max_examples=10)
        result = run(settings)
    assert result.failed
    assert {r.check for r in result.results if r.outcome == "failed"} == {"unique_ids"}


def test_an_operation_report_survives_the_trip_from_an_xdist_worker() -> None:
    settings = make_settings(vendors=["watsonx"], seed=2, max_examples=5, check_report_dir=False)
    with Runner(settings) as runner:
        [first, *_] = runner.plan()
        report = runner.operation(first.vendor, first.operation)
        assert runner.operation(first.vendor, first.operation) is report  # each operation runs once
    assert OperationReport.from_json(report.to_json()) == report
    one = report.only(CheckId(first.vendor, first.operation, "round_trip"))
    assert [str(CheckId.of(r)) for r in one.results] == [f"watsonx::{first.operation}::round_trip"]


def test_a_spent_budget_is_a_typed_stop_reason() -> None:
    settings = make_settings(vendors=["seekrflow"], seed=1, max_examples=10, max_requests=3, check_report_dir=False)
    result = run(settings)
    assert result.budget_exhausted
    with Runner(settings) as runner:
        [check, *_] = runner.plan()
        report = runner.operation(check.vendor, check.operation)
    assert report.stopped is StopReason.BUDGET
    assert any(r.outcome == "not_reached" and r.note == report.stop_detail for r in report.results)


# ---------------------------------------------------------------- the catalogue


def test_the_catalogue_is_what_schemathesis_and_our_checks_register() -> None:
    registered = set(schemathesis.checks.CHECKS.get_all_names())
    assert set(catalogue.BUILTIN_CHECKS) <= registered
    ours = {
        name
        for name, function in inspect.getmembers(our_checks, inspect.isfunction)
        if function.__module__ == our_checks.__name__ and name in registered
    }
    assert ours == set(catalogue.SEMANTIC_CHECKS)
    assert not set(catalogue.TRANSPORT_CHECKS) & registered  # the engine records these itself
    assert len(set(catalogue.ALL_CHECKS)) == len(catalogue.CATALOGUE)
    assert all(check.summary and "\n" not in check.summary for check in catalogue.CATALOGUE)


def test_every_mutant_names_checks_of_the_catalogue() -> None:
    for mutant in MUTANTS.values():
        assert set(mutant.expected_checks) <= set(catalogue.ALL_CHECKS), mutant.name


# ---------------------------------------------------------------- the pytest plugin


def test_the_plugin_is_inert_in_a_plain_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_theirs="""
        import signal

        from conformance.plugin import STATE

        def test_own(request):
            assert request.config.pluginmanager.has_plugin("conformance")  # loaded by its entry point
            assert STATE not in request.config.stash
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        """
    )
    # A live --target-url on a port nothing listens on: a conformance run would refuse to start
    # (no token, unreachable); an inert plugin neither checks nor sends anything.
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--target-url", "http://127.0.0.1:9", "-v"],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_own PASSED" in result.stdout
    assert "conformance:" not in result.stdout  # no report header
    assert not (pytester.path / "reports").exists()


def test_the_suite_outside_a_conformance_run_says_how_to_run_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_copy="""
        from conformance.suite.test_conformance import test_conformance
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*the conformance suite runs with: pytest --pyargs conformance.suite*"])


def _environment() -> dict[str, str]:
    """This process's environment without credentials or the xdist worker marker."""
    environment = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    environment.pop("PYTEST_XDIST_WORKER", None)
    return environment


def _suite(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = _environment()
    command = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=cwd, env={**environment, **(env or {})}, capture_output=True, text=True)


def test_report_dir_in_the_space_form_works_from_anywhere(tmp_path: Path) -> None:
    work, reports = tmp_path / "work", tmp_path / "ci-reports"
    work.mkdir()
    reports.mkdir()  # an existing directory: pytest once took it for the rootdir
    proc = _suite(work, "--vendor", "watsonx", "--max-examples", "5", "--seed", "1", "--report-dir", str(reports))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert json.loads((reports / "conformance.json").read_text())["vendors"][0]["vendor"] == "watsonx"
    assert not (work / "reports").exists()


def _collect_in_the_checkout(*args: str) -> subprocess.CompletedProcess[str]:
    """`pytest --co` (or `conformance run --co`) in this checkout, whose pyproject.toml makes `pytest` the suite."""
    root = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, *args], cwd=root, env=_environment(), capture_output=True, text=True)


def test_a_separate_option_value_that_would_lose_the_ini_file_is_a_usage_error(tmp_path: Path) -> None:
    """pytest looks for its ini file before it knows plugin options: `--report-dir DIR`, DIR an existing directory
    outside the project, made it read no ini file, so `pytest` in a checkout collected the self-tests."""
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    proc = _collect_in_the_checkout(
        "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "--report-dir", str(elsewhere)
    )
    assert proc.returncode == 4, proc.stdout[-2000:]
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert line.startswith("ERROR: ") and line.endswith(f"write --report-dir={elsewhere}"), line
    assert "test_product.py" not in proc.stdout
    joined = _collect_in_the_checkout(
        "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", f"--report-dir={elsewhere}"
    )
    assert joined.returncode == 0 and "conformance/suite" in joined.stdout and "tests/" not in joined.stdout


def test_conformance_run_takes_the_separate_form_as_given(tmp_path: Path) -> None:
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    proc = _collect_in_the_checkout(
        "-m", "conformance.cli", "run", "--co", "-q", "-p", "no:cacheprovider", "--report-dir", str(elsewhere)
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "conformance/suite" in proc.stdout and "tests/" not in proc.stdout


CONFTEST_THAT_MUST_NOT_LOAD = "raise RuntimeError('the project conftest.py was loaded into the conformance run')\n"


@pytest.mark.parametrize(
    "command", [["-m", "conformance.cli", "run"], ["-m", "pytest", "--pyargs", "conformance.suite"]]
)
def test_the_suite_loads_no_conftest_of_the_working_directory(tmp_path: Path, command: list[str]) -> None:
    """`--pyargs conformance.suite` names no directory, so pytest would import the conftest.py of the working
    directory and of its test* directories: a project's own fixtures, hooks and imports. `conformance run`
    passes --noconftest; plain pytest does when the project's configuration asks for it, as this checkout's does."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    for directory in (project, project / "tests"):
        (directory / "conftest.py").write_text(CONFTEST_THAT_MUST_NOT_LOAD)
    if "pytest" in command:
        (project / "pytest.ini").write_text("[pytest]\naddopts = --noconftest\n")
    args = [*command, "--co", "-q", "-p", "no:cacheprovider", f"--report-dir={tmp_path / 'out'}"]
    proc = subprocess.run([sys.executable, *args], cwd=project, env=_environment(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "conftest.py was loaded" not in proc.stdout + proc.stderr
    assert "test_conformance.py::" in proc.stdout


def test_dry_run_sends_nothing_writes_nothing_and_prints_runnable_curl(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "conformance.json").write_text('{"the": "last real report"}')
    apps: list[CountingApp] = []

    def wrap(app: object) -> CountingApp:
        apps.append(CountingApp(app))
        return apps[-1]

    with mock_target(["seekrflow"], wrap=wrap) as target:
        proc = _suite(
            tmp_path,
            *("--vendor", "seekrflow", "--target-url", target, "--dry-run", "--max-examples", "3", "-v"),
            *("--report-dir", str(reports)),
            env={"SEEKRFLOW_API_KEY": "sk-dry-run-secret-8c1e"},
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert apps[0].requests == 0
    assert (reports / "conformance.json").read_text() == '{"the": "last real report"}'
    assert sorted(p.name for p in reports.iterdir()) == ["conformance.json"]
    assert "PASSED" not in proc.stdout and "sk-dry-run-secret-8c1e" not in proc.stdout + proc.stderr
    commands = [line for line in proc.stdout.splitlines() if line.startswith("curl -X POST ")]
    assert commands and all('-H "Authorization: Bearer $SEEKRFLOW_API_KEY"' in line for line in commands[:3])


@pytest.mark.slow
def test_under_xdist_each_operation_runs_on_one_worker(tmp_path: Path) -> None:
    vendors = ("--vendor", "watsonx", "--vendor", "seekrflow", "--max-examples", "5", "-v")
    proc = _suite(tmp_path, *vendors, "-n", "2", "--dist", "loadscope", "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    workers: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("[gw") and "test_conformance[" in line:
            operation = line.split("test_conformance[", 1)[1].rsplit("::", 1)[0]
            workers.setdefault(operation, set()).add(line[1:4])
    assert sorted(workers) == ["seekrflow::POST /v1/threads", "watsonx::POST /v1/threads"]
    assert all(len(names) == 1 for names in workers.values()), workers
    refused = _suite(tmp_path, "--vendor", "watsonx", "-n", "2")  # the default --dist load would split them
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR
    assert "needs --dist loadscope" in refused.stderr


# ---------------------------------------------------------------- the command


def test_run_help_shows_this_tools_options_first_and_briefly(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    assert main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: conformance run")
    assert len(text.splitlines()) < 80
    for option in ("--vendor", "--vendors-dir", "--target-url", "--report-dir", "--dry-run", "--pytest-help"):
        assert option in text
    assert "--junitxml" not in text and "--strict-markers" not in text  # pytest's own are one flag away


def test_vendors_lists_key_title_version_and_origin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from conformance.cli import main
    from conformance.vendors import bundled_dir

    shutil.copytree(bundled_dir() / "specs" / "watsonx-0.1.0", tmp_path / "specs" / "wx")
    (tmp_path / "profiles").mkdir()
    profile = (bundled_dir() / "profiles" / "watsonx.toml").read_text()
    (tmp_path / "profiles" / "acme.toml").write_text(profile.replace("specs/watsonx-0.1.0/", "specs/wx/"))
    assert main(["vendors", "--vendors-dir", str(tmp_path)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0][0] == "KEY"
    by_key = {row[0]: row for row in rows[1:]}
    assert by_key["seekrflow"][-3:] == ["API", "5.30.1", "bundled"]
    assert by_key["acme"][-2:] == ["0.1.0", str(tmp_path)]


def test_the_baseline_is_applied_once_per_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = tmp_path / "accepted.toml"
    baseline.write_text(
        'version = 2\n\n[[entry]]\nid = "*"\nvendor = "seekrflow"\noperation = "POST /v1/threads"\n'
        'check = "unique_ids"\nreason = "the same id, known"\n\n[[entry]]\nid = "*"\nvendor = "seekrflow"\n'
        'operation = "POST /v1/threads"\ncheck = "unique_idz"\nreason = "a typo"\n'
    )
    monkeypatch.setenv(FALLBACK_TOKEN_ENV, TOKEN)
    with mock_target(["seekrflow"], mutant="same-id") as target:
        settings = make_settings(vendors=["seekrflow"], target_url=target, seed=1, max_examples=10, baseline=baseline)
        with Runner(settings) as runner:
            report = runner.operation("seekrflow", "POST /v1/threads")
            result = runner.result([report])
    # The operation's own results (what a pytest item shows) already carry the acceptance...
    [item] = [r for r in report.results if r.check == "unique_ids"]
    assert item.outcome == "accepted" and item.failures[0].accepted_reason == "the same id, known"
    # ... and the run's result is built from them, plus the entry that names no check of the run.
    outcomes = {r.check: r.outcome for r in result.results}
    assert outcomes["unique_ids"] == "accepted" and outcomes["unique_idz"] == "stale"
    assert [r for r in result.results if r.check == "unique_ids"] == [item]
    assert result.failed  # the stale typo fails the run
