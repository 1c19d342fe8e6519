"""The engine's public entry point: a whole conformance run from plain settings, without pytest.

    settings = make_settings(vendors=["seekrflow"], seed=7)
    run_result = run(settings)            # generation, sending, checks, baseline, result building
    write_outputs(settings, run_result)   # reports (and --baseline-update), unless a dry run

Adapters (the pytest plugin, `conformance run`, the benchmarks) drive a `Runner`: `plan()` lists the
checks, `operation(vendor, label)` runs one operation once and returns its `OperationReport`, and
`result(reports)` assembles the `RunResult`. Data flows one way: Settings -> Runner -> OperationReport
-> RunResult -> reports. The baseline is applied in one place, `Runner._judge`: to each operation's
results as the operation finishes, and to the entries that name no check of the run, once, at the end.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import re
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from conformance import __version__
from conformance.baseline import Entry, apply_baseline, entries_from_profiles, load_baseline
from conformance.catalogue import ALL_CHECKS, TRANSPORT_CHECKS, order
from conformance.defaults import (
    DEFAULT_CONFIRM,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_REPORT_DIR,
    DEFAULT_TIMEOUT,
    EMBEDDED,
)
from conformance.engine import CheckId, OperationOutcome, RunOptions, StopReason, VendorRunner
from conformance.errors import UsageError
from conformance.redact import redact, register_secret
from conformance.results import CheckResult, RunResult, VendorRun
from conformance.transport import HttpxTransport, Ledger, RateLimit, tls_verify
from conformance.vendors import FALLBACK_TOKEN_ENV, Profile, select_vendors

MOCK_TOKEN = "conformance-mock-token"
MAX_WORKERS = 64  # --workers: more threads than this only add contention on one process's GIL
DRY_RUN_TOKEN = "conformance-dry-run-token"  # makes the cases carry an auth header that --dry-run then shows as $VAR

__all__ = [
    "CheckId",
    "OperationReport",
    "Runner",
    "Settings",
    "StopReason",
    "WorkerShare",
    "make_settings",
    "run",
    "write_outputs",
]


# ---------------------------------------------------------------- settings


@dataclass
class Settings:
    """A run's resolved, validated options."""

    profiles: list[Profile]
    target_url: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    max_examples: int = DEFAULT_MAX_EXAMPLES
    request_timeout: float = DEFAULT_TIMEOUT
    report_dir: Path = Path(DEFAULT_REPORT_DIR)
    baseline: Path | None = None
    baseline_update: bool = False
    max_requests: int | None = None
    rate_limit: RateLimit | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    verify: bool | str = True
    dry_run: bool = False
    timestamp_skew: float | None = None
    confirm: int = DEFAULT_CONFIRM  # re-sends of each distinct failure's kept case; 0: no confirmation
    shrink: bool = False  # --shrink: Hypothesis shrinks each failing case (on by default against the embedded mock)
    skip_checks: tuple[str, ...] = ()  # checks turned off (e.g. error_shape, for spec-only verdicts)
    workers: int = 1  # --workers: threads that send each operation's cases concurrently
    warnings: list[str] = field(default_factory=list)

    def base_url_for(self, profile: Profile) -> str | None:
        if self.target_url is None:
            return None
        root = self.target_url.rstrip("/")
        return f"{root}/{profile.key}" if len(self.profiles) > 1 else root


def _positive(name: str, value: float | None, *, integer: bool = False) -> None:
    """nan, inf, zero and negatives are usage errors, not values to run with."""
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        kind = "a positive whole number" if integer else "a positive, finite number"
        raise UsageError(f"{name} must be {kind} (got {value!r})")


def check_writable_dir(name: str, path: Path) -> None:
    """A directory we will write into (existing or to be created) can be: checked before anything is sent."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is" if probe == path else f"lies below {probe}, which is"
        raise UsageError(f"{name} {path}: {where} a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{name} {path}: {probe} is not writable")


def make_settings(
    *,
    vendors: Sequence[str] = (),
    vendors_dir: Path | str | None = None,
    target_url: str | None = None,
    params: Iterable[str] | dict[str, str] = (),
    seed: int | None = None,
    max_examples: int | None = None,
    request_timeout: float | None = None,
    report_dir: Path | str | None = None,
    baseline: Path | str | None = None,
    baseline_update: bool = False,
    max_requests: int | None = None,
    rate_limit: str | None = None,
    max_body_bytes: int | None = None,
    ca_bundle: Path | str | None = None,
    insecure: bool = False,
    timestamp_skew: float | None = None,
    dry_run: bool = False,
    check_report_dir: bool = True,
    confirm: int | None = None,
    skip_checks: Iterable[str] = (),
    shrink: bool | None = None,
    workers: int | None = None,
) -> Settings:
    """Validate plain options into Settings; any mistake is a UsageError of one line."""
    profiles = select_vendors(list(vendors), vendors_dir)
    pinned: dict[str, str] = {}
    if isinstance(params, dict):
        pinned.update(params)
    else:
        for raw in params:
            name, sep, value = raw.partition("=")
            if not sep or not name:
                raise UsageError(f"--param {raw!r}: expected NAME=VALUE")
            pinned[name] = value
    if target_url is not None:
        _check_target(target_url)
    _positive("--max-examples", max_examples, integer=True)
    _positive("--request-timeout", request_timeout)
    _positive("--timestamp-skew", timestamp_skew)
    _positive("--max-body-bytes", max_body_bytes, integer=True)
    _positive("--max-requests", max_requests, integer=True)
    skipped = tuple(dict.fromkeys(n for raw in skip_checks for n in raw.replace(",", " ").split()))
    for name in skipped:
        if name not in ALL_CHECKS:
            raise UsageError(f"--skip-check {name!r}: no such check (known: {', '.join(ALL_CHECKS)})")
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= MAX_WORKERS
    ):
        raise UsageError(f"--workers must be a whole number from 1 to {MAX_WORKERS} (got {workers!r})")
    if confirm is not None and (not isinstance(confirm, int) or confirm < 0):
        raise UsageError(f"--confirm must be a whole number of re-sends, 0 or more (got {confirm!r})")
    verify: bool | str = True
    warnings = []
    if ca_bundle:
        if not Path(ca_bundle).is_file():
            raise UsageError(f"--ca-bundle {ca_bundle}: no such file")
        verify = str(ca_bundle)
    if insecure:
        verify = False
        warnings.append("TLS certificate verification was disabled (--insecure)")
    known_params = {name for p in profiles for name in path_parameters(p)}
    unknown = sorted(set(pinned) - known_params)
    if unknown:
        raise UsageError(
            f"--param {unknown[0]}: no operation of {', '.join(p.key for p in profiles)} has that path parameter"
            f" (known: {', '.join(sorted(known_params)) or 'none'})"
        )
    if baseline_update and baseline is None:
        raise UsageError("--baseline-update needs a baseline file: --baseline FILE or ini conformance_baseline")
    reports = Path(report_dir or DEFAULT_REPORT_DIR)
    if check_report_dir and not dry_run:
        check_writable_dir("--report-dir", reports)
    return Settings(
        profiles=profiles,
        target_url=target_url,
        params=pinned,
        seed=random.SystemRandom().randrange(2**31) if seed is None else seed,
        max_examples=DEFAULT_MAX_EXAMPLES if max_examples is None else max_examples,
        request_timeout=DEFAULT_TIMEOUT if request_timeout is None else request_timeout,
        report_dir=reports,
        baseline=Path(baseline) if baseline else None,
        baseline_update=baseline_update,
        max_requests=max_requests,
        rate_limit=RateLimit.parse(rate_limit) if rate_limit else None,
        max_body_bytes=DEFAULT_MAX_BODY if max_body_bytes is None else max_body_bytes,
        verify=verify,
        dry_run=dry_run,
        timestamp_skew=timestamp_skew,
        confirm=DEFAULT_CONFIRM if confirm is None else confirm,
        skip_checks=skipped,
        workers=1 if workers is None else workers,
        shrink=target_url is None if shrink is None else shrink,  # it multiplies traffic: opt-in against a target
        warnings=warnings,
    )


def _check_target(target: str) -> None:
    parts = urlsplit(target)
    # Credentials in the URL (https://user:secret@host) are secrets like the token.
    # A lone user part (https://TOKEN@host) is the secret itself.
    register_secret(parts.password if parts.password is not None else parts.username)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0-65535
    except ValueError:
        raise UsageError(f"--target-url {redact(target)!r}: the port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(redact(f"--target-url {target!r}: expected an http(s) URL such as https://api.example.test"))


def path_parameters(profile: Profile) -> set[str]:
    """The names of the path parameters the vendor's spec declares (templated in its paths)."""
    return {name for path in (profile.spec.get("paths") or {}) for name in re.findall(r"\{([^}]+)\}", path)}


def operation_labels(profile: Profile) -> list[str]:
    """'METHOD /path' for every operation of the vendor's spec, in spec order."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    labels = []
    for path, item in (profile.spec.get("paths") or {}).items():
        if isinstance(item, dict):
            labels += [f"{m.upper()} {path}" for m in item if m in methods]
    return labels


# ---------------------------------------------------------------- what one operation produced


@dataclass
class OperationReport:
    """What one operation's run adds to the run: its results (baseline applied), totals and, for a dry
    run, the commands it would have sent. Also the one form in which xdist workers send results home."""

    vendor: VendorRun
    operation: str
    cases: int = 0
    created: int = 0
    coverage: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # how long the operation's run took (JUnit's testcase time)
    answered_by_mock: bool = False  # thread-conformance's own mock answered: a profile's known deviations do not apply
    stopped: StopReason | None = None
    stop_detail: str = ""
    results: list[CheckResult] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)

    def only(self, check_id: CheckId) -> OperationReport:
        """The same report with only the result of one check (what one pytest item carries)."""
        results = [r for r in self.results if CheckId.of(r) == check_id]
        planned = self.planned if check_id.check == ALL_CHECKS[0] else []
        return OperationReport(**{**self.__dict__, "results": results, "planned": planned})

    def to_json(self) -> str:
        data = asdict(self)
        data["stopped"] = self.stopped.value if self.stopped is not None else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> OperationReport:
        data = json.loads(text)
        shell = {"tool_version": "", "schemathesis_version": "", "seed": None, "started_at": ""}
        results = RunResult.from_dict({**shell, "results": data.pop("results")}).results
        stopped = StopReason(data.pop("stopped")) if data["stopped"] is not None else None
        return cls(**{**data, "vendor": VendorRun(**data.pop("vendor")), "stopped": stopped, "results": results})


# ---------------------------------------------------------------- the runner


@dataclass(frozen=True)
class WorkerShare:
    """This process's share of a run split over `count` processes (xdist). With a `ledger` (a file the
    controller made), every process counts against the one budget and paces on the one rate; without one,
    the budget and rate are divided evenly."""

    index: int = 0
    count: int = 1
    ledger: str | None = None

    def budget(self, total: int | None) -> int | None:
        if total is None or self.ledger is not None:
            return total
        return total // self.count + (1 if self.index < total % self.count else 0)

    def rate(self, rate: RateLimit | None) -> RateLimit | None:
        if rate is None or self.ledger is not None:
            return rate
        return RateLimit(rate.count, rate.period * self.count)


class Runner:
    """Runs the operations of a run, each once (thread-safe), and builds its result.

    Construction sends nothing; it loads the baseline, so a bad one is a usage error up front. The
    target (the embedded mock or the given URL) and the transport are set up at the first operation."""

    def __init__(self, settings: Settings, *, share: WorkerShare = WorkerShare()) -> None:
        self.settings = settings
        self.share = share
        self.entries = self._load_entries()
        self._stack = ExitStack()
        self._lock = threading.Lock()
        self._transport: HttpxTransport | None = None
        self._base_urls: dict[str, str] = {}
        self._runners: dict[str, VendorRunner] = {}
        self._reports: dict[tuple[str, str], OperationReport] = {}
        self._errors: dict[tuple[str, str], BaseException] = {}
        self._unreachable: str | None = None  # once the target cannot be reached, nothing more is sent
        self.partial: list[OperationReport] = []  # operations cut short by an interruption
        self._froze = False
        for profile in settings.profiles:
            register_secret(profile.token())
        register_secret(os.environ.get(FALLBACK_TOKEN_ENV))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()
        if self._froze:
            gc.unfreeze()  # a long-lived caller's objects are the collector's again
            self._froze = False

    # -- the plan

    def plan(self) -> list[CheckId]:
        """Every check of the run, in report order: vendor, operation (spec order), catalogue order."""
        return [
            CheckId(p.key, label, check)
            for p in self.settings.profiles
            for label in operation_labels(p)
            for check in ALL_CHECKS
        ]

    def preflight(self) -> None:
        """For a live target: every vendor has a token and the target answers, or one UsageError line."""
        s = self.settings
        if s.target_url is None or s.dry_run:
            return
        missing = [p for p in s.profiles if p.auth.required and not p.token()]
        if missing:
            names = "; ".join(f"{p.key}: set {p.auth.token_env} or {FALLBACK_TOKEN_ENV}" for p in missing)
            raise UsageError(f"no API token in the environment for {names}")
        for profile in s.profiles:
            _reachable(s.base_url_for(profile) or "", s.request_timeout, s.verify)

    # -- running

    def operation(self, vendor: str, label: str) -> OperationReport:
        """The report of one operation, run on the first call; later calls (its other checks) reuse it."""
        key = (vendor, label)
        with self._lock:
            if key in self._errors:
                # Run once: an operation whose run crashed is not re-sent for each of its check items.
                raise RuntimeError(f"the run of {vendor} {label} failed (see its first item): {self._errors[key]!r}")
            if key in self._reports:
                return self._reports[key]
            if self._unreachable is not None:
                outcome = OperationOutcome(
                    label=label, tallies={}, cases=0, stopped=StopReason.UNREACHABLE, stop_detail=self._unreachable
                )
                self._reports[key] = self._report(vendor, outcome)
                return self._reports[key]
            runner = self._runner(vendor)
            operation = next(op for op in runner.operations() if op.label == label)
            # What is alive now (the imports, the schema, the mock) lives until the run ends: out of the
            # collector's way, every collection of the old generation scans only what the run made since.
            gc.freeze()
            self._froze = True
            try:
                outcome = runner.run_operation(operation)
            except KeyboardInterrupt:
                if runner.partial is not None:
                    self.partial.append(self._report(vendor, runner.partial))
                raise
            except Exception as exc:
                self._errors[key] = exc
                raise
            if outcome.unreachable:
                self._unreachable = outcome.stop_detail
            self._reports[key] = self._report(vendor, outcome)
            return self._reports[key]

    def _report(self, vendor: str, outcome: OperationOutcome) -> OperationReport:
        runner = self._runner(vendor)
        return OperationReport(
            vendor=runner.vendor_run(),
            operation=outcome.label,
            cases=outcome.cases,
            created=outcome.created,
            coverage=outcome.coverage,
            seconds=outcome.seconds,
            answered_by_mock=outcome.answered_by_mock,
            stopped=outcome.stopped,
            stop_detail=outcome.stop_detail,
            results=self._judge(
                outcome.results(vendor, ALL_CHECKS),
                [vendor],
                complete=outcome.stopped is None,
                mocked={vendor} if outcome.answered_by_mock else set(),
            ),
            planned=runner.planned.get(outcome.label, []),
        )

    def _runner(self, vendor: str) -> VendorRunner:
        if vendor not in self._runners:
            s = self.settings
            if self._transport is None:
                self._transport = HttpxTransport(
                    timeout=s.request_timeout,
                    verify=s.verify,
                    max_requests=self.share.budget(s.max_requests),
                    rate_limit=self.share.rate(s.rate_limit),
                    max_body_bytes=s.max_body_bytes,
                    ledger=Ledger(self.share.ledger) if self.share.ledger else None,
                )
                self._stack.callback(self._transport.close)
                self._base_urls = self._targets()
            profile = next(p for p in s.profiles if p.key == vendor)
            options = RunOptions(
                seed=s.seed,
                max_examples=s.max_examples,
                params=s.params,
                dry_run=s.dry_run,
                timestamp_skew=s.timestamp_skew,
                confirm=s.confirm,
                shrink=s.shrink,
                workers=s.workers,
                checks=tuple(c for c in ALL_CHECKS if c not in s.skip_checks),
            )
            self._runners[vendor] = VendorRunner(
                profile, self._base_urls[vendor], self._token(profile), self._transport, options
            )
        return self._runners[vendor]

    def _targets(self) -> dict[str, str]:
        s = self.settings
        if s.target_url is not None:
            return {p.key: s.base_url_for(p) or "" for p in s.profiles}
        from conformance.mock import create_app
        from conformance.server import running_server

        tokens = {p.token() or MOCK_TOKEN for p in s.profiles}
        # Resources pinned with --param exist on the embedded mock, as they would on a real target.
        app = create_app(s.profiles, tokens=tokens, prefix_by_vendor=True, existing=s.params)
        root = self._stack.enter_context(running_server(app))
        return {p.key: f"{root.rstrip('/')}/{p.key}" for p in s.profiles}

    def _token(self, profile: Profile) -> str | None:
        token = profile.token()
        if token is None and self.settings.dry_run:
            return DRY_RUN_TOKEN
        if token is None and self.settings.target_url is None:
            return MOCK_TOKEN
        return token

    # -- the baseline: loaded once, applied in `_judge` only

    def _load_entries(self) -> list[Entry]:
        s = self.settings
        entries = list(entries_from_profiles(s.profiles))
        if s.baseline is not None and s.baseline.exists():
            from_file = load_baseline(s.baseline)  # validated even when it is about to be rewritten
            if not s.baseline_update:
                entries += from_file
        elif s.baseline is not None and not s.baseline_update:
            raise UsageError(f"baseline file {s.baseline} does not exist")
        return entries

    def _judge(
        self, results: list[CheckResult], vendors: Sequence[str], *, complete: bool, mocked: set[str] | None = None
    ) -> list[CheckResult]:
        """Apply the baseline entries that name these results (or, with no results, the entries that name no
        check of the run at all): the one place the baseline is applied.

        A profile's known deviations are its vendor's server's: where `mocked` says our own mock answered
        (the reference serves the spec; a mutant deviates only as its name says), they do not apply."""
        keys = {r.key for r in results}
        mocked = mocked or set()
        usable = [e for e in self.entries if not (e.from_profile and e.vendor in mocked)]
        if results:
            entries = [e for e in usable if e.key in keys]
        else:
            planned = {str(check_id) for check_id in self.plan()}
            entries = [e for e in usable if e.key not in planned and e.vendor in vendors]
        if not entries:
            return results
        shell = RunResult(
            tool_version=__version__,
            schemathesis_version="",
            seed=self.settings.seed,
            started_at="",
            interrupted=not complete,
            vendors=[
                VendorRun(vendor=v, display_name="", spec_title="", spec_version="", target_url="") for v in vendors
            ],
            results=results,
        )
        return apply_baseline(shell, entries, today=date.today()).results

    # -- the result

    def result(
        self, reports: Iterable[OperationReport], *, interrupted: bool = False, started_at: str | None = None
    ) -> RunResult:
        """The run's result from the reports of the operations (or single checks) that ran."""
        s = self.settings
        reports = list(reports)
        position = {p.key: i for i, p in enumerate(s.profiles)}
        results = [r for report in reports for r in report.results]
        stops = {(rep.vendor.vendor, rep.operation): rep.stopped for rep in reports}
        details = {(rep.vendor.vendor, rep.operation): rep.stop_detail for rep in reports}

        def stopped_by(reason: StopReason, r: CheckResult) -> bool:
            return r.outcome == "not_reached" and stops.get((r.vendor, r.operation)) is reason

        budget_exhausted = any(stopped_by(StopReason.BUDGET, r) for r in results)
        if interrupted:  # every check that never reported was not reached; what names it is said so
            known = {CheckId.of(r) for r in results}
            note = StopReason.INTERRUPTED.note()
            missing = [
                CheckResult(vendor=c.vendor, operation=c.operation, check=c.check, outcome="not_reached", note=note)
                for c in self.plan()
                if c not in known
            ]
            mocked = {rep.vendor.vendor for rep in reports if rep.answered_by_mock}
            missing_vendors = sorted({r.vendor for r in missing})
            results += self._judge(missing, missing_vendors, complete=False, mocked=mocked) if missing else []
        vendors: dict[str, VendorRun] = {}
        for report in reports:
            vendors.setdefault(report.vendor.vendor, report.vendor)
        for profile in s.profiles:  # a vendor the run never reached still heads its results
            if profile.key not in vendors and any(r.vendor == profile.key for r in results):
                vendors[profile.key] = _vendor_run(profile, s)
        per_operation: dict[tuple[str, str], OperationReport] = {}
        for report in reports:
            per_operation.setdefault((report.vendor.vendor, report.operation), report)
        ordered = sorted(vendors.values(), key=lambda v: position.get(v.vendor, len(position)))
        for vendor in ordered:
            mine = sorted((label, rep) for (key, label), rep in per_operation.items() if key == vendor.vendor)
            vendor.operations = [label for label, _ in mine]
            vendor.cases = sum(rep.cases for _, rep in mine)
            vendor.created_resources = sum(rep.created for _, rep in mine)
            vendor.coverage = {label: rep.coverage for label, rep in mine if rep.coverage}
            vendor.operation_seconds = {label: rep.seconds for label, rep in mine}
        # Entries naming no check of the run (a typo): stale, unless the run ended early and cannot tell.
        complete = not (interrupted or budget_exhausted)
        mocked = {rep.vendor.vendor for rep in reports if rep.answered_by_mock}
        orphans = self._judge([], [v.vendor for v in ordered], complete=True, mocked=mocked) if complete else []
        results = sorted(
            results + orphans,
            key=lambda r: (position.get(r.vendor, len(position)), r.operation, order(r.check)),
        )
        unreachable = sorted(
            {
                StopReason.UNREACHABLE.note(details[(r.vendor, r.operation)])
                for r in results
                if stopped_by(StopReason.UNREACHABLE, r)
            }
        )
        unjudged = [] if s.dry_run or interrupted else _unjudged(ordered, results)
        return RunResult(
            tool_version=__version__,
            schemathesis_version=version("schemathesis"),
            seed=s.seed,
            started_at=started_at or datetime.now(UTC).isoformat(),
            finished_at=datetime.now(UTC).isoformat(),
            interrupted=interrupted,
            budget_exhausted=budget_exhausted,
            warnings=list(s.warnings)
            + unreachable
            + [f"{vendor}: not one response could be judged, so no conformance can be claimed" for vendor in unjudged],
            vendors=ordered,
            results=results,
            unjudged=unjudged,
        )


def _vendor_run(profile: Profile, settings: Settings) -> VendorRun:
    info = profile.spec.get("info", {})
    return VendorRun(
        vendor=profile.key,
        display_name=profile.display_name,
        spec_title=str(info.get("title", "")),
        spec_version=str(info.get("version", "")),
        target_url=redact(settings.base_url_for(profile) or EMBEDDED),
    )


def _unjudged(vendors: list[VendorRun], results: list[CheckResult]) -> list[str]:
    """Vendors of which no check judged a single answer: not-a-5xx and the transport checks hold even
    for a target that answers nothing but 429, so they do not count."""
    structural = {"not_a_server_error", *TRANSPORT_CHECKS}
    judged = {
        r.vendor for r in results if r.outcome not in ("not_applicable", "not_reached") and r.check not in structural
    }
    return [v.vendor for v in vendors if v.vendor not in judged]


def _reachable(url: str, timeout: float, verify: bool | str) -> None:
    """Fail fast with one line when the target cannot be reached; the first failure is retried once."""
    parts = urlsplit(url)
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return  # the proxy decides what is reachable
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    last: Exception | None = None
    for _ in range(2):
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                if parts.scheme == "https":
                    # The very trust the run's httpx client uses (certifi, --ca-bundle, SSL_CERT_FILE), so the
                    # preflight cannot pass where the run then fails, or the other way round.
                    context = httpx.create_ssl_context(verify=tls_verify(verify), trust_env=True)
                    with context.wrap_socket(sock, server_hostname=host):
                        pass
            return
        except (OSError, ssl.SSLError) as exc:
            last = exc
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")  # never the URL's credentials
    raise UsageError(redact(f"conformance: cannot reach {shown}: {_reason(last)}"))


def _reason(exc: Exception | None) -> str:
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "connection timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------- whole runs


def run(settings: Settings) -> RunResult:
    """A whole conformance run, every operation of every vendor in turn; Ctrl-C ends it with partial results."""
    started = datetime.now(UTC).isoformat()
    with Runner(settings) as runner:
        runner.preflight()
        reports: list[OperationReport] = []
        try:
            for profile in settings.profiles:
                for label in operation_labels(profile):
                    reports.append(runner.operation(profile.key, label))
        except KeyboardInterrupt:
            return runner.result(reports + runner.partial, interrupted=True, started_at=started)
        return runner.result(reports, started_at=started)


def write_outputs(settings: Settings, result: RunResult) -> None:
    """Write the run's reports and, with --baseline-update, its baseline; a dry run writes nothing."""
    if settings.dry_run:
        return
    from conformance.baseline import update_baseline
    from conformance.reports import write_reports

    write_reports(result, settings.report_dir)
    if settings.baseline_update and settings.baseline is not None:
        existing = load_baseline(settings.baseline) if settings.baseline.exists() else []
        update_baseline(settings.baseline, result, existing)
