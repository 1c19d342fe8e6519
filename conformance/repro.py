"""Reproductions that run as they are: the one place a case becomes a curl command.

A failure's `curl` and every line of `--dry-run` come from `curl_command`. It keeps only what matters
to the server (the method, the URL, Content-Type and the vendor's own headers), never the client's
defaults (User-Agent, Accept, Accept-Encoding, Connection, Host, Content-Length: curl sends its own)
nor Schemathesis's per-case id header; the run's token appears as the vendor's environment variable
(`-H "Authorization: Bearer $SEEKRFLOW_API_KEY"`), never as its value; and the body is sent byte for
byte: as a quoted word when it is printable text, else through `printf` with octal escapes into
`--data-binary @-`, which carries any byte (a NUL included) that a shell word cannot.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

from conformance.redact import redact
from conformance.vendors import FALLBACK_TOKEN_ENV, Auth

# Headers the HTTP client adds on its own: curl adds its own equivalents, and they say nothing about the case.
CLIENT_HEADERS = frozenset(
    {"user-agent", "accept", "accept-encoding", "connection", "host", "content-length", "x-schemathesis-testcaseid"}
)


def token_variable(auth: Auth, environ: Mapping[str, str] | None = None) -> str:
    """The environment variable the token comes from: the vendor's own, else the fallback when only that is
    set; the vendor's when neither is."""
    env = os.environ if environ is None else environ
    if not env.get(auth.token_env) and env.get(FALLBACK_TOKEN_ENV):
        return FALLBACK_TOKEN_ENV
    return auth.token_env


def shown_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a reproduction carries: the case's own, not the client's defaults."""
    return {name: value for name, value in headers.items() if name.lower() not in CLIENT_HEADERS}


def _double_quoted(text: str) -> str:
    """`text` escaped for the inside of a double-quoted shell word."""
    return "".join(f"\\{c}" if c in '"\\$`' else c for c in text)


def printf_format(content: bytes) -> str:
    """A `printf` format string (single-quoted shell word) that prints exactly `content`: printable ASCII
    as itself, every other byte (and `%`, `\\`, `'`) as an octal escape, which bash's and coreutils'
    printf both read."""
    # str.translate over the latin-1 text maps each byte in C: bodies of megabytes are quoted per failure.
    text = content.decode("latin-1").translate(_PRINTF_ESCAPES)
    if text.startswith("-"):  # not an option
        text = "\\055" + text[1:]
    return "'" + text + "'"


_PRINTF_ESCAPES = {byte: f"\\{byte:03o}" for byte in range(256) if not (0x20 <= byte < 0x7F) or chr(byte) in "%\\'"}


def _plain_word(text: str) -> bool:
    """A body that a quoted word carries unchanged: printable, not empty, not curl's `@file` syntax."""
    return bool(text) and text.isprintable() and not text.startswith("@")


def redacted_bytes(content: bytes) -> bytes:
    """The body with any registered secret removed, byte-exact otherwise (undecodable bytes survive)."""
    text = content.decode("utf-8", "surrogateescape")
    cleaned = redact(text)
    return content if cleaned == text else cleaned.encode("utf-8", "surrogateescape")


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str],
    content: bytes | None,
    *,
    auth: Auth,
    token: str | None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """A curl command that sends this request as it was sent, with the token as its environment variable.

    `headers` are the case's headers (before redaction); a header carrying the run's valid credential
    becomes the variable, any other value goes through redaction.
    """
    parts = ["curl", "-X", method, shlex.quote(redact(url))]
    credential = auth.header_value(token) if auth.required and token else None
    for name, value in shown_headers(headers).items():
        if credential is not None and name.lower() == auth.header.lower() and value == credential:
            variable = token_variable(auth, environ)
            parts += ["-H", '"' + _double_quoted(f"{name}: {auth.value}").replace("{token}", f"${variable}") + '"']
        else:
            parts += ["-H", shlex.quote(redact(f"{name}: {value}"))]
    if content is None:
        return " ".join(parts)
    body = redacted_bytes(content)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if _plain_word(text):
        return " ".join([*parts, "--data-binary", shlex.quote(text)])
    if not body:
        return " ".join([*parts, "--data-binary", "''"])
    return " ".join(["printf", printf_format(body), "|", *parts, "--data-binary", "@-"])
