"""Reproductions run as they are: the printed curl, run through bash against a loopback server, sends
the exact bytes the case sent, with the token from the vendor's variable and none of the client's defaults."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.repro import curl_command, printf_format
from conformance.server import running_server
from conformance.vendors import NO_AUTH, Auth

AUTH = Auth(
    security_scheme="APIKeyHeader", header="Authorization", value="Bearer {token}", token_env="SEEKRFLOW_API_KEY"
)
TOKEN = "s3cr3t-token-value"
BODIES = [
    b"\x00",
    b'{"title": "it\'s 100% \\"quoted\\"", "meta_data": {"k\xc3\xa9": [1, 2.5, null]}}',
    b"line one\nline two\r\n\ttab",
    b"@/etc/passwd",
    b"-n",
    b"\xff\xfe\x80 not utf-8 \x7f",
    b"",
    bytes(range(256)),
    b"$HOME `id` $(id) !!",
]
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.fixture
def recorder() -> Any:
    seen: list[dict[str, Any]] = []

    async def endpoint(request: Request) -> Response:
        seen.append({"method": request.method, "headers": dict(request.headers), "body": await request.body()})
        return Response(b"{}", media_type="application/json")

    app = Starlette(routes=[Route("/v1/threads", endpoint, methods=["POST", "GET"])])
    with running_server(app) as url:
        yield url, seen


def _run(command: str, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


@needs_curl
@needs_bash
@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_printed_curl_sends_the_exact_bytes(recorder: Any, body: bytes) -> None:
    url, seen = recorder
    headers = {
        "User-Agent": "schemathesis/4",
        "Accept-Encoding": "gzip",
        "Connection": "keep-alive",
        "X-Schemathesis-TestCaseId": "abc",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {TOKEN}",
        "X-Vendor-Flag": "it's on",
    }
    command = curl_command("POST", f"{url}/v1/threads?x=1", headers, body, auth=AUTH, token=TOKEN, environ={})
    assert TOKEN not in command
    assert '"Authorization: Bearer $SEEKRFLOW_API_KEY"' in command
    for dropped in ("User-Agent", "Accept-Encoding", "Connection", "TestCaseId"):
        assert dropped not in command
    _run(command, {"PATH": "/usr/bin:/bin", "SEEKRFLOW_API_KEY": TOKEN})
    (got,) = seen
    assert got["method"] == "POST"
    assert got["body"] == body
    assert got["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert got["headers"]["content-type"] == "application/json"
    assert got["headers"]["x-vendor-flag"] == "it's on"
    assert "x-schemathesis-testcaseid" not in got["headers"]


@needs_curl
@needs_bash
def test_an_auth_less_vendor_and_a_case_without_body(recorder: Any) -> None:
    url, seen = recorder
    command = curl_command("GET", f"{url}/v1/threads", {"Accept": "*/*"}, None, auth=NO_AUTH, token=None)
    assert command == f"curl -X GET {url}/v1/threads"
    _run(command, {"PATH": "/usr/bin:/bin"})
    assert seen[0]["body"] == b"" and "authorization" not in seen[0]["headers"]


def test_a_wrong_credential_is_shown_redacted_not_as_the_variable() -> None:
    headers = {"Authorization": f"Bearer {TOKEN}x"}
    from conformance.redact import register_secret

    register_secret(TOKEN)
    command = curl_command("POST", "http://127.0.0.1:1/v1/threads", headers, None, auth=AUTH, token=TOKEN)
    assert TOKEN not in command and "$SEEKRFLOW_API_KEY" not in command
    assert "[REDACTED]" in command


def test_a_secret_in_the_body_is_never_printed_in_any_form() -> None:
    from conformance.redact import register_secret

    register_secret(TOKEN)
    body = b"\x00" + TOKEN.encode()
    command = curl_command("POST", "http://127.0.0.1:1/v1/threads", {}, body, auth=AUTH, token=TOKEN)
    assert TOKEN not in command and printf_format(TOKEN.encode()).strip("'") not in command


def test_the_fallback_variable_when_only_it_is_set() -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    env = {"CONFORMANCE_TOKEN": TOKEN}
    command = curl_command("POST", "http://127.0.0.1:1/", headers, None, auth=AUTH, token=TOKEN, environ=env)
    assert '"Authorization: Bearer $CONFORMANCE_TOKEN"' in command
