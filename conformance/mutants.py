"""The defect zoo: named, realistic deviations that the reference mock can be told to make.

Each mutant is ONE deviation, made of small hooks that the mock calls at fixed points:

- `on_auth(call, failure)`: after authentication; `failure` is None (accepted) or the profile's error
  kind (`auth_error`, `invalid_auth_error`); return the failure to answer with, or None to serve.
- `on_problems(call, problems)`: after body validation; return the problems that still count
  (drop some to accept invalid data).
- `on_valid(call)`: once the request is judged valid; return a Reply to answer with instead of the
  documented success (a crash, a wrongful rejection), or None.
- `on_reply(call, reply)`: on every reply to a documented operation; return the reply to send.

`vendors` lists the vendor keys the mutant is meant for (it is applied to those only), and
`expected_checks` the checks that must fail against it: Schemathesis built-ins or ours
(`round_trip`, `unique_ids`, `timestamps`, `defaults_applied`, `conflict_policy`).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import jsonschema

from conformance import catalogue
from conformance.errors import UsageError
from conformance.vendors import REJECT, RETURN_EXISTING

if TYPE_CHECKING:
    from conformance.mock import Call, Problem, Reply

    AuthHook = Callable[[Call, str | None], str | None]
    ProblemsHook = Callable[[Call, list[Problem]], list[Problem]]
    ValidHook = Callable[[Call], Reply | None]
    ReplyHook = Callable[[Call, Reply], Reply]

BUILTIN_CHECKS = frozenset(catalogue.BUILTIN_CHECKS)
OUR_CHECKS = frozenset(catalogue.SEMANTIC_CHECKS)
KNOWN_CHECKS = frozenset(catalogue.ALL_CHECKS)


@dataclass(frozen=True)
class Mutant:
    """A named deviation of the mock, the vendors it applies to, and the checks that must catch it."""

    name: str
    vendors: tuple[str, ...]
    description: str
    expected_checks: tuple[str, ...]
    on_auth: AuthHook | None = None
    on_problems: ProblemsHook | None = None
    on_valid: ValidHook | None = None
    on_reply: ReplyHook | None = None


# -- helpers -------------------------------------------------------------------------------------


def _walk(value: Any) -> Iterator[tuple[int, str | None, Any, bool]]:
    """Every JSON value inside `value`: (object depth, key if it is an object member, value, parent is an object).

    Depth counts the objects around a value: a top-level body field is at depth 1.
    """
    stack: list[tuple[int, str | None, Any, bool]] = [(0, None, value, False)]
    while stack:
        depth, key, item, in_object = stack.pop()
        yield depth, key, item, in_object
        if isinstance(item, dict):
            stack.extend((depth + 1, k, v, True) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((depth, None, v, False) for v in item)


def _object_depth(value: Any) -> int:
    """Depth of the deepest object inside a body: the object value of a body field is at depth 1."""
    return max((depth for depth, _, item, _ in _walk(value) if isinstance(item, dict)), default=0)


def _fails_only_on(error: jsonschema.ValidationError, keyword: str) -> bool:
    """Whether `error` would vanish if `keyword` were not enforced (looking into anyOf/oneOf branches)."""
    if error.validator == keyword:
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[jsonschema.ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return any(all(_fails_only_on(sub, keyword) for sub in subs) for subs in branches.values())
    return False


def _ignoring(keyword: str) -> ProblemsHook:
    def hook(call: Call, problems: list[Problem]) -> list[Problem]:
        return [p for p in problems if p.error is None or not _fails_only_on(p.error, keyword)]

    return hook


def _accept_null(call: Call, problems: list[Problem]) -> list[Problem]:
    # A field-level null is taken to mean "not given", whatever the field's type.
    return [p for p in problems if p.error is None or len(p.loc) < 2 or p.error.instance is not None]


def _on_success(change: Callable[[Call, dict[str, Any]], None]) -> ReplyHook:
    """A reply hook that edits the JSON object body of a 2xx reply in place."""

    def hook(call: Call, reply: Reply) -> Reply:
        if 200 <= reply.status < 300 and isinstance(reply.body, dict):
            change(call, reply.body)
        return reply

    return hook


def _echoed_body_fields(call: Call) -> Iterator[tuple[str, str]]:
    """(response field, request body field) for every field the profile says is echoed from the body."""
    for response_field, location in call.profile.echo.items():
        where, _, name = location.partition(".")
        if where == "body":
            yield response_field, name


def _crash_when(condition: Callable[[Any], bool]) -> ValidHook:
    def hook(call: Call) -> Reply | None:
        return call.server_error() if condition(call.body) else None

    return hook


def _shift_timestamps(render: Callable[[datetime], str]) -> Callable[[Call, dict[str, Any]], None]:
    def change(call: Call, body: dict[str, Any]) -> None:
        for name in call.profile.timestamp_fields:
            if isinstance(body.get(name), str):
                body[name] = render(datetime.fromisoformat(body[name]))

    return change


# -- the deviations ------------------------------------------------------------------------------


def _id_not_a_string() -> Callable[[Call, dict[str, Any]], None]:
    counter = itertools.count(1)

    def change(call: Call, body: dict[str, Any]) -> None:
        for name in call.profile.id_fields:
            if name in body:
                body[name] = next(counter)  # still unique: only the type is wrong

    return change


def _drop_field(name: str) -> Callable[[Call, dict[str, Any]], None]:
    def change(call: Call, body: dict[str, Any]) -> None:
        body.pop(name, None)

    return change


def _defaulted_enums(call: Call) -> Iterator[tuple[str, Any, list[Any]]]:
    """(name, default, enum) of every non-echoed response property that has both a spec default and an enum."""
    vendor = call.vendor
    for name, pointer in vendor.response_properties(call.operation).items():
        prop, resolved = vendor.node(pointer), vendor.resolve(pointer)[0]
        enum = resolved.get("enum") if isinstance(resolved, dict) else None
        if enum and isinstance(prop, dict) and "default" in prop and name not in call.profile.echo:
            yield name, prop["default"], enum


def _outside_enum(value: str) -> Callable[[Call, dict[str, Any]], None]:
    def change(call: Call, body: dict[str, Any]) -> None:
        for name, _, _ in _defaulted_enums(call):
            if name in body:
                body[name] = value

    return change


def _default_not_applied(call: Call, body: dict[str, Any]) -> None:
    """An omitted request field that has a spec default is echoed as an empty string, not as the default."""
    request_body = call.body if isinstance(call.body, dict) else {}
    defaulted = call.vendor.request_with_defaults(call)
    for field_name, location in call.profile.echo.items():
        where, _, name = location.partition(".")
        if where == "body" and name not in request_body and name in defaulted and field_name in body:
            body[field_name] = ""


def _swap_success_status(call: Call, reply: Reply) -> Reply:
    if 200 <= reply.status < 300:
        return replace(reply, status=200 if reply.status == 201 else 201)
    return reply


def _text_plain(call: Call, reply: Reply) -> Reply:
    if 200 <= reply.status < 300:
        text = json.dumps(reply.body, ensure_ascii=True).encode("ascii")
        return replace(reply, raw=text, media_type="text/plain")
    return reply


def _reject_nested_object(call: Call) -> Reply | None:
    if isinstance(call.body, dict):
        for name, value in call.body.items():
            if isinstance(value, dict) and value:
                return call.validation_error("nested objects are not supported", ("body", name))
    return None


def _reject_long_title(call: Call) -> Reply | None:
    title = call.body.get("title") if isinstance(call.body, dict) else None
    if isinstance(title, str) and len(title) > 32:
        return call.validation_error("title is too long", ("body", "title"))
    return None


def _error_detail_string(call: Call, reply: Reply) -> Reply:
    template = call.profile.mock.get("validation_error", {})
    if reply.status == template.get("status", 422):
        return replace(reply, body={"detail": "Invalid request"})
    return reply


def _error_other_shape(call: Call, reply: Reply) -> Reply:
    # A framework's own validation answer replaced by a home-made one: a JSON object the spec may well allow.
    template = call.profile.mock.get("validation_error", {})
    if reply.status == template.get("status", 422):
        return replace(reply, body={"message": "Invalid request"})
    return reply


def _auth_not_enforced(call: Call, failure: str | None) -> str | None:
    return None


def _has_empty_string(body: Any) -> bool:
    return any(item == "" for _, _, item, _ in _walk(body))


def _too_deep(body: Any) -> bool:
    return _object_depth(body) > 4  # a field's own object is at depth 1, an object inside it at 2, ...


def _has_non_ascii_key(body: Any) -> bool:
    return any(key is not None and not key.isascii() for _, key, _, _ in _walk(body))


def _has_list_in_object(body: Any) -> bool:
    # The body's own fields are at depth 1; a list that is a member of an object inside a field.
    return any(depth >= 2 and in_object and isinstance(item, list) for depth, _, item, in_object in _walk(body))


def _has_long_string(body: Any) -> bool:
    return any(
        (isinstance(item, str) and len(item) > 1000) or (key is not None and len(key) > 1000)
        for _, key, item, _ in _walk(body)
    )


def _drop_nested_values(call: Call, body: dict[str, Any]) -> None:
    for response_field, _ in _echoed_body_fields(call):
        value = body.get(response_field)
        if isinstance(value, dict):
            body[response_field] = {k: v for k, v in value.items() if not isinstance(v, dict | list)}


def _truncate(value: Any) -> Any:
    if isinstance(value, float):
        return int(value)
    if isinstance(value, dict):
        return {k: _truncate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_truncate(v) for v in value]
    return value


def _truncate_floats(call: Call, body: dict[str, Any]) -> None:
    for response_field, _ in _echoed_body_fields(call):
        if response_field in body:
            body[response_field] = _truncate(body[response_field])


def _same_id(call: Call, body: dict[str, Any]) -> None:
    for name in call.profile.id_fields:
        if name in body:
            body[name] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"thread-conformance:{call.profile.key}:{name}"))


def _null_to_empty_object(call: Call, body: dict[str, Any]) -> None:
    pointers = call.vendor.response_properties(call.operation)
    for response_field, request_field in _echoed_body_fields(call):
        sent = call.body.get(request_field, "absent") if isinstance(call.body, dict) else "absent"
        if (
            sent is None
            and body.get(response_field) is None
            and response_field in pointers
            and call.vendor.validator(pointers[response_field]).is_valid({})
        ):
            body[response_field] = {}


def _ignore_field(name: str) -> Callable[[Call, dict[str, Any]], None]:
    def change(call: Call, body: dict[str, Any]) -> None:
        if name in body:
            body[name] = None

    return change


def _not_rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")  # no "T", no offset


def _hour_ahead(moment: datetime) -> str:
    return (moment + timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _leak_headers(call: Call, body: dict[str, Any]) -> None:
    # A "debug" feature: the request headers (credentials included) merged into the echoed metadata.
    pointers = call.vendor.response_properties(call.operation)
    for response_field, _ in _echoed_body_fields(call):
        value = body.get(response_field, "absent")
        if isinstance(value, dict) or (
            value is None
            and response_field in pointers
            and call.vendor.validator(pointers[response_field]).is_valid({})
        ):
            body[response_field] = {**(value or {}), "request_headers": dict(call.headers)}
            return


def _as_integer(name: str) -> Callable[[Call, dict[str, Any]], None]:
    def change(call: Call, body: dict[str, Any]) -> None:
        if name in body:
            body[name] = 1

    return change


def _all_of(*changes: Callable[[Call, dict[str, Any]], None]) -> Callable[[Call, dict[str, Any]], None]:
    def change(call: Call, body: dict[str, Any]) -> None:
        for one in changes:
            one(call, body)

    return change


def _create_anew_when(behaviour: str) -> ValidHook:
    """A repeated client-chosen id whose policy is `behaviour` creates a new resource under the same id."""

    def hook(call: Call) -> Reply | None:
        found = call.vendor.existing_resource(call)
        if found is not None and found[0].behaviour(call.body) == behaviour:
            return call.vendor.create(call)
        return None

    return hook


def _mutants() -> list[Mutant]:
    return [
        # Structural deviations: caught by Schemathesis's built-in checks.
        Mutant(
            "id-not-a-string",
            ("seekrflow", "andibase"),
            "Id fields come back as integers (still unique) where the spec says string.",
            ("response_schema_conformance",),
            on_reply=_on_success(_id_not_a_string()),
        ),
        Mutant(
            "required-field-missing",
            ("andibase",),
            "The required (nullable) lastMessageAt field is left out of the created thread.",
            ("response_schema_conformance",),
            on_reply=_on_success(_drop_field("lastMessageAt")),
        ),
        Mutant(
            "status-outside-enum",
            ("seekrflow",),
            'A new thread\'s status is "deleted", a value outside the ThreadStatus enum.',
            ("response_schema_conformance",),
            on_reply=_on_success(_outside_enum("deleted")),
        ),
        Mutant(
            "success-status-swapped",
            ("seekrflow", "watsonx", "andibase", "langgraph"),
            "Success is answered 201 where the spec says 200, and 200 where it says 201.",
            ("status_code_conformance",),
            on_reply=_swap_success_status,
        ),
        Mutant(
            "content-type-text-plain",
            ("watsonx",),
            "The success body is JSON text sent as text/plain.",
            ("content_type_conformance",),
            on_reply=_text_plain,
        ),
        Mutant(
            "rejects-nested-object",
            ("seekrflow", "watsonx", "langgraph"),
            "A valid request whose metadata/context object is not empty is refused with the validation error.",
            ("positive_data_acceptance",),
            on_valid=_reject_nested_object,
        ),
        Mutant(
            "rejects-long-title",
            ("watsonx",),
            "A valid request whose title is longer than 32 characters is refused (a limit the spec does not state).",
            ("positive_data_acceptance",),
            on_valid=_reject_long_title,
        ),
        Mutant(
            "accepts-unknown-enum",
            ("andibase",),
            "Enum values are not enforced: an unknown status is accepted (and answered as the default).",
            ("negative_data_rejection",),
            on_problems=_ignoring("enum"),
        ),
        Mutant(
            "accepts-non-uuid",
            ("watsonx",),
            "format: uuid is not enforced: a non-UUID assistant_id/agent_id is accepted.",
            ("negative_data_rejection",),
            on_problems=_ignoring("format"),
        ),
        Mutant(
            "accepts-null",
            ("andibase",),
            "null is accepted for any field, as if it were absent (e.g. status null).",
            ("negative_data_rejection",),
            on_problems=_accept_null,
        ),
        Mutant(
            "error-detail-string",
            ("seekrflow", "andibase"),
            'Validation errors come back as {"detail": "Invalid request"}, not in the documented error shape.',
            ("response_schema_conformance", "error_shape"),
            on_reply=_error_detail_string,
        ),
        Mutant(
            "error-body-other-shape",
            ("seekrflow", "watsonx"),
            'Validation errors come back as {"message": "Invalid request"}: valid against a spec that leaves the'
            " error body free, not the shape the vendor's framework sends.",
            ("error_shape",),
            on_reply=_error_other_shape,
        ),
        Mutant(
            "auth-not-enforced",
            ("seekrflow", "watsonx", "andibase"),
            "Requests without a credential, or with a wrong one, are served.",
            ("ignored_auth",),
            on_auth=_auth_not_enforced,
        ),
        Mutant(
            "crash-on-empty-string",
            ("watsonx",),
            'A 500 (undocumented) when any string in a valid body is empty, e.g. title "".',
            ("not_a_server_error", "status_code_conformance"),
            on_valid=_crash_when(_has_empty_string),
        ),
        # Crashes on awkward but valid input: a 500, in the vendor's documented 500 shape when it has one.
        Mutant(
            "crash-deep-nesting",
            ("andibase",),
            "A 500 when an object in the body is nested more than 4 levels deep inside a field.",
            ("not_a_server_error",),
            on_valid=_crash_when(_too_deep),
        ),
        Mutant(
            "crash-non-ascii-key",
            ("seekrflow",),
            "A 500 (undocumented, text/plain) when an object key is not ASCII.",
            ("not_a_server_error", "status_code_conformance"),
            on_valid=_crash_when(_has_non_ascii_key),
        ),
        Mutant(
            "crash-list-in-object",
            ("andibase",),
            "A 500 when an object inside the body holds a list.",
            ("not_a_server_error",),
            on_valid=_crash_when(_has_list_in_object),
        ),
        Mutant(
            "crash-long-string",
            ("watsonx",),
            "A 500 (undocumented, text/plain) when a string in the body is longer than 1000 characters.",
            ("not_a_server_error", "status_code_conformance"),
            on_valid=_crash_when(_has_long_string),
        ),
        # Semantic deviations: schema-valid answers that only one of our checks can catch.
        Mutant(
            "drops-nested-values",
            ("seekrflow", "andibase", "langgraph"),
            "Nested objects and lists inside echoed metadata are silently dropped.",
            ("round_trip",),
            on_reply=_on_success(_drop_nested_values),
        ),
        Mutant(
            "truncates-floats",
            ("seekrflow", "andibase", "langgraph"),
            "Floats inside echoed metadata come back truncated to integers.",
            ("round_trip",),
            on_reply=_on_success(_truncate_floats),
        ),
        Mutant(
            "same-id",
            ("seekrflow", "andibase"),
            "Every created thread gets the same id.",
            ("unique_ids",),
            on_reply=_on_success(_same_id),
        ),
        Mutant(
            "null-becomes-empty-object",
            ("andibase",),
            "metadata sent as null comes back as {} although the response allows null.",
            ("round_trip",),
            on_reply=_on_success(_null_to_empty_object),
        ),
        Mutant(
            "external-id-ignored",
            ("andibase",),
            "externalId is silently ignored: always null in the created thread.",
            ("round_trip",),
            on_reply=_on_success(_ignore_field("externalId")),
        ),
        Mutant(
            "timestamps-hour-ahead",
            ("seekrflow", "andibase", "langgraph"),
            "Timestamps are one hour in the future (a time zone applied twice).",
            ("timestamps",),
            on_reply=_on_success(_shift_timestamps(_hour_ahead)),
        ),
        Mutant(
            "timestamps-not-rfc3339",
            ("andibase",),
            'Timestamps are "2026-11-25 06:29:29": no "T", no offset (the spec types them as plain strings).',
            ("timestamps",),
            on_reply=_on_success(_shift_timestamps(_not_rfc3339)),
        ),
        Mutant(
            "default-not-applied",
            ("watsonx",),
            'An omitted title comes back as "", not as the spec\'s default "Untitled".',
            ("defaults_applied",),
            on_reply=_on_success(_default_not_applied),
        ),
        Mutant(
            "conflict-creates-duplicate",
            ("langgraph",),
            "A repeated thread_id under if_exists raise (the default) is answered 200 with a second thread, not 409.",
            ("conflict_policy",),
            on_valid=_create_anew_when(REJECT),
        ),
        Mutant(
            "ignores-do-nothing",
            ("langgraph",),
            "A repeated thread_id under if_exists do_nothing is answered with a new thread, not the existing one.",
            ("conflict_policy",),
            on_valid=_create_anew_when(RETURN_EXISTING),
        ),
        # Leaky: echoes every request header, the credential included, into its body.
        Mutant(
            "leaks-request-headers",
            ("seekrflow", "andibase"),
            "The request headers, credential included, are merged into the echoed metadata.",
            ("round_trip",),
            on_reply=_on_success(_leak_headers),
        ),
        # Two distinct schema violations under one check and one title: the upgrade of status-outside-enum
        # that a baseline of the first must not swallow (the failure ids tell them apart).
        Mutant(
            "status-outside-enum-object-integer",
            ("seekrflow",),
            "As status-outside-enum, and the object field also comes back as the integer 1, not a string.",
            ("response_schema_conformance",),
            on_reply=_on_success(_all_of(_outside_enum("deleted"), _as_integer("object"))),
        ),
    ]


MUTANTS: dict[str, Mutant] = {m.name: m for m in _mutants()}


def get_mutant(name: str) -> Mutant:
    """The mutant called `name`, or a UsageError listing the known ones."""
    try:
        return MUTANTS[name]
    except KeyError:
        raise UsageError(f"unknown mutant {name!r} (known: {', '.join(MUTANTS)})") from None
