"""The live interop's plumbing, without the real server: where known deviations apply, and the skip line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.defaults import MOCK_HEADER
from conformance.vendors import known_vendors
from tests.suite_runner import ROOT, mock_target, run_suite

DEVIATING = {d.check for d in known_vendors()["langgraph"].known_deviations}


def _unmarked(app: Any) -> Any:
    """The reference mock without its `x-conformance-mock` mark: to the suite, a vendor's server."""

    async def wrapped(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != MOCK_HEADER.encode()]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, strip)

    return wrapped


def test_known_deviations_do_not_apply_to_our_mock_and_do_to_a_server(tmp_path: Path) -> None:
    assert len(DEVIATING) == 4
    with mock_target(["langgraph"]) as target:
        run = run_suite(tmp_path / "mock", "--max-examples", "10", target=target, vendors=["langgraph"], seed=1)
    assert run.returncode == 0, run.stdout[-3000:]
    assert {run.outcomes("langgraph")[check] for check in DEVIATING} == {"passed"}
    # The same conforming answers from what looks like the vendor's server: its deviations did not show, so
    # each entry is stale (the strict expectation that notices a fixed server).
    with mock_target(["langgraph"], wrap=_unmarked) as target:
        run = run_suite(tmp_path / "server", "--max-examples", "10", target=target, vendors=["langgraph"], seed=1)
    assert run.returncode == 1
    assert {run.outcomes("langgraph")[check] for check in DEVIATING} == {"stale"}


def test_interop_script_says_in_one_line_that_it_skipped_when_the_server_cannot_be_installed(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "INTEROP_VENV": str(tmp_path / "venv"),
        "PYTHON": sys.executable,
        "PIP_NO_INDEX": "1",  # nothing can be installed, and nothing is fetched
        "PIP_FIND_LINKS": str(tmp_path),
    }
    proc = subprocess.run(
        [str(ROOT / ".ci" / "interop-langgraph")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interop: SKIPPED, the live LangGraph run did not happen:"), lines
    assert "langgraph-cli[inmem]==0.4.40" in lines[0]
    assert "passed" not in proc.stdout.lower()


def test_the_bundled_spec_is_the_servers_own_document_reduced(tmp_path: Path) -> None:
    # The full /openapi.json as langgraph-api 0.16.7 served it is kept beside the script that reduces it.
    here = ROOT / "fixtures" / "interop" / "langgraph"
    versions = ["--server-version", "0.16.7", "--cli-version", "0.4.40"]
    proc = subprocess.run(
        [sys.executable, str(here / "reduce_spec.py"), str(here / "openapi-0.16.7.full.json"), *versions],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (ROOT / "conformance" / "bundled" / "specs" / "langgraph-0.16.7" / "openapi.yaml").read_text()
