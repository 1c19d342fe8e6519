"""The pytest plugin: options, one test item per vendor x operation x check, reports at the end.

Loaded by the repository's root `conftest.py`. Items are parametrised ids such as
`seekrflow::POST /v1/threads::response_schema_conformance`; all items of one vendor x operation
share one engine run (cached per process), and under pytest-xdist they are scheduled onto the same
worker so each operation is exercised once.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis

from conformance import __version__
from conformance.engine import (
    ALL_CHECKS,
    INTERRUPTED_NOTE,
    TRANSPORT_CHECKS,
    UNREACHABLE_NOTE,
    OperationOutcome,
    RunOptions,
    VendorRunner,
)
from conformance.errors import UsageError
from conformance.redact import redact, register_secret
from conformance.results import CheckResult, RunResult, VendorRun
from conformance.transport import (
    BUDGET_NOTE,
    DEFAULT_MAX_BODY,
    DEFAULT_TIMEOUT,
    HttpxTransport,
    RateLimit,
    tls_verify,
)
from conformance.vendors import FALLBACK_TOKEN_ENV, Profile, select_vendors

MOCK_TOKEN = "conformance-mock-token"
RESULT_PROPERTY = "conformance_result"
VENDOR_PROPERTY = "conformance_vendor"
OPERATION_PROPERTY = "conformance_operation"
PLANNED_PROPERTY = "conformance_planned"
SUITE_ARG = "conformance_check"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "thread-conformance")
    group.addoption("--vendor", action="append", default=[], help="vendor to test (repeatable; default: all)")
    group.addoption(
        "--target-url",
        default=None,
        help="base URL of the target; the spec's paths are appended. With several vendors, the root under which "
        "each is mounted at /<vendor>. Default: the embedded reference mock.",
    )
    group.addoption("--param", action="append", default=[], metavar="NAME=VALUE", help="pin a path parameter")
    group.addoption("--max-examples", type=int, default=None, help="fuzzing examples per operation (default 100)")
    group.addoption("--seed", type=int, default=None, help="seed for generation (default: random, printed)")
    group.addoption(
        "--request-timeout", type=float, default=None, help=f"seconds per request (default {DEFAULT_TIMEOUT:g})"
    )
    group.addoption("--report-dir", default=None, help="where reports are written (default: reports/)")
    group.addoption("--baseline", default=None, help="file of accepted deviations")
    group.addoption("--baseline-update", action="store_true", help="write the current failures into the baseline file")
    group.addoption("--max-requests", type=int, default=None, help="hard budget of requests over the whole run")
    group.addoption("--rate-limit", default=None, help="e.g. 10/s or 100/m")
    group.addoption(
        "--max-body-bytes", type=int, default=None, help=f"cap on a response body (default {DEFAULT_MAX_BODY})"
    )
    group.addoption("--ca-bundle", default=None, help="CA bundle for a private CA")
    group.addoption("--insecure", action="store_true", help="do not verify TLS certificates (reported as a warning)")
    group.addoption(
        "--timestamp-skew",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how far timestamps may lie from the client clock (default: the profile's, else 300)",
    )
    group.addoption(
        "--dry-run", action="store_true", help="list the cases that would be sent (headers redacted); send nothing"
    )
    parser.addini("conformance_baseline", "default baseline file", default="")
    parser.addini("conformance_report_dir", "default report directory", default="reports")
    parser.addini("conformance_timestamp_skew", "default --timestamp-skew in seconds", default="")


# ---------------------------------------------------------------- configuration


@dataclass
class Settings:
    """The run's resolved options: CLI, then ini/pyproject, then profile, then environment."""

    profiles: list[Profile]
    target_url: str | None
    params: dict[str, str]
    seed: int
    max_examples: int
    request_timeout: float
    report_dir: Path
    baseline: Path | None
    baseline_update: bool
    max_requests: int | None
    rate_limit: RateLimit | None
    max_body_bytes: int
    verify: bool | str
    dry_run: bool = False
    timestamp_skew: float | None = None
    warnings: list[str] = field(default_factory=list)

    def base_url_for(self, profile: Profile) -> str | None:
        if self.target_url is None:
            return None
        root = self.target_url.rstrip("/")
        return f"{root}/{profile.key}" if len(self.profiles) > 1 else root


def _settings(config: pytest.Config) -> Settings:
    opt = config.getoption
    try:
        profiles = select_vendors(opt("--vendor"))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    params: dict[str, str] = {}
    for item in opt("--param"):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise pytest.UsageError(f"--param {item!r}: expected NAME=VALUE")
        params[name] = value
    target = opt("--target-url")
    if target is not None:
        parts = urlsplit(target)
        # Credentials in the URL (https://user:secret@host) are secrets like the token.
        # A lone user part (https://TOKEN@host) is the secret itself.
        register_secret(parts.password if parts.password is not None else parts.username)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number in 0-65535
        except ValueError:
            raise pytest.UsageError(
                f"--target-url {redact(target)!r}: the port is not a number from 0 to 65535"
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise pytest.UsageError(
                redact(f"--target-url {target!r}: expected an http(s) URL such as https://api.example.test")
            )
    seed = opt("--seed")
    if seed is None:
        seed = getattr(config, "workerinput", {}).get("conformance_seed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    max_examples = opt("--max-examples")
    max_examples = 100 if max_examples is None else max_examples
    if max_examples < 1:
        raise pytest.UsageError("--max-examples must be at least 1")
    timeout = opt("--request-timeout")
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if timeout <= 0:
        raise pytest.UsageError("--request-timeout must be positive")
    baseline = opt("--baseline") or config.getini("conformance_baseline") or None
    rate = opt("--rate-limit")
    try:
        rate_limit = RateLimit.parse(rate) if rate else None
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    verify: bool | str = True
    warnings = []
    if opt("--ca-bundle"):
        bundle = Path(opt("--ca-bundle"))
        if not bundle.is_file():
            raise pytest.UsageError(f"--ca-bundle {bundle}: no such file")
        verify = str(bundle)
    if opt("--insecure"):
        verify = False
        warnings.append("TLS certificate verification was disabled (--insecure)")
    skew = opt("--timestamp-skew")
    if skew is None and config.getini("conformance_timestamp_skew"):
        try:
            skew = float(config.getini("conformance_timestamp_skew"))
        except ValueError:
            raise pytest.UsageError("conformance_timestamp_skew must be a number of seconds") from None
    if skew is not None and skew <= 0:
        raise pytest.UsageError("--timestamp-skew must be positive")
    max_body = opt("--max-body-bytes")
    if max_body is not None and max_body < 1:
        raise pytest.UsageError("--max-body-bytes must be at least 1")
    known_params = {name for p in profiles for name in _path_parameters(p)}
    unknown = sorted(set(params) - known_params)
    if unknown:
        raise pytest.UsageError(
            f"--param {unknown[0]}: no operation of {', '.join(p.key for p in profiles)} has that path parameter"
            f" (known: {', '.join(sorted(known_params)) or 'none'})"
        )
    max_requests = opt("--max-requests")
    if max_requests is not None and max_requests < 1:
        raise pytest.UsageError("--max-requests must be at least 1")
    return Settings(
        profiles=profiles,
        target_url=target,
        params=params,
        seed=seed,
        max_examples=max_examples,
        request_timeout=timeout,
        report_dir=Path(opt("--report-dir") or config.getini("conformance_report_dir") or "reports"),
        baseline=Path(baseline) if baseline else None,
        baseline_update=opt("--baseline-update"),
        max_requests=max_requests,
        rate_limit=rate_limit,
        max_body_bytes=DEFAULT_MAX_BODY if max_body is None else max_body,
        verify=verify,
        dry_run=opt("--dry-run"),
        timestamp_skew=skew,
        warnings=warnings,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a conformance check item")
    config._conformance_settings = _settings(config)  # type: ignore[attr-defined]
    config._conformance_collected: list[CheckResult] = []  # type: ignore[attr-defined,misc]
    config._conformance_vendor_runs: dict[str, VendorRun] = {}  # type: ignore[attr-defined,misc]
    config._conformance_operations: dict[tuple[str, str], dict[str, Any]] = {}  # type: ignore[attr-defined,misc]
    config._conformance_planned: list[str] = []  # type: ignore[attr-defined,misc]
    config._conformance_session = None  # type: ignore[attr-defined]
    _CONFIG["config"] = config
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    if settings.baseline_update and settings.baseline is None:
        raise pytest.UsageError("--baseline-update needs a baseline file: --baseline FILE or ini conformance_baseline")
    # A bad baseline is a usage error before anything is sent, not after the first operation ran.
    _baseline_entries(config)
    _install_sigterm()


def pytest_configure_node(node: Any) -> None:
    """xdist: every worker uses the controller's seed."""
    node.workerinput["conformance_seed"] = node.config._conformance_settings.seed


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist: all checks of one vendor x operation run on one worker, so the operation is exercised once."""
    from xdist.scheduler import LoadScopeScheduling

    class OperationScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if "[" in nodeid and nodeid.endswith("]"):
                return nodeid.rsplit("::", 1)[0]
            return str(super()._split_scope(nodeid))

    return OperationScheduling(config, log)


def _path_parameters(profile: Profile) -> set[str]:
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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if SUITE_ARG not in metafunc.fixturenames:
        return
    settings: Settings = metafunc.config._conformance_settings  # type: ignore[attr-defined]
    ids, values = [], []
    for profile in settings.profiles:
        for label in operation_labels(profile):
            for check in ALL_CHECKS:
                ids.append(f"{profile.key}::{label}::{check}")
                values.append((profile.key, label, check))
    metafunc.parametrize(SUITE_ARG, values, ids=ids, indirect=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    target = redact(settings.target_url or "embedded reference mock")
    vendors = ", ".join(p.key for p in settings.profiles)
    return [f"conformance: vendors={vendors} target={target} seed={settings.seed} max-examples={settings.max_examples}"]


# ---------------------------------------------------------------- the run


class ConformanceSession:
    """Per-process state: the target(s), one transport, one runner per vendor, cached outcomes."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
        self.stack = ExitStack()
        self.lock = threading.Lock()
        self.outcomes: dict[tuple[str, str], OperationOutcome] = {}
        self.errors: dict[tuple[str, str], BaseException] = {}
        self.unreachable: str | None = None  # set once the target could not be reached: nothing more is sent
        self.runners: dict[str, VendorRunner] = {}
        self.transport = HttpxTransport(
            timeout=self.settings.request_timeout,
            verify=self.settings.verify,
            max_requests=_worker_budget(config, self.settings.max_requests),
            rate_limit=_worker_rate(config, self.settings.rate_limit),
            max_body_bytes=self.settings.max_body_bytes,
        )
        self.stack.callback(self.transport.close)
        self.base_urls = self._targets()

    def _targets(self) -> dict[str, str]:
        s = self.settings
        if s.target_url is not None:
            return {p.key: s.base_url_for(p) or "" for p in s.profiles}
        from conformance.mock import create_app
        from conformance.server import running_server

        tokens = {p.token() or MOCK_TOKEN for p in s.profiles}
        # Resources pinned with --param exist on the embedded mock, as they would on a real target.
        app = create_app(s.profiles, tokens=tokens, prefix_by_vendor=True, existing=s.params)
        root = self.stack.enter_context(running_server(app))
        return {p.key: f"{root.rstrip('/')}/{p.key}" for p in s.profiles}

    def token_for(self, profile: Profile) -> str | None:
        token = profile.token()
        if token is None and self.settings.target_url is None:
            token = MOCK_TOKEN
        return token

    def runner(self, vendor: str) -> VendorRunner:
        if vendor not in self.runners:
            profile = next(p for p in self.settings.profiles if p.key == vendor)
            options = RunOptions(
                seed=self.settings.seed,
                max_examples=self.settings.max_examples,
                params=self.settings.params,
                dry_run=self.settings.dry_run,
                timestamp_skew=self.settings.timestamp_skew,
            )
            self.runners[vendor] = VendorRunner(
                profile, self.base_urls[vendor], self.token_for(profile), self.transport, options
            )
        return self.runners[vendor]

    def outcome(self, vendor: str, label: str) -> OperationOutcome:
        with self.lock:
            key = (vendor, label)
            if key in self.errors:
                # Run once: an operation whose run crashed is not re-sent for each of its check items.
                raise RuntimeError(f"the run of {vendor} {label} failed (see its first item): {self.errors[key]!r}")
            if key not in self.outcomes:
                if self.unreachable is not None:
                    self.outcomes[key] = OperationOutcome(label=label, tallies={}, cases=0, stopped=self.unreachable)
                    return self.outcomes[key]
                runner = self.runner(vendor)
                operation = next(op for op in runner.operations() if op.label == label)
                try:
                    self.outcomes[key] = runner.run_operation(operation)
                except KeyboardInterrupt:
                    if runner.partial is not None:
                        self._keep_partial(vendor, runner.partial)
                    raise
                except Exception as exc:
                    self.errors[key] = exc
                    raise
                if self.outcomes[key].unreachable:
                    self.unreachable = self.outcomes[key].stopped
            return self.outcomes[key]

    def _keep_partial(self, vendor: str, partial: OperationOutcome) -> None:
        """An interrupted operation's results go straight into the run, since its items never finish."""
        config = self.config
        config._conformance_collected.extend(partial.results(vendor, ALL_CHECKS))  # type: ignore[attr-defined]
        _merge_vendor(config, self.runner(vendor).vendor_run())
        _merge_operation(config, _operation_record(vendor, partial))

    def close(self) -> None:
        self.stack.close()


def _worker_count(config: pytest.Config) -> int:
    worker = getattr(config, "workerinput", None)
    return int(worker.get("workercount", 1)) if worker else 1


def _worker_budget(config: pytest.Config, budget: int | None) -> int | None:
    """xdist: the budget is split evenly across workers, so the total never exceeds it."""
    if budget is None:
        return None
    count = _worker_count(config)
    index = int(getattr(config, "workerinput", {}).get("workerid", "gw0")[2:] or 0)
    return budget // count + (1 if index < budget % count else 0)


def _worker_rate(config: pytest.Config, rate: RateLimit | None) -> RateLimit | None:
    """xdist: each worker gets its share of the rate, so the total rate is honoured."""
    if rate is None:
        return None
    return RateLimit(rate.count, rate.period * _worker_count(config))


def _session(config: pytest.Config) -> ConformanceSession:
    if config._conformance_session is None:  # type: ignore[attr-defined]
        config._conformance_session = ConformanceSession(config)  # type: ignore[attr-defined]
    return config._conformance_session  # type: ignore[attr-defined,no-any-return]


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    for profile in settings.profiles:
        register_secret(profile.token())
    register_secret(os.environ.get(FALLBACK_TOKEN_ENV))
    if hasattr(config, "workerinput") or settings.target_url is None or settings.dry_run:
        return
    if not _collecting_suite(config):
        return
    missing = [p for p in settings.profiles if p.auth.required and not p.token()]
    if missing:
        names = "; ".join(f"{p.key}: set {p.auth.token_env} or {FALLBACK_TOKEN_ENV}" for p in missing)
        raise pytest.UsageError(f"no API token in the environment for {names}")
    for profile in settings.profiles:
        _preflight(settings.base_url_for(profile) or "", settings.request_timeout, settings.verify)


def _collecting_suite(config: pytest.Config) -> bool:
    """Whether this run will collect the conformance suite (not only self-tests)."""
    args = [a for a in config.args if not a.startswith("-")]
    if not args:
        return True
    return any("suite" in Path(a.split("::")[0]).parts or a.split("::")[0].rstrip("/").endswith("suite") for a in args)


def _preflight(url: str, timeout: float, verify: bool | str) -> None:
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
    raise pytest.UsageError(redact(f"conformance: cannot reach {shown}: {_reason(last)}"))


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


@pytest.fixture
def conformance_check(request: pytest.FixtureRequest) -> Iterator[CheckResult]:
    """The result of one check, from the (cached) run of its vendor x operation."""
    vendor, label, check = request.param
    session = _session(request.config)
    outcome = session.outcome(vendor, label)
    [result] = outcome.results(vendor, (check,))
    request.node.user_properties.append((RESULT_PROPERTY, json.dumps(_asdict(result))))
    request.node.user_properties.append((VENDOR_PROPERTY, json.dumps(_asdict(session.runner(vendor).vendor_run()))))
    request.node.user_properties.append((OPERATION_PROPERTY, json.dumps(_operation_record(vendor, outcome))))
    if check == ALL_CHECKS[0] and session.settings.dry_run:
        planned = session.runner(vendor).planned.get(label, [])
        request.node.user_properties.append((PLANNED_PROPERTY, json.dumps(planned)))
    yield _with_baseline(request.config, result, mock=outcome.answered_by_mock)


def _asdict(obj: Any) -> Any:
    from dataclasses import asdict

    return asdict(obj)


def _baseline_entries(config: pytest.Config) -> list[Any]:
    cached = getattr(config, "_conformance_baseline_entries", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from conformance.baseline import entries_from_profiles, load_baseline

    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    try:
        entries = list(entries_from_profiles(settings.profiles))
        if settings.baseline is not None and settings.baseline.exists():
            from_file = load_baseline(settings.baseline)  # validated even when it is about to be rewritten
            if not settings.baseline_update:
                entries += from_file
        elif settings.baseline is not None and not settings.baseline_update:
            raise UsageError(f"baseline file {settings.baseline} does not exist")
    except UsageError as exc:
        raise pytest.UsageError(f"conformance: {exc}") from None
    config._conformance_baseline_entries = entries  # type: ignore[attr-defined]
    return entries


def _with_baseline(config: pytest.Config, result: CheckResult, *, mock: bool = False) -> CheckResult:
    from conformance.baseline import apply_baseline

    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    run = RunResult(tool_version=__version__, schemathesis_version="", seed=settings.seed, started_at="")
    run.results = [_copy(result)]
    run.vendors = [VendorRun(vendor=result.vendor, display_name="", spec_title="", spec_version="", target_url="")]
    entries = [
        e
        for e in _baseline_entries(config)
        if e.vendor == result.vendor
        and e.operation == result.operation
        and e.check == result.check
        and not (mock and _from_profile(e))
    ]
    applied = apply_baseline(run, entries, today=date.today())
    same = [r for r in applied.results if r.key == result.key]
    return same[0] if same else result


def _copy(result: CheckResult) -> CheckResult:
    return RunResult.from_dict(
        {"tool_version": "", "schemathesis_version": "", "seed": None, "started_at": "", "results": [_asdict(result)]}
    ).results[0]


def verdict(result: CheckResult) -> None:
    """Turn a check's outcome into the pytest verdict of its item."""
    if result.outcome == "failed":
        pytest.fail(format_failures(result), pytrace=False)
    if result.outcome == "stale":
        pytest.fail(f"stale, remove it: {result.note or 'the accepted deviation no longer reproduces'}", pytrace=False)
    if result.outcome == "accepted":
        reasons = sorted({f.accepted_reason or "" for f in result.failures})
        pytest.xfail("accepted deviation: " + "; ".join(reasons))
    if result.outcome == "not_applicable":
        pytest.skip("not applicable: no case this check could judge")
    if result.outcome == "not_reached":
        pytest.skip(f"not reached: {result.note or 'the run ended early'}")


def format_failures(result: CheckResult) -> str:
    lines = [f"{result.key}: {len(result.failures)} distinct failure(s)"]
    for failure in result.failures:
        lines.append("")
        lines.append(f"- {failure.title}  [{failure.phase}/{failure.generation_mode}]")
        lines += ["    " + line for line in failure.message.strip().splitlines()[:20]]
        if failure.exchange is not None and failure.exchange.status is not None:
            body = (failure.exchange.response_body or "")[:500]
            lines.append(f"    Response: {failure.exchange.status} {body}")
        lines.append(f"    Reproduce: {failure.curl[:2000]}")
    seed = _CONFIG["config"]._conformance_settings.seed if "config" in _CONFIG else None  # type: ignore[attr-defined]
    if seed is not None:
        lines += ["", f"Rerun the suite with --seed {seed} to replay every case."]
    return "\n".join(lines)


# ---------------------------------------------------------------- collection of results, reports


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "setup":
        return
    config = _CONFIG.get("config")
    if config is None:
        return
    for name, raw in report.user_properties:
        value = str(raw)
        if name == RESULT_PROPERTY:
            config._conformance_collected.append(_copy_from_json(value))  # type: ignore[attr-defined]
        elif name == PLANNED_PROPERTY:
            config._conformance_planned.extend(json.loads(value))  # type: ignore[attr-defined]
        elif name == VENDOR_PROPERTY:
            _merge_vendor(config, VendorRun(**json.loads(value)))
        elif name == OPERATION_PROPERTY:
            _merge_operation(config, json.loads(value))


def _operation_record(vendor: str, outcome: OperationOutcome) -> dict[str, Any]:
    """What one operation's run adds to its vendor's totals; every check item of it carries the same."""
    return {
        "vendor": vendor,
        "operation": outcome.label,
        "cases": outcome.cases,
        "created": outcome.created,
        "coverage": outcome.coverage,
        "mock": outcome.answered_by_mock,
    }


def _merge_vendor(config: pytest.Config, run: VendorRun) -> None:
    """A vendor's run metadata, from any item (or worker) that has it."""
    config._conformance_vendor_runs.setdefault(run.vendor, run)  # type: ignore[attr-defined]


def _merge_operation(config: pytest.Config, record: dict[str, Any]) -> None:
    """Per-operation totals, once per operation whichever item or xdist worker reports them."""
    operations: dict[tuple[str, str], dict[str, Any]] = config._conformance_operations  # type: ignore[attr-defined]
    operations.setdefault((record["vendor"], record["operation"]), record)


def _copy_from_json(value: str) -> CheckResult:
    return RunResult.from_dict(
        {"tool_version": "", "schemathesis_version": "", "seed": None, "started_at": "", "results": [json.loads(value)]}
    ).results[0]


_CONFIG: dict[str, pytest.Config] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config
    session.config._conformance_started = datetime.now(UTC).isoformat()  # type: ignore[attr-defined]


def build_run(config: pytest.Config, *, interrupted: bool = False) -> RunResult:
    """The neutral result model of this run, with the baseline applied."""
    from conformance.baseline import apply_baseline

    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    results: list[CheckResult] = config._conformance_collected  # type: ignore[attr-defined]
    order = {p.key: i for i, p in enumerate(settings.profiles)}
    results = sorted(
        results,
        key=lambda r: (
            order.get(r.vendor, 99),
            r.operation,
            ALL_CHECKS.index(r.check) if r.check in ALL_CHECKS else 99,
        ),
    )
    if interrupted:
        results = _with_unreached(config, results, INTERRUPTED_NOTE)
    for profile in settings.profiles:  # a vendor the run never reached still heads its results
        if any(r.vendor == profile.key for r in results):
            info = profile.spec.get("info", {})
            _merge_vendor(
                config,
                VendorRun(
                    vendor=profile.key,
                    display_name=profile.display_name,
                    spec_title=str(info.get("title", "")),
                    spec_version=str(info.get("version", "")),
                    target_url=redact(settings.base_url_for(profile) or "embedded reference mock"),
                ),
            )
    vendors = sorted(config._conformance_vendor_runs.values(), key=lambda v: order.get(v.vendor, 99))  # type: ignore[attr-defined]
    operations: dict[tuple[str, str], dict[str, Any]] = config._conformance_operations  # type: ignore[attr-defined]
    for vendor in vendors:
        mine = sorted((label, record) for (key, label), record in operations.items() if key == vendor.vendor)
        vendor.operations = [label for label, _ in mine]
        vendor.cases = sum(record["cases"] for _, record in mine)
        vendor.created_resources = sum(record["created"] for _, record in mine)
        vendor.coverage = {label: record["coverage"] for label, record in mine if record["coverage"]}
    unreachable = sorted({r.note or "" for r in results if (r.note or "").startswith(UNREACHABLE_NOTE)})
    unjudged = [] if settings.dry_run or interrupted else _unjudged(vendors, results)
    run = RunResult(
        tool_version=__version__,
        schemathesis_version=schemathesis.__version__ if hasattr(schemathesis, "__version__") else _st_version(),
        seed=settings.seed,
        started_at=getattr(config, "_conformance_started", datetime.now(UTC).isoformat()),
        finished_at=datetime.now(UTC).isoformat(),
        interrupted=interrupted,
        budget_exhausted=any(r.outcome == "not_reached" and (r.note or "").startswith(BUDGET_NOTE) for r in results),
        warnings=list(settings.warnings)
        + [str(note) for note in unreachable]
        + [f"{vendor}: not one response could be judged, so no conformance can be claimed" for vendor in unjudged],
        vendors=list(vendors),
        results=results,
        unjudged=unjudged,
    )
    return apply_baseline(run, _entries_for(config, results), today=date.today())


def _unjudged(vendors: list[VendorRun], results: list[CheckResult]) -> list[str]:
    """Vendors of which no check judged a single answer: not-a-5xx and the transport checks hold even
    for a target that answers nothing but 429, so they do not count."""
    structural = {"not_a_server_error", *TRANSPORT_CHECKS}
    judged = {
        r.vendor for r in results if r.outcome not in ("not_applicable", "not_reached") and r.check not in structural
    }
    return [v.vendor for v in vendors if v.vendor not in judged]


def _with_unreached(config: pytest.Config, results: list[CheckResult], note: str) -> list[CheckResult]:
    """`results` plus a not-reached result for every check item of the run that never reported."""
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    known = {r.key for r in results}
    missing = [
        CheckResult(vendor=p.key, operation=label, check=check, outcome="not_reached", note=note)
        for p in settings.profiles
        for label in operation_labels(p)
        for check in ALL_CHECKS
        if f"{p.key}::{label}::{check}" not in known
    ]
    return results + missing


def _entries_for(config: pytest.Config, results: list[CheckResult]) -> list[Any]:
    """Baseline entries that this run can judge: an entry for a check that exists but was deselected
    (-k, --deselect, a single item) is left out rather than reported stale; an entry naming no check
    of the suite at all stays in, so a typo is reported."""
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    ran = {r.key for r in results}
    suite = {
        f"{p.key}::{label}::{check}" for p in settings.profiles for label in operation_labels(p) for check in ALL_CHECKS
    }
    operations: dict[tuple[str, str], dict[str, Any]] = config._conformance_operations  # type: ignore[attr-defined]
    mocked = {vendor for (vendor, _), record in operations.items() if record.get("mock")}
    return [
        e
        for e in _baseline_entries(config)
        if (e.key in ran or e.key not in suite) and not (e.vendor in mocked and _from_profile(e))
    ]


def _from_profile(entry: Any) -> bool:
    """A profile's known deviation: its vendor's server's, so not applied where the target is our own mock
    (the reference serves the spec; a mutant deviates only as its name says)."""
    return bool(entry.source == f"profile {entry.vendor}")


def _st_version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if config._conformance_session is not None:  # type: ignore[attr-defined]
        config._conformance_session.close()  # type: ignore[attr-defined]
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if hasattr(config, "workerinput"):
        return
    if not config._conformance_collected and not (interrupted and _collecting_suite(config)):  # type: ignore[attr-defined]
        return
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    run = build_run(config, interrupted=interrupted)
    config._conformance_run = run  # type: ignore[attr-defined]
    from conformance.reports import write_reports

    write_reports(run, settings.report_dir)
    if settings.baseline_update and settings.baseline is not None:
        from conformance.baseline import load_baseline, update_baseline

        existing = load_baseline(settings.baseline) if settings.baseline.exists() else []
        update_baseline(settings.baseline, run, existing)
    if run.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if any(w.startswith(UNREACHABLE_NOTE) for w in run.warnings) and not interrupted:
        # Like an unreachable target at the start: a usage error, not a verdict on the target.
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = getattr(config, "_conformance_run", None)
    if run is None:
        return
    from conformance.reports.terminal import terminal_summary

    planned: list[str] = config._conformance_planned  # type: ignore[attr-defined]
    if planned:
        terminalreporter.section("conformance dry run: nothing was sent")
        for line in planned:
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"{len(planned)} case(s) would be sent, plus the probes some checks send on their own (e.g."
            " ignored_auth re-sends a case without credentials); --max-requests counts those too"
        )
    terminalreporter.section("conformance")
    for line in terminal_summary(run):
        terminalreporter.write_line(line)
    settings: Settings = config._conformance_settings  # type: ignore[attr-defined]
    terminalreporter.write_line(
        f"seed {settings.seed} (repeat with --seed {settings.seed}); reports in {settings.report_dir}/"
    )


def _install_sigterm() -> None:
    """SIGTERM stops the run like Ctrl-C, so reports of what ran are still written.

    SIGINT is re-armed too: a shell starts a background job with SIGINT ignored, and a run started
    that way would otherwise ignore Ctrl-C sent to it later."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
