"""Helpers shared by the report writers: redaction of a whole run, ordering, counting, formatting."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from conformance.redact import REDACTED, redact, redact_headers, redact_value
from conformance.results import FAILING_OUTCOMES, CheckResult, Exchange, RunResult, VendorRun

# Order in which outcomes are listed and, for aggregation, which one wins (worst first).
OUTCOMES: tuple[str, ...] = ("failed", "stale", "not_judged", "accepted", "passed", "not_reached", "not_applicable")
OUTCOME_LABELS: dict[str, str] = {
    "passed": "passed",
    "failed": "failed",
    "stale": "stale",
    "accepted": "accepted",
    "not_applicable": "not applicable",
    "not_reached": "not reached",
    "not_judged": "could not judge",
}
# Control characters a vendor's text may carry: C0 (but tab), DEL, C1, and the bidirectional overrides
# that make a terminal or a rendered page show text in another order than it is ("trojan source").
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """`text` with every control character (newline and tab aside) shown as an escape, e.g. ESC as
    `\\x1b`: raw, it could clear a terminal, rewrite what was printed before it, or reorder a line."""
    return _CONTROLS.sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF else f"\\x{ord(m.group()):02x}", text
    )


# Long request bodies (the suite sends up to ~100 KiB) would drown a report; the curl keeps the whole body.
MAX_BODY_CHARS = 20_000


def redacted_run(run: RunResult) -> RunResult:
    """A copy of `run` with every registered secret removed, and sensitive headers blanked.

    The runner redacts already; writers redo it so that a missed spot upstream never reaches a
    published report.
    """
    data = redact_value(run.to_dict())
    for result in data.get("results", []):
        for failure in result.get("failures", []):
            exchange = failure.get("exchange")
            if exchange:
                exchange["headers"] = _blank_sensitive(exchange.get("headers") or {})
                exchange["response_headers"] = _blank_sensitive(exchange.get("response_headers") or {})
    return RunResult.from_dict(data)


def _blank_sensitive(headers: dict[str, str]) -> dict[str, str]:
    # A value the runner already redacted ("Bearer [REDACTED]") is kept as is, so that a clean run's
    # conformance.json is exactly RunResult.to_dict(); any other value of a sensitive header is blanked.
    blanked = redact_headers(headers)
    return {name: value if REDACTED in value else blanked[name] for name, value in headers.items()}


def vendor_runs(run: RunResult) -> list[VendorRun]:
    """Every vendor of the run, including any that only appears in the results."""
    vendors = list(run.vendors)
    known = {v.vendor for v in vendors}
    for result in run.results:
        if result.vendor not in known:
            known.add(result.vendor)
            stub = VendorRun(result.vendor, display_name=result.vendor, spec_title="", spec_version="", target_url="")
            vendors.append(stub)
    return vendors


@dataclass(frozen=True)
class VendorStats:
    """Outcome counts of one vendor's checks."""

    counts: dict[str, int]

    @property
    def failing(self) -> int:
        return sum(self.counts.get(o, 0) for o in FAILING_OUTCOMES)

    def __getitem__(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)


def vendor_stats(run: RunResult, vendor: str) -> VendorStats:
    counts: Counter[str] = Counter(r.outcome for r in run.results_for(vendor))
    return VendorStats({o: counts.get(o, 0) for o in OUTCOMES})


def sorted_vendors(run: RunResult) -> list[VendorRun]:
    """Vendors ordered like Bowtie's matrix: fewest failing checks first, then most passed, then by name."""

    def key(v: VendorRun) -> tuple[int, int, str, str]:
        stats = vendor_stats(run, v.vendor)
        return (stats.failing, -stats["passed"], v.display_name.casefold(), v.vendor)

    return sorted(vendor_runs(run), key=key)


def check_names(run: RunResult) -> list[str]:
    """Check names in order of first appearance, the column order of every matrix."""
    return list(dict.fromkeys(r.check for r in run.results))


def operations_of(run: RunResult, vendor: str) -> list[str]:
    """The vendor's operations: those it declares, then any more that only appear in results."""
    declared = next((v.operations for v in run.vendors if v.vendor == vendor), [])
    return list(dict.fromkeys([*declared, *(r.operation for r in run.results_for(vendor))]))


def conformance_percent(run: RunResult, vendor: str) -> int | None:
    """Percentage of judged checks that passed, rounded down; None when no check was judged.

    Judged = passed + failed + stale + accepted. An accepted (known or baselined) deviation still is a
    deviation from the vendor's own spec, so it counts against conformance; not_applicable and
    not_reached checks were not judged and count for nothing. Rounded down so that 100% means
    every judged check passed.
    """
    stats = vendor_stats(run, vendor)
    judged = stats["passed"] + stats["failed"] + stats["stale"] + stats["accepted"]
    if judged == 0:
        return None
    return math.floor(100 * stats["passed"] / judged)


def failure_summary(result: CheckResult) -> str:
    """One line saying why a check did not pass: the first unaccepted failure's title, else the note."""
    if result.outcome == "stale":
        return "stale baseline entry, remove it" + (f": {result.note}" if result.note else "")
    titles = [f.title for f in result.failures if not f.accepted_reason] or [f.title for f in result.failures]
    if titles:
        more = len(titles) - 1
        return titles[0] + (f" (and {more} more)" if more else "")
    return result.note or result.outcome


def accepted_reasons(result: CheckResult) -> list[str]:
    """Distinct reasons for which failures of this check were accepted."""
    return list(dict.fromkeys(f.accepted_reason for f in result.failures if f.accepted_reason))


def truncate(text: str, limit: int = MAX_BODY_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... ({len(text) - limit} more characters)"


def format_body(body: Any) -> str:
    """A request body as pretty JSON (kept in the order it was sent)."""
    if body is None:
        return ""
    try:
        text = json.dumps(body, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(body)
    return truncate(text)


def format_request(exchange: Exchange | None) -> str:
    """The request of an exchange as HTTP-like text: request line, headers, blank line, body."""
    if exchange is None:
        return "(no request recorded)"
    lines = [f"{exchange.method} {exchange.url}"]
    lines += [f"{name}: {value}" for name, value in exchange.headers.items()]
    body = format_body(exchange.body)
    if body:
        lines += ["", body]
    return redact("\n".join(lines))


def format_response(exchange: Exchange | None) -> str:
    """The response of an exchange as HTTP-like text: status and time, headers, blank line, body."""
    if exchange is None or exchange.status is None:
        return "(no response)"
    status = f"HTTP {exchange.status}"
    if exchange.elapsed is not None:
        status += f"  ({exchange.elapsed:.3f} s)"
    lines = [status]
    lines += [f"{name}: {value}" for name, value in exchange.response_headers.items()]
    if exchange.response_body:
        lines += ["", truncate(exchange.response_body)]
    return redact("\n".join(lines))


_SLUG_RE = re.compile(r"[^A-Za-z0-9_-]+")


def slug(*parts: str) -> str:
    """An HTML id / anchor made of `parts`: ASCII letters, digits, '-' and '_' only."""
    return "--".join(_SLUG_RE.sub("-", p).strip("-").lower() or "x" for p in parts)


def result_ids(run: RunResult) -> dict[int, str]:
    """A unique, readable anchor per result (keyed by its index in run.results)."""
    ids: dict[int, str] = {}
    seen: set[str] = set()
    for index, result in enumerate(run.results):
        base = candidate = "r-" + slug(result.vendor, result.operation, result.check)
        n = 2
        while candidate in seen:
            candidate = f"{base}-{n}"
            n += 1
        seen.add(candidate)
        ids[index] = candidate
    return ids
