"""Self-tests of `conformance compare`: categories, the three formats, exit codes, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.compare import compare_runs, load_report, render, run_compare
from conformance.errors import UsageError
from conformance.identity import failure_id
from conformance.results import CheckResult, Failure, RunResult, VendorRun

OP = "POST /v1/threads"


def result(
    check: str, outcome: str, *titles: str, vendor: str = "acme", operation: str = OP, ids: bool = True
) -> CheckResult:
    """A check result whose failures have the given titles; each title is its own finding (and id)."""
    failures = [
        Failure(
            check=check,
            title=t,
            message="m",
            exchange=None,
            curl=f"curl -X POST http://127.0.0.1/{check}",
            id=failure_id(vendor, operation, check, t) if ids else None,
            finding=f"finding of {t}" if ids else None,
        )
        for t in titles
    ]
    return CheckResult(vendor=vendor, operation=operation, check=check, outcome=outcome, cases=2, failures=failures)  # type: ignore[arg-type]


def run_of(*results: CheckResult, interrupted: bool = False) -> RunResult:
    return RunResult(
        tool_version="0.1.0",
        schemathesis_version="4.3.0",
        seed=7,
        started_at="2026-03-15T10:00:00Z",
        interrupted=interrupted,
        vendors=[VendorRun("acme", "Acme", "spec", "1.0", "http://localhost")],
        results=list(results),
    )


OLD = run_of(
    result("reg_passed", "passed"),
    result("reg_accepted", "accepted", "Known"),
    result("reg_na", "not_applicable"),
    result("to_stale", "passed"),
    result("fixed", "failed", "Server error"),
    result("same", "failed", "Missing field"),
    result("changed", "failed", "Kept", "Gone"),
    result("new_id", "failed", "Response violates schema"),
    result("gone", "passed"),
    result("late", "not_reached"),
    result("baselined", "failed", "Quirk"),
    result("steady", "passed"),
    result("x", "passed", operation="DELETE /v1/threads/{id}"),
)
NEW = run_of(
    result("reg_passed", "failed", "Server error 500"),
    result("reg_accepted", "failed", "Known", "New | *odd* <b>"),
    result("reg_na", "failed", "Now judged"),
    result("to_stale", "stale"),
    result("fixed", "passed"),
    result("same", "failed", "Missing field"),
    result("changed", "failed", "Kept"),
    result("new_id", "failed", "Response violates schema", "Response violates schema "),
    result("new_check", "failed", "Fresh"),
    result("late", "failed", "Finally ran"),
    result("baselined", "accepted", "Quirk"),
    result("steady", "passed"),
    result("y", "passed", operation="PATCH /v1/threads/{id}"),
)


def keys(changes: list) -> list[str]:  # type: ignore[type-arg]
    return [c.check for c in changes]


def test_categories() -> None:
    comparison = compare_runs(OLD, NEW)
    assert keys(comparison.regressions) == ["new_id", "reg_accepted", "reg_na", "reg_passed", "to_stale"]
    assert keys(comparison.fixes) == ["fixed"]
    assert keys(comparison.unchanged_failures) == ["same"]
    assert keys(comparison.changed_failures) == ["changed"]
    assert keys(comparison.appeared) == ["y", "new_check"]
    assert keys(comparison.disappeared) == ["x", "gone"]
    assert keys(comparison.other_changes) == ["baselined", "late"]
    assert comparison.unchanged == 1
    assert comparison.appeared_operations == ["acme::PATCH /v1/threads/{id}"]
    assert comparison.disappeared_operations == ["acme::DELETE /v1/threads/{id}"]
    changed = comparison.changed_failures[0]
    assert changed.disappeared_ids == [failure_id("acme", OP, "changed", "Gone")] and not changed.appeared_ids
    # A second failure with the same title under a check that already failed: a regression, by its id.
    (new_id,) = [c for c in comparison.regressions if c.check == "new_id"]
    assert new_id.appeared_ids == [failure_id("acme", OP, "new_id", "Response violates schema ")]
    assert new_id.stayed_ids == [failure_id("acme", OP, "new_id", "Response violates schema")]
    assert not comparison.by_title
    assert comparison.regressed and comparison.exit_code == 1


def test_no_regression_when_only_fixes_and_unchanged_failures() -> None:
    old = run_of(result("a", "failed", "T"), result("b", "failed", "U"), result("c", "passed"))
    new = run_of(result("a", "passed"), result("b", "failed", "U"), result("c", "passed"))
    comparison = compare_runs(old, new)
    assert not comparison.regressed and comparison.exit_code == 0
    assert render(comparison, "text").endswith("Result: no regression")
    assert "**No regression.**" in render(comparison, "markdown")
    assert json.loads(render(comparison, "json"))["regressed"] is False


def test_not_reached_before_is_not_a_regression_and_a_new_failing_check_neither() -> None:
    old, new = run_of(result("a", "not_reached")), run_of(result("a", "failed", "T"), result("b", "stale"))
    comparison = compare_runs(old, new)
    assert comparison.exit_code == 0
    assert keys(comparison.other_changes) == ["a"] and keys(comparison.appeared) == ["b"]


def test_failed_to_stale_is_a_changed_failure() -> None:
    comparison = compare_runs(run_of(result("a", "failed", "T")), run_of(result("a", "stale")))
    assert keys(comparison.changed_failures) == ["a"] and not comparison.regressed


TEXT = """\
conformance compare: old.json -> new.json
Failures: '+' only in the new run, '-' only in the old run, indented: in both.

Regressions (5):
  acme::POST /v1/threads::new_id: failed -> failed
    + F-85a6fd80 Response violates schema (finding of Response violates schema )
        reproduce: curl -X POST http://127.0.0.1/new_id
      F-3cc627d1 Response violates schema (finding of Response violates schema)
  acme::POST /v1/threads::reg_accepted: accepted -> failed
    + F-e8dfc190 New | *odd* <b> (finding of New | *odd* <b>)
        reproduce: curl -X POST http://127.0.0.1/reg_accepted
      F-f2e11585 Known (finding of Known)
  acme::POST /v1/threads::reg_na: not_applicable -> failed
    + F-d261db7d Now judged (finding of Now judged)
        reproduce: curl -X POST http://127.0.0.1/reg_na
  acme::POST /v1/threads::reg_passed: passed -> failed
    + F-85b5b2f8 Server error 500 (finding of Server error 500)
        reproduce: curl -X POST http://127.0.0.1/reg_passed
  acme::POST /v1/threads::to_stale: passed -> stale

Fixes (1):
  acme::POST /v1/threads::fixed: failed -> passed
    - F-d6906520 Server error (finding of Server error)

Changed failures (1):
  acme::POST /v1/threads::changed: failed -> failed
    - F-73715e24 Gone (finding of Gone)
      F-aa043668 Kept (finding of Kept)

Unchanged failures (1):
  acme::POST /v1/threads::same: failed -> failed
      F-9473a574 Missing field (finding of Missing field)

Appeared (2):
  acme::PATCH /v1/threads/{id}::y: (absent) -> passed
  acme::POST /v1/threads::new_check: (absent) -> failed
    + F-71eaa964 Fresh (finding of Fresh)

Disappeared (2):
  acme::DELETE /v1/threads/{id}::x: passed -> (absent)
  acme::POST /v1/threads::gone: passed -> (absent)

Other outcome changes (2):
  acme::POST /v1/threads::baselined: failed -> accepted
      F-61c6267b Quirk (finding of Quirk)
  acme::POST /v1/threads::late: not_reached -> failed
    + F-810eff80 Finally ran (finding of Finally ran)

Appeared operations (1):
  acme::PATCH /v1/threads/{id}

Disappeared operations (1):
  acme::DELETE /v1/threads/{id}

Summary: regressions: 5, fixes: 1, changed failures: 1, unchanged failures: 1, appeared: 2, disappeared: 2, \
other outcome changes: 2, unchanged: 1.
Result: REGRESSED"""


def test_text_format() -> None:
    assert render(compare_runs(OLD, NEW, old_label="old.json", new_label="new.json"), "text") == TEXT


def test_text_format_escapes_control_characters_from_the_server() -> None:
    old, new = run_of(result("a", "passed")), run_of(result("a", "failed", "evil\x1b[2J\nline"))
    text = render(compare_runs(old, new), "text")
    assert " evil\\x1b[2J line (finding of evil\\x1b[2J line)" in text and "\x1b" not in text


def test_markdown_format() -> None:
    md = render(compare_runs(OLD, NEW, old_label="old.json", new_label="new.json"), "markdown")
    assert md.startswith("# Conformance comparison: old.json → new.json")
    assert "**Regressed.**" in md
    for heading in ("## Regressions (5)", "## Fixes (1)", "## Changed failures (1)", "## Unchanged failures (1)",
                    "## Appeared (2)", "## Disappeared (2)", "## Other outcome changes (2)",
                    "## Appeared operations (1)", "## Disappeared operations (1)"):  # fmt: skip
        assert heading in md
    # A failure title from a server cannot break the table or inject HTML.
    assert "New \\| \\*odd\\* &lt;b&gt;" in md
    # Regressions come first, each new failure with its reproduction.
    assert md.index("## Regressions") < md.index("## Fixes")
    new = failure_id("acme", OP, "new_id", "Response violates schema ")
    assert f"- **new:** {new} Response violates schema" in md
    assert "  ```sh\n  curl -X POST http://127.0.0.1/new_id\n  ```" in md
    fixed = failure_id("acme", OP, "fixed", "Server error")
    assert (
        f"| acme::POST /v1/threads::fixed | failed → passed | - {fixed} Server error (finding of Server error) |  |"
        in md
    )
    assert not md.endswith("\n")


def test_json_format() -> None:
    data = json.loads(render(compare_runs(OLD, NEW, old_label="old.json", new_label="new.json"), "json"))
    assert data["regressed"] is True
    assert data["old"]["label"] == "old.json" and data["new"]["started_at"] == "2026-03-15T10:00:00Z"
    assert data["summary"] == {
        "regressions": 5, "fixes": 1, "changed_failures": 1, "unchanged_failures": 1,
        "appeared": 2, "disappeared": 2, "other_changes": 2, "unchanged": 1,
    }  # fmt: skip
    assert data["fixes"] == [
        {
            "key": "acme::POST /v1/threads::fixed", "vendor": "acme", "operation": OP, "check": "fixed",
            "old_outcome": "failed", "new_outcome": "passed", "old_titles": ["Server error"], "new_titles": [],
            "note": None, "by_title": False, "new_failures": [],
            "old_failures": [
                {"id": failure_id("acme", OP, "fixed", "Server error"), "title": "Server error",
                 "finding": "finding of Server error", "curl": "curl -X POST http://127.0.0.1/fixed", "accepted": False}
            ],
            "appeared_ids": [], "disappeared_ids": [failure_id("acme", OP, "fixed", "Server error")], "stayed_ids": [],
        }
    ]  # fmt: skip
    assert data["compared_by_title"] == []
    assert [c["check"] for c in data["appeared"]] == ["y", "new_check"]
    assert [c["check"] for c in data["disappeared"]] == ["x", "gone"]
    assert [c["check"] for c in data["unchanged_failures"]] == ["same"]
    assert data["appeared_operations"] == ["acme::PATCH /v1/threads/{id}"]
    assert data["disappeared_operations"] == ["acme::DELETE /v1/threads/{id}"]


def test_interrupted_run_is_flagged() -> None:
    comparison = compare_runs(run_of(), run_of(interrupted=True), new_label="new.json")
    assert "warning: the new run (new.json) was interrupted" in render(comparison, "text")
    assert "**Warning:** the new run (new.json) was interrupted" in render(comparison, "markdown")


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown compare format 'html'"):
        render(compare_runs(OLD, NEW), "html")


def save(path: Path, run: RunResult) -> Path:
    path.write_text(json.dumps(run.to_dict()), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_run_compare_exit_codes(tmp_path: Path, fmt: str) -> None:
    old, new = save(tmp_path / "old.json", OLD), save(tmp_path / "new.json", NEW)
    output, code = run_compare(old, new, fmt)
    assert code == 1 and output == render(compare_runs(OLD, NEW, old_label=str(old), new_label=str(new)), fmt)
    output, code = run_compare(new, new, fmt)
    assert code == 0
    assert run_compare(new, old, fmt)[1] == 1  # "fixed" passed -> failed going the other way


def test_load_report_reads_what_to_dict_wrote(tmp_path: Path) -> None:
    assert load_report(save(tmp_path / "r.json", NEW)) == NEW


def test_a_report_written_before_failure_ids_still_loads_and_compares(tmp_path: Path) -> None:
    data = run_of(result("a", "failed", "T", ids=False)).to_dict()
    for failure in data["results"][0]["failures"]:  # as an older version wrote it: no such keys at all
        del failure["id"], failure["finding"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    assert load_report(old).results[0].failures[0].id is None
    output, code = run_compare(old, save(tmp_path / "new.json", run_of(result("a", "failed", "T", "U"))))
    assert code == 1 and "compared by failure title" in output and "    + U\n" in output


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "report not found"),
        ("{not json", "is not valid JSON"),
        ("[]", "is not a conformance.json"),
        ('{"schema_version": 1}', "is not a conformance.json"),
        ('{"schema_version": 99, "results": []}', "has schema_version 99"),
        ('{"schema_version": 1, "results": [{"vendor": "a"}]}', "is not a conformance.json"),
        ('{"schema_version": 1, "results": ["x"]}', "is not a conformance.json"),
        ('{"schema_version": 1, "results": [], "started_at": "t", "surprise": 1}', "is not a conformance.json"),
        (
            '{"schema_version": 1, "tool_version": "0", "schemathesis_version": "4", "seed": 1, "started_at": "t",'
            ' "results": [], "vendors": [{"vendor": null, "display_name": "", "spec_title": "", "spec_version": "",'
            ' "target_url": ""}]}',
            "is not a conformance.json: at /vendors/0/vendor",
        ),
    ],
)
def test_bad_report_is_a_one_line_usage_error(tmp_path: Path, content: str | None, problem: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    good = save(tmp_path / "good.json", OLD)
    for old, new in ((bad, good), (good, bad)):
        with pytest.raises(UsageError) as info:
            run_compare(old, new, "text")
        assert problem in str(info.value) and str(bad) in str(info.value) and "\n" not in str(info.value)


def test_unknown_outcome_and_duplicate_keys_are_usage_errors(tmp_path: Path) -> None:
    data = OLD.to_dict()
    data["results"][0]["outcome"] = "exploded"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UsageError, match="unknown outcome 'exploded'"):
        load_report(path)
    doubled = run_of(result("a", "passed"), result("a", "failed", "T"))
    with pytest.raises(UsageError, match="two results for acme::POST /v1/threads::a"):
        run_compare(save(tmp_path / "d.json", doubled), save(tmp_path / "o.json", OLD), "json")


def test_a_report_without_failure_ids_is_compared_by_title_with_a_warning() -> None:
    old = run_of(result("a", "failed", "T", ids=False), result("b", "failed", "U", ids=False))
    new = run_of(result("a", "failed", "T"), result("b", "failed", "U", "V"))
    comparison = compare_runs(old, new, old_label="old.json")
    assert comparison.by_title == ["acme::POST /v1/threads::a", "acme::POST /v1/threads::b"]
    assert keys(comparison.unchanged_failures) == ["a"]  # the same title: no false regression
    assert keys(comparison.regressions) == ["b"]  # a new title is still a new failure
    text = render(comparison, "text")
    assert "warning: 2 check(s) compared by failure title, not id" in text
    assert "    + V\n" in text  # by title: the title alone, no id that the old side could not have


def test_a_new_failure_that_a_baseline_accepts_is_not_a_regression() -> None:
    old = run_of(result("a", "failed", "T"))
    new = run_of(result("a", "failed", "T", "U"))
    new.results[0].failures[1].accepted_reason = "known since v2"
    comparison = compare_runs(old, new)
    assert keys(comparison.changed_failures) == ["a"] and not comparison.regressed
    assert "[accepted]" in render(comparison, "text")


def test_a_reproduction_cannot_break_out_of_its_markdown_code_block() -> None:
    old, new = run_of(result("a", "passed")), run_of(result("a", "failed", "T"))
    new.results[0].failures[0].curl = "curl --data-binary '```\n# injected'"
    md = render(compare_runs(old, new), "markdown")
    assert "  ````sh\n  curl --data-binary '```?# injected'\n  ````" in md
