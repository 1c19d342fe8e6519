"""The awkward classes of strings, keys and numbers: how to recognise them, and one fixed example of each.

The strategies draw from these classes, `coverage_bodies` sends the fixed examples, and the coverage
record counts what was sent by the same recognisers, so the three never disagree on what a class is.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

STRING_CLASSES: tuple[str, ...] = ("empty", "long", "astral", "combining", "rtl", "json_escape", "surrogate")
KEY_CLASSES: tuple[str, ...] = ("empty", "unicode", "emoji", "dot", "dollar", "slash", "whitespace", "long", "escape")
NUMBER_CLASSES: tuple[str, ...] = ("big_int", "negative_zero", "exponent", "fraction")

LONG_BYTES = 1024  # a string or key of at least this many UTF-8 bytes is "long"
MAX_SAFE_INTEGER = 2**53  # beyond this, a JSON number read as an IEEE double loses precision
_RTL_BIDI = frozenset({"R", "AL", "RLE", "RLO", "RLI"})
_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF))


def utf8_size(text: str) -> int:
    """Bytes of the text in UTF-8; a lone surrogate counts as the 3 bytes it would take."""
    return len(text.encode("utf-8", "surrogatepass"))


def encoded_size(value: Any) -> int:
    """Bytes of the value as compact UTF-8 JSON: what `transport.encode_json_body` sends (bodies with a lone
    surrogate are the exception: they go ASCII-escaped, so larger)."""
    return utf8_size(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def needs_json_escape(char: str) -> bool:
    """Whether JSON text must escape the character inside a string (quote, backslash, U+0000-U+001F)."""
    return char in '"\\' or ord(char) < 0x20


def is_emoji(char: str) -> bool:
    """Whether the character sits in the emoji and pictograph blocks."""
    code = ord(char)
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def string_classes(text: str) -> frozenset[str]:
    """The awkward string classes the text belongs to (empty for an ordinary string)."""
    found: set[str] = set()
    if text == "":
        found.add("empty")
    if utf8_size(text) >= LONG_BYTES:
        found.add("long")
    for char in set(text):  # long strings repeat a few characters: look at each once
        code = ord(char)
        if needs_json_escape(char):
            found.add("json_escape")
        if code < 0x80:
            continue
        if code > 0xFFFF:
            found.add("astral")
        elif 0xD800 <= code <= 0xDFFF:
            found.add("surrogate")
            continue  # unicodedata knows nothing useful about a lone surrogate
        if unicodedata.category(char) in ("Mn", "Me"):
            found.add("combining")
        if unicodedata.bidirectional(char) in _RTL_BIDI:
            found.add("rtl")
    return frozenset(found)


def key_classes(key: str) -> frozenset[str]:
    """The awkward key classes a dict key belongs to (empty for an ordinary key)."""
    found: set[str] = set()
    if key == "":
        found.add("empty")
    if utf8_size(key) >= LONG_BYTES:
        found.add("long")
    for char, name in ((".", "dot"), ("$", "dollar"), ("/", "slash")):
        if char in key:
            found.add(name)
    for char in set(key):
        if ord(char) > 0x7F:
            found.add("unicode")
        if is_emoji(char):
            found.add("emoji")
        if char.isspace():
            found.add("whitespace")
        if needs_json_escape(char):
            found.add("escape")
    return frozenset(found)


def number_classes(value: Any) -> frozenset[str]:
    """The awkward number classes a JSON number belongs to (booleans and non-numbers belong to none)."""
    if isinstance(value, bool):
        return frozenset()
    if isinstance(value, int):
        return frozenset({"big_int"}) if abs(value) > MAX_SAFE_INTEGER else frozenset()
    if not isinstance(value, float) or not math.isfinite(value):
        return frozenset()
    found: set[str] = set()
    if value == 0 and math.copysign(1.0, value) < 0:
        found.add("negative_zero")
    if "e" in repr(value):  # json.dumps writes a float as its repr
        found.add("exponent")
    if not value.is_integer():
        found.add("fraction")
    return frozenset(found)


def json_depth(value: Any) -> int:
    """Nesting depth: 0 for a scalar, 1 + the deepest child for a list or an object (so {} is 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _walk(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every node of a JSON value with its parent (None for the root)."""
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        if isinstance(node, Mapping):
            stack.extend((child, node) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, node) for child in node)


@dataclass
class DictFacts:
    """What one free-form dict value exercises."""

    depth: int = 0
    max_keys: int = 0  # the most keys of any object inside the value, the value itself included
    key_classes: set[str] = field(default_factory=set)
    number_classes: set[str] = field(default_factory=set)
    string_classes: set[str] = field(default_factory=set)
    nested_list: bool = False
    null_value: bool = False
    boolean: bool = False


def dict_facts(value: Mapping[str, Any]) -> DictFacts:
    """The facts about a free-form dict that the coverage record keeps."""
    facts = DictFacts(depth=json_depth(value))
    for node, parent in _walk(value):
        if isinstance(node, Mapping):
            facts.max_keys = max(facts.max_keys, len(node))
            for key in node:
                facts.key_classes |= key_classes(key)
        elif isinstance(node, list):
            facts.nested_list |= isinstance(parent, list)
        elif node is None:
            facts.null_value = True
        elif isinstance(node, bool):
            facts.boolean = True
        elif isinstance(node, str):
            facts.string_classes |= string_classes(node)
        else:
            facts.number_classes |= number_classes(node)
    return facts


# One fixed example per class, for the deterministic coverage phase.

LONG_STRING_EXAMPLE = "0123456789abcdef" * 640  # 10 KiB of ASCII: the size does not depend on the encoding

STRING_EXAMPLES: Mapping[str, str] = {
    "empty": "",
    "long": LONG_STRING_EXAMPLE,
    # U+1F600, a ZWJ family sequence, U+1D11E (musical G clef) and U+10FFFF, the last code point.
    "astral": "\U0001f600 \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001d11e \U0010ffff",
    # Stacked marks on one base (zalgo), a precomposable pair, and an enclosing mark.
    "combining": "e\u0301 n\u0303 Z\u0351\u0300\u0317\u035a\u0362 a\u20dd",
    # Arabic, Hebrew, and a right-to-left override (U+202E) closed by U+202C.
    "rtl": "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u202eevil.exe\u202c",
    "json_escape": '"quote" \\back\\slash \n\r\t\b\f NUL\x00 US\x1f DEL\x7f /slash/ \u2028\u2029',
    # Valid JSON text ("\ud800"), but not Unicode: see `awkward_strings` for why it is opt-in.
    "surrogate": "lone \ud800 and \udfff",
}

KEY_EXAMPLES: Mapping[str, str] = {
    "empty": "",
    "unicode": "cl\u00e9_\u043a\u043b\u044e\u0447_\u952e",
    "emoji": "\U0001f511",
    "dot": "a.b.c",
    "dollar": "$where",
    "slash": "a/b",
    "whitespace": " key with\tspaces ",
    "long": "k" * (LONG_BYTES + 76),
    "escape": 'quote"back\\slash\nNUL\x00',
}

NUMBER_EXAMPLES: Mapping[str, tuple[int | float, ...]] = {
    "big_int": (MAX_SAFE_INTEGER + 1, -(MAX_SAFE_INTEGER + 1), 2**64, -(2**63) - 1),
    "negative_zero": (-0.0,),
    "exponent": (1e300, 1.5e-300, -2.5e20),
    "fraction": (0.5, -123.456, 0.1),
}
