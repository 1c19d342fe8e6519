"""Failure identity end to end: ids against mutants of the reference mock, the gate's hole closed, and the
finding keys of Schemathesis's failure classes (with the self-test of the one private reach, in compat)."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from schemathesis.core.failures import ServerError
from schemathesis.openapi.checks import (
    IgnoredAuth,
    JsonSchemaError,
    MissingHeaderNotRejected,
    MissingHeaders,
    UndefinedContentType,
    UndefinedStatusCode,
)

from conformance.baseline import TODO_REASON
from conformance.cli import main
from conformance.compat import schema_location
from conformance.identity import (
    broad_id,
    failure_id,
    finding_key,
    is_failure_id,
    property_pointer,
    property_pointers,
    rejection_cause,
    request_violations,
    required_properties,
)
from conformance.publish import publish
from conformance.publish.site import utc_stamp
from tests.suite_runner import ROOT, TOKEN, SuiteRun, mock_target, run_suite
from tests.test_workers import read_body, replaying

VENDOR = "seekrflow"
OP = "POST /v1/threads"
CHECK = "response_schema_conformance"
FIRST = "status-outside-enum"  # one schema violation
SECOND = "status-outside-enum-object-integer"  # the same one, and another under the same check and title
ENUM = "ST108 200 /components/schemas/ThreadStatus/enum"
OBJECT = "ST108 200 /components/schemas/Thread/properties/object/type"
FAST = ("--max-examples", "10", "-k", CHECK)


def suite(report_dir: Path, mutant: str, *args: str, seed: int = 1) -> SuiteRun:
    with mock_target([VENDOR], mutant=mutant) as target:
        return run_suite(report_dir, *FAST, *args, target=target, vendors=[VENDOR], seed=seed)


def schema_failures(run: SuiteRun) -> list[dict[str, Any]]:
    assert run.report is not None, run.stdout[-3000:] + run.stderr[-3000:]
    (result,) = [r for r in run.report["results"] if r["check"] == CHECK]
    failures: list[dict[str, Any]] = result["failures"]
    return failures


def compare(old: Path, new: Path, fmt: str = "text") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance.cli", "compare", str(old), str(new), "--format", fmt]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_two_schema_violations_under_one_check_and_title_are_two_failures_with_two_ids(tmp_path: Path) -> None:
    run = suite(tmp_path, SECOND)
    assert run.returncode == 1
    failures = schema_failures(run)
    assert {f["title"] for f in failures} == {"Response violates schema"}
    assert sorted(f["finding"] for f in failures) == sorted([ENUM, OBJECT])
    ids = {f["id"] for f in failures}
    assert ids == {failure_id(VENDOR, OP, CHECK, ENUM), failure_id(VENDOR, OP, CHECK, OBJECT)}
    assert all(is_failure_id(i) for i in ids)
    for failure_id_ in ids:  # every report names it
        assert failure_id_ in run.stdout
        assert failure_id_ in (tmp_path / "junit.xml").read_text()
        assert failure_id_ in (tmp_path / "summary.md").read_text()
        assert failure_id_ in (tmp_path / "conformance.html").read_text()


def test_the_same_defect_gives_the_same_id_on_every_seed_and_target(tmp_path: Path) -> None:
    ids = [{f["id"] for f in schema_failures(suite(tmp_path / str(seed), FIRST, seed=seed))} for seed in (1, 2, 3)]
    assert ids[0] == ids[1] == ids[2] == {failure_id(VENDOR, OP, CHECK, ENUM)}
    # The other mutant shows the same defect (and one more): the same id for it there.
    assert ids[0] < {f["id"] for f in schema_failures(suite(tmp_path / "second", SECOND, seed=4))}


def test_a_baseline_of_the_first_violation_fails_the_upgrade_on_the_second_and_compare_calls_it_a_regression(
    tmp_path: Path,
) -> None:
    baseline = tmp_path / "baseline.toml"
    old, new = tmp_path / "old", tmp_path / "new"
    suite(tmp_path / "update", FIRST, "--baseline", str(baseline), "--baseline-update")
    text = baseline.read_text(encoding="utf-8")
    enum_id, object_id = failure_id(VENDOR, OP, CHECK, ENUM), failure_id(VENDOR, OP, CHECK, OBJECT)
    assert f'id = "{enum_id}"' in text and ENUM in text and "*" not in text.split("version")[1]

    # Written by update, not yet reviewed: an unreviewed entry does not pass the gate.
    unreviewed = suite(tmp_path / "unreviewed", FIRST, "--baseline", str(baseline))
    assert unreviewed.returncode == 1 and "unreviewed baseline entry" in unreviewed.stdout

    baseline.write_text(text.replace(TODO_REASON, "status 'deleted' ships in v6; vendor ticket SEEKR-9"))
    accepted = suite(old, FIRST, "--baseline", str(baseline))
    assert accepted.returncode == 0, accepted.stdout[-3000:]
    assert accepted.outcomes(VENDOR)[CHECK] == "accepted"

    upgraded = suite(new, SECOND, "--baseline", str(baseline))
    assert upgraded.returncode == 1
    assert upgraded.outcomes(VENDOR)[CHECK] == "failed"
    assert f"not accepted by any baseline entry: {object_id}" in upgraded.stdout  # it names itself
    by_id = {f["id"]: f for f in schema_failures(upgraded)}
    assert by_id[enum_id]["accepted_reason"] and by_id[object_id]["accepted_reason"] is None

    gate = compare(old / "conformance.json", new / "conformance.json")
    assert gate.returncode == 1, gate.stdout
    regressions = gate.stdout.split("Regressions (1):")[1].split("\n\n")[0]
    assert f"+ {object_id} Response violates schema ({OBJECT})" in regressions
    assert "reproduce: curl -X POST" in regressions and enum_id not in regressions.split("reproduce")[0]
    markdown = compare(old / "conformance.json", new / "conformance.json", "markdown").stdout
    assert markdown.index("## Regressions") < markdown.index("```sh") and f"**new:** {object_id}" in markdown

    # Without any baseline too: the check failed before and fails now, but with a new id.
    plain_old, plain_new = suite(tmp_path / "plain-old", FIRST), suite(tmp_path / "plain-new", SECOND)
    assert plain_old.returncode == plain_new.returncode == 1
    data = json.loads(
        compare(plain_old.report_dir / "conformance.json", plain_new.report_dir / "conformance.json", "json").stdout
    )
    ((regression,),) = [data["regressions"]]
    assert (regression["check"], regression["appeared_ids"], regression["stayed_ids"]) == (
        CHECK,
        [object_id],
        [enum_id],
    )


# --- an accepted invalid request: keyed by what made it invalid ------------------------------------------------

NEGATIVE = "negative_data_rejection"
ANDIBASE_OP = "POST /api/v1/channels/{channelId}/threads"
UNKNOWN_ENUM = "ST201 201 body /properties/status/enum"  # accepts-unknown-enum: an unknown status is accepted
NULL_STATUS = "ST201 201 body /properties/status/enum,/properties/status/type"  # accepts-null: status null too


def negative_run(report_dir: Path, mutant: str, *args: str, seed: int = 1) -> SuiteRun:
    with mock_target(["andibase"], mutant=mutant) as target:
        return run_suite(
            report_dir, "--max-examples", "30", "-k", NEGATIVE, *args, target=target, vendors=["andibase"], seed=seed
        )


def negative_failures(run: SuiteRun) -> list[dict[str, Any]]:
    assert run.report is not None, run.stdout[-3000:] + run.stderr[-3000:]
    (result,) = [r for r in run.report["results"] if r["check"] == NEGATIVE]
    failures: list[dict[str, Any]] = result["failures"]
    return failures


def test_a_baseline_of_one_accepted_invalid_input_does_not_accept_another(tmp_path: Path) -> None:
    """The hole this closes: keyed by code and status only, an accepted unknown status accepted every
    invalid input a later version lets through with the same status."""
    baseline = tmp_path / "baseline.toml"
    negative_run(tmp_path / "update", "accepts-unknown-enum", "--baseline", str(baseline), "--baseline-update")
    enum_id = failure_id("andibase", ANDIBASE_OP, NEGATIVE, UNKNOWN_ENUM)
    text = baseline.read_text(encoding="utf-8")
    assert f'id = "{enum_id}"' in text and UNKNOWN_ENUM in text
    baseline.write_text(text.replace(TODO_REASON, "unknown statuses are stored as open; ticket ANDI-3"))
    for seed in (1, 2):  # the same defect, the same id on another seed
        accepted = negative_run(tmp_path / f"old{seed}", "accepts-unknown-enum", "--baseline", str(baseline), seed=seed)
        assert accepted.returncode == 0, accepted.stdout[-3000:]
        assert accepted.outcomes("andibase")[NEGATIVE] == "accepted"

    upgraded = negative_run(tmp_path / "new", "accepts-null", "--baseline", str(baseline))
    assert upgraded.returncode == 1, upgraded.stdout[-3000:]
    assert upgraded.outcomes("andibase")[NEGATIVE] == "failed"
    null_id = failure_id("andibase", ANDIBASE_OP, NEGATIVE, NULL_STATUS)
    assert [(f["id"], f["finding"]) for f in negative_failures(upgraded)] == [(null_id, NULL_STATUS)]
    assert f"not accepted by any baseline entry: {null_id}" in upgraded.stdout
    gate = compare(tmp_path / "old1" / "conformance.json", tmp_path / "new" / "conformance.json")
    assert gate.returncode == 1 and f"+ {null_id}" in gate.stdout, gate.stdout


def test_an_entry_of_an_earlier_broad_id_still_accepts_and_asks_to_be_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broad = failure_id("andibase", ANDIBASE_OP, NEGATIVE, "ST201 201")
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(
        f'version = 2\n\n[[entry]]\nid = "{broad}"\nvendor = "andibase"\noperation = "{ANDIBASE_OP}"\n'
        f'check = "{NEGATIVE}"\nreason = "accepted before ids were narrowed"\n',
        encoding="utf-8",
    )
    run = negative_run(tmp_path / "run", "accepts-unknown-enum", "--baseline", str(baseline))
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.report is not None
    (result,) = [r for r in run.report["results"] if r["check"] == NEGATIVE]
    assert result["outcome"] == "accepted"
    enum_id = failure_id("andibase", ANDIBASE_OP, NEGATIVE, UNKNOWN_ENUM)
    assert "as earlier versions of thread-conformance did" in result["note"]
    assert f"own ids ({enum_id}): --baseline-update does, marked TODO for review" in result["note"]

    # A report of an earlier version keyed the failure broadly: compared with a newer one at that granularity, the
    # same defect is no regression.
    old = json.loads((tmp_path / "run" / "conformance.json").read_text())
    for entry in old["results"]:
        for failure in entry["failures"]:
            if entry["check"] == NEGATIVE:
                failure["id"], failure["finding"], failure["accepted_reason"] = broad, "ST201 201", None
        if entry["check"] == NEGATIVE:
            entry["outcome"], entry["note"] = "failed", None
    (tmp_path / "old.json").write_text(json.dumps(old))
    plain = negative_run(tmp_path / "plain", "accepts-unknown-enum")
    assert plain.returncode == 1
    same = compare(tmp_path / "old.json", tmp_path / "plain" / "conformance.json", "json")
    assert same.returncode == 0, same.stdout
    assert json.loads(same.stdout)["regressions"] == []
    # ...and replaying it finds it under its narrower id: it still reproduces.
    monkeypatch.setenv("CONFORMANCE_TOKEN", TOKEN)
    with mock_target(["andibase"], mutant="accepts-unknown-enum") as target:
        replayed = main(["replay", str(tmp_path / "old.json"), "--failure", broad, "--target-url", target])
    assert replayed == 1

    # --baseline-update replaces the broad entry by the failures' own ids, for review: it may have accepted an
    # input nobody looked at.
    negative_run(tmp_path / "update", "accepts-unknown-enum", "--baseline", str(baseline), "--baseline-update")
    text = baseline.read_text(encoding="utf-8")
    assert f'id = "{broad}"' not in text and f'id = "{enum_id}"' in text, text
    assert f"TODO (was accepted by the broad id {broad}): accepted before ids were narrowed" in text
    unreviewed = negative_run(tmp_path / "after", "accepts-unknown-enum", "--baseline", str(baseline))
    assert unreviewed.returncode == 1 and "its reason is still the TODO placeholder" in unreviewed.stdout
    baseline.write_text(text.replace("TODO (was accepted by the broad id", "reviewed (was accepted by the broad id"))
    reviewed = negative_run(tmp_path / "reviewed", "accepts-unknown-enum", "--baseline", str(baseline))
    assert reviewed.returncode == 0, reviewed.stdout[-3000:]


def test_a_published_site_continues_a_broad_id_under_its_narrower_ids(tmp_path: Path) -> None:
    """Upgrading re-keys an open failure; the site's history and feed must not call it fixed and new."""
    broad = failure_id("andibase", ANDIBASE_OP, NEGATIVE, "ST201 201")
    enum_id = failure_id("andibase", ANDIBASE_OP, NEGATIVE, UNKNOWN_ENUM)
    args = ("--max-examples", "30", "-k", NEGATIVE)
    with mock_target(["andibase"], mutant="accepts-unknown-enum") as target:  # one target: one series on the site
        old = run_suite(tmp_path / "old", *args, target=target, vendors=["andibase"])
        new = run_suite(tmp_path / "new", *args, target=target, vendors=["andibase"], seed=2)
    assert old.report is not None and [f["id"] for f in negative_failures(new)] == [enum_id]
    for result in old.report["results"]:  # as an earlier version wrote it
        for failure in result["failures"]:
            if result["check"] == NEGATIVE:
                failure["id"], failure["finding"] = broad, "ST201 201"
    (tmp_path / "old.json").write_text(json.dumps(old.report), encoding="utf-8")

    publish([tmp_path / "old.json", new.report_dir / "conformance.json"], tmp_path / "site")
    index = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    lives = {x["id"]: x for x in index["failures"] if x["check"] == NEGATIVE}
    assert list(lives) == [enum_id], lives
    assert lives[enum_id]["first_seen"] == utc_stamp(old.report["started_at"])
    assert (lives[enum_id]["runs_seen"], lives[enum_id]["fixed"], lives[enum_id]["reopened"]) == (2, None, 0)
    news = [(c["kind"], c["failure_id"]) for c in index["changes"] if c["check"] == NEGATIVE]
    assert news == [("new-failure", broad)], news  # once, when it appeared; no "fixed", no second "new"
    (record,) = [f for r in index["runs"][1]["vendors"][0]["checks"] if r["check"] == NEGATIVE for f in r["failures"]]
    assert record["broad_id"] == broad
    # The same, one run at a time: the newer run added to a site the older one made (its records read back).
    publish([tmp_path / "old.json"], tmp_path / "grown")
    publish([new.report_dir / "conformance.json"], tmp_path / "grown")
    grown = json.loads((tmp_path / "grown" / "index.json").read_text(encoding="utf-8"))
    assert (grown["failures"], grown["changes"]) == (index["failures"], index["changes"])


def test_a_body_schema_that_cannot_be_checked_keys_the_body_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jsonschema

    from conformance import engine

    monkeypatch.setattr(
        engine, "body_validator", lambda schema, spec: jsonschema.Draft202012Validator({"properties": 5})
    )
    run = negative_run(tmp_path, "accepts-unknown-enum")
    assert [f["finding"] for f in negative_failures(run)] == ["ST201 201 body"]


def test_an_error_of_ours_keying_an_accepted_invalid_request_is_ours_not_a_wrong_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.engine import VendorRunner

    def broken(self: Any, case: Any) -> str:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(VendorRunner, "invalid_parts", broken)
    run = negative_run(tmp_path, "accepts-unknown-enum")
    assert run.returncode == 1
    assert run.outcomes("andibase")[NEGATIVE] == "not_judged"  # not the vendor's failure, and not hidden
    assert {f["title"] for f in negative_failures(run)} == {"Could not judge: the check raised RuntimeError"}


def test_request_violations_name_constraints_never_values() -> None:
    import jsonschema

    schema = {
        "type": "object",
        "required": ["name", "kind"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "kind": {"enum": ["a", "b"]}, "id": {"format": "uuid"}},
    }
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    body = {"kind": "secret-value", "id": "not-a-uuid", "zz": 1}
    assert request_violations(validator.iter_errors(body)) == (
        "body /additionalProperties zz,/properties/id/format,/properties/kind/enum,/required name"
    )
    assert request_violations(validator.iter_errors({"name": "x", "kind": "a"})) == "body"
    broad = failure_id("v", "o", NEGATIVE, "ST201 200")
    assert broad_id("v", "o", NEGATIVE, "ST201 200 body /properties/id/format") == broad
    assert broad_id("v", "o", CHECK, "ST108 200 /properties/id/type") is None


# --- a rejected valid request: keyed by what the target rejects -----------------------------------------------------

POSITIVE = "positive_data_acceptance"
WATSONX_CONTEXT = "ST202 422 body /properties/context"  # rejects-nested-object: a non-empty context is refused
WATSONX_UNDECLARED = "ST202 422 body /additionalProperties"  # ...and so is a non-empty object under any other key
WATSONX_TITLE = "ST202 422 body /properties/title"  # rejects-long-title: a title over 32 characters is refused


def positive_run(report_dir: Path, vendor: str, mutant: str, *args: str, seed: int = 1) -> SuiteRun:
    with mock_target([vendor], mutant=mutant) as target:
        return run_suite(report_dir, "-k", POSITIVE, *args, target=target, vendors=[vendor], seed=seed)


def findings(run: SuiteRun, check: str) -> set[str]:
    assert run.report is not None, run.stdout[-3000:] + run.stderr[-3000:]
    return {f["finding"] for r in run.report["results"] if r["check"] == check for f in r["failures"]}


@pytest.mark.parametrize(
    ("vendor", "expected"),
    [
        ("seekrflow", {"ST202 422 body /additionalProperties", "ST202 422 body /properties/meta_data"}),
        ("watsonx", {WATSONX_UNDECLARED, WATSONX_CONTEXT}),
        # The run's own conflict probes repeat a thread_id with a non-empty metadata: sent again without it,
        # the documented 409 to an id the run created is no rejection, so it is the metadata, not the thread_id.
        (
            "langgraph",
            {
                "ST202 422 body /additionalProperties",
                "ST202 422 body /properties/metadata",
                "ST202 422 body /properties/ttl",
            },
        ),
    ],
)
def test_a_rejected_valid_request_is_keyed_by_what_the_target_rejects(
    tmp_path: Path, vendor: str, expected: set[str]
) -> None:
    run = positive_run(tmp_path, vendor, "rejects-nested-object")
    assert run.returncode == 1, run.stdout[-3000:]
    assert findings(run, POSITIVE) == expected


def test_an_entry_for_a_cause_this_seed_did_not_exercise_is_not_stale_while_the_defect_shows(tmp_path: Path) -> None:
    """A run against an unchanged vendor must not fail: on seed 4 no valid watsonx case puts a non-empty object
    under an undeclared key, so that cause of rejects-nested-object does not show, though the defect does."""
    baseline = tmp_path / "baseline.toml"
    nested, gate = "rejects-nested-object", ("--baseline", str(baseline))
    positive_run(tmp_path / "update", "watsonx", nested, *gate, "--baseline-update")
    baseline.write_text(baseline.read_text(encoding="utf-8").replace(TODO_REASON, "objects are refused; ticket WX-9"))
    run = positive_run(tmp_path / "seed4", "watsonx", nested, *gate, seed=4)
    assert findings(run, POSITIVE) == {WATSONX_CONTEXT}  # the premise: one cause not exercised on this seed
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.report is not None
    (result,) = [r for r in run.report["results"] if r["check"] == POSITIVE]
    undeclared = failure_id("watsonx", OP, POSITIVE, WATSONX_UNDECLARED)
    assert (
        result["outcome"] == "accepted"
        and f"id {undeclared}" in result["note"]
        and "not seen on this run" in (result["note"])
    )
    # compare says a new failure of such a check may come from the other seed, and how to tell.
    first = tmp_path / "update" / "conformance.json"
    text = compare(run.report_dir / "conformance.json", first).stdout
    assert f"+ {undeclared}" in text and "the runs used different seeds (4, 1)" in text, text
    assert "run the old build again with --seed 1" in text
    assert "different seeds" not in compare(first, first).stdout

    # ...and --baseline-update on that seed keeps the entry.
    positive_run(tmp_path / "kept", "watsonx", nested, *gate, "--baseline-update", seed=4)
    assert f'id = "{undeclared}"' in baseline.read_text(encoding="utf-8")
    # Once the check fails no more, the entries are stale: the defect is gone.
    with mock_target(["watsonx"]) as target:
        fixed = run_suite(tmp_path / "fixed", "-k", POSITIVE, *gate, target=target, vendors=["watsonx"])
    assert fixed.returncode == 1 and fixed.outcomes("watsonx")[POSITIVE] == "stale", fixed.stdout[-3000:]


def test_a_baseline_of_one_rejected_valid_input_does_not_accept_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyed by code and status only, accepting a vendor's refusal of non-empty objects accepted a later refusal
    of long titles."""
    baseline = tmp_path / "baseline.toml"
    positive_run(
        tmp_path / "update", "watsonx", "rejects-nested-object", "--baseline", str(baseline), "--baseline-update"
    )
    text = baseline.read_text(encoding="utf-8")
    assert text.count("[[entry]]") == 2 and WATSONX_CONTEXT in text and WATSONX_UNDECLARED in text
    baseline.write_text(text.replace(TODO_REASON, "objects are refused; ticket WX-9"))
    for seed in (1, 2):  # the same defect, the same ids on another seed
        run = positive_run(
            tmp_path / f"old{seed}", "watsonx", "rejects-nested-object", "--baseline", str(baseline), seed=seed
        )
        assert run.returncode == 0, run.stdout[-3000:]
        assert run.outcomes("watsonx")[POSITIVE] == "accepted"

    upgraded = positive_run(tmp_path / "new", "watsonx", "rejects-long-title", "--baseline", str(baseline))
    assert upgraded.returncode == 1, upgraded.stdout[-3000:]
    title_id = failure_id("watsonx", OP, POSITIVE, WATSONX_TITLE)
    assert findings(upgraded, POSITIVE) == {WATSONX_TITLE}
    assert f"not accepted by any baseline entry: {title_id}" in upgraded.stdout
    # Replay takes the recorded request apart the same way: it reproduces where titles are refused, not elsewhere.
    monkeypatch.setenv("CONFORMANCE_TOKEN", TOKEN)
    report = str(upgraded.report_dir / "conformance.json")
    for mutant, expected in (("rejects-long-title", 1), ("rejects-nested-object", 0), (None, 0)):
        with mock_target(["watsonx"], mutant=mutant) as target:
            assert main(["replay", report, "--failure", title_id, "--target-url", target]) == expected, mutant
    # An entry of the broad id earlier versions gave it still accepts it, and says so.
    broad = failure_id("watsonx", OP, POSITIVE, "ST202 422")
    assert broad_id("watsonx", OP, POSITIVE, WATSONX_TITLE) == broad
    baseline.write_text(
        f'version = 2\n\n[[entry]]\nid = "{broad}"\nvendor = "watsonx"\noperation = "{OP}"\n'
        f'check = "{POSITIVE}"\nreason = "accepted before ids were narrowed"\n',
        encoding="utf-8",
    )
    legacy = positive_run(tmp_path / "legacy", "watsonx", "rejects-long-title", "--baseline", str(baseline))
    assert legacy.returncode == 0, legacy.stdout[-3000:]
    assert legacy.report is not None
    (result,) = [r for r in legacy.report["results"] if r["check"] == POSITIVE]
    assert result["outcome"] == "accepted" and f"own ids ({title_id})" in result["note"], result


class CrashesOnANonStringTitle:
    """ASGI wrapper: a 500 (text/plain) to a request whose body has a `title` that is not a string, an invalid
    request, before the mock looks at it: a vendor whose validation crashes on a wrong type."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            sent = json.loads(body)
        except ValueError:
            sent = None
        if isinstance(sent, dict) and "title" in sent and not isinstance(sent["title"], str):
            headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": b"crash"})
            return
        await self.app(scope, replaying(body, receive), send)


def test_a_baseline_of_one_crash_does_not_accept_another(tmp_path: Path) -> None:
    """Keyed by code and status only (`ST101 500`), accepting that a vendor crashes on empty strings accepted any
    later crash, here on a title of the wrong type."""
    baseline = tmp_path / "baseline.toml"
    args = ("-k", "not_a_server_error or status_code_conformance or positive_data_acceptance")

    def run(name: str, mutant: str | None, wrap: Any = None, *more: str) -> SuiteRun:
        with mock_target(["watsonx"], mutant=mutant, wrap=wrap) as target:
            return run_suite(tmp_path / name, *args, *more, target=target, vendors=["watsonx"])

    run("update", "crash-on-empty-string", None, "--baseline", str(baseline), "--baseline-update")
    text = baseline.read_text(encoding="utf-8")
    assert "ST101 500 body /properties/title" in text and "ST101 500 invalid" not in text, text
    baseline.write_text(text.replace(TODO_REASON, "empty strings crash it; ticket WX-12"))
    accepted = run("old", "crash-on-empty-string", None, "--baseline", str(baseline))
    assert accepted.returncode == 0, accepted.stdout[-3000:]

    upgraded = run("new", None, CrashesOnANonStringTitle, "--baseline", str(baseline))
    assert upgraded.returncode == 1, upgraded.stdout[-3000:]
    crash = "ST101 500 invalid body /properties/title/type"
    assert findings(upgraded, "not_a_server_error") == {crash}
    assert f"not accepted by any baseline entry: {failure_id('watsonx', OP, 'not_a_server_error', crash)}" in (
        upgraded.stdout
    )


def test_a_rejected_body_too_deep_to_take_apart_is_keyed_by_the_body_not_judged_by_us(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance import engine

    def too_deep(schema: Any, name: str) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(engine, "property_pointer", too_deep)
    run = positive_run(tmp_path, "watsonx", "rejects-nested-object")
    assert run.outcomes("watsonx")[POSITIVE] == "failed", run.stdout[-3000:]
    assert findings(run, POSITIVE) == {"ST202 422 body"}


class AnswersWith:
    """ASGI wrapper: the mock's answer, with `status` where `when(body)` holds (a vendor whose success status
    depends on what the request holds)."""

    def __init__(self, app: Any, status: int, when: Callable[[Any], bool]) -> None:
        self.app, self.status, self.when = app, status, when

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            hit = self.when(json.loads(body))
        except ValueError:
            hit = False

        async def answer(message: dict[str, Any]) -> None:
            if hit and message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                message = {**message, "status": self.status}
            await send(message)

        await self.app(scope, replaying(body, receive), answer)


def test_a_baseline_of_one_undocumented_status_does_not_accept_it_for_another_cause(tmp_path: Path) -> None:
    """Keyed by code and status only (`ST103 201`), LangGraph's accepted "supersteps answered 201" accepted any
    later 201; here watsonx (documented: 200) answers 201 to a non-empty context, then to a long title."""
    baseline, check = tmp_path / "baseline.toml", "status_code_conformance"

    def run(name: str, when: Callable[[Any], bool], *more: str) -> SuiteRun:
        wrap = functools.partial(AnswersWith, status=201, when=when)
        with mock_target(["watsonx"], wrap=wrap) as target:
            return run_suite(
                tmp_path / name, "-k", check, "--baseline", str(baseline), *more, target=target, vendors=["watsonx"]
            )

    def context(body: Any) -> bool:
        return isinstance(body, dict) and isinstance(body.get("context"), dict) and bool(body["context"])

    def long_title(body: Any) -> bool:
        return isinstance(body, dict) and isinstance(body.get("title"), str) and len(body["title"]) > 32

    run("update", context, "--baseline-update")
    text = baseline.read_text(encoding="utf-8")
    assert "ST103 201 body /properties/context" in text, text
    baseline.write_text(text.replace(TODO_REASON, "201 to a context; ticket WX-14"))
    assert run("old", context).returncode == 0
    upgraded = run("new", long_title)
    assert upgraded.returncode == 1, upgraded.stdout[-3000:]
    assert findings(upgraded, check) == {"ST103 201 body /properties/title"}


def test_property_pointers_name_where_a_property_is_declared_never_a_generated_name() -> None:
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "a/b": {}},
        "patternProperties": {"^x-": {}},
        "allOf": [{"required": ["kind"], "properties": {"kind": {}}}],
        "anyOf": [{"properties": {"extra": {}}}],
    }
    assert property_pointer(schema, "name") == "/properties/name"
    assert property_pointer(schema, "a/b") == "/properties/a~1b"
    assert property_pointer(schema, "x-trace") == "/patternProperties/^x-"
    assert property_pointer(schema, "kind") == "/allOf/0/properties/kind"
    assert property_pointer(schema, "extra") == "/anyOf/0/properties/extra"
    assert property_pointer(schema, "zq\u00e9\ud83d") == "/additionalProperties"
    assert property_pointers(schema) == {
        "/additionalProperties",
        "/properties/name",
        "/properties/a~1b",
        "/patternProperties/^x-",
        "/allOf/0/properties/kind",
        "/anyOf/0/properties/extra",
    }
    assert required_properties(schema) == {"name", "kind"}
    assert rejection_cause("/patternProperties/^x-") == "body /patternProperties/^x-"
    assert (rejection_cause(), rejection_cause(content=True)) == ("request", "body")


# --- finding keys of Schemathesis's failures, from their public attributes ------------------------------------


def _schema_error(path_schema: dict[str, Any], instance: Any, name_to_uri: dict[str, str]) -> JsonSchemaError:
    (error,) = list(jsonschema_rs.validator_for(path_schema).iter_errors(instance))
    return JsonSchemaError.from_exception(
        operation=OP, exc=error, root_schema=path_schema, name_to_uri=name_to_uri, context=None
    )


def test_compat_unbundles_the_schema_path_of_a_schema_error() -> None:
    # Fails loudly when Schemathesis renames the private slot or changes how bundles are named.
    bundled = {
        "$ref": "#/x-bundled/schema000001",
        "x-bundled": {"schema000001": {"type": "object", "properties": {"status": {"enum": ["a", "b"]}}}},
    }
    failure = _schema_error(bundled, {"status": "c"}, {"schema000001": "urn:x#/components/schemas/Thread"})
    assert list(failure.schema_path)[:2] == ["x-bundled", "schema000001"]
    assert hasattr(failure, "_name_to_uri")
    assert schema_location(failure) == ["components", "schemas", "Thread", "properties", "status", "enum"]
    assert finding_key(failure, 201) == "ST108 201 /components/schemas/Thread/properties/status/enum"


@pytest.mark.parametrize(
    ("failure", "status", "key"),
    [
        (
            UndefinedStatusCode(
                operation=OP, status_code=418, defined_status_codes=["200"], allowed_status_codes=[200], message="m"
            ),
            418,
            "ST103 418",
        ),
        (ServerError(operation=OP, status_code=502), 502, "ST101 502"),
        (
            UndefinedContentType(
                operation=OP, content_type="Text/Plain; charset=utf-8", defined_content_types=[], message="m"
            ),
            200,
            "ST105 200 text/plain",
        ),
        (MissingHeaders(operation=OP, missing_headers=["X-B", "X-A"], message="m"), 200, "ST107 200 x-a,x-b"),
        (
            MissingHeaderNotRejected(
                operation=OP, header_name="Authorization", status_code=200, expected_statuses=[401], message="m"
            ),
            200,
            "ST203 200 authorization",
        ),
    ],
)
def test_finding_keys_name_what_makes_a_failure_distinct(failure: Any, status: int, key: str) -> None:
    assert finding_key(failure, status) == key


def test_ignored_auth_scenarios_are_distinct_findings() -> None:
    from schemathesis.openapi.checks import AuthScenario

    keys = {finding_key(IgnoredAuth(operation=OP, message="m", scenario=s), 200) for s in AuthScenario}
    assert len(keys) == len(AuthScenario)


def test_a_server_chosen_detail_is_bounded_and_one_line() -> None:
    failure = UndefinedContentType(
        operation=OP, content_type="x/" + "y\n" * 1000, defined_content_types=[], message="m"
    )
    key = finding_key(failure, 200)
    assert "\n" not in key and len(key) < 250


def test_ids_are_short_and_differ_by_every_part() -> None:
    base = failure_id("v", "op", "c", "f")
    assert is_failure_id(base) and len(base) == 10
    assert len({base, failure_id("w", "op", "c", "f"), failure_id("v", "op2", "c", "f"),
                failure_id("v", "op", "d", "f"), failure_id("v", "op", "c", "g")}) == 5  # fmt: skip


def test_a_second_missing_required_field_is_a_different_finding() -> None:
    schema = {"type": "object", "required": ["id", "title"], "additionalProperties": False, "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}}}  # fmt: skip
    one = _schema_error(schema, {"title": "t"}, {})
    assert finding_key(one, 201) == "ST108 201 /required id"
    both = [
        JsonSchemaError.from_exception(operation=OP, exc=e, root_schema=schema, name_to_uri={}, context=None)
        for e in jsonschema_rs.validator_for(schema).iter_errors({})
    ]
    assert {finding_key(f, 201) for f in both} == {"ST108 201 /required id,title"}
    errors = list(jsonschema_rs.validator_for(schema).iter_errors({"extra": 1, "id": "x", "title": "t"}))
    (extra,) = [
        JsonSchemaError.from_exception(operation=OP, exc=e, root_schema=schema, name_to_uri={}, context=None)
        for e in errors
    ]
    assert finding_key(extra, 201) == "ST108 201 /additionalProperties extra"
