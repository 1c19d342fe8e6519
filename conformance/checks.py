"""Our own checks: what a schema cannot express. Each is registered with `@schemathesis.check`.

A check reads what it needs about the vendor (echoed fields, id and timestamp fields) from the
`VendorContext` attached to the case's schema, never from vendor-specific code.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import schemathesis
from schemathesis.core.failures import Failure, FailureGroup

from conformance import compat
from conformance.catalogue import SEMANTIC_CHECKS
from conformance.redact import redact_clipped
from conformance.vendors import Profile

OUR_CHECKS = SEMANTIC_CHECKS  # the catalogue names them; each is a function of this module below
DEFAULT_SKEW = timedelta(minutes=5)


@dataclass
class VendorContext:
    """What our checks know about the vendor under test, and the run-wide state they keep."""

    profile: Profile
    skew: timedelta = DEFAULT_SKEW
    seen_ids: dict[str, str] = field(default_factory=dict)  # id value -> case id that produced it
    lock: threading.Lock = field(default_factory=threading.Lock)


# Keyed by id(): Schemathesis schemas are unhashable; the runner that attaches one keeps it alive.
_CONTEXTS: dict[int, VendorContext] = {}


def attach(schema: Any, context: VendorContext) -> None:
    _CONTEXTS[id(schema)] = context


def detach(schema: Any) -> None:
    _CONTEXTS.pop(id(schema), None)


def context_for(case: Any) -> VendorContext | None:
    return _CONTEXTS.get(id(case.operation.schema))


# Cases the engine sent to a path resource that cannot exist, by case id (Case has __slots__).
_MISSING_RESOURCES: dict[str, str] = {}


def mark_missing_resource(case: Any, description: str) -> None:
    _MISSING_RESOURCES[case.id] = description


class SemanticFailure(Failure):
    """A response that has the right shape but the wrong meaning; `key` names what it is about (a field,
    and a kind where one field can fail in two ways), never a value: it is part of the failure's id."""

    code = "TC901"
    kind_title = "Semantic check failed"

    __slots__ = ("key",)

    def __init__(self, *, operation: str, title: str, message: str, key: str) -> None:
        super().__init__(operation=operation, title=title, message=message)
        self.key = key

    _unique_key = compat.unique_key_property("key")


def _fail(case: Any, title: str, message: str, key: str) -> SemanticFailure:
    return SemanticFailure(operation=case.operation.label, title=title, message=message, key=key)


def _fail_each(case: Any, title: str, problems: list[tuple[str, str]]) -> BaseException:
    """One failure per (key, message): two fields that break are two failures, each with its own id."""
    failures = [_fail(case, title, message, key) for key, message in problems]
    return failures[0] if len(failures) == 1 else FailureGroup(failures)


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _success_body(ctx_case: Any, response: Any) -> dict[str, Any] | None:
    if not 200 <= response.status_code < 300:
        return None
    body = _json(response)
    return body if isinstance(body, dict) else None


def _resolve(schema: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """Inline local `$ref`s (enough for response property schemas)."""
    if depth > 32:
        return schema
    if isinstance(schema, dict):
        if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/"):
            target: Any = root
            for part in schema["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return _resolve({**target, **rest}, root, depth + 1)
        return {k: _resolve(v, root, depth + 1) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v, root, depth + 1) for v in schema]
    return schema


def response_property_schema(case: Any, status: int, name: str) -> dict[str, Any] | None:
    """The schema of one property of the documented JSON response for `status`, refs resolved."""
    raw = case.operation.schema.raw_schema
    definition = case.operation.definition.raw
    responses = definition.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if not isinstance(response, dict):
        return None
    content = _resolve(response, raw).get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    if not isinstance(media, dict):
        return None
    schema = media.get("schema", {})
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    prop = props.get(name)
    return prop if isinstance(prop, dict) else None


def _sent(case: Any, location: str) -> tuple[bool, Any]:
    """(present, value) of the request location 'body.<field>' or 'path.<name>'."""
    where, _, name = location.partition(".")
    if where == "path":
        params = case.path_parameters or {}
        return (name in params, params.get(name))
    body = case.body
    if isinstance(body, dict) and name in body:
        return True, body[name]
    return False, None


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON: types matter (1 != 1.0 != True), floats compare bit for bit, -0.0 != 0.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, float) and isinstance(b, float) and repr(a) == repr(b)
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _valid(value: Any, schema: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return redact_clipped(text, limit, f"... ({len(text)} chars)")


@schemathesis.check
def round_trip(ctx: Any, response: Any, case: Any) -> bool | None:
    """Echoed fields come back exactly as sent, when what was sent is valid for the response field."""
    vendor = context_for(case)
    body = _success_body(case, response)
    if vendor is None or body is None or not vendor.profile.echo or _negative(case):
        return True
    mismatches = []
    compared = 0
    for field_name, location in vendor.profile.echo.items():
        present, sent = _sent(case, location)
        if not present or field_name not in body:
            continue  # absence is defaults_applied's and response_schema_conformance's business
        prop = response_property_schema(case, response.status_code, field_name)
        if prop is not None and not _valid(sent, prop):
            continue  # not representable in the response field: the value only has to validate
        compared += 1
        if not _json_equal(sent, body[field_name]):
            mismatches.append((field_name, f"`{field_name}`: sent {_short(sent)}, got back {_short(body[field_name])}"))
    if mismatches:
        raise _fail_each(
            case,
            "Echoed field does not round-trip",
            [(key, "The response does not echo what was sent:\n" + text) for key, text in mismatches],
        )
    return None if compared else True  # True: nothing to judge in this case (not counted as a pass)


@schemathesis.check
def unique_ids(ctx: Any, response: Any, case: Any) -> bool | None:
    """Id fields of successful creates never repeat within a run."""
    vendor = context_for(case)
    body = _success_body(case, response)
    if vendor is None or body is None or not vendor.profile.id_fields:
        return True
    judged = False
    for name in vendor.profile.id_fields:
        value = body.get(name)
        if not isinstance(value, str | int):
            continue
        judged = True
        key = f"{name}={value!r}"
        with vendor.lock:
            first = vendor.seen_ids.get(key)
            if first is None:
                vendor.seen_ids[key] = case.id
                continue
        if first != case.id:
            raise _fail(
                case,
                "Id repeated across creates",
                f"`{name}` {_short(value)} was already returned for an earlier create in this run",
                name,
            )
    return None if judged else True


# RFC 3339 section 5.6 `date-time`, exactly: seconds required, "." fraction, "Z" or a +hh:mm offset.
# `datetime.fromisoformat` alone also takes ISO 8601 forms RFC 3339 excludes (no seconds, "+0000",
# week dates, "," fractions), so the grammar is checked first.
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def parse_rfc3339(value: str) -> datetime | None:
    """A timezone-aware datetime for an RFC 3339 date-time, else None (a leap second counts as :59)."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    text = value[:17] + ("59" if match.group(6) == "60" else match.group(6)) + value[19:]
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13, or an offset hour beyond 23
        return None


@schemathesis.check
def timestamps(ctx: Any, response: Any, case: Any) -> bool | None:
    """Timestamp fields parse as RFC 3339 and lie within the allowed skew of the client's clock."""
    vendor = context_for(case)
    body = _success_body(case, response)
    if vendor is None or body is None or not vendor.profile.timestamp_fields:
        return True
    now = datetime.now(UTC)
    problems = []
    judged = False
    for name in vendor.profile.timestamp_fields:
        if name not in body or body[name] is None:
            continue  # required/nullable is the schema's business
        judged = True
        parsed = parse_rfc3339(body[name])
        if parsed is None:
            problems.append((f"{name}:format", f"`{name}` {_short(body[name])} is not an RFC 3339 date-time"))
        elif abs(parsed - now) > vendor.skew:
            problems.append(
                (
                    f"{name}:skew",
                    f"`{name}` {body[name]} is more than {vendor.skew} away from the client clock "
                    f"({now:%Y-%m-%dT%H:%M:%SZ})",
                )
            )
    if problems:
        raise _fail_each(case, "Timestamp invalid or out of range", problems)
    return None if judged else True


@schemathesis.check
def defaults_applied(ctx: Any, response: Any, case: Any) -> bool | None:
    """An omitted optional request field with a spec default is echoed back as that default."""
    vendor = context_for(case)
    body = _success_body(case, response)
    if vendor is None or body is None or not vendor.profile.echo or _negative(case):
        return True
    request_schema = _request_schema(case)
    props = request_schema.get("properties", {}) if isinstance(request_schema, dict) else {}
    problems = []
    judged = False
    for field_name, location in vendor.profile.echo.items():
        where, _, name = location.partition(".")
        if where != "body" or name not in props or "default" not in props[name]:
            continue
        present, _ = _sent(case, location)
        if present or not isinstance(case.body, dict) or field_name not in body:
            continue
        judged = True
        default = props[name]["default"]
        if not _json_equal(default, body[field_name]):
            problems.append(
                (
                    field_name,
                    f"`{field_name}` omitted: expected the default {_short(default)}, got {_short(body[field_name])}",
                )
            )
    if problems:
        raise _fail_each(case, "Default not applied", problems)
    return None if judged else True


def _request_schema(case: Any) -> Any:
    raw = case.operation.schema.raw_schema
    body = _resolve(case.operation.definition.raw.get("requestBody", {}), raw)
    content = body.get("content", {}) if isinstance(body, dict) else {}
    media: Any = content.get("application/json") or next(iter(content.values()), {})
    return media.get("schema", {}) if isinstance(media, dict) else {}


def _negative(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return bool(meta is not None and meta.generation.mode.value == "negative")


@schemathesis.check
def unknown_resource(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request to a path resource that cannot exist gets the documented 404, with its content type and body."""
    missing = _MISSING_RESOURCES.get(case.id)
    if not missing:
        return True
    documented = case.operation.definition.raw.get("responses", {})
    if response.status_code != 404:
        raise _fail(
            case,
            "Unknown resource not answered with 404",
            f"{missing} names no existing resource, but the response status is {response.status_code}",
            "status",
        )
    if "404" not in documented:
        return None
    schema = _resolve(documented["404"], case.operation.schema.raw_schema).get("content", {})
    media_type = next(iter(schema), None)
    if media_type is None:
        return None
    got = response.headers.get("content-type", [""])
    got_type = (got[0] if isinstance(got, list) else got).split(";")[0].strip().lower()
    if got_type != media_type.lower():
        raise _fail(
            case,
            "Unknown resource 404 has the wrong content type",
            f"expected {media_type}, got {got_type or 'none'}",
            "content-type",
        )
    body_schema = schema[media_type].get("schema")
    if body_schema is not None:
        body = _json(response)
        errors = list(jsonschema.Draft202012Validator(body_schema).iter_errors(body))
        if errors:
            raise _fail(case, "Unknown resource 404 body does not match its schema", errors[0].message, "body")
    return None
