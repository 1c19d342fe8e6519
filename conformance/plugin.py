"""The pytest plugin: a thin adapter over `conformance.api.Runner`.

Registered through the `pytest11` entry point, so it is loaded in every pytest run of an environment
that has thread-conformance installed. It registers its options there and does nothing else, unless
the run is a conformance run: one that collects the suite module, `pytest --pyargs conformance.suite`
(what `conformance run` and this repository's `pytest` with no arguments do). Then it resolves the
settings, arms SIGTERM, checks the token and the target, generates one item per vendor x operation x
check (ids such as `seekrflow::POST /v1/threads::response_schema_conformance`), and writes the reports
at the end. All its state lives in `config.stash`.

Every item of one vendor x operation shares one run of that operation (the Runner caches it); under
pytest-xdist the run must use `--dist loadscope`, whose scope of an item is its node id up to the last
`::`: here `...test_conformance[vendor::operation`, so each operation is exercised on one worker, once.
(`xdist_group` marks with `--dist loadgroup` would say the same, but xdist 3.8 cannot rename node ids
under pytest 9, so loadgroup silently splits them.) A worker sends each item's `OperationReport` home
as a user property, and at its end every report it made, with the one of an operation cut short by an
interruption, in `config.workeroutput` (which xdist sends home with its "workerfinished" event).

Ctrl-C under xdist reaches the controller and its workers (one process group). Each worker stops and sends
its reports home; the controller, while its xdist loop runs, does not stop at once but lets that loop
collect them (`pytest_testnodedown`), then reports the run as interrupted. A second Ctrl-C, or
`XDIST_INTERRUPT_GRACE` seconds without every worker done, stops it at once.
"""

from __future__ import annotations

import _thread
import dataclasses
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

# Only the defaults at import: this module is loaded into every pytest run of the environment, and the engine
# (Schemathesis, Hypothesis, httpx) is imported by the hooks of a conformance run only.
from conformance.defaults import DEFAULT_MAX_BODY, DEFAULT_REPORT_DIR, DEFAULT_TIMEOUT, EMBEDDED
from conformance.redact import redact  # light: the standard library only

if TYPE_CHECKING:
    from conformance.api import OperationReport, Runner, Settings
    from conformance.engine import CheckId
    from conformance.results import CheckResult, RunResult

SUITE_MODULE = "conformance.suite"
SUITE_ARG = "conformance_check"
REPORT_PROPERTY = "conformance_report"  # an item's OperationReport, as JSON: the one wire format
WORKER_OUTPUT = "conformance_reports"  # in a worker's `config.workeroutput`: every report it made, as JSON
XDIST_INTERRUPT_GRACE = 30.0  # seconds an interrupted xdist controller waits for its workers' reports


@dataclass(eq=False)  # a registered plugin: compared and hashed by identity
class State:
    """The plugin's state for one conformance run (in `config.stash`). Registered as a plugin of its own
    too, for the one hook that is given no config: each finished item's report."""

    settings: Settings
    runner: Runner
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    reports: list[OperationReport] = field(default_factory=list)  # from every item, on every worker
    raw_reports: list[str] = field(default_factory=list)  # the same, as sent: what a worker sends home at its end
    seen: set[str] = field(default_factory=set)  # raw_reports, to take each report once
    result: RunResult | None = None
    signals: dict[int, Any] = field(default_factory=dict)  # handlers to restore at the end
    ledger: str | None = None  # xdist controller: the file of the budget and rate its workers share
    awaiting_workers: bool = False  # xdist controller in its loop: an interrupt first waits for the workers' reports
    grace: threading.Timer | None = None  # armed by the first interrupt while awaiting_workers: the bound on the wait

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """A failing item's text is redacted: a crash of ours (an item's traceback shows function arguments)
        never prints a secret."""
        report = yield
        report.longrepr = redact_repr(report.longrepr)
        return report

    @staticmethod
    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """An interrupt is reported without the frames that have no line number: CPython 3.11 gives one where the
        signal lands on an instruction without a line (a `with` block's cleanup), and pytest's report of it
        then fails (TypeError in TracebackEntry.lineno), ending the run with an internal error, not exit 2."""

        def has_a_line(entry: Any) -> bool:
            try:
                return isinstance(entry.lineno, int)
            except TypeError:
                return False

        excinfo.traceback = excinfo.traceback.filter(has_a_line)

    @pytest.hookimpl(tryfirst=True)
    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        """An internal error of ours is printed redacted: the traceback pytest prints shows the frames' arguments."""
        redact_repr(excrepr)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "setup":
            return
        for name, raw in report.user_properties:
            if name == REPORT_PROPERTY:
                self.collect(str(raw))

    def collect(self, raw: str) -> None:
        """Add one report (JSON), once: an item's report also comes home in its worker's output."""
        if raw in self.seen:
            return
        from conformance.api import OperationReport

        self.seen.add(raw)
        self.raw_reports.append(raw)
        self.reports.append(OperationReport.from_json(raw))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        """On an xdist controller, an interrupt during the loop waits for the workers' reports (bounded)."""
        config = session.config
        self.awaiting_workers = bool(config.getoption("numprocesses", None)) and not hasattr(config, "workerinput")
        try:
            result = yield
        finally:
            self.awaiting_workers = False
            if self.grace is not None:
                self.grace.cancel()
        if self.grace is not None:  # interrupted, though the workers finished (the signal reached only this process)
            raise KeyboardInterrupt
        return result

    def interrupt(self, signum: int, frame: Any) -> None:
        """The handler of SIGINT and SIGTERM: stop the run like Ctrl-C. An xdist controller in its loop first
        lets the loop collect what its interrupted workers send home (they got the same Ctrl-C), and stops at
        the second interrupt or after `XDIST_INTERRUPT_GRACE` seconds (the timer sends SIGINT again)."""
        if self.awaiting_workers and self.grace is None:
            self.grace = threading.Timer(XDIST_INTERRUPT_GRACE, _thread.interrupt_main, args=(signal.SIGINT,))
            self.grace.daemon = True
            self.grace.start()
            sys.stderr.write(
                "\nconformance: interrupted; collecting the workers' reports (interrupt again to stop now)\n"
            )
            return
        raise KeyboardInterrupt


STATE = pytest.StashKey[State]()


def redact_repr(value: Any) -> Any:
    """`value` (a traceback representation pytest will print: dataclasses of lines, arguments and messages)
    with every string in it redacted, in place where it is mutable; pytest then prints it as usual."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        value[:] = [redact_repr(item) for item in value]
        return value
    if isinstance(value, tuple):
        return tuple(redact_repr(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for each in dataclasses.fields(value):
            object.__setattr__(value, each.name, redact_repr(getattr(value, each.name)))
    return value


class OptionRecorder:
    """Stands in for pytest's parser to collect the plugin's own options and ini keys (`run --help`, and which
    options take a value)."""

    def __init__(self) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self.ini: list[tuple[str, str]] = []

    def getgroup(self, name: str, description: str = "") -> OptionRecorder:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.options.append((names, kwargs))

    def addini(self, name: str, help: str, **kwargs: Any) -> None:
        self.ini.append((name, help))


def recorded_options() -> OptionRecorder:
    """The plugin's options and ini keys, as `pytest_addoption` registers them."""
    recorder = OptionRecorder()
    pytest_addoption(recorder)  # type: ignore[arg-type]
    return recorder


def value_options() -> frozenset[str]:
    """The plugin's options that take a value (`--report-dir DIR`)."""
    flags = ("store_true", "store_false", "store_const", "count")
    return frozenset(
        name
        for names, kwargs in recorded_options().options
        if kwargs.get("action") not in flags
        for name in names
        if name.startswith("--")
    )


def separate_values(args: list[str]) -> list[tuple[str, str]]:
    """(option, value) for each of the plugin's options given with its value as the next argument."""
    ours = value_options()
    return [(arg, args[i + 1]) for i, arg in enumerate(args[:-1]) if arg in ours]


def _check_inifile(config: pytest.Config) -> None:
    """A usage error when pytest chose its ini file from one of our options' values.

    pytest looks for it before it loads plugins, so in `--report-dir out`, with `out` an existing directory,
    `out` is a test path to it there: outside the project, the project's ini file (and with it `testpaths`,
    `addopts` and every `conformance_*` key) is silently not read, and `pytest` in a checkout collects the
    self-tests."""
    if hasattr(config, "workerinput"):
        return  # the controller checked
    suspects = [(o, v) for o, v in separate_values(list(config.invocation_params.args)) if os.path.exists(v)]
    if not suspects:
        return
    from conformance import compat

    namespace = config.known_args_namespace
    given = list(config.args) if config.args_source is pytest.Config.ArgsSource.ARGS else []
    _, inifile = compat.pytest_rootdir_and_inifile(
        given,
        config.invocation_params.dir,
        namespace.inifilename,
        namespace.rootdir or None,
        getattr(namespace, "override_ini", None),
    )
    # A rootdir of its own alone changes nothing a run depends on (tests/test_product.py); a lost ini file does.
    if inifile != config.inipath:
        option, value = suspects[0]
        raise pytest.UsageError(
            f"pytest took {value!r}, the value of {option}, for a test path when it looked for its ini file (it does "
            f"that before it knows plugin options) and would read {config.inipath or 'none'} instead of {inifile}: "
            f"write {option}={value}"
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "thread-conformance (active with --pyargs conformance.suite)")
    group.addoption("--vendor", action="append", default=[], help="vendor to test (repeatable; default: all)")
    group.addoption(
        "--vendors-dir",
        default=None,
        metavar="DIR",
        help="directory of extra vendors (DIR/profiles/<key>.toml, specs relative to DIR); adds or overrides by key",
    )
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
    group.addoption("--report-dir", default=None, help=f"where reports are written (default: {DEFAULT_REPORT_DIR}/)")
    group.addoption("--baseline", default=None, help="file of accepted deviations")
    group.addoption("--baseline-update", action="store_true", help="write the current failures into the baseline file")
    group.addoption("--max-requests", type=int, default=None, help="hard budget of requests over the whole run")
    group.addoption("--rate-limit", default=None, help="e.g. 10/s or 100/m")
    group.addoption(
        "--workers",
        default=None,
        metavar="N",
        help="threads that send each operation's cases concurrently, for a target with latency (default 1; at "
        "most 64); same cases and verdicts; shares --max-requests and --rate-limit; ini conformance_workers",
    )
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
        "--confirm",
        type=int,
        default=None,
        metavar="N",
        help="send each distinct failure's kept case N more times and label it confirmed or not reproduced "
        "(default 1; 0: off). Counts against --max-requests and --rate-limit",
    )
    group.addoption(
        "--shrink",
        action="store_const",
        const=True,
        default=None,
        dest="conformance_shrink",
        help="shrink each failing case with Hypothesis's shrinker (more requests; default: on against the embedded "
        "mock, off against --target-url)",
    )
    group.addoption("--no-shrink", action="store_const", const=False, dest="conformance_shrink", help="do not shrink")
    group.addoption(
        "--skip-check",
        action="append",
        default=[],
        metavar="NAME",
        help="turn a check off (repeatable), e.g. error_shape for spec-only verdicts; ini conformance_skip_checks",
    )
    group.addoption(
        "--dry-run", action="store_true", help="print the cases as curl commands; send nothing, write no reports"
    )
    parser.addini("conformance_baseline", "default baseline file", default="")
    parser.addini("conformance_report_dir", "default report directory", default=DEFAULT_REPORT_DIR)
    parser.addini("conformance_timestamp_skew", "default --timestamp-skew in seconds", default="")
    parser.addini("conformance_vendors_dir", "default --vendors-dir", default="")
    parser.addini("conformance_workers", "default --workers", default="")
    parser.addini("conformance_skip_checks", "checks turned off (names separated by spaces or commas)", default="")


# ---------------------------------------------------------------- is this a conformance run?


def is_conformance_run(config: pytest.Config) -> bool:
    """Whether the run collects the suite: `--pyargs conformance.suite` (or one of its items)."""
    if not config.getoption("pyargs", False):
        return False
    return any(arg.split("::")[0].split("[")[0].startswith(SUITE_MODULE) for arg in config.args)


def _state(config: pytest.Config) -> State | None:
    return config.stash.get(STATE, None)


def _settings(config: pytest.Config) -> Settings:
    """The settings from the options, then the ini keys; on an xdist worker, with the controller's seed."""
    from conformance.api import MAX_WORKERS, make_settings
    from conformance.errors import UsageError

    opt = config.getoption
    skew = opt("--timestamp-skew")
    if skew is None and config.getini("conformance_timestamp_skew"):
        try:
            skew = float(config.getini("conformance_timestamp_skew"))
        except ValueError:
            raise UsageError("conformance_timestamp_skew must be a number of seconds") from None
    workers = opt("--workers") or config.getini("conformance_workers") or None
    if workers is not None:
        try:
            workers = int(workers)
        except ValueError:
            raise UsageError(f"--workers must be a whole number from 1 to {MAX_WORKERS} (got {workers!r})") from None
    worker = getattr(config, "workerinput", None)
    seed = opt("--seed")
    if seed is None and worker is not None:
        seed = worker.get("conformance_seed")
    return make_settings(
        vendors=opt("--vendor"),
        vendors_dir=opt("--vendors-dir") or config.getini("conformance_vendors_dir") or None,
        target_url=opt("--target-url"),
        params=opt("--param"),
        seed=seed,
        max_examples=opt("--max-examples"),
        request_timeout=opt("--request-timeout"),
        report_dir=opt("--report-dir") or config.getini("conformance_report_dir") or DEFAULT_REPORT_DIR,
        baseline=opt("--baseline") or config.getini("conformance_baseline") or None,
        baseline_update=opt("--baseline-update"),
        max_requests=opt("--max-requests"),
        rate_limit=opt("--rate-limit"),
        max_body_bytes=opt("--max-body-bytes"),
        ca_bundle=opt("--ca-bundle"),
        insecure=opt("--insecure"),
        timestamp_skew=skew,
        dry_run=opt("--dry-run"),
        confirm=opt("--confirm"),
        shrink=opt("conformance_shrink"),
        workers=workers,
        skip_checks=[*opt("--skip-check"), str(config.getini("conformance_skip_checks"))],
        check_report_dir=worker is None,  # workers never write reports
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _check_inifile(config)
    if not is_conformance_run(config):
        return  # inert: options registered, nothing else
    config.addinivalue_line("markers", "conformance: a conformance check item")
    from conformance.api import Runner, WorkerShare
    from conformance.errors import UsageError

    try:
        settings = _settings(config)
        worker = getattr(config, "workerinput", None)
        share = (
            WorkerShare(int(worker["workerid"][2:] or 0), int(worker["workercount"]), worker.get("conformance_ledger"))
            if worker
            else WorkerShare()
        )
        # A bad baseline is a usage error before anything is sent, not after the first operation ran.
        runner = Runner(settings, share=share)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    # Closed after every other plugin's unconfigure and cleanups (this hook runs first, so its cleanup last):
    # pytest's own end-of-run collections then still find the run's heap frozen (Runner.close thaws it).
    config.add_cleanup(runner.close)
    if config.getoption("numprocesses", None) and config.getoption("dist", "no") != "loadscope":
        # Only this mode keeps one operation's items on one worker, so that each operation is exercised
        # once (see the module docstring). `conformance run` adds it for you.
        raise pytest.UsageError("a conformance run with -n needs --dist loadscope (one operation, one worker)")
    state = State(settings=settings, runner=runner)
    if worker is None and config.getoption("numprocesses", None) and (settings.max_requests or settings.rate_limit):
        # xdist: one budget and one rate for every worker, kept in a file they all lock (conformance.transport.Ledger)
        import tempfile

        from conformance.transport import Ledger

        handle, path = tempfile.mkstemp(prefix="conformance-ledger-")
        os.close(handle)
        state.ledger = Ledger.create(path).path
    config.stash[STATE] = state
    config.pluginmanager.register(state, "conformance-run")
    _install_signals(state)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is None:
        return
    if state.ledger is not None:
        os.unlink(state.ledger)
    for signum, handler in state.signals.items():
        signal.signal(signum, handler)


@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """xdist: a worker is done; keep every report it sent home (also those of an interrupted run)."""
    state = _state(node.config)
    output = getattr(node, "workeroutput", None)  # set once the worker said "workerfinished"
    if state is None or not isinstance(output, dict):
        return
    for raw in output.get(WORKER_OUTPUT, []):
        state.collect(str(raw))


@pytest.hookimpl(optionalhook=True)  # an xdist hook, unknown to pytest when xdist is not loaded
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker uses the controller's seed."""
    state = _state(node.config)
    if state is not None:
        node.workerinput["conformance_seed"] = state.settings.seed
        if state.ledger is not None:
            node.workerinput["conformance_ledger"] = state.ledger


def pytest_sessionstart(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None or hasattr(session.config, "workerinput"):
        return
    from conformance.errors import UsageError

    try:
        state.runner.preflight()
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if SUITE_ARG not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    if state is None:  # the suite's module imported into some other run: say how to run it, do nothing
        reason = f"the conformance suite runs with: pytest --pyargs {SUITE_MODULE}"
        metafunc.parametrize(SUITE_ARG, [pytest.param(None, marks=pytest.mark.skip(reason=reason))], indirect=True)
        return
    # The id "vendor::operation::check" is also what --dist loadscope groups by (all but the last part).
    params = [pytest.param(check_id, id=str(check_id)) for check_id in state.runner.plan()]
    metafunc.parametrize(SUITE_ARG, params, indirect=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = _state(config)
    if state is None:
        return []
    from conformance.redact import redact

    s = state.settings
    target = redact(s.target_url or EMBEDDED)
    vendors = ", ".join(f"{p.key} ({p.origin})" if p.origin != "bundled" else p.key for p in s.profiles)
    return [f"conformance: vendors={vendors} target={target} seed={s.seed} max-examples={s.max_examples}"]


@dataclass(frozen=True)
class Checked:
    """One item's check result (baseline applied) and the seed that replays it."""

    result: CheckResult
    seed: int

    def verdict(self) -> None:
        """Turn the check's outcome into the pytest verdict of its item."""
        result = self.result
        if result.outcome == "failed":
            pytest.fail(format_failures(result, self.seed), pytrace=False)
        if result.outcome == "stale":
            note = result.note or "the accepted deviation no longer reproduces"
            pytest.fail(f"stale, remove it: {note}", pytrace=False)
        if result.outcome == "not_judged":  # ours, not the vendor's: still no pass
            pytest.fail(
                "could not judge (not the vendor's failure): " + format_failures(result, self.seed), pytrace=False
            )
        if result.outcome == "accepted":
            reasons = sorted({f.accepted_reason or "" for f in result.failures})
            pytest.xfail("accepted deviation: " + "; ".join(reasons))
        if result.outcome == "not_applicable":
            pytest.skip("not applicable: no case this check could judge")
        if result.outcome == "not_reached":
            pytest.skip(f"not reached: {result.note or 'the run ended early'}")


@pytest.fixture
def conformance_check(request: pytest.FixtureRequest) -> Checked:
    """The result of one check, from the (cached) run of its vendor x operation."""
    check_id: CheckId = request.param
    state = _state(request.config)
    assert state is not None  # pytest_generate_tests made this item only in a conformance run
    report = state.runner.operation(check_id.vendor, check_id.operation).only(check_id)
    request.node.user_properties.append((REPORT_PROPERTY, report.to_json()))
    [result] = report.results
    return Checked(result, state.settings.seed)


def format_failures(result: CheckResult, seed: int) -> str:
    lines = [f"{result.key}: {len(result.failures)} distinct failure(s)"]
    if result.note:  # e.g. which failures no baseline entry accepts, or an unreviewed entry
        lines.append(f"note: {result.note}")
    for failure in result.failures:
        lines.append("")
        name = f"{failure.id} {failure.title}" if failure.id else failure.title
        accepted = f" (accepted: {failure.accepted_reason})" if failure.accepted_reason else ""
        lines.append(f"- {name}  [{failure.phase}/{failure.generation_mode}]{accepted}")
        lines += ["    " + line for line in failure.message.strip().splitlines()[:20]]
        if failure.exchange is not None and failure.exchange.status is not None:
            body = (failure.exchange.response_body or "")[:500]
            lines.append(f"    Response: {failure.exchange.status} {body}")
        lines.append(f"    Reproduce: {failure.curl[:2000]}")
    lines += ["", f"Rerun the suite with --seed {seed} to replay every case."]
    return "\n".join(lines)


# ---------------------------------------------------------------- collection of results, reports


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is not None:
        state.started_at = datetime.now(UTC).isoformat()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = _state(config)
    if state is None:
        return
    if hasattr(config, "workerinput"):  # a worker: everything it ran goes home, also when it was interrupted
        partial = [report.to_json() for report in state.runner.partial]
        config.workeroutput[WORKER_OUTPUT] = state.raw_reports + partial  # type: ignore[attr-defined]
        return
    from conformance.api import write_outputs
    from conformance.engine import StopReason
    from conformance.reports import ReportWriteError

    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    reports = state.reports + state.runner.partial
    if not reports and not interrupted:
        return
    run = state.runner.result(reports, interrupted=interrupted, started_at=state.started_at)
    state.result = run
    try:
        write_outputs(state.settings, run)
    except ReportWriteError as exc:  # the previous reports are whole; the run could not be reported
        sys.stderr.write(f"conformance: error: {exc}\n")
        session.exitstatus = exc.exit_code
        return
    if state.settings.dry_run:
        return  # not a verdict
    if run.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if any(r.stopped is StopReason.UNREACHABLE for r in reports) and not interrupted:
        # Like an unreachable target at the start: a usage error, not a verdict on the target.
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state is None or state.result is None:
        return
    from conformance.reports.terminal import terminal_summary

    if state.settings.dry_run:
        planned = [line for report in state.reports for line in report.planned]
        terminalreporter.section("conformance dry run: nothing was sent, no report was written")
        for line in planned:
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"{len(planned)} case(s) would be sent, plus the probes some checks send on their own (e.g."
            " ignored_auth re-sends a case without credentials); --max-requests counts those too"
        )
        return
    terminalreporter.section("conformance")
    for line in terminal_summary(state.result):
        terminalreporter.write_line(line)
    s = state.settings
    terminalreporter.write_line(f"seed {s.seed} (repeat with --seed {s.seed}); reports in {s.report_dir}/")


def _install_signals(state: State) -> None:
    """SIGTERM stops the run like Ctrl-C, so reports of what ran are still written.

    SIGINT is re-armed too: a shell starts a background job with SIGINT ignored, and a run started
    that way would otherwise ignore Ctrl-C sent to it later. Both are restored at the end."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            state.signals[signum] = signal.signal(signum, state.interrupt)
