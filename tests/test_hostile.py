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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.errors import UsageError

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


DEEP_TOML = "a = " + "[" * 50_000 + "]" * 50_000 + "\n"


def test_deep_toml_is_a_usage_error_in_baselines_and_vendor_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.baseline import load_baseline, update_baseline
    from conformance.results import RunResult
    from conformance.safeload import UnsafeDocument

    baseline = tmp_path / "baseline.toml"
    baseline.write_text(DEEP_TOML)
    with pytest.raises(UnsafeDocument, match="nested deeper"):
        load_baseline(baseline)
    run = RunResult(tool_version="0", schemathesis_version="0", seed=1, started_at="2026-01-01T00:00:00+00:00")
    with pytest.raises(UsageError, match="nested more than 100 levels"):  # tomlkit's own bound, no recursion
        update_baseline(baseline, run, [])
    # 101 levels: tomllib reads it without recursing too far, the depth bound refuses it
    baseline.write_text("a = " + "[" * 101 + "]" * 101 + "\n")
    with pytest.raises(UnsafeDocument, match="nested deeper than 100 levels"):
        load_baseline(baseline)
    (tmp_path / "vendors" / "profiles").mkdir(parents=True)
    (tmp_path / "vendors" / "profiles" / "acme.toml").write_text(DEEP_TOML)
    code, _, err = cli(["vendors", "--vendors-dir", str(tmp_path / "vendors")], capsys)
    one_line_usage_error(code, err)
    assert "acme.toml is nested deeper" in err


# Each of them names a file of its own: a profile in a vendor directory, a baseline, a report, a site's run file.
READERS = {
    "profile": "sys.exit(main(['vendors', '--vendors-dir', str(path.parent.parent)]))",
    "baseline": "load_baseline(path)",
    "report": "sys.exit(main(['report', str(path)]))",
    "site run": "sys.exit(main(['publish', '--out', str(path) + '.site', str(path)]))",
}
READ_AS = """
import sys
from pathlib import Path
from conformance.baseline import load_baseline
from conformance.cli import main
from conformance.errors import UsageError
path = Path({path!r})
try:
    {reader}
except UsageError as exc:
    print(f"conformance: error: {{exc}}", file=sys.stderr)
    sys.exit(2)
"""


def _read_as(role: str, path: Path) -> tuple[int, str]:
    """Read `path` as `role` in a fresh interpreter under an address-space cap: an endless file read whole
    would exhaust that interpreter's memory, not the host's."""
    done = run_limited(READ_AS.format(path=str(path), reader=READERS[role]), timeout=60)
    return done.returncode, done.stderr


@pytest.mark.parametrize("role", list(READERS))
def test_a_device_is_refused_not_read(tmp_path: Path, role: str) -> None:
    """/dev/zero never ends: only regular files are read, whatever names them."""
    path = tmp_path / "vendors" / "profiles" / "acme.toml"
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/zero")
    code, err = _read_as(role, path)
    one_line_usage_error(code, err)
    assert "is not a regular file" in err


@pytest.mark.parametrize("role", list(READERS))
def test_a_pipe_is_refused_not_waited_on(tmp_path: Path, role: str) -> None:
    """A pipe nobody writes to would block the read for ever."""
    import os

    path = tmp_path / "vendors" / "profiles" / "acme.toml"
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with _unblocking(path):
        code, err = _read_as(role, path)
    one_line_usage_error(code, err)
    assert "is not a regular file" in err


@contextmanager
def _unblocking(path: Path) -> Iterator[None]:
    """While the block runs, a writer that unblocks a reader waiting on the pipe `path` (writes a byte and
    closes), so that a regression fails the test instead of hanging it."""
    import os
    import threading

    done = threading.Event()

    def write_once_a_reader_waits() -> None:
        while not done.wait(0.05):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO while no reader has the pipe open
            except OSError:
                continue
            os.write(fd, b"x")
            os.close(fd)
            return

    writer = threading.Thread(target=write_once_a_reader_waits, daemon=True)
    writer.start()
    try:
        yield
    finally:
        done.set()
        writer.join()


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


# --- 1. memory and time bounded by the options -------------------------------------------------------------------

BOMB_CLIENT = """
import gzip, zlib
from tests.faults import raw_server
from conformance.transport import CAP_HEADER, HttpxTransport

def bomb(size, level=9):
    packer = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(size // len(block))) + packer.flush()

body = bomb({size})
for _ in range({layers} - 1):
    body = gzip.compress(body)
head = ("HTTP/1.1 200 X\\r\\ncontent-type: application/json\\r\\ncontent-encoding: {encoding}\\r\\n"
        f"content-length: {{len(body)}}\\r\\nconnection: close\\r\\n\\r\\n").encode()
with raw_server(lambda index, request: ("send", head + body)) as (url, _):
    transport = HttpxTransport(timeout=30, max_body_bytes={cap})
    response = transport.request("GET", url + "/x")
    assert response.headers[CAP_HEADER] == "{cap}", dict(response.headers)
    assert len(response.content) == {cap} and response.content == bytes({cap})
    assert "content-encoding" not in response.headers
print("ok")
"""


@pytest.mark.parametrize(("encoding", "layers"), [("gzip", 1), ("gzip, gzip", 2), ("x-gzip", 1)])
def test_compression_bomb_is_capped_on_the_decoded_size_in_bounded_memory(encoding: str, layers: int) -> None:
    # 512 MiB once decoded, under a 400 MB address-space limit: only a bounded decoder gets through.
    code = BOMB_CLIENT.format(size=512 * 1024 * 1024, layers=layers, encoding=encoding, cap=1024 * 1024)
    done = run_limited(code, memory_mb=400)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_deflate_bodies_decode_wrapped_or_raw_and_unknown_codings_stay_as_sent() -> None:
    import zlib

    from conformance.transport import HttpxTransport
    from tests.faults import raw_server

    payload = b'{"id": "abc"}'
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    bodies = {
        "deflate": zlib.compress(payload),
        "deflate ": raw.compress(payload) + raw.flush(),
        "br": b"\x8b\x06\x80" + payload,  # not ours to decode: left as sent, and said so
    }

    def answer(index: int, request: bytes) -> tuple[str, bytes]:
        encoding, body = list(bodies.items())[index]
        head = f"HTTP/1.1 200 X\r\ncontent-encoding: {encoding}\r\ncontent-length: {len(body)}\r\n"
        head += "connection: close\r\n\r\n"
        return ("send", head.encode() + body)

    with raw_server(answer) as (url, _):
        transport = HttpxTransport(timeout=5)
        assert transport.request("GET", url).content == payload
        assert transport.request("GET", url).content == payload
        kept = transport.request("GET", url)
        assert kept.content == bodies["br"] and kept.headers["content-encoding"] == "br"


def test_a_body_that_does_not_decode_is_a_broken_response() -> None:
    from conformance.transport import BrokenResponse, HttpxTransport
    from tests.faults import raw_server

    head = b"HTTP/1.1 200 X\r\ncontent-encoding: gzip\r\ncontent-length: 9\r\nconnection: close\r\n\r\n"
    with (
        raw_server(lambda i, r: ("send", head + b"not gzip!")) as (url, _),
        pytest.raises(BrokenResponse, match="does not decode"),
    ):
        HttpxTransport(timeout=5).request("GET", url)


def test_header_dict_is_linear_in_the_header_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """`dict(headers)` looks each name up by scanning all headers (quadratic); `header_dict` must never look a
    name up at all. The benchmark benchmarks/bench_headers.py shows the cost at 1,000 and 10,000 headers."""
    import httpx

    from conformance.transport import header_dict

    headers = httpx.Headers([(f"x-h-{i}", str(i)) for i in range(1000)] + [("x-h-1", "again")])
    lookups = 0
    original = httpx.Headers.__getitem__

    def counting(self: httpx.Headers, key: str) -> str:
        nonlocal lookups
        lookups += 1
        return original(self, key)

    monkeypatch.setattr(httpx.Headers, "__getitem__", counting)
    monkeypatch.setattr(httpx.Headers, "get_list", lambda *a, **k: pytest.fail("per-name lookup"))
    result = header_dict(headers)
    assert lookups == 0
    assert len(result) == 1000 and result["x-h-1"] == "1, again" and result["x-h-999"] == "999"
    assert result == dict(headers.items())


# --- 2. no state carried between cases --------------------------------------------------------------------------


def test_a_set_cookie_is_never_sent_back() -> None:
    from conformance.transport import HttpxTransport
    from tests.faults import raw_server

    seen: list[bytes] = []

    def answer(index: int, request: bytes) -> tuple[str, bytes]:
        seen.append(request)
        head = (
            "HTTP/1.1 200 X\r\nset-cookie: session=SECRET-SESSION; Path=/\r\n"
            "set-cookie: other=1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
        )
        return ("send", head.encode())

    with raw_server(answer) as (url, _):
        transport = HttpxTransport(timeout=5)
        for _ in range(3):
            transport.request("GET", url + "/login")
        transport.request("GET", url + "/probe", headers={"Cookie": "generated=1"})
    assert len(seen) == 4
    assert not any(b"SECRET-SESSION" in r or b"other=1" in r for r in seen)
    assert b"cookie: generated=1" in seen[3].lower()  # a generated cookie still goes out, as generated
    assert transport.client is not None and not transport.client.cookies


# --- 3. secrets, in every spelling ------------------------------------------------------------------------------

TOKEN = "sk-Hostile/7Qm2+tok~en 9f"


def spellings(token: str) -> dict[str, str]:
    """How a server can spell a token it echoes back."""
    import base64
    import re
    from urllib.parse import quote

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "raw": token,
        "base64 Bearer": b64(f"Bearer {token}"),
        "base64 user:": b64(f"user:{token}"),
        "base64 aligned 0": b64(f"abc{token}xyz"),
        "base64 aligned 1": b64(f"a{token}"),
        "base64 aligned 2": b64(f"ab{token}."),
        "base64url": base64.urlsafe_b64encode(f"x{token}".encode()).decode(),
        "json \\u escapes": "".join(f"\\u{ord(c):04x}" for c in token),
        "json \\U escapes": "".join(f"\\u{ord(c):04X}" for c in token),
        "json some escaped": "".join(f"\\u{ord(c):04x}" if i % 2 else c for i, c in enumerate(token)),
        "json in json": json.dumps(json.dumps(token))[1:-1],
        "percent lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(token, safe="")),
        "percent, / kept": quote(token),
        "form": quote(token, safe="").replace("%20", "+"),
    }


def leaked(token: str, text: str) -> list[str]:
    """The spellings of `token` (the part only the token determines) found in `text`."""
    from conformance.redact import _base64_cores

    found = [name for name, spelled in spellings(token).items() if spelled in text]
    return found + [f"base64 core {core}" for core in _base64_cores(token) if core in text]


@pytest.fixture
def registered() -> Any:
    from conformance.redact import clear_secrets, register_secret

    clear_secrets()
    register_secret(TOKEN)
    register_secret("p4ss/w0rd")  # the password of --target-url https://user:p4ss%2Fw0rd@host
    yield
    clear_secrets()


@pytest.mark.parametrize("name", list(spellings(TOKEN)))
def test_every_spelling_of_a_secret_is_redacted(name: str, registered: None) -> None:
    from conformance.redact import redact

    text = f'{{"echo": "{spellings(TOKEN)[name]}"}} and more'
    out = redact(text)
    assert "[REDACTED]" in out and not leaked(TOKEN, out), out


def test_target_url_credentials_and_their_basic_header_are_redacted(registered: None) -> None:
    import base64

    from conformance.redact import redact

    basic = base64.b64encode(b"user:p4ss/w0rd").decode()
    out = redact(f"https://user:p4ss%2Fw0rd@host/x Authorization: Basic {basic} echoed")
    assert "p4ss" not in out and basic not in out and "cDRzc" not in out, out


def test_no_spelling_reaches_any_report(registered: None, tmp_path: Path) -> None:
    from conformance.reports import terminal_summary, write_reports
    from conformance.results import CheckResult, Exchange, Failure, RunResult, VendorRun

    echoed = " | ".join(spellings(TOKEN).values())
    exchange = Exchange("POST", "http://127.0.0.1/x", {"x-echo": echoed}, {"a": echoed}, 500, {"x-b": echoed}, echoed)
    failure = Failure("not_a_server_error", f"Server error {echoed}", echoed, exchange, f"curl -H 'x: {echoed}'")
    run = RunResult(
        "0",
        "4",
        1,
        "t",
        vendors=[VendorRun("acme", "Acme", "t", "1", "http://127.0.0.1")],
        results=[CheckResult("acme", "POST /x", "not_a_server_error", "failed", 1, [failure])],
    )
    write_reports(run, tmp_path)
    for path in tmp_path.iterdir():
        assert not leaked(TOKEN, path.read_text(encoding="utf-8")), path.name
    assert not leaked(TOKEN, "\n".join(terminal_summary(run)))


def test_redaction_is_one_compiled_pass_per_secret_set(registered: None) -> None:
    from conformance import redact as module

    module._compiled.cache_clear()
    text = "x" * 100_000
    for _ in range(50):
        module.redact(text)
    info = module._compiled.cache_info()
    assert info.misses == 1 and info.hits == 49  # compiled once, not per call


# --- 5. reports are never lost or mixed --------------------------------------------------------------------------


def _run(status: str, note: str = "") -> Any:
    from conformance.results import CheckResult, Failure, RunResult, VendorRun

    failures = (
        [Failure("not_a_server_error", f"Server error{note}", f"boom{note}", None, "curl")]
        if status == "failed"
        else []
    )
    return RunResult(
        "0",
        "4",
        1,
        "t",
        vendors=[VendorRun("acme", "Acme", "t", "1", "http://127.0.0.1")],
        results=[CheckResult("acme", "POST /x", "not_a_server_error", status, 1, failures)],  # type: ignore[arg-type]
    )


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("failing", ["junit", "markdown", "rename"])
def test_a_failed_write_leaves_the_previous_reports_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    import errno
    import os

    from conformance import reports
    from conformance.reports import ReportWriteError, write_reports

    directory = tmp_path / "reports"
    write_reports(_run("passed"), directory)
    before = _snapshot(directory)
    assert "PASSED" in before["summary.md"].decode()

    full = OSError(errno.ENOSPC, "No space left on device")
    if failing == "rename":  # the disk fills while the new files go in: the ones already in are rolled back
        real = os.replace
        calls = 0

        def flaky(src: Any, dst: Any) -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise full
            real(src, dst)

        monkeypatch.setattr(reports.os, "replace", flaky)
    else:
        name = {"junit": "junit.xml", "markdown": "summary.md"}[failing]
        real_open = os.open

        def no_space(path: Any, *args: Any, **kwargs: Any) -> int:
            if Path(path).name == name:
                raise full
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(reports.os, "open", no_space)
    with pytest.raises(ReportWriteError, match="No space left on device") as info:
        write_reports(_run("failed", "-new"), directory)
    monkeypatch.undo()
    assert "\n" not in str(info.value) and "previous reports are unchanged" in str(info.value)
    assert _snapshot(directory) == before  # not one new file, no staging left behind


def test_report_write_failure_is_its_own_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.reports import REPORT_WRITE_EXIT, write_reports

    write_reports(_run("passed"), tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = cli(
        ["report", str(tmp_path / "conformance.json"), "--format", "badge", "--output", str(blocker / "x")], capsys
    )
    assert code == REPORT_WRITE_EXIT and err.count("\n") == 1 and "Traceback" not in err, err


def test_report_output_into_a_missing_folder_writes_into_that_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.reports import write_reports

    write_reports(_run("failed"), tmp_path, ["json"])
    out_dir = tmp_path / "new" / "site"
    for fmt in ("html", "markdown", "junit"):
        code, _, err = cli(
            ["report", str(tmp_path / "conformance.json"), "--format", fmt, "--output", f"{out_dir}/"], capsys
        )
        assert code == 0, err
    assert out_dir.is_dir() and sorted(p.name for p in out_dir.iterdir()) == [
        "conformance.html",
        "junit.xml",
        "summary.md",
    ]


# --- 6. output that cannot attack the reader ----------------------------------------------------------------------


def test_control_characters_are_escaped_in_the_terminal_and_summary_md(tmp_path: Path) -> None:
    from conformance.reports import terminal_summary, write_reports

    hostile = "\x1b[2J\x1b]0;pwned\x07\u202egnp.exe\x9b31m"
    run = _run("failed", hostile)
    write_reports(run, tmp_path, ["markdown"])
    for text in ["\n".join(terminal_summary(run)), (tmp_path / "summary.md").read_text(encoding="utf-8")]:
        assert not any(c in text for c in "\x1b\x07\x9b\u202e"), repr(text)
        assert "x1b" in text and "pwned" in text  # shown, as an escape


# --- through the engine: NaN bodies fail, cookies stay out, the curl shows what was sent ---------------------------


def _run_engine(url: str, max_examples: int = 3) -> dict[str, Any]:
    from conformance.engine import ALL_CHECKS, RunOptions, VendorRunner
    from conformance.transport import HttpxTransport
    from conformance.vendors import known_vendors
    from tests.suite_runner import TOKEN

    profile = known_vendors()["seekrflow"]
    transport = HttpxTransport(timeout=5)
    try:
        runner = VendorRunner(profile, url, TOKEN, transport, RunOptions(seed=1, max_examples=max_examples))
        [operation] = runner.operations()
        outcome = runner.run_operation(operation)
    finally:
        transport.close()
    return {r.check: r for r in outcome.results("seekrflow", ALL_CHECKS)}


def test_nan_in_a_json_body_fails_and_set_cookie_is_never_sent_back_and_curl_shows_only_the_case() -> None:
    from tests.faults import raw_server

    received: list[bytes] = []
    body = b'{"id": "t1", "object": "thread", "created_at": NaN, "score": Infinity}'

    def answer(index: int, request: bytes) -> tuple[str, bytes]:
        received.append(request)
        head = (
            "HTTP/1.1 201 X\r\ncontent-type: application/json\r\nset-cookie: session=TOKEN-IN-A-COOKIE\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        return ("send", head.encode() + body)

    with raw_server(answer) as (url, _):
        results = _run_engine(url)
    schema = results["response_schema_conformance"]
    titles = {f.title for f in schema.failures}
    assert schema.outcome == "failed" and "Response body is not JSON (NaN or Infinity)" in titles, titles
    assert received and not any(b"TOKEN-IN-A-COOKIE" in r for r in received)
    curls = [f.curl for result in results.values() for f in result.failures]
    shown = {part.split(":", 1)[0].strip("'").lower() for curl in curls for part in curl.split(" -H ")[1:]}
    # The client's own headers are curl's business (conformance.repro); the case's content type is kept.
    assert not shown & {"host", "content-length", "user-agent", "accept-encoding", "connection"}, curls[0]
    assert "content-type" in shown, curls[0]


def test_sent_headers_are_exactly_what_reaches_the_server() -> None:
    """The reproduction's headers (`sent_headers`, what the engine's curl shows) against the wire."""
    from conformance.transport import HttpxTransport
    from tests.faults import raw_server

    received: list[bytes] = []

    def answer(index: int, request: bytes) -> tuple[str, bytes]:
        received.append(request)
        return ("send", b"HTTP/1.1 200 X\r\nset-cookie: a=b\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")

    with raw_server(answer) as (url, _):
        transport = HttpxTransport(timeout=5)
        args: dict[str, Any] = {"headers": {"X-Case": "1", "Authorization": "Bearer t"}, "params": {"q": "1"}}
        for content in (None, b'{"a": 1}', b"{}"):
            shown = transport.sent_headers("POST", url + "/x", content=content, **args)
            transport.request("POST", url + "/x", content=content, **args)
            head = received[-1].split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]
            wire = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in head)}
            assert {k.lower(): v for k, v in shown.items()} == wire


# --- 1. deep nesting: a check of ours that cannot judge is never charged to the vendor ---------------------------


def test_a_body_nested_100000_deep_is_not_judged_rather_than_charged_to_the_vendor(tmp_path: Path) -> None:
    from conformance.reports import terminal_summary, write_reports
    from conformance.reports.junit import render_junit
    from conformance.results import CheckResult, RunResult
    from tests.faults import raw_server

    body = b"[" * 100_000 + b"]" * 100_000

    def answer(index: int, request: bytes) -> tuple[str, bytes]:
        head = f"HTTP/1.1 201 X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        return ("send", head.encode() + b"connection: close\r\n\r\n" + body)

    with raw_server(answer) as (url, _):
        results = _run_engine(url, max_examples=2)
    titles = {f.title for r in results.values() for f in r.failures}
    assert not any(t.startswith("Check raised") for t in titles), titles  # nothing charged as the vendor's failure
    not_judged = [r for r in results.values() if r.outcome == "not_judged"]
    assert not_judged, {k: r.outcome for k, r in results.items()}
    assert all(f.title.startswith("Could not judge") for r in not_judged for f in r.failures)

    # Visible in every report, and the run cannot pass.
    run = RunResult("0", "4", 1, "t", results=[CheckResult(**{**vars(r)}) for r in not_judged])
    assert run.failed
    write_reports(run, tmp_path)
    assert "not_judged" in (tmp_path / "conformance.json").read_text()
    assert "could not judge" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "could not judge" in (tmp_path / "conformance.html").read_text(encoding="utf-8")
    assert "<error" in render_junit(run)
    assert any("NOT_JUDGED" in line for line in terminal_summary(run))


def test_decoding_stops_at_the_request_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock jumps past the deadline once decoding has begun: the next decoded piece ends the request
    (deterministic: no wall-clock wait, no assertion on time)."""
    import gzip
    import time

    from conformance import transport as module
    from conformance.transport import HttpxTransport, RequestTimedOut
    from tests.faults import raw_server

    body = gzip.compress(bytes(8 * 1024 * 1024))
    head = f"HTTP/1.1 200 X\r\ncontent-encoding: gzip\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    real_monotonic, real_decode = time.monotonic, module._BoundedDecoder.decode
    shift = {"by": 0.0, "pieces": 0}

    class _Clock:
        @staticmethod
        def monotonic() -> float:
            return real_monotonic() + shift["by"]

    def decode(self: Any, chunk: bytes) -> Any:
        for piece in real_decode(self, chunk):
            shift["pieces"] += 1
            shift["by"] = 3600.0  # past any deadline from the first decoded piece on
            yield piece

    monkeypatch.setattr(module, "time", _Clock)
    monkeypatch.setattr(module._BoundedDecoder, "decode", decode)
    with raw_server(lambda i, r: ("send", head.encode() + body)) as (url, _):
        transport = HttpxTransport(timeout=5, max_body_bytes=64 * 1024 * 1024)
        with pytest.raises(RequestTimedOut):
            transport.request("GET", url)
    assert shift["pieces"] == 1  # stopped at once, not after decoding the 8 MiB
    assert transport.stats.timeouts == 1
