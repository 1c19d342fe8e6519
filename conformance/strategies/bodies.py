"""Whole request bodies derived from a body JSON Schema: Hypothesis strategies and fixed coverage cases.

Only the schema decides what is generated: each optional property may be absent, a nullable
(`anyOf [X, null]`) property is drawn null, absent or a value, a free-form object property comes
from `metadata_dicts` (inside an array: a small dict, `ITEM_DICTS`), a plain string from ordinary
and awkward strings, an enum from its values, `format: uuid` from `uuid_strings`. A negative body
breaks the schema in exactly one place (one property, or the body's own type) and keeps the rest
valid, so it tests what it claims.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from conformance.strategies._schema import (
    JSON_TYPES,
    Components,
    Schema,
    body_validator,
    dict_branch,
    is_free_form_object,
    is_nullable,
    json_types,
    non_null_branches,
    resolve_schema,
    string_branch,
)
from conformance.strategies.classes import (
    KEY_EXAMPLES,
    LONG_STRING_EXAMPLE,
    NUMBER_EXAMPLES,
    STRING_EXAMPLES,
)
from conformance.strategies.values import (
    NEAR_MISS_CLASSES,
    awkward_strings,
    json_floats,
    json_integers,
    json_scalars,
    json_values,
    metadata_dicts,
    metadata_keys,
    near_miss_uuid,
    non_uuid_strings,
    nullable,
    objects,
    ordinary_strings,
    uuid_strings,
)

Mode = Literal["positive", "negative"]
CoverageCase = tuple[str, Any, Mode]
_MODES = ("positive", "negative")
EXAMPLE_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"  # the uuid OpenAPI tooling uses in examples


class _Kit:
    """The strategies a body is built from, after defaults and argument checks."""

    def __init__(
        self,
        strings: SearchStrategy[str] | None,
        dicts: SearchStrategy[dict[str, Any]] | None,
        uuids: SearchStrategy[str] | None,
        non_uuids: SearchStrategy[str] | None,
    ) -> None:
        self.strings = ordinary_strings() | awkward_strings() if strings is None else strings
        self.dicts = metadata_dicts() if dicts is None else dicts
        self.own_dicts = dicts is not None
        self.in_array = False
        self.uuids = uuid_strings() if uuids is None else uuids
        self.non_uuids = non_uuid_strings() if non_uuids is None else non_uuids
        for name in ("strings", "dicts", "uuids", "non_uuids"):
            if not isinstance(getattr(self, name), SearchStrategy):
                raise InvalidArgument(f"{name} must be a Hypothesis strategy, not {getattr(self, name)!r}")

    def inside_array(self) -> _Kit:
        """The kit for an array's items: free-form objects small (unless the caller chose `dicts`)."""
        inner = copy.copy(self)
        inner.in_array = True
        if not self.own_dicts:
            inner.dicts = ITEM_DICTS
        return inner


# A free-form object inside an array (LangGraph's superstep updates) drawn as metadata (deep, wide, up to 128 KB)
# made a body hundreds of choices and tens of KB, for no class of value the body's own fields do not reach:
# there, a few keys of every class, with scalar values.
ITEM_DICTS = st.dictionaries(metadata_keys(), json_scalars(), max_size=3)
# Arrays inside arrays: a few items (8 at the top level; both yield to the schema's minItems/maxItems).
ITEM_ARRAY_SIZE = 3


def _string_values(schema: Schema, kit: _Kit) -> SearchStrategy[Any]:
    fmt = schema.get("format")
    if fmt == "uuid":
        return kit.uuids
    if fmt == "date-time":
        return st.datetimes().map(lambda d: d.isoformat() + "Z")
    if fmt == "date":
        return st.dates().map(lambda d: d.isoformat())
    if "pattern" in schema:
        base: SearchStrategy[str] = st.from_regex(str(schema["pattern"]))
    else:
        base = kit.strings
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if low or high is not None:
        return base.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))
    return base


def _values(schema: Any, kit: _Kit) -> SearchStrategy[Any]:
    """Valid values for a resolved schema."""
    if schema is True or schema == {} or not isinstance(schema, Mapping):
        return json_values()
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if set(part) & set(merged) - {"description", "title"}:
                raise InvalidArgument(f"allOf with overlapping keywords is not supported: {schema!r}")
            merged.update(part)
        return _values(merged, kit)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            branches = non_null_branches(schema)
            options = st.one_of([_values({**branch}, kit) for branch in branches])
            return nullable(options) if len(branches) < len(schema[keyword]) else options
    declared = schema.get("type")
    if isinstance(declared, list):
        return st.one_of([_values({**schema, "type": t}, kit) for t in declared])
    if declared == "null":
        return st.none()
    if declared == "boolean":
        return st.booleans()
    if declared == "string":
        return _string_values(schema, kit)
    if declared in ("integer", "number"):
        numbers: SearchStrategy[Any] = json_integers() if declared == "integer" else json_integers() | json_floats()
        low, high = schema.get("minimum"), schema.get("maximum")
        xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if any(bound is not None for bound in (low, high, xlow, xhigh)):
            numbers = numbers.filter(
                lambda n: (
                    (low is None or n >= low)
                    and (high is None or n <= high)
                    and (xlow is None or n > xlow)
                    and (xhigh is None or n < xhigh)
                )
            )
        return numbers
    if declared == "array":
        low = schema.get("minItems", 0)
        return st.lists(
            _values(schema.get("items", {}), kit.inside_array()),
            min_size=low,
            max_size=schema.get("maxItems", max(low, ITEM_ARRAY_SIZE if kit.in_array else 8)),
        )
    if declared == "object":
        if is_free_form_object(schema):
            return kit.dicts
        return _object_values(schema, kit, {})
    return json_values()


def _object_values(
    schema: Schema, kit: _Kit, overrides: Mapping[str, SearchStrategy[Any]]
) -> SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    strategies = {name: overrides[name] if name in overrides else _values(sub, kit) for name, sub in properties.items()}
    extra = schema.get("additionalProperties", True)
    if isinstance(extra, Mapping) and extra:
        # Declared extra keys: a few, valid by their own schema, never shadowing a declared property.
        extras = st.dictionaries(
            st.text(min_size=1, max_size=12).filter(lambda k: k not in properties), _values(extra, kit), max_size=3
        )
        base = objects(
            required={n: s for n, s in strategies.items() if n in required},
            optional={n: s for n, s in strategies.items() if n not in required},
        )
        return st.builds(lambda b, e: {**e, **b}, base, extras)
    return objects(
        required={n: s for n, s in strategies.items() if n in required},
        optional={n: s for n, s in strategies.items() if n not in required},
    )


def _wrong_type_values(allowed: frozenset[str]) -> dict[str, SearchStrategy[Any]]:
    """One strategy per JSON type that `allowed` does not admit."""
    small = st.dictionaries(ordinary_strings(max_size=8), json_scalars(), max_size=3)
    by_type: dict[str, SearchStrategy[Any]] = {
        "null": st.none(),
        "boolean": st.booleans(),
        "object": small,
        "array": st.lists(json_scalars(), max_size=3),
        "integer": json_integers(),
        # A float with no fraction is a valid "integer" in JSON Schema, so a wrong number has one.
        "number": json_floats().filter(lambda x: not x.is_integer()),
        "string": ordinary_strings() | awkward_strings(),
    }
    wrong = [t for t in JSON_TYPES if t not in allowed]
    if "number" in allowed:
        wrong = [t for t in wrong if t != "integer"]
    return {t: by_type[t] for t in wrong}


def _not_in(members: list[Any]) -> Callable[[Any], bool]:
    return lambda value: value not in members


def _violations(schema: Any, kit: _Kit) -> SearchStrategy[Any] | None:
    """Values that break a resolved property schema, or None when nothing breaks it."""
    allowed = json_types(schema)
    if allowed is None or not isinstance(schema, Mapping):
        return None
    options = list(_wrong_type_values(allowed).values())
    for branch in non_null_branches(schema):
        if "enum" in branch and all(isinstance(v, str) for v in branch["enum"]):
            members = list(branch["enum"])
            near = st.sampled_from(members).flatmap(
                lambda v: st.sampled_from([v.upper(), v.capitalize(), f" {v}", f"{v} ", v + v, ""])
            )
            options.append((near | ordinary_strings()).filter(_not_in(members)))
        elif branch.get("type") == "string" and branch.get("format") == "uuid":
            options.append(kit.non_uuids)
    return st.one_of(options) if options else None


def request_bodies(
    schema: Any,
    *,
    mode: Mode = "positive",
    components: Components = None,
    overrides: Mapping[str, SearchStrategy[Any]] | None = None,
    strings: SearchStrategy[str] | None = None,
    dicts: SearchStrategy[dict[str, Any]] | None = None,
    uuids: SearchStrategy[str] | None = None,
    non_uuids: SearchStrategy[str] | None = None,
) -> SearchStrategy[Any]:
    """Request bodies for an object body schema: valid ones (positive) or ones that break it once (negative).

    `components` resolves `$ref` (a whole spec, its `components`, or a callable). `overrides` maps a
    property name to the strategy for its value (kept as is: the caller vouches for its validity).
    `strings`, `dicts`, `uuids`, `non_uuids` replace the defaults for plain strings, free-form objects
    (those inside arrays too), and valid/invalid `format: uuid` strings.
    """
    if mode not in _MODES:
        raise InvalidArgument(f"mode must be 'positive' or 'negative', not {mode!r}")
    overrides = dict(overrides or {})
    for name, strategy in overrides.items():
        if not isinstance(strategy, SearchStrategy):
            raise InvalidArgument(f"the override for {name!r} must be a Hypothesis strategy, not {strategy!r}")
    kit = _Kit(strings, dicts, uuids, non_uuids)
    resolved = resolve_schema(schema, components)
    if not isinstance(resolved, Mapping) or resolved.get("type") != "object" or is_free_form_object(resolved):
        raise InvalidArgument(f"request_bodies needs an object schema with properties, not {resolved!r}")
    if unknown := set(overrides) - set(resolved.get("properties", {})):
        raise InvalidArgument(f"overrides name properties the schema does not have: {sorted(unknown)}")
    if mode == "positive":
        return _object_values(resolved, kit, overrides)
    return _negative_bodies(resolved, kit, overrides)


def _negative_bodies(schema: Schema, kit: _Kit, overrides: Mapping[str, SearchStrategy[Any]]) -> SearchStrategy[Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    valid = {name: overrides[name] if name in overrides else _values(sub, kit) for name, sub in properties.items()}
    options: list[SearchStrategy[Any]] = []
    for name, sub in properties.items():
        broken = _violations(sub, kit)
        if broken is None:
            continue
        others = {n: s for n, s in valid.items() if n != name}
        options.append(
            objects(
                required={name: broken, **{n: s for n, s in others.items() if n in required}},
                optional={n: s for n, s in others.items() if n not in required},
            )
        )
    for name in sorted(required):
        others = {n: s for n, s in valid.items() if n != name}
        options.append(
            objects(
                required={n: s for n, s in others.items() if n in required},
                optional={n: s for n, s in others.items() if n not in required},
            )
        )
    if schema.get("additionalProperties") is False:
        unknown_key = ordinary_strings(max_size=12).filter(lambda k: k not in properties)
        options.append(
            st.builds(lambda b, k, v: {**b, k: v}, _object_values(schema, kit, overrides), unknown_key, json_scalars())
        )
    # Last, so a failure that any body triggers shrinks to a wrongly typed field rather than a non-object.
    options.append(
        st.one_of(st.none(), st.booleans(), json_integers(), ordinary_strings(), st.lists(json_scalars(), max_size=3))
    )
    validator = body_validator(schema)
    # A guard, not the method: each option above already breaks the schema; this keeps a schema
    # feature we do not model (e.g. overlapping anyOf branches) from turning a case positive.
    return st.one_of(options).filter(lambda body: not validator.is_valid(body))


# Deterministic coverage-phase bodies.


def _example(schema: Any) -> Any:
    """A small fixed valid value for a resolved schema (the rest of a coverage body)."""
    if not isinstance(schema, Mapping) or schema == {}:
        return "example"
    for keyword in ("const", "default"):
        if keyword in schema:
            return schema[keyword]
    if "enum" in schema:
        return schema["enum"][0]
    branches = non_null_branches(schema)
    if ("anyOf" in schema or "oneOf" in schema) and branches:
        return _example(branches[0])
    declared = schema.get("type")
    declared = next((t for t in declared if t != "null"), "null") if isinstance(declared, list) else declared
    if declared == "string":
        return EXAMPLE_UUID if schema.get("format") == "uuid" else "x" * max(1, schema.get("minLength", 1))
    simple: dict[str, Any] = {"null": None, "boolean": False, "integer": 0, "number": 0.5, "array": []}
    if declared in simple:
        return simple[declared]
    if declared == "object":
        properties = schema.get("properties", {})
        return {name: _example(properties[name]) for name in schema.get("required", ()) if name in properties}
    return None


def _dict_cases() -> list[tuple[str, dict[str, Any]]]:
    """(label, value) for every class a free-form dict field is exercised with."""
    deep: Any = "leaf"
    for level in range(8, 0, -1):  # depth 8: eight nested objects
        deep = {f"level{level}": deep}
    cases: list[tuple[str, dict[str, Any]]] = [
        ("dict empty", {}),
        ("dict depth 8", deep),
        ("dict 100 keys", {f"key{i:03d}": i for i in range(100)}),
    ]
    cases += [(f"dict key {name}", {key: "value"}) for name, key in KEY_EXAMPLES.items()]
    cases += [
        (f"dict number {name}", {f"n{i}": value for i, value in enumerate(values)})
        for name, values in NUMBER_EXAMPLES.items()
    ]
    cases += [
        ("dict nested lists", {"lists": [[1, [2, [3, []]]], [], [[None]]]}),
        ("dict null and booleans", {"null": None, "true": True, "false": False}),
        ("dict awkward strings", {name: text for name, text in STRING_EXAMPLES.items() if name != "surrogate"}),
        # About 100 KB: ten 10 KiB ASCII chunks, so the size is the same however the client encodes it.
        ("dict ~100 KB", {f"chunk{i}": LONG_STRING_EXAMPLE for i in range(10)}),
    ]
    return cases


def _wrong_type_examples(allowed: frozenset[str]) -> dict[str, Any]:
    samples: dict[str, Any] = {
        "null": None,
        "boolean": True,
        "object": {"unexpected": "object"},
        "array": ["unexpected"],
        "integer": 42,
        "number": 4.5,
        "string": "unexpected string",
    }
    wrong = [t for t in JSON_TYPES if t not in allowed]
    if "number" in allowed:
        wrong = [t for t in wrong if t != "integer"]
    return {t: samples[t] for t in wrong}


def coverage_bodies(schema: Any, *, components: Components = None, surrogates: bool = False) -> list[CoverageCase]:
    """Fixed bodies, one per class per field, as (label, body, mode): the deterministic coverage phase.

    Each body is the smallest valid body (required properties only) with one property set to the
    class's example, so a failure names its cause. The mode is what the schema says of the body
    ("positive" if it validates), never a guess. `surrogates` adds a lone-surrogate string per string
    field (see `awkward_strings`).
    """
    if not isinstance(surrogates, bool):
        raise InvalidArgument(f"surrogates must be a boolean, not {surrogates!r}")
    resolved = resolve_schema(schema, components)
    if not isinstance(resolved, Mapping) or resolved.get("type") != "object":
        raise InvalidArgument(f"coverage_bodies needs an object schema, not {resolved!r}")
    validator = body_validator(resolved)
    properties: Mapping[str, Any] = resolved.get("properties", {})
    required = set(resolved.get("required", ()))
    base = _example(resolved)
    cases: list[tuple[str, Any]] = [("body minimal", base)]
    cases.append(("body all fields", {**base, **{n: _example(s) for n, s in properties.items()}}))

    def with_field(name: str) -> Callable[[Any], dict[str, Any]]:
        return lambda value: {**base, name: value}

    for name, sub in properties.items():
        put = with_field(name)
        if name not in required:
            cases.append((f"{name}: absent", {k: v for k, v in base.items() if k != name}))
        cases.append((f"{name}: null", put(None)))
        allowed = json_types(sub)
        if allowed is not None:
            cases += [
                (f"{name}: wrong type {t}", put(v)) for t, v in _wrong_type_examples(allowed).items() if t != "null"
            ]
        text = string_branch(sub)
        if text is not None and text.get("format") == "uuid":
            cases.append((f"{name}: uuid", put(EXAMPLE_UUID)))
            cases.append((f"{name}: uuid uppercase", put(EXAMPLE_UUID.upper())))
            cases += [
                (f"{name}: non-uuid {kind}", put(near_miss_uuid(EXAMPLE_UUID, kind))) for kind in NEAR_MISS_CLASSES
            ]
        elif text is not None:
            cases += [
                (f"{name}: string {cls}", put(example))
                for cls, example in STRING_EXAMPLES.items()
                if surrogates or cls != "surrogate"
            ]
        for branch in non_null_branches(sub):
            if "enum" in branch:
                cases += [(f"{name}: enum {json.dumps(v)}", put(v)) for v in branch["enum"]]
                first = branch["enum"][0]
                if isinstance(first, str):
                    for how, value in (("uppercase", first.upper()), ("padded", f" {first} "), ("empty", "")):
                        if value not in branch["enum"]:
                            cases.append((f"{name}: not in enum ({how})", put(value)))
        if dict_branch(sub) is not None:
            cases += [(f"{name}: {label}", put(value)) for label, value in _dict_cases()]
    if not is_nullable(resolved):
        cases.append(("body: null", None))
    cases += [("body: array", [base]), ("body: string", json.dumps(base)), ("body: number", 0), ("body: boolean", True)]
    return [(label, body, "positive" if validator.is_valid(body) else "negative") for label, body in cases]
