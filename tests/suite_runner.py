"""Runs the conformance suite in a subprocess against a mock on a loopback port, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import select_vendors

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "self-test-token-5f1c2a9e"


@dataclass
class SuiteRun:
    """What one suite run produced."""

    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    report_dir: Path

    def outcomes(self, vendor: str | None = None) -> dict[str, str]:
        assert self.report is not None, self.stdout[-3000:] + self.stderr[-3000:]
        return {
            (r["check"] if vendor else f"{r['vendor']}::{r['check']}"): r["outcome"]
            for r in self.report["results"]
            if vendor is None or r["vendor"] == vendor
        }

    def failed_checks(self, vendor: str) -> set[str]:
        return {check for check, outcome in self.outcomes(vendor).items() if outcome in ("failed", "stale")}


@contextmanager
def mock_target(
    vendors: Sequence[str],
    mutant: str | None = None,
    tokens: Sequence[str] = (TOKEN,),
    wrap: Callable[[Any], Any] | None = None,
) -> Iterator[str]:
    """Serve the reference mock (or one mutant) on 127.0.0.1; yields the URL to pass as --target-url."""
    profiles = select_vendors(list(vendors))
    app = create_app(profiles, tokens=list(tokens), mutant=mutant, prefix_by_vendor=True)
    with running_server(wrap(app) if wrap else app) as root:
        root = root.rstrip("/")
        yield f"{root}/{vendors[0]}" if len(vendors) == 1 else root


def run_suite(
    report_dir: Path,
    *args: str,
    target: str | None = None,
    vendors: Sequence[str] = (),
    seed: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> SuiteRun:
    """`pytest --pyargs conformance.suite ...` in a subprocess; reads back conformance.json when it was written."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
        "-q",
        "-p",
        "no:cacheprovider",
        "--seed",
        str(seed),
        "--report-dir",
        str(report_dir),
    ]
    for vendor in vendors:
        command += ["--vendor", vendor]
    if target is not None:
        command += ["--target-url", target]
    command += list(args)
    if "-n" in args:
        command += ["--dist", "loadscope"]  # what a conformance run under xdist needs (see the README)
    environment = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    environment["CONFORMANCE_TOKEN"] = TOKEN
    environment.pop("PYTEST_XDIST_WORKER", None)
    environment.update(env or {})
    proc = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)
    report_path = report_dir / "conformance.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return SuiteRun(proc.returncode, proc.stdout, proc.stderr, report, report_dir)
