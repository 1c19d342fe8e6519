"""Hypothesis strategies for the values real vendor regressions hide in.

Every knob is keyword-only; a knob that takes a strategy takes None for "the default strategy"
(a call in a default argument would be shared by every caller). A bad argument raises
`hypothesis.errors.InvalidArgument` when the strategy is built, not when it is first drawn from.
Long strings are made by repeating a short drawn unit: Hypothesis caps one example at 8 KiB of
choices, so a 10 KiB string cannot be drawn character by character, and a repeated unit still
shrinks (the unit to one character, the size to its minimum).
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import jsonschema
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from conformance.strategies.classes import (
    KEY_CLASSES,
    LONG_BYTES,
    MAX_SAFE_INTEGER,
    NUMBER_EXAMPLES,
    STRING_CLASSES,
    encoded_size,
    utf8_size,
)

T = TypeVar("T")

DEFAULT_STRING_CLASSES: tuple[str, ...] = tuple(c for c in STRING_CLASSES if c != "surrogate")
_ORDINARY_ALPHABET = string.ascii_letters + string.digits + " _-.,:'!?"
_KEY_ALPHABET = string.ascii_letters + string.digits + "_-"
_UUID_CHECKER = jsonschema.FormatChecker(formats=["uuid"])


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(f"{name} must be an integer >= {minimum}, not {value!r}")


def _check_strategy(name: str, value: Any) -> None:
    if not isinstance(value, SearchStrategy):
        raise InvalidArgument(f"{name} must be a Hypothesis strategy, not {value!r}")


def _check_classes(name: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Collection):
        raise InvalidArgument(f"{name} must be a collection of class names, not {value!r}")
    unknown = [c for c in value if c not in known]
    if unknown or not value:
        raise InvalidArgument(f"{name} must be a non-empty subset of {known}, not {value!r}")
    return tuple(c for c in known if c in value)  # a fixed order keeps generation deterministic


def nullable(values: SearchStrategy[T]) -> SearchStrategy[T | None]:
    """None (one draw in three) or a value; shrinks to None, so a failure that needs no value says so."""
    _check_strategy("values", values)
    return weighted((1, st.none()), (2, values))


class _Absent:
    """Marks an optional key left out of an object (None is a value: JSON null)."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def _without_absent(draft: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in draft.items() if value is not _ABSENT}


def objects(
    *,
    required: Mapping[str, SearchStrategy[Any]] | None = None,
    optional: Mapping[str, SearchStrategy[Any]] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """JSON objects with every `required` key; each `optional` key is absent one draw in three.

    Each optional key decides its own absence (unlike `st.fixed_dictionaries(optional=...)`, whose
    chosen keys depend on each other), so a failing body shrinks to exactly the keys it needs.
    """
    required = dict(required or {})
    optional = dict(optional or {})
    for name, strategy in {**required, **optional}.items():
        _check_strategy(f"the strategy for {name!r}", strategy)
    if overlap := set(required) & set(optional):
        raise InvalidArgument(f"keys both required and optional: {sorted(overlap)}")
    maybe = {name: weighted((1, st.just(_ABSENT)), (2, strategy)) for name, strategy in optional.items()}
    return st.fixed_dictionaries({**required, **maybe}).map(_without_absent)


def repeated_strings(
    *, min_bytes: int = LONG_BYTES, max_bytes: int = 16 * 1024, units: SearchStrategy[str] | None = None
) -> SearchStrategy[str]:
    """Strings of `min_bytes` to `max_bytes` UTF-8 bytes, a short drawn unit repeated (see the module doc)."""
    _check_int("min_bytes", min_bytes, minimum=1)
    _check_int("max_bytes", max_bytes, minimum=min_bytes)
    if units is None:
        units = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)
    _check_strategy("units", units)

    def build(unit: str, size: int) -> str:
        unit = unit or "x"
        unit_bytes = utf8_size(unit)
        text = unit * -(-size // unit_bytes)  # whole units, at least `size` bytes
        while utf8_size(text) > max_bytes and len(text) > 1:  # only a multi-byte unit can overshoot
            text = text[:-1]
        return text

    return st.builds(build, units, st.integers(min_bytes, max_bytes))


def ordinary_strings(*, max_size: int = 64) -> SearchStrategy[str]:
    """Plain printable ASCII text, the kind of string a request usually holds."""
    _check_int("max_size", max_size, minimum=0)
    return st.text(_ORDINARY_ALPHABET, max_size=max_size)


def _around(core: SearchStrategy[str]) -> SearchStrategy[str]:
    """The core, with ordinary text on either side (which shrinks away)."""
    short = st.text(_ORDINARY_ALPHABET, max_size=6)
    return st.builds(lambda before, middle, after: before + middle + after, short, core, short)


def awkward_strings(
    *,
    classes: Collection[str] = DEFAULT_STRING_CLASSES,
    min_long_bytes: int = LONG_BYTES,
    max_long_bytes: int = 16 * 1024,
) -> SearchStrategy[str]:
    """Strings that break servers: empty, long (1-16 KiB), astral, combining, right-to-left, JSON escapes.

    `classes` picks from `STRING_CLASSES`. "surrogate" (a lone UTF-16 surrogate such as U+D800) is
    left out by default: it is a valid JSON escape ("\\ud800" is valid JSON text, and Python's json
    writes it with ensure_ascii=True, as `requests` does), but it is not a Unicode scalar value, so
    I-JSON (RFC 7493) forbids it, parsers disagree (replaced by U+FFFD, rejected, or kept), and a
    client that sends UTF-8 (httpx: ensure_ascii=False) cannot even encode it. Ask for it explicitly
    to probe a parser; a server that rejects it is not wrong by the schema.
    """
    chosen = _check_classes("classes", classes, STRING_CLASSES)
    _check_int("min_long_bytes", min_long_bytes, minimum=LONG_BYTES)
    _check_int("max_long_bytes", max_long_bytes, minimum=min_long_bytes)
    astral = st.sampled_from(["\U0001f600", "\U0010ffff", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001d11e"])
    rtl_chars = st.characters(min_codepoint=0x0590, max_codepoint=0x06FF, categories=["Lo"])
    escapes = st.sampled_from(['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\u2028", "\u2029"])
    by_class: dict[str, SearchStrategy[str]] = {
        "empty": st.just(""),
        "long": repeated_strings(
            min_bytes=min_long_bytes,
            max_bytes=max_long_bytes,
            units=st.text(
                st.sampled_from(_ORDINARY_ALPHABET) | st.sampled_from(["\u00e9", "\u05d0", "\U0001f600", '"', "\\"]),
                min_size=1,
                max_size=8,
            ),
        ),
        "astral": _around(astral | st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)),
        "combining": _around(
            st.builds(
                str.__add__,
                st.sampled_from("aeoZ"),
                st.text(st.characters(categories=["Mn", "Me"]), min_size=1, max_size=8),
            )
        ),
        "rtl": _around(st.sampled_from(["\u202e", "\u200f", "\u061c"]) | st.text(rtl_chars, min_size=1, max_size=12)),
        "json_escape": _around(st.text(escapes, min_size=1, max_size=6)),
        "surrogate": _around(st.characters(categories=["Cs"])),
    }
    return st.one_of([by_class[name] for name in chosen])


def uuid_strings(*, allow_uppercase: bool = True, allow_nil: bool = False) -> SearchStrategy[str]:
    """Valid `format: uuid` strings, canonical 8-4-4-4-12 hex (uppercase is valid: RFC 9562 / RFC 4122)."""
    if not isinstance(allow_uppercase, bool) or not isinstance(allow_nil, bool):
        raise InvalidArgument("allow_uppercase and allow_nil must be booleans")
    lower = st.uuids(allow_nil=allow_nil).map(str)
    return lower | lower.map(str.upper) if allow_uppercase else lower


_NEAR_MISSES: dict[str, Any] = {
    "short": lambda u: u[:-1],
    "long": lambda u: u + "0",
    "braces": lambda u: "{" + u + "}",
    "no_hyphens": lambda u: u.replace("-", ""),
    "urn": lambda u: "urn:uuid:" + u,
    "non_hex": lambda u: "g" + u[1:],
    "moved_hyphen": lambda u: u[:7] + "-" + u[7] + u[9:],
    "padded": lambda u: " " + u + " ",
    "underscores": lambda u: u.replace("-", "_"),
    "empty": lambda u: "",
}
NEAR_MISS_CLASSES: tuple[str, ...] = tuple(_NEAR_MISSES)


def is_uuid(text: str) -> bool:
    """Whether the text passes `format: uuid` as jsonschema's format checker judges it (our oracle)."""
    return _UUID_CHECKER.conforms(text, "uuid")


def near_miss_uuid(uuid: str, kind: str) -> str:
    """A canonical uuid spoiled one way (`NEAR_MISS_CLASSES`): wrong length, braces, urn prefix, ..."""
    if kind not in _NEAR_MISSES:
        raise InvalidArgument(f"kind must be one of {NEAR_MISS_CLASSES}, not {kind!r}")
    result: str = _NEAR_MISSES[kind](uuid)
    return result


def non_uuid_strings(*, near_misses: bool = True, others: SearchStrategy[str] | None = None) -> SearchStrategy[str]:
    """Strings that are not `format: uuid`: near misses of a real uuid, and other text.

    Filtered through jsonschema's uuid checker, which is laxer than RFC 9562 (it takes "+2345678-..."
    or "1234_678-..." because Python's int() does): a string it accepts is not sent as a negative case.
    """
    if not isinstance(near_misses, bool):
        raise InvalidArgument(f"near_misses must be a boolean, not {near_misses!r}")
    if others is None:
        others = ordinary_strings(max_size=40) | awkward_strings()
    _check_strategy("others", others)
    options = [others]
    if near_misses:
        options.insert(0, st.builds(near_miss_uuid, uuid_strings(), st.sampled_from(NEAR_MISS_CLASSES)))
    return st.one_of(options).filter(lambda text: not is_uuid(text))


def json_integers() -> SearchStrategy[int]:
    """Integers, with many beyond 2**53 (where a double loses precision) and below -2**53."""
    boundaries = [MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1, 2**63 - 1, 2**63, 2**64]
    return st.one_of(
        st.integers(-(2**31), 2**31),
        st.integers(MAX_SAFE_INTEGER + 1, 2**128),
        st.integers(-(2**128), -(MAX_SAFE_INTEGER + 1)),
        st.sampled_from(boundaries + [-b for b in boundaries]),
    )


def json_floats() -> SearchStrategy[float]:
    """Finite floats: fractions, exponents (1e300, 1.5e-300), subnormals, -0.0; never NaN or Infinity."""
    fixed = [x for values in NUMBER_EXAMPLES.values() for x in values if isinstance(x, float)]
    return st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([*fixed, 5e-324, 1.7976931348623157e308])


def json_scalars(*, strings: SearchStrategy[str] | None = None) -> SearchStrategy[Any]:
    """JSON scalars: null, booleans, integers (big ones too), floats, strings (ordinary and awkward)."""
    if strings is None:
        strings = ordinary_strings() | awkward_strings()
    _check_strategy("strings", strings)
    return st.one_of(st.none(), st.booleans(), json_integers(), json_floats(), strings)


def weighted(*options: tuple[int, SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """One of the strategies, each picked in proportion to its weight; shrinks towards the first.

    Unlike `st.one_of`, which flattens nested one_ofs and so weighs each leaf branch equally
    (a scalars strategy of five kinds would outweigh two container kinds five to two).
    """
    table: list[SearchStrategy[Any]] = []
    for weight, strategy in options:
        _check_int("weight", weight, minimum=1)
        _check_strategy("option", strategy)
        table += [strategy] * weight
    if not table:
        raise InvalidArgument("weighted needs at least one option")
    if len(table) == 1:
        return table[0]
    return st.integers(0, len(table) - 1).flatmap(_Pick(table))


class _Pick:
    """Index -> strategy, with a one-line repr (a bound `list.__getitem__` would print the whole table)."""

    def __init__(self, table: list[SearchStrategy[Any]]) -> None:
        self.table = table

    def __call__(self, index: int) -> SearchStrategy[Any]:
        return self.table[index]

    def __repr__(self) -> str:
        return f"<pick one of {len(self.table)} weighted strategies>"


def _nested(scalars: SearchStrategy[Any], keys: SearchStrategy[str], depth: int, branch: int) -> SearchStrategy[Any]:
    """JSON values at most `depth` deep; objects come before lists so a deep value shrinks to nested dicts."""
    level = scalars
    for _ in range(depth):
        level = _one_level_deeper(scalars, keys, level, branch)
    return level


def _one_level_deeper(
    scalars: SearchStrategy[Any], keys: SearchStrategy[str], child: SearchStrategy[Any], branch: int
) -> SearchStrategy[Any]:
    # Deferred so that the strategy's repr stays one line: each level names its child twice, and an
    # eager repr would double with every level.
    return st.deferred(
        lambda: weighted(
            # Scalars weigh as much as both containers: with containers of about two items on
            # average, a value then has about one container child, so trees stay small yet often
            # reach the maximum depth.
            (2, scalars),
            (1, st.dictionaries(keys, child, max_size=branch)),
            (1, st.lists(child, max_size=branch)),
        )
    )


def json_values(
    *,
    max_depth: int = 4,
    max_branch: int = 4,
    scalars: SearchStrategy[Any] | None = None,
    keys: SearchStrategy[str] | None = None,
) -> SearchStrategy[Any]:
    """Any JSON value, of every JSON type, nested at most `max_depth` deep (0: scalars only)."""
    _check_int("max_depth", max_depth, minimum=0)
    _check_int("max_branch", max_branch, minimum=1)
    scalars = json_scalars() if scalars is None else scalars
    keys = metadata_keys() if keys is None else keys
    _check_strategy("scalars", scalars)
    _check_strategy("keys", keys)
    return _nested(scalars, keys, max_depth, max_branch)


def metadata_keys(
    *, ordinary: SearchStrategy[str] | None = None, classes: Collection[str] = KEY_CLASSES
) -> SearchStrategy[str]:
    """Dict keys: ordinary ones first (so keys shrink to ordinary), then each awkward class in `KEY_CLASSES`."""
    chosen = _check_classes("classes", classes, KEY_CLASSES)
    if ordinary is None:
        ordinary = st.text(_KEY_ALPHABET, min_size=1, max_size=24)
    _check_strategy("ordinary", ordinary)
    word = st.text(_KEY_ALPHABET, min_size=1, max_size=8)

    def join(sep: str) -> SearchStrategy[str]:
        return st.builds(lambda a, b: a + sep + b, word | st.just(""), word | st.just(""))

    emoji = st.sampled_from(["\U0001f511", "\U0001f600", "\u2764", "\U0001f1eb\U0001f1f7", "\U0001f44d\U0001f3fd"])
    by_class: dict[str, SearchStrategy[str]] = {
        "empty": st.just(""),
        "unicode": st.text(
            st.characters(min_codepoint=0x80, max_codepoint=0xFFFF, categories=["L"]), min_size=1, max_size=12
        ),
        "emoji": st.builds(str.__add__, word | st.just(""), emoji),
        "dot": join(".") | st.sampled_from([".", "..", "a..b"]),
        "dollar": st.builds(str.__add__, st.just("$"), word | st.just("")) | join("$"),
        "slash": join("/") | st.sampled_from(["/", "../etc", "a\\b"]),
        "whitespace": join(" ") | st.sampled_from([" ", "\t", "\n", "\u00a0", "\u3000", " a", "a "]),
        "long": repeated_strings(min_bytes=LONG_BYTES, max_bytes=4 * LONG_BYTES, units=word),
        "escape": join('"') | join("\\") | join("\x00") | join("\n"),
    }
    return st.one_of([ordinary, *(by_class[name] for name in chosen)])


def metadata_dicts(
    *,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Any] | None = None,
    max_depth: int = 8,
    max_keys: int = 100,
    max_branch: int = 4,
    max_bytes: int = 128 * 1024,
) -> SearchStrategy[dict[str, Any]]:
    """Free-form metadata/context objects: deep (to `max_depth`), wide (to `max_keys`), big (to `max_bytes`).

    `values` are the leaves (default `json_scalars()`); nesting is added here, so the whole dict is at
    most `max_depth` deep (the dict itself is depth 1). Three shapes, in shrink order: narrow and deep
    (containers of up to `max_branch` items), wide (more than `max_branch` keys, up to `max_keys`,
    scalar values), bulky (a few long strings, for bodies of about 100 KB).
    """
    keys = metadata_keys() if keys is None else keys
    values = json_scalars() if values is None else values
    _check_strategy("keys", keys)
    _check_strategy("values", values)
    _check_int("max_depth", max_depth, minimum=1)
    _check_int("max_branch", max_branch, minimum=1)
    _check_int("max_keys", max_keys, minimum=0)
    _check_int("max_bytes", max_bytes, minimum=2)
    narrow_keys = min(max_branch, max_keys)
    # Nested objects obey `max_keys` too, not only the outer one.
    inner = _nested(values, keys, max_depth - 1, max(1, narrow_keys))
    shapes = [(4, st.dictionaries(keys, inner, max_size=narrow_keys))]
    if max_keys > narrow_keys:
        shapes.append(
            (
                1,
                st.integers(narrow_keys + 1, max_keys).flatmap(
                    lambda n: st.dictionaries(keys, values, min_size=n, max_size=n)
                ),
            )
        )
    long_bytes = min(16 * 1024, max_bytes // 4)
    if long_bytes >= LONG_BYTES and max_keys >= 1:
        bulky_values = repeated_strings(min_bytes=LONG_BYTES, max_bytes=long_bytes)
        shapes.append((1, st.dictionaries(keys, bulky_values, min_size=1, max_size=min(max_keys, 12))))
    return weighted(*shapes).filter(lambda d: encoded_size(d) <= max_bytes)
