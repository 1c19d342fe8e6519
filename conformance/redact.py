"""Redaction of secrets by value as well as by header name.

Schemathesis redacts by header or key name only; a server that echoes the token inside a JSON body
or an error message would leak it. Every token the run was given is registered here, and every
string that reaches a report, a log line or the terminal goes through `redact`.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "apikey", "cookie", "set-cookie", "proxy-authorization", "x-auth-token"}
)
MIN_SECRET = 4  # a 1-3 char "secret" would redact half the report

_lock = threading.Lock()
_secrets: set[str] = set()

# Backslashes in front of an escape: one in a JSON string, three once that JSON is itself a JSON string
# (an echoed error body), and so on a few levels deep.
_BACKSLASHES = r"\\{1,7}"
_SHORT_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}


def _hex(value: int, width: int) -> str:
    """`value` as hex digits matching either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{width}x}")


def _char_pattern(char: str) -> str:
    """Every spelling of one character of a secret: itself, a JSON escape (\\u or short, nested a few
    levels), percent-encoded in either case (or "+" for a space)."""
    alternatives = [re.escape(char)]
    point = ord(char)
    if point < 0x10000:
        alternatives.append(_BACKSLASHES + "u" + _hex(point, 4))
    else:
        high, low = 0xD800 + ((point - 0x10000) >> 10), 0xDC00 + ((point - 0x10000) & 0x3FF)
        alternatives.append(f"{_BACKSLASHES}u{_hex(high, 4)}{_BACKSLASHES}u{_hex(low, 4)}")
    if char in _SHORT_ESCAPES:
        alternatives.append(_BACKSLASHES + re.escape(_SHORT_ESCAPES[char]))
    alternatives.append("".join("%" + _hex(byte, 2) for byte in char.encode("utf-8", "surrogatepass")))
    if char == " ":
        alternatives.append(r"\+")
    return "(?:" + "|".join(alternatives) + ")"


def _base64_cores(value: str) -> set[str]:
    """The base64 characters that depend on `value` alone, wherever it sits in a longer text.

    Text that contains the secret (`Bearer <token>`, `user:<token>`) encodes it differently according
    to where it starts modulo 3 bytes; for each of the three alignments, the characters whose six bits
    all come from the secret are the same whatever surrounds it."""
    data = value.encode("utf-8", "surrogatepass")
    cores = set()
    for pad in range(3):
        first = -(-8 * pad // 6)  # the first character with no bit of the padding
        last = (8 * (pad + len(data))) // 6  # one past the last character with no bit of what follows
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            core = encode(bytes(pad) + data + bytes(3)).decode()[first:last]
            if len(core) >= MIN_SECRET:
                cores.add(core)
    return cores


def _spellings(value: str) -> list[str]:
    """Regular expressions for every spelling of `value` that `redact` removes."""
    return ["".join(_char_pattern(c) for c in value), *(re.escape(core) for core in _base64_cores(value))]


@lru_cache(maxsize=32)
def _compiled(values: frozenset[str]) -> re.Pattern[str] | None:
    """One expression for a whole set of secrets, compiled once per set: redaction is one pass over
    the text, however many secrets and spellings there are. Longest first, so a secret that contains
    another is removed whole."""
    patterns = [p for v in sorted(values, key=len, reverse=True) for p in _spellings(v)]
    return re.compile("|".join(patterns)) if patterns else None


def register_secret(value: str | None) -> None:
    """Remember a secret, so that `redact` removes it in every spelling it takes on the wire."""
    if not value or len(value) < MIN_SECRET:
        return
    with _lock:
        _secrets.add(value)


def secrets() -> frozenset[str]:
    """The registered secrets, with their longest literal spelling (every character \\u-escaped): what a
    caller sizes a window by, so that a secret straddling a cut is still seen whole."""
    with _lock:
        values = frozenset(_secrets)
    return values | {"".join(f"\\u{ord(c):04x}" for c in v) for v in values}


def clear_secrets() -> None:
    with _lock:
        _secrets.clear()


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Replace every registered secret (and every one in `extra`), in each of its spellings, in `text`."""
    with _lock:
        values = frozenset({*_secrets, *(e for e in extra if e and len(e) >= MIN_SECRET)})
    pattern = _compiled(values)
    return text if pattern is None else pattern.sub(REDACTED, text)


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
