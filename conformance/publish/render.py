"""The site's files, from its run records: index.html, a page per vendor, index.json, badges, an Atom feed.

Every file is a function of the records alone (no clock, no environment), rendered with stable orders,
so the same records give byte-identical files. Pages are static HTML with their CSS inline and no
script: they work from file://, on any static host and with JavaScript disabled. A CSP that allows
only the page's own stylesheet (by hash) makes "fetches nothing" something the browser enforces.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from conformance.errors import UsageError
from conformance.publish.site import (
    INDEX,
    SITE_VERSION,
    Change,
    Entry,
    Lifecycle,
    clean_target,
    days_between,
    days_until,
    entries,
    lifecycles,
    site_schema,
    utc_stamp,
    worst,
)
from conformance.redact import redact
from conformance.reports._atomic import atomic_write
from conformance.reports._common import OUTCOME_LABELS
from conformance.reports.badge import colour
from conformance.reports.html import SHORT_LABELS, SYMBOLS, page_environment, printable, render_html
from conformance.results import BLOCKING_OUTCOMES, RunResult

TEMPLATES = Path(__file__).resolve().parent / "templates"
FEED = "feed.atom"
FEED_ENTRIES = 200  # the newest changes; index.json keeps them all
# One vocabulary with the per-run report: the site's cells read like the report's matrix.
LABELS = {**OUTCOME_LABELS, "accepted": "accepted deviation"}
SHORT = SHORT_LABELS
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def clean(text: object) -> str:
    """A string from a run as it may appear in a page or feed: secrets and unprintable characters replaced."""
    return printable(redact(str(text)))


def vendor_slug(vendor: str) -> str:
    """A file name for a vendor key from a run file: plain characters only, and never two keys on one name."""
    safe = _SAFE_NAME.sub("_", vendor).strip("._") or "_"
    if safe != vendor:
        safe += "-" + hashlib.sha256(vendor.encode("utf-8")).hexdigest()[:8]
    return safe


def vendor_page(vendor: str) -> str:
    return f"vendors/{vendor_slug(vendor)}.html"


def badge_path(vendor: str) -> str:
    return f"badges/{vendor_slug(vendor)}.json"


# --------------------------------------------------------------------------------------------------- views


@dataclass
class Cell:
    """One check of one matrix row."""

    outcome: str
    symbol: str
    label: str
    short: str
    href: str | None
    failure_ids: list[str]
    cases: int


@dataclass
class MatrixRow:
    """The latest run of one vendor x spec version x target."""

    entry: Entry
    cells: list[Cell | None]
    counts: dict[str, int]
    failures: list[tuple[str, dict[str, Any], dict[str, Any]]]  # (href, check, failure)

    @property
    def headline(self) -> str:
        failing = sum(self.counts.get(o, 0) for o in BLOCKING_OUTCOMES)
        accepted = self.counts.get("accepted", 0)
        percent = self.entry.vendor["percent"]
        parts = [f"{failing} failing check{'s' if failing != 1 else ''}" if failing else "no failing check"]
        if accepted:
            parts.append(f"{accepted} accepted")
        parts.append("no check judged" if percent is None else f"{percent}% conformant")
        return " · ".join(parts)

    @property
    def verdict(self) -> str:
        return "failed" if any(self.counts.get(o, 0) for o in BLOCKING_OUTCOMES) else "passed"


@dataclass
class RunRow:
    """One run in a vendor's history."""

    entry: Entry
    counts: dict[str, int]
    upgrade_from: str | None  # the previous spec version of the series, when this run changed it
    failures: int


@dataclass
class Series:
    """A vendor's runs against one target, oldest first."""

    target: str
    runs: list[RunRow]
    chart: Markup
    lives: list[Lifecycle]
    accepted: list[tuple[Lifecycle, int | None, int | None]]  # (deviation, days open, days to expiry)
    as_of: str


@dataclass
class VendorView:
    vendor: str
    display_name: str
    page: str
    badge: str
    latest: Entry
    series: list[Series] = field(default_factory=list)


def _check_counts(entry: Entry) -> dict[str, int]:
    per_check: dict[str, list[str]] = {}
    for check in entry.vendor["checks"]:
        per_check.setdefault(check["check"], []).append(check["outcome"])
    counts = Counter(worst(outcomes) for outcomes in per_check.values())
    return {o: counts.get(o, 0) for o in LABELS}


def _report_href(entry: Entry, anchor: str | None = None, prefix: str = "") -> str:
    report: str = entry.run["report"]
    return prefix + report + (f"#{anchor}" if anchor else "")


def matrix(all_entries: Sequence[Entry]) -> tuple[list[str], list[MatrixRow]]:
    """The latest verdict per vendor x spec version x target, and the check columns (in first-seen order)."""
    latest: dict[tuple[str, str, str], Entry] = {}
    for entry in all_entries:  # date order: the last one wins
        latest[entry.row_key] = entry
    checks = list(dict.fromkeys(c["check"] for e in latest.values() for c in e.vendor["checks"]))
    rows = []
    for key in sorted(latest, key=lambda k: (latest[k].vendor["display_name"].casefold(), *k)):
        entry = latest[key]
        cells: list[Cell | None] = []
        failures: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for name in checks:
            mine = [c for c in entry.vendor["checks"] if c["check"] == name]
            if not mine:
                cells.append(None)
                continue
            outcome = worst(c["outcome"] for c in mine)
            shown = next(c for c in mine if c["outcome"] == outcome)
            ids = [f["id"] for c in mine for f in c["failures"]]
            explained = outcome in ("failed", "stale", "accepted") or bool(shown["failures"])
            href = _report_href(entry, shown["anchor"]) if explained else None
            for c in mine:
                failures += [(_report_href(entry, c["anchor"]), c, f) for f in c["failures"]]
            cells.append(
                Cell(
                    outcome=outcome,
                    symbol=SYMBOLS.get(outcome, "?"),
                    label=LABELS.get(outcome, outcome),
                    short=SHORT.get(outcome, outcome),
                    href=href,
                    failure_ids=list(dict.fromkeys(ids)),
                    cases=sum(c["cases"] for c in mine),
                )
            )
        rows.append(MatrixRow(entry, cells, _check_counts(entry), failures))
    return checks, rows


def _chart(runs: Sequence[RunRow], lives: Sequence[Lifecycle], n: int) -> Markup:
    """Failures per check over time: one strip per check that ever failed, one bar per run, upgrades marked."""
    checks = list(dict.fromkeys(life.check for life in sorted(lives, key=lambda x: (x.first_seen, x.check))))
    label_w, strip_h, top = 230, 26, 34
    step = max(4, min(28, 560 // max(1, len(runs))))
    bar_w = max(2, step - 2)
    width = label_w + step * len(runs) + 10
    height = top + strip_h * max(1, len(checks)) + 8
    per_run: list[Counter[str]] = []
    for row in runs:
        counts: Counter[str] = Counter()
        for check in row.entry.vendor["checks"]:
            counts[check["check"]] += len(check["failures"])
        per_run.append(counts)
    peak = max([c[name] for c in per_run for name in checks] + [1])
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart-title-{n}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title-{n}">Failures per check in each run, oldest run on the left; dashed lines mark '
        "a new spec version</title>",
    ]
    for i, row in enumerate(runs):
        x = label_w + i * step
        if row.upgrade_from is not None:
            version = _xml(row.entry.vendor["spec_version"])
            parts.append(
                f'<line class="upgrade" x1="{x - 1}" y1="12" x2="{x - 1}" y2="{height - 4}" stroke-dasharray="3 2"/>'
            )
            parts.append(f'<text class="upgrade-label" x="{x + 1}" y="10">{version}</text>')
    for j, name in enumerate(checks):
        y = top + j * strip_h
        parts.append(
            f'<text class="check-label" x="{label_w - 6}" y="{y + strip_h - 9}" text-anchor="end">{_xml(name)}</text>'
        )
        parts.append(
            f'<line class="axis" x1="{label_w}" y1="{y + strip_h - 4}" x2="{width - 10}" y2="{y + strip_h - 4}"/>'
        )
        for i, counts in enumerate(per_run):
            count = counts[name]
            x = label_w + i * step
            h = 0 if not count else max(3, round((strip_h - 8) * count / peak))
            when = runs[i].entry.when
            tip = f"{name}: {count} failure{'s' if count != 1 else ''} on {when}"
            parts.append(
                f'<rect class="{"bar" if count else "zero"}" x="{x}" y="{y + strip_h - 4 - max(h, 1)}" '
                f'width="{bar_w}" height="{max(h, 1)}"><title>{_xml(tip)}</title></rect>'
            )
    if not checks:
        parts.append(f'<text class="check-label" x="{label_w - 6}" y="{top + 14}" text-anchor="end">no failures</text>')
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _xml(text: object) -> str:
    escaped: str = Markup.escape(clean(text))
    return str(escaped)


def vendor_views(all_entries: Sequence[Entry], lives: Sequence[Lifecycle]) -> list[VendorView]:
    by_vendor: dict[str, list[Entry]] = {}
    for entry in all_entries:
        by_vendor.setdefault(entry.vendor["vendor"], []).append(entry)
    views = []
    for vendor in sorted(by_vendor, key=lambda v: (by_vendor[v][-1].vendor["display_name"].casefold(), v)):
        mine = by_vendor[vendor]
        view = VendorView(vendor, mine[-1].vendor["display_name"], vendor_page(vendor), badge_path(vendor), mine[-1])
        for target in sorted({e.vendor["target"] for e in mine}):
            series = [e for e in mine if e.vendor["target"] == target]
            runs: list[RunRow] = []
            previous: str | None = None
            for entry in series:
                version = entry.vendor["spec_version"]
                upgrade = previous if previous is not None and previous != version else None
                failures = sum(len(c["failures"]) for c in entry.vendor["checks"])
                runs.append(RunRow(entry, _check_counts(entry), upgrade, failures))
                previous = version
            series_lives = [x for x in lives if x.vendor == vendor and x.target == target]
            as_of = series[-1].when
            accepted = [
                (x, days_between(x.accepted_since or x.first_seen, as_of), days_until(x.accepted_expires, as_of))
                for x in series_lives
                if x.accepted and x.fixed is None
            ]
            chart = _chart(runs, series_lives, len(view.series) + 1)
            view.series.append(Series(target, runs, chart, series_lives, accepted, as_of))
        views.append(view)
    return views


# --------------------------------------------------------------------------------------------------- files


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return clean(value)


@cache
def _environment() -> jinja2.Environment:
    env = page_environment(TEMPLATES, _finalize)
    env.filters["day"] = lambda value: utc_stamp(value)[:10]
    env.filters["stamp"] = lambda value: utc_stamp(value).replace("T", " ").replace("Z", " UTC")
    return env


@cache
def _css() -> str:
    return (TEMPLATES / "site.css").read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _page(template: str, root: str, **context: Any) -> str:
    css = _css()
    csp = f"default-src 'none'; style-src {_csp_hash(css)}; script-src 'none'; base-uri 'none'; form-action 'none'"
    html = (
        _environment()
        .get_template(template)
        .render(css=Markup(css), csp=csp, root=root, symbols=SYMBOLS, labels=LABELS, **context)
    )
    return redact(html)


def _dumps(data: Any) -> str:
    return redact(json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False, sort_keys=False)) + "\n"


def _dump_index(data: dict[str, Any]) -> str:
    """index.json with one line per item of each list (a run, a row, a change): compact, and a new run is
    one new line in a diff."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    parts = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            inner = ",\n".join("  " + one(item) for item in value)
            parts.append(f"{one(key)}: [\n{inner}\n ]")
        else:
            parts.append(f"{one(key)}: {one(value)}")
    return redact("{\n " + ",\n ".join(parts) + "\n}") + "\n"


def _badge(view: VendorView) -> dict[str, Any]:
    percent = view.latest.vendor["percent"]
    message = "no checks judged" if percent is None else f"{percent}% conformant"
    return {"schemaVersion": 1, "label": clean(view.display_name), "message": message, "color": colour(percent)}


def index_data(
    records: Sequence[dict[str, Any]],
    rows: Sequence[MatrixRow],
    checks: Sequence[str],
    views: Sequence[VendorView],
    lives: Sequence[Lifecycle],
    changes: Sequence[Change],
) -> dict[str, Any]:
    """index.json: the latest matrix, the vendors, every failure's lifecycle, every change, and the run records."""
    return {
        "site_version": SITE_VERSION,
        "checks": list(checks),
        "latest": [
            {
                "vendor": row.entry.vendor["vendor"],
                "display_name": row.entry.vendor["display_name"],
                "spec_version": row.entry.vendor["spec_version"],
                "target": row.entry.vendor["target"],
                "run": row.entry.run["id"],
                "started_at": utc_stamp(row.entry.run["started_at"]),
                "seed": row.entry.run["seed"],
                "tool_version": row.entry.run["tool_version"],
                "percent": row.entry.vendor["percent"],
                "headline": row.headline,
                "report": row.entry.run["report"],
                "cells": {
                    name: {"outcome": cell.outcome, "failure_ids": cell.failure_ids, "href": cell.href}
                    for name, cell in zip(checks, row.cells, strict=True)
                    if cell is not None
                },
            }
            for row in rows
        ],
        "vendors": [
            {
                "vendor": v.vendor,
                "display_name": v.display_name,
                "page": v.page,
                "badge": v.badge,
                "latest_run": v.latest.run["id"],
                "percent": v.latest.vendor["percent"],
            }
            for v in views
        ],
        "failures": [asdict(x) for x in lives],
        "changes": [{"key": c.key, **asdict(c)} for c in reversed(changes)],
        "runs": list(records),
    }


def atom(changes: Sequence[Change]) -> str:
    """The Atom feed of changes, newest first; links are relative to the feed's own address."""
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        if text is not None:
            element.text = clean(text)
        return element

    feed = ET.Element(f"{{{ns}}}feed")
    sub(feed, "title", "Conformance changes")
    sub(feed, "subtitle", "New failures, fixes and new spec versions of every published vendor")
    sub(feed, "id", "tag:thread-conformance.invalid,2024:changes")
    newest = list(reversed(changes))[:FEED_ENTRIES]
    sub(feed, "updated", newest[0].when if newest else "1970-01-01T00:00:00Z")
    sub(feed, "link", rel="alternate", type="text/html", href="index.html")
    sub(feed, "link", rel="self", type="application/atom+xml", href=FEED)
    author = sub(feed, "author")
    sub(author, "name", "thread-conformance")
    sub(feed, "generator", "thread-conformance")
    for change in newest:
        entry = sub(feed, "entry")
        sub(entry, "title", f"{change.display_name} ({change.vendor}): {change.title}")
        sub(entry, "id", f"tag:thread-conformance.invalid,2024:change/{change.key}")
        sub(entry, "updated", change.when)
        sub(entry, "category", term=change.kind)
        sub(entry, "link", rel="alternate", type="text/html", href=vendor_page(change.vendor))
        where = f"spec version {change.spec_version} at {change.target}, run {change.run} of {change.when}"
        detail = f"{change.check}, failure {change.failure_id}: " if change.failure_id else ""
        sub(entry, "summary", f"{detail}{change.title} ({where})")
    ET.indent(feed, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _publishable(run: RunResult) -> RunResult:
    """The run as its published report shows it: target URLs without credentials or query, as in the matrix."""
    copy = RunResult.from_dict(run.to_dict())
    for vendor in copy.vendors:
        vendor.target_url = clean_target(vendor.target_url)
    return copy


def write_site(directory: Path, records: Sequence[dict[str, Any]], new_runs: dict[str, RunResult]) -> None:
    """Render every file of the site, then write them (each atomically); a new run's report is rendered once."""
    all_entries = entries(records)
    lives, changes = lifecycles(all_entries)
    checks, rows = matrix(all_entries)
    views = vendor_views(all_entries, lives)
    files: dict[str, str] = {}
    for rid, run in sorted(new_runs.items()):
        files[f"runs/{rid}/report.html"] = render_html(_publishable(run))
    latest_run = max((utc_stamp(r["started_at"]) for r in records), default="")
    files["index.html"] = _page(
        "index.html.j2",
        "",
        rows=rows,
        checks=checks,
        views=views,
        records=records,
        latest=latest_run,
        changes=list(reversed(changes))[:20],
        vendor_page=vendor_page,
    )
    for view in views:
        files[view.page] = _page("vendor.html.j2", "../", view=view, vendor_page=vendor_page)
        files[view.badge] = _dumps(_badge(view))
    files[INDEX] = _dump_index(index_data(records, rows, checks, views, lives, changes))
    files["index.schema.json"] = _dumps(site_schema())
    files[FEED] = atom(changes)
    for name, text in files.items():
        try:
            atomic_write(directory / name, text)
        except OSError as exc:
            raise UsageError(f"cannot write {directory / name}: {exc.strerror or exc}") from None
