"""Failure identity: one short, stable id per distinct failure, the same in every report, baseline and comparison.

A failure's id is `F-` and the first 8 hex digits of the SHA-256 of its vendor key, operation label,
check name and *finding key*, e.g. `F-7c1e9a2b`. The finding key says what makes the finding
distinct, in a form that never contains the seed, a generated value, a request or response body,
a case id, a host or a port, so the same defect gives the same id on every seed, run, target and
machine, and two defects that share a title get two ids:

* Schemathesis failures: `<failure code> <response status> <detail>`, the code being Schemathesis's
  stable failure code (ST108...). The detail:

  - schema violations (`JsonSchemaError`): where in the spec the response broke its schema, as a
    JSON pointer whose last segment is the keyword, e.g.
    `ST108 200 /components/schemas/ThreadStatus/enum` (an inline schema gives a pointer relative
    to the response schema, e.g. `/properties/id/type`); for `required` and a closed
    `additionalProperties`, followed by the names of the missing or unexpected properties
    (`ST108 201 /components/schemas/Thread/required lastMessageAt`). The same schema location
    reached through two fields (one component used twice) is one finding;
  - an invalid request accepted (`negative_data_rejection`, ST201): what made the request invalid. For
    the body, `body` and every constraint the sent body breaks, as JSON pointers into the operation's
    request body schema ($refs resolved) whose last segment is the keyword, sorted and comma-separated
    (`ST201 200 body /properties/thread_id/format`; `required` and a closed `additionalProperties` add
    the property names, as above); each other invalid part by its location (`query`, `header`, `path`,
    `cookie`), parts separated by `; `; `request` when Schemathesis names no part. So a baseline entry
    that accepts one invalid input the vendor lets through does not accept another;
  - a valid request rejected (`positive_data_acceptance`, ST202): what the target rejects in it, one
    failure per part it rejects on its own. The engine sends the request again with the body's required
    properties alone, then with them and one group of the others at a time (a group: the properties one
    declaration admits); the key is `body` and where the spec declares the group
    (`ST202 422 body /properties/metadata`; undeclared properties by what admits them,
    `/additionalProperties` or `/patternProperties/<pattern>`, never by their generated names), `request`
    when the required properties alone are rejected (what every valid request has: a required value, a
    parameter), or `body` when no group is rejected alone (a combination). So accepting a vendor's refusal
    of non-empty metadata does not accept a later refusal of long titles;
  - a server error (`not_a_server_error`, ST101): on an invalid request, `invalid` and what made it invalid,
    as above (`ST101 500 invalid body /properties/title/type`); on a valid one, what the target crashes on,
    found as for a rejected valid request, with "answered 5xx again" for "rejected"
    (`ST101 500 body /properties/title`). So accepting one crash does not accept another;
  - an undocumented status (`status_code_conformance`, ST103): the same as a server error, with "answered
    with that status again" for "rejected" (`ST103 201 body /properties/supersteps`,
    `ST103 400 invalid body /properties/title/type`);
  - these four were keyed by code and status only before: an entry of such a broad id still accepts, with a
    note asking to replace it; `conformance compare` compares an older report that has one at its
    granularity, `conformance publish` carries its history over, and `conformance replay` finds it under
    its narrower ids (see `broad_id`);
  - undocumented or malformed content type: the media type (lower case, without parameters); missing
    response headers: their names (lower case, sorted); missing required request header not rejected: the
    header name; ignored auth: the scenario (no auth, invalid auth...); a check that crashed: the exception
    type;
  - anything else: nothing more (class code and status).

* Our semantic checks (`conformance.checks`): `<check key> <response status>`, where each
  `SemanticFailure` carries a key naming the field (and kind) it is about, never its value,
  e.g. `TC901 201 metadata`, `TC901 201 created_at:skew`.

* Transport failures (`request_timeout`, `broken_response`) and a check that raised: the kind, i.e.
  the fixed title our code gives it (`Request timed out`, `Response body exceeds the read cap`).

Reports written before ids existed have none (`Failure.id` is None when read back): `conformance compare`
compares such checks by title and warns (see compare.py); a baseline entry matches only a failure with its id.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from conformance.compat import schema_location

ID_PREFIX = "F-"
ID_HEX_DIGITS = 8
WILDCARD = "*"
MAX_DETAIL = 200  # a server-chosen detail (a media type) is bounded in what we store and hash


def failure_id(vendor: str, operation: str, check: str, finding: str) -> str:
    """The id of one distinct failure, e.g. `F-7c1e9a2b`."""
    text = "\0".join((vendor, operation, check, finding))
    return ID_PREFIX + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:ID_HEX_DIGITS]


def is_failure_id(value: str) -> bool:
    digits = value[len(ID_PREFIX) :]
    return value.startswith(ID_PREFIX) and len(digits) == ID_HEX_DIGITS and all(c in "0123456789abcdef" for c in digits)


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _clean(text: str) -> str:
    """One line, printable, bounded: the detail may come from the server."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(str(text).split()))
    return text[:MAX_DETAIL]


def _media_type(value: Any) -> str:
    return _clean(str(value or "").split(";")[0].strip().lower())


def _property_names(failure: Any, keyword: Any) -> str:
    """For `required` and a closed `additionalProperties`, which properties: the schema location alone would
    make a second missing (or unexpected) field the same failure as the first. From the failing schema and the
    object, both public on Schemathesis's `JsonSchemaError`; names, never values."""
    instance, schema = getattr(failure, "instance", None), getattr(failure, "schema", None)
    if not isinstance(instance, dict) or not isinstance(schema, dict):
        return ""
    if keyword == "required" and isinstance(schema.get("required"), list):
        names = [str(n) for n in schema["required"] if n not in instance]
    elif keyword == "additionalProperties" and schema.get("additionalProperties") is False:
        properties = schema.get("properties")
        declared: dict[str, Any] = properties if isinstance(properties, dict) else {}
        patterns = [p for p in schema.get("patternProperties") or {} if isinstance(p, str)]
        names = [str(n) for n in instance if n not in declared and not any(_search(p, str(n)) for p in patterns)]
    else:
        return ""
    return _clean(",".join(sorted(names)))


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:  # an ECMA-only pattern: treat the name as unexpected, as the validator did
        return False


def _detail(failure: Any) -> str:
    """The distinguishing part of a Schemathesis failure, from its public attributes (see module docstring)."""
    kind = type(failure).__name__
    if kind == "JsonSchemaError":
        location = schema_location(failure)
        names = _property_names(failure, location[-1] if location else None)
        return _pointer(location) + (f" {names}" if names else "")
    if kind in ("UndefinedContentType",):
        return _media_type(getattr(failure, "content_type", ""))
    if kind == "MalformedMediaType":
        return _media_type(getattr(failure, "actual", ""))
    if kind == "MissingHeaders":
        return ",".join(sorted(_clean(h).lower() for h in getattr(failure, "missing_headers", []) or []))
    if kind == "MissingHeaderNotRejected":
        return _clean(getattr(failure, "header_name", "")).lower()
    if kind == "IgnoredAuth":
        scenario = getattr(failure, "scenario", "")
        return _clean(getattr(scenario, "value", scenario))
    if kind == "CustomFailure":
        return type(getattr(failure, "exception", None)).__name__
    key = getattr(failure, "key", None)  # our SemanticFailure
    if isinstance(key, str):
        return _clean(key)
    return ""


def finding_key(failure: Any, status: int | None, *, cause: str | None = None) -> str:
    """The finding key of a failure a check reported on a response with `status` (see module docstring);
    `cause` is what in the request the failure is about, where the failure itself does not say: what made
    an accepted invalid request invalid (`request_violations`), what the target rejects or crashes on in a
    valid one (`rejection_cause`), the engine's to find.

    Never raises: a failure class it does not know still gets its code and status."""
    try:
        code = str(getattr(type(failure), "code", "") or type(failure).__name__)
        detail = _detail(failure)
    except Exception:  # an unexpected attribute shape must not stop the run; the class still tells findings apart
        code, detail = type(failure).__name__, ""
    if cause is not None:
        detail = _clean(cause)
    return " ".join(part for part in (code, str(status) if status is not None else "", detail) if part)


# An invalid request's violations looked at for its key: a body that breaks thousands of constraints (a long
# array of wrong items) is keyed by the first ones, in the validator's order, which the body decides.
MAX_VIOLATIONS = 20


def request_violations(errors: Iterable[Any]) -> str:
    """`body` and the constraints a request body breaks, for an accepted invalid request's finding key: from
    `jsonschema` errors (their `schema_path`, `validator`, `instance` and `schema`), e.g.
    `body /properties/metadata/type,/properties/thread_id/format`. Never a value."""
    found: set[str] = set()
    for error in itertools.islice(errors, MAX_VIOLATIONS):
        path: list[str | int] = list(error.schema_path)
        names = _property_names(error, error.validator)
        found.add(_pointer(path) + (f" {names}" if names else ""))
    return " ".join(["body", ",".join(sorted(found))]).strip()


def _declarations(schema: Any) -> Iterator[tuple[str, str, list[str | int]]]:
    """Every declaration of a top-level property in `schema`: (`properties` or `patternProperties`, the name or
    pattern, its path), a node's names before its patterns, then the branches of `allOf`, `anyOf` and `oneOf`."""

    def walk(node: Any, path: list[str | int]) -> Iterator[tuple[str, str, list[str | int]]]:
        if not isinstance(node, dict):
            return
        for keyword in ("properties", "patternProperties"):
            names = node.get(keyword)
            for name in names if isinstance(names, dict) else ():
                yield keyword, name, [*path, keyword, name]
        for keyword in ("allOf", "anyOf", "oneOf"):
            branches = node.get(keyword)
            for index, branch in enumerate(branches if isinstance(branches, list) else ()):
                yield from walk(branch, [*path, keyword, index])

    return walk(schema, [])


def property_pointers(schema: Any) -> set[str]:
    """Every pointer `property_pointer` may give a top-level property of a body of `schema`."""
    return {"/additionalProperties"} | {_pointer(path) for _, _, path in _declarations(schema)}


def property_pointer(schema: Any, name: str) -> str:
    """Where a top-level property of a body is declared in the body's schema ($refs resolved), as a JSON pointer:
    `/properties/<name>`, else `/patternProperties/<the first pattern it matches>`, else `/additionalProperties`,
    looking into the branches of `allOf`, `anyOf` and `oneOf` (`/allOf/0/properties/<name>`). An undeclared
    property is named by what admits it, never by its name, which the generator chose."""
    for keyword, declared, path in _declarations(schema):
        if keyword == "properties" and declared == name:
            return _pointer(path)
        if keyword == "patternProperties" and isinstance(declared, str) and _search(declared, name):
            return _pointer(path)
    return "/additionalProperties"


def required_properties(schema: Any) -> set[str]:
    """The top-level property names `schema` requires: its `required`, and that of each `allOf` branch."""
    names: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("required"), list):
            names.update(n for n in schema["required"] if isinstance(n, str))
        branches = schema.get("allOf")
        for branch in branches if isinstance(branches, list) else ():
            names |= required_properties(branch)
    return names


def rejection_cause(pointer: str | None = None, *, content: bool = False) -> str:
    """One part of a valid request the target rejects, for its finding key: `body` and the schema pointer
    (`property_pointer`) of a group of the body's top-level properties it rejects on its own, e.g.
    `body /properties/metadata`; `body` alone for the body's content, not told apart further (`content`);
    `request` for what every valid request has (a required value, a parameter)."""
    if pointer is not None:
        return f"body {pointer}"
    return "body" if content else "request"


# The failures keyed by what in the request triggers them (see the module docstring), by check: their failure
# code, and what they are. Earlier versions keyed them by code and status alone (`broad_id`); which of them a run
# shows depends on the requests its seed generates (conformance.baseline does not call an entry stale for that).
REQUEST_KEYED: dict[str, tuple[str, str]] = {
    "not_a_server_error": ("ST101", "server errors"),
    "status_code_conformance": ("ST103", "undocumented statuses"),
    "negative_data_rejection": ("ST201", "accepted invalid requests"),
    "positive_data_acceptance": ("ST202", "rejected valid requests"),
}
BROADLY_KEYED = frozenset(code for code, _ in REQUEST_KEYED.values())


def broad_id(vendor: str, operation: str, check: str, finding: str | None) -> str | None:
    """The id earlier versions gave a server error (ST101), an undocumented status (ST103), an accepted invalid
    request (ST201) or a rejected valid one (ST202): of its code and status only, which accepted every such input
    answered with that status. None for any other finding."""
    parts = (finding or "").split(" ", 2)
    if len(parts) < 2 or parts[0] not in BROADLY_KEYED:
        return None
    return failure_id(vendor, operation, check, " ".join(parts[:2]))
