"""Self-tests of the report writers (conformance.reports): shape, validity, redaction, atomicity, browser.

Snapshots live in tests/snapshots/reports/; regenerate them with `UPDATE_SNAPSHOTS=1 pytest tests/test_reports.py`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import reports
from conformance.errors import UsageError
from conformance.identity import failure_id
from conformance.redact import REDACTED, clear_secrets, register_secret
from conformance.reportcli import run_report
from conformance.reports import _atomic, atomic_write, render, terminal_summary, write_reports
from conformance.reports import badge as badge_mod
from conformance.reports.json import SCHEMA_PATH, load_run
from conformance.results import CheckResult, Exchange, Failure, RunResult, VendorRun

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SNAPSHOTS = HERE / "snapshots" / "reports"
JUNIT_XSD = HERE / "data" / "junit" / "jenkins-junit.xsd"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS", "").lower() in ("1", "true", "yes")
SECRET = "sk-live-7f3a9c1e5b2d4a6f"

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


@pytest.fixture(autouse=True)
def _no_secrets():
    clear_secrets()
    yield
    clear_secrets()


# --- fixtures -------------------------------------------------------------------------------------------------


def _exchange(vendor: str, body: Any, status: int, response_body: str, **extra: Any) -> Exchange:
    return Exchange(
        method="POST",
        url=f"https://api.{vendor}.example/v1/threads",
        headers={"Content-Type": "application/json", "Authorization": "Bearer [REDACTED]"},
        body=body,
        status=status,
        response_headers={"content-type": "application/json", "x-request-id": "req-0001"},
        response_body=response_body,
        elapsed=0.184,
        **extra,
    )


def _curl(vendor: str, body: Any) -> str:
    return (
        f"curl -X POST -H 'Authorization: Bearer [REDACTED]' -H 'Content-Type: application/json' "
        f"-d '{json.dumps(body)}' https://api.{vendor}.example/v1/threads"
    )


def sample_run() -> RunResult:
    """Three vendors: one clean, one with an accepted deviation and a stale entry, one failing."""
    vendors = [
        VendorRun(
            vendor="seekrflow",
            display_name="SeekrFlow",
            spec_title="SeekrFlow API",
            spec_version="5.30.1",
            target_url="https://api.seekrflow.example",
            operations=["POST /v1/threads"],
            cases=412,
            coverage={
                "POST /v1/threads": {
                    "metadata": {
                        "max_depth": 8,
                        "max_keys": 100,
                        "max_body_bytes": 102400,
                        "key_classes": ["ascii", "unicode", "empty"],
                        "number_classes": ["int", "float", "negative"],
                    },
                    "title": {"null_sent": 14, "absent_sent": 22, "value_sent": 376},
                }
            },
            created_resources=37,
            operation_seconds={"POST /v1/threads": 2.5},
        ),
        VendorRun(
            vendor="andibase",
            display_name="AndiBase",
            spec_title="AndiBase Threads",
            spec_version="unversioned",
            target_url="https://api.andibase.example",
            operations=["POST /v1/threads"],
            cases=198,
            coverage={"POST /v1/threads": {"title": {"null_sent": 0, "absent_sent": 9, "value_sent": 189}}},
            created_resources=12,
        ),
        VendorRun(
            vendor="watsonx",
            display_name="watsonx Orchestrate",
            spec_title="watsonx Orchestrate Threads",
            spec_version="0.1.0",
            target_url="https://api.watsonx.example",
            operations=["POST /v1/threads"],
            cases=305,
            coverage={"POST /v1/threads": {"title": {"null_sent": 7, "absent_sent": 11, "value_sent": 287}}},
            created_resources=20,
        ),
    ]
    op = "POST /v1/threads"
    results: list[CheckResult] = []
    for check in CHECKS:
        outcome = "not_applicable" if check == "negative_data_rejection" else "passed"
        cases = 0 if outcome == "not_applicable" else 80
        note = "the spec declares no constraint a negative case could break" if outcome == "not_applicable" else None
        results.append(CheckResult("seekrflow", op, check, outcome, cases=cases, note=note))

    null_body = {"title": None, "metadata": {}}
    results += [
        CheckResult(
            "andibase",
            op,
            "not_a_server_error",
            "failed",
            cases=61,
            failures=[
                Failure(
                    check="not_a_server_error",
                    title="Server error",
                    message="Received a 500 Internal Server Error for a request the spec allows.",
                    exchange=_exchange("andibase", null_body, 500, '{"error": "NoneType has no attribute strip"}'),
                    curl=_curl("andibase", null_body),
                    phase="coverage",
                    generation_mode="positive",
                    id=failure_id("andibase", op, "not_a_server_error", "ST101 500"),
                    finding="ST101 500",
                )
            ],
        ),
        CheckResult("andibase", op, "status_code_conformance", "passed", cases=61),
        CheckResult("andibase", op, "content_type_conformance", "passed", cases=61),
        CheckResult(
            "andibase",
            op,
            "response_schema_conformance",
            "failed",
            cases=61,
            failures=[
                Failure(
                    check="response_schema_conformance",
                    title="Response violates schema",
                    message="'created_at' is a required property\n\nSchema at /properties/created_at",
                    exchange=_exchange("andibase", {"title": "a"}, 201, '{"id": "thr_1", "object": "thread"}'),
                    curl=_curl("andibase", {"title": "a"}),
                    phase="fuzzing",
                    generation_mode="positive",
                    id=failure_id("andibase", op, "response_schema_conformance", SCHEMA_REQUIRED),
                    finding=SCHEMA_REQUIRED,
                ),
                Failure(
                    check="response_schema_conformance",
                    title="Response violates schema: extra property",
                    message="Additional properties are not allowed ('tool_resources' was unexpected)",
                    exchange=_exchange(
                        "andibase",
                        {},
                        201,
                        '{"id": "thr_2", "object": "thread", "created_at": 1, "tool_resources": {}}',
                    ),
                    curl=_curl("andibase", {}),
                    id=failure_id("andibase", op, "response_schema_conformance", SCHEMA_EXTRA),
                    finding=SCHEMA_EXTRA,
                    phase="examples",
                    generation_mode="positive",
                ),
            ],
        ),
        CheckResult(
            "andibase",
            op,
            "negative_data_rejection",
            "not_reached",
            note="the request budget ran out before this check ran",
        ),
    ]
    results += [
        CheckResult("watsonx", op, "not_a_server_error", "passed", cases=90),
        CheckResult(
            "watsonx",
            op,
            "status_code_conformance",
            "accepted",
            cases=90,
            failures=[
                Failure(
                    check="status_code_conformance",
                    title="Undocumented HTTP status code",
                    message="Received 200, documented: 201, 400, 401, 422",
                    exchange=_exchange("watsonx", {"title": "hello"}, 200, '{"id": "t-1"}'),
                    curl=_curl("watsonx", {"title": "hello"}),
                    phase="examples",
                    generation_mode="positive",
                    accepted_reason="returns 200 instead of 201 on create (vendor ticket WX-4521)",
                    accepted_link="https://github.com/example/watsonx-orchestrate/issues/4521",
                )
            ],
        ),
        CheckResult("watsonx", op, "content_type_conformance", "passed", cases=90),
        CheckResult(
            "watsonx",
            op,
            "response_schema_conformance",
            "stale",
            cases=90,
            note="baseline entry watsonx::POST /v1/threads::response_schema_conformance no longer reproduces",
        ),
        CheckResult("watsonx", op, "negative_data_rejection", "passed", cases=35),
    ]
    return RunResult(
        tool_version="0.1.0",
        schemathesis_version="4.3.1",
        seed=271828,
        started_at="2025-01-15T10:00:00+00:00",
        finished_at="2025-01-15T10:04:12+00:00",
        interrupted=False,
        budget_exhausted=True,
        warnings=["TLS certificate verification is disabled for andibase (--insecure)"],
        vendors=vendors,
        results=results,
    )


SCHEMA_REQUIRED = "ST108 201 /components/schemas/Thread/required"
SCHEMA_EXTRA = "ST108 201 /components/schemas/Thread/additionalProperties"


def find(run: RunResult, vendor: str, check: str) -> CheckResult:
    return next(r for r in run.results if r.vendor == vendor and r.check == check)


# --- snapshots ------------------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_DURATIONS = (
    (re.compile(r"\(\d+\.\d+ s\)"), "(<DURATION> s)"),
    (re.compile(r'\btime="[0-9.]+"'), 'time="<DURATION>"'),
    (re.compile(r'"elapsed": [0-9.]+'), '"elapsed": "<DURATION>"'),
    (re.compile(r'("operation_seconds": \{\n\s*"[^"]+": )[0-9.]+'), r'\g<1>"<DURATION>"'),
)


def normalise(text: str) -> str:
    """Timestamps and durations replaced, so that snapshots pin the shape rather than a moment."""
    text = _TIMESTAMP.sub("<TIMESTAMP>", text)
    for pattern, replacement in _DURATIONS:
        text = pattern.sub(replacement, text)
    return text


def assert_snapshot(name: str, text: str, directory: Path = SNAPSHOTS) -> None:
    path = directory / name
    text = normalise(text)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"missing snapshot {path}; create it with UPDATE_SNAPSHOTS=1")
    expected = path.read_text(encoding="utf-8")
    if name.endswith(".xml"):
        # The same document, serialised by minidom, differs between Python versions: 3.13 stopped escaping quotes
        # in text. A raw quote cannot stand inside a quoted attribute of well-formed XML, so unescaping every
        # &quot; loses nothing but that difference.
        text, expected = text.replace("&quot;", '"'), expected.replace("&quot;", '"')
    assert text == expected, f"{name} differs from its snapshot; if intended, regenerate with UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("json", "conformance.json"), ("junit", "junit.xml"), ("html", "conformance.html"), ("markdown", "summary.md")],
)
def test_snapshot(fmt: str, name: str) -> None:
    (text,) = reports.files_for(sample_run(), fmt).values()
    assert_snapshot(name, text)


def test_snapshot_badges() -> None:
    files = reports.files_for(sample_run(), "badge")
    assert sorted(files) == ["badge-andibase.json", "badge-seekrflow.json", "badge-watsonx.json"]
    for name, text in files.items():
        assert_snapshot(name, text)


def test_snapshot_terminal() -> None:
    assert_snapshot("terminal.txt", "\n".join(terminal_summary(sample_run())) + "\n")


# --- JUnit ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def test_junit_validates_against_jenkins_xsd(tmp_path: Path, junit_schema: xmlschema.XMLSchema) -> None:
    (path,) = write_reports(sample_run(), tmp_path, formats=["junit"])
    junit_schema.validate(str(path))


def test_junit_read_back_with_junitparser(tmp_path: Path) -> None:
    (path,) = write_reports(sample_run(), tmp_path, formats=["junit"])
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["seekrflow", "andibase", "watsonx"]
    assert xml.tests == 15 and xml.failures == 3 and xml.errors == 0

    andibase = suites["andibase"]
    cases = {case.name: case for case in andibase}
    assert list(cases) == [f"POST /v1/threads::{c}" for c in CHECKS]
    assert all(case.classname == "andibase" for case in andibase)
    (failure,) = cases["POST /v1/threads::not_a_server_error"].result
    assert isinstance(failure, junitparser.Failure)
    assert failure.message == "Server error [F-2470d92c]"  # the id, for a baseline entry or a ticket
    assert "HTTP 500" in failure.text and "curl -X POST" in failure.text and '"title": null' in failure.text
    (failure,) = cases["POST /v1/threads::response_schema_conformance"].result
    assert failure.message == "Response violates schema (and 1 more) [F-ff6fe46f, F-7b061047]"
    assert failure.text.count("Reproduce with:") == 2
    (skipped,) = cases["POST /v1/threads::negative_data_rejection"].result
    assert isinstance(skipped, junitparser.Skipped)
    assert skipped.text.startswith("not reached: the request budget ran out")
    props = {p.name: p.value for p in andibase.properties()}
    assert props["vendor"] == "andibase"
    assert props["spec_title"] == "AndiBase Threads" and props["spec_version"] == "unversioned"
    assert props["target_url"] == "https://api.andibase.example"
    assert props["seed"] == "271828" and props["schemathesis_version"] == "4.3.1"
    assert props["budget_exhausted"] == "true" and "interrupted" not in props

    watsonx = {case.name: case for case in suites["watsonx"]}
    (accepted,) = watsonx["POST /v1/threads::status_code_conformance"].result
    assert isinstance(accepted, junitparser.Skipped)
    assert accepted.text == "accepted: returns 200 instead of 201 on create (vendor ticket WX-4521)"
    (stale,) = watsonx["POST /v1/threads::response_schema_conformance"].result
    assert isinstance(stale, junitparser.Failure) and stale.message == "stale baseline entry, remove it"
    (na,) = {c.name: c for c in suites["seekrflow"]}["POST /v1/threads::negative_data_rejection"].result
    assert isinstance(na, junitparser.Skipped) and na.text.startswith("not applicable: ")


def test_junit_survives_characters_xml_cannot_carry(junit_schema: xmlschema.XMLSchema) -> None:
    run = sample_run()
    failure = find(run, "andibase", "not_a_server_error").failures[0]
    assert failure.exchange is not None
    failure.exchange.response_body = "bad\x00byte\x1b[31m and \ud800 surrogate"
    failure.title = "Server\x07error"
    text = render(run, "junit")
    assert isinstance(text, str)
    junit_schema.validate(text)
    assert "\ufffd" in text


def test_lone_surrogates_are_written_and_round_trip(tmp_path: Path) -> None:
    run = sample_run()
    failure = find(run, "andibase", "not_a_server_error").failures[0]
    assert failure.exchange is not None
    failure.exchange.response_body = '{"title": "\ud800"}'  # what json.loads makes of a vendor's "\\ud800"
    write_reports(run, tmp_path)
    assert load_run(tmp_path / "conformance.json") == run
    assert "\\ud800" in (tmp_path / "conformance.html").read_text(encoding="utf-8")


# --- JSON -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results_schema() -> dict[str, Any]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_json_is_to_dict_and_validates(results_schema: dict[str, Any]) -> None:
    run = sample_run()
    data = render(run, "json")
    assert data == run.to_dict()
    jsonschema.Draft202012Validator(results_schema).validate(data)


def test_json_schema_documents_every_field(results_schema: dict[str, Any]) -> None:
    """The schema and the model do not drift apart: same fields, same required ones."""
    import dataclasses

    defs = results_schema["$defs"]
    for cls, schema in (
        (RunResult, results_schema),
        (VendorRun, defs["VendorRun"]),
        (CheckResult, defs["CheckResult"]),
        (Failure, defs["Failure"]),
        (Exchange, defs["Exchange"]),
    ):
        fields = dataclasses.fields(cls)
        assert set(schema["properties"]) == {f.name for f in fields}, cls.__name__
        required = {
            f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert set(schema["required"]) - {"schema_version"} == required, cls.__name__


def test_round_trip(tmp_path: Path) -> None:
    run = sample_run()
    assert RunResult.from_dict(run.to_dict()) == run
    (path,) = write_reports(run, tmp_path, formats=["json"])
    assert load_run(path) == run


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "results file not found"),
        ("{not json", "is not valid JSON (line 1, column 2"),
        ('{"tool_version": "0.1.0"}', "is not a conformance results file: at /: 'schemathesis_version'"),
        ("[]", "is not a conformance results file"),
        ("BROKEN_OUTCOME", "at /results/0/outcome: 'bogus' is not one of"),
        ("NEWER", "has schema_version 99, newer than this tool reads"),
    ],
)
def test_load_run_rejects_bad_files_in_one_line(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "conformance.json"
    if content == "BROKEN_OUTCOME":
        data = sample_run().to_dict()
        data["results"][0]["outcome"] = "bogus"
        content = json.dumps(data)
    elif content == "NEWER":
        content = json.dumps({**sample_run().to_dict(), "schema_version": 99})
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as excinfo:
        load_run(path)
    message = str(excinfo.value)
    assert expected in message
    assert str(path) in message and "\n" not in message and len(message) < 500


def test_load_run_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        load_run(tmp_path)


# --- the other writers ----------------------------------------------------------------------------------------


def test_badges() -> None:
    badges = render(sample_run(), "badge")
    assert badges == {
        "seekrflow": {"schemaVersion": 1, "label": "SeekrFlow", "message": "100% conformant", "color": "brightgreen"},
        # 2 passed out of 2 passed + 2 failed: not_reached counts for nothing
        "andibase": {"schemaVersion": 1, "label": "AndiBase", "message": "50% conformant", "color": "yellow"},
        # 3 passed out of 3 passed + 1 accepted + 1 stale: an accepted deviation is not conformance
        "watsonx": {"schemaVersion": 1, "label": "watsonx Orchestrate", "message": "60% conformant", "color": "yellow"},
    }


@pytest.mark.parametrize(
    ("percent", "colour"),
    [(100, "brightgreen"), (99, "green"), (90, "green"), (80, "yellowgreen"), (60, "yellow"), (30, "orange"),
     (0, "red"), (None, "lightgrey")],
)  # fmt: skip
def test_badge_colours(percent: int | None, colour: str) -> None:
    assert badge_mod.colour(percent) == colour


def test_badge_file_name_is_a_plain_name() -> None:
    assert badge_mod.filename("../../etc/passwd") == "badge-_.._etc_passwd.json"
    assert badge_mod.filename("seekrflow") == "badge-seekrflow.json"


def test_markdown_lists_failing_checks_and_escapes() -> None:
    run = sample_run()
    find(run, "andibase", "not_a_server_error").failures[0].title = "Server error <img src=x onerror=alert(1)> | *boom*"
    text = render(run, "markdown")
    assert isinstance(text, str)
    assert "**not\\_a\\_server\\_error** on `POST /v1/threads`" in text
    assert "<img" not in text and "&lt;img" in text and "\\|" in text
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("| ")]
    # fewest failing checks first: seekrflow (0), watsonx (1 stale), andibase (2 failed)
    assert [row.split("|")[1].strip().split(" ")[0] for row in table[1:]] == ["SeekrFlow", "watsonx", "AndiBase"]
    assert "### AndiBase: 2 failing checks" in text
    assert "stale baseline entry, remove it" in text


def test_terminal_summary_is_short() -> None:
    lines = terminal_summary(sample_run())
    assert lines[0].startswith("conformance FAILED: 3 vendor(s) x 5 check(s), seed 271828 [budget exhausted]")
    assert len(lines) < 15 and all(len(line) <= 160 for line in lines)
    rows = {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ") and line.split()[0].isalpha()}
    assert rows["seekrflow"] == "....-" and rows["andibase"] == "F..F?" and rows["watsonx"] == ".A.S."


def test_terminal_summary_wraps_many_checks() -> None:
    run = sample_run()
    names = [f"check_number_{i}_with_a_long_name" for i in range(16)]
    run.results = [CheckResult("seekrflow", "POST /v1/threads", name, "passed", cases=1) for name in names]
    lines = terminal_summary(run)
    assert all(len(line) <= 160 and not line.endswith("...") for line in lines)
    listed = " ".join(line for line in lines if line.startswith(("checks: ", "        ")))
    assert all(f"{i} {name}" in listed for i, name in enumerate(names, 1))
    assert "  " + " " * len("seekrflow") + "  " + " " * 9 + "1111111" in lines
    assert "  seekrflow  " + "." * 16 + "  16 passed" in lines


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(UsageError, match="unknown report format 'pdf'"):
        render(sample_run(), "pdf")


# --- HTML -----------------------------------------------------------------------------------------------------

_RESOURCE_REFERENCES = (
    re.compile(r"""\b(?:src|srcset|poster|data|action)\s*=""", re.I),
    re.compile(r"<link\b", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"url\s*\(", re.I),
    re.compile(r"<(?:img|iframe|object|embed|audio|video|source|base)\b", re.I),
)


def test_html_references_no_resource() -> None:
    html = render(sample_run(), "html")
    assert isinstance(html, str)
    for pattern in _RESOURCE_REFERENCES:
        assert not pattern.search(html), pattern.pattern
    # An http(s) URL may be text or a link the reader follows (<a href>), never something the page loads.
    hrefs = re.findall(r"<(\w+)\b[^>]*\bhref=\"([^\"]*)\"", html)
    assert hrefs and all(tag == "a" for tag, _ in hrefs)
    assert {href for _, href in hrefs if not href.startswith("#")} == {
        "https://github.com/example/watsonx-orchestrate/issues/4521"
    }
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp and "default-src &#39;none&#39;" in csp.group(1)


def test_html_content() -> None:
    html = render(sample_run(), "html")
    assert isinstance(html, str)
    assert "271828" in html and "4.3.1" in html and "https://api.watsonx.example" in html
    assert "TLS certificate verification is disabled" in html and "budget ran out" in html
    # vendors like Bowtie: fewest failures first
    order = [m.group(1) for m in re.finditer(r'<tr data-vendor="([^"]+)">', html)]
    assert order == ["seekrflow", "watsonx", "andibase"]
    assert 'href="#r-andibase--post-v1-threads--not_a_server_error"' in html
    assert '<details class="result" id="r-andibase--post-v1-threads--not_a_server_error">' in html
    assert 'href="https://github.com/example/watsonx-orchestrate/issues/4521"' in html
    assert "Stale baseline entry, remove it." in html
    assert '<td class="zero">0</td>' in html  # andibase never sent title: null
    assert "102,400" in html and "ascii, unicode, empty" in html


def test_html_escapes_vendor_text_and_drops_unsafe_links() -> None:
    run = sample_run()
    failure = find(run, "watsonx", "status_code_conformance").failures[0]  # watsonx, accepted
    failure.title = "<script>alert(1)</script>"
    failure.accepted_link = "javascript:alert(document.cookie)"
    failure.exchange.response_body = '</pre><img src=x onerror="alert(1)">'  # type: ignore[union-attr]
    html = render(run, "html")
    assert isinstance(html, str)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript:' not in html
    assert "<img" not in html


def test_html_shows_no_empty_message_box() -> None:
    run = sample_run()
    find(run, "andibase", "not_a_server_error").failures[0].message = "  \n"
    html = render(run, "html")
    assert isinstance(html, str)
    details = html.split('id="r-andibase--post-v1-threads--not_a_server_error"', 1)[1].split("</details>", 1)[0]
    assert '<pre class="message">' not in details and "Server error" in details


def test_html_groups_accepted_deviations_by_identity() -> None:
    run = sample_run()
    result = find(run, "watsonx", "status_code_conformance")
    result.failures = [copy.deepcopy(result.failures[0]) for _ in range(6)]
    result.failures[0].accepted_expires = "2027-03-31"
    html = render(run, "html")
    assert isinstance(html, str)
    table = html.split('<table class="accepted">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 2  # the head and one row for six identical accepted failures
    assert "<td>6</td>" in table and "<td>2027-03-31</td>" in table


def test_html_times_are_for_people() -> None:
    run = sample_run()
    run.started_at = "2025-01-15T11:00:00.123456+01:00"
    run.finished_at = "2025-01-15T10:04:12.5"  # no zone recorded: said so, not guessed
    html = render(run, "html")
    assert isinstance(html, str)
    assert '<time datetime="2025-01-15T11:00:00.123456+01:00">2025-01-15 10:00:00 UTC</time>' in html
    assert ">2025-01-15 10:04:12 (time zone not recorded)</time>" in html
    assert ".123456<" not in html


def test_html_matrix_has_short_labels_and_full_names() -> None:
    html = render(sample_run(), "html")
    assert isinstance(html, str)
    assert '<th class="check" scope="col" title="response_schema_conformance">' in html
    assert 'title="response_schema_conformance: failed (2 distinct failures)"' in html
    # a count is defined once, with its label; cells carry no case counts
    assert html.count("<dt>Cases sent</dt>") == 1 and " cases<" not in html


def test_junit_testcase_time_is_each_checks_share_of_its_operation() -> None:
    xml = junitparser.JUnitXml.fromstring(render(sample_run(), "junit"))  # type: ignore[arg-type]
    suites = {suite.name: suite for suite in xml}
    cases = list(suites["seekrflow"])
    assert len(cases) == 5 and all(case.time == 0.5 for case in cases)
    assert suites["seekrflow"].time == 2.5
    assert all(case.time == 0 for case in suites["andibase"])  # no timing recorded: 0, not a guess


# --- write_reports, atomicity, redaction ----------------------------------------------------------------------


def test_write_reports_writes_every_format(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "reports"
    paths = write_reports(sample_run(), target)
    assert sorted(p.name for p in paths) == [
        "badge-andibase.json",
        "badge-seekrflow.json",
        "badge-watsonx.json",
        "conformance.html",
        "conformance.json",
        "junit.xml",
        "summary.md",
    ]
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in paths)
    assert stat.S_IMODE((target / "junit.xml").stat().st_mode) == 0o644


def _only_file(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("broken", ["fsync", "replace", "interrupt"])
def test_atomic_write_failing_midway_keeps_previous_file(tmp_path: Path, monkeypatch, broken: str) -> None:
    path = tmp_path / "junit.xml"
    path.write_text("previous report", encoding="utf-8")

    def boom(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt if broken == "interrupt" else OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "replace" if broken == "replace" else "fsync", boom)
    with pytest.raises(KeyboardInterrupt if broken == "interrupt" else OSError):
        atomic_write(path, "new report " * 10_000)
    assert path.read_text(encoding="utf-8") == "previous report"
    assert _only_file(tmp_path) == ["junit.xml"]


def test_write_reports_renders_everything_before_writing(tmp_path: Path, monkeypatch) -> None:
    write_reports(sample_run(), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(run: RunResult) -> str:
        raise RuntimeError("template bug")

    monkeypatch.setattr(reports._html, "render_html", broken)
    changed = sample_run()
    changed.seed = 1
    with pytest.raises(RuntimeError):
        write_reports(changed, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_no_written_file_contains_a_registered_secret(tmp_path: Path) -> None:
    register_secret(SECRET)
    run = sample_run()
    failure = find(run, "andibase", "not_a_server_error").failures[0]  # andibase, failed
    exchange = failure.exchange
    assert exchange is not None
    exchange.headers["X-Api-Key"] = SECRET
    exchange.headers["X-Debug"] = f"token={SECRET}"
    exchange.body = {"title": SECRET, "metadata": {SECRET: "v"}}
    exchange.response_headers["x-echo-token"] = SECRET
    exchange.response_body = json.dumps({"error": f"invalid token {SECRET}", "echo": json.dumps(SECRET)})
    exchange.url += f"?key={SECRET}"
    failure.curl = f"curl -H 'Authorization: Bearer {SECRET}' {exchange.url}"
    failure.message = f"Server said: bad token {SECRET}"
    failure.title = f"Server error ({SECRET})"
    accepted = find(run, "watsonx", "status_code_conformance").failures[0]
    accepted.accepted_reason = f"vendor echoes {SECRET}"
    accepted.accepted_link = f"https://example.com/?t={SECRET}"
    run.warnings.append(f"token {SECRET} sent over plain HTTP")
    run.vendors[0].coverage["POST /v1/threads"][SECRET] = {"value_sent": 1}

    paths = write_reports(run, tmp_path)
    assert len(paths) == 7
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path.name
        assert SECRET.replace("-", "\\u002d") not in text
    assert REDACTED in (tmp_path / "conformance.html").read_text(encoding="utf-8")
    assert all(SECRET not in line for line in terminal_summary(run))
    regenerated = tmp_path / "again"
    for fmt in ("html", "junit", "markdown"):
        run_report(str(tmp_path / "conformance.json"), fmt, str(regenerated / fmt))
        assert SECRET not in (regenerated / fmt).read_text(encoding="utf-8")


# --- conformance report (regenerate from conformance.json) ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "junit", "markdown", "json"])
def test_run_report_regenerates_from_json(tmp_path: Path, fmt: str, capsys) -> None:
    run = sample_run()
    write_reports(run, tmp_path / "first")
    source = tmp_path / "first" / "conformance.json"
    out = tmp_path / "second" / f"report.{fmt}"
    assert run_report(str(source), fmt, str(out)) == 0
    (expected,) = reports.files_for(run, fmt).values()
    assert out.read_text(encoding="utf-8") == expected
    assert (tmp_path / "first" / reports.FILENAMES[fmt]).read_text(encoding="utf-8") == expected
    assert capsys.readouterr().out.strip() == str(out)


def test_run_report_defaults_and_stdout(tmp_path: Path, capsys) -> None:
    write_reports(sample_run(), tmp_path, formats=["json"])
    source = str(tmp_path / "conformance.json")
    assert run_report(source, "html", None) == 0
    assert (tmp_path / "conformance.html").exists()
    assert run_report(source, "badge", str(tmp_path / "badges")) == 0
    assert _only_file(tmp_path / "badges") == ["badge-andibase.json", "badge-seekrflow.json", "badge-watsonx.json"]
    with pytest.raises(UsageError, match="the run has 3 vendors, give a directory"):
        run_report(source, "badge", str(tmp_path / "one.json"))
    single = sample_run()
    single.vendors = single.vendors[:1]
    single.results = single.results_for("seekrflow")
    write_reports(single, tmp_path / "single", formats=["json"])
    assert run_report(str(tmp_path / "single" / "conformance.json"), "badge", str(tmp_path / "seekrflow.json")) == 0
    assert json.loads((tmp_path / "seekrflow.json").read_text())["message"] == "100% conformant"
    capsys.readouterr()
    assert run_report(source, "markdown", "-") == 0
    assert capsys.readouterr().out.startswith("## Conformance: ❌ FAILED")
    assert run_report(source, "badge", "-") == 0
    assert json.loads(capsys.readouterr().out)["watsonx"]["message"] == "60% conformant"


def test_run_report_errors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown report format"):
        run_report(str(tmp_path / "conformance.json"), "pdf", None)
    with pytest.raises(UsageError, match="results file not found"):
        run_report(str(tmp_path / "conformance.json"), "html", None)


# --- property tests -------------------------------------------------------------------------------------------

_text = st.text(max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=8,
)
_outcomes = st.sampled_from(["passed", "failed", "not_applicable", "accepted", "stale", "not_reached"])
_exchanges = st.builds(
    Exchange,
    method=st.sampled_from(["POST", "GET"]),
    url=_text,
    headers=st.dictionaries(_text, _text, max_size=3),
    body=_json_values,
    status=st.none() | st.integers(100, 599),
    response_headers=st.dictionaries(_text, _text, max_size=3),
    response_body=st.none() | _text,
    elapsed=st.none() | st.floats(0, 60),
)
_failures = st.builds(
    Failure,
    check=_text,
    title=_text,
    message=_text,
    exchange=st.none() | _exchanges,
    curl=_text,
    phase=st.none() | _text,
    generation_mode=st.none() | _text,
    accepted_reason=st.none() | _text,
    accepted_link=st.none() | _text,
)
_vendor_keys = st.sampled_from(["a", "b", "c-d"])
_results = st.builds(
    CheckResult,
    vendor=_vendor_keys,
    operation=st.sampled_from(["POST /v1/threads", "POST /threads"]),
    check=st.sampled_from(CHECKS),
    outcome=_outcomes,
    cases=st.integers(0, 10_000),
    failures=st.lists(_failures, max_size=2),
    note=st.none() | _text,
)
_vendor_runs = st.builds(
    VendorRun,
    vendor=_vendor_keys,
    display_name=_text,
    spec_title=_text,
    spec_version=_text,
    target_url=_text,
    operations=st.lists(_text, max_size=2),
    cases=st.integers(0, 10_000),
    coverage=st.dictionaries(
        _text, st.dictionaries(_text, st.dictionaries(_text, _json_values, max_size=3), max_size=2)
    ),
    created_resources=st.integers(0, 100),
)
_runs = st.builds(
    RunResult,
    tool_version=_text,
    schemathesis_version=_text,
    seed=st.none() | st.integers(0, 2**64),
    started_at=_text,
    finished_at=st.none() | _text,
    interrupted=st.booleans(),
    budget_exhausted=st.booleans(),
    warnings=st.lists(_text, max_size=2),
    vendors=st.lists(_vendor_runs, max_size=3, unique_by=lambda v: v.vendor),
    results=st.lists(_results, max_size=6),
)
_property_settings = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@_property_settings
@given(_runs)
def test_property_round_trip_and_schema(run: RunResult) -> None:
    original = copy.deepcopy(run)
    data = run.to_dict()
    assert RunResult.from_dict(data) == original
    reloaded = json.loads(json.dumps(data, allow_nan=False))
    jsonschema.validate(reloaded, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert RunResult.from_dict(reloaded) == original


@_property_settings
@given(_runs)
def test_property_every_writer_accepts_any_run(run: RunResult) -> None:
    schema = _cached_junit_schema()
    for fmt in reports.FORMATS:
        reports.files_for(run, fmt)
    schema.validate(render(run, "junit"))
    terminal_summary(run)


_JUNIT_SCHEMA: list[xmlschema.XMLSchema] = []


def _cached_junit_schema() -> xmlschema.XMLSchema:
    if not _JUNIT_SCHEMA:
        _JUNIT_SCHEMA.append(xmlschema.XMLSchema(str(JUNIT_XSD)))
    return _JUNIT_SCHEMA[0]


# --- in a real browser ----------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium chromium-driver)")
@pytest.mark.skipif(CHROMEDRIVER is None, reason="chromedriver is not installed (apt-get install chromium-driver)")
def test_html_in_headless_chromium(tmp_path: Path, monkeypatch) -> None:
    # Imported here: without a browser the test is skipped, but with one a missing selenium must fail.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromedriver = CHROMEDRIVER
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager go and download a driver
    (page,) = write_reports(sample_run(), tmp_path / "reports", formats=["html"])

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        driver.get(page.as_uri())
        matrix = driver.find_element(By.CSS_SELECTOR, "table.matrix")
        rows = matrix.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert [r.get_attribute("data-vendor") for r in rows] == ["seekrflow", "watsonx", "andibase"]
        assert driver.execute_script("return document.documentElement.classList.contains('js')")

        details_id = "r-andibase--post-v1-threads--not_a_server_error"
        details = driver.find_element(By.ID, details_id)
        curl = details.find_element(By.CSS_SELECTOR, "pre.curl code")
        assert details.get_attribute("open") is None and not curl.is_displayed()
        link = driver.find_element(By.CSS_SELECTOR, f'td.o-failed a.cell-link[data-open="{details_id}"]')
        link.click()
        WebDriverWait(driver, 5).until(
            lambda d: d.execute_script(f"return document.getElementById('{details_id}').open")
        )
        assert curl.is_displayed()
        assert curl.text.startswith("curl -X POST") and "[REDACTED]" in curl.text

        button = details.find_element(By.CSS_SELECTOR, "button.copy")
        assert button.is_displayed()
        button.click()
        status = details.find_element(By.CSS_SELECTOR, ".copy-status")
        WebDriverWait(driver, 5).until(lambda d: status.text != "")
        assert status.text in ("Copied", "Selected: press Ctrl+C to copy")

        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], severe
        requested = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
        # chrome:// and chrome-untrusted:// requests are the browser's own new-tab page; the report must add nothing.
        assert page.as_uri() in requested
        fetched = [
            url for url in requested if url.split(":", 1)[0] not in ("file", "data", "chrome", "chrome-untrusted")
        ]
        assert fetched == [], fetched
    finally:
        driver.quit()


# --- snapshots of a real run: a fixed seed against a fixed mutant -------------------------------------------------

RUN_SNAPSHOTS = HERE / "snapshots" / "run"
# What differs between two runs of the same seed against the same mutant: where and when it ran.
_RUN_VOLATILE = (
    (re.compile(r"127\.0\.0\.1:\d+(?:/m\d+(?=/))?"), "127.0.0.1:<PORT>"),  # the port, the mount (suite_runner)
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<UUID>"),
    (re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"), "<HTTP-DATE>"),
    (re.compile(r"(schemathesis[/ _-](?:version\W+)?)\d+\.\d+\.\d+", re.IGNORECASE), r"\g<1><VERSION>"),
    (re.compile(r'("schemathesis_version": ")[^"]+'), r"\g<1><VERSION>"),
)


def normalise_run(text: str) -> str:
    """Also where the run happened (`assert_snapshot` then normalises when)."""
    for pattern, replacement in _RUN_VOLATILE:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite against the `success-status-swapped` mutant of watsonx, seed 42, 10 examples."""
    from tests.suite_runner import mock_target, run_suite

    out = tmp_path_factory.mktemp("real-run")
    with mock_target(["watsonx"], mutant="success-status-swapped") as target:
        run = run_suite(out, "--max-examples", "10", target=target, vendors=["watsonx"], seed=42)
    assert run.returncode == 1, run.stdout[-3000:]
    return out


@pytest.mark.parametrize(
    "name", ["conformance.json", "junit.xml", "conformance.html", "summary.md", "badge-watsonx.json"]
)
def test_snapshot_of_a_real_run(real_run: Path, name: str) -> None:
    assert_snapshot(name, normalise_run((real_run / name).read_text(encoding="utf-8")), RUN_SNAPSHOTS)


def test_a_real_run_validates_everywhere(real_run: Path) -> None:
    """The reports of a real run, not only of the hand-made sample, pass the schema, the XSD and junitparser."""
    import jsonschema
    import junitparser
    import xmlschema

    data = json.loads((real_run / "conformance.json").read_text())
    schema = json.loads((ROOT / "conformance" / "schemas" / "conformance.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    xmlschema.XMLSchema(str(HERE / "data" / "junit" / "jenkins-junit.xsd")).validate(str(real_run / "junit.xml"))
    suites = list(junitparser.JUnitXml.fromfile(str(real_run / "junit.xml")))
    assert [suite.name for suite in suites] == ["watsonx"]
    # testcase time: the operation's measured run time, shared by its checks
    seconds = data["vendors"][0]["operation_seconds"]["POST /v1/threads"]
    times = [case.time for case in suites[0]]
    assert seconds > 0 and all(t > 0 for t in times) and abs(sum(times) - seconds) < 0.01 * len(times)
