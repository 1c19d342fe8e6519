"""The pytest plugin is loaded into every pytest run of the environment: it imports the engine only when the
run is a conformance run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.suite_runner import ROOT

HEAVY = ("conformance.api", "conformance.engine", "schemathesis", "hypothesis", "httpx", "jsonschema")


def test_importing_the_plugin_imports_no_engine() -> None:
    code = "import sys, json, conformance.plugin; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert "conformance.plugin" in loaded
    assert [name for name in HEAVY if name in loaded] == []


def test_conformance_run_skips_assert_rewriting_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest would rewrite the asserts of every plugin package at each start (uncached without bytecode)."""
    from conformance import cli

    seen: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(list(args)) or 0)
    assert cli.main(["run", "--vendor", "seekrflow"]) == 0
    assert cli.main(["run", "--assert=rewrite", "--vendor", "seekrflow"]) == 0
    assert "--assert=plain" in seen[0]
    assert [a for a in seen[1] if a.startswith("--assert")] == ["--assert=rewrite"]
