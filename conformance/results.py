"""The neutral result model that every report is written from.

One run holds, per vendor, one `CheckResult` per operation x check. `conformance.json` is this
model serialised with `RunResult.to_dict()`; `RunResult.from_dict()` reads it back, so every other
report can be regenerated from that file alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "not_applicable", "accepted", "stale", "not_reached", "not_judged"]
# passed: ran on >= 1 case, never failed.  failed: >= 1 failure not accepted.
# not_applicable: no case it could judge.  accepted: every failure matched a baseline/deviation entry.
# stale: a baseline/deviation entry for this check no longer reproduces (fails the run, like a strict xfail).
# not_reached: the run ended (budget, interruption) before this check ran.
# not_judged: one of our checks could not judge a response (it raised, e.g. RecursionError on a body nested
# 100,000 deep): never charged to the vendor, yet the run cannot pass.
FAILING_OUTCOMES: frozenset[str] = frozenset({"failed", "stale"})
NOT_JUDGED = "not_judged"
# Outcomes that make a run fail: the vendor's failures, and what we could not judge.
BLOCKING_OUTCOMES: frozenset[str] = FAILING_OUTCOMES | {NOT_JUDGED}
SCHEMA_VERSION = 1


@dataclass
class Exchange:
    """One request and its response, as sent and seen (secrets already redacted)."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any = None  # JSON value sent, or None when no body
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None  # text, truncated for reports
    elapsed: float | None = None
    # What `conformance replay` needs beyond the above: the sent body's exact bytes (base64) when it is not a
    # JSON value (`body` then holds its text, lossy), and whether the request carried the run's valid
    # credential (the header itself is always redacted). None in reports written before replay existed.
    body_base64: str | None = None
    authenticated: bool | None = None


@dataclass
class Failure:
    """One distinct failure of a check: the smallest case found that shows it."""

    check: str
    title: str
    message: str
    exchange: Exchange | None
    curl: str
    phase: str | None = None  # examples | coverage | fuzzing | probe
    generation_mode: str | None = None  # positive | negative
    accepted_reason: str | None = None  # set when a baseline or known deviation accepts it
    accepted_link: str | None = None
    accepted_expires: str | None = None  # ISO date the accepting entry expires on, if it does
    # The failure's identity (see conformance.identity): `id` e.g. "F-7c1e9a2b", from vendor, operation,
    # check and `finding`, e.g. "ST108 200 /components/schemas/ThreadStatus/enum". None in reports
    # written before ids existed.
    id: str | None = None
    finding: str | None = None
    # Confirmation (--confirm N): the kept case was sent again N times. "confirmed": it failed the same way
    # every time; "not_reproduced": at least once it did not (an intermittent failure, still failing);
    # None: not confirmed (--confirm 0, a dry run, the budget ran out first, or the case created an id it chose
    # itself and the re-send, a repeat of that id, was answered otherwise). `confirmation_exchange`
    # is the last re-send (the first one that did not reproduce, if any).
    confirmation: str | None = None
    confirmation_exchange: Exchange | None = None
    # --shrink: the smallest request Hypothesis's shrinker found that fails the same way (same id), its curl,
    # what the search and shrinking cost in requests, and a note when it stopped short (budget) or found nothing.
    shrunk_exchange: Exchange | None = None
    shrunk_curl: str | None = None
    shrink_requests: int | None = None
    shrink_note: str | None = None

    @property
    def label(self) -> str | None:
        """The confirmation label reports show: "confirmed", "not reproduced (intermittent)", or None."""
        if self.confirmation == "confirmed":
            return "confirmed"
        if self.confirmation == "not_reproduced":
            return "not reproduced (intermittent)"
        return None

    def where(self) -> str:
        """A human-readable description: the check, title and finding."""
        return f"{self.check}: {self.title}" + (f" ({self.finding})" if self.finding else "")


@dataclass
class CheckResult:
    """Outcome of one check on one operation of one vendor."""

    vendor: str
    operation: str  # e.g. "POST /v1/threads"
    check: str
    outcome: Outcome
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)
    note: str | None = None  # e.g. the stale baseline entry, or why it was not reached

    @property
    def key(self) -> str:
        return f"{self.vendor}::{self.operation}::{self.check}"


@dataclass
class VendorRun:
    """Run metadata for one vendor."""

    vendor: str
    display_name: str
    spec_title: str
    spec_version: str
    target_url: str
    operations: list[str] = field(default_factory=list)
    cases: int = 0
    # Per operation, per request field: what the run exercised (see conformance.coverage).
    coverage: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    created_resources: int = 0
    # Per operation: seconds its run took (every check of it judges the same cases in that time).
    operation_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class RunResult:
    """A whole conformance run."""

    tool_version: str
    schemathesis_version: str
    seed: int | None
    started_at: str
    finished_at: str | None = None
    interrupted: bool = False
    budget_exhausted: bool = False
    warnings: list[str] = field(default_factory=list)
    vendors: list[VendorRun] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    # Vendors of which not one response could be judged (e.g. every request throttled with 429): the
    # run proves nothing about them, so it cannot pass.
    unjudged: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.unjudged) or any(r.outcome in BLOCKING_OUTCOMES for r in self.results)

    def results_for(self, vendor: str) -> list[CheckResult]:
        return [r for r in self.results if r.vendor == vendor]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        vendors = [VendorRun(**v) for v in data.get("vendors", [])]
        results = []
        for r in data.get("results", []):
            failures = []
            for f in r.get("failures", []):
                exchange = Exchange(**f["exchange"]) if f.get("exchange") else None
                again = Exchange(**f["confirmation_exchange"]) if f.get("confirmation_exchange") else None
                shrunk = Exchange(**f["shrunk_exchange"]) if f.get("shrunk_exchange") else None
                failures.append(
                    Failure(**{**f, "exchange": exchange, "confirmation_exchange": again, "shrunk_exchange": shrunk})
                )
            results.append(CheckResult(**{**r, "failures": failures}))
        rest = {k: v for k, v in data.items() if k not in ("vendors", "results")}
        return cls(**rest, vendors=vendors, results=results)
