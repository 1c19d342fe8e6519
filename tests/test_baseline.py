"""Self-tests of the baseline: matching by failure id, strictness (stale, expired, unreviewed), legacy
title entries, profiles, the in-place update, the file format."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
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
from conformance.identity import failure_id
from conformance.results import CheckResult, Failure, RunResult, VendorRun
from conformance.vendors import Auth, Deviation, Profile

TODAY = date(2026, 3, 15)
OP = "POST /v1/threads"
# A check keyed by the response: the strict staleness rule (a request-keyed check has its own, tested below).
CHECK = "response_schema_conformance"


def ident(finding: str, check: str = CHECK, vendor: str = "acme") -> str:
    return failure_id(vendor, OP, check, finding)


def failure(title: str, check: str = CHECK, finding: str | None = None, vendor: str = "acme") -> Failure:
    """A failure whose finding is `finding` (default: its title), so two findings may share one title."""
    finding = title if finding is None else finding
    return Failure(
        check=check,
        title=title,
        message="m",
        exchange=None,
        curl="curl ...",
        id=ident(finding, check, vendor),
        finding=finding,
    )


def result(
    vendor: str = "acme",
    check: str = CHECK,
    outcome: str = "failed",
    titles: tuple[str, ...] = (),
    operation: str = OP,
    failures: tuple[Failure, ...] = (),
) -> CheckResult:
    return CheckResult(
        vendor=vendor,
        operation=operation,
        check=check,
        outcome=outcome,  # type: ignore[arg-type]
        cases=3,
        failures=[failure(t, check, vendor=vendor) for t in titles] + list(failures),
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


def entry(finding: str | None = "*", check: str = CHECK, vendor: str = "acme", **kw: object) -> Entry:
    """An id entry for the failure with `finding` ("*": the wildcard; None: a legacy entry, give title=)."""
    fid = None if finding is None else finding if finding == "*" else ident(finding, check, vendor)
    return Entry(vendor=vendor, operation=OP, check=check, reason=kw.pop("reason", "known"), id=fid, **kw)  # type: ignore[arg-type]


def only(run: RunResult, check: str = CHECK) -> CheckResult:
    (found,) = [r for r in run.results if r.check == check]
    return found


# --- apply_baseline -------------------------------------------------------------------------


def test_an_id_entry_accepts_its_failure_and_leaves_the_input_alone() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code 418",)))
    out = apply_baseline(run, [entry("Undocumented HTTP status code 418", link="https://t.invalid/1")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "accepted"
    assert checked.failures[0].accepted_reason == "known"
    assert checked.failures[0].accepted_link == "https://t.invalid/1"
    assert not out.failed
    assert run.results[0].outcome == "failed" and run.results[0].failures[0].accepted_reason is None


def test_a_second_failure_under_the_same_title_is_not_accepted_and_is_named() -> None:
    # The hole of issue 16: two schema violations share a title; the baseline accepts only the first.
    first = failure("Response violates schema", finding="ST108 200 /components/schemas/ThreadStatus/enum")
    second = failure("Response violates schema", finding="ST108 200 /components/schemas/Thread/properties/object/type")
    run = run_of(result(failures=(first, second)))
    out = apply_baseline(run, [entry("ST108 200 /components/schemas/ThreadStatus/enum")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed" and out.failed
    assert [f.accepted_reason for f in checked.failures] == ["known", None]
    assert checked.note is not None and f"not accepted by any baseline entry: {second.id}" in checked.note
    assert first.id != second.id


def test_an_entry_for_another_id_stays_failed_and_the_entry_is_stale() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code",)))
    out = apply_baseline(run, [entry("Undocumented HTTP status code 418")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed"
    assert checked.failures[0].accepted_reason is None
    assert checked.note is not None and "stale baseline entry" in checked.note
    assert out.failed


def test_the_wildcard_accepts_any_failure_of_its_check_only() -> None:
    run = run_of(result(titles=("A", "B")), result(check="other", titles=("A",)))
    out = apply_baseline(run, [entry("*")], today=TODAY)
    assert only(out).outcome == "accepted"
    assert only(out, "other").outcome == "failed"


def test_a_legacy_title_entry_accepts_nothing_and_says_how_to_migrate() -> None:
    run = run_of(result(titles=("Response violates schema",)))
    out = apply_baseline(run, [entry(None, title="violates")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed" and out.failed
    assert checked.failures[0].accepted_reason is None
    assert checked.note is not None
    assert "matches by title" in checked.note and "--baseline-update" in checked.note and 'id = "*"' in checked.note
    assert "stale" not in checked.note  # it still matches by title: the note is the migration, not "remove it"


def test_an_unreviewed_entry_does_not_accept_unless_allowed() -> None:
    run = run_of(result(titles=("A",)))
    out = apply_baseline(run, [entry("A", reason=TODO_REASON)], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed" and out.failed
    assert checked.note is not None and "unreviewed baseline entry" in checked.note
    allowed = apply_baseline(run, [entry("A", reason=TODO_REASON, allow_unreviewed=True)], today=TODAY)
    assert only(allowed).outcome == "accepted" and not allowed.failed
    assert "accepted by an unreviewed baseline entry" in (only(allowed).note or "")


def test_partly_accepted_check_still_fails() -> None:
    run = run_of(result(titles=("Server error 500", "Undocumented HTTP status code")))
    out = apply_baseline(run, [entry("Server error 500")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed"
    assert [f.accepted_reason for f in checked.failures] == ["known", None]


def test_entry_for_a_passed_check_makes_it_stale_and_fails_the_run() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("gone")], today=TODAY)
    checked = only(out)
    assert checked.outcome == "stale"
    assert checked.note is not None and "remove it" in checked.note and ident("gone") in checked.note
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
    assert [r.check for r in out.results] == [CHECK] and not out.failed


def test_two_stale_entries_for_one_missing_check_add_one_result() -> None:
    run = run_of(result(outcome="passed"))
    out = apply_baseline(run, [entry("x", check="gone"), entry("y", check="gone")], today=TODAY)
    added = only(out, "gone")
    assert added.note is not None and ident("x", "gone") in added.note and ident("y", "gone") in added.note


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
    out = apply_baseline(run, [entry("Undocumented HTTP status code", expires=date(2026, 3, 1))], today=TODAY)
    checked = only(out)
    assert checked.outcome == "failed"
    assert checked.failures[0].accepted_reason is None
    assert checked.note is not None and checked.note.startswith("baseline entry expired on 2026-03-01")
    assert out.failed


def test_expired_entry_fails_the_check_even_when_another_entry_accepts_it() -> None:
    run = run_of(result(titles=("Undocumented HTTP status code",)))
    entries = [entry("Undocumented HTTP status code"), entry("*", expires=date(2026, 1, 1))]
    out = apply_baseline(run, entries, today=TODAY)
    assert only(out).outcome == "accepted"  # the reviewed id entry accepts it...
    assert "expired on 2026-01-01" in (only(out).note or "")  # ...and the expired one is said
    entries = [entry("*", expires=date(2026, 1, 1)), entry("Undocumented HTTP status code")]
    assert only(apply_baseline(run, entries, today=TODAY)).outcome == "accepted"


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


def test_an_entry_of_a_request_keyed_check_is_not_stale_while_the_check_still_fails() -> None:
    """Which causes of a defect a run shows depends on its seed: an entry none of this run's failures matches is
    noted, not stale, while its check (keyed by what in the request triggers its failures) fails otherwise."""
    crash = "not_a_server_error"
    run = run_of(result(check=crash, titles=("A",)))
    out = apply_baseline(run, [entry("A", check=crash), entry("B", check=crash)], today=TODAY)
    assert only(out, crash).outcome == "accepted" and not out.failed
    assert f"baseline entry (id {ident('B', crash)}) not seen on this run" in (only(out, crash).note or "")
    fixed = apply_baseline(run_of(result(check=crash, outcome="passed")), [entry("B", check=crash)], today=TODAY)
    assert only(fixed, crash).outcome == "stale" and fixed.failed


def test_failed_check_without_failures_is_never_accepted() -> None:
    run = run_of(result(titles=()))
    out = apply_baseline(run, [entry("*")], today=TODAY)
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
    undocumented = ident("Undocumented HTTP status code")
    prof = profile(
        Deviation(operation=OP, check=CHECK, reason="vendor answers 400", id=undocumented),
        Deviation(operation=OP, check="gone_check", reason="fixed long ago", link="https://t.invalid/2", id="*"),
        Deviation(operation=OP, check="expiring", reason="r", id="*", expires="2026-01-31"),
        Deviation(operation=OP, check="legacy", reason="r", title="X"),
    )
    entries = entries_from_profiles([prof])
    assert entries[0] == Entry("acme", OP, CHECK, "vendor answers 400", undocumented)
    assert entries[1].link == "https://t.invalid/2" and entries[2].expires == date(2026, 1, 31)
    assert entries[0].source == "profile acme" and entries[3].legacy
    run = run_of(
        result(titles=("Undocumented HTTP status code",)),
        result(check="gone_check", outcome="passed"),
        result(check="expiring", titles=("X marks",)),
        result(check="legacy", titles=("X marks",)),
    )
    out = apply_baseline(run, entries, today=TODAY)
    assert only(out).outcome == "accepted"
    assert only(out).failures[0].accepted_reason == "vendor answers 400"
    assert only(out, "gone_check").outcome == "stale"
    assert only(out, "gone_check").note is not None and "profile acme" in str(only(out, "gone_check").note)
    assert only(out, "expiring").outcome == "failed"
    assert "expired on 2026-01-31" in str(only(out, "expiring").note)
    assert only(out, "legacy").outcome == "failed" and "matches by title" in str(only(out, "legacy").note)


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

EXAMPLE = f"""\
version = 2

[[entry]]
id = "{ident("Enum")}"
vendor = "acme"
operation = "POST /v1/threads"
check = "{CHECK}"
description = "Response violates schema (ST108 200 /properties/status/enum)"
reason = "Answers status archived, outside the enum"
link = "https://t.invalid/1"
expires = "2026-06-30"

[[entry]]
id = "*"
vendor = "acme"
operation = "POST /v1/threads"
check = "response_schema_conformance"
reason = "Any failure of the check"
expires = 2026-07-01

[[entry]]
vendor = "acme"
operation = "POST /v1/threads"
check = "timestamps"
title = "Timestamp"
reason = "a version 1 entry"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_reads_entries_and_a_bare_toml_date(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    first, second, third = load_baseline(path)
    assert first == Entry(
        "acme", OP, CHECK, "Answers status archived, outside the enum", ident("Enum"), link="https://t.invalid/1",
        expires=date(2026, 6, 30), description="Response violates schema (ST108 200 /properties/status/enum)",
    )  # fmt: skip
    assert first.source == str(path) and not first.legacy and not first.wildcard
    assert second.wildcard and second.link is None and second.expires == date(2026, 7, 1)
    assert third.legacy and third.title == "Timestamp"


def test_empty_file_is_an_empty_baseline(tmp_path: Path) -> None:
    assert load_baseline(write(tmp_path, "")) == []


BASE = '[[entry]]\nvendor = "a"\noperation = "o"\ncheck = "c"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = 1\n[[entry]\n", "is not valid TOML"),
        (BASE, "invalid at entry/0: 'reason' is a required"),
        (BASE + 'reason = "  "\n', "invalid at entry/0/reason"),
        (BASE + 'reason = "r"\ntitel = "x"\n', "'titel' was unexpected"),
        (BASE + 'reason = "r"\nexpires = "2026-02-30"\n', "expires"),
        (BASE + 'reason = "r"\nexpires = "next week"\n', "expires"),
        (BASE + 'reason = "r"\nid = "F-123"\n', "invalid at entry/0/id"),
        (BASE + 'reason = "r"\nid = "any"\n', "invalid at entry/0/id"),
        ("version = 3\n", "invalid at version"),
        ('allow_unreviewed = "yes"\n', "invalid at allow_unreviewed"),
        ("entries = []\n", "'entries' was unexpected"),
        ('entry = "x"\n', "invalid at entry"),
        ((BASE + 'reason = "r"\n') * 2, "same vendor, operation"),
        ((BASE + 'reason = "r"\nid = "F-0123abcd"\n') * 2, "same vendor, operation, check and id F-0123abcd"),
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


def test_allow_unreviewed_is_read_from_the_file(tmp_path: Path) -> None:
    text = f'allow_unreviewed = true\n{BASE}reason = "{TODO_REASON}"\nid = "*"\n'
    (only_entry,) = load_baseline(write(tmp_path, text))
    assert only_entry.unreviewed and only_entry.allow_unreviewed


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
    write_baseline(path, [kept, gone, other_vendor, not_reached])
    run = run_of(
        result(titles=("Undocumented", "Server error 500")),
        result(check="passing_check", outcome="passed"),
        result(check="late_check", outcome="not_reached"),
        result(check="another", titles=("Missing field",), failures=(failure("Missing field", "another"),)),
    )
    written = update_baseline(path, run, load_baseline(path))
    assert written == load_baseline(path)
    assert [(e.vendor, e.check, e.id, e.reason) for e in written] == [
        ("acme", CHECK, ident("Undocumented"), "vendor ticket"),  # the file's own order first
        ("not-run", CHECK, ident("x", vendor="not-run"), "known"),
        ("acme", "late_check", ident("y", "late_check"), "known"),
        ("acme", "another", ident("Missing field", "another"), TODO_REASON),  # then the new ones, one per id
        ("acme", CHECK, ident("Server error 500"), TODO_REASON),
    ]
    assert written[-1].description == "Server error 500 (Server error 500)"
    survivor = written[0]
    assert (survivor.link, survivor.expires) == ("https://t.invalid/1", date(2026, 12, 31))
    validate_file(path)
    # Deterministic: the same inputs give the same bytes, and no temp file is left behind.
    before = path.read_bytes()
    update_baseline(path, run, load_baseline(path))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.toml"]


def test_update_edits_the_file_in_place_keeping_comments_and_order(tmp_path: Path) -> None:
    a, b = ident("A"), ident("B")
    path = write(
        tmp_path,
        f"""# Our accepted deviations. Owner: platform team.
version = 2

# B first, on purpose: it is the one we talk about
[[entry]]
id = "{b}"   # the 400 one
vendor = "acme"
operation = "{OP}"
check = "{CHECK}"
reason = "ticket B"
expires = 2027-01-01

# gone: the vendor fixed it
[[entry]]
id = "{ident("fixed")}"
vendor = "acme"
operation = "{OP}"
check = "{CHECK}"
reason = "ticket fixed"

# A: known since v3
[[entry]]
id = "{a}"
vendor = "acme"
operation = "{OP}"
check = "{CHECK}"
reason = "ticket A"
""",
    )
    run = run_of(result(titles=("A", "B", "C")))
    update_baseline(path, run, load_baseline(path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Our accepted deviations. Owner: platform team.\nversion = 2\n")
    assert f'id = "{b}"   # the 400 one' in text and "expires = 2027-01-01" in text
    assert "gone: the vendor fixed it" not in text and ident("fixed") not in text  # removed with its entry
    assert text.index("# B first") < text.index(b) < text.index("# A: known since v3") < text.index(a)
    assert text.index(a) < text.index(ident("C"))  # the new one is appended
    assert [e.reason for e in load_baseline(path)] == ["ticket B", "ticket A", TODO_REASON]


def test_update_replaces_a_legacy_title_entry_by_id_entries_marked_for_review(tmp_path: Path) -> None:
    legacy = entry(None, title="violates", reason="status is wrong; ticket 1", link="https://t.invalid/1")
    path = tmp_path / "baseline.toml"
    write_baseline(path, [legacy])
    first = failure("Response violates schema", finding="enum")
    second = failure("Response violates schema", finding="type")
    run = run_of(result(failures=(first, second)))
    written = update_baseline(path, run, load_baseline(path))
    assert [e.id for e in written] == sorted([first.id, second.id])
    assert all(e.reason == "TODO (was accepted by title 'violates'): status is wrong; ticket 1" for e in written)
    assert all(e.link == "https://t.invalid/1" and e.unreviewed for e in written)
    out = apply_baseline(run, load_baseline(path), today=TODAY)
    assert out.failed and "unreviewed baseline entry" in (only(out).note or "")


def test_update_never_writes_a_wildcard_and_keeps_one_written_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    run = run_of(result(titles=("A", "B")), result(check="other", titles=("C",)))
    write_baseline(path, [entry("*", check="other", reason="any: vendor v2 only")])
    written = update_baseline(path, run, load_baseline(path))
    assert [(e.check, e.id) for e in written] == [
        ("other", "*"),
        *sorted((CHECK, ident(t)) for t in ("A", "B")),
    ]


def test_update_skips_failures_a_profile_already_accepts(tmp_path: Path) -> None:
    applied = apply_baseline(run_of(result(titles=("A", "B"))), [entry("A", reason="profile")], today=TODAY)
    written = update_baseline(tmp_path / "b.toml", applied, [])
    assert [e.id for e in written] == [ident("B")]


def test_update_writes_a_new_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "baseline.toml"
    update_baseline(path, run_of(result(outcome="passed")), [])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and "version = 2" in text
    assert load_baseline(path) == []
    assert path.stat().st_mode & 0o777 == 0o644


def test_update_refuses_a_file_that_changed_under_it(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    write_baseline(path, [entry("A"), entry("B")])
    with pytest.raises(UsageError, match="changed while the run"):
        update_baseline(path, run_of(result(titles=("A",))), [entry("A")])


def test_write_of_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot be written"):
        write_baseline(blocker / "baseline.toml", [])


# --- properties -------------------------------------------------------------------------------

# Deterministic and leaves no example database behind: the same examples on every run.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
NAMES = st.sampled_from(["acme", "globex"])
CHECKS = st.sampled_from(["status_code_conformance", "response_schema_conformance", "timestamps"])
OPS = st.sampled_from([OP, "GET /v1/threads/{id}"])
FINDINGS = st.sampled_from(["a", "b", "c"])


@st.composite
def raw_results(draw: st.DrawFn) -> CheckResult:
    outcome = draw(st.sampled_from(["passed", "failed", "not_applicable", "not_reached"]))
    vendor, check, operation = draw(NAMES), draw(CHECKS), draw(OPS)
    findings = draw(st.lists(FINDINGS, min_size=1, max_size=3, unique=True)) if outcome == "failed" else []
    failures = [
        replace(failure("Same title", check, f, vendor), id=failure_id(vendor, operation, check, f)) for f in findings
    ]
    return result(vendor=vendor, check=check, operation=operation, outcome=outcome, failures=tuple(failures))


@st.composite
def raw_runs(draw: st.DrawFn) -> RunResult:
    results = draw(st.lists(raw_results(), max_size=8, unique_by=lambda r: r.key))
    run = run_of(*results, vendors=tuple(sorted({r.vendor for r in results})))
    run.interrupted = draw(st.booleans())
    return run


@st.composite
def unexpired_entries(draw: st.DrawFn) -> Entry:
    vendor, operation, check = draw(st.sampled_from(["acme", "globex", "initech"])), draw(OPS), draw(CHECKS)
    fid = draw(st.just("*") | FINDINGS.map(lambda f: failure_id(vendor, operation, check, f)))
    return Entry(
        vendor=vendor,
        operation=operation,
        check=check,
        reason=draw(
            st.text(min_size=1, max_size=8).filter(str.strip).filter(lambda r: not r.upper().startswith("TODO"))
        ),
        id=fid,
        link=draw(st.none() | st.just("https://t.invalid/x")),
        expires=draw(st.none() | st.just(date(2099, 1, 1))),
    )


@PROPERTY
@given(run=raw_runs(), existing=st.lists(unexpired_entries(), max_size=5, unique_by=lambda e: e.identity))
def test_update_then_review_then_apply_accepts_every_failure(
    tmp_path: Path, run: RunResult, existing: list[Entry]
) -> None:
    path = tmp_path / "baseline.toml"
    write_baseline(path, existing)
    update_baseline(path, run, load_baseline(path))
    validate_file(path)
    # Once a human has written the reasons (see the next property for before), every failure is accepted.
    reviewed = [replace(e, reason="reviewed") if e.unreviewed else e for e in load_baseline(path)]
    out = apply_baseline(run, reviewed, today=TODAY)
    assert not out.failed, [(r.key, r.outcome, r.note) for r in out.results if r.outcome in ("failed", "stale")]
    assert all(f.accepted_reason for r in out.results for f in r.failures)


@PROPERTY
@given(run=raw_runs())
def test_an_unreviewed_update_never_passes_a_failing_run(tmp_path: Path, run: RunResult) -> None:
    path = tmp_path / "baseline.toml"
    path.unlink(missing_ok=True)  # tmp_path is shared by the examples
    update_baseline(path, run, [])
    out = apply_baseline(run, load_baseline(path), today=TODAY)
    assert out.failed == any(r.failures for r in run.results if r.outcome == "failed")


@PROPERTY
@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    expires=st.none() | st.dates(date(1, 1, 1), date(9999, 12, 31)),
)
def test_writer_round_trips_any_text(text: str, expires: date | None) -> None:
    original = Entry(vendor="v" + text, operation=text or "o", check="c", reason="r" + text, id="F-0123abcd",
                     description=text, link=text or None, expires=expires)  # fmt: skip
    raw = tomllib.loads(dumps_baseline([original]))
    (item,) = raw["entry"]
    assert item["description"] == text and item["vendor"] == "v" + text and item["reason"] == "r" + text
    assert item.get("expires") == (expires.isoformat() if expires else None)


def test_update_of_inline_entries_asks_for_tables(tmp_path: Path) -> None:
    text = f'entry = [{{id = "*", vendor = "acme", operation = "{OP}", check = "{CHECK}", reason = "r"}}]\n'
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=r"write its entries as \[\[entry\]\] tables"):
        update_baseline(path, run_of(result(titles=("A",))), load_baseline(path))
    assert path.read_text(encoding="utf-8") == text  # left alone
