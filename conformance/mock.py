"""The reference mock: one generic Starlette app that answers exactly as a vendor's spec says.

Everything vendor-specific comes from data: the OpenAPI document (paths, request and response
schemas, success status, documented examples) and the profile (`auth`, `echo`, `fields`, `[mock]`).
A named mutant from `conformance.mutants` may be applied to make the mock deviate on purpose.

Order of judgement for a request that reaches a documented operation: authentication, then unknown
path resources (`mock.existing`), then the body (media type, JSON, JSON Schema 2020-12), then success.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import jsonschema
import referencing
import referencing.jsonschema
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.defaults import MOCK_HEADER
from conformance.errors import UsageError
from conformance.mutants import Mutant, get_mutant
from conformance.vendors import REJECT, RETURN_EXISTING, ClientId, Profile

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA_TYPE = "application/json"
MAX_NESTING = 256  # deeper bodies are refused before anything recurses over them
MAX_MESSAGE = 300  # jsonschema messages quote the instance; a 100 KB body must not come back whole
MAX_RESOURCES = 10_000  # resources a long-running mock remembers by client-chosen id; the oldest go first


class _Missing:
    """The absence of a value, distinct from JSON null."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds and a `Z`, e.g. 2026-11-25T06:29:29.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _is_uuid(instance: object) -> bool:
    # Stricter than uuid.UUID(): only the canonical 8-4-4-4-12 ASCII hex form (UUID() also takes
    # braces, "urn:uuid:" and non-ASCII digits).
    if not isinstance(instance, str):
        return True
    return _UUID_RE.fullmatch(instance) is not None


_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)


def format_checker() -> jsonschema.FormatChecker:
    """Draft 2020-12 format checks, with a strict `uuid`."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    checker = jsonschema.FormatChecker(formats=list(checker.checkers))
    checker.checks("uuid")(_is_uuid)
    return checker


@dataclass
class Problem:
    """One reason a request is refused: a message, where it is (FastAPI-style `loc`), and the cause."""

    message: str
    loc: tuple[str | int, ...] = ("body",)
    keyword: str = "body"  # the JSON Schema keyword that failed, or body / media_type / json / nesting
    error: jsonschema.ValidationError | None = None


@dataclass
class Reply:
    """A response before it is rendered: mutants may change any part of it."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = JSON_MEDIA_TYPE
    raw: bytes | None = None  # sent as is instead of `body` when set

    def render(self) -> Response:
        if self.raw is not None:
            content = self.raw
        else:
            # ensure_ascii: lone surrogates and astral characters become \u escapes, always valid JSON.
            content = json.dumps(self.body, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
        headers = {**self.headers, MOCK_HEADER: "reference"}
        return Response(content, status_code=self.status, headers=headers, media_type=self.media_type)


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, as the mock serves it."""

    method: str  # upper case
    path: str  # the spec's path template
    pattern: re.Pattern[str]  # matches the raw (percent-encoded) request path
    param_names: tuple[str, ...]
    requires_auth: bool
    body_required: bool
    media_types: tuple[str, ...]  # lower case
    body_pointer: str | None  # JSON pointer of the request body schema
    success_status: int
    success_pointer: str | None  # JSON pointer of the success response schema
    responses: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Call:
    """One request to a documented operation, as the mock sees it; what mutant hooks receive."""

    vendor: VendorMock
    operation: Operation
    headers: Headers
    path_params: dict[str, str]
    raw_body: bytes = b""
    body: Any = MISSING  # the parsed JSON body, once read
    now: str = field(default_factory=now_rfc3339)

    @property
    def profile(self) -> Profile:
        return self.vendor.profile

    def validation_error(self, message: str, loc: tuple[str | int, ...] = ("body",)) -> Reply:
        return self.vendor.error_reply("validation_error", message=message, loc=loc)

    def server_error(self) -> Reply:
        return self.vendor.server_error(self.operation)


def _substitute(template: Any, values: Mapping[str, Any]) -> Any:
    """Replace every string in `template` that is a key of `values` by its value."""
    if isinstance(template, str):
        return copy.deepcopy(values[template]) if template in values else template
    if isinstance(template, list):
        return [_substitute(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _substitute(item, values) for key, item in template.items()}
    return template


def _nesting(value: Any) -> int:
    """Depth of arrays and objects in a JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return number


def parse_json(raw: bytes) -> Any:
    """Strict RFC 8259 parsing: UTF-8, no NaN/Infinity, no number that overflows a double."""
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


class VendorMock:
    """The mock of one vendor: its spec, profile, validators, and the mutant applied to it, if any."""

    def __init__(
        self,
        profile: Profile,
        tokens: frozenset[str],
        prefix: str,
        mutant: Mutant | None,
        existing: Mapping[str, str] | None = None,
    ) -> None:
        self.profile = profile
        # Path resources that exist: the profile's, plus any the caller pins (e.g. the suite's --param).
        self.existing: dict[str, set[str]] = {
            name: set(values) for name, values in profile.mock.get("existing", {}).items()
        }
        for name, value in (existing or {}).items():
            if name in self.existing:
                self.existing[name].add(value)
        self.spec = profile.spec
        self.tokens = tokens
        self.prefix = prefix
        self.mutant = mutant
        self.uri = f"urn:thread-conformance:spec:{profile.key}"
        resource = referencing.Resource.from_contents(
            self.spec, default_specification=referencing.jsonschema.DRAFT202012
        )
        self.registry: referencing.Registry[Any] = referencing.Registry().with_resource(self.uri, resource)
        self.format_checker = format_checker()
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}
        self.operations = [self._operation(path, method) for path, method in self._spec_operations()]
        self.created = 0
        # What was created, by client-choosable id (profile `client_ids`): "<field>=<id>" -> the reply body.
        self.resources: dict[str, Any] = {}

    # -- the spec -----------------------------------------------------------------------------

    def _spec_operations(self) -> Iterable[tuple[str, str]]:
        for path, item in (self.spec.get("paths") or {}).items():
            if isinstance(item, dict):
                for method in item:
                    if method in HTTP_METHODS:
                        yield path, method

    def resolve(self, pointer: str) -> tuple[Any, str]:
        """The spec node at a JSON pointer, following local `$ref`s; and the pointer it ends at."""
        seen = set()
        node = self.node(pointer)
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            if pointer in seen:
                break
            seen.add(pointer)
            pointer = node["$ref"][1:]
            node = self.node(pointer)
        return node, pointer

    def node(self, pointer: str) -> Any:
        """The spec node at a JSON pointer (no `$ref` followed)."""
        node: Any = self.spec
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def _operation(self, path: str, method: str) -> Operation:
        op_pointer = f"/paths/{_pointer_escape(path)}/{method}"
        op = self.node(op_pointer)
        parts = _split_template(path)
        names = tuple(parts[1::2])
        # A parameter matches one percent-encoded segment; literal parts match as the spec writes them.
        regex = "".join("([^/]+)" if i % 2 else re.escape(quote(part, safe="/")) for i, part in enumerate(parts))
        security = op.get("security", self.spec.get("security")) or []
        requires_auth = bool(security) and all(requirement for requirement in security)
        body_required, body_pointer = False, None
        media_types: tuple[str, ...] = ()
        if "requestBody" in op:
            body, body_ptr = self.resolve(f"{op_pointer}/requestBody")
            body_required = bool(body.get("required", False))
            content = body.get("content") or {}
            media_types = tuple(str(mt).lower() for mt in content)
            json_type = next((mt for mt in content if "json" in str(mt).lower()), None)
            if json_type is not None and "schema" in content[json_type]:
                body_pointer = f"{body_ptr}/content/{_pointer_escape(json_type)}/schema"
        responses = op.get("responses") or {}
        success = next((str(code) for code in responses if re.fullmatch(r"2\d\d|2XX", str(code))), None)
        success_pointer = None
        if success is not None:
            response, response_ptr = self.resolve(f"{op_pointer}/responses/{success}")
            content = response.get("content") or {}
            json_type = next((mt for mt in content if "json" in str(mt).lower()), None)
            if json_type is not None and "schema" in content[json_type]:
                success_pointer = f"{response_ptr}/content/{_pointer_escape(json_type)}/schema"
        return Operation(
            method=method.upper(),
            path=path,
            pattern=re.compile(re.escape(self.prefix) + regex),
            param_names=names,
            requires_auth=requires_auth,
            body_required=body_required,
            media_types=media_types,
            body_pointer=body_pointer,
            success_status=200 if success in (None, "2XX") else int(str(success)),
            success_pointer=success_pointer,
            responses=responses,
        )

    def validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        """A Draft 2020-12 validator for the schema at `pointer`, `#/components/...` refs resolved in the spec."""
        if pointer not in self._validators:
            self._validators[pointer] = jsonschema.Draft202012Validator(
                {"$ref": f"{self.uri}#{pointer}"}, registry=self.registry, format_checker=self.format_checker
            )
        return self._validators[pointer]

    def documented_example(self, status: int, operation: Operation) -> Any:
        """The first JSON example the spec documents for a status, or MISSING."""
        if str(status) not in operation.responses:
            return MISSING
        pointer = f"/paths/{_pointer_escape(operation.path)}/{operation.method.lower()}/responses/{status}"
        response, _ = self.resolve(pointer)
        for media in (response.get("content") or {}).values():
            if "example" in media:
                return media["example"]
            for example in (media.get("examples") or {}).values():
                if isinstance(example, dict) and "value" in example:
                    return example["value"]
        return MISSING

    # -- replies ------------------------------------------------------------------------------

    def error_reply(self, kind: str, *, message: str = "", loc: tuple[str | int, ...] = ("body",)) -> Reply:
        """The profile's `mock.<kind>` error, with `$message` and `$loc` substituted."""
        template = self.profile.mock.get(kind)
        if template is None:
            status = {"validation_error": 422, "auth_error": 401, "invalid_auth_error": 401}.get(kind, 404)
            template = {"status": status, "body": {"detail": "$message"}}
        body = _substitute(template["body"], {"$message": message, "$loc": list(loc)})
        return Reply(int(template["status"]), body)

    def server_error(self, operation: Operation | None = None) -> Reply:
        """A 500: the spec's documented example when there is one, else a bare text/plain one."""
        example = self.documented_example(500, operation or self.operations[0]) if self.operations else MISSING
        if example is not MISSING:
            return Reply(500, copy.deepcopy(example))
        return Reply(500, raw=b"Internal Server Error", media_type="text/plain")

    def not_found(self) -> Reply:
        return self.error_reply("not_found_error", message="Not Found")

    # -- judging a request --------------------------------------------------------------------

    def credentials(self) -> list[tuple[str, str]]:
        """Every (header, value template) that carries a token: the profile's, then `mock.also_accept`."""
        extra = [(item["header"], item["value"]) for item in self.profile.mock.get("also_accept", ())]
        own = [(self.profile.auth.header, self.profile.auth.value)] if self.profile.auth.required else []
        return [*own, *extra]

    def authenticate(self, headers: Headers) -> str | None:
        """None when a valid credential is present, else the profile's error kind to answer with."""
        presented = False
        for header, template in self.credentials():
            value = headers.get(header)
            if value is None:
                continue
            presented = True
            prefix, _, suffix = template.partition("{token}")
            # An auth scheme ("Bearer") is case-insensitive (RFC 9110 11.1); the token is not.
            if (
                len(value) >= len(prefix) + len(suffix)
                and value[: len(prefix)].lower() == prefix.lower()
                and value.endswith(suffix)
                and value[len(prefix) : len(value) - len(suffix)] in self.tokens
            ):
                return None
        if presented and "invalid_auth_error" in self.profile.mock:
            return "invalid_auth_error"
        return "auth_error"

    def unknown_resource(self, path_params: Mapping[str, str]) -> bool:
        existing = self.existing
        return any(name in existing and value not in existing[name] for name, value in path_params.items())

    def problems(self, call: Call) -> list[Problem]:
        """Why the body of `call` is invalid (empty when it is valid); sets `call.body` when it parses."""
        op = call.operation
        content_type = call.headers.get("content-type")
        if not call.raw_body and content_type is None:
            if op.body_required:
                return [Problem("Field required", ("body",), "body")]
            return []
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if media_type not in op.media_types or "json" not in media_type:
            expected = ", ".join(op.media_types) or "no body"
            message = f"Unsupported media type {media_type or '(none)'!r}; expected {expected}"
            return [Problem(message, ("body",), "media_type")]
        if not call.raw_body:
            if op.body_required:
                return [Problem("Field required", ("body",), "body")]
            return []
        try:
            body = parse_json(call.raw_body)
        except UnicodeDecodeError:
            return [Problem("JSON decode error: the body is not UTF-8", ("body",), "json")]
        except RecursionError:
            return [Problem("JSON decode error: nested too deeply", ("body",), "nesting")]
        except ValueError as exc:  # JSONDecodeError, NaN/Infinity, overflow, ints beyond 4300 digits
            return [Problem(_short(f"JSON decode error: {exc}"), ("body",), "json")]
        if _nesting(body) > MAX_NESTING:
            return [Problem(f"JSON body nested deeper than {MAX_NESTING} levels", ("body",), "nesting")]
        call.body = body
        if op.body_pointer is None:
            return []
        errors = sorted(self.validator(op.body_pointer).iter_errors(body), key=jsonschema.exceptions.relevance)
        problems: list[Problem] = []
        for error in reversed(errors):  # most relevant first
            # best_match looks inside anyOf branches: "'x' is not a 'uuid'" rather than "not valid under any".
            best = jsonschema.exceptions.best_match([error])
            problems.append(Problem(_short(best.message), ("body", *best.absolute_path), str(error.validator), error))
        return problems

    # -- success ------------------------------------------------------------------------------

    def request_with_defaults(self, call: Call) -> dict[str, Any]:
        """The request body with the request schema's top-level property defaults applied (as Pydantic does)."""
        body = dict(call.body) if isinstance(call.body, dict) else {}
        if call.operation.body_pointer is not None:
            schema, _ = self.resolve(call.operation.body_pointer)
            for name, prop in (schema.get("properties") or {}).items() if isinstance(schema, dict) else ():
                if name not in body and isinstance(prop, dict) and "default" in prop:
                    body[name] = copy.deepcopy(prop["default"])
        return body

    def source(self, call: Call, request: Mapping[str, Any], location: str) -> Any:
        """The request value at 'body.<field>' or 'path.<name>', or MISSING."""
        where, _, name = location.partition(".")
        if where == "path":
            return call.path_params.get(name, MISSING)
        return request.get(name, MISSING)

    def resource_key(self, call: Call, rule: ClientId, value: Any) -> str | None:
        """Identity of an id value; a `format: uuid` request field's by its UUID (case-insensitive)."""
        if not isinstance(value, str | int) or isinstance(value, bool):
            return None
        schema = self.resolve(call.operation.body_pointer)[0] if call.operation.body_pointer else {}
        prop = (schema.get("properties") or {}).get(rule.name) if isinstance(schema, dict) else None
        if isinstance(value, str) and isinstance(prop, dict) and prop.get("format") == "uuid":
            with contextlib.suppress(ValueError):
                value = str(uuid.UUID(value))
        return f"{rule.response}={value!r}"

    def existing_resource(self, call: Call) -> tuple[ClientId, Any] | None:
        """The client-id rule and the resource when the request names, as its own id, one that exists."""
        sent = call.body if isinstance(call.body, dict) else {}
        for rule in self.profile.client_ids:
            key = self.resource_key(call, rule, sent.get(rule.name))
            if key is not None and key in self.resources:
                return rule, self.resources[key]
        return None

    def success(self, call: Call) -> Reply:
        """The documented reply to a valid request: its conflict policy's answer to an id that exists, else a create."""
        found = self.existing_resource(call)
        if found is not None:
            rule, resource = found
            behaviour = rule.behaviour(call.body)
            if behaviour == RETURN_EXISTING:
                return Reply(call.operation.success_status, copy.deepcopy(resource))
            if behaviour == REJECT:
                template = self.profile.mock.get(
                    "conflict_error", {"status": rule.conflict_status, "body": {"detail": "$message"}}
                )
                value = call.body[rule.name] if isinstance(call.body, dict) else None
                message = _short(f"{rule.name} {value} already exists")
                return Reply(
                    int(template["status"]),
                    _substitute(template["body"], {"$message": message, "$loc": ["body", rule.name]}),
                )
        return self.create(call)

    def create(self, call: Call) -> Reply:
        """The documented success reply to a valid request that creates a resource."""
        op = call.operation
        if op.success_pointer is None:
            return Reply(op.success_status, raw=b"", media_type=None)
        request = self.request_with_defaults(call)
        schema, pointer = self.resolve(op.success_pointer)
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not properties:
            template = self.profile.mock.get("success_body", {})
            values: dict[str, Any] = {"$id": str(uuid.uuid4()), "$now": call.now}
            values.update({f"$body.{name}": value for name, value in request.items()})
            values.update(
                {item: None for item in _template_strings(template) if item.startswith("$body.") and item not in values}
            )
            body: Any = _substitute(template, values)
        else:
            required = set(schema.get("required", ()))
            body = {}
            for name, prop in properties.items():
                value = self.property_value(call, request, name, prop, f"{pointer}/properties/{_pointer_escape(name)}")
                if value is not MISSING or name in required:
                    body[name] = None if value is MISSING else value
        self.created += 1
        for rule in self.profile.client_ids:
            key = self.resource_key(call, rule, body.get(rule.response)) if isinstance(body, dict) else None
            if key is not None:
                self.resources.pop(key, None)
                self.resources[key] = copy.deepcopy(body)
                while len(self.resources) > MAX_RESOURCES:
                    del self.resources[next(iter(self.resources))]
        return Reply(op.success_status, body)

    def response_properties(self, operation: Operation) -> dict[str, str]:
        """Property name -> JSON pointer of its schema, for the success response of `operation`."""
        if operation.success_pointer is None:
            return {}
        schema, pointer = self.resolve(operation.success_pointer)
        properties = schema.get("properties") if isinstance(schema, dict) else None
        return {name: f"{pointer}/properties/{_pointer_escape(name)}" for name in properties or {}}

    def property_value(self, call: Call, request: Mapping[str, Any], name: str, prop: Any, pointer: str) -> Any:
        """The value of one response property: id, echo, timestamp, default, fill, null, or a minimal value."""
        profile = self.profile
        valid = self.validator(pointer).is_valid
        if name in profile.id_fields:
            # A client-chosen id is the resource's id; else the mock picks one.
            chosen = [request[r.name] for r in profile.client_ids if r.response == name and r.name in request]
            return copy.deepcopy(chosen[0]) if chosen and valid(chosen[0]) else str(uuid.uuid4())
        if name in profile.echo:
            value = self.source(call, request, profile.echo[name])
            # A request value the response schema does not allow (e.g. null where the response promises
            # an object) is answered with a valid value instead, below.
            if value is not MISSING and valid(value):
                return copy.deepcopy(value)
        if name in profile.timestamp_fields:
            return None if valid(None) else call.now
        if isinstance(prop, dict) and "default" in prop:
            return copy.deepcopy(prop["default"])
        resolved, _ = self.resolve(pointer)
        if isinstance(resolved, dict) and "default" in resolved:
            return copy.deepcopy(resolved["default"])
        if name in profile.mock.get("fill", {}):
            return copy.deepcopy(profile.mock["fill"][name])
        if valid(None):
            return None
        candidates: tuple[Any, ...] = ({}, "", 0, False, [])
        for candidate in candidates:
            if valid(candidate):
                return candidate
        return MISSING


def _split_template(path: str) -> list[str]:
    """'/a/{x}/b' -> ['/a/', 'x', '/b']: literal parts at even positions, parameter names at odd ones."""
    return re.split(r"\{([^}/]+)\}", path)


def _template_strings(template: Any) -> Iterable[str]:
    if isinstance(template, str):
        yield template
    elif isinstance(template, list):
        for item in template:
            yield from _template_strings(item)
    elif isinstance(template, dict):
        for item in template.values():
            yield from _template_strings(item)


class MockApp:
    """Dispatches every request to the vendor and operation whose spec path matches it."""

    def __init__(self, vendors: list[VendorMock], app: Starlette) -> None:
        self.vendors = vendors
        self.app = app

    def match(self, raw_path: str) -> tuple[VendorMock | None, list[tuple[Operation, dict[str, str]]]]:
        """The vendor owning the path (by prefix), and its operations whose template matches it."""
        owner: VendorMock | None = None
        matches = []
        for vendor in self.vendors:
            if vendor.prefix and (raw_path == vendor.prefix or raw_path.startswith(vendor.prefix + "/")):
                owner = vendor
            for op in vendor.operations:
                found = op.pattern.fullmatch(raw_path)
                if found:
                    owner = vendor
                    params = {n: unquote(v) for n, v in zip(op.param_names, found.groups(), strict=True)}
                    matches.append((op, params))
        if owner is None and len(self.vendors) == 1:
            owner = self.vendors[0]
        return owner, matches

    async def endpoint(self, request: Request) -> Response:
        state = self.app.state
        state.requests += 1
        raw = request.scope.get("raw_path") or quote(request.scope["path"]).encode()
        raw_path = raw.split(b"?", 1)[0].decode("latin-1")
        vendor, matches = self.match(raw_path)
        if vendor is None:
            return Reply(404, {"detail": "Not Found"}).render()
        chosen = next(((op, params) for op, params in matches if op.method == request.method), None)
        if chosen is None:
            if not matches:
                return vendor.not_found().render()
            allowed = ", ".join(sorted({op.method for op, _ in matches}))
            return Reply(405, {"detail": "Method Not Allowed"}, headers={"Allow": allowed}).render()
        op, params = chosen
        call = Call(vendor, op, request.headers, params, await request.body())
        reply = self.judge(call)
        if vendor.mutant is not None and vendor.mutant.on_reply is not None:
            reply = vendor.mutant.on_reply(call, reply)
        if 200 <= reply.status < 300:
            state.created += 1
        return reply.render()

    def judge(self, call: Call) -> Reply:
        """Authentication, unknown resources, body validation, then success; mutant hooks in between."""
        vendor, mutant = call.vendor, call.vendor.mutant
        failure = vendor.authenticate(call.headers) if call.operation.requires_auth else None
        if mutant is not None and mutant.on_auth is not None:
            failure = mutant.on_auth(call, failure)
        if failure is not None:
            return vendor.error_reply(failure, message="Not authenticated")
        if vendor.unknown_resource(call.path_params):
            return vendor.not_found()
        problems = vendor.problems(call)
        if mutant is not None and mutant.on_problems is not None:
            problems = mutant.on_problems(call, problems)
        if problems:
            first = problems[0]
            return call.validation_error(first.message, first.loc)
        if mutant is not None and mutant.on_valid is not None:
            early = mutant.on_valid(call)
            if early is not None:
                return early
        return vendor.success(call)


def create_app(
    profiles: list[Profile],
    *,
    tokens: Iterable[str],
    mutant: str | None = None,
    prefix_by_vendor: bool | None = None,
    existing: Mapping[str, str] | None = None,
) -> Starlette:
    """The reference mock for `profiles`: at the root for one vendor, else each under `/<vendor key>`.

    Only requests carrying one of `tokens` (in the profile's credential header) are served. `mutant`
    names an entry of `conformance.mutants.MUTANTS`, applied to the vendors it lists.
    `app.state.requests` and `app.state.created` count requests and 2xx replies.
    """
    if not profiles:
        raise UsageError("the mock needs at least one vendor")
    chosen = get_mutant(mutant) if mutant else None
    keys = [p.key for p in profiles]
    if chosen is not None and not set(chosen.vendors) & set(keys):
        raise UsageError(f"mutant {chosen.name!r} applies to {', '.join(chosen.vendors)}, not to {', '.join(keys)}")
    prefixed = len(profiles) > 1 if prefix_by_vendor is None else prefix_by_vendor
    accepted = frozenset(tokens)
    vendors = [
        VendorMock(
            profile,
            accepted,
            f"/{profile.key}" if prefixed else "",
            chosen if chosen is not None and profile.key in chosen.vendors else None,
            existing,
        )
        for profile in profiles
    ]
    app = Starlette()
    dispatcher = MockApp(vendors, app)
    # One catch-all route: matching is done on the raw path, so that a percent-encoded "/" inside a
    # path parameter stays inside that parameter.
    app.router.routes.append(
        Route("/{path:conformance_any}", dispatcher.endpoint, methods=[m.upper() for m in HTTP_METHODS])
    )
    app.state.requests = 0
    app.state.created = 0
    app.state.vendors = {v.profile.key: v for v in vendors}
    app.state.mutant = chosen
    app.state.prefixed = prefixed
    return app


class _AnyPath(Convertor[str]):
    """Starlette's `path` convertor, but matching control characters too (`.` stops at a newline), so a
    decoded `%0A` in a path parameter reaches the mock's own routing instead of a bare framework 404."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("conformance_any", _AnyPath())


def mounts(app: Starlette) -> dict[str, str]:
    """Vendor key -> path prefix ('' at the root) of an app made by `create_app`."""
    return {key: vendor.prefix for key, vendor in app.state.vendors.items()}
