"""`conformance.html`: one self-contained page (inline CSS and JS, no network fetch) for people.

A Content-Security-Policy that allows only the page's own inline style and script (by hash) and no
other source makes "works offline, fetches nothing" a property the browser enforces, not a hope.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from conformance.redact import redact
from conformance.reports._common import (
    OUTCOME_LABELS,
    OUTCOMES,
    accepted_reasons,
    check_names,
    conformance_percent,
    failure_summary,
    format_request,
    format_response,
    operations_of,
    redacted_run,
    result_ids,
    sorted_vendors,
    vendor_stats,
)
from conformance.results import CheckResult, Failure, RunResult, VendorRun

FILENAME = "conformance.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SYMBOLS = {
    "passed": "✓",
    "failed": "✗",
    "stale": "⚠",
    "accepted": "≈",
    "not_applicable": "\u2013",  # en dash
    "not_reached": "…",
    "not_judged": "⊘",
}
# Short labels for the matrix cells, so that every check fits on a 1,280 px screen; the legend spells them out.
SHORT_LABELS = {
    "passed": "pass",
    "failed": "fail",
    "stale": "stale",
    "accepted": "acc",
    "not_applicable": "n/a",
    "not_reached": "n/r",
    "not_judged": "n/j",
}


@dataclass
class Cell:
    """One matrix cell: the outcome of one check on one operation of one vendor."""

    outcome: str
    label: str
    short: str
    symbol: str
    cases: int
    failures: int
    anchor: str | None  # id of the <details> that explains it, if any


@dataclass
class Row:
    """One matrix row: a vendor's operation."""

    vendor: VendorRun
    operation: str
    cells: list[Cell | None]
    percent: int | None
    failing: int


@dataclass
class FailureView:
    failure: Failure
    request: str
    response: str
    curl_id: str
    link: str | None
    again: str | None = None  # the response to the confirmation's re-send


@dataclass
class ResultView:
    """A check that needs explaining (failed, stale or accepted), shown as a <details>."""

    id: str
    result: CheckResult
    summary: str
    reasons: list[str]
    failures: list[FailureView] = field(default_factory=list)


@dataclass
class AcceptedGroup:
    """Accepted failures of one identity (vendor, operation, check, title, reason), listed once with a count."""

    vendor: str
    operation: str
    check: str
    title: str
    reason: str
    link: str | None
    raw_link: str | None
    expires: str | None
    anchor: str
    count: int = 0


@dataclass
class CoverageTable:
    operation: str
    columns: list[str]
    rows: list[tuple[str, list[CoverageCell]]]


@dataclass
class CoverageCell:
    """One coverage value: plain text, or (for nested stats) one line per flattened key."""

    text: str
    zero: bool = False  # a zero count: a gap in what the run exercised
    parts: list[tuple[str, str, bool]] = field(default_factory=list)  # (key, text, zero)


@dataclass
class VendorView:
    vendor: VendorRun
    stats: dict[str, int]
    percent: int | None
    details: list[ResultView]
    coverage: list[CoverageTable]


def safe_link(url: str | None) -> str | None:
    """`url` if it is an http(s) link, else None (a `javascript:` link must never become an href)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def _coverage_value(value: Any) -> CoverageCell:
    if value is None:
        return CoverageCell("—")
    if isinstance(value, bool):
        return CoverageCell("yes" if value else "no")
    if isinstance(value, int | float):
        return CoverageCell(f"{value:,}" if isinstance(value, int) else f"{value:g}", value == 0)
    if isinstance(value, list):
        return CoverageCell(", ".join(str(v) for v in value) or "—", not value)
    if isinstance(value, dict):
        # Nested stats (string classes, dict depth and keys...) one per line, so their zeros stand out too.
        parts = []
        for key, inner in _flatten(value):
            cell = _coverage_value(inner)
            parts.append((key, cell.text, cell.zero))
        return CoverageCell("", any(zero for _, _, zero in parts), parts)
    return CoverageCell(str(value))


def _flatten(value: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key in sorted(value):
        inner = value[key]
        if isinstance(inner, dict):
            out += _flatten(inner, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", inner))
    return out


def _coverage(vendor: VendorRun) -> list[CoverageTable]:
    tables = []
    for operation, fields in vendor.coverage.items():
        columns = list(dict.fromkeys(k for stats in fields.values() for k in stats))
        rows = [
            (name, [_coverage_value(stats[c]) if c in stats else CoverageCell("") for c in columns])
            for name, stats in fields.items()
        ]
        tables.append(CoverageTable(operation=operation, columns=columns, rows=rows))
    return tables


def _build(run: RunResult) -> dict[str, Any]:
    ids = result_ids(run)
    index_of = {id(r): i for i, r in enumerate(run.results)}
    checks = check_names(run)
    vendors = sorted_vendors(run)
    explained = {"failed", "stale", "accepted"}

    rows: list[Row] = []
    views: list[VendorView] = []
    for vendor in vendors:
        results = run.results_for(vendor.vendor)
        operations = operations_of(run, vendor.vendor) or [""]
        stats = vendor_stats(run, vendor.vendor)
        percent = conformance_percent(run, vendor.vendor)
        for operation in operations:
            cells: list[Cell | None] = []
            for check in checks:
                match = next((r for r in results if r.operation == operation and r.check == check), None)
                if match is None:
                    cells.append(None)
                    continue
                anchor = ids[index_of[id(match)]] if match.outcome in explained or match.failures else None
                cells.append(
                    Cell(
                        outcome=match.outcome,
                        label=OUTCOME_LABELS[match.outcome],
                        short=SHORT_LABELS[match.outcome],
                        symbol=SYMBOLS[match.outcome],
                        cases=match.cases,
                        failures=len(match.failures),
                        anchor=anchor,
                    )
                )
            rows.append(Row(vendor, operation, cells, percent, stats.failing))

        details = []
        for result in results:
            if result.outcome not in explained and not result.failures:
                continue
            rid = ids[index_of[id(result)]]
            details.append(
                ResultView(
                    id=rid,
                    result=result,
                    summary=failure_summary(result),
                    reasons=accepted_reasons(result),
                    failures=[
                        FailureView(
                            failure=f,
                            request=format_request(f.exchange),
                            response=format_response(f.exchange),
                            curl_id=f"{rid}--curl-{i}",
                            link=safe_link(f.accepted_link),
                            again=format_response(f.confirmation_exchange) if f.confirmation_exchange else None,
                        )
                        for i, f in enumerate(result.failures, 1)
                    ],
                )
            )
        views.append(VendorView(vendor, stats.counts, percent, details, _coverage(vendor)))

    accepted: dict[tuple[str, ...], AcceptedGroup] = {}
    for v in views:
        for d in v.details:
            for f in d.failures:
                failure = f.failure
                if not failure.accepted_reason:
                    continue
                key = (d.result.vendor, d.result.operation, d.result.check, failure.title, failure.accepted_reason)
                group = accepted.setdefault(
                    key,
                    AcceptedGroup(
                        vendor=d.result.vendor,
                        operation=d.result.operation,
                        check=d.result.check,
                        title=failure.title,
                        reason=failure.accepted_reason,
                        link=f.link,
                        raw_link=failure.accepted_link,
                        expires=failure.accepted_expires,
                        anchor=d.id,
                    ),
                )
                group.count += 1
    stale = [d for v in views for d in v.details if d.result.outcome == "stale"]
    return {
        "run": run,
        "checks": checks,
        "rows": rows,
        "vendors": views,
        "accepted": list(accepted.values()),
        "stale": stale,
        "outcomes": OUTCOMES,
        "labels": OUTCOME_LABELS,
        "symbols": SYMBOLS,
        "shorts": SHORT_LABELS,
    }


# What an HTML page must not carry even escaped: C0 controls but tab, LF and CR, DEL and C1, and
# noncharacters (a response body may hold any of them); they are shown as U+FFFD. A lone surrogate is
# let through: the file writer spells it as an escape (\ud800), which says more than U+FFFD would.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ufdcf\ufdf0-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """`text` with every character an HTML page or XML 1.0 cannot carry replaced by U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", text)


def _finalize(value: Any) -> Any:
    # Defence in depth: every value printed by the template goes through redact. Markup is the
    # page's own CSS/JS, which must not be escaped (and holds no secret).
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return printable(redact(str(value)))


def human_time(value: str | None) -> str:
    """An ISO 8601 time for people: to the second, in UTC, the zone named ("2025-01-15 10:00:00 UTC")."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S") + " (time zone not recorded)"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def page_environment(templates: Path, finalize: Callable[[Any], Any]) -> jinja2.Environment:
    """A Jinja environment for our pages: autoescaped, strict about undefined names, every value through
    `finalize` (redaction and printable text)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _environment() -> jinja2.Environment:
    env = page_environment(TEMPLATES, _finalize)
    env.filters["human_time"] = human_time
    return env


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def _assets() -> tuple[str, str]:
    css = (TEMPLATES / "conformance.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "conformance.js").read_text(encoding="utf-8")
    return css, js


def render_html(run: RunResult) -> str:
    """conformance.html for `run`."""
    css, js = _assets()
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "base-uri 'none'; form-action 'none'"
    )
    context = _build(redacted_run(run))
    template = _environment().get_template("conformance.html.j2")
    # The CSS/JS are inserted verbatim so that their CSP hashes match byte for byte.
    html = template.render(**context, css=Markup(css), js=Markup(js), csp=csp)
    return redact(html)
