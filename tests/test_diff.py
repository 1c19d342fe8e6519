"""Tests for `conformance diff`: one spec pair per rule, spellings that must not differ, output, exit codes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.diff import RULES, Change, canonical, diff_specs, render, run_diff
from conformance.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "conformance" / "bundled" / "specs").glob("*/openapi.yaml"))
DATA = Path(__file__).resolve().parent / "data" / "diff"
OP = "POST /v1/things"

Json = dict[str, Any]


def spec(
    body: Any = None,
    response: Any = None,
    *,
    openapi: str = "3.1.0",
    components: Json | None = None,
    parameters: list[Json] | None = None,
    security: list[Json] | None = None,
    schemes: Json | None = None,
    responses: Json | None = None,
    body_required: bool = True,
    path: str = "/v1/things",
) -> Json:
    """A one-operation document: `body` is the request body schema, `response` the 201 body schema."""
    op: Json = {"responses": responses or {"201": {"description": "ok"}}}
    if response is not None:
        op["responses"]["201"]["content"] = {"application/json": {"schema": response}}
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    if parameters is not None:
        op["parameters"] = parameters
    if security is not None:
        op["security"] = security
    doc: Json = {"openapi": openapi, "info": {"title": "t", "version": "1"}, "paths": {path: {"post": op}}}
    doc["components"] = {"schemas": components or {}, "securitySchemes": schemes or {}}
    return doc


def obj(props: Json, required: tuple[str, ...] = (), **extra: Any) -> Json:
    out: Json = {"type": "object", "properties": props, **extra}
    if required:
        out["required"] = list(required)
    return out


def req(old: Any, new: Any, **kw: Any) -> tuple[Json, Json]:
    return spec(body=old, **kw), spec(body=new, **kw)


def resp(old: Any, new: Any, **kw: Any) -> tuple[Json, Json]:
    return spec(response=old, **kw), spec(response=new, **kw)


def field(schema: Json, name: str = "a", required: bool = False) -> Json:
    return obj({name: schema}, (name,) if required else ())


S: Json = {"type": "string"}
INT: Json = {"type": "integer"}
NS: Json = {"anyOf": [S, {"type": "null"}]}
KEY = {"k": {"type": "apiKey", "in": "header", "name": "x-api-key"}}
BEARER = {"b": {"type": "http", "scheme": "bearer"}}
BOTH = {**KEY, **BEARER}
OAUTH = {"o": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {}}}}}
P_LIMIT: Json = {"name": "limit", "in": "query", "schema": INT}


def findings(old: Json, new: Json) -> set[tuple[str, str]]:
    return {(c.rule, c.severity) for c in diff_specs(old, new)}


def test_untyped_schema_already_admits_null() -> None:
    """Dropping the type keyword keeps null accepted (the boundary oasdiff got wrong, #1004/#1015)."""
    nullable_string = field({"type": ["string", "null"]})
    assert findings(*req(nullable_string, field({}))) == {("request-type-widened", "info")}
    assert findings(*resp(field({}), nullable_string)) == {("response-type-narrowed", "info")}
    assert findings(*resp(field({}), field(S))) == {
        ("response-type-narrowed", "info"),
        ("response-became-not-nullable", "info"),
    }


# One row per rule: the pair and exactly what it must report.
CASES: list[Any] = [
    # --- request schema
    pytest.param(*req(obj({"a": S}), obj({"a": S, "b": S}, ("b",))), {("request-required-field-added", "breaking")}),
    pytest.param(*req(obj({"a": S}), obj({"a": S}, ("a",))), {("request-field-became-required", "breaking")}),
    pytest.param(*req(obj({"a": S}), obj({"a": S, "b": S})), {("request-optional-field-added", "info")}),
    pytest.param(*req(obj({"a": S}, ("a",)), obj({"a": S})), {("request-field-became-optional", "info")}),
    pytest.param(*req(obj({"a": S, "b": S}), obj({"a": S})), {("request-field-removed", "warning")}),
    pytest.param(
        *req(obj({"a": S, "b": S}, additionalProperties=False), obj({"a": S}, additionalProperties=False)),
        {("request-field-removed-closed", "breaking")},
    ),
    pytest.param(*req(field({"type": ["string", "integer"]}), field(S)), {("request-type-narrowed", "breaking")}),
    pytest.param(*req(field({"type": "number"}), field(INT)), {("request-type-narrowed", "breaking")}),
    pytest.param(*req(field(S), field(INT)), {("request-type-narrowed", "breaking")}),
    pytest.param(*req(field(INT), field({"type": "number"})), {("request-type-widened", "info")}),
    pytest.param(
        *req(field({"type": "string", "enum": ["a", "b"]}), field({"type": "string", "enum": ["a"]})),
        {("request-enum-value-removed", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "string", "enum": ["a"]}), field({"type": "string", "enum": ["a", "b"]})),
        {("request-enum-value-added", "info")},
    ),
    pytest.param(*req(field(S), field({"type": "string", "enum": ["a"]})), {("request-enum-added", "breaking")}),
    pytest.param(*req(field({"type": "string", "enum": ["a"]}), field(S)), {("request-enum-removed", "info")}),
    pytest.param(*req(field(NS), field(S)), {("request-became-not-nullable", "breaking")}),
    pytest.param(
        *req(field({"type": "string", "nullable": True}), field(S)), {("request-became-not-nullable", "breaking")}
    ),
    pytest.param(*req(field(S), field(NS)), {("request-became-nullable", "info")}),
    pytest.param(*req(field(S), field({"type": "string", "format": "uuid"})), {("request-format-added", "breaking")}),
    pytest.param(
        *req(field({"type": "string", "format": "uuid"}), field({"type": "string", "format": "email"})),
        {("request-format-changed", "breaking")},
    ),
    pytest.param(*req(field({"type": "string", "format": "uuid"}), field(S)), {("request-constraint-relaxed", "info")}),
    pytest.param(*req(field(S), field({"type": "string", "pattern": "^a"})), {("request-pattern-added", "breaking")}),
    pytest.param(
        *req(field({"type": "string", "pattern": "^a"}), field({"type": "string", "pattern": "^ab"})),
        {("request-pattern-changed", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "string", "maxLength": 10}), field({"type": "string", "maxLength": 5})),
        {("request-max-length-decreased", "breaking")},
    ),
    pytest.param(
        *req(field(S), field({"type": "string", "maxLength": 5})), {("request-max-length-decreased", "breaking")}
    ),
    pytest.param(
        *req(field({"type": "string", "maxLength": 5}), field({"type": "string", "maxLength": 10})),
        {("request-constraint-relaxed", "info")},
    ),
    pytest.param(
        *req(field({"type": "string", "minLength": 1}), field({"type": "string", "minLength": 2})),
        {("request-min-length-increased", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "integer", "maximum": 10}), field({"type": "integer", "maximum": 9})),
        {("request-maximum-decreased", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "integer", "minimum": 0}), field({"type": "integer", "minimum": 1})),
        {("request-minimum-increased", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "integer", "exclusiveMaximum": 10}), field({"type": "integer", "exclusiveMaximum": 9})),
        {("request-exclusive-maximum-decreased", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "integer", "exclusiveMinimum": 0}), field({"type": "integer", "exclusiveMinimum": 1})),
        {("request-exclusive-minimum-increased", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "array", "items": S}), field({"type": "array", "items": S, "maxItems": 3})),
        {("request-max-items-decreased", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "array", "items": S}), field({"type": "array", "items": S, "minItems": 1})),
        {("request-min-items-increased", "breaking")},
    ),
    pytest.param(*req(obj({}), obj({}, maxProperties=3)), {("request-max-properties-decreased", "breaking")}),
    pytest.param(*req(obj({}), obj({}, minProperties=1)), {("request-min-properties-increased", "breaking")}),
    pytest.param(
        *req(field({"type": "integer", "multipleOf": 2}), field({"type": "integer", "multipleOf": 4})),
        {("request-constraint-tightened", "breaking")},
    ),
    pytest.param(
        *req(field({"type": "array", "items": INT, "uniqueItems": True}), field({"type": "array", "items": INT})),
        {("request-constraint-relaxed", "info")},
    ),
    pytest.param(
        *req(obj({"a": S}), obj({"a": S}, additionalProperties=False)),
        {("request-additional-properties-closed", "breaking")},
    ),
    pytest.param(
        *req(obj({"a": S}, additionalProperties=False), obj({"a": S})),
        {("request-additional-properties-opened", "info")},
    ),
    pytest.param(
        *req(field({"anyOf": [S, INT, obj({"x": S})]}), field({"anyOf": [S, INT]})),
        {("request-variant-removed", "breaking")},
    ),
    pytest.param(
        *req(field({"anyOf": [S, INT]}), field({"anyOf": [S, INT, obj({"x": S})]})),
        {("request-variant-added", "info")},
    ),
    pytest.param(*req(field({"not": S}), field({"not": INT})), {("request-schema-changed", "warning")}),
    pytest.param(  # a nested change is found and named by its path
        *req(field({"type": "array", "items": obj({"b": S})}), field({"type": "array", "items": obj({"b": INT})})),
        {("request-type-narrowed", "breaking")},
    ),
    # --- request body and parameters
    pytest.param(spec(), spec(body=obj({})), {("request-body-added-required", "breaking")}),
    pytest.param(spec(), spec(body=obj({}), body_required=False), {("request-body-added", "info")}),
    pytest.param(spec(body=obj({})), spec(), {("request-body-removed", "warning")}),
    pytest.param(
        spec(body=obj({}), body_required=False), spec(body=obj({})), {("request-body-became-required", "breaking")}
    ),
    pytest.param(
        spec(body=obj({})), spec(body=obj({}), body_required=False), {("request-body-became-optional", "info")}
    ),
    pytest.param(spec(parameters=[]), spec(parameters=[P_LIMIT]), {("request-parameter-added", "info")}),
    pytest.param(
        spec(parameters=[]),
        spec(parameters=[{**P_LIMIT, "required": True}]),
        {("request-parameter-added-required", "breaking")},
    ),
    pytest.param(
        spec(parameters=[P_LIMIT]),
        spec(parameters=[{**P_LIMIT, "required": True}]),
        {("request-parameter-became-required", "breaking")},
    ),
    pytest.param(
        spec(parameters=[{**P_LIMIT, "required": True}]),
        spec(parameters=[P_LIMIT]),
        {("request-parameter-became-optional", "info")},
    ),
    pytest.param(spec(parameters=[P_LIMIT]), spec(parameters=[]), {("request-parameter-removed", "warning")}),
    pytest.param(
        spec(parameters=[{**P_LIMIT, "schema": {"type": "integer", "maximum": 100}}]),
        spec(parameters=[{**P_LIMIT, "schema": {"type": "integer", "maximum": 50}}]),
        {("request-maximum-decreased", "breaking")},
    ),
    pytest.param(
        spec(path="/v1/{id}/things", parameters=[{"name": "id", "in": "path", "required": True, "schema": S}]),
        spec(path="/v1/{id}/things", parameters=[]),
        {("request-path-parameter-removed", "breaking")},
    ),
    pytest.param(
        spec(path="/v1/things"),
        spec(path="/v2/things"),
        {("operation-removed", "breaking"), ("operation-added", "info")},
    ),
    # --- response schema
    pytest.param(*resp(obj({"a": S, "b": S}), obj({"a": S})), {("response-field-removed", "breaking")}),
    pytest.param(*resp(obj({"a": S}, ("a",)), obj({"a": S})), {("response-field-became-optional", "breaking")}),
    pytest.param(*resp(obj({"a": S}), obj({"a": S}, ("a",))), {("response-field-became-required", "info")}),
    pytest.param(*resp(obj({"a": S}), obj({"a": S, "b": S})), {("response-optional-field-added", "info")}),
    pytest.param(*resp(obj({"a": S}), obj({"a": S, "b": S}, ("b",))), {("response-required-field-added", "info")}),
    pytest.param(*resp(field(S), field(NS)), {("response-became-nullable", "breaking")}),
    pytest.param(*resp(field(S), field({"type": ["string", "null"]})), {("response-became-nullable", "breaking")}),
    pytest.param(*resp(field(NS), field(S)), {("response-became-not-nullable", "info")}),
    pytest.param(*resp(field(S), field(INT)), {("response-type-changed", "breaking")}),
    pytest.param(*resp(field({"type": ["string", "integer"]}), field(S)), {("response-type-narrowed", "info")}),
    pytest.param(
        *resp(field({"type": "string", "enum": ["a"]}), field({"type": "string", "enum": ["a", "b"]})),
        {("response-enum-value-added", "warning")},
    ),
    pytest.param(
        *resp(field({"type": "string", "enum": ["a", "b"]}), field({"type": "string", "enum": ["a"]})),
        {("response-enum-value-removed", "info")},
    ),
    pytest.param(*resp(field(S), field({"type": "string", "enum": ["a"]})), {("response-enum-added", "info")}),
    pytest.param(*resp(field({"type": "string", "enum": ["a"]}), field(S)), {("response-enum-removed", "warning")}),
    pytest.param(
        *resp(field({"type": "string", "format": "date-time"}), field({"type": "string", "format": "date"})),
        {("response-format-changed", "breaking")},
    ),
    pytest.param(
        *resp(field({"type": "string", "format": "date"}), field(S)), {("response-format-removed", "warning")}
    ),
    pytest.param(*resp(field(S), field({"type": "string", "format": "date"})), {("response-format-added", "info")}),
    pytest.param(
        *resp(field({"type": "string", "maxLength": 5}), field({"type": "string", "maxLength": 10})),
        {("response-constraint-relaxed", "warning")},
    ),
    pytest.param(
        *resp(field({"type": "string", "pattern": "^a"}), field({"type": "string", "pattern": "^b"})),
        {("response-constraint-relaxed", "warning")},
    ),
    pytest.param(
        *resp(field(S), field({"type": "string", "pattern": "^a"})), {("response-constraint-tightened", "info")}
    ),
    pytest.param(
        *resp(obj({"a": S}, additionalProperties=False), obj({"a": S})),
        {("response-additional-properties-opened", "info")},
    ),
    pytest.param(
        *resp(obj({"a": S}), obj({"a": S}, additionalProperties=False)),
        {("response-additional-properties-closed", "info")},
    ),
    pytest.param(
        *resp(field({"anyOf": [S, INT]}), field({"anyOf": [S, INT, obj({"x": S})]})),
        {("response-variant-added", "breaking")},
    ),
    pytest.param(
        *resp(field({"anyOf": [S, INT, obj({"x": S})]}), field({"anyOf": [S, INT]})),
        {("response-variant-removed", "info")},
    ),
    pytest.param(*resp(field({"not": S}), field({"not": INT})), {("response-schema-changed", "warning")}),
    # --- responses
    pytest.param(
        spec(responses={"201": {"description": "x"}}),
        spec(responses={"200": {"description": "x"}}),
        {("response-success-status-changed", "breaking")},
    ),
    pytest.param(
        spec(responses={"201": {"description": "x"}}),
        spec(responses={"201": {"description": "x"}, "202": {"description": "x"}}),
        {("response-success-status-added", "warning")},
    ),
    pytest.param(
        spec(responses={"201": {"description": "x"}}),
        spec(responses={"201": {"description": "x"}, "409": {"description": "x"}}),
        {("response-error-status-added", "info")},
    ),
    pytest.param(
        spec(responses={"201": {"description": "x"}, "409": {"description": "x"}}),
        spec(responses={"201": {"description": "x"}}),
        {("response-error-status-removed", "warning")},
    ),
    pytest.param(
        spec(
            responses={
                "201": {"description": "x"},
                "400": {"description": "x", "content": {"application/json": {"schema": obj({"code": S}, ("code",))}}},
            }
        ),
        spec(
            responses={
                "201": {"description": "x"},
                "400": {"description": "x", "content": {"application/json": {"schema": obj({"error": S}, ("error",))}}},
            }
        ),
        {("response-error-shape-changed", "warning"), ("response-required-field-added", "info")},
    ),
    pytest.param(
        spec(response=obj({})),
        spec(responses={"201": {"description": "x", "content": {"application/xml": {"schema": obj({})}}}}),
        {("response-media-type-removed", "breaking"), ("response-media-type-added", "info")},
    ),
    pytest.param(spec(response=obj({})), spec(), {("response-body-removed", "breaking")}),
    pytest.param(spec(), spec(response=obj({})), {("response-body-added", "info")}),
    pytest.param(
        spec(body=obj({})),
        spec(body=None, responses=None)
        | {
            "paths": {
                "/v1/things": {
                    "post": {
                        "requestBody": {"required": True, "content": {"text/plain": {"schema": S}}},
                        "responses": {"201": {"description": "ok"}},
                    }
                }
            }
        },
        {("request-media-type-removed", "breaking"), ("request-media-type-added", "info")},
    ),
    # --- security
    pytest.param(spec(schemes=KEY), spec(schemes=KEY, security=[{"k": []}]), {("security-added", "breaking")}),
    pytest.param(spec(schemes=KEY, security=[{"k": []}]), spec(schemes=KEY), {("security-removed", "warning")}),
    pytest.param(
        spec(schemes=BOTH, security=[{"k": []}]),
        spec(schemes=BOTH, security=[{"b": []}]),
        {("security-changed", "breaking")},
    ),
    pytest.param(
        spec(schemes=KEY, security=[{"k": []}]),
        spec(schemes={"k": {**KEY["k"], "name": "authorization"}}, security=[{"k": []}]),
        {("security-changed", "breaking")},
    ),
    pytest.param(
        spec(schemes=BOTH, security=[{"k": []}]),
        spec(schemes=BOTH, security=[{"k": [], "b": []}]),
        {("security-changed", "breaking")},
    ),
    pytest.param(
        spec(schemes=BOTH, security=[{"k": []}]),
        spec(schemes=BOTH, security=[{"k": []}, {"b": []}]),
        {("security-alternative-added", "info")},
    ),
    pytest.param(
        spec(schemes=OAUTH, security=[{"o": ["read"]}]),
        spec(schemes=OAUTH, security=[{"o": ["read", "write"]}]),
        {("security-changed", "breaking")},
    ),
    pytest.param(
        spec(schemes=OAUTH, security=[{"o": ["read", "write"]}]),
        spec(schemes=OAUTH, security=[{"o": ["read"]}]),
        {("security-scopes-reduced", "info")},
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_rule(old: Json, new: Json, expected: set[tuple[str, str]]) -> None:
    assert findings(old, new) == expected


def test_every_rule_has_a_case() -> None:
    covered = {rule for case in CASES for rule, _ in case.values[2]}
    assert covered == set(RULES)


def test_every_expected_severity_is_the_rule_table() -> None:
    for case in CASES:
        for rule, severity in case.values[2]:
            assert RULES[rule][0] == severity, rule


def test_finding_names_operation_location_and_message() -> None:
    old, new = req(
        obj({"a": field({"type": "string", "enum": ["x", "y"]}, "s")}),
        obj({"a": field({"type": "string", "enum": ["x"]}, "s")}),
    )
    [change] = diff_specs(old, new)
    assert change == Change(
        "breaking",
        "request-enum-value-removed",
        OP,
        "request body: a.s",
        "field 'a.s': enum value \"y\" removed; clients sending it will be rejected",
    )
    old, new = spec(parameters=[P_LIMIT]), spec(parameters=[{**P_LIMIT, "schema": {"type": "integer", "minimum": 1}}])
    assert [(c.location, c.operation) for c in diff_specs(old, new)] == [("parameter query limit", OP)]
    old, new = resp(
        field({"type": "array", "items": field(S, "b")}), field({"type": "array", "items": field(INT, "b")})
    )
    assert [c.location for c in diff_specs(old, new)] == ["response 201: a[].b"]


def test_oasdiff_1088_enum_ref_made_nullable_is_not_enum_removal() -> None:
    """An enum `$ref` turned into `oneOf [null, $ref]` only became nullable (info on the request side)."""
    components = {"E": {"type": "string", "enum": ["user", "serviceAccount"], "description": "Kind."}}
    old = spec(body=field({"$ref": "#/components/schemas/E"}), components=components)
    new = spec(body=field({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/E"}]}), components=components)
    assert findings(old, new) == {("request-became-nullable", "info")}
    assert findings(new, old) == {("request-became-not-nullable", "breaking")}


def test_parameter_nullability_is_compared() -> None:
    """Nullability changes on parameters are found too (the gap of oasdiff #1017)."""
    old = spec(parameters=[{"name": "x", "in": "header", "schema": NS}])
    new = spec(parameters=[{"name": "X", "in": "header", "schema": S}])  # header names are case-insensitive
    assert findings(old, new) == {("request-became-not-nullable", "breaking")}


# Pairs that are one schema spelled two ways: no finding, whichever is old.
NULLABLE_SPELLINGS: list[Json] = [
    {"type": "string", "nullable": True},
    {"anyOf": [{"type": "string"}, {"type": "null"}]},
    {"anyOf": [{"type": "null"}, {"type": "string"}]},
    {"oneOf": [{"type": "string"}, {"type": "null"}]},
    {"type": ["string", "null"]},
    {"type": ["null", "string"], "description": "described"},
]
SAME: list[Any] = [
    pytest.param(
        spec(body=field({"$ref": "#/components/schemas/X"}), components={"X": obj({"b": S})}),
        spec(body=field(obj({"b": S}))),
        id="ref-vs-inlined",
    ),
    pytest.param(
        spec(response={"$ref": "#/components/schemas/Old"}, components={"Old": obj({"b": S})}),
        spec(response={"$ref": "#/components/schemas/New"}, components={"New": obj({"b": S})}),
        id="component-renamed",
    ),
    pytest.param(
        spec(body={"type": "object", "required": ["a", "b"], "properties": {"a": S, "b": INT}}),
        spec(body={"properties": {"b": INT, "a": S}, "required": ["b", "a"], "type": "object"}),
        id="keys-reordered",
    ),
    pytest.param(
        spec(body=field({"type": "string", "title": "A", "description": "old", "example": "x", "examples": ["x"]})),
        spec(body=field({"type": "string", "title": "B", "description": "new", "default": "y"})),
        id="annotations-changed",
    ),
    pytest.param(
        spec(body=field({"type": ["string", "integer"]})),
        spec(body=field({"anyOf": [INT, S]})),
        id="type-list-vs-anyOf",
    ),
    pytest.param(
        spec(body=field({"type": ["string", "null"]})),
        spec(body=field({"anyOf": [S, {"type": "null"}]})),
        id="nullable-type-list-vs-anyOf",
    ),
    pytest.param(spec(body=field({"allOf": [obj({"b": S})]})), spec(body=field(obj({"b": S}))), id="allOf-one-member"),
    pytest.param(
        spec(openapi="3.0.3", body=field({"type": "string", "enum": ["a", "b"], "nullable": True})),
        spec(body=field({"type": ["string", "null"], "enum": ["a", "b", None]})),
        id="nullable-enum",
    ),
    pytest.param(
        spec(
            openapi="3.0.3",
            response=field({"nullable": True, "allOf": [{"$ref": "#/components/schemas/X"}]}),
            components={"X": obj({"b": S})},
        ),
        spec(
            response=field({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}),
            components={"X": obj({"b": S})},
        ),
        id="nullable-allOf-ref-idiom",
    ),
    pytest.param(
        spec(openapi="3.0.3", body=field({"type": "integer", "maximum": 10, "exclusiveMaximum": True})),
        spec(body=field({"type": "integer", "exclusiveMaximum": 10})),
        id="exclusive-bound-3.0-vs-3.1",
    ),
    pytest.param(
        spec(body=field({"enum": ["a", "b"]})),
        spec(body=field({"type": "string", "enum": ["b", "a"]})),
        id="enum-implies-type",
    ),
    pytest.param(
        spec(body=field({"type": "object", "additionalProperties": True})),
        spec(body=field({"type": "object"})),
        id="additionalProperties-true-is-default",
    ),
    pytest.param(
        spec(path="/v1/{id}/things", parameters=[{"name": "id", "in": "path", "required": True, "schema": S}]),
        spec(
            path="/v1/{thing_id}/things", parameters=[{"name": "thing_id", "in": "path", "required": True, "schema": S}]
        ),
        id="path-parameter-renamed",
    ),
    pytest.param(
        spec(response=obj({})),
        spec(
            responses={"201": {"description": "x", "content": {"application/json; charset=utf-8": {"schema": obj({})}}}}
        ),
        id="media-type-parameters",
    ),
    pytest.param(
        spec(schemes=KEY, security=[{"k": []}]),
        spec(schemes={"other": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}, security=[{"other": []}]),
        id="security-scheme-renamed",
    ),
    pytest.param(
        spec(schemes=KEY, security=[{"k": []}]) | {"security": []},
        spec(schemes=KEY) | {"security": [{"k": []}]},
        id="security-document-level",
    ),
]
for _i, _a in enumerate(NULLABLE_SPELLINGS):
    for _j, _b in enumerate(NULLABLE_SPELLINGS):
        if _i != _j:
            for _where, _make in (("request", req), ("response", resp)):
                SAME.append(pytest.param(*_make(field(_a), field(_b)), id=f"nullable-{_where}-{_i}-vs-{_j}"))


@pytest.mark.parametrize(("old", "new"), SAME)
def test_same_schema_spelled_differently(old: Json, new: Json) -> None:
    assert diff_specs(old, new) == []
    assert diff_specs(new, old) == []


def test_recursive_schemas_terminate_and_still_compare() -> None:
    node = obj({"name": S, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}})
    old = spec(body={"$ref": "#/components/schemas/Node"}, components={"Node": node})
    assert diff_specs(old, copy.deepcopy(old)) == []
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Node"]["required"] = ["name"]
    assert findings(old, new) == {("request-field-became-required", "breaking")}
    loop = spec(body={"$ref": "#/components/schemas/A"}, components={"A": {"$ref": "#/components/schemas/A"}})
    assert diff_specs(loop, loop) == []


def _tree(items: Json) -> Json:
    node = obj({"name": S, "children": {"type": "array", "items": items}})
    return spec(body={"$ref": "#/components/schemas/Node"}, components={"Node": node})


NODE: Json = {"$ref": "#/components/schemas/Node"}


@pytest.mark.parametrize(
    ("old_items", "new_items", "expected"),
    [
        (NODE, S, {("request-schema-changed", "warning")}),
        ({"anyOf": [NODE, {"type": "null"}]}, NODE, {("request-became-not-nullable", "breaking")}),
        (NODE, {"anyOf": [NODE, {"type": "null"}]}, {("request-became-nullable", "info")}),
        ({"anyOf": [NODE, {"type": "null"}]}, {"anyOf": [{"type": "null"}, NODE]}, set()),
    ],
    ids=["ref-to-string", "nullability-removed", "nullability-added", "reordered"],
)
def test_changes_at_a_recursive_reference_are_found(old_items: Json, new_items: Json, expected: set[Any]) -> None:
    # Regression: the comparison used to stop at any back-reference, so these all read "no changes".
    assert findings(_tree(old_items), _tree(new_items)) == expected


def test_densely_recursive_schemas_are_refused_not_left_to_hang() -> None:
    # Nine components that all refer to each other: expanding every path is exponential.
    names = [f"C{i}" for i in range(9)]
    components = {
        name: obj({other.lower(): {"$ref": f"#/components/schemas/{other}"} for other in names}) for name in names
    }
    doc = spec(body={"$ref": "#/components/schemas/C0"}, components=components)
    with pytest.raises(UsageError, match="too densely"):
        diff_specs(doc, copy.deepcopy(doc))


@pytest.mark.parametrize("path", SPECS, ids=[p.parent.name for p in SPECS])
def test_vendor_spec_against_itself(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert diff_specs(doc, copy.deepcopy(doc)) == []


def test_vendor_spec_30_rewrite_against_31_original() -> None:
    original = yaml.safe_load((ROOT / "conformance/bundled/specs/andibase-unversioned/openapi.yaml").read_text())
    rewrite = yaml.safe_load((DATA / "andibase-3.0.yaml").read_text())
    assert rewrite["openapi"].startswith("3.0")
    assert diff_specs(original, rewrite) == []
    assert diff_specs(rewrite, original) == []
    # and the rewrite is not blind: one real change in it is found
    rewrite["components"]["schemas"]["Status"]["enum"].remove("archived")
    assert {(c.rule, c.location) for c in diff_specs(original, rewrite)} == {
        ("request-enum-value-removed", "request body: status"),
        ("response-enum-value-removed", "response 201: status"),
    }


def test_two_vendor_specs_differ() -> None:
    by_name = {p.parent.name.split("-")[0]: p for p in SPECS}
    text, code = run_diff(str(by_name["seekrflow"]), str(by_name["watsonx"]), "text")
    assert code == 1
    assert "security-changed" in text


# ---------------------------------------------------------------------------------------------------
# Output and the CLI entry point


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    old, new = req(field({"type": "string", "enum": ["a", "b"]}), field({"type": "string", "enum": ["a"]}))
    new["paths"]["/v1/things"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["c|d"] = S
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    return str(tmp_path / "old.yaml"), str(tmp_path / "new.json")


def test_text_output(pair: tuple[str, str]) -> None:
    text, code = run_diff(*pair, "text")
    assert code == 1
    assert text.splitlines()[1] == "1 breaking, 0 warning, 1 info"
    assert "BREAKING  POST /v1/things  request body: a" in text
    assert "request-enum-value-removed" in text


def test_json_output(pair: tuple[str, str]) -> None:
    text, _ = run_diff(*pair, "json")
    doc = json.loads(text)
    assert doc["summary"] == {"breaking": 1, "warning": 0, "info": 1}
    assert doc["old"] == pair[0]
    assert doc["changes"][0] == {
        "severity": "breaking",
        "rule": "request-enum-value-removed",
        "operation": "POST /v1/things",
        "location": "request body: a",
        "message": "field 'a': enum value \"b\" removed; clients sending it will be rejected",
    }


def test_markdown_output(pair: tuple[str, str]) -> None:
    text, _ = run_diff(*pair, "markdown")
    lines = text.splitlines()
    header = lines.index("| Severity | Operation | Location | Rule | Message |")
    assert lines[header + 1] == "|---|---|---|---|---|"
    rows = lines[header + 2 :]
    assert len(rows) == 2
    assert all(row.startswith("| ") and row.endswith(" |") for row in rows)
    assert "c\\|d" in rows[1]  # a pipe in a cell does not break the table


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_no_changes_exit_zero(fmt: str) -> None:
    path = str(SPECS[0])
    text, code = run_diff(path, path, fmt)
    assert code == 0
    assert text


def test_exit_zero_for_warnings_and_info(tmp_path: Path) -> None:
    old, new = req(obj({"a": S, "b": S}), obj({"a": S, "c": S}))
    (tmp_path / "o.json").write_text(json.dumps(old))
    (tmp_path / "n.json").write_text(json.dumps(new))
    text, code = run_diff(str(tmp_path / "o.json"), str(tmp_path / "n.json"), "text")
    assert code == 0
    assert "WARNING" in text


def test_render_empty() -> None:
    assert "No changes." in render([], "text", "a", "b")
    assert json.loads(render([], "json", "a", "b"))["changes"] == []
    assert "No changes." in render([], "markdown", "a", "b")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("a: [b", "not valid YAML or JSON"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("swagger: '2.0'\npaths: {}\n", "not OpenAPI 3.0/3.1"),
        ("openapi: 3.1.0\npaths: []\n", "'paths' must be a mapping"),
        (
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n      requestBody:\n"
            "        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Nope'}\n"
            "      responses: {'200': {description: ok}}\n",
            "Nope",
        ),
        ("openapi: 3.1.0\npaths:\n  /x:\n    post: 5\n", "not a valid OpenAPI document"),
        (
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    parameters: 5\n"
            "    post: {responses: {'200': {description: ok}}}\n",
            "not a valid OpenAPI document at",
        ),
        (
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n"
            "      responses: {'200': {description: ok}}\n      security: [{a: 1}]\n",
            "not a valid OpenAPI document",
        ),
    ],
)
def test_bad_input_is_a_usage_error(tmp_path: Path, content: str | None, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    if content is not None:
        bad.write_text(content)
    with pytest.raises(UsageError, match=message) as info:
        run_diff(str(bad), str(SPECS[0]), "text")
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError):
        run_diff(str(SPECS[0]), str(bad), "text")


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format"):
        run_diff(str(SPECS[0]), str(SPECS[0]), "html")


# ---------------------------------------------------------------------------------------------------
# Property: a random schema and a re-spelling of it never differ


NAMES = st.sampled_from(["a", "b", "c", "d"])


def _models() -> st.SearchStrategy[Json]:
    scalar = st.one_of(
        st.fixed_dictionaries(
            {"kind": st.just("string")},
            optional={
                "enum": st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, unique=True),
                "format": st.sampled_from(["uuid", "date-time"]),
                "maxLength": st.integers(1, 9),
            },
        ),
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["integer", "number"])}, optional={"minimum": st.integers(0, 9)}
        ),
        st.fixed_dictionaries({"kind": st.just("boolean")}),
    )

    def nullable(models: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
        return st.builds(lambda m, n: {**m, "nullable": n}, models, st.booleans())

    def nested(children: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
        return nullable(
            st.one_of(
                st.builds(
                    lambda props, req, closed: {
                        "kind": "object",
                        "props": props,
                        "required": sorted(set(req) & set(props)),
                        "closed": closed,
                    },
                    st.dictionaries(NAMES, children, max_size=3),
                    st.lists(NAMES, max_size=3),
                    st.booleans(),
                ),
                st.builds(lambda items: {"kind": "array", "items": items}, children),
            )
        )

    return st.recursive(nullable(scalar), nested, max_leaves=6)


def _spell(model: Json, draw: Any, components: Json, counter: list[int]) -> Json:
    """One of many equivalent JSON Schema spellings of `model`."""
    kind = model["kind"]
    body: Json = {"type": kind}
    if kind == "string":
        body.update({k: model[k] for k in ("format", "maxLength") if k in model})
    if kind in ("integer", "number") and "minimum" in model:
        body["minimum"] = model["minimum"]
    if kind == "object":
        body["properties"] = {k: _spell(v, draw, components, counter) for k, v in model["props"].items()}
        if model["required"]:
            body["required"] = draw(st.permutations(model["required"]))
        if model["closed"]:
            body["additionalProperties"] = False
        elif draw(st.booleans()):
            body["additionalProperties"] = draw(st.sampled_from([True, {}]))
    if kind == "array":
        body["items"] = _spell(model["items"], draw, components, counter)
    nullable = model.get("nullable", False)
    enum = list(model.get("enum", []))
    if draw(st.booleans()):
        body["description"] = draw(st.sampled_from(["one", "two"]))
    if draw(st.booleans()) and kind in ("object", "array"):  # move it to components, refer to it
        counter[0] += 1
        name = f"S{counter[0]}"
        components[name] = _shuffled(body, draw)
        body = {"$ref": f"#/components/schemas/{name}"}
    if enum:
        body["enum"] = draw(st.permutations(enum))
    if nullable:
        style = draw(st.sampled_from(["nullable", "type-list", "anyOf", "oneOf", "anyOf-null-first"]))
        if style == "nullable" or (style == "type-list" and "type" not in body):
            body["nullable"] = True
            if "$ref" in body:
                body = {
                    "nullable": True,
                    "allOf": [{"$ref": body["$ref"]}],
                    **{k: v for k, v in body.items() if k == "enum"},
                }
        elif style == "type-list":
            body["type"] = [kind, "null"]
        else:
            null: Json = {"type": "null"}
            members = [null, body] if style == "anyOf-null-first" else [body, null]
            body = {"oneOf" if style == "oneOf" else "anyOf": members}
        if enum and draw(st.booleans()):  # null may also be listed among the enum values
            target: list[Json] = body.get("anyOf") or body.get("oneOf") or [body]
            for member in target:
                if "enum" in member:
                    member["enum"] = [*member["enum"], None]
    return _shuffled(body, draw)


def _shuffled(schema: Json, draw: Any) -> Json:
    keys = draw(st.permutations(sorted(schema)))
    return {k: schema[k] for k in keys}


@settings(
    max_examples=150, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(model=_models(), data=st.data())
def test_respelled_schema_gives_no_finding(model: Json, data: st.DataObject) -> None:
    specs = []
    for openapi in ("3.1.0", "3.0.3"):
        components: Json = {}
        schema = _spell(model, data.draw, components, [0])
        specs.append(
            spec(body=field(schema), response=field(schema, required=True), openapi=openapi, components=components)
        )
    assert canonical(
        specs[0]["paths"]["/v1/things"]["post"]["requestBody"]["content"]["application/json"]["schema"], specs[0]
    ) == canonical(
        specs[1]["paths"]["/v1/things"]["post"]["requestBody"]["content"]["application/json"]["schema"], specs[1]
    )
    assert diff_specs(specs[0], specs[1]) == []


ID_RO: Json = {"type": "string", "readOnly": True}
SECRET_WO: Json = {"type": "string", "writeOnly": True}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A required readOnly `id` added to a schema shared by request and response: the response gains a
        # field, no client has to send it.
        (
            spec(body=NODE, response=NODE, components={"Node": obj({"name": S})}),
            spec(body=NODE, response=NODE, components={"Node": obj({"name": S, "id": ID_RO}, ("id",))}),
            {("response-required-field-added", "info")},
        ),
        # A writeOnly field dropped: clients may no longer send it; it was never returned.
        (
            spec(body=NODE, response=NODE, components={"Node": obj({"name": S, "secret": SECRET_WO})}),
            spec(body=NODE, response=NODE, components={"Node": obj({"name": S})}),
            {("request-field-removed", "warning")},
        ),
        # readOnly through a $ref'd property schema counts too.
        (
            spec(body=obj({"name": S}), components={"Id": ID_RO}),
            spec(body=obj({"name": S, "id": {"$ref": "#/components/schemas/Id"}}, ("id",)), components={"Id": ID_RO}),
            set(),
        ),
    ],
    ids=["required-readOnly-added", "writeOnly-removed", "readOnly-by-ref"],
)
def test_read_only_and_write_only_fields_belong_to_one_side(old: Json, new: Json, expected: set[Any]) -> None:
    assert findings(old, new) == expected


def test_output_into_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    paths = {f"/things/n{i}": {"post": {"responses": {"200": {"description": "ok"}}}} for i in range(3000)}
    old = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    new = {**old, "paths": {}}
    (tmp_path / "old.yaml").write_text(json.dumps(old))
    (tmp_path / "new.yaml").write_text(json.dumps(new))
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"Comparing")
    proc.stdout.close()  # like `| head -1`
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1  # the verdict stands: operations were removed
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


# --- a renamed success status (issue 16): the body moved with it and is compared across the rename --------------


def _success(code: str, schema: Json) -> Json:
    return spec(responses={code: {"description": "x", "content": {"application/json": {"schema": schema}}}})


def test_a_renamed_success_status_compares_the_bodies_across_the_rename() -> None:
    old, new = _success("200", obj({"id": S}, ("id",))), _success("201", obj({"id": INT}, ("id",)))
    changes = {(c.rule, c.location, c.severity) for c in diff_specs(old, new)}
    assert changes == {
        ("response-success-status-changed", "response 200", "breaking"),
        ("response-type-changed", "response 200 -> 201: id", "breaking"),
    }


def test_a_renamed_success_status_with_the_same_body_is_only_the_status_change() -> None:
    old, new = _success("200", obj({"id": S}, ("id",))), _success("201", obj({"id": S}, ("id",)))
    assert [c.rule for c in diff_specs(old, new)] == ["response-success-status-changed"]


def test_a_renamed_success_status_that_drops_its_body_says_so() -> None:
    old, new = _success("200", obj({"id": S})), spec(responses={"201": {"description": "x"}})
    rules = {(c.rule, c.location) for c in diff_specs(old, new)}
    assert ("response-body-removed", "response 200 -> 201") in rules


def test_the_cli_reports_both_changes_of_a_renamed_success_status(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(_success("200", obj({"id": S}, ("id",)))), encoding="utf-8")
    new.write_text(yaml.safe_dump(_success("201", obj({"id": INT}, ("id",)))), encoding="utf-8")
    text, code = run_diff(str(old), str(new), "text")
    assert code == 1
    assert "success status 200 is no longer returned" in text
    assert "response 200 -> 201: id" in text and "type string -> integer" in text
