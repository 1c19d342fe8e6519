"""Runs the conformance suite for one vendor: generation by Schemathesis, sending by our transport.

For each operation the engine builds Schemathesis's own Hypothesis test (examples, coverage and
fuzzing phases; positive and negative), with a test function that sends the case through the
`HttpxTransport` and runs every check on the response. The test function never raises for a
failed check: every check runs on every case and every phase runs to the end, and the engine
records per check how many cases it judged and each distinct failure (the smallest case seen).

`_exercise` is three steps: `_prepare` (the request and what reports show of it), `_send` (the wire only)
and `_judge` (every check). With `--workers N` the test function prepares a case and hands it to a
`_Pipeline`, which sends from N threads while this thread goes on generating and judges the answers in
generation order; with one worker, each case is sent and judged before the next is generated.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import functools
import hashlib
import threading
import time
import unittest
import uuid
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum
from typing import Any

import httpx
import hypothesis
import hypothesis.strategies as st
import jsonschema
import schemathesis
from hypothesis.errors import HypothesisWarning, InvalidArgument
from schemathesis.checks import CHECKS as ST_CHECKS
from schemathesis.checks import CheckContext, run_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData, ServerError
from schemathesis.core.failures import Failure as StFailure
from schemathesis.core.transport import Response as StResponse
from schemathesis.generation import derive_operation_seed
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override
from schemathesis.openapi.checks import RejectedPositiveData, UndefinedStatusCode

from conformance import checks as our_checks
from conformance import compat
from conformance.catalogue import ALL_CHECKS, BUILTIN_CHECKS, TRANSPORT_CHECKS
from conformance.coverage import CoverageRecord
from conformance.defaults import MOCK_HEADER
from conformance.identity import (
    REQUEST_KEYED,
    failure_id,
    finding_key,
    property_pointer,
    property_pointers,
    rejection_cause,
    request_violations,
    required_properties,
)
from conformance.redact import redact, redact_clipped, redact_headers, redact_value, secrets
from conformance.repro import curl_command, redacted_bytes
from conformance.results import CheckResult, Exchange, Failure, VendorRun
from conformance.strategies import Mode, body_validator, coverage_bodies, request_bodies
from conformance.transport import (
    CAP_HEADER,
    BrokenResponse,
    BudgetExhausted,
    HttpxTransport,
    RequestTimedOut,
    SendCancelled,
    TargetUnreachable,
    UnsendableRequest,
    encode_json_body,
    header_dict,
    non_json_constant,
    request_from_kwargs,
    route_schema_through,
)
from conformance.vendors import Profile
from conformance.verdicts import confirm, shrink

__all__ = ["ALL_CHECKS", "BUILTIN_CHECKS", "TRANSPORT_CHECKS", "CheckId", "StopReason", "VendorRunner"]
# A request sent on purpose without valid credentials may be refused with these, documented or not.
CREDENTIAL_REFUSALS = frozenset({401, 403})
# A rejected valid case is sent again with its required properties and one group of the others at a time, to key
# the rejection by what the target rejects (`rejected_parts`): at most this many groups (one per declared property,
# per pattern, and one of the undeclared ones).
MAX_REJECTION_PROBES = 16
AUTH_AWARE_CHECKS = frozenset({"status_code_conformance", "positive_data_acceptance"})
MAX_BODY_IN_REPORT = 4000
RATE_LIMITED = 429
# RFC 9110, 15.6.2: 501 is "the appropriate response when the server does not recognize the request method". The
# coverage phase sends methods the spec does not declare on the operation's path (TRACE); a server whose framework
# answers them 501 conforms to HTTP, and nothing in the vendor's spec says otherwise.
METHOD_NOT_RECOGNISED = 501
PROBES_PER_OPERATION = 3
MAX_DRY_RUN_BODY = 4000  # bytes of a body --dry-run prints in its curl command
OUR_POSITIVE_WEIGHT = 2  # in the fuzzing phase's choice between Schemathesis's cases and ours
CASE_ID_HEADER = "x-schemathesis-testcaseid"
# --workers: cases in flight per sending thread, so that the run's thread generates ahead while a case that must
# wait for an earlier one with the same client-chosen id does (what a window of cases holds in memory is bounded).
WINDOW_PER_WORKER = 4
JSON_MEDIA_TYPE = "application/json"  # the media type of the request bodies our strategies draw (body_schema)
SKIPPED_NOTE = "turned off (--skip-check / ini conformance_skip_checks)"


class StopReason(Enum):
    """Why an operation's run ended before all its cases were sent."""

    BUDGET = "budget"  # --max-requests was spent
    UNREACHABLE = "unreachable"  # the target stopped answering at the network level
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM
    DRY_RUN = "dry run"  # --dry-run: nothing is sent at all

    def note(self, detail: str = "") -> str:
        """The sentence reports show for a check this stop left unjudged."""
        if self is StopReason.BUDGET:
            return detail  # the transport's own sentence names the budget
        if self is StopReason.UNREACHABLE:
            return f"the target became unreachable: {detail}"
        if self is StopReason.INTERRUPTED:
            return "the run was interrupted"
        return "dry run: nothing was sent"


@dataclass(frozen=True, order=True)
class CheckId:
    """One check of one operation of one vendor: the unit of a verdict (a pytest item, a report row)."""

    vendor: str
    operation: str  # e.g. "POST /v1/threads"
    check: str

    def __str__(self) -> str:
        return f"{self.vendor}::{self.operation}::{self.check}"  # CheckResult.key and baseline Entry.key

    @classmethod
    def of(cls, result: CheckResult) -> CheckId:
        return cls(result.vendor, result.operation, result.check)


@dataclass
class RunOptions:
    """Per-run choices, from the command line or ini."""

    seed: int
    max_examples: int = 100
    params: dict[str, str] = field(default_factory=dict)
    checks: tuple[str, ...] = ALL_CHECKS
    dry_run: bool = False
    timestamp_skew: float | None = None  # seconds; None: the profile's, else the default
    shrink: bool = False  # --shrink: reduce each failure's case with Hypothesis's shrinker (conformance.verdicts)
    confirm: int = 1  # re-sends of each distinct failure's kept case (conformance.verdicts); 0: none
    workers: int = 1  # --workers: threads that send a phase's cases concurrently (1: each case sent, then judged)


@dataclass
class _CheckTally:
    cases: int = 0
    failures: dict[str, tuple[tuple[int, int], Failure]] = field(default_factory=dict)  # key -> (rank, failure)
    # Our check raised: not the vendor's.
    not_judged: dict[str, tuple[tuple[int, int], Failure]] = field(default_factory=dict)
    cases_kept: dict[str, Any] = field(default_factory=dict)  # finding key -> the case of the kept failure


@dataclass
class _Prepared:
    """A case ready to send: the request, and what reports show of it."""

    case: Any
    method: str
    url: str
    headers: dict[str, str]
    params: Any
    content: bytes | None
    exchange: Exchange
    curl: Callable[[], str]
    phase: str
    mode: str
    size: int


@dataclass(frozen=True)
class _Answer:
    """The target's answer to a probe of `VendorRunner.rejected_parts`: its status (None: no answer), and
    whether it is the documented conflict to a client-chosen id this run created."""

    status: int | None
    conflict: bool


def _rejected(answer: _Answer) -> bool:
    """A valid request still rejected: neither a 2xx nor the documented conflict (no answer counts as rejected)."""
    return not (answer.conflict or (answer.status is not None and 200 <= answer.status < 300))


def _crashed(answer: _Answer) -> bool:
    """A valid request still crashing the target: a 5xx (no answer counts as crashing)."""
    return answer.status is None or answer.status >= 500


class RunStopped(Exception):
    """The run cannot go on (budget spent, target unreachable)."""


@dataclass
class OperationOutcome:
    """Everything one operation's run produced."""

    label: str
    tallies: dict[str, _CheckTally]
    cases: int
    stopped: StopReason | None = None  # why the run stopped early
    stop_detail: str = ""  # what the transport said about it
    dry_run: bool = False
    created: int = 0  # 2xx answers to creating requests: resources left on the target
    coverage: dict[str, Any] = field(default_factory=dict)  # per request field: what the sent bodies exercised
    seconds: float = 0.0  # wall-clock time of the operation's run (for JUnit's testcase time)
    answered_by_mock: bool = False  # the target is thread-conformance's own mock: a vendor's deviations do not apply

    @property
    def unreachable(self) -> bool:
        """The target could no longer be reached: the run must stop."""
        return self.stopped is StopReason.UNREACHABLE

    @property
    def stop_note(self) -> str | None:
        return self.stopped.note(self.stop_detail) if self.stopped is not None else None

    def results(self, vendor: str, checks: tuple[str, ...]) -> list[CheckResult]:
        out = []
        for name in checks:
            tally = self.tallies.get(name, _CheckTally())
            kept = sorted(tally.failures.values(), key=lambda item: (item[1].title, item[1].finding or ""))
            failures = [f for _, f in kept]
            for failure in failures:  # the id needs the vendor and operation, known here
                failure.id = failure_id(vendor, self.label, name, failure.finding or failure.title)
            if failures:
                outcome = "failed"
            elif tally.not_judged:
                outcome = "not_judged"
                failures = [f for _, f in sorted(tally.not_judged.values(), key=lambda item: item[1].title)]
                for failure in failures:
                    failure.id = failure_id(vendor, self.label, name, failure.finding or failure.title)
            elif tally.cases:
                outcome = "passed"
            elif self.stopped or self.dry_run:
                outcome = "not_reached"
            else:
                outcome = "not_applicable"
            out.append(
                CheckResult(
                    vendor=vendor,
                    operation=self.label,
                    check=name,
                    outcome=outcome,  # type: ignore[arg-type]
                    cases=tally.cases,
                    failures=failures,
                    note=SKIPPED_NOTE
                    if name not in self.tallies and outcome == "not_applicable"
                    else self._note(outcome),
                )
            )
        return out

    def _note(self, outcome: str) -> str | None:
        if outcome == "not_reached":
            return self.stop_note or StopReason.DRY_RUN.note()
        if self.stopped and outcome in ("passed", "failed"):
            return f"judged only the cases sent before the run stopped: {self.stop_note}"
        return None


class _Pipeline:
    """Sends an operation's cases from `workers` threads (--workers) while the run's thread generates and judges.

    The run's thread prepares each case and reserves its budget slot in generation order, then hands it to
    a sending thread (which waits for its rate slot and sends: the wire only) and judges the answers in
    generation order, so the checks that remember earlier answers (unique ids, conflicts) see the same
    history as a run with one worker. At most `WINDOW_PER_WORKER * workers` cases are in flight: when the
    window is full, the oldest is judged first.

    Under --max-requests, a case's slot is reserved only once the budget left covers the most that every case
    in flight, this one included, may still cost (`extra_per_case`: ignored_auth's probes, sent while the
    case is judged, and 429 retries); until then the oldest cases are judged first. So no request in flight
    finds the budget spent, and the budget covers exactly the cases and probes a run with one worker sends.

    Cases that carry the same client-chosen id (profile `client_ids`) are kept in generation order at the
    target until one of them is answered with a 2xx (the target then holds the id, and under the conflict
    policies a repeat changes nothing): a valid case is sent only after every earlier case with that id was
    answered, and an invalid (negative) case after every earlier valid one, else which of two creates gets
    the 201 and which the 409 would be a race. Invalid cases with the same id may be in flight together:
    they create nothing on a conforming target (Schemathesis's coverage phase sends a hundred of them with
    one id). A waiting case holds no sending thread."""

    def __init__(
        self,
        runner: VendorRunner,
        workers: int,
        judge: Callable[[_Prepared, httpx.Response | Exception], None],
        stop: Callable[[BudgetExhausted | TargetUnreachable], None],
        extra_per_case: int = 0,
    ) -> None:
        self.runner = runner
        self.judge = judge
        self.stop = stop
        self.stopped = False
        self.extra_per_case = extra_per_case
        self.limit = WINDOW_PER_WORKER * workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conformance-send")
        self.window: collections.deque[tuple[_Prepared, Future[httpx.Response | Exception]]] = collections.deque()
        self.last_with_id: dict[str, Future[httpx.Response | Exception]] = {}  # client-chosen id -> its last send
        # Invalid (negative) cases with a client-chosen id, sent since the last case that may create it.
        self.invalid_since: dict[str, list[Future[httpx.Response | Exception]]] = {}
        self.established: set[str] = set()  # client-chosen ids a 2xx answered: the target holds them
        self.lock = threading.Lock()

    def submit(self, prepared: _Prepared) -> None:
        """Reserve the case's request and start sending it; BudgetExhausted when the budget is spent."""
        while self.window and not self._budget_covers(len(self.window) + 1):
            self._judge_oldest()
        if self.stopped:
            return
        self.runner.transport.reserve()
        with self.lock:
            keys = [key for key in self._client_ids(prepared.case) if key not in self.established]
        future: Future[httpx.Response | Exception] = Future()
        # After the last case that may create the id; a case that may create it also after every invalid one
        # sent since (readers and writers, the invalid cases being the readers).
        before = [self.last_with_id[key] for key in keys if key in self.last_with_id]
        if prepared.mode == "negative":
            for key in keys:
                self.invalid_since.setdefault(key, []).append(future)
        else:
            before += [earlier for key in keys for earlier in self.invalid_since.pop(key, [])]
            self.last_with_id.update(dict.fromkeys(keys, future))
        self.window.append((prepared, future))
        self._after(before, functools.partial(self._start, prepared, keys, future))
        while len(self.window) >= self.limit:
            self._judge_oldest()

    @staticmethod
    def _after(before: list[Future[Any]], start: Callable[[], None]) -> None:
        """Call `start` once every future of `before` is done (at once when none is pending). A case waiting
        for an earlier one holds no sending thread: the threads keep sending the cases that need not wait."""
        pending = [f for f in before if not f.done()]
        if not pending:
            start()
            return
        left = [len(pending)]
        lock = threading.Lock()

        def one_done(_: Future[Any]) -> None:
            with lock:
                left[0] -= 1
                ready = left[0] == 0
            if ready:
                start()

        for earlier in pending:
            earlier.add_done_callback(one_done)

    def _start(self, prepared: _Prepared, keys: list[str], future: Future[httpx.Response | Exception]) -> None:
        try:
            sending = self.pool.submit(self._send, prepared, keys)
        except RuntimeError:  # the pool was shut down: the run was interrupted
            future.set_exception(SendCancelled("the run was interrupted before this request was sent"))
            return
        sending.add_done_callback(functools.partial(_relay, future))

    def _send(self, prepared: _Prepared, keys: list[str]) -> httpx.Response | Exception:
        sent = self.runner._send(prepared, reserved=True)
        if keys and isinstance(sent, httpx.Response) and 200 <= sent.status_code < 300:
            # The target now holds these ids, and a repeat changes nothing under the conflict policies
            # (reject, return the existing): later repeats are answered alike in any order.
            with self.lock:
                self.established.update(keys)
        return sent

    def _client_ids(self, case: Any) -> list[str]:
        """The client-chosen ids a case carries, compared loosely (a UUID's case aside, two equal ids always match)."""
        body = case.body if isinstance(case.body, dict) else {}
        return [
            f"{rule.name}={str(body[rule.name]).lower()}"
            for rule in self.runner.profile.client_ids
            if rule.name in body
        ]

    def _budget_covers(self, cases: int) -> bool:
        """Whether the budget left covers one more reservation and the most that `cases` cases may still cost."""
        left = self.runner.transport.budget_left()
        return left is None or left >= 1 + cases * self.extra_per_case

    def _judge_oldest(self) -> None:
        prepared, future = self.window.popleft()
        try:
            sent = future.result()
        except (BudgetExhausted, TargetUnreachable) as exc:  # a retry found the budget spent; the target went away
            self._stop(exc)
            return
        except SendCancelled:
            return
        try:
            self.judge(prepared, sent)
        except (BudgetExhausted, TargetUnreachable) as exc:  # a check's own probe (ignored_auth) could not be sent
            self._stop(exc)

    def _stop(self, exc: BudgetExhausted | TargetUnreachable) -> None:
        self.stopped = True
        self.stop(exc)

    def drain(self) -> None:
        """Judge every case still in flight."""
        while self.window:
            self._judge_oldest()
        self.last_with_id.clear()
        self.invalid_since.clear()

    def close(self, *, cancel: bool) -> None:
        """Join the sending threads; with `cancel` (an interrupt, a crash), what waits or is on the wire is cut off."""
        if cancel:
            with self.runner.transport.cancelling():
                self.pool.shutdown(wait=True, cancel_futures=True)
        else:
            self.pool.shutdown(wait=True)
        self.window.clear()


def _relay(to: Future[Any], done: Future[Any]) -> None:
    """Settle `to` as `done` settled (a cancelled send: SendCancelled)."""
    if done.cancelled():
        to.set_exception(SendCancelled("the run was interrupted before this request was sent"))
    elif (error := done.exception()) is not None:
        to.set_exception(error)
    else:
        to.set_result(done.result())


class VendorRunner:
    """Runs every operation of one vendor's spec against one base URL."""

    def __init__(
        self,
        profile: Profile,
        base_url: str,
        token: str | None,
        transport: HttpxTransport,
        options: RunOptions,
    ) -> None:
        self.profile = profile
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.transport = transport
        self.options = options
        self.schema = self._load_schema()
        skew = options.timestamp_skew or profile.timestamp_skew_seconds
        self.context = our_checks.VendorContext(
            profile=profile, skew=timedelta(seconds=skew) if skew else our_checks.DEFAULT_SKEW
        )
        self.partial: OperationOutcome | None = None  # what an interrupted operation had done
        self.target_is_mock = False  # the target answered as thread-conformance's own mock (MOCK_HEADER)
        self.planned: dict[str, list[str]] = {}  # --dry-run: per operation, the cases that would have been sent
        self.labels: dict[str, str] = {}  # case id -> phase label, for our coverage cases
        self._body_validators: dict[str, Any] = {}  # operation label -> its request body's validator
        # (method, URL, headers, body) of a probe of `rejected_parts` -> the target's answer: the same request
        # is not sent again (the body of required properties alone is often the same in every case).
        self._probe_answers: dict[tuple[str, str, tuple[tuple[str, str], ...], bytes], _Answer] = {}
        self.coverage: dict[str, CoverageRecord] = {}  # per operation: what the sent bodies exercised
        our_checks.attach(self.schema, self.context)
        route_schema_through(self.schema, transport, self.base_url)

    def _auth_config(self) -> dict[str, Any]:
        if not self.token:
            return {}
        scheme = (
            self.profile.spec.get("components", {}).get("securitySchemes", {}).get(self.profile.auth.security_scheme)
        )
        if not isinstance(scheme, dict):
            return {}
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            entry = {"bearer": self.token}
        else:
            entry = {"api_key": self.profile.auth.header_value(self.token)}
        return {"openapi": {self.profile.auth.security_scheme: entry}}

    def _load_schema(self) -> Any:
        enabled = set(self.options.checks)
        checks_config: dict[str, Any] = {name: {"enabled": name in enabled} for name in BUILTIN_CHECKS}
        # A positive case sent with valid credentials must succeed: a 401/403/404/5xx to it is a failure.
        checks_config["positive_data_acceptance"]["expected-statuses"] = ["2xx"]
        for name in (
            "use_after_free",
            "ensure_resource_availability",
            "object_level_authorization",
            "unsupported_method",
            "allow_header_conformance",
        ):
            checks_config[name] = {"enabled": False}
        raw = {
            "seed": self.options.seed,
            "generation": {"mode": "all", "max-examples": self.options.max_examples, "database": "none"},
            "checks": checks_config,
            "auth": self._auth_config(),
            "suppress-health-check": ["all"],
        }
        config = SchemathesisConfig.from_dict(raw)
        schema = schemathesis.openapi.from_dict(self.profile.spec, config=config)
        schema.config.update(base_url=self.base_url)
        return schema

    @property
    def pinned(self) -> dict[str, str]:
        return {**self.profile.path_params, **self.options.params}

    def operations(self) -> list[Any]:
        return [result.ok() for result in self.schema.get_all_operations()]

    def authenticated(self, headers: dict[str, str]) -> bool:
        """Whether a request carried the run's valid credentials (always, for a vendor that takes none)."""
        if not self.profile.auth.required:
            return True
        if not self.token:
            return False
        expected = self.profile.auth.header_value(self.token)
        sent = {k.lower(): v for k, v in headers.items()}.get(self.profile.auth.header.lower())
        return sent == expected

    def check_context(self, operation: Any, phase: Any) -> CheckContext:
        """Schemathesis's context for the checks of an operation's phase (its config for that phase)."""
        key = phase.value if phase is not None else None
        return CheckContext(
            override=None,
            auth=None,
            headers=None,
            config=self.schema.config.checks_config_for(operation=operation, phase=key),
            transport_kwargs={"base_url": self.base_url},
            response_checks=None,
            phase=phase,
            auth_enforced_operations=set(),
        )

    def run_operation(self, operation: Any) -> OperationOutcome:
        label = operation.label
        tallies: dict[str, _CheckTally] = {name: _CheckTally() for name in self.options.checks}
        state: dict[str, Any] = {"cases": 0, "stopped": None, "detail": ""}
        created_before = self.transport.stats.created
        started = time.monotonic()
        contexts: dict[str | None, CheckContext] = {}

        def context(phase: Any) -> CheckContext:
            key = phase.value if phase is not None else None
            if key not in contexts:
                contexts[key] = self.check_context(operation, phase)
            return contexts[key]

        def stop(exc: BudgetExhausted | TargetUnreachable) -> None:
            if not state["stopped"]:
                budget = isinstance(exc, BudgetExhausted)
                state["stopped"], state["detail"] = StopReason.BUDGET if budget else StopReason.UNREACHABLE, str(exc)

        # --workers N: the phases' cases go on the wire from N threads; generation and judging stay here.
        pipeline = (
            _Pipeline(
                self,
                self.options.workers,
                functools.partial(self._judge, tallies=tallies, context=context),
                stop,
                extra_per_case=self.extra_requests_per_case(operation, tallies),
            )
            if self.options.workers > 1 and not self.options.dry_run
            else None
        )

        def test(case: Any) -> None:
            if state["stopped"]:
                return
            try:
                if pipeline is None:
                    self._exercise(case, tallies, context, state)
                elif (prepared := self._prepare(case, state)) is not None:
                    pipeline.submit(prepared)
            except (BudgetExhausted, TargetUnreachable) as exc:
                stop(exc)

        def outcome() -> OperationOutcome:
            record = self.coverage.get(label)
            return OperationOutcome(
                label=label,
                tallies=tallies,
                cases=state["cases"],
                stopped=state["stopped"],
                stop_detail=state["detail"],
                dry_run=self.options.dry_run,
                created=self.transport.stats.created - created_before,
                coverage=record.to_dict()["fields"] if record is not None else {},
                seconds=round(time.monotonic() - started, 3),
                answered_by_mock=self.target_is_mock,
            )

        self.partial = None
        cancelled = True  # until the run ends normally: what is still in flight is cut off, not waited for
        try:
            # Every Hypothesis run of the operation (phases, probes, shrinking) draws from the seed alone.
            with compat.without_local_constants():
                for mode in (HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING):
                    if state["stopped"]:
                        break
                    # A phase with no case for this operation (e.g. the spec has no examples) is skipped by Hypothesis.
                    # Our large explicit bodies make Hypothesis warn about the size of their repr, which nothing prints.
                    with contextlib.suppress(unittest.SkipTest), warnings.catch_warnings():
                        warnings.simplefilter("ignore", HypothesisWarning)
                        if mode is HypothesisTestMode.FUZZING:
                            self._fuzzing_test(operation, test)()
                        else:
                            self._hypothesis_test(operation, test, mode)()
                    if pipeline is not None:
                        pipeline.drain()  # the phase's cases in flight, judged before the next phase generates
                if not state["stopped"]:
                    self._probe_unknown_resources(operation, tallies, context, state)
                if not state["stopped"]:
                    self._probe_conflicts(operation, tallies, context, state)
                if not state["stopped"] and self.options.confirm and not self.options.dry_run:
                    # Each distinct failure's kept case, sent again and judged again (conformance.verdicts).
                    confirm(self, tallies, context, self.options.confirm)
                if not state["stopped"] and self.options.shrink and not self.options.dry_run:
                    # Hypothesis's own shrinker, through a dedicated search per failure (conformance.verdicts).
                    shrink(self, operation, tallies, context)
            cancelled = False
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: keep what ran (and the threads it created) for the reports, then stop.
            state["stopped"] = StopReason.INTERRUPTED
            self.partial = outcome()
            raise
        finally:
            if pipeline is not None:
                pipeline.close(cancel=cancelled)  # no sending thread outlives the operation
        return outcome()

    def extra_requests_per_case(self, operation: Any, checks: Iterable[str]) -> int:
        """The most requests one case of `operation` may cost besides its own first attempt: 429 retries of
        it, ignored_auth's probes while it is judged (one without credentials, then one with invalid ones per
        scheme of each of the operation's security requirements, as Schemathesis sends them), and the probes
        that take a valid case apart (`rejected_parts`: rejected, crashing, or answered with an undocumented
        status), each with its retries. An upper bound, counted from the spec."""
        retries = self.transport.max_429_retries
        probes = 0
        if "ignored_auth" in checks:
            raw = operation.definition.raw
            spec = self.profile.spec
            requirements = raw.get("security", spec.get("security")) if isinstance(raw, dict) else None
            if isinstance(requirements, list) and requirements:
                probes = 1 + sum(len(r) for r in requirements if isinstance(r, dict))
        validator = None if REQUEST_KEYED.keys().isdisjoint(checks) else self._body_validator(operation)
        if validator is not None:  # a failing valid case, taken apart (rejected_parts): once, whichever checks fail
            probes += 1 + min(MAX_REJECTION_PROBES, len(property_pointers(validator.schema)))
        return (1 + probes) * (1 + retries) - 1

    def _settings(self, operation: Any, phase: str | None) -> hypothesis.settings:
        """Schemathesis's settings for the phase; no shrinking or replay (the test never fails), no deadline."""
        settings = self.schema.config.get_hypothesis_settings(operation=operation, phase=phase, apply_ci_profile=False)
        dropped = (hypothesis.Phase.shrink, hypothesis.Phase.reuse, hypothesis.Phase.explain)
        return hypothesis.settings(
            settings,
            deadline=None,
            print_blob=False,
            database=None,
            phases=[p for p in settings.phases if p not in dropped],
        )

    def _base_cases(self, operation: Any, mode: Any) -> Any:
        """Schemathesis's own case strategy for the operation, with the pinned path parameters."""
        overrides = Override(path_parameters=self._pins_for(operation)).as_strategy_kwargs()
        return operation.as_strategy(generation_mode=mode, **overrides)

    def body_schema(self, operation: Any) -> Any:
        """The JSON request body schema of the operation (refs unresolved), or None."""
        body = operation.definition.raw.get("requestBody")
        content = body.get("content", {}) if isinstance(body, dict) else {}
        media = content.get("application/json")
        return media.get("schema") if isinstance(media, dict) else None

    def _our_bodies(self, operation: Any, mode: Mode) -> Any:
        """Our body strategy for the operation in `mode`, or None when its body is not an object with properties."""
        schema = self.body_schema(operation)
        if schema is None:
            return None
        try:
            return request_bodies(schema, mode=mode, components=self.profile.spec)
        except InvalidArgument:
            return None

    def _fuzzing_test(self, operation: Any, test: Callable[[Any], None]) -> Any:
        """The fuzzing phase: Schemathesis's positive and negative cases, and cases carrying our bodies."""

        @compat.without_database_key
        @self._settings(operation, "fuzzing")
        @hypothesis.seed(derive_operation_seed(self.options.seed, operation.label))
        @hypothesis.given(case=self.fuzz_cases(operation))
        def fuzz(case: Any) -> None:
            test(case)

        return fuzz

    def fuzz_cases(self, operation: Any) -> Any:
        """The fuzzing phase's case strategy (also what --shrink searches and shrinks with)."""
        strategies = [self._base_cases(operation, mode) for mode in schemathesis.GenerationMode]
        weights: tuple[tuple[Mode, int], ...] = (("positive", OUR_POSITIVE_WEIGHT), ("negative", 1))
        for mode, weight in weights:
            bodies = self._our_bodies(operation, mode)
            if bodies is not None:
                # Our valid bodies count double: Schemathesis's own leave the free-form fields out or empty
                # in most cases, and the fields are where vendors break.
                strategies += [self._cases_carrying(operation, bodies)] * weight
        return st.one_of(strategies)

    def _cases_carrying(self, operation: Any, bodies: Any) -> Any:
        """Schemathesis's positive cases of the operation, each carrying a body drawn from `bodies`.

        Schemathesis is given the body (a documented argument of `as_strategy`), so it draws only the other
        parts: a body of its own, generated to be replaced, cost more than the rest of the case. The case is
        then labelled as if its body had been generated and replaced (compat.judge_body): Schemathesis
        validates it, so its metadata says truly whether the case is positive or negative."""
        overrides = Override(path_parameters=self._pins_for(operation)).as_strategy_kwargs()
        positive = schemathesis.GenerationMode.POSITIVE

        @st.composite
        def cases(draw: st.DrawFn) -> Any:
            body = draw(bodies)
            strategy = operation.as_strategy(
                generation_mode=positive, body=body, media_type=JSON_MEDIA_TYPE, feedback=FeedbackSources(), **overrides
            )
            return compat.judge_body(draw(strategy))

        return cases()

    def _coverage_cases(self, operation: Any) -> list[Any]:
        """Deterministic cases for every class of our coverage bodies (null, absent, long, unicode, deep, wide...)."""
        schema = self.body_schema(operation)
        if schema is None:
            return []
        try:
            bodies = coverage_bodies(schema, components=self.profile.spec)
        except InvalidArgument:
            return []
        seed = derive_operation_seed(self.options.seed, operation.label + "::coverage") or 0
        cases = []
        for index, (label, body, _mode) in enumerate(bodies):
            case = _draw(self._cases_carrying(operation, st.just(body)), seed + index)
            self.labels[case.id] = f"coverage: {label}"
            cases.append(case)
        return cases

    def _hypothesis_test(self, operation: Any, test: Callable[[Any], None], mode: HypothesisTestMode) -> Any:
        config = self.schema.config
        settings = self._settings(operation, None)

        def wrapped(case: Any) -> None:
            test(case)

        built = create_test(
            operation=operation,
            test_func=wrapped,
            config=HypothesisTestConfig(
                project=config,
                modes=[mode],
                settings=settings,
                apply_ci_profile=False,
                seed=derive_operation_seed(self.options.seed, operation.label),
                override=Override(path_parameters=self._pins_for(operation)),
                feedback=FeedbackSources(),
            ),
        )
        if mode is HypothesisTestMode.COVERAGE:
            # Our deterministic classes join Schemathesis's coverage cases as explicit examples of the same test.
            for case in reversed(self._coverage_cases(operation)):
                built = hypothesis.example(case=case)(built)
        return compat.without_database_key(built)

    def _pins_for(self, operation: Any) -> dict[str, str]:
        names = {p.name for p in operation.path_parameters}
        return {k: v for k, v in self.pinned.items() if k in names}

    def _probe_unknown_resources(
        self, operation: Any, tallies: dict[str, _CheckTally], context: Any, state: dict[str, Any]
    ) -> None:
        """Send a few valid requests to a path resource that cannot exist, checked by `unknown_resource`."""
        if "unknown_resource" not in tallies:
            return
        pins = self._pins_for(operation)
        if not pins:
            return
        strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE)
        seed = derive_operation_seed(self.options.seed, operation.label + "::unknown_resource") or 0
        for index in range(PROBES_PER_OPERATION):
            case = _draw(strategy, seed + index)
            missing = {}
            for name in pins:
                # UUID-shaped, as real ids mostly are, so a vendor that checks the format still answers 404;
                # derived from the seed, so the same seed probes the same resource.
                digest = hashlib.sha256(f"{seed}:{index}:{name}".encode()).digest()
                missing[name] = str(uuid.UUID(bytes=digest[:16], version=4))
            case.path_parameters = {**(case.path_parameters or {}), **missing}
            our_checks.mark_missing_resource(case, ", ".join(f"{k}={v!r}" for k, v in missing.items()))
            try:
                self._exercise(case, tallies, context, state, only=("unknown_resource", "not_a_server_error"))
            except BudgetExhausted as exc:
                state["stopped"], state["detail"] = StopReason.BUDGET, str(exc)
                return
            except TargetUnreachable as exc:
                state["stopped"], state["detail"] = StopReason.UNREACHABLE, str(exc)
                return

    def _probe_conflicts(
        self, operation: Any, tallies: dict[str, _CheckTally], context: Any, state: dict[str, Any]
    ) -> None:
        """Create with a client-chosen id, then repeat it under each conflict policy (profile `client_ids`)."""
        if not self.profile.client_ids or self.body_schema(operation) is None:
            return
        seed = derive_operation_seed(self.options.seed, operation.label + "::conflicts") or 0
        base = self._base_cases(operation, schemathesis.GenerationMode.POSITIVE)
        for index, body in enumerate(our_checks.conflict_probe_bodies(_draw(base, seed), self.profile, seed)):
            self.labels[(case := _with_body(_draw(base, seed + index), body)).id] = "probe: conflict"
            try:
                self._exercise(case, tallies, context, state)
            except BudgetExhausted as exc:
                state["stopped"], state["detail"] = StopReason.BUDGET, str(exc)
                return
            except TargetUnreachable as exc:
                state["stopped"], state["detail"] = StopReason.UNREACHABLE, str(exc)
                return

    def _exercise(
        self,
        case: Any,
        tallies: dict[str, _CheckTally],
        context: Callable[[Any], CheckContext],
        state: dict[str, Any],
        only: tuple[str, ...] | None = None,
        resend: bool = False,
    ) -> None:
        """Send one case and run every enabled check on its response. `resend`: the case was sent before
        (confirmation, replay): its body is not counted again in the coverage record."""
        prepared = self._prepare(case, state, resend=resend)
        if prepared is not None:
            self._judge(prepared, self._send(prepared), tallies, context, only)

    def _prepare(self, case: Any, state: dict[str, Any], *, resend: bool = False) -> _Prepared | None:
        """What is sent for a case and what reports show of it (on the run's thread, in generation order);
        None for --dry-run, which only plans the case."""
        kwargs = case.as_transport_kwargs(base_url=self.base_url)
        method, url, headers, params, content = request_from_kwargs(kwargs)
        state["cases"] += 1
        # Schemathesis's random per-case id header says nothing about the case: left out of what reports
        # show, so the same seed gives the same reproduction byte for byte.
        shown = {k: v for k, v in headers.items() if k.lower() != CASE_ID_HEADER}
        exchange = Exchange(
            method=method,
            url=redact(_full_url(url, params)),
            headers=redact_headers(shown),
            body=_reportable_body(case.body, content),
            authenticated=self.authenticated(headers),
        )
        if content is not None and isinstance(case.body, bytes | bytearray):  # not a JSON value: its exact bytes
            exchange.body_base64 = base64.b64encode(redacted_bytes(content)).decode("ascii")
        state["exchange"] = exchange  # the last exchange, for confirmation and replay (conformance.verdicts)
        # Built only for a case a failure keeps (most cases fail nothing): quoting a large body costs.
        curl = functools.cache(functools.partial(self._reproduction, method, _full_url(url, params), headers, content))
        phase = self.labels.get(case.id) or (case.meta.phase.name.value if case.meta is not None else "probe")
        mode = case.meta.generation.mode.value if case.meta is not None else "positive"
        size = len(content or b"") + len(url)
        schema = self.body_schema(case.operation)
        if schema is not None and content is not None and not _not_set(case.body) and not resend:
            record = self.coverage.setdefault(case.operation.label, CoverageRecord())
            record.record(case.body, schema, self.profile.spec, body_bytes=len(content))
        if self.options.dry_run:
            line = curl() if content is None or len(content) <= MAX_DRY_RUN_BODY else _too_long(method, url, content)
            self.planned.setdefault(case.operation.label, []).append(f"{line}  # {self.profile.key} [{phase}/{mode}]")
            return None
        return _Prepared(case, method, url, headers, params, content, exchange, curl, phase, mode, size)

    def _send(self, prepared: _Prepared, *, reserved: bool = False) -> httpx.Response | Exception:
        """Put a prepared case on the wire (on any thread): the response, or the exchange's own failure (a
        timeout, a broken response, a request httpx refuses to send). BudgetExhausted, TargetUnreachable and
        SendCancelled propagate: they stop the run, they are no verdict."""
        try:
            return self.transport.request(
                prepared.method,
                prepared.url,
                headers=prepared.headers,
                params=prepared.params,
                content=prepared.content,
                reserved=reserved,
            )
        except (RequestTimedOut, BrokenResponse, UnsendableRequest) as exc:
            return exc

    def _judge(
        self,
        prepared: _Prepared,
        sent: httpx.Response | Exception,
        tallies: dict[str, _CheckTally],
        context: Callable[[Any], CheckContext],
        only: tuple[str, ...] | None = None,
    ) -> None:
        """Run every enabled check on the answer to a sent case (on the run's thread, in generation order)."""
        case, exchange, curl, phase, mode, size = (
            prepared.case,
            prepared.exchange,
            prepared.curl,
            prepared.phase,
            prepared.mode,
            prepared.size,
        )
        keep = functools.partial(self._record, case=case)
        if isinstance(sent, RequestTimedOut):
            keep(tallies, "request_timeout", str(sent), "Request timed out", exchange, curl, phase, mode, size)
            return
        if isinstance(sent, BrokenResponse):
            keep(tallies, "broken_response", str(sent), "Broken response", exchange, curl, phase, mode, size)
            return
        if isinstance(sent, Exception):
            return  # httpx refuses to put this generated request on the wire: nothing to judge the target on
        response = sent
        if "request_timeout" in tallies:
            tallies["request_timeout"].cases += 1
        exchange.status = response.status_code
        self.target_is_mock = self.target_is_mock or MOCK_HEADER in response.headers
        exchange.response_headers = redact_headers(header_dict(response.headers))
        # Redacted before it is cut, so a secret straddling the cut cannot leave its head behind.
        window = response.content[: MAX_BODY_IN_REPORT + 4 * max(map(len, secrets()), default=0)]
        exchange.response_body = redact_clipped(
            window.decode("utf-8", "replace"), MAX_BODY_IN_REPORT, truncated=len(response.content) > len(window)
        )
        exchange.elapsed = round(response.elapsed.total_seconds(), 4)
        if CAP_HEADER in response.headers:
            cap = response.headers[CAP_HEADER]
            title = "Response body exceeds the read cap"
            message = f"the response body is larger than {cap} bytes (--max-body-bytes); only that much was read"
            keep(tallies, "broken_response", message, title, exchange, curl, phase, mode, size)
            return
        if "broken_response" in tallies:
            tallies["broken_response"].cases += 1
        if (not_json := non_json_constant(response)) and "response_schema_conformance" in tallies:
            title = "Response body is not JSON (NaN or Infinity)"
            keep(tallies, "response_schema_conformance", not_json, title, exchange, curl, phase, mode, size)
        st_response = StResponse.from_httpx(response, verify=True)
        ctx = context(case.meta.phase.name if case.meta is not None else None)
        authenticated = bool(exchange.authenticated)
        enabled = [c for c in _enabled_checks(ctx) if c.__name__ in tallies and (only is None or c.__name__ in only)]
        # False for a method the spec does not declare on this path (the coverage phase's TRACE).
        own_method = case.method.upper() == case.operation.method.upper()
        if own_method:
            # Before the checks: what this answer created, for later repeats. A body too deep to read leaves
            # nothing to remember (the checks report it as not judged).
            with contextlib.suppress(RecursionError):
                our_checks.observe(case, st_response)
        else:
            # The spec says nothing of the answer to a method it does not declare here: ours, which judge what the
            # operation documents, have nothing to judge, and a 2xx to it (Apache echoes TRACE) created nothing.
            enabled = [c for c in enabled if c.__name__ not in our_checks.OUR_CHECKS]
        if response.status_code == RATE_LIMITED:
            # Still 429 after the transport's bounded retries: the target's throttling, not a verdict on the case.
            enabled = [c for c in enabled if c.__name__ == "not_a_server_error"]

        def on_failure(name: str, collected: set[StFailure], failure: StFailure) -> None:
            collected.add(failure)
            if name == "positive_data_acceptance" and our_checks.expected_conflict(case, st_response):
                tallies[name].cases += 1  # the documented answer to an id this run already created
                return
            if name == "not_a_server_error" and response.status_code == METHOD_NOT_RECOGNISED and not own_method:
                tallies[name].cases += 1  # a method the spec does not declare here, not recognised: not a crash
                return
            if name in AUTH_AWARE_CHECKS and response.status_code in CREDENTIAL_REFUSALS and not authenticated:
                # Deliberately sent without valid credentials: a 401/403 is the right answer, documented or not.
                tallies[name].cases += 1
                return
            # The finding's identity (conformance.identity): two schema violations at different places
            # are two failures, though they share a title; a case rejected for two reasons is two failures.
            for n, cause in enumerate(self._causes(failure, prepared)):
                key = finding_key(failure, response.status_code, cause=cause)
                args = (failure.message, failure.title, exchange, curl, phase, mode, size)
                keep(tallies, name, *args, key=key, counted=n == 0)

        def on_success(name: str, _case: Any) -> None:
            tallies[name].cases += 1

        for check in enabled:
            try:
                run_checks(
                    case=case,
                    response=st_response,
                    ctx=ctx,
                    checks=[check],
                    on_failure=on_failure,
                    on_success=on_success,
                )
            except (BudgetExhausted, TargetUnreachable):
                raise
            except Exception as exc:  # a check that crashes is reported, not allowed to stop the run
                # Our failure, not the vendor's (e.g. RecursionError on a body nested 100,000 deep): kept apart.
                title = f"Could not judge: the check raised {type(exc).__name__}"
                message = redact(str(exc)[:500])
                args = (message, title, exchange, curl, phase, mode, size)
                keep(tallies, check.__name__, *args, not_judged=True)

    def _causes(self, failure: StFailure, prepared: _Prepared) -> tuple[str | None, ...]:
        """What in the request a failure is about, for its finding keys (conformance.identity): one per
        failure it makes; (None,) where the failure's own attributes say what it is."""
        if isinstance(failure, AcceptedNegativeData):
            return (self.invalid_parts(prepared.case),)
        if isinstance(failure, RejectedPositiveData):
            return self.rejected_parts(prepared, _rejected)
        if isinstance(failure, ServerError | UndefinedStatusCode):
            if prepared.mode == "negative":  # the answer to an invalid request: by what made it invalid
                return ("invalid " + self.invalid_parts(prepared.case),)
            if isinstance(failure, ServerError):
                return self.rejected_parts(prepared, _crashed)
            status = prepared.exchange.status
            return self.rejected_parts(prepared, lambda answer: answer.status == status)
        return (None,)

    def invalid_parts(self, case: Any) -> str:
        """What made an invalid case invalid, for the finding key of its acceptance (conformance.identity):
        the constraints its body breaks, and the other invalid parts by location."""
        parts = []
        for location in compat.negative_locations(case):
            if location != "body":
                parts.append(location)
                continue
            validator = self._body_validator(case.operation)
            try:
                errors = validator.iter_errors(None if _not_set(case.body) else case.body) if validator else ()
                parts.append(request_violations(errors))
            except RecursionError:  # a body nested too deep to walk: the location still tells
                parts.append("body")
        # Never empty: an empty detail would give the broad id of earlier versions (identity.broad_id).
        return "; ".join(parts) or "request"

    def rejected_parts(self, prepared: _Prepared, fails: Callable[[_Answer], bool]) -> tuple[str, ...]:
        """What the target rejects (or crashes on: `fails` says which answer counts) in a valid case, for the
        finding keys of the failure (conformance.identity): each group of the body's top-level properties that
        it rejects on its own, a group being the properties one declaration admits (`identity.property_pointer`:
        a declared name, a pattern, the undeclared ones). One key per such group, so that a case rejected for
        two reasons shows both, whichever other content it holds.

        Found by sending the case again with its required properties alone, then with them and one group
        (pointers in order; a group that is not valid without others is not tried alone): at most
        1 + MAX_REJECTION_PROBES requests, on this thread, within the budget. `request` when the required
        properties alone are rejected (what it rejects is in every valid request: a required value, a
        parameter), `body` when no group is rejected alone (a combination) or the body cannot be taken apart.
        The spec's conflict answer to an id this run already created counts as acceptance: it answers the id,
        not what the body holds."""
        case, body = prepared.case, prepared.case.body
        validator = self._body_validator(case.operation)
        if prepared.content is None:
            return (rejection_cause(),)  # no body: what it rejects is in the parameters
        if not isinstance(body, dict) or validator is None:
            return (rejection_cause(content=True),)  # not an object, or rules we cannot check it against
        try:
            return self._taken_apart(prepared, body, validator, fails)
        except RecursionError:  # a body too deep to check or to encode again: not taken apart
            return (rejection_cause(content=True),)

    def _taken_apart(
        self, prepared: _Prepared, body: dict[str, Any], validator: Any, fails: Callable[[_Answer], bool]
    ) -> tuple[str, ...]:
        schema = validator.schema
        groups: dict[str, set[str]] = {}
        for name in body:
            groups.setdefault(property_pointer(schema, name), set()).add(name)
        names = required_properties(schema)
        required = {k: v for k, v in body.items() if k in names}
        if not validator.is_valid(required):
            return (rejection_cause(content=True),)
        if fails(self._answer(prepared, required)):
            return (rejection_cause(),)
        rejected = []
        for pointer in sorted(groups)[:MAX_REJECTION_PROBES]:
            trial = {**required, **{k: body[k] for k in groups[pointer] if k not in required}}
            if trial == required or not validator.is_valid(trial):
                continue  # required itself, or not valid without another group
            if fails(self._answer(prepared, trial)):
                rejected.append(rejection_cause(pointer))
        return tuple(rejected) or (rejection_cause(content=True),)

    def _answer(self, prepared: _Prepared, body: dict[str, Any]) -> _Answer:
        """The target's answer to the prepared case sent with `body` instead (a probe of `rejected_parts`). A
        request already sent so is not sent again: its answer is reused."""
        content = encode_json_body(body)
        headers = tuple(sorted((k.lower(), v) for k, v in prepared.headers.items() if k.lower() != CASE_ID_HEADER))
        known = (prepared.method, _full_url(prepared.url, prepared.params), headers, content)
        if known not in self._probe_answers:
            self._probe_answers[known] = self._probe(prepared, body, content)
        return self._probe_answers[known]

    def _probe(self, prepared: _Prepared, body: dict[str, Any], content: bytes) -> _Answer:
        """Send one probe. What a 2xx created is remembered, as for a case, so that a later case that repeats a
        client-chosen id expects the documented conflict."""
        case = prepared.case
        sent = self._send(replace(prepared, content=content))
        if not isinstance(sent, httpx.Response):
            return _Answer(None, conflict=False)  # no answer (timed out, broken)
        probe = case.operation.Case(
            path_parameters=case.path_parameters,
            headers=case.headers,
            query=case.query,
            body=body,
            media_type=case.media_type,
        )
        answer = StResponse.from_httpx(sent, verify=True)
        if 200 <= answer.status_code < 300:
            with contextlib.suppress(RecursionError):
                our_checks.observe(probe, answer)
        return _Answer(answer.status_code, conflict=our_checks.expected_conflict(probe, answer))

    def _body_validator(self, operation: Any) -> Any:
        """The operation's request body validator (built once), or None where the spec's body schema cannot
        be checked against: an unresolvable or recursive $ref, or a schema that is not a valid JSON Schema."""
        label = operation.label
        if label not in self._body_validators:
            try:
                validator = body_validator(self.body_schema(operation), self.profile.spec)
                validator.check_schema(validator.schema)
            except (InvalidArgument, jsonschema.exceptions.SchemaError, RecursionError):
                validator = None
            self._body_validators[label] = validator
        return self._body_validators[label]

    def _reproduction(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> str:
        """The runnable curl command of a request (conformance.repro): the token as its variable."""
        return curl_command(method, url, headers, content, auth=self.profile.auth, token=self.token)

    @staticmethod
    def _record(
        tallies: dict[str, _CheckTally],
        check: str,
        message: str,
        title: str,
        exchange: Exchange,
        curl: Callable[[], str],
        phase: str,
        mode: str,
        size: int,
        *,
        key: str | None = None,
        not_judged: bool = False,
        case: Any = None,
        counted: bool = True,
    ) -> None:
        """Count a failed case; keep, per distinct failure (`key`, else the title), the smallest case.
        `not_judged`: our check could not judge the case; kept apart, never the vendor's failure. `counted`:
        false for a case's second failure under one check (it is one case)."""
        tally = tallies.setdefault(check, _CheckTally())
        tally.cases += 1 if counted and not not_judged else 0
        title = redact(title)
        key = title if key is None else redact(key)
        kept = tally.not_judged if not_judged else tally.failures
        known = kept.get(key)
        # Keep a positive case over a negative one (a server defect shown on a garbage request looks like
        # the request's fault), then the smallest.
        rank = (0 if mode == "positive" else 1, size)
        if known is not None and known[0] <= rank:
            return
        failure = Failure(
            check=check,
            title=title,
            message=redact(message),
            exchange=exchange,
            curl=curl(),
            phase=phase,
            generation_mode=mode,
            finding=key,
        )
        kept[key] = (rank, failure)
        if not not_judged:
            tally.cases_kept[key] = case  # what confirmation (conformance.verdicts) sends again

    def vendor_run(self) -> VendorRun:
        info = self.profile.spec.get("info", {})
        return VendorRun(
            vendor=self.profile.key,
            display_name=self.profile.display_name,
            spec_title=str(info.get("title", "")),
            spec_version=str(info.get("version", "")),
            target_url=redact(self.base_url),
        )


def _enabled_checks(ctx: CheckContext) -> list[Any]:
    """Schemathesis's registered check functions (its own and ours) that the context's config enables,
    in registration order: what `CheckContext` itself selects, from public API."""
    return [
        c for c in ST_CHECKS.get_all() if not isinstance(c, type) and ctx.config.get_by_name(name=c.__name__).enabled
    ]


def _with_body(case: Any, body: Any) -> Any:
    case.body = body
    return case


def _draw(strategy: Any, seed: int) -> Any:
    """One deterministic draw from a strategy."""
    found: list[Any] = []

    @compat.without_database_key
    @hypothesis.settings(
        max_examples=1,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.seed(seed)
    @hypothesis.given(strategy)
    def pick(value: Any) -> None:
        if not found:
            found.append(value)

    with compat.without_local_constants():  # the seed alone decides (replay and the probes draw here)
        pick()
    return found[0]


def _reportable_body(body: Any, content: bytes | None) -> Any:
    """The sent body as a JSON value for reports; raw (non-JSON) payloads as their text."""
    if content is None or _not_set(body):
        return None
    if isinstance(body, bytes | bytearray):
        # Schemathesis sends raw bytes for some negative cases (e.g. a body that is not JSON at all).
        return redact(content.decode("utf-8", "replace"))
    return redact_value(body)


def _too_long(method: str, url: str, content: bytes) -> str:
    return f"# {method} {redact(url)}: a body of {len(content)} bytes, too long to print"


def _not_set(value: Any) -> bool:
    return type(value).__name__ == "NotSet"


def _full_url(url: str, params: Any) -> str:
    if not params:
        return url
    import httpx

    return str(httpx.URL(url, params=params))
