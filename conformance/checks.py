"""Our own checks: what a schema cannot express. Each is registered with `@schemathesis.check`.

A check reads what it needs about the vendor (echoed fields, id and timestamp fields) from the
`VendorContext` attached to the case's schema, never from vendor-specific code.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import schemathesis
from schemathesis.core.failures import Failure, FailureGroup

from conformance import compat
from conformance.catalogue import SEMANTIC_CHECKS
from conformance.redact import redact_clipped
from conformance.vendors import REJECT, RETURN_EXISTING, ClientId, Profile

OUR_CHECKS = SEMANTIC_CHECKS  # the catalogue names them; each is a function of this module below
DEFAULT_SKEW = timedelta(minutes=5)


@dataclass
class VendorContext:
    """What our checks know about the vendor under test, and the run-wide state they keep."""

    profile: Profile
    skew: timedelta = DEFAULT_SKEW
    seen_ids: dict[str, str] = field(default_factory=dict)  # id value -> case id that produced it
    # Client-choosable ids the target holds, as the first 2xx that carried each: key -> (case id, body).
    created: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
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


def _documented_response(case: Any, status: int) -> Any:
    """The operation's response object for `status` (the status itself, its range `2XX`, or `default`), or None."""
    responses = case.operation.definition.raw.get("responses", {})
    if not isinstance(responses, dict):
        return None
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    return response if isinstance(response, dict) else None


def response_property_schema(case: Any, status: int, name: str) -> dict[str, Any] | None:
    """The schema of one property of the documented JSON response for `status`, refs resolved."""
    raw = case.operation.schema.raw_schema
    response = _documented_response(case, status)
    if response is None:
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


def _same_uuid(schema: dict[str, Any] | None, sent: Any, got: Any) -> bool:
    """Two spellings of one UUID in a `format: uuid` field (RFC 9562: case-insensitive on input, and servers
    answer in the canonical lower case form)."""
    if not (isinstance(schema, dict) and schema.get("format") == "uuid" and isinstance(sent, str)):
        return False
    if not isinstance(got, str):
        return False
    try:
        return uuid.UUID(sent) == uuid.UUID(got)
    except ValueError:
        return False


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
    if answered_with_existing(case, response):
        return True  # the answer is the resource an earlier request created: conflict_policy judges it
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
        if not _json_equal(sent, body[field_name]) and not _same_uuid(prop, sent, body[field_name]):
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
        if not isinstance(value, str | int) or _client_chosen(vendor, case, name, value):
            continue  # a client-chosen id repeats when the client repeats it: conflict_policy's business
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
    if answered_with_existing(case, response):
        return True  # the answer is the resource an earlier request created: conflict_policy judges it
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


# -- the vendor's error shape ----------------------------------------------------------------------

# Placeholders of a profile's error templates (the mock substitutes them): what each stands for.
_PLACEHOLDERS: dict[str, dict[str, Any]] = {"$loc": {"type": "array"}, "$message": {"type": "string"}}


def shape_schema(template: Any) -> dict[str, Any]:
    """The JSON Schema of the shape of an error template: objects with the template's keys (required,
    others allowed), arrays whose items have the shape of its first item, and the type of every other
    value (a literal string such as "value_error" stands for any string)."""
    if isinstance(template, str):
        return dict(_PLACEHOLDERS.get(template, {"type": "string"}))
    if isinstance(template, bool):
        return {"type": "boolean"}
    if isinstance(template, int | float):
        return {"type": "number"}
    if template is None:
        return {"type": "null"}
    if isinstance(template, list):
        return {"type": "array", "items": shape_schema(template[0])} if template else {"type": "array"}
    properties = {str(k): shape_schema(v) for k, v in template.items()}
    return {"type": "object", "required": sorted(properties), "properties": properties}


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """An error answer (JSON) at a status the profile declares an error body for has that body's shape.
    Stricter than the spec, which may leave the error body free (e.g. a schema with no required property)."""
    vendor = context_for(case)
    shapes = vendor.profile.error_shapes.get(response.status_code) if vendor is not None else None
    if not shapes:
        return True
    got = response.headers.get("content-type", [""])
    media = (got[0] if isinstance(got, list) else got).split(";")[0].strip().lower()
    if not (media == "application/json" or media.endswith("+json")):
        return True  # not a JSON error: content_type_conformance's business
    body = _json(response)
    schema = {"anyOf": [shape_schema(s) for s in shapes]}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(body))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(the body)"
    expected = " or ".join(_short(s, 150) for s in shapes)
    raise _fail(
        case,
        "Error body not in the vendor's declared shape",
        f"A {response.status_code} answer's body is {_short(body)}; the profile declares {expected}"
        f" ({where}: {error.message[:200]}). Stricter than the spec: turn off with --skip-check error_shape.",
        "body",
    )


# -- client-chosen ids ------------------------------------------------------------------------


def _id_key(case: Any, rule: ClientId, value: Any) -> str | None:
    """The identity of an id value: a `format: uuid` field's value by its UUID (RFC 9562: case-insensitive)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    request = _request_schema(case)
    props = request.get("properties", {}) if isinstance(request, dict) else {}
    prop = _resolve(props.get(rule.name, {}), case.operation.schema.raw_schema)
    if isinstance(value, str) and isinstance(prop, dict) and prop.get("format") == "uuid":
        with contextlib.suppress(ValueError):
            value = str(uuid.UUID(value))
    return f"{rule.response}={value!r}"


def observe(case: Any, response: Any) -> None:
    """Remember the resource a 2xx carries under each client-choosable id field (called for every response).

    A 2xx whose body does not carry the id (e.g. a created-with-problems message) still means the target
    now holds the id the request chose: it is remembered without a body to compare a later answer with.
    """
    vendor = context_for(case)
    if vendor is None or not 200 <= response.status_code < 300:
        return
    body = _success_body(case, response)
    sent = case.body if isinstance(case.body, dict) else {}
    for rule in vendor.profile.client_ids:
        key = _id_key(case, rule, body.get(rule.response)) if body is not None else None
        kept = body
        if key is None and rule.name in sent:
            key, kept = _id_key(case, rule, sent[rule.name]), None
        if key is not None:
            with vendor.lock:
                vendor.created.setdefault(key, (case.id, kept))


def _repeat(vendor: VendorContext, case: Any, rule: ClientId) -> tuple[Any, dict[str, Any] | None] | None:
    """(id, first body) when the case sends, in `rule`'s field, an id an earlier request of the run created."""
    sent = case.body
    if not isinstance(sent, dict) or rule.name not in sent:
        return None
    key = _id_key(case, rule, sent[rule.name])
    with vendor.lock:
        entry = vendor.created.get(key) if key is not None else None
    if entry is None or entry[0] == case.id:
        return None
    return sent[rule.name], entry[1]


def _client_chosen(vendor: VendorContext, case: Any, name: str, value: Any) -> bool:
    sent = case.body if isinstance(case.body, dict) else {}
    for rule in vendor.profile.client_ids:
        if (
            rule.response == name
            and rule.name in sent
            and _id_key(case, rule, sent[rule.name]) == _id_key(case, rule, value)
        ):
            return True
    return False


def expected_conflict(case: Any, response: Any) -> bool:
    """Whether `response` is the vendor's documented conflict answer to an id this run already created,
    under a policy that rejects repeats: the right answer, not a rejected valid request."""
    vendor = context_for(case)
    if vendor is None:
        return False
    return any(
        response.status_code == rule.conflict_status
        and rule.behaviour(case.body) == REJECT
        and _repeat(vendor, case, rule) is not None
        for rule in vendor.profile.client_ids
    )


def answered_with_existing(case: Any, response: Any) -> bool:
    """Whether a 2xx answers a repeated id under a return-existing policy (so it echoes an earlier request)."""
    vendor = context_for(case)
    if vendor is None or not 200 <= response.status_code < 300:
        return False
    return any(
        rule.behaviour(case.body) == RETURN_EXISTING and _repeat(vendor, case, rule) is not None
        for rule in vendor.profile.client_ids
    )


def _policy(rule: ClientId, case: Any) -> str:
    sent = case.body if isinstance(case.body, dict) else {}
    if rule.policy_field is not None and rule.policy_field in sent:
        return f"`{rule.policy_field}` {_short(sent[rule.policy_field])}"
    return f"the default policy ({rule.on_conflict})"


@schemathesis.check
def conflict_policy(ctx: Any, response: Any, case: Any) -> bool | None:
    """A repeated client-chosen id gets what the vendor's policy says: its documented conflict status under
    reject, the existing resource (a 2xx, no duplicate) under return-existing."""
    vendor = context_for(case)
    if vendor is None or not vendor.profile.client_ids or _negative(case):
        return True
    status = response.status_code
    judged = False
    for rule in vendor.profile.client_ids:
        repeat = _repeat(vendor, case, rule)
        behaviour = rule.behaviour(case.body)
        if repeat is None or behaviour is None:
            continue
        value, first = repeat
        what = f"`{rule.name}` {_short(value)} was created earlier in this run, and under {_policy(rule, case)}"
        if behaviour == REJECT:
            if 200 <= status < 300:
                raise _fail(
                    case,
                    "Repeated client-chosen id answered 2xx, not the documented conflict",
                    f"{what} a repeat is answered {rule.conflict_status} and creates nothing; "
                    f"the response is {status}, a second resource with the same id",
                    f"{rule.name}:duplicate",
                )
            judged = judged or status == rule.conflict_status
        elif behaviour == RETURN_EXISTING:
            if status == rule.conflict_status:
                raise _fail(
                    case,
                    "Repeated client-chosen id rejected although the policy returns the existing resource",
                    f"{what} the existing resource comes back with a 2xx; the response is {status}",
                    f"{rule.name}:rejected",
                )
            body = _success_body(case, response)
            # Nothing to compare: no body of the first create, or an answer whose status the operation does not
            # document (status_code_conformance's failure), so that what its body holds is not the resource. (The
            # LangGraph server answers a repeat that also carries `supersteps` 201, with an error message.)
            if body is None or first is None or _documented_response(case, status) is None:
                judged = judged or 200 <= status < 300
                continue
            judged = True
            changed = [
                f"`{name}`: first {_short(first.get(name))}, now {_short(body.get(name))}"
                for name in rule.existing_fields
                if not _json_equal(first.get(name), body.get(name))
            ]
            if changed:
                raise _fail(
                    case,
                    "Repeated client-chosen id did not return the existing resource",
                    f"{what} the existing resource comes back unchanged; it did not:\n" + "\n".join(changed),
                    f"{rule.name}:changed",
                )
    return None if judged else True


def conflict_probe_bodies(case: Any, profile: Profile, seed: int) -> list[dict[str, Any]]:
    """Request bodies that exercise each client-chosen id's conflict rules, derived from `seed`: a create
    with a fresh id, its repeat without a policy, then one repeat per policy value. Each body also carries
    fresh values in the echoed fields the existing resource keeps, so a resource created anew shows."""
    raw = case.operation.schema.raw_schema
    request = _resolve(_request_schema(case), raw)
    props = request.get("properties", {}) if isinstance(request, dict) else {}
    bodies: list[dict[str, Any]] = []
    for index, rule in enumerate(profile.client_ids):
        prop = props.get(rule.name, {})
        digest = uuid.uuid5(uuid.NAMESPACE_URL, f"thread-conformance:{seed}:{index}:{rule.name}")
        value: Any = str(digest)
        if not (isinstance(prop, dict) and _valid(value, prop)):
            value = f"conformance-{digest.hex[:12]}"
        policies: list[dict[str, Any]] = [{}, {}]
        if rule.policy_field is not None:
            policies += [{rule.policy_field: name} for name in rule.policies]
        for attempt, policy in enumerate(policies):
            body: dict[str, Any] = {rule.name: value, **policy}
            for response_field in rule.existing_fields:
                location = profile.echo.get(response_field, "")
                where, _, name = location.partition(".")
                if where == "body" and name != rule.name and name in props:
                    probe = _probe_value(props[name], attempt, seed)
                    if probe is not None:
                        body[name] = probe
            bodies.append(body)
    return bodies


def _probe_value(schema: Any, attempt: int, seed: int) -> Any:
    """A value valid under `schema` that differs per attempt, or None."""
    for candidate in ({"conformance_probe": f"{seed}-{attempt}"}, f"conformance-probe-{seed}-{attempt}", attempt):
        if isinstance(schema, dict) and _valid(candidate, schema):
            return candidate
    return None
