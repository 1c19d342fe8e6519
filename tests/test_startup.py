"""What a run costs before and around its requests: the plugin, loaded into every pytest run of the environment,
imports the engine only when the run is a conformance run; a run against a live target imports neither the
embedded mock nor the baseline editor; the suite's run rewrites no asserts; the run's heap is kept out of the
garbage collector's way while it runs, and given back after."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.baseline import write_baseline
from tests.suite_runner import ROOT, TOKEN, mock_target, run_suite

HEAVY = ("conformance.api", "conformance.engine", "schemathesis", "hypothesis", "httpx", "jsonschema")


def test_importing_the_plugin_imports_no_engine() -> None:
    code = "import sys, json, conformance.plugin; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert "conformance.plugin" in loaded
    assert [name for name in HEAVY if name in loaded] == []


RUN_AND_LIST_MODULES = """
import json, sys, pytest
code = pytest.main(sys.argv[1:])
print("modules=" + json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(int(code))
"""
# What only the embedded mock (a Starlette app on uvicorn, with its defect zoo) and --baseline-update (tomlkit,
# which keeps a file's comments) use.
EMBEDDED_ONLY = ("conformance.mock", "conformance.mutants", "conformance.server", "starlette", "uvicorn")


@pytest.mark.parametrize(
    ("extra", "unloaded"), [((), (*EMBEDDED_ONLY, "tomlkit")), (("--baseline-update",), EMBEDDED_ONLY)]
)
def test_a_live_run_imports_neither_the_mock_nor_the_baseline_editor(
    tmp_path: Path, extra: tuple[str, ...], unloaded: tuple[str, ...]
) -> None:
    """A run against a target (here the mock, served from this process) imports only what it uses."""
    write_baseline(tmp_path / "b.toml", [])
    with mock_target(["seekrflow"]) as target:
        command = [sys.executable, "-c", RUN_AND_LIST_MODULES, "--pyargs", "conformance.suite", "-q"]
        command += ["-p", "no:cacheprovider", "--vendor", "seekrflow", f"--target-url={target}", "--seed", "1"]
        command += ["--max-examples", "5", f"--report-dir={tmp_path}", f"--baseline={tmp_path / 'b.toml'}", *extra]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {"CONFORMANCE_TOKEN": TOKEN}
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("modules=")]
    loaded = set(json.loads(line.removeprefix("modules=")))
    assert {"conformance.engine", "conformance.baseline"} <= loaded  # the run ran, with a baseline
    assert [name for name in unloaded if name in loaded] == []
    assert "tests.suite_runner" not in loaded  # the checkout's pytest.ini options load no tests/conftest.py
    assert ("tomlkit" in loaded) == bool(extra)  # the update writes the file through tomlkit


def test_conformance_run_skips_assert_rewriting_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest would rewrite the asserts of every plugin package at each start (uncached without bytecode)."""
    from conformance import cli

    seen: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(list(args)) or 0)
    assert cli.main(["run", "--vendor", "seekrflow"]) == 0
    assert cli.main(["run", "--assert=rewrite", "--vendor", "seekrflow"]) == 0
    assert "--assert=plain" in seen[0]
    assert [a for a in seen[1] if a.startswith("--assert")] == ["--assert=rewrite"]


ASSERT_MODE = """
import sys, pytest
class Recorder:
    def pytest_configure(self, config):
        print("assertmode=" + config.option.assertmode, file=sys.stderr)
pytest.main([*sys.argv[1:], "--co", "-q", "-p", "no:cacheprovider"], plugins=[Recorder()])
"""


@pytest.mark.parametrize(("args", "mode"), [((), "plain"), (("tests/test_startup.py",), "rewrite")])
def test_the_suite_rewrites_no_asserts_and_the_self_tests_do(args: tuple[str, ...], mode: str) -> None:
    """`pytest` in the checkout is the suite (pyproject.toml: --assert=plain); `pytest tests` reads tests/pytest.ini."""
    command = [sys.executable, "-c", ASSERT_MODE, *args]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert f"assertmode={mode}" in proc.stderr.splitlines(), proc.stdout[-2000:] + proc.stderr[-2000:]


def test_the_run_keeps_its_heap_frozen_while_it_sends_and_thaws_it_after(tmp_path: Path) -> None:
    """Every request arrives while what was alive at the operation's start is out of the collector's way
    (`gc.freeze`); once the run is over, nothing of this process stays frozen."""
    frozen_at_requests: list[int] = []

    def wrap(app: Any) -> Any:
        async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":  # the mock answers in this process (a thread of the session's server)
                frozen_at_requests.append(gc.get_freeze_count())
            await app(scope, receive, send)

        return recording

    assert gc.get_freeze_count() == 0
    with mock_target(["seekrflow"], wrap=wrap) as target:
        run = run_suite(tmp_path / "r", "--max-examples", "5", target=target, vendors=["seekrflow"])
    assert run.returncode == 0, run.stdout[-2000:]
    assert frozen_at_requests and min(frozen_at_requests) > 0
    assert gc.get_freeze_count() == 0
