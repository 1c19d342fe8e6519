"""Reading a request body JSON Schema: `$ref` resolution, allowed JSON types, field kinds.

Everything here is generic over the schema; a vendor is data, never code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import jsonschema
from hypothesis.errors import InvalidArgument

Schema: TypeAlias = Mapping[str, Any]
RefResolver: TypeAlias = Callable[[str], Schema]
# A whole OpenAPI document, its `components` object, or a callable that maps "#/..." to a schema.
Components: TypeAlias = Mapping[str, Any] | RefResolver | None

JSON_TYPES: tuple[str, ...] = ("null", "boolean", "object", "array", "number", "integer", "string")


def ref_resolver(components: Components) -> RefResolver:
    """A function that maps a local `$ref` ("#/components/schemas/X") to the schema it names."""
    if callable(components):
        return components
    if components is None:
        root: Mapping[str, Any] = {}
    elif isinstance(components, Mapping):
        # A whole spec holds `components`; a bare components object holds `schemas`.
        root = components if "components" in components or "openapi" in components else {"components": components}
    else:
        raise InvalidArgument(f"components must be a spec, a components object or a callable, not {components!r}")

    def resolve(ref: str) -> Schema:
        if not ref.startswith("#/"):
            raise InvalidArgument(f"only local $ref are supported, not {ref!r}")
        node: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise InvalidArgument(f"$ref {ref!r} does not resolve against the given components")
            node = node[part]
        if not isinstance(node, Mapping):
            raise InvalidArgument(f"$ref {ref!r} does not name a schema")
        return node

    return resolve


def resolve_schema(schema: Any, components: Components = None) -> Any:
    """The schema with every local `$ref` inlined; a recursive `$ref` raises InvalidArgument.

    Keywords next to a `$ref` (allowed in OpenAPI 3.1) are merged over the target, which is exact
    for annotations such as `default` or `description`.
    """
    resolve = ref_resolver(components)

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping):
            if isinstance(node.get("$ref"), str):
                ref = node["$ref"]
                if ref in seen:
                    raise InvalidArgument(f"recursive $ref {ref!r} is not supported")
                target = walk(resolve(ref), (*seen, ref))
                siblings = {k: walk(v, seen) for k, v in node.items() if k != "$ref"}
                return {**target, **siblings} if isinstance(target, dict) else target
            return {key: walk(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        return node

    return walk(schema, ())


def body_validator(schema: Any, components: Components = None) -> jsonschema.Draft202012Validator:
    """A Draft 2020-12 validator for the schema that also checks formats (uuid, date-time, ...)."""
    return jsonschema.Draft202012Validator(
        resolve_schema(schema, components), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def json_types(schema: Any) -> frozenset[str] | None:
    """The JSON types a schema admits, or None when it admits any type."""
    if schema is True or schema == {}:
        return None
    if schema is False:
        return frozenset()
    if not isinstance(schema, Mapping):
        return None
    found: frozenset[str] | None = None

    def narrow(current: frozenset[str] | None, types: frozenset[str] | None) -> frozenset[str] | None:
        if types is None:
            return current
        return types if current is None else current & types

    if "type" in schema:
        declared = schema["type"]
        names = frozenset([declared] if isinstance(declared, str) else declared)
        if "number" in names:
            names |= {"integer"}
        found = narrow(found, names)
    for values in (schema.get("enum"), [schema["const"]] if "const" in schema else None):
        if values is not None:
            found = narrow(found, frozenset(_type_of(v) for v in values))
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            branches = [json_types(branch) for branch in schema[keyword]]
            union = None if any(b is None for b in branches) else frozenset().union(*branches)  # type: ignore[arg-type]
            found = narrow(found, union)
    for branch in schema.get("allOf", ()):
        found = narrow(found, json_types(branch))
    if schema.get("nullable") is True and found is not None:  # OpenAPI 3.0 spelling
        found |= {"null"}
    return found


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def is_nullable(schema: Any) -> bool:
    """Whether the (resolved) schema admits null."""
    types = json_types(schema)
    return types is None or "null" in types


def non_null_branches(schema: Schema) -> list[Schema]:
    """The alternatives of a schema other than its `null` alternative."""
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema and not set(schema) & {"type", "enum", "const"}:
            return [b for b in schema[keyword] if not (isinstance(b, Mapping) and b.get("type") == "null")]
    declared = schema.get("type")
    if isinstance(declared, list) and "null" in declared:
        rest = [t for t in declared if t != "null"]
        return [{**schema, "type": rest[0] if len(rest) == 1 else rest}]
    if declared == "null":
        return []
    return [schema]


def is_free_form_object(schema: Any) -> bool:
    """Whether the schema is an object of arbitrary keys: no declared properties, extra keys allowed."""
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return False
    extra = schema.get("additionalProperties", True)
    return not schema.get("properties") and (extra is True or extra == {})


def dict_branch(schema: Schema) -> Schema | None:
    """The free-form object alternative of a field (a metadata/context dict), if it has one."""
    return next((b for b in non_null_branches(schema) if is_free_form_object(b)), None)


def string_branch(schema: Schema) -> Schema | None:
    """The plain string alternative of a field (no enum, no const), if it has one."""
    for branch in non_null_branches(schema):
        if branch.get("type") == "string" and "enum" not in branch and "const" not in branch:
            return branch
    return None
