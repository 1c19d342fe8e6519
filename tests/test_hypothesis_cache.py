"""`conformance run` keeps Hypothesis's caches in a per-user directory, not in the working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFORMANCE = str(Path(sys.executable).parent / "conformance")


def _dry_run(cwd: Path, env: dict[str, str]) -> None:
    command = [CONFORMANCE, "run", "--vendor", "seekrflow", "--dry-run", "--max-examples", "1", "--seed", "1", "-q"]
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_the_unicode_tables_are_cached_per_user_not_per_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), CONFORMANCE_TOKEN="t")
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        _dry_run(tmp_path / name, env)
        assert not (tmp_path / name / ".hypothesis").exists()
    assert (tmp_path / "cache" / "thread-conformance" / "hypothesis" / "unicode_data").is_dir()


@pytest.mark.slow
def test_a_storage_directory_of_the_users_own_wins(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CONFORMANCE_TOKEN": "t"}
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(tmp_path / "mine")
    _dry_run(tmp_path, env)
    assert (tmp_path / "mine" / "unicode_data").is_dir()
    assert not (tmp_path / "cache" / "thread-conformance").exists()
