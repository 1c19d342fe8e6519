"""Verdicts that hold up: confirmation of each kept failure, and the replay of a recorded one.

Both judge a case the way the run did: `VendorRunner._exercise` sends it through the run's
`HttpxTransport` (so the budget and rate limit count it) and runs the same check on the answer,
into scratch tallies that never touch the run's verdicts. A failure reproduces when the same check
records the same finding key again, i.e. the same failure id (conformance.identity).

- `confirm(runner, operation, tallies, context, state, times)`: after an operation's run, each
  distinct failure's kept case is sent again `times` times; the failure is labelled `confirmed`
  (it failed the same way every time) or `not_reproduced` (intermittent: still a failure). A case that
  created an id it chose itself is left unlabelled when the re-send does not fail alike: it repeated the id.
- `replay(...)`: rebuilds the case of one failure of a `conformance.json` for the vendor's spec
  operation and judges a target's answer to it (`conformance replay`).
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import schemathesis
from schemathesis.core import NOT_SET
from schemathesis.generation import derive_operation_seed

from conformance.identity import broad_id
from conformance.repro import CLIENT_HEADERS
from conformance.results import CheckResult, Exchange, Failure, RunResult
from conformance.transport import BudgetExhausted, TargetUnreachable

if TYPE_CHECKING:
    from conformance.engine import VendorRunner, _CheckTally

CONFIRMED, NOT_REPRODUCED = "confirmed", "not_reproduced"


def _judge_again(
    runner: VendorRunner, case: Any, check: str, context: Callable[[Any], Any]
) -> tuple[dict[str, _CheckTally], Exchange | None]:
    """Send `case` once more and run `check` on the answer, into scratch tallies."""
    from conformance.engine import _CheckTally

    scratch = {name: _CheckTally() for name in runner.options.checks}
    state: dict[str, Any] = {"cases": 0, "stopped": None, "detail": ""}
    runner._exercise(case, scratch, context, state, only=(check,), resend=True)
    return scratch, state.get("exchange")


def confirm(
    runner: VendorRunner,
    tallies: dict[str, _CheckTally],
    context: Callable[[Any], Any],
    times: int,
) -> str | None:
    """Send each kept failure's case `times` more times and label the failure; returns the transport's
    sentence when the budget ran out or the target went away (the failures left are not labelled)."""
    for check, tally in tallies.items():
        for key, (_, failure) in sorted(tally.failures.items()):
            case = tally.cases_kept.get(key)
            if case is None:
                continue
            label: str | None = CONFIRMED
            for _ in range(times):
                try:
                    scratch, exchange = _judge_again(runner, case, check, context)
                except (BudgetExhausted, TargetUnreachable) as exc:
                    return str(exc)
                failure.confirmation_exchange = exchange
                if key not in scratch.get(check, tally).failures:
                    label = None if _repeats_an_id_it_created(runner, case, failure) else NOT_REPRODUCED
                    break
            failure.confirmation = label
    return None


def _repeats_an_id_it_created(runner: VendorRunner, case: Any, failure: Any) -> bool:
    """Whether the case chose its own id (a profile's `client_ids` field in its body) and its first answer was a
    success: the first send created that id, so every re-send is a repeat of it (a conflict, or the thread that
    exists), which cannot be answered alike and says nothing of whether the failure is intermittent."""
    body = case.body
    first = failure.exchange.status if failure.exchange is not None else None
    if not isinstance(body, dict) or first is None or not 200 <= first < 300:
        return False
    return any(client_id.name in body for client_id in runner.profile.client_ids)


# ---------------------------------------------------------------- replay


@dataclass
class Recorded:
    """One failure of a report, with what it was found on."""

    result: CheckResult
    failure: Failure
    target_url: str  # the run's base URL for the vendor (redacted), the prefix of the exchange's URL
    seed: int


def find_failure(run: RunResult, failure_id: str) -> Recorded | None:
    """The failure with this id in the report, or None."""
    targets = {v.vendor: v.target_url for v in run.vendors}
    for result in run.results:
        for failure in result.failures:
            if failure.id == failure_id and failure.exchange is not None:
                return Recorded(result, failure, targets.get(result.vendor, ""), run.seed or 0)
    return None


def _path_parameters(template: str, path: str) -> dict[str, str] | None:
    pattern = "".join(
        f"(?P<p{i}>[^/]+)" if part.startswith("{") else re.escape(part)
        for i, part in enumerate(re.split(r"(\{[^}]+\})", template))
    )
    names = {f"p{i}": part[1:-1] for i, part in enumerate(re.split(r"(\{[^}]+\})", template)) if part.startswith("{")}
    found = re.fullmatch(pattern, path)
    if found is None:
        return None
    return {names[k]: unquote(v) for k, v in found.groupdict().items()}


def rebuild_case(runner: VendorRunner, operation: Any, recorded: Recorded) -> Any:
    """The recorded request as a Schemathesis case of the operation: a drawn case given the recorded path,
    query, headers and body; Schemathesis re-validates what changed, so its metadata says positive or negative
    as it did in the run (where our negative bodies also ride on positive cases).

    A case is drawn positive, unless the recorded request went without the credential: Schemathesis's negative
    cases of an operation with security are the ones whose credential is removed on purpose."""
    exchange = recorded.failure.exchange
    assert exchange is not None
    seed = derive_operation_seed(recorded.seed, operation.label) or 0
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    if runner.profile.auth.required and not exchange.authenticated:
        modes.reverse()
    case = None
    for mode in modes:
        case = _rebuilt(runner, operation, recorded, mode, seed)
        sent = case.as_transport_kwargs(base_url=runner.base_url).get("headers") or {}
        carries = runner.authenticated({str(k): str(v) for k, v in sent.items()})
        if carries == bool(exchange.authenticated) or not runner.profile.auth.required:
            return case
    return case


def _rebuilt(runner: VendorRunner, operation: Any, recorded: Recorded, mode: Any, seed: int) -> Any:
    from conformance.engine import _draw

    exchange = recorded.failure.exchange
    assert exchange is not None
    case = _draw(runner._base_cases(operation, mode), seed)
    parts = urlsplit(exchange.url)
    prefix = urlsplit(recorded.target_url).path.rstrip("/")
    path = parts.path[len(prefix) :] if parts.path.startswith(prefix) else parts.path
    pins = _path_parameters(operation.path, path)
    if pins is None:
        raise ValueError(f"the recorded URL's path {path!r} is not one of {operation.label}")
    case.path_parameters = pins or None
    case.query = dict(parse_qsl(parts.query, keep_blank_values=True)) or None
    auth = runner.profile.auth.header.lower()
    headers = {k: v for k, v in exchange.headers.items() if k.lower() not in CLIENT_HEADERS and k.lower() != auth}
    if exchange.authenticated and runner.token is not None:
        headers[runner.profile.auth.header] = runner.profile.auth.header_value(runner.token)
    case.headers = headers or None
    if exchange.body_base64 is not None:
        case.body = base64.b64decode(exchange.body_base64)
    elif exchange.body is None:
        case.body = NOT_SET
    else:
        case.body = exchange.body
    media = {k.lower(): v for k, v in exchange.headers.items()}.get("content-type")
    if media is not None:
        case.media_type = media
    return case


def judge_recorded(
    runner: VendorRunner, operation: Any, recorded: Recorded
) -> tuple[bool, CheckResult, Exchange | None]:
    """Send the recorded case to the runner's target and judge it with the same check: (reproduced, the
    check's result on this one answer, the exchange)."""
    from conformance.engine import OperationOutcome

    case = rebuild_case(runner, operation, recorded)
    check = recorded.failure.check
    contexts: dict[Any, Any] = {}

    def context(phase: Any) -> Any:
        if phase not in contexts:
            contexts[phase] = runner.check_context(operation, phase)
        return contexts[phase]

    scratch, exchange = _judge_again(runner, case, check, context)
    outcome = OperationOutcome(label=operation.label, tallies=scratch, cases=1)
    (result,) = outcome.results(recorded.result.vendor, (check,))
    # A failure recorded under an earlier, broader id (identity.broad_id) reproduces as any of its narrower ones.
    wanted = recorded.failure.id
    reproduced = any(
        f.id == wanted or broad_id(result.vendor, result.operation, result.check, f.finding) == wanted
        for f in result.failures
    )
    return reproduced, result, exchange


def run_replay(
    report: str,
    failure_id: str,
    target_url: str,
    *,
    vendors_dir: str | None = None,
    request_timeout: float | None = None,
    ca_bundle: str | None = None,
    insecure: bool = False,
) -> int:
    """`conformance replay`: 1 when the failure reproduces on the target, 0 when it no longer does; a usage
    mistake is a UsageError (exit 2)."""
    from conformance.api import make_settings
    from conformance.engine import RunOptions, VendorRunner
    from conformance.errors import UsageError
    from conformance.identity import is_failure_id
    from conformance.redact import redact, register_secret
    from conformance.reports.json import load_run
    from conformance.transport import HttpxTransport

    if not is_failure_id(failure_id):
        raise UsageError(f"--failure {failure_id!r}: expected a failure id such as F-7c1e9a2b")
    run = load_run(report)
    recorded = find_failure(run, failure_id)
    if recorded is None:
        raise UsageError(f"{report}: no failure {failure_id} with a recorded request in it")
    vendor = recorded.result.vendor
    settings = make_settings(
        vendors=[vendor],
        vendors_dir=vendors_dir,
        target_url=target_url,
        request_timeout=request_timeout,
        ca_bundle=ca_bundle,
        insecure=insecure,
        seed=recorded.seed,
        check_report_dir=False,
    )
    (profile,) = settings.profiles
    token = profile.token()
    register_secret(token)
    if recorded.failure.exchange is not None and recorded.failure.exchange.authenticated and token is None:
        raise UsageError(f"{vendor}: the failing request was authenticated; set {profile.auth.token_env}")
    transport = HttpxTransport(timeout=settings.request_timeout, verify=settings.verify)
    # The credential only where the recorded request carried it (a request sent without one is sent without).
    authenticated = bool(recorded.failure.exchange and recorded.failure.exchange.authenticated)
    options = RunOptions(seed=recorded.seed, confirm=0)
    try:
        runner = VendorRunner(profile, target_url, token if authenticated else None, transport, options)
        operation = next((op for op in runner.operations() if op.label == recorded.result.operation), None)
        if operation is None:
            raise UsageError(f"{vendor}'s spec has no operation {recorded.result.operation}")
        try:
            reproduced, result, exchange = judge_recorded(runner, operation, recorded)
        except ValueError as exc:
            raise UsageError(f"{report}: {failure_id}: {exc}") from None
        except TargetUnreachable as exc:
            raise UsageError(redact(f"cannot reach {target_url}: {exc}")) from None
    finally:
        transport.close()
    failure = recorded.failure
    status = exchange.status if exchange is not None else None
    answered = f"answered {status}" if status is not None else "no answer"
    if reproduced:
        print(redact(f"{failure_id} reproduces on {target_url} ({answered}): {failure.where()}"))
        return 1
    print(redact(f"{failure_id} no longer reproduces on {target_url} ({answered}); {result.check}: {result.outcome}"))
    return 0


# ---------------------------------------------------------------- shrinking


class _Reproduced(Exception):
    """The case failed the check the same way: what the shrink search's test raises, and only that."""


def shrink(
    runner: VendorRunner, operation: Any, tallies: dict[str, _CheckTally], context: Callable[[Any], Any]
) -> None:
    """For each distinct failure, a dedicated Hypothesis run of the fuzzing strategy whose test raises only when
    the same failure id reproduces; Hypothesis finds such a case and shrinks it with its own shrinker. The
    smallest is reported beside the kept case. Within --max-requests: when the budget runs out, the smallest
    failing case found so far is kept and the note says so."""
    for check, tally in tallies.items():
        for key, (_, failure) in sorted(tally.failures.items()):
            if tally.cases_kept.get(key) is not None:  # a failure of no case has nothing to shrink
                _shrink_one(runner, operation, check, key, failure, context)


def _shrink_one(
    runner: VendorRunner, operation: Any, check: str, key: str, failure: Failure, context: Callable[[Any], Any]
) -> None:
    import hypothesis
    from hypothesis.errors import HypothesisException

    found: dict[str, Any] = {"failure": None, "exhausted": False}
    before = runner.transport.stats.requests

    @hypothesis.settings(
        max_examples=runner.options.max_examples,
        database=None,
        deadline=None,
        print_blob=False,
        report_multiple_bugs=False,
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.seed(derive_operation_seed(runner.options.seed, f"{operation.label}::shrink::{check}::{key}"))
    @hypothesis.given(case=runner.fuzz_cases(operation))
    def search(case: Any) -> None:
        if found["exhausted"]:
            return  # the budget is spent: nothing more is sent, the smallest so far stands
        try:
            scratch, _ = _judge_again(runner, case, check, context)
        except (BudgetExhausted, TargetUnreachable):
            found["exhausted"] = True
            return
        kept = scratch[check].failures.get(key) if check in scratch else None
        if kept is not None:
            found["failure"] = kept[1]  # the last reproducing case: Hypothesis's smallest so far
            raise _Reproduced

    # Found (and shrunk); a flaky final replay (HypothesisException, an exception group) still leaves the
    # smallest case seen.
    with contextlib.suppress(_Reproduced, HypothesisException, ExceptionGroup):
        search()
    failure.shrink_requests = runner.transport.stats.requests - before
    smallest: Failure | None = found["failure"]
    if smallest is not None:
        failure.shrunk_exchange = smallest.exchange
        failure.shrunk_curl = smallest.curl
    if found["exhausted"] and smallest is not None:
        failure.shrink_note = "the request budget ran out while shrinking: the smallest failing case so far"
    elif found["exhausted"]:
        failure.shrink_note = "the request budget ran out before the shrinker found this failure again"
    elif smallest is None:
        failure.shrink_note = f"Hypothesis did not find this failure again in {runner.options.max_examples} examples"
