"""`junit.xml`: one testsuite per vendor, one testcase per operation x check, for CI test tabs.

Written with junitparser and kept valid against the Jenkins JUnit XSD (jenkins-junit.xsd), the
schema most CI servers read. That schema gives `<skipped>` no attributes, so the reason of a skipped
case (accepted, not applicable, not reached) is its text, and `<testsuites>` carries no `skipped` count.
"""

from __future__ import annotations

import re
from typing import Any
from xml.dom import minidom

import junitparser as _junitparser

from conformance.redact import redact
from conformance.reports._common import (
    accepted_reasons,
    failure_summary,
    format_request,
    format_response,
    redacted_run,
    vendor_runs,
)
from conformance.results import CheckResult, Failure, RunResult, VendorRun

# junitparser's own annotations are partial (untyped functions); use it through Any rather than
# scatter ignores that depend on its version.
jp: Any = _junitparser

FILENAME = "junit.xml"
STALE_MESSAGE = "stale baseline entry, remove it"
# XML 1.0 cannot carry most control characters, not even escaped; a response body may contain them.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    """A string safe for an XML 1.0 attribute or text node, secrets removed."""
    return _XML_ILLEGAL.sub("\ufffd", redact(str(value)))


def testcase_name(result: CheckResult) -> str:
    return f"{result.operation}::{result.check}"


def _failure_block(index: int, failure: Failure, seed: int | None) -> str:
    head = f"--- failure {index}: {failure.id + ' ' if failure.id else ''}{failure.title}"
    lines = [head] + ([f"finding: {failure.finding}"] if failure.finding else []) + [failure.message]
    context = ", ".join(
        f"{k}: {v}" for k, v in (("phase", failure.phase), ("generation mode", failure.generation_mode)) if v
    )
    if context:
        lines.append(context)
    if failure.label:
        lines.append(f"confirmation: {failure.label}")
    if failure.accepted_reason:
        link = f" ({failure.accepted_link})" if failure.accepted_link else ""
        lines.append(f"accepted: {failure.accepted_reason}{link}")
    lines += ["", "Request:", format_request(failure.exchange), "", "Response:", format_response(failure.exchange)]
    if failure.confirmation_exchange is not None:
        lines += ["", "Response to the re-send:", format_response(failure.confirmation_exchange)]
    lines += ["", "Reproduce with:", failure.curl or "(no curl recorded)"]
    if failure.shrunk_curl or failure.shrink_note:
        cost = f" ({failure.shrink_requests} requests)" if failure.shrink_requests is not None else ""
        lines += ["", f"Shrunk{cost}:", failure.shrunk_curl or "(none)"] + (
            [failure.shrink_note] if failure.shrink_note else []
        )
    if seed is not None:
        lines += [f"or rerun the suite with --seed {seed}"]
    return "\n".join(lines)


def _failure_text(result: CheckResult, seed: int | None) -> str:
    blocks = [_failure_block(i, f, seed) for i, f in enumerate(result.failures, 1)]
    if result.note:
        blocks.insert(0, f"note: {result.note}")
    return "\n\n".join(blocks)


def _testcase(result: CheckResult, seed: int | None, seconds: float) -> Any:
    case = jp.TestCase(name=_text(testcase_name(result)), classname=_text(result.vendor), time=seconds)
    outcome = result.outcome
    if outcome == "failed":
        ids = [f.id for f in result.failures if f.id and not f.accepted_reason]
        message = failure_summary(result) + (f" [{', '.join(ids)}]" if ids else "")
        failure = jp.Failure(message=_text(message), type_=_text(result.check))
        failure.text = _text(_failure_text(result, seed))
        case.result = [failure]
    elif outcome == "stale":
        failure = jp.Failure(message=STALE_MESSAGE, type_="stale")
        failure.text = _text(result.note or "a baseline or known-deviation entry for this check no longer reproduces")
        case.result = [failure]
    elif outcome == "not_judged":  # our check could not judge: a JUnit error, not a failure of the vendor
        error = jp.Error(message=_text(failure_summary(result)), type_="not_judged")
        error.text = _text(_failure_text(result, seed))
        case.result = [error]
    elif outcome in ("accepted", "not_applicable", "not_reached"):
        skipped = jp.Skipped()
        skipped.text = _text(_skip_message(result))
        case.result = [skipped]
    if outcome == "accepted" and result.failures:
        # Accepted failures stay visible: the deviation is known, not gone.
        case.system_out = _text(_failure_text(result, seed))
    return case


def _time_shares(vendor: VendorRun, results: list[CheckResult]) -> dict[str, float]:
    """Per operation, each of its checks' share of the operation's run time.

    All checks of an operation judge the same cases in one run, so each gets an equal share: the
    testcase times then add up to the time the run really took.
    """
    counts: dict[str, int] = {}
    for result in results:
        counts[result.operation] = counts.get(result.operation, 0) + 1
    return {
        operation: round(seconds / counts[operation], 3)
        for operation, seconds in vendor.operation_seconds.items()
        if counts.get(operation)
    }


def _skip_message(result: CheckResult) -> str:
    if result.outcome == "accepted":
        reasons = accepted_reasons(result) or [result.note or "baseline"]
        return "accepted: " + "; ".join(reasons)
    if result.outcome == "not_applicable":
        return "not applicable: " + (result.note or "no generated case could be judged by this check")
    return "not reached: " + (result.note or "the run ended before this check ran")


def _properties(run: RunResult, vendor: VendorRun) -> list[tuple[str, str]]:
    props = [
        ("vendor", vendor.vendor),
        ("vendor_display_name", vendor.display_name),
        ("spec_title", vendor.spec_title),
        ("spec_version", vendor.spec_version),
        ("target_url", vendor.target_url),
        ("seed", "none" if run.seed is None else str(run.seed)),
        ("tool_version", run.tool_version),
        ("schemathesis_version", run.schemathesis_version),
        ("cases", str(vendor.cases)),
    ]
    if run.interrupted:
        props.append(("interrupted", "true"))
    if run.budget_exhausted:
        props.append(("budget_exhausted", "true"))
    props += [("warning", w) for w in run.warnings]
    return props


def build(run: RunResult) -> Any:
    """The junitparser JUnitXml document for `run`."""
    run = redacted_run(run)
    xml = jp.JUnitXml(name="thread-conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    time = 0.0
    for vendor in vendor_runs(run):
        suite = jp.TestSuite(name=_text(vendor.vendor))
        suite.timestamp = _text(run.started_at)
        # Properties first: the XSD wants properties, then testcases, then system-out/err.
        for name, value in _properties(run, vendor):
            suite.add_property(name, _text(value))
        results = run.results_for(vendor.vendor)
        shares = _time_shares(vendor, results)
        suite.add_testcases([_testcase(r, run.seed, shares.get(r.operation, 0.0)) for r in results])
        suite.time = round(sum(shares.get(r.operation, 0.0) for r in results), 3)
        if run.interrupted or run.budget_exhausted:
            why = "interrupted" if run.interrupted else "budget exhausted"
            # junitparser < 4 does not export SystemErr at the top level; its module has it in every version.
            suite.append(jp.junitparser.SystemErr(_text(f"run {why}: results are partial")))
        totals["tests"] += suite.tests
        totals["failures"] += suite.failures
        totals["errors"] += suite.errors
        time += suite.time or 0.0
        xml.add_testsuite(suite)
    # Set by hand: JUnitXml.update_statistics() would add a `skipped` attribute the XSD forbids here.
    xml.tests = totals["tests"]
    xml.failures = totals["failures"]
    xml.errors = totals["errors"]
    xml.time = round(time, 3)
    return xml


def render_junit(run: RunResult) -> str:
    """junit.xml for `run`, as text."""
    # Pretty-printed the way junitparser's own write(pretty=True) does, which only takes a file path
    # before junitparser 4.
    document = minidom.parseString(build(run).tostring())
    return redact(document.toprettyxml(indent="\t", encoding="utf-8").decode("utf-8"))
