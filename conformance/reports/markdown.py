"""`summary.md`: a short summary for CI job pages (e.g. $GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import re

from conformance.redact import redact
from conformance.reports._common import (
    conformance_percent,
    escape_controls,
    failure_summary,
    redacted_run,
    sorted_vendors,
    vendor_stats,
)
from conformance.results import FAILING_OUTCOMES, RunResult

FILENAME = "summary.md"
MAX_TITLE = 200
# Inline Markdown specials (text never starts a line here, so "#", "-", "+" and "1." are inert);
# "<", ">" and "&" become entities, since job pages render inline HTML and a vendor's error must stay text.
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: object, limit: int = MAX_TITLE) -> str:
    """`text` as one line of inert Markdown: HTML and Markdown specials escaped, truncated."""
    line = escape_controls(" ".join(redact(str(text)).split()))
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", line)


def code(text: object, limit: int = MAX_TITLE, *, in_table: bool = False) -> str:
    """`text` as an inline code span (where neither Markdown nor HTML is interpreted)."""
    line = escape_controls(" ".join(redact(str(text)).split())).replace("`", "'")
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    if in_table:  # GFM splits table cells on "|" even inside code spans; "\\|" shows as "|" there
        line = line.replace("|", "\\|")
    return f"`{line}`"


def render_markdown(run: RunResult) -> str:
    """summary.md for `run`."""
    run = redacted_run(run)
    status = "❌ FAILED" if run.failed else "✅ PASSED"
    seed = "none" if run.seed is None else str(run.seed)
    lines = [
        f"## Conformance: {status}",
        "",
        f"thread-conformance {md(run.tool_version)} · Schemathesis {md(run.schemathesis_version)} · seed {code(seed)}"
        f" · started {code(run.started_at)}" + (f" · finished {code(run.finished_at)}" if run.finished_at else ""),
        "",
    ]
    if run.interrupted:
        lines.append("> **Warning:** the run was interrupted; results are partial.")
    if run.budget_exhausted:
        lines.append("> **Warning:** the run's budget ran out; checks not reached are listed as such.")
    lines += [f"> **Warning:** {md(w, 500)}" for w in run.warnings]
    if run.interrupted or run.budget_exhausted or run.warnings:
        lines.append("")
    lines += [
        "| Vendor | Conformant | Passed | Failed | Stale | Accepted | N/A | Not reached | Threads created |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    vendors = sorted_vendors(run)
    for vendor in vendors:
        stats = vendor_stats(run, vendor.vendor)
        percent = conformance_percent(run, vendor.vendor)
        conformant = "n/a" if percent is None else f"{percent}%"
        lines.append(
            f"| {md(vendor.display_name)} ({code(vendor.vendor, in_table=True)}) | {conformant}"
            f" | {stats['passed']} | {stats['failed']} | {stats['stale']} | {stats['accepted']}"
            f" | {stats['not_applicable']} | {stats['not_reached']} | {vendor.created_resources} |"
        )
    for vendor in vendors:
        failing = [r for r in run.results_for(vendor.vendor) if r.outcome in FAILING_OUTCOMES]
        if not failing:
            continue
        plural = "s" if len(failing) > 1 else ""
        lines += ["", f"### {md(vendor.display_name)}: {len(failing)} failing check{plural}", ""]
        for result in failing:
            ids = ", ".join(
                code(f.id) + (f" {md(f.label)}" if f.label else "")
                for f in result.failures
                if f.id and not f.accepted_reason
            )
            lines.append(
                f"- **{md(result.check)}** on {code(result.operation)}: {md(failure_summary(result))}"
                + (f" ({ids})" if ids else "")
            )
    for vendor in vendors:
        unjudged = [r for r in run.results_for(vendor.vendor) if r.outcome == "not_judged"]
        if unjudged:
            lines += ["", f"### {md(vendor.display_name)}: checks that could not judge (not the vendor's failures)", ""]
            lines += [f"- **{md(r.check)}** on {code(r.operation)}: {md(failure_summary(r))}" for r in unjudged]
    for vendor in vendors:
        accepted = [r for r in run.results_for(vendor.vendor) if r.outcome == "accepted"]
        if not accepted:
            continue
        lines += ["", f"### {md(vendor.display_name)}: accepted deviations", ""]
        for result in accepted:
            reasons = sorted({(f.accepted_reason or "", f.accepted_link or "") for f in result.failures})
            why = "; ".join(md(reason) + (f" ({md(link)})" if link else "") for reason, link in reasons)
            lines.append(f"- **{md(result.check)}** on {code(result.operation)}: {why}")
    lines += ["", "Accepted deviations are counted as not conformant. Full details: conformance.html."]
    return redact("\n".join(lines)) + "\n"
