"""Redaction of secrets by value as well as by header name.

Schemathesis redacts by header or key name only; a server that echoes the token inside a JSON body
or an error message would leak it. Every token the run was given is registered here, and every
string that reaches a report, a log line or the terminal goes through `redact`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "apikey", "cookie", "set-cookie", "proxy-authorization", "x-auth-token"}
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret, and the forms it takes on the wire, so that `redact` removes it."""
    if not value:
        return
    escaped = json.dumps(value)[1:-1]
    forms = {
        value,
        escaped,  # inside a JSON string
        escaped.replace("/", "\\/"),  # JSON encoders that escape slashes
        json.dumps(escaped)[1:-1],  # JSON inside a JSON string (an echoed error body)
        quote(value, safe=""),  # in a URL or a form
        quote_plus(value, safe=""),
        base64.b64encode(value.encode()).decode().rstrip("="),  # a proxy or server logging it as basic auth
        base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
    }
    with _lock:
        _secrets.update(f for f in forms if len(f) >= 4)  # a 1-3 char "secret" would redact half the report


def secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def clear_secrets() -> None:
    with _lock:
        _secrets.clear()


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Replace every registered secret (longest first) in `text`."""
    values = sorted({*secrets(), *(e for e in extra if e)}, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def redact_clipped(text: str, limit: int, marker: str = "...", *, truncated: bool = False) -> str:
    """`text` redacted, then cut to `limit` characters: never cut first, or a secret that straddles
    the cut would leave its head behind. `truncated`: the text is already part of something longer,
    so it gets the marker even when it fits."""
    text = redact(text)
    return text[:limit] + marker if truncated or len(text) > limit else text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with sensitive names blanked and any secret value removed from the rest."""
    return {
        name: REDACTED if name.lower() in SENSITIVE_HEADERS else redact(str(value)) for name, value in headers.items()
    }


def redact_value(value: Any) -> Any:
    """A JSON-like value with every secret removed from its strings, keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {redact(str(k)): redact_value(v) for k, v in value.items()}
    return value
