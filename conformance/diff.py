"""`conformance diff`: what changed between two versions of an OpenAPI 3.0/3.1 spec, and whether it breaks clients.

Both documents are first brought to one canonical form per schema (`Schema`): local `$ref`s inlined,
annotations dropped, nullability a flag beside the non-null schema, `type: [a, b]` and an `anyOf` of
single types the same thing, one-member `allOf`/`anyOf` unwrapped. Only then are they compared, so
two spellings of one schema (3.0 `nullable: true`, 3.1 `anyOf [X, null]`, `type: [X, "null"]`,
`oneOf [X, null]`) never produce a finding.

Each finding is judged from the client's side and has a fixed severity per rule id (`RULES`).
Judgement calls:
- an error response (non-2xx or `default`) whose body changes in a way that would be breaking or a
  warning on a success response is reported once per change as `response-error-shape-changed`, a
  warning: clients mostly branch on the status of an error, not on its body's details;
- security removed from an operation is a warning (clients keep working, but an endpoint that stops
  asking for credentials is more often a spec mistake than a decision);
- a changed `pattern` or `format` on the request side is breaking (a new regex cannot be proven
  looser than the old one);
- `anyOf` and `oneOf` are both read as "one of these shapes" (a union);
- a schema admits null when it says so (`nullable: true`, a `null` type, a `null` member or enum
  value) or when it constrains no type at all (`{}`, which JSON Schema lets null through): so
  `type: [string, "null"]` -> no type is a widening, not "became not nullable";
- operations are matched by method and path with parameter names blanked, and path parameters by
  position, so renaming `{id}` to `{thread_id}` is no change;
- a `readOnly` property is left out of the request side and a `writeOnly` one out of the response side
  (a required readOnly `id` added to a shared schema breaks no client);
- a success status that is gone while a new one appears (200 -> 201) is a rename: beside the status
  change, the response bodies are compared across it (paired in order when several change at once);
- `default`, `deprecated`, `discriminator` and `x-` extensions are ignored;
  response headers, links, callbacks and webhooks are not compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal
from urllib.parse import unquote

from conformance.errors import UsageError
from conformance.safeload import load_document

Severity = Literal["breaking", "warning", "info"]
Side = Literal["request", "response"]
SEVERITY_ORDER: dict[str, int] = {"breaking": 0, "warning": 1, "info": 2}
FORMATS = ("text", "json", "markdown")

# rule id -> (severity, what it means). The severity of a rule never depends on the case.
RULES: dict[str, tuple[Severity, str]] = {
    "operation-removed": ("breaking", "an operation is gone"),
    "operation-added": ("info", "a new operation"),
    # parameters
    "request-parameter-added-required": ("breaking", "a new required parameter"),
    "request-parameter-added": ("info", "a new optional parameter"),
    "request-parameter-became-required": ("breaking", "an optional parameter became required"),
    "request-parameter-became-optional": ("info", "a required parameter became optional"),
    "request-path-parameter-removed": ("breaking", "a path parameter is gone"),
    "request-parameter-removed": ("warning", "a query, header or cookie parameter is gone (now ignored)"),
    # request body
    "request-body-added-required": ("breaking", "a required request body where there was none"),
    "request-body-added": ("info", "an optional request body where there was none"),
    "request-body-removed": ("warning", "the request body is no longer documented"),
    "request-body-became-required": ("breaking", "the request body became required"),
    "request-body-became-optional": ("info", "the request body became optional"),
    "request-media-type-removed": ("breaking", "a request media type is no longer accepted"),
    "request-media-type-added": ("info", "a new request media type is accepted"),
    # request schemas (body, parameters)
    "request-required-field-added": ("breaking", "a new required field"),
    "request-field-became-required": ("breaking", "an optional field became required"),
    "request-optional-field-added": ("info", "a new optional field"),
    "request-field-became-optional": ("info", "a required field became optional"),
    "request-field-removed": ("warning", "a field is no longer documented (sent values may be ignored)"),
    "request-field-removed-closed": (
        "breaking",
        "a field is no longer documented and the object allows no other properties: sending it is rejected",
    ),
    "request-type-narrowed": ("breaking", "a type that was accepted no longer is"),
    "request-type-widened": ("info", "more types are accepted"),
    "request-enum-value-removed": ("breaking", "an enum value is no longer accepted"),
    "request-enum-value-added": ("info", "a new enum value is accepted"),
    "request-enum-added": ("breaking", "values are now restricted to an enum"),
    "request-enum-removed": ("info", "values are no longer restricted to an enum"),
    "request-became-not-nullable": ("breaking", "null is no longer accepted"),
    "request-became-nullable": ("info", "null is now accepted"),
    "request-format-added": ("breaking", "a format was added"),
    "request-format-changed": ("breaking", "the format changed"),
    "request-pattern-added": ("breaking", "a pattern was added"),
    "request-pattern-changed": ("breaking", "the pattern changed (cannot be proven looser)"),
    "request-max-length-decreased": ("breaking", "maxLength added or lowered"),
    "request-maximum-decreased": ("breaking", "maximum added or lowered"),
    "request-exclusive-maximum-decreased": ("breaking", "exclusiveMaximum added or lowered"),
    "request-max-items-decreased": ("breaking", "maxItems added or lowered"),
    "request-max-properties-decreased": ("breaking", "maxProperties added or lowered"),
    "request-min-length-increased": ("breaking", "minLength added or raised"),
    "request-minimum-increased": ("breaking", "minimum added or raised"),
    "request-exclusive-minimum-increased": ("breaking", "exclusiveMinimum added or raised"),
    "request-min-items-increased": ("breaking", "minItems added or raised"),
    "request-min-properties-increased": ("breaking", "minProperties added or raised"),
    "request-constraint-tightened": ("breaking", "multipleOf or uniqueItems added or tightened"),
    "request-constraint-relaxed": ("info", "a format, pattern, bound or other constraint loosened or removed"),
    "request-additional-properties-closed": ("breaking", "extra properties are no longer (all) accepted"),
    "request-additional-properties-opened": ("info", "extra properties are now accepted"),
    "request-variant-removed": ("breaking", "an anyOf/oneOf alternative is no longer accepted"),
    "request-variant-added": ("info", "a new anyOf/oneOf alternative is accepted"),
    "request-schema-changed": ("warning", "a change this tool does not classify (allOf, not, ...)"),
    # responses
    "response-success-status-changed": ("breaking", "a documented success status is gone"),
    "response-success-status-added": ("warning", "a new success status a client may not handle"),
    "response-error-status-added": ("info", "a new documented error status"),
    "response-error-status-removed": ("warning", "a documented error status is gone"),
    "response-error-shape-changed": ("warning", "the body of a documented error changed incompatibly"),
    "response-media-type-removed": ("breaking", "a response media type is no longer returned"),
    "response-media-type-added": ("info", "a response may come in a new media type"),
    "response-body-removed": ("breaking", "a response no longer documents a body"),
    "response-body-added": ("info", "a response now documents a body"),
    # response schemas
    "response-field-removed": ("breaking", "a field is gone"),
    "response-field-became-optional": ("breaking", "a field is no longer required (may be absent)"),
    "response-optional-field-added": ("info", "a new optional field"),
    "response-required-field-added": ("info", "a new field that is always present"),
    "response-field-became-required": ("info", "a field is now always present"),
    "response-type-changed": ("breaking", "a type a client does not expect may be returned"),
    "response-type-narrowed": ("info", "fewer types are returned"),
    "response-enum-value-added": ("warning", "a new enum value (breaks strict clients)"),
    "response-enum-value-removed": ("info", "an enum value is no longer returned"),
    "response-enum-added": ("info", "values are now restricted to an enum"),
    "response-enum-removed": ("warning", "values are no longer restricted to an enum"),
    "response-became-nullable": ("breaking", "null may be returned (breaks clients that do not expect it)"),
    "response-became-not-nullable": ("info", "null is no longer returned"),
    "response-format-changed": ("breaking", "the format of a returned value changed"),
    "response-format-removed": ("warning", "a returned value no longer promises a format"),
    "response-format-added": ("info", "a returned value now promises a format"),
    "response-constraint-relaxed": ("warning", "a pattern or bound on returned values loosened or removed"),
    "response-constraint-tightened": ("info", "a pattern or bound on returned values added or tightened"),
    "response-additional-properties-opened": ("info", "extra properties may be returned"),
    "response-additional-properties-closed": ("info", "extra properties are no longer returned"),
    "response-variant-added": ("breaking", "a new anyOf/oneOf shape may be returned"),
    "response-variant-removed": ("info", "an anyOf/oneOf shape is no longer returned"),
    "response-schema-changed": ("warning", "a change this tool does not classify (allOf, not, ...)"),
    # security
    "security-added": ("breaking", "an operation that needed no credentials now does"),
    "security-changed": ("breaking", "a way of authenticating is no longer accepted, or a scheme changed"),
    "security-alternative-added": ("info", "a new way of authenticating is accepted, the old ones still are"),
    "security-scopes-reduced": ("info", "the same schemes are accepted with fewer scopes"),
    "security-removed": ("warning", "an operation no longer requires credentials"),
}


@dataclass(frozen=True)
class Change:
    """One finding: what changed, where, and how bad it is for a client."""

    severity: Severity
    rule: str
    operation: str  # e.g. "POST /v1/threads"
    location: str  # e.g. "request body: metadata", "response 201: status", "parameter path channelId"
    message: str


# ---------------------------------------------------------------------------------------------------
# Canonical schemas

ANNOTATIONS = frozenset(
    {
        "title", "description", "example", "examples", "default", "externalDocs", "xml", "deprecated",
        "readOnly", "writeOnly", "discriminator", "$comment", "$schema", "$id", "$anchor", "$dynamicAnchor",
        "$defs", "definitions", "contentMediaType", "contentEncoding", "contentSchema",
    }
)  # fmt: skip
MAX_KEYS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
MIN_KEYS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
CONSTRAINT_KEYS = frozenset({*MAX_KEYS, *MIN_KEYS, "format", "pattern", "multipleOf", "uniqueItems"})
HANDLED = frozenset(
    {
        "$ref", "type", "nullable", "enum", "const", "properties", "required", "additionalProperties",
        "items", "allOf", "anyOf", "oneOf", *CONSTRAINT_KEYS,
    }
)  # fmt: skip
SUBSCHEMA_KEYS = frozenset(
    {"not", "contains", "propertyNames", "if", "then", "else", "additionalItems", "unevaluatedItems",
     "unevaluatedProperties"}
)  # fmt: skip
SUBSCHEMA_MAP_KEYS = frozenset({"patternProperties", "dependentSchemas"})
SUBSCHEMA_LIST_KEYS = frozenset({"prefixItems"})


@dataclass
class Schema:
    """A schema in canonical form: equal canonical forms mean the same schema for this tool."""

    nullable: bool = False
    types: frozenset[str] | None = None  # None: any type; "null" never appears (see `nullable`)
    enum: tuple[str, ...] | None = None  # JSON-encoded values, sorted; null never appears
    properties: dict[str, Schema] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    additional: bool | Schema = True
    items: Schema | None = None
    union: tuple[Schema, ...] = ()  # anyOf/oneOf with two or more non-null shapes, sorted
    all_of: tuple[Schema, ...] = ()  # allOf members that could not be merged, sorted
    constraints: dict[str, Any] = field(default_factory=dict)  # format, pattern, bounds
    other: dict[str, Any] = field(default_factory=dict)  # keywords compared for equality only
    read_only: frozenset[str] = frozenset()  # properties marked readOnly: never sent by clients
    write_only: frozenset[str] = frozenset()  # properties marked writeOnly: never returned
    recursive: str | None = None  # a back-reference to a $ref being expanded

    def to_json(self) -> dict[str, Any]:
        """This schema as plain JSON (stable, for sorting and for reading)."""
        out: dict[str, Any] = {}
        if self.recursive is not None:
            out["$recursive"] = self.recursive
        if self.nullable:
            out["nullable"] = True
        if self.types is not None:
            out["type"] = sorted(self.types)
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.properties:
            out["properties"] = {k: v.to_json() for k, v in sorted(self.properties.items())}
        if self.required:
            out["required"] = sorted(self.required)
        if self.additional is not True:
            out["additionalProperties"] = (
                self.additional.to_json() if isinstance(self.additional, Schema) else self.additional
            )
        if self.items is not None:
            out["items"] = self.items.to_json()
        if self.union:
            out["anyOf"] = [m.to_json() for m in self.union]
        if self.all_of:
            out["allOf"] = [m.to_json() for m in self.all_of]
        out.update(sorted(self.constraints.items()))
        for key, value in sorted(self.other.items()):
            out[key] = _other_json(value)
        if self.read_only:
            out["$readOnly"] = sorted(self.read_only)
        if self.write_only:
            out["$writeOnly"] = sorted(self.write_only)
        return out

    def key(self) -> str:
        """A string equal for equal schemas."""
        return json.dumps(self.to_json(), sort_keys=True, default=str)

    def is_any(self) -> bool:
        return self == ANY

    def is_null_only(self) -> bool:
        return self.nullable and (self.types == frozenset() or self.enum == ())

    def admits_null(self) -> bool:
        """Whether null validates: said explicitly, or implied by a schema that constrains no type at all."""
        if self.nullable:
            return True
        if self.recursive is not None or self.all_of:
            return False
        if self.union:
            return any(m.admits_null() for m in self.union)
        return self.types is None and self.enum is None

    def is_type_only(self) -> bool:
        return self.types is not None and replace(self, types=None, nullable=False).is_any()


ANY = Schema()


def _other_json(value: Any) -> Any:
    if isinstance(value, Schema):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _other_json(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple):
        return [_other_json(v) for v in value]
    return value


def _jkey(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _norm_types(types: Iterable[str]) -> frozenset[str]:
    ts = set(types)
    if "number" in ts:
        ts.discard("integer")  # integer is a number: {number, integer} is just {number}
    return frozenset(ts)


def _covers(types: frozenset[str] | None, t: str) -> bool:
    return types is None or t in types or (t == "integer" and "number" in types)


class _NoMerge(Exception):
    """Two schemas cannot be folded into one without changing their meaning."""


def _merge(a: Schema, b: Schema) -> Schema:
    """The conjunction of two schemas (allOf), except that nullability is kept if either side says so.

    Nullability is or-ed on purpose: the 3.0 idiom `nullable: true` + `allOf: [$ref]` means "this
    referenced thing, or null", whatever the letter of JSON Schema says.
    """
    if a.recursive is not None or b.recursive is not None:
        if replace(a, nullable=False).is_any():
            return replace(b, nullable=a.nullable or b.nullable)
        if replace(b, nullable=False).is_any():
            return replace(a, nullable=a.nullable or b.nullable)
        raise _NoMerge
    types: frozenset[str] | None
    if a.types is None or b.types is None:
        types = a.types if b.types is None else b.types
    else:
        types = _norm_types(t for t in a.types | b.types if _covers(a.types, t) and _covers(b.types, t))
    enum = a.enum if b.enum is None else b.enum if a.enum is None else tuple(sorted(set(a.enum) & set(b.enum)))
    properties = dict(a.properties)
    for name, prop in b.properties.items():
        properties[name] = _merge(properties[name], prop) if name in properties else prop
    additional: bool | Schema
    if a.additional is False or b.additional is False:
        additional = False
    elif isinstance(a.additional, Schema) and isinstance(b.additional, Schema):
        additional = _merge(a.additional, b.additional)
    else:
        additional = a.additional if isinstance(a.additional, Schema) else b.additional
    items = b.items if a.items is None else a.items if b.items is None else _merge(a.items, b.items)
    if a.union and b.union and a.union != b.union:
        raise _NoMerge
    constraints = dict(a.constraints)
    for key, value in b.constraints.items():
        if key not in constraints or constraints[key] == value:
            constraints[key] = value
        elif key in MAX_KEYS:
            constraints[key] = min(constraints[key], value)
        elif key in MIN_KEYS:
            constraints[key] = max(constraints[key], value)
        else:
            raise _NoMerge
    other = dict(a.other)
    for key, value in b.other.items():
        if key in other and other[key] != value:
            raise _NoMerge
        other[key] = value
    return Schema(
        nullable=a.nullable or b.nullable,
        types=types,
        enum=enum,
        properties=properties,
        required=a.required | b.required,
        additional=additional,
        items=items,
        union=a.union or b.union,
        all_of=tuple(sorted(a.all_of + b.all_of, key=Schema.key)),
        constraints=constraints,
        other=other,
        read_only=a.read_only | b.read_only,
        write_only=a.write_only | b.write_only,
    )


def _merge_all(members: list[Schema]) -> Schema:
    try:
        result = members[0]
        for member in members[1:]:
            result = _merge(result, member)
        return result
    except _NoMerge:
        nullable = any(m.nullable for m in members)
        rest = sorted({m.key(): replace(m, nullable=False) for m in members if not m.is_any()}.values(), key=Schema.key)
        return Schema(nullable=nullable, all_of=tuple(rest))


def _union(members: list[Schema]) -> Schema:
    """anyOf/oneOf members folded into one schema: null lifted out, single types collected."""
    flat: list[Schema] = []
    for member in members:
        bare = replace(member, union=(), nullable=False)
        if member.union and bare.is_any():  # a nested pure union: its members are ours
            flat.extend(replace(m, nullable=member.nullable or m.nullable) for m in member.union)
        else:
            flat.append(member)
    nullable = any(m.nullable for m in flat)
    shapes = {m.key(): m for m in _split_types(replace(m, nullable=False) for m in flat if not m.is_null_only())}
    kept = sorted(shapes.values(), key=Schema.key)
    if not kept:
        return Schema(nullable=True, types=frozenset())
    if len(kept) == 1:
        return replace(kept[0], nullable=nullable)
    if all(m.is_type_only() for m in kept):
        return Schema(nullable=nullable, types=_norm_types(t for m in kept for t in m.types or ()))
    return Schema(nullable=nullable, union=tuple(kept))


def _split_types(shapes: Iterable[Schema]) -> Iterator[Schema]:
    """Shapes with a type-only `type: [a, b]` split into one shape per type, as `anyOf` would spell them."""
    for shape in shapes:
        if shape.is_type_only() and shape.types and len(shape.types) > 1:
            yield from (replace(shape, types=frozenset({t})) for t in sorted(shape.types))
        else:
            yield shape


class _Resolver:
    """Local `$ref` resolution over one document, with a guard against recursive schemas."""

    # Expanding mutually recursive components inlines every path through them, which grows
    # exponentially; past this many expansions the document is refused rather than left to hang.
    MAX_EXPANSIONS = 20_000

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.expanding: list[str] = []
        self.expansions = 0

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UsageError(f"only local '#/...' $refs are supported, found {ref!r}")
        node: Any = self.doc
        for raw_part in ref[1:].split("/")[1:]:
            part = unquote(raw_part).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise UsageError(f"$ref {ref!r} does not resolve")
        return node

    def deref(self, node: Any) -> Any:
        """A non-schema object (parameter, response, ...) with its `$ref` chain followed."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise UsageError(f"$ref {ref!r} refers to itself")
            seen.add(ref)
            node = self.lookup(ref)
        return node

    def schema(self, raw: Any) -> Schema:
        """The canonical form of a raw schema."""
        if raw is True or raw is None:
            return ANY
        if raw is False:
            return Schema(types=frozenset())
        if not isinstance(raw, dict):
            return Schema(other={"invalid": _jkey(raw)})
        if isinstance(raw.get("$ref"), str):
            ref = raw["$ref"]
            if ref in self.expanding:
                base = Schema(recursive=ref)
            else:
                self.expansions += 1
                if self.expansions > self.MAX_EXPANSIONS:
                    raise UsageError(
                        f"the schemas around {ref!r} refer to each other too densely to compare "
                        f"(over {self.MAX_EXPANSIONS} $ref expansions)"
                    )
                self.expanding.append(ref)
                try:
                    base = self.schema(self.lookup(ref))
                finally:
                    self.expanding.pop()
            siblings = {k: v for k, v in raw.items() if k != "$ref"}
            return _merge_all([base, self.schema(siblings)]) if siblings else base
        return self._plain(raw)

    def _marked(self, raw: Any, flag: str) -> bool:
        """Whether a property schema says `flag: true`, itself or in the schema its `$ref` names."""
        if not isinstance(raw, dict):
            return False
        if raw.get(flag) is True:
            return True
        if isinstance(raw.get("$ref"), str):
            try:
                target = self.deref(raw)
            except UsageError:
                return False
            return isinstance(target, dict) and target.get(flag) is True
        return False

    def _plain(self, raw: dict[str, Any]) -> Schema:
        nullable = raw.get("nullable") is True
        types: frozenset[str] | None = None
        raw_type = raw.get("type")
        if isinstance(raw_type, str | list):
            names = {str(t) for t in ([raw_type] if isinstance(raw_type, str) else raw_type)}
            if "null" in names:
                nullable = True
                names.discard("null")
            types = _norm_types(names)
        enum: tuple[str, ...] | None = None
        if isinstance(raw.get("enum"), list):
            values = raw["enum"]
            if any(v is None for v in values):
                nullable = True  # 3.0 nullable enums must list null; 3.1 ones may: same meaning
            enum = tuple(sorted({_jkey(v) for v in values if v is not None}))
        if "const" in raw:
            if raw["const"] is None:
                nullable, types = True, frozenset()
            else:
                const = (_jkey(raw["const"]),)
                enum = const if enum is None else tuple(sorted(set(enum) & set(const)))
        if types is None and enum:
            # `enum: [a, b]` with no type admits only the enum values' own types: say so explicitly
            types = _norm_types(_json_type(json.loads(v)) for v in enum)
        properties = {}
        if isinstance(raw.get("properties"), dict):
            properties = {str(k): self.schema(v) for k, v in raw["properties"].items()}
        raw_required = raw.get("required")
        required = frozenset(map(str, raw_required)) if isinstance(raw_required, list) else frozenset()
        additional: bool | Schema = True
        if "additionalProperties" in raw:
            extra = raw["additionalProperties"]
            additional = False if extra is False else self.schema(extra)
            if isinstance(additional, Schema) and additional.is_any():
                additional = True  # `additionalProperties: {}` / `true` is the default
        items = self.schema(raw["items"]) if isinstance(raw.get("items"), dict) else None
        if items is not None and items.is_any():
            items = None
        constraints = {k: raw[k] for k in CONSTRAINT_KEYS if k in raw}
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            # 3.0 spells an exclusive bound as a boolean beside the bound; 3.1 as the number itself
            if isinstance(constraints.get(exclusive), bool) and constraints.pop(exclusive) and bound in constraints:
                constraints[exclusive] = constraints.pop(bound)
        for key, neutral in (("minLength", 0), ("minItems", 0), ("minProperties", 0), ("uniqueItems", False)):
            if constraints.get(key) == neutral:
                del constraints[key]
        other: dict[str, Any] = {}
        for key, value in raw.items():
            if key in HANDLED or key in ANNOTATIONS or key.startswith("x-"):
                continue
            if key in SUBSCHEMA_KEYS:
                other[key] = self.schema(value)
            elif key in SUBSCHEMA_MAP_KEYS and isinstance(value, dict):
                other[key] = {str(k): self.schema(v) for k, v in value.items()}
            elif key in SUBSCHEMA_LIST_KEYS and isinstance(value, list):
                other[key] = tuple(self.schema(v) for v in value)
            else:
                other[key] = _jkey(value)
        raw_properties: dict[str, Any] = raw["properties"] if isinstance(raw.get("properties"), dict) else {}
        result = Schema(
            nullable=nullable,
            types=types,
            enum=enum,
            properties=properties,
            required=required,
            additional=additional,
            items=items,
            constraints=constraints,
            other=other,
            read_only=frozenset(str(k) for k, v in raw_properties.items() if self._marked(v, "readOnly")),
            write_only=frozenset(str(k) for k, v in raw_properties.items() if self._marked(v, "writeOnly")),
        )
        if isinstance(raw.get("allOf"), list) and raw["allOf"]:
            result = _merge_all([result, *(self.schema(m) for m in raw["allOf"])])
        for combinator in ("anyOf", "oneOf"):
            if isinstance(raw.get(combinator), list) and raw[combinator]:
                result = _merge_all([result, _union([self.schema(m) for m in raw[combinator]])])
        return result


def canonical(schema: Any, doc: dict[str, Any] | None = None) -> Schema:
    """The canonical form of `schema`, resolving its `$ref`s against `doc`."""
    return _Resolver(doc if doc is not None else {}).schema(schema)


# ---------------------------------------------------------------------------------------------------
# Schema comparison


_Add = Callable[..., None]  # report one finding: add(rule_suffix, message, at=where)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class _Findings:
    """Collects the findings of one operation; on an error response, caps them (see module doc)."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.changes: list[Change] = []

    def add(self, rule: str, location: str, message: str, *, error_response: bool = False) -> None:
        severity = RULES[rule][0]
        if error_response and severity != "info":
            message = f"{message} [{rule}]"
            rule = "response-error-shape-changed"
            severity = RULES[rule][0]
        self.changes.append(Change(severity, rule, self.operation, location, message))


@dataclass
class _Where:
    """Where a schema sits: side, location prefix, field path, and whether it is an error body."""

    side: Side
    prefix: str
    path: tuple[str, ...] = ()
    error_response: bool = False

    def at(self, part: str) -> _Where:
        return replace(self, path=(*self.path, part))

    def location(self) -> str:
        if not self.path:
            return self.prefix
        text = ""
        for part in self.path:
            text += part if part == "[]" or not text else f".{part}"
        return f"{self.prefix}: {text}"

    def subject(self) -> str:
        return f"field {self.location().split(': ', 1)[1]!r}" if self.path else self.prefix


def _fmt_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "nothing"


def _compare(old: Schema, new: Schema, where: _Where, out: _Findings) -> None:
    if old == new:
        return

    def add(rule: str, message: str, at: _Where = where) -> None:
        out.add(f"{where.side}-{rule}", at.location(), message, error_response=where.error_response)

    request = where.side == "request"
    subject = where.subject()
    was_nullable, is_nullable = old.admits_null(), new.admits_null()
    if old.recursive is not None or new.recursive is not None:
        # A back-reference stands for a schema whose comparison is already under way further up: what
        # is left to compare here is whether it still points at the same schema, and its nullability.
        was_nullable, is_nullable = old.nullable or was_nullable, new.nullable or is_nullable
        if was_nullable != is_nullable:
            gained = is_nullable
            if request:
                rule = "became-nullable" if gained else "became-not-nullable"
                add(rule, f"{subject} now accepts null" if gained else f"{subject} no longer accepts null")
            else:
                add(
                    "became-nullable" if gained else "became-not-nullable",
                    f"{subject} may now be null" if gained else f"{subject} is no longer null",
                )
        if old.recursive != new.recursive:
            before = f"the recursive reference {old.recursive}" if old.recursive else "a schema"
            after = f"the recursive reference {new.recursive}" if new.recursive else "a different schema"
            add("schema-changed", f"{subject}: {before} became {after}; review by hand")
        return
    if was_nullable != is_nullable:
        if request:
            add(
                "became-not-nullable" if was_nullable else "became-nullable",
                f"{subject} no longer accepts null" if was_nullable else f"{subject} now accepts null",
            )
        else:
            add(
                "became-nullable" if is_nullable else "became-not-nullable",
                f"{subject} may now be null" if is_nullable else f"{subject} is no longer null",
            )
    if old.union or new.union:
        _compare_union(old, new, where, out, add)
        if not (old.union and new.union):
            return
        old, new = replace(old, union=()), replace(new, union=())
    if _compare_types(old, new, where, add):
        return  # disjoint types: anything deeper would be noise
    _compare_enum(old, new, where, add)
    _compare_constraints(old, new, where, add)
    _compare_properties(old, new, where, out, add)
    _compare_additional(old, new, where, out, add)
    if old.items != new.items:
        _compare(old.items or ANY, new.items or ANY, where.at("[]"), out)
    if old.all_of != new.all_of or old.other != new.other:
        changed = sorted(
            {k for k in old.other.keys() | new.other.keys() if old.other.get(k) != new.other.get(k)}
            | ({"allOf"} if old.all_of != new.all_of else set())
        )
        add("schema-changed", f"{subject}: {', '.join(changed)} changed; review by hand")


def _compare_union(old: Schema, new: Schema, where: _Where, out: _Findings, add: _Add) -> None:
    def shapes(s: Schema) -> dict[str, Schema]:
        members = s.union if s.union else (replace(s, nullable=False),)
        return {m.key(): m for m in _split_types(members)}

    before, after = shapes(old), shapes(new)
    removed = [before[k] for k in before if k not in after]
    added = [after[k] for k in after if k not in before]
    if len(removed) == 1 and len(added) == 1:
        _compare(removed[0], added[0], where, out)  # one shape edited in place
        return
    side = where.side
    for shape in removed:
        text = json.dumps(shape.to_json(), sort_keys=True)
        add(
            "variant-removed",
            f"{where.subject()}: alternative {text} "
            + ("is no longer accepted" if side == "request" else "is no longer returned"),
        )
    for shape in added:
        text = json.dumps(shape.to_json(), sort_keys=True)
        add(
            "variant-added",
            f"{where.subject()}: alternative {text} "
            + ("is now accepted" if side == "request" else "may now be returned"),
        )


def _compare_types(old: Schema, new: Schema, where: _Where, add: _Add) -> bool:
    """Report a type change; True when the old and new types have nothing in common."""
    if old.types == new.types:
        return False
    lost: frozenset[str] = frozenset()
    gained: frozenset[str] = frozenset()
    if new.types is not None:
        lost = frozenset({"any"}) if old.types is None else frozenset(t for t in old.types if not _covers(new.types, t))
    if old.types is not None:
        gained = (
            frozenset({"any"}) if new.types is None else frozenset(t for t in new.types if not _covers(old.types, t))
        )
    change = f"{where.subject()}: type {_fmt_types(old.types)} -> {_fmt_types(new.types)}"
    if where.side == "request":
        add("type-narrowed" if lost else "type-widened", change)
    else:
        add("type-changed" if gained else "type-narrowed", change)
    if old.types is None or new.types is None:
        return False
    return not any(_covers(new.types, t) for t in old.types) and not any(_covers(old.types, t) for t in new.types)


def _compare_enum(old: Schema, new: Schema, where: _Where, add: _Add) -> None:
    subject = where.subject()
    if old.enum == new.enum:
        return
    request = where.side == "request"
    if old.enum is None or new.enum is None:
        if new.enum is not None:
            add("enum-added", f"{subject} is now restricted to {', '.join(new.enum)}")
        else:
            add("enum-removed", f"{subject} is no longer restricted to an enum")
        return
    for value in sorted(set(old.enum) - set(new.enum)):
        add(
            "enum-value-removed",
            f"{subject}: enum value {value} removed" + ("; clients sending it will be rejected" if request else ""),
        )
    for value in sorted(set(new.enum) - set(old.enum)):
        add(
            "enum-value-added",
            f"{subject}: enum value {value} added" + ("" if request else "; strict clients may reject it"),
        )


def _compare_constraints(old: Schema, new: Schema, where: _Where, add: _Add) -> None:
    subject = where.subject()
    request = where.side == "request"
    tightened_rule = "constraint-tightened"
    relaxed_rule = "constraint-relaxed"
    for key in sorted(old.constraints.keys() | new.constraints.keys()):
        before, after = old.constraints.get(key), new.constraints.get(key)
        if before == after:
            continue
        text = f"{subject}: {key} {_show(before)} -> {_show(after)}"
        if key in ("format", "pattern"):
            if after is None:
                rule = relaxed_rule if request or key == "pattern" else "format-removed"
            elif before is None:
                rule = f"{key}-added" if request or key == "format" else tightened_rule
            else:
                rule = f"{key}-changed" if request or key == "format" else relaxed_rule
            add(rule, text)
            continue
        if key in MAX_KEYS or key in MIN_KEYS:
            lower_is_tighter = key in MAX_KEYS
            if before is None or after is None:
                tighter = after is not None
            else:
                tighter = after < before if lower_is_tighter else after > before
            if tighter:
                add(
                    f"{_kebab(key)}-{'decreased' if lower_is_tighter else 'increased'}" if request else tightened_rule,
                    text,
                )
            else:
                add(relaxed_rule, text)
            continue
        # multipleOf: looser when the new step divides the old one; uniqueItems: looser when dropped
        looser = (after is None or _divides(after, before)) if key == "multipleOf" else not after
        add(relaxed_rule if looser else tightened_rule, text)


def _show(value: Any) -> str:
    return "none" if value is None else json.dumps(value) if isinstance(value, str) else str(value)


def _divides(divisor: Any, value: Any) -> bool:
    try:
        ratio = value / divisor
    except (TypeError, ZeroDivisionError):
        return False
    return bool(abs(ratio - round(ratio)) < 1e-9)


def _visible(schema: Schema, request: bool) -> Schema:
    """The schema as one side of the exchange sees it: without readOnly (request) or writeOnly (response) fields."""
    hidden = schema.read_only if request else schema.write_only
    if not hidden:
        return schema
    return replace(
        schema,
        properties={k: v for k, v in schema.properties.items() if k not in hidden},
        required=schema.required - hidden,
    )


def _compare_properties(old: Schema, new: Schema, where: _Where, out: _Findings, add: _Add) -> None:
    request = where.side == "request"
    # A readOnly property is not part of what a client sends, a writeOnly one not of what it gets back.
    old, new = _visible(old, request), _visible(new, request)
    names = old.properties.keys() | new.properties.keys() | old.required | new.required
    for name in sorted(names):
        at = where.at(name)
        in_old = name in old.properties or name in old.required
        in_new = name in new.properties or name in new.required
        was_required, is_required = name in old.required, name in new.required
        if in_old and not in_new:
            if request and new.additional is False:
                add("field-removed-closed", f"field {name!r} removed, and no other properties are allowed", at)
            else:
                add(
                    "field-removed",
                    f"field {name!r} removed" + ("; values sent for it may be ignored or rejected" if request else ""),
                    at,
                )
        elif in_new and not in_old:
            if request:
                add(
                    "required-field-added" if is_required else "optional-field-added",
                    f"new {'required' if is_required else 'optional'} field {name!r}",
                    at,
                )
            else:
                add(
                    "required-field-added" if is_required else "optional-field-added",
                    f"new field {name!r}" + (" (always present)" if is_required else ""),
                    at,
                )
        else:
            if was_required != is_required:
                add(
                    "field-became-required" if is_required else "field-became-optional",
                    f"field {name!r} became {'required' if is_required else 'optional'}",
                    at,
                )
            if name in old.properties or name in new.properties:
                _compare(old.properties.get(name, ANY), new.properties.get(name, ANY), at, out)


def _compare_additional(old: Schema, new: Schema, where: _Where, out: _Findings, add: _Add) -> None:
    before, after = old.additional, new.additional
    if before == after:
        return
    subject = where.subject()
    if isinstance(before, Schema) and isinstance(after, Schema):
        _compare(before, after, where.at("*"), out)
    elif before is True or (before is not False and after is False):
        add(
            "additional-properties-closed",
            f"{subject}: additional properties "
            + ("no longer allowed" if after is False else "now restricted to a schema"),
        )
    else:
        add("additional-properties-opened", f"{subject}: additional properties now allowed")


# ---------------------------------------------------------------------------------------------------
# Operations

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


_Requirements = frozenset[frozenset[tuple[str, frozenset[str]]]]  # alternatives of (scheme, scopes) sets


@dataclass
class _Operation:
    """One operation of one document, with everything a client sees resolved."""

    label: str
    parameters: dict[tuple[str, str], tuple[str, dict[str, Any]]]  # key -> (display name, parameter)
    body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    security: _Requirements | None  # None: no security at all


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _media(content: Any) -> dict[str, Any]:
    if not isinstance(content, dict):
        return {}
    return {str(k).split(";")[0].strip().lower(): v for k, v in content.items() if isinstance(v, dict)}


def _scheme_descriptor(scheme: Any, name: str) -> str:
    """A security scheme described by what a client must send, so renaming one is no change."""
    if not isinstance(scheme, dict):
        return f"undefined scheme {name}"
    kind = str(scheme.get("type", "?"))
    if kind == "apiKey":
        where, key = str(scheme.get("in", "?")), str(scheme.get("name", "?"))
        return f"apiKey in {where} {key.lower() if where == 'header' else key}"
    if kind == "http":
        return f"http {str(scheme.get('scheme', '?')).lower()}"
    if kind == "oauth2":
        return f"oauth2 ({', '.join(sorted(_mapping(scheme.get('flows'))))})"
    if kind == "openIdConnect":
        return f"openIdConnect {scheme.get('openIdConnectUrl', '?')}"
    return kind


def _operations(doc: dict[str, Any]) -> tuple[dict[tuple[str, str], _Operation], _Resolver]:
    resolver = _Resolver(doc)
    components = _mapping(doc.get("components"))
    schemes = _mapping(components.get("securitySchemes"))
    ops: dict[tuple[str, str], _Operation] = {}
    paths = _mapping(doc.get("paths"))
    for path, raw_item in paths.items():
        item = resolver.deref(raw_item)
        if not isinstance(item, dict):
            continue
        template = re.findall(r"\{([^}]+)\}", str(path))
        # renaming a path parameter is not a new path: match templates with names blanked
        key_path = re.sub(r"\{[^}]+\}", "{}", str(path))
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
            for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
                param = resolver.deref(raw)
                if not isinstance(param, dict) or "name" not in param:
                    continue
                name, where = str(param["name"]), str(param.get("in", "?"))
                if where == "path":
                    pkey = f"#{template.index(name)}" if name in template else name
                elif where == "header":
                    pkey = name.lower()
                else:
                    pkey = name
                params[(where, pkey)] = (name, param)
            body = resolver.deref(op["requestBody"]) if "requestBody" in op else None
            responses = {
                str(code): resolved
                for code, raw in (op.get("responses") or {}).items()
                if isinstance(resolved := resolver.deref(raw), dict)
            }
            requirements = op["security"] if "security" in op else doc.get("security")
            security = None
            if isinstance(requirements, list) and requirements:
                security = frozenset(
                    frozenset(
                        (_scheme_descriptor(resolver.deref(schemes.get(n)), str(n)), frozenset(map(str, scopes or [])))
                        for n, scopes in req.items()
                    )
                    for req in requirements
                    if isinstance(req, dict)
                )
            label = f"{method.upper()} {path}"
            ops[(method.upper(), key_path)] = _Operation(
                label, params, body if isinstance(body, dict) else None, responses, security
            )
    return ops, resolver


def _fmt_requirement(req: frozenset[tuple[str, frozenset[str]]]) -> str:
    if not req:
        return "no credentials"
    parts = [f"{d} [{', '.join(sorted(s))}]" if s else d for d, s in sorted(req)]
    return " + ".join(parts)


def _still_accepted(old: frozenset[tuple[str, frozenset[str]]], new: _Requirements) -> bool:
    """True when a client satisfying requirement `old` also satisfies one of `new` (same schemes, no new scopes)."""
    old_scopes = dict(old)
    for requirement in new:
        scopes = dict(requirement)
        if scopes.keys() == old_scopes.keys() and all(scopes[k] <= old_scopes[k] for k in scopes):
            return True
    return False


def _compare_security(old: _Operation, new: _Operation, out: _Findings) -> None:
    before, after = old.security or frozenset(), new.security or frozenset()
    if before == after:
        return
    anonymous = frozenset[tuple[str, frozenset[str]]]()
    open_before = not before or anonymous in before
    open_after = not after or anonymous in after
    now = "; ".join(sorted(_fmt_requirement(r) for r in after)) or "nothing"
    if open_before and not open_after:
        out.add("security-added", "security", f"credentials are now required: {now}")
        return
    if open_after and not open_before:
        out.add("security-removed", "security", "credentials are no longer required")
        return
    lost = sorted(_fmt_requirement(r) for r in before if not _still_accepted(r, after))
    if lost:
        out.add("security-changed", "security", f"no longer accepted: {'; '.join(lost)}; now: {now}")
        return
    gained = [r for r in after - before if not any(_still_accepted(o, frozenset({r})) for o in before)]
    if gained:
        text = "; ".join(sorted(_fmt_requirement(r) for r in gained))
        out.add("security-alternative-added", "security", f"also accepted now: {text}")
    else:
        out.add("security-scopes-reduced", "security", f"fewer scopes required; now: {now}")


def _compare_parameters(old: _Operation, new: _Operation, res: tuple[_Resolver, _Resolver], out: _Findings) -> None:
    for key in sorted(old.parameters.keys() | new.parameters.keys()):
        where = key[0]
        if key not in new.parameters:
            name, _ = old.parameters[key]
            rule = "request-path-parameter-removed" if where == "path" else "request-parameter-removed"
            out.add(rule, f"parameter {where} {name}", f"{where} parameter {name!r} removed")
            continue
        name, param = new.parameters[key]
        location = f"parameter {where} {name}"
        is_required = bool(param.get("required")) or where == "path"
        if key not in old.parameters:
            out.add(
                "request-parameter-added-required" if is_required else "request-parameter-added",
                location,
                f"new {'required' if is_required else 'optional'} {where} parameter {name!r}",
            )
            continue
        _, old_param = old.parameters[key]
        was_required = bool(old_param.get("required")) or where == "path"
        if was_required != is_required:
            out.add(
                "request-parameter-became-required" if is_required else "request-parameter-became-optional",
                location,
                f"{where} parameter {name!r} became {'required' if is_required else 'optional'}",
            )
        _compare(_param_schema(old_param, res[0]), _param_schema(param, res[1]), _Where("request", location), out)


def _param_schema(param: dict[str, Any], resolver: _Resolver) -> Schema:
    if "schema" in param:
        return resolver.schema(param["schema"])
    for media in _media(param.get("content")).values():
        return resolver.schema(media.get("schema"))
    return ANY


def _compare_content(
    old: dict[str, Any], new: dict[str, Any], res: tuple[_Resolver, _Resolver], where: _Where, out: _Findings
) -> None:
    before, after = _media(old), _media(new)
    side = where.side
    for media in sorted(before.keys() | after.keys()):
        # name the media type only when it is not the usual one
        at = where if media == "application/json" else replace(where, prefix=f"{where.prefix} ({media})")
        if media not in after:
            out.add(
                f"{side}-media-type-removed",
                at.prefix,
                f"media type {media} removed",
                error_response=where.error_response,
            )
        elif media not in before:
            out.add(
                f"{side}-media-type-added", at.prefix, f"media type {media} added", error_response=where.error_response
            )
        else:
            _compare(res[0].schema(before[media].get("schema")), res[1].schema(after[media].get("schema")), at, out)


def _compare_body(old: _Operation, new: _Operation, res: tuple[_Resolver, _Resolver], out: _Findings) -> None:
    where = _Where("request", "request body")
    if old.body is None and new.body is None:
        return
    if old.body is None:
        required = bool(new.body and new.body.get("required"))
        out.add(
            "request-body-added-required" if required else "request-body-added",
            where.prefix,
            f"new {'required' if required else 'optional'} request body",
        )
        return
    if new.body is None:
        out.add("request-body-removed", where.prefix, "request body no longer documented")
        return
    was, now = bool(old.body.get("required")), bool(new.body.get("required"))
    if was != now:
        out.add(
            "request-body-became-required" if now else "request-body-became-optional",
            where.prefix,
            f"request body became {'required' if now else 'optional'}",
        )
    _compare_content(old.body.get("content", {}), new.body.get("content", {}), res, where, out)


def _is_success(code: str) -> bool:
    return code.startswith("2")


def _compare_responses(old: _Operation, new: _Operation, res: tuple[_Resolver, _Resolver], out: _Findings) -> None:
    before, after = old.responses, new.responses
    gone_success = sorted(c for c in before if _is_success(c) and c not in after)
    new_success = sorted(c for c in after if _is_success(c) and c not in before)
    for code in gone_success:
        now = ", ".join(sorted(c for c in after if _is_success(c))) or "none"
        out.add(
            "response-success-status-changed",
            f"response {code}",
            f"success status {code} is no longer returned; success statuses now: {now}",
        )
    if not gone_success:
        for code in new_success:
            out.add("response-success-status-added", f"response {code}", f"new success status {code}")
    # A success status renamed (200 -> 201): the body a client parses moved with it, so the schemas are
    # compared across the rename too, and a change there is reported beside the status change. Gone and
    # new success statuses are paired in order; an unpaired one has nothing to be compared with.
    for was, now in zip(gone_success, new_success, strict=False):
        where = _Where("response", f"response {was} -> {now}")
        _compare_response(_mapping(before[was]), _mapping(after[now]), f"{was} -> {now}", where, res, out)
    for code in sorted(before.keys() | after.keys()):
        if _is_success(code) and (code not in before or code not in after):
            continue
        if code not in after:
            out.add("response-error-status-removed", f"response {code}", f"response {code} no longer documented")
            continue
        if code not in before:
            out.add("response-error-status-added", f"response {code}", f"new documented response {code}")
            continue
        where = _Where("response", f"response {code}", error_response=not _is_success(code))
        _compare_response(_mapping(before[code]), _mapping(after[code]), code, where, res, out)


def _compare_response(
    old: dict[str, Any],
    new: dict[str, Any],
    code: str,
    where: _Where,
    res: tuple[_Resolver, _Resolver],
    out: _Findings,
) -> None:
    """The bodies of one documented response in both versions (`code` names it in messages)."""
    old_content, new_content = _media(old.get("content")), _media(new.get("content"))
    if old_content and not new_content:
        out.add(
            "response-body-removed",
            where.prefix,
            f"response {code} no longer documents a body",
            error_response=where.error_response,
        )
    elif new_content and not old_content:
        out.add("response-body-added", where.prefix, f"response {code} now documents a body")
    else:
        _compare_content(old_content, new_content, res, where, out)


def _check_refs(doc: dict[str, Any]) -> None:
    """Fail early, with one line, on a `$ref` anywhere in the document that does not resolve."""
    resolver = _Resolver(doc)
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolver.lookup(node["$ref"])
            # example values are data, not spec: a "$ref" key in them means nothing
            stack.extend(v for k, v in node.items() if k not in ("example", "value"))
        elif isinstance(node, list):
            stack.extend(node)


def diff_specs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, most severe first."""
    _check_refs(old)
    _check_refs(new)
    old_ops, old_res = _operations(old)
    new_ops, new_res = _operations(new)
    res = (old_res, new_res)
    changes: list[Change] = []
    for key in sorted(old_ops.keys() | new_ops.keys(), key=lambda k: (k[1], k[0])):
        if key not in new_ops:
            label = old_ops[key].label
            changes.append(Change("breaking", "operation-removed", label, "operation", f"{label} removed"))
            continue
        if key not in old_ops:
            label = new_ops[key].label
            changes.append(Change("info", "operation-added", label, "operation", f"{label} added"))
            continue
        before, after = old_ops[key], new_ops[key]
        out = _Findings(after.label)
        _compare_security(before, after, out)
        _compare_parameters(before, after, res, out)
        _compare_body(before, after, res, out)
        _compare_responses(before, after, res, out)
        changes.extend(out.changes)
    unique = {(c.severity, c.operation, c.location, c.rule, c.message): c for c in changes}
    return [unique[k] for k in sorted(unique, key=lambda k: (SEVERITY_ORDER[k[0]], *k[1:]))]


# ---------------------------------------------------------------------------------------------------
# Output


def _counts(changes: list[Change]) -> dict[str, int]:
    return {s: sum(1 for c in changes if c.severity == s) for s in SEVERITY_ORDER}


def render(changes: list[Change], fmt: str, old_label: str, new_label: str) -> str:
    """The changes as human text, JSON or a Markdown table."""
    counts = _counts(changes)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    if fmt == "json":
        doc = {"old": old_label, "new": new_label, "summary": counts, "changes": [asdict(c) for c in changes]}
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "markdown":
        lines = [f"## API changes: `{old_label}` → `{new_label}`", ""]
        if not changes:
            return "\n".join([*lines, "No changes.", ""])
        lines += [f"**{summary}**", "", "| Severity | Operation | Location | Rule | Message |", "|---|---|---|---|---|"]
        for c in changes:
            cells = [c.severity, f"`{c.operation}`", c.location, f"`{c.rule}`", c.message]
            lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
        return "\n".join([*lines, ""])
    if fmt != "text":
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    lines = [f"Comparing {old_label} -> {new_label}"]
    if not changes:
        return "\n".join([*lines, "No changes.", ""])
    lines += [summary, ""]
    for c in changes:
        lines.append(f"{c.severity.upper():<8}  {c.operation}  {c.location}")
        lines.append(f"          {c.rule}: {c.message}")
    return "\n".join([*lines, ""])


def load_spec(path: str, *, allow_local_refs: bool = False) -> dict[str, Any]:
    """An OpenAPI 3.x document read from a YAML or JSON file, or a one-line UsageError.

    Read through the bounded loader: no `$ref` leaves the document (local files under the spec's own
    directory only with `allow_local_refs`, inlined), so neither we nor the validator fetch anything."""
    doc = load_document(path, "spec", allow_local_refs=allow_local_refs, syntax="YAML or JSON")
    if not isinstance(doc, dict):
        raise UsageError(f"spec {path} is not an OpenAPI document (expected a mapping at the top)")
    version = doc.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = f"openapi: {version}" if version is not None else "no 'openapi' field"
        raise UsageError(f"spec {path} is not OpenAPI 3.0/3.1 ({found})")
    if "paths" in doc and not isinstance(doc["paths"], dict):
        raise UsageError(f"spec {path}: 'paths' must be a mapping")
    _validate(doc, path)
    return doc


def _validate(doc: dict[str, Any], path: str) -> None:
    """A one-line UsageError for a document that is not valid OpenAPI (openapi-spec-validator)."""
    from openapi_spec_validator import validate

    try:
        validate(doc)
    except Exception as exc:  # the validator's errors (jsonschema, referencing, its own) share no base class
        lines = str(getattr(exc, "message", exc)).strip().splitlines() or [type(exc).__name__]
        message = lines[0]
        where = getattr(exc, "json_path", None)
        at = f" at {where}" if where and where != "$" else ""
        raise UsageError(f"spec {path} is not a valid OpenAPI document{at}: {message[:200]}") from None


def run_diff(old_path: str, new_path: str, fmt: str, *, allow_local_refs: bool = False) -> tuple[str, int]:
    """The rendered diff of two spec files and the exit code: 1 when anything breaks, else 0."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    old = load_spec(old_path, allow_local_refs=allow_local_refs)
    new = load_spec(new_path, allow_local_refs=allow_local_refs)
    try:
        changes = diff_specs(old, new)
    except UsageError as exc:
        raise UsageError(f"{old_path} / {new_path}: {exc}") from None
    except (TypeError, AttributeError, KeyError, ValueError, RecursionError) as exc:
        # load_spec validated both documents; this is a shape the validator let through.
        raise UsageError(f"{old_path} / {new_path}: cannot compare these documents ({exc})") from None
    return render(changes, fmt, old_path, new_path), 1 if any(c.severity == "breaking" for c in changes) else 0


def rule_table() -> Iterator[tuple[str, Severity, str]]:
    """Every rule id with its severity and meaning (for docs)."""
    for rule, (severity, meaning) in RULES.items():
        yield rule, severity, meaning
