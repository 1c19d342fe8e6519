"""No secret ever leaks: not in a report, the terminal, pytest's cache, a curl reproduction or a message."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.suite_runner import mock_target, run_suite

SECRET = "sk-Distinctive-7Qm2-token-9f4e1c"
# Mutants that fail in different ways; the first echoes the request headers, credential included, into its body.
LEAKY_RUNS = [
    ("leaks-request-headers", ["seekrflow", "andibase"]),
    ("error-detail-string", ["seekrflow", "andibase"]),
    ("crash-non-ascii-key", ["seekrflow"]),
    ("auth-not-enforced", ["watsonx"]),
]


# A JWT-sized token with characters that JSON, URLs and base64 each spell differently; longer than any
# cut a report makes, so a secret straddling a cut is exercised too.
LONG_SECRET = "eyJhbGciOi/JIUzI1+NiJ9." + "Zq8-w/Xy+4_" * 30 + ".sig/nature+=end"


def forms(secret: str) -> dict[str, str]:
    """The spellings a secret takes on the wire and in files, and its head (a leak cut short)."""
    return {
        "raw": secret,
        "head": secret[:24],
        "json": json.dumps(secret)[1:-1],
        "url": quote(secret, safe=""),
        "base64": base64.b64encode(secret.encode()).decode().rstrip("="),
    }


def occurrences(root: Path, needle: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path))
    return found


def leaks(secret: str, reports: Path, cache: Path, output: str) -> list[str]:
    found = []
    for name, needle in forms(secret).items():
        found += [f"{name} in {path}" for path in occurrences(reports, needle) + occurrences(cache, needle)]
        if needle in output:
            found.append(f"{name} in the terminal output")
    return found


RUNS = [(mutant, vendors, SECRET) for mutant, vendors in LEAKY_RUNS] + [
    ("leaks-request-headers", ["seekrflow", "andibase"], LONG_SECRET)
]


@pytest.mark.parametrize(("mutant", "vendors", "secret"), RUNS, ids=[f"{m}-{len(s)}-char-token" for m, _, s in RUNS])
def test_the_token_appears_nowhere(tmp_path: Path, mutant: str, vendors: list[str], secret: str) -> None:
    reports, cache = tmp_path / "reports", tmp_path / "cache"
    with mock_target(vendors, mutant=mutant, tokens=[secret]) as target:
        run = run_suite(
            reports,
            "-p",
            "cacheprovider",
            "-o",
            f"cache_dir={cache}",
            "-rA",
            target=target,
            vendors=vendors,
            env={"CONFORMANCE_TOKEN": secret},
        )
    assert run.returncode == 1, run.stdout[-3000:]
    assert run.report is not None
    assert list(reports.iterdir()), "reports were written"
    assert cache.is_dir(), "pytest's cache was written"
    assert leaks(secret, reports, cache, run.stdout + run.stderr) == []
    assert "[REDACTED]" in (reports / "conformance.json").read_text()


def test_credentials_in_the_target_url_are_secrets_too(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a free port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = f"http://conformance:{SECRET}@127.0.0.1:{port}"
    run = run_suite(tmp_path, "--request-timeout", "1", target=target, vendors=["watsonx"])
    assert run.returncode == 4
    assert f"cannot reach http://127.0.0.1:{port}: connection refused" in run.stderr
    assert leaks(SECRET, tmp_path, tmp_path, run.stdout + run.stderr) == []


def test_the_leaky_mutant_really_echoes_the_token(tmp_path: Path) -> None:
    """The leak test above would prove nothing if the mutant did not put the token in its body."""
    import httpx

    with mock_target(["andibase"], mutant="leaks-request-headers", tokens=[SECRET]) as target:
        response = httpx.post(
            f"{target}/api/v1/channels/6e0d4e3f-b4fd-4dc1-bddf-cd86d708bdcb/threads",
            json={"metadata": {}},
            headers={"x-api-key": SECRET},
        )
    assert SECRET in response.text


CRASHING_CONFTEST = """
import os

import pytest

import conformance.api


def crash(self, vendor, label):
    token = os.environ["CONFORMANCE_TOKEN"]  # a frame argument and a message both hold the secret
    raise RuntimeError(f"a crash of ours while the token {token} was at hand")


conformance.api.Runner.operation = crash


def pytest_collection_finish(session):
    if os.environ.get("CRASH_INTERNALLY"):
        raise RuntimeError("internal: " + os.environ["CONFORMANCE_TOKEN"])
"""


@pytest.mark.parametrize("internal", [False, True], ids=["item-crash", "internal-error"])
def test_a_crash_of_ours_prints_no_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, internal: bool
) -> None:
    pytester.makeconftest(CRASHING_CONFTEST)
    monkeypatch.setenv("CONFORMANCE_TOKEN", SECRET)
    if internal:
        monkeypatch.setenv("CRASH_INTERNALLY", "1")
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--vendor", "seekrflow", "--max-examples", "5", "--seed", "1",
        "--tb=long", "-p", "no:cacheprovider", f"--report-dir={pytester.path / 'reports'}",
    )  # fmt: skip
    output = result.stdout.str() + result.stderr.str()
    assert "a crash of ours" in output or "internal: " in output  # the crash is shown...
    assert [name for name, needle in forms(SECRET).items() if needle in output] == []  # ...without the secret
    assert result.ret != 0
