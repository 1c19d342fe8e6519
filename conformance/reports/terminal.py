"""The matrix in a few plain-text lines, for the end of a pytest run."""

from __future__ import annotations

from conformance.redact import redact
from conformance.reports._common import (
    OUTCOME_LABELS,
    OUTCOMES,
    check_names,
    escape_controls,
    failure_summary,
    operations_of,
    redacted_run,
    sorted_vendors,
    vendor_stats,
)
from conformance.results import BLOCKING_OUTCOMES, CheckResult, RunResult

# ASCII, so the matrix survives any CI log viewer and terminal encoding.
SYMBOLS: dict[str, str] = {
    "passed": ".",
    "failed": "F",
    "stale": "S",
    "accepted": "A",
    "not_applicable": "-",
    "not_reached": "?",
    "not_judged": "E",
}
NOT_RUN = " "
MAX_LINE = 160


def _cell(results: list[CheckResult]) -> str:
    """The worst outcome among `results` (one per operation), as a symbol."""
    outcomes = {r.outcome for r in results}
    worst = next((o for o in OUTCOMES if o in outcomes), None)
    return NOT_RUN if worst is None else SYMBOLS[worst]


def _wrap(prefix: str, items: list[str]) -> list[str]:
    """`items` joined by ", " over as many lines as needed, continuation lines indented under the first."""
    indent = " " * len(prefix)
    lines: list[str] = []
    current = ""
    for n, item in enumerate(items):
        piece = item + ("," if n < len(items) - 1 else "")
        if current and len(prefix) + len(current) + 1 + len(piece) > MAX_LINE:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    lines.append(current)
    return [(prefix if i == 0 else indent) + line for i, line in enumerate(lines)]


def _clip(line: str) -> str:
    line = line.replace("\r", " ").replace("\n", " ")  # a vendor's error title may span lines
    line = escape_controls(line.replace("\t", " "))  # a vendor's text must not drive the terminal
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."


def terminal_summary(run: RunResult) -> list[str]:
    """Lines summarising the run: a status line, a legend, one row per vendor, then each failing check."""
    run = redacted_run(run)
    checks = check_names(run)
    vendors = sorted_vendors(run)
    status = "FAILED" if run.failed else "passed"
    flags = [f for f, on in (("interrupted", run.interrupted), ("budget exhausted", run.budget_exhausted)) if on]
    seed = "none" if run.seed is None else str(run.seed)
    lines = [
        f"conformance {status}: {len(vendors)} vendor(s) x {len(checks)} check(s), seed {seed}"
        + (f" [{', '.join(flags)}]" if flags else "")
    ]
    lines += [f"warning: {w}" for w in run.warnings]
    if not checks:
        return [_clip(redact(line)) for line in lines]
    lines.append("legend: " + "  ".join(f"{SYMBOLS[o]} {OUTCOME_LABELS[o]}" for o in OUTCOMES))
    lines += _wrap("checks: ", [f"{i} {c}" for i, c in enumerate(checks, 1)])
    width = max(len(v.vendor) for v in vendors)
    numbers = range(1, len(checks) + 1)
    if len(checks) >= 10:  # column numbers read downwards: tens above units
        lines.append(f"  {'':<{width}}  " + "".join(str(i // 10) if i >= 10 else " " for i in numbers))
    lines.append(f"  {'':<{width}}  " + "".join(str(i % 10) for i in numbers))
    for vendor in vendors:
        results = run.results_for(vendor.vendor)
        cells = "".join(_cell([r for r in results if r.check == c]) for c in checks)
        stats = vendor_stats(run, vendor.vendor)
        counts = ", ".join(f"{stats[o]} {OUTCOME_LABELS[o]}" for o in OUTCOMES if stats[o])
        lines.append(f"  {vendor.vendor:<{width}}  {cells}  {counts or 'no results'}")
    for vendor in vendors:
        multi = len(operations_of(run, vendor.vendor)) > 1
        for result in run.results_for(vendor.vendor):
            if result.outcome in BLOCKING_OUTCOMES:
                where = f"{result.check} on {result.operation}" if multi else result.check
                lines.append(f"  {result.outcome.upper()} {vendor.vendor}: {where}: {failure_summary(result)}")
                # Each failure that fails the gate by its id, so a baseline entry or a ticket can name it.
                lines += [
                    f"    {f.id} {f.title}"
                    + (f" ({f.finding})" if f.finding else "")
                    + (f" [{f.label}]" if f.label else "")
                    for f in result.failures
                    if f.id and not f.accepted_reason
                ]
                if result.note and result.outcome == "failed":  # a stale line already says its note
                    lines.append(f"    note: {result.note}")
    return [_clip(redact(line)) for line in lines]
