"""No secret ever leaks: not in a report, the terminal, pytest's cache, a curl reproduction or a message."""

from __future__ import annotations

from pathlib import Path

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


def occurrences(root: Path, needle: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path))
    return found


@pytest.mark.parametrize(("mutant", "vendors"), LEAKY_RUNS, ids=[m for m, _ in LEAKY_RUNS])
def test_the_token_appears_nowhere(tmp_path: Path, mutant: str, vendors: list[str]) -> None:
    reports, cache = tmp_path / "reports", tmp_path / "cache"
    with mock_target(vendors, mutant=mutant, tokens=[SECRET]) as target:
        run = run_suite(
            reports,
            "-p",
            "cacheprovider",
            "-o",
            f"cache_dir={cache}",
            "-rA",
            target=target,
            vendors=vendors,
            env={"CONFORMANCE_TOKEN": SECRET},
        )
    assert run.returncode == 1, run.stdout[-3000:]
    assert run.report is not None
    assert list(reports.iterdir()), "reports were written"
    assert cache.is_dir(), "pytest's cache was written"
    assert occurrences(reports, SECRET) == []
    assert occurrences(cache, SECRET) == []
    assert SECRET not in run.stdout and SECRET not in run.stderr
    assert "[REDACTED]" in (reports / "conformance.json").read_text()


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
