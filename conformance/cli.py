"""The `conformance` command: run, vendors, mock, mutants, report, diff, compare, replay, publish.

`conformance run` is a thin wrapper over the pytest run `pytest --pyargs conformance.suite`; its
`--help` lists this tool's options, `--pytest-help` all of pytest's. User mistakes of the other
commands end with one `conformance: error: ...` line and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__
from conformance.errors import UsageError

USAGE_EXIT = 2
RUN_USAGE = "conformance run [OPTIONS] [PYTEST OPTIONS]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance", description="Conformance tests for vendor 'create thread' APIs."
    )
    parser.add_argument("--version", action="version", version=f"thread-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the conformance suite (pytest --pyargs conformance.suite; see `conformance run --help`)",
        add_help=False,
    )
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="options passed to pytest")

    vendors = sub.add_parser("vendors", help="list the vendors: key, spec title and version, where it came from")
    vendors.add_argument("--vendors-dir", default=None, metavar="DIR", help="also the vendors of DIR")

    mock = sub.add_parser("mock", help="serve the reference mock(s) on 127.0.0.1")
    mock.add_argument(
        "--vendor", action="append", default=[], help="serve one vendor at the root (default: all, under /<vendor>)"
    )
    mock.add_argument("--port", type=int, default=8000)
    mock.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    mock.add_argument("--mutant", default=None, help="serve a deliberately broken variant (see `conformance mutants`)")
    mock.add_argument("--vendors-dir", default=None, metavar="DIR", help="also the vendors of DIR")

    sub.add_parser("mutants", help="list the defect zoo's mutants")

    report = sub.add_parser("report", help="regenerate a report from conformance.json")
    report.add_argument("json_path", metavar="CONFORMANCE_JSON")
    report.add_argument("--format", default="html", choices=["html", "junit", "markdown", "json", "badge"])
    report.add_argument(
        "--output",
        default=None,
        help="file (or, for badges, directory) to write; '-' for stdout "
        "(default: the report's usual name next to CONFORMANCE_JSON)",
    )

    diff = sub.add_parser("diff", help="breaking changes between two versions of a spec")
    diff.add_argument("old_spec")
    diff.add_argument("new_spec")
    diff.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    diff.add_argument(
        "--allow-local-refs",
        action="store_true",
        help="follow $refs to files under each spec's own directory (never remote or file: refs)",
    )

    vendor = sub.add_parser("vendor", help="vendor data: `vendor init` writes a starter profile from a spec")
    vendor_sub = vendor.add_subparsers(dest="vendor_command", required=True, metavar="ACTION")
    init = vendor_sub.add_parser("init", help="write a starter profile from an OpenAPI 3.x spec, guesses marked")
    init.add_argument("--spec", required=True, help="the vendor's OpenAPI 3.x document (YAML or JSON)")
    init.add_argument("--key", required=True, help="the vendor key (the profile's file name)")
    init.add_argument(
        "--vendors-dir",
        default=None,
        help="the vendors directory the spec lies in (DIR/specs/...; default $CONFORMANCE_VENDORS_DIR, else the "
        "spec's own DIR)",
    )
    init.add_argument("--output", default=None, help="where to write (default DIR/profiles/KEY.toml; '-' stdout)")
    init.add_argument("--force", action="store_true", help="replace an existing profile")

    compare = sub.add_parser("compare", help="regressions between two conformance.json reports")
    compare.add_argument("old_report")
    compare.add_argument("new_report")
    compare.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    replay = sub.add_parser(
        "replay", help="re-send one recorded failure to a target: exit 1 if it reproduces, 0 if it no longer does"
    )
    replay.add_argument("report", metavar="CONFORMANCE_JSON", help="the report the failure is in")
    replay.add_argument("--failure", required=True, metavar="ID", help="the failure's id, e.g. F-7c1e9a2b")
    replay.add_argument("--target-url", required=True, help="base URL of the target (token from the environment)")
    replay.add_argument("--vendors-dir", default=None, metavar="DIR", help="also the vendors of DIR")
    replay.add_argument("--request-timeout", type=float, default=None, help="seconds for the request")
    replay.add_argument("--ca-bundle", default=None, help="CA bundle for a private CA")
    replay.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    publish = sub.add_parser("publish", help="add runs to a static conformance site (matrix, history, feeds)")
    publish.add_argument("run_files", nargs="+", metavar="RUN_JSON", help="conformance.json files to publish")
    publish.add_argument("--out", required=True, metavar="DIR", help="the site's directory (created, or updated)")
    return parser


def join_option_values(args: list[str]) -> list[str]:
    """`--report-dir DIR` as `--report-dir=DIR`, for each of the plugin's options that takes a value: pytest
    looks for its ini file before it knows plugin options, and would take an existing DIR for a test path there."""
    from conformance.plugin import value_options

    ours = value_options()
    joined: list[str] = []
    rest = iter(args)
    for arg in rest:
        value = next(rest, None) if arg in ours else None
        joined.append(f"{arg}={value}" if value is not None else arg)
    return joined


def _run(pytest_args: list[str]) -> int:
    import pytest

    args = join_option_values([a for a in pytest_args if a != "--"])
    if "--pytest-help" in args:
        args = [a if a != "--pytest-help" else "--help" for a in args]
    elif "-h" in args or "--help" in args:
        print(run_help())
        return 0
    plugins = []
    parallel = any(a.startswith(("-n", "--numprocesses")) for a in args)
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        plugins = ["-p", "conformance.plugin"]  # the pytest11 entry point is not loaded then
        if parallel:
            plugins += ["-p", "xdist"]  # nor is xdist's, which -n needs (a user's own -p xdist as well: no harm)
    if parallel and not any(a.startswith("--dist") for a in args):
        plugins += ["--dist", "loadscope"]  # each operation's checks on one worker (see conformance.plugin)
    if not any(a.startswith("--assert") for a in args):
        # The suite's one test asserts nothing, but pytest rewrites the asserts of every package that registers a
        # plugin (Schemathesis, Hypothesis, ours: about 450 modules), and with PYTHONDONTWRITEBYTECODE set it
        # cannot cache that work: seconds of every start-up (benchmarks/bench_speed.py).
        plugins.append("--assert=plain")
    if "--noconftest" not in args:
        # `--pyargs conformance.suite` names no directory, so pytest would load the conftest.py of the working
        # directory and of its test* directories: a project's own test fixtures, hooks and imports, in our run.
        plugins.append("--noconftest")
    # Hypothesis caches its Unicode tables (about 1 s of CPU to build) under its storage directory, by default
    # `.hypothesis/` in the working directory, so a run from a fresh checkout or directory (CI) built them again.
    # A per-user cache keeps them across directories; a HYPOTHESIS_STORAGE_DIRECTORY of the user's own wins.
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_user_cache() / "hypothesis"))
    return int(pytest.main([*plugins, "--pyargs", "conformance.suite", *args]))


def _user_cache() -> Path:
    """thread-conformance's per-user cache directory (XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "thread-conformance"


def run_help() -> str:
    """This tool's options of `conformance run`, briefly; pytest's own are one flag away."""
    from conformance.plugin import recorded_options

    recorder = recorded_options()
    parser = argparse.ArgumentParser(
        prog="conformance run",
        usage=RUN_USAGE,
        add_help=False,
        description="Run the conformance suite (pytest --pyargs conformance.suite) and write its reports.",
        epilog="ini keys (pyproject.toml [tool.pytest.ini_options]): "
        + ", ".join(name for name, _ in recorder.ini)
        + ". Every other option is pytest's (-n 2, -k, -x, -q ...): conformance run --pytest-help lists them all;"
        " with -n, --dist loadscope is added. "
        "Exit codes: 0 passed, 1 failed, 2 interrupted, 4 usage error or unreachable target.",
    )
    for names, kwargs in recorder.options:
        keep = {k: v for k, v in kwargs.items() if k in ("action", "help", "metavar")}
        parser.add_argument(*names, **keep)
    parser.add_argument("--pytest-help", action="store_true", help="show pytest's full help, these options included")
    return parser.format_help().rstrip()


def _vendors(vendors_dir: str | None) -> int:
    from conformance.vendors import known_vendors

    rows = []
    for key, profile in known_vendors(vendors_dir).items():
        info = profile.spec.get("info", {})
        rows.append((key, str(info.get("title", "")), str(info.get("version", "")), profile.origin))
    widths = [max(len(row[i]) for row in [("key", "title", "version", "origin"), *rows]) for i in range(3)]
    lines = []
    for row in [("KEY", "SPEC TITLE", "VERSION", "ORIGIN"), *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    return _print("\n".join(lines), 0)


def _print(text: str, code: int) -> int:
    """Print a command's output; a reader that went away (`| head`) is not an error, the verdict stands."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the broken pipe again when it flushes stdout at exit: point it elsewhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        # Everything after `run` belongs to pytest, options included.
        return _run(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args.pytest_args)
        if args.command == "vendors":
            return _vendors(args.vendors_dir)
        if args.command == "mock":
            from conformance.api import MOCK_TOKEN
            from conformance.mockcli import run_mock
            from conformance.vendors import select_vendors

            tokens = sorted({p.token() or MOCK_TOKEN for p in select_vendors(args.vendor, args.vendors_dir)})
            return run_mock(args.vendor or None, args.host, args.port, args.mutant, tokens, args.vendors_dir)
        if args.command == "mutants":
            from conformance.mutants import MUTANTS

            for mutant in MUTANTS.values():
                print(f"{mutant.name:32} {','.join(mutant.vendors):28} {mutant.description}")
            return 0
        if args.command == "report":
            from conformance.reportcli import run_report

            return run_report(args.json_path, args.format, args.output)
        if args.command == "diff":
            from conformance.diff import run_diff

            text, code = run_diff(args.old_spec, args.new_spec, args.format, allow_local_refs=args.allow_local_refs)
            return _print(text, code)
        if args.command == "vendor":
            from conformance.scaffold import run_init

            return run_init(args.spec, args.key, args.output, args.force, args.vendors_dir)
        if args.command == "compare":
            from conformance.compare import run_compare

            text, code = run_compare(args.old_report, args.new_report, args.format)
            return _print(text, code)
        if args.command == "replay":
            from conformance.verdicts import run_replay

            return run_replay(
                args.report,
                args.failure,
                args.target_url,
                vendors_dir=args.vendors_dir,
                request_timeout=args.request_timeout,
                ca_bundle=args.ca_bundle,
                insecure=args.insecure,
            )
        if args.command == "publish":
            from conformance.publish import run_publish

            return run_publish(args.run_files, args.out)
    except UsageError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", USAGE_EXIT))
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return USAGE_EXIT  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
