"""Self-tests of the baseline: matching, strictness (stale, expired), profiles, update, file format."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.baseline import (
    BASELINE_SCHEMA_PATH,
    TODO_REASON,
    Entry,
    apply_baseline,
    dumps_baseline,
    entries_from_profiles,
    load_baseline,
    update_baseline,
    write_baseline,
)
from conformance.errors import UsageError
from conformance.results import CheckResult, Failure, RunResult, VendorRun
from conformance.vendors import Auth, Deviation, Profile

TODAY = date(2026, 3, 15)
OP = "POST /v1/threads"


def failure(title: str, check: str = "status_code_conformance") -> Failure:
    return Failure(check=check, title=title, message="m", exchange=None, curl="curl ...")


def result(
    vendor: str = "acme",
    check: str = "status_code_conformance",
    outcome: str = "failed",
    titles: tuple[str, ...] = (),
    operation: str = OP,
) -> CheckResult:
    return CheckResult(
        vendor=vendor,
        operation=operation,
        check=check,
        outcome=outcome,  # type: ignore[arg-type]
        cases=3,
        failures=[failure(t, check) for t in titles],
    )


def run_of(*results: CheckResult, vendors: tuple[str, ...] = ("acme",)) -> RunResult:
    return RunResult(
        tool_version="0.1.0",
        schemathesis_version="4.3.0",
        seed=1,
        started_at="2026-03-15T10:00:00Z",
        vendors=[VendorRun(v, v, "spec", "1.0", "http://localhost") for v in vendors],
        results=list(results),
    )


def entry(title: str = "", check: str = "status_code_conformance", vendor: str = "acme", **kw: object) -> Entry:
    return Entry(vendor=vendor, operation=OP, check=check, reason=kw.pop("reason", "known"), title=title, **kw)  # type: ignore[arg-type]


def only(run: RunResult, check: str = "status_code_conformance") -> CheckResult:
    (found,) = [r for r in run.results if r.check == check]
    return found


# --- apply_baseline -------------------------------------------------------------------------


def test_title_substring_match_accepts_and_leaves_the_input_alone() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code 418",)))
    out = apply_baseline(run, [entry("HTTP status code", link="https://t.invalid/1")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "accepted"
    assert checked.failures[0].accepted_reason == "known"
    assert checked.failures[0].accepted_link == "https://t.invalid/1"
    assert not out.failed
    assert run.results[0].outcome == "failed" and run.results[0].failures[0].accepted_reason is None


def test_title_is_case_sensitive_and_non_matching_title_stays_failed_and_entry_is_stale() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code",)))
    out = apply_baseline(run, [entry("undocumented http")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed"
    assert checked.failures[0].accepted_reason is None
    assert checked.note is not None and "stale baseline entry" in checked.note
    assert out.failed


def test_empty_title_matches_any_title_of_the_check_only() -> None:
    run = run_of(result(titles=("A", "B")), result(check="other", titles=("A",)))
    out = apply_baseline(run, [entry("")], today=TODAY)
    assert only(out).outcome == "accepted"
    assert only(out, "other").outcome == "failed"


def test_partly_accepted_check_still_fails() -> None:
    run = run_of(result(titles=("Server error 500", "Undocumented HTTP status code")))
    out = apply_baseline(run, [entry("Server error")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed"
    assert [f.accepted_reason for f in checked.failures] == ["known", None]


def test_entry_for_a_passed_check_makes_it_stale_and_fails_the_run() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("gone")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "stale"
    assert checked.note is not None and "remove it" in checked.note and "'gone'" in checked.note
    assert out.failed


def test_entry_for_a_check_that_does_not_exist_adds_a_stale_result() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("x", check="no_such_check")], today=TODAY)
    added = only(out, "no_such_check")
    assert (added.vendor, added.operation, added.outcome) == ("acme", OP, "stale")
    assert added.note is not None and "no such operation/check" in added.note
    assert out.failed


@pytest.mark.parametrize("flag", ["interrupted", "budget_exhausted"])
def test_missing_check_of_a_run_that_stopped_early_is_not_stale(flag: str) -> None:
    run = run_of(result(outcome="passed"))
    setattr(run, flag, True)
    out = apply_baseline(run, [entry("x", check="never_reached")], today=TODAY)
    assert [r.check for r in out.results] == ["status_code_conformance"] and not out.failed


def test_two_stale_entries_for_one_missing_check_add_one_result() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("x", check="gone"), entry("y", check="gone")], today=TODAY)
    added = only(out, "gone")
    assert added.note is not None and "'x'" in added.note and "'y'" in added.note


def test_entry_of_a_vendor_that_did_not_run_is_ignored() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("x", vendor="other-vendor")], today=TODAY)
    assert out.to_dict() == run.to_dict()
    assert not out.failed


@pytest.mark.parametrize("outcome", ["not_reached", "not_applicable"])
def test_check_that_did_not_run_never_makes_an_entry_stale(outcome: str) -> None:
    run = run_of(result(outcome=outcome))
    out = apply_baseline(run, [entry("x")], today=TODAY)
    assert only(out).outcome == outcome
    assert "not checked" in (only(out).note or "")  # said, so the entry does not vanish from the reports
    assert not out.failed


def test_expired_entry_accepts_nothing_and_fails_with_a_note() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code",)))
    out = apply_baseline(run, [entry("Undocumented", expires=date(2026, 3, 1))], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed"
    assert checked.failures[0].accepted_reason is None
    assert checked.note is not None and checked.note.startswith("baseline entry expired on 2026-03-01")
    assert out.failed


def test_expired_entry_fails_the_check_even_when_another_entry_accepts_it() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code",)))
    entries = [entry("Undocumented"), entry("HTTP", expires=date(2026, 1, 1))]
    assert only(apply_baseline(run, entries, today=TODAY)).outcome == "failed"


def test_an_entry_expires_on_its_date() -> None:
    run = run_of(result(titles=("T",)))
    assert only(apply_baseline(run, [entry("T", expires=TODAY)], today=date(2026, 3, 14))).outcome == "accepted"
    assert only(apply_baseline(run, [entry("T", expires=TODAY)], today=TODAY)).outcome == "failed"


def test_expired_entry_that_no_longer_reproduces_is_stale() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("T", expires=date(2026, 1, 1))], today=TODAY)
    checked = only(out)
    assert checked.outcome == "stale"
    assert checked.note is not None and "also expired on 2026-01-01" in checked.note


def test_stale_entry_on_an_otherwise_accepted_check_fails_it() -> None:
    run = run_of(result(titles=("A",)))
    out = apply_baseline(run, [entry("A"), entry("B")], today=TODAY)
    assert only(out).outcome == "stale"
    assert only(out).failures[0].accepted_reason == "known"


def test_failed_check_without_failures_is_never_accepted() -> None:
    run = run_of(result(titles=()))
    out = apply_baseline(run, [entry("")], today=TODAY)
    assert only(out).outcome == "failed"


def profile(*deviations: Deviation, key: str = "acme") -> Profile:
    return Profile(
        key=key,
        display_name="Acme",
        spec_path=Path("spec.yaml"),
        auth=Auth(security_scheme="bearer", header="Authorization", value="Bearer {token}", token_env="ACME_TOKEN"),
        known_deviations=deviations,
    )


def test_profile_known_deviations_are_applied_the_same_way() -> None:
    prof = profile(
        Deviation(operation=OP, check="status_code_conformance", reason="vendor answers 400", title="status code"),
        Deviation(operation=OP, check="gone_check", reason="fixed long ago", link="https://t.invalid/2"),
        Deviation(operation=OP, check="expiring", reason="r", title="X", expires="2026-01-31"),
    )
    entries = entries_from_profiles([prof])
    assert entries[0] == Entry("acme", OP, "status_code_conformance", "vendor answers 400", "status code")
    assert entries[1].link == "https://t.invalid/2" and entries[2].expires == date(2026, 1, 31)
    assert entries[0].source == "profile acme"
    run = run_of(
        result(titles=("Undocumented HTTP status code",)),
        result(check="gone_check", outcome="passed"),
        result(check="expiring", titles=("X marks",)),
    )
    out = apply_baseline(run, entries, today=TODAY)
    assert only(out).outcome == "accepted"
    assert only(out).failures[0].accepted_reason == "vendor answers 400"
    assert only(out, "gone_check").outcome == "stale"
    assert only(out, "gone_check").note is not None and "profile acme" in str(only(out, "gone_check").note)
    assert only(out, "expiring").outcome == "failed"
    assert "expired on 2026-01-31" in str(only(out, "expiring").note)


def test_profile_with_a_bad_expiry_date_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="invalid expires date"):
        entries_from_profiles([profile(Deviation(operation=OP, check="c", reason="r", expires="soon"))])


def test_profile_and_baseline_compose_in_either_order() -> None:
    run = run_of(result(titles=("A", "B")))
    first, second = [entry("A", reason="profile")], [entry("B", reason="file")]
    once = apply_baseline(run, first + second, today=TODAY)
    twice = apply_baseline(apply_baseline(run, first, today=TODAY), second, today=TODAY)
    assert once.to_dict() == twice.to_dict()
    assert only(once).outcome == "accepted"


# --- the file ---------------------------------------------------------------------------------

EXAMPLE = """\
version = 1

[[entry]]
vendor = "acme"
operation = "POST /v1/threads"
check = "status_code_conformance"
title = "Undocumented"
reason = "Answers 400 where the spec says 422"
link = "https://t.invalid/1"
expires = "2026-06-30"

[[entry]]
vendor = "acme"
operation = "POST /v1/threads"
check = "response_schema_conformance"
reason = "Any title"
expires = 2026-07-01
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_reads_entries_and_a_bare_toml_date(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    first, second = load_baseline(path)
    assert first == Entry(
        "acme", OP, "status_code_conformance", "Answers 400 where the spec says 422", "Undocumented",
        "https://t.invalid/1", date(2026, 6, 30),
    )  # fmt: skip
    assert first.source == str(path)
    assert second.title == "" and second.link is None and second.expires == date(2026, 7, 1)


def test_empty_file_is_an_empty_baseline(tmp_path: Path) -> None:
    assert load_baseline(write(tmp_path, "")) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = 1\n[[entry]\n", "is not valid TOML"),
        ('[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\n', "invalid at entry/0: 'reason' is a required"),
        ('[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\nreason = "  "\n', "invalid at entry/0/reason"),
        (
            '[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\nreason = "r"\ntitel = "x"\n',
            "'titel' was unexpected",
        ),
        ('[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\nreason = "r"\nexpires = "2026-02-30"\n', "expires"),
        ('[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\nreason = "r"\nexpires = "next week"\n', "expires"),
        ("version = 2\n", "invalid at version"),
        ("entries = []\n", "'entries' was unexpected"),
        ('entry = "x"\n', "invalid at entry"),
        ('[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\nreason = "r"\n' * 2, "same vendor, operation"),
    ],
)
def test_malformed_file_is_a_one_line_usage_error_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_baseline(path)
    message = str(info.value)
    assert str(path) in message and problem in message
    assert "\n" not in message


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="baseline file not found"):
        load_baseline(tmp_path / "nope.toml")


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(BASELINE_SCHEMA_PATH.read_text()))


def validate_file(path: Path) -> None:
    schema = json.loads(BASELINE_SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(tomllib.loads(path.read_text(encoding="utf-8")))


# --- update_baseline --------------------------------------------------------------------------


def test_update_keeps_reasons_adds_todo_and_drops_what_no_longer_reproduces(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    kept = entry("Undocumented", reason="vendor ticket", link="https://t.invalid/1", expires=date(2026, 12, 31))
    gone = entry("fixed", check="passing_check")
    other_vendor = entry("x", vendor="not-run")
    not_reached = entry("y", check="late_check")
    run = run_of(
        result(titles=("Undocumented HTTP status code", "Server error 500")),
        result(check="passing_check", outcome="passed"),
        result(check="late_check", outcome="not_reached"),
        result(check="another", titles=("Missing field", "Missing field")),
    )
    written = update_baseline(path, run, [kept, gone, other_vendor, not_reached])
    assert written == load_baseline(path)
    assert [(e.vendor, e.check, e.title, e.reason) for e in written] == [
        ("acme", "another", "Missing field", TODO_REASON),
        ("acme", "late_check", "y", "known"),
        ("acme", "status_code_conformance", "Server error 500", TODO_REASON),
        ("acme", "status_code_conformance", "Undocumented", "vendor ticket"),
        ("not-run", "status_code_conformance", "x", "known"),
    ]
    survivor = next(e for e in written if e.reason == "vendor ticket")
    assert (survivor.link, survivor.expires) == ("https://t.invalid/1", date(2026, 12, 31))
    validate_file(path)
    # Deterministic: the same inputs give the same bytes, and no temp file is left behind.
    before = path.read_bytes()
    update_baseline(path, run, list(reversed(load_baseline(path))))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.toml"]


def test_update_skips_failures_a_profile_already_accepts(tmp_path: Path) -> None:
    applied = apply_baseline(run_of(result(titles=("A", "B"))), [entry("A", reason="profile")], today=TODAY)
    written = update_baseline(tmp_path / "b.toml", applied, [])
    assert [e.title for e in written] == ["B"]


def test_update_writes_a_new_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "baseline.toml"
    update_baseline(path, run_of(result(outcome="passed")), [])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and "version = 1" in text
    assert load_baseline(path) == []
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_of_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot be written"):
        write_baseline(blocker / "baseline.toml", [])


# --- properties -------------------------------------------------------------------------------

# Deterministic and leaves no example database behind: the same examples on every run.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
NAMES = st.sampled_from(["acme", "globex"])
CHECKS = st.sampled_from(["status_code_conformance", "response_schema_conformance", "timestamps"])
OPS = st.sampled_from([OP, "GET /v1/threads/{id}"])
TITLES = st.text(max_size=12)


@st.composite
def raw_results(draw: st.DrawFn) -> CheckResult:
    outcome = draw(st.sampled_from(["passed", "failed", "not_applicable", "not_reached"]))
    titles = draw(st.lists(TITLES, min_size=1, max_size=3)) if outcome == "failed" else []
    return result(vendor=draw(NAMES), check=draw(CHECKS), operation=draw(OPS), outcome=outcome, titles=tuple(titles))


@st.composite
def raw_runs(draw: st.DrawFn) -> RunResult:
    results = draw(st.lists(raw_results(), max_size=8, unique_by=lambda r: r.key))
    run = run_of(*results, vendors=tuple(sorted({r.vendor for r in results})))
    run.interrupted = draw(st.booleans())
    return run


@st.composite
def unexpired_entries(draw: st.DrawFn) -> Entry:
    return Entry(
        vendor=draw(st.sampled_from(["acme", "globex", "initech"])),
        operation=draw(OPS),
        check=draw(CHECKS),
        reason=draw(st.text(min_size=1, max_size=8).filter(str.strip)),
        title=draw(st.text(max_size=3)),
        link=draw(st.none() | st.just("https://t.invalid/x")),
        expires=draw(st.none() | st.just(date(2099, 1, 1))),
    )


@PROPERTY
@given(run=raw_runs(), existing=st.lists(unexpired_entries(), max_size=5))
def test_update_then_apply_accepts_every_failure(tmp_path: Path, run: RunResult, existing: list[Entry]) -> None:
    path = tmp_path / "baseline.toml"
    update_baseline(path, run, existing)
    validate_file(path)
    out = apply_baseline(run, load_baseline(path), today=TODAY)
    assert not out.failed, [(r.key, r.outcome, r.note) for r in out.results if r.outcome in ("failed", "stale")]
    assert all(f.accepted_reason for r in out.results for f in r.failures)


@PROPERTY
@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    expires=st.none() | st.dates(date(1, 1, 1), date(9999, 12, 31)),
)
def test_writer_round_trips_any_text(text: str, expires: date | None) -> None:
    original = Entry(vendor="v" + text, operation=text or "o", check="c", reason="r" + text, title=text,
                     link=text or None, expires=expires)  # fmt: skip
    raw = tomllib.loads(dumps_baseline([original]))
    (item,) = raw["entry"]
    assert item["title"] == text and item["vendor"] == "v" + text and item["reason"] == "r" + text
    assert item.get("expires") == (expires.isoformat() if expires else None)
