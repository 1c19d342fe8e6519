"""Hostile targets and hostile files: nothing leaks, nothing explodes, nothing is lost.

One test per item of issue 11. Targets are loopback servers of our own (`HostileServer`); files are
written to tmp_path. Cases that could eat the machine's memory if we regressed run in a subprocess
under an address-space ulimit (`run_limited`), so a regression fails the test instead of the host.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def run_limited(code: str, *, memory_mb: int = 400, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter whose address space is capped at `memory_mb` (RLIMIT_AS)."""
    prelude = textwrap.dedent(
        f"""
        import resource
        limit = {memory_mb} * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        """
    )
    return subprocess.run(
        [PYTHON, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_usage_error(code: int, err: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("conformance: error: "), err
    assert "Traceback" not in err


# --- 4. files from elsewhere are data ---------------------------------------------------------------------------


def _spec(schema: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": schema}}
    responses = {"200": {"description": "ok", "content": content}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": responses}}},
    }


@pytest.fixture
def plain_spec(tmp_path: Path) -> Path:
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(_spec({"type": "object"})))
    return path


@pytest.mark.parametrize(
    "ref",
    ["http://127.0.0.1:9/evil.json", "https://example.invalid/x.yaml#/A", "file:///etc/passwd", "../outside.yaml"],
)
def test_diff_refuses_refs_outside_the_document(
    tmp_path: Path, plain_spec: Path, ref: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(_spec({"$ref": ref})))
    code, out, err = cli(["diff", str(hostile), str(plain_spec)], capsys)
    one_line_usage_error(code, err)
    assert "outside the document" in err and out == ""
    # The opt-in flag allows local files under the spec's directory only: never a URL, never "..".
    code, out, err = cli(["diff", "--allow-local-refs", str(hostile), str(plain_spec)], capsys)
    one_line_usage_error(code, err)
    assert "root:" not in out + err  # nothing of /etc/passwd


def test_diff_follows_local_refs_under_the_spec_directory_only_when_allowed(
    tmp_path: Path, plain_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "schemas.yaml").write_text(
        "Thing:\n  type: object\n  properties:\n    a: {$ref: '#/Inner'}\nInner: {type: string}\n"
    )
    local = tmp_path / "local.json"
    local.write_text(json.dumps(_spec({"$ref": "schemas.yaml#/Thing"})))
    code, _, err = cli(["diff", str(local), str(plain_spec)], capsys)
    one_line_usage_error(code, err)
    code, out, err = cli(["diff", "--allow-local-refs", str(local), str(plain_spec)], capsys)
    assert code == 1 and "response-field-removed" in out, err  # field 'a' (inlined from schemas.yaml) removed


def _alias_bomb(levels: int = 12) -> str:
    lines = ["openapi: 3.0.3", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_a_usage_error_within_bounded_memory(tmp_path: Path, plain_spec: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb())
    assert len(bomb.read_bytes()) < 4096  # 9**12 nodes once expanded
    done = run_limited(
        f"from conformance.cli import main; raise SystemExit(main(['diff', {str(bomb)!r}, {str(plain_spec)!r}]))"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "aliases" in done.stderr


@pytest.mark.parametrize("command", ["diff", "report", "compare"])
def test_deep_files_are_usage_errors_not_wrong_answers(
    tmp_path: Path, plain_spec: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if command == "diff":
        deep = tmp_path / "deep.yaml"
        deep.write_text(
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx: " + "[" * 3000 + "]" * 3000 + "\n"
        )
        args = ["diff", str(deep), str(plain_spec)]
    else:
        deep = tmp_path / "conformance.json"
        deep.write_text('{"schema_version": 1, "results": ' + "[" * 100_000 + "]" * 100_000 + "}")
        args = ["report", str(deep)] if command == "report" else ["compare", str(deep), str(deep)]
    code, _, err = cli(args, capsys)
    one_line_usage_error(code, err)  # exit 1 would read as "breaking" / "regression"
    assert "nested deeper" in err


def test_report_with_nan_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "conformance.json"
    path.write_text('{"schema_version": 1, "results": [], "seed": NaN}')
    code, _, err = cli(["report", str(path)], capsys)
    one_line_usage_error(code, err)


def test_invalid_vendor_spec_is_one_usage_error(tmp_path: Path) -> None:
    from conformance.errors import UsageError
    from conformance.vendors import load_spec

    bad = tmp_path / "openapi.yaml"
    bad.write_text("openapi: 3.0.3\npaths: {\n  - [\n")
    with pytest.raises(UsageError, match="not valid YAML") as info:
        load_spec(bad)
    assert "\n" not in str(info.value)
    remote = tmp_path / "remote.yaml"
    remote.write_text(json.dumps(_spec({"$ref": "http://127.0.0.1:9/x.json"})))
    with pytest.raises(UsageError, match="outside the document"):
        load_spec(remote)
