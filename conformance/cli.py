"""The `conformance` command: run, mock, report, diff, compare.

`conformance run` is a thin wrapper over the same pytest run as `pytest` from the repository root.
User mistakes end with one `conformance: error: ...` line and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__
from conformance.errors import UsageError

SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"
USAGE_EXIT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance", description="Conformance tests for vendor 'create thread' APIs."
    )
    parser.add_argument("--version", action="version", version=f"thread-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the conformance suite (a wrapper over pytest; unknown options are passed to pytest)",
        description="Run the conformance suite. Options are the pytest ones: --vendor, --target-url, --param, "
        "--max-examples, --seed, --request-timeout, --report-dir, --baseline, --max-requests, --rate-limit, ...",
    )
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="options passed to pytest")

    mock = sub.add_parser("mock", help="serve the reference mock(s) on 127.0.0.1")
    mock.add_argument(
        "--vendor", action="append", default=[], help="serve one vendor at the root (default: all, under /<vendor>)"
    )
    mock.add_argument("--port", type=int, default=8000)
    mock.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    mock.add_argument("--mutant", default=None, help="serve a deliberately broken variant (see `conformance mutants`)")

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

    vendor = sub.add_parser("vendor", help="vendor data: `vendor init` writes a starter profile from a spec")
    vendor_sub = vendor.add_subparsers(dest="vendor_command", required=True, metavar="ACTION")
    init = vendor_sub.add_parser("init", help="write a starter profile from an OpenAPI 3.x spec, guesses marked")
    init.add_argument("--spec", required=True, help="the vendor's OpenAPI 3.x document (YAML or JSON)")
    init.add_argument("--key", required=True, help="the vendor key (the profile's file name)")
    init.add_argument("--output", default=None, help="where to write (default fixtures/profiles/KEY.toml; '-' stdout)")
    init.add_argument("--force", action="store_true", help="replace an existing profile")

    compare = sub.add_parser("compare", help="regressions between two conformance.json reports")
    compare.add_argument("old_report")
    compare.add_argument("new_report")
    compare.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    return parser


def _run(pytest_args: list[str]) -> int:
    import pytest

    args = [a for a in pytest_args if a != "--"]
    return int(pytest.main([str(SUITE_DIR), "-p", "conformance.plugin", *args]))


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
        if args.command == "mock":
            from conformance.mockcli import run_mock
            from conformance.plugin import MOCK_TOKEN
            from conformance.vendors import select_vendors

            tokens = sorted({p.token() or MOCK_TOKEN for p in select_vendors(args.vendor)})
            return run_mock(args.vendor or None, args.host, args.port, args.mutant, tokens)
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

            text, code = run_diff(args.old_spec, args.new_spec, args.format)
            return _print(text, code)
        if args.command == "vendor":
            from conformance.scaffold import run_init

            return run_init(args.spec, args.key, args.output, args.force)
        if args.command == "compare":
            from conformance.compare import run_compare

            text, code = run_compare(args.old_report, args.new_report, args.format)
            return _print(text, code)
    except UsageError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return USAGE_EXIT
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return USAGE_EXIT  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
