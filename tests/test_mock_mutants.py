"""Self-tests of the defect zoo: each mutant changes the mock's behaviour exactly as described.

Each probe returns True when the deviation shows; it must be False on the clean mock and True on
the mutant, for every vendor the mutant lists. Verdicts on bodies use jsonschema on the spec itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema
import pytest
import referencing
import referencing.jsonschema
import yaml

from conformance.mock import create_app
from conformance.mutants import KNOWN_CHECKS, MUTANTS, OUR_CHECKS
from conformance.vendors import Profile, known_vendors

TOKEN = "mutant-token-0123"
VENDORS = known_vendors()
OBJECT_FIELD = {"seekrflow": "meta_data", "watsonx": "context", "andibase": "metadata", "langgraph": "metadata"}
THREAD_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


class Spec:
    """The vendor's one operation, read from the spec document with plain jsonschema."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        spec = yaml.safe_load(profile.spec_path.read_text(encoding="utf-8"))
        ((self.path, item),) = spec["paths"].items()
        self.responses = item["post"]["responses"]
        self.pointer = "/paths/" + self.path.replace("/", "~1") + "/post/responses"
        resource = referencing.Resource.from_contents(spec, default_specification=referencing.jsonschema.DRAFT202012)
        self.registry: referencing.Registry[Any] = referencing.Registry().with_resource("urn:spec", resource)
        self.success = next(int(code) for code in self.responses if str(code).startswith("2"))

    def valid(self, response: httpx.Response) -> bool:
        """Documented status, JSON, and a body valid against the schema documented for that status."""
        status = str(response.status_code)
        if status not in self.responses or not response.headers["content-type"].startswith("application/json"):
            return False
        schema = {"$ref": f"urn:spec#{self.pointer}/{status}/content/application~1json/schema"}
        validator = jsonschema.Draft202012Validator(
            schema, registry=self.registry, format_checker=jsonschema.FormatChecker()
        )
        return bool(validator.is_valid(response.json()))

    def url(self) -> str:
        return re.sub(r"\{([^}]+)\}", lambda m: self.profile.path_params[m.group(1)], self.path)


SPECS = {key: Spec(profile) for key, profile in VENDORS.items()}


class Client:
    """Posts to one vendor's mock, in process."""

    def __init__(self, key: str, mutant: str | None) -> None:
        self.key, self.spec = key, SPECS[key]
        self.app = create_app([VENDORS[key]], tokens=[TOKEN], mutant=mutant)

    def post(self, body: Any = None, *, auth: bool = True) -> httpx.Response:
        profile = self.spec.profile
        headers = {profile.auth.header: profile.auth.header_value(TOKEN)} if auth and profile.auth.required else {}

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://m") as c:
                return await c.post(self.spec.url(), json=body, headers=headers)

        return asyncio.run(go())

    def object_post(self, value: Any) -> httpx.Response:
        return self.post({OBJECT_FIELD[self.key]: value})


def _ok(client: Client, response: httpx.Response) -> bool:
    return response.status_code == client.spec.success and client.spec.valid(response)


def _crash(trigger: Any) -> Callable[[Client], bool]:
    """500 on `trigger` placed in the vendor's free-form object, while a plain object is still fine."""

    def probe(c: Client) -> bool:
        assert _ok(c, c.object_post({"plain": 1}))
        response = c.object_post(trigger)
        if response.status_code != 500:
            return False
        # In the vendor's documented 500 shape when it has one, else a bare text/plain 500.
        return c.spec.valid(response) if "500" in c.spec.responses else response.text == "Internal Server Error"

    return probe


def _timestamps(c: Client) -> list[str]:
    body = c.post({}).json()
    return [body[f] for f in c.spec.profile.timestamp_fields if body.get(f) is not None]


def _hour_ahead(c: Client) -> bool:
    stamps = _timestamps(c)
    assert stamps
    later = datetime.now(UTC) + timedelta(minutes=30)
    return all(datetime.fromisoformat(s) > later for s in stamps)


def _echo_changed(c: Client, value: Any) -> bool:
    response = c.object_post(value)
    assert _ok(c, response)
    return bool(response.json()[OBJECT_FIELD[c.key]] != value)


def _same_id(c: Client) -> bool:
    ids = [c.post({}).json()["id"] for _ in range(3)]
    return len(set(ids)) == 1


def _leaks(c: Client) -> bool:
    response = c.object_post({"a": 1})
    return TOKEN in response.text and response.status_code == c.spec.success


def _repeat(c: Client, policy: dict[str, str]) -> httpx.Response:
    """Create a thread with a chosen id, then send the same id again under `policy` with other metadata."""
    assert _ok(c, c.post({"thread_id": THREAD_ID, "metadata": {"first": 1}}))
    return c.post({"thread_id": THREAD_ID, "metadata": {"second": 2}, **policy})


PROBES: dict[str, Callable[[Client], bool]] = {
    "id-not-a-string": lambda c: not isinstance(c.post({}).json()["id"], str) and not c.spec.valid(c.post({})),
    "required-field-missing": lambda c: "lastMessageAt" not in c.post({}).json() and not c.spec.valid(c.post({})),
    "status-outside-enum": lambda c: c.post({}).json()["status"] == "deleted" and not c.spec.valid(c.post({})),
    "success-status-swapped": lambda c: str(c.post({}).status_code) not in c.spec.responses,
    "content-type-text-plain": lambda c: c.post({}).headers["content-type"].startswith("text/plain"),
    "rejects-nested-object": lambda c: c.object_post({"a": 1}).status_code in (400, 422),
    "rejects-long-title": lambda c: (
        c.post({"title": "t" * 33}).status_code in (400, 422) and _ok(c, c.post({"title": "t" * 32}))
    ),
    "accepts-unknown-enum": lambda c: _ok(c, c.post({"status": "deleted"})),
    "accepts-non-uuid": lambda c: _ok(c, c.post({"assistant_id": "not-a-uuid", "agent_id": "123"})),
    "accepts-null": lambda c: _ok(c, c.post({"status": None})),
    "error-detail-string": lambda c: (
        c.object_post([]).status_code in (400, 422) and not c.spec.valid(c.object_post([]))
    ),
    # Valid against the spec's error schema, yet not the shape the profile declares.
    "error-body-other-shape": lambda c: (
        c.object_post([]).status_code == 422
        and c.spec.valid(c.object_post([]))
        and c.object_post([]).json() == {"message": "Invalid request"}
    ),
    "auth-not-enforced": lambda c: c.post({}, auth=False).status_code == c.spec.success,
    "crash-on-empty-string": _crash({"s": ""}),
    "crash-deep-nesting": _crash({"a": {"b": {"c": {"d": {"e": 1}}}}}),
    "crash-non-ascii-key": _crash({"ключ": 1}),
    "crash-list-in-object": _crash({"l": [1, 2]}),
    "crash-long-string": _crash({"s": "x" * 1001}),
    "drops-nested-values": lambda c: _echo_changed(c, {"a": {"b": 1}, "c": [1], "d": 2}),
    "truncates-floats": lambda c: _echo_changed(c, {"f": 1.5, "g": [2.25]}),
    "same-id": _same_id,
    "null-becomes-empty-object": lambda c: c.object_post(None).json()[OBJECT_FIELD[c.key]] == {},
    "external-id-ignored": lambda c: c.post({"externalId": "ext-1"}).json()["externalId"] is None,
    "timestamps-hour-ahead": _hour_ahead,
    "timestamps-not-rfc3339": lambda c: not all(RFC3339.fullmatch(s) for s in _timestamps(c)),
    "default-not-applied": lambda c: _ok(c, c.post({})) and c.post({}).json()["title"] != "Untitled",
    "leaks-request-headers": _leaks,
    "status-outside-enum-object-integer": lambda c: (
        (c.post({}).json()["status"], c.post({}).json()["object"]) == ("deleted", 1) and not c.spec.valid(c.post({}))
    ),
    # A second thread under the same id, where the default policy (raise) says 409.
    "conflict-creates-duplicate": lambda c: (
        _ok(c, _repeat(c, {})) and c.post({"thread_id": THREAD_ID}).json()["metadata"] != {"first": 1}
    ),
    # do_nothing answered with a new thread (the repeat's metadata), not the existing one.
    "ignores-do-nothing": lambda c: _repeat(c, {"if_exists": "do_nothing"}).json()["metadata"] == {"second": 2},
}
CASES = [(name, key) for name, mutant in MUTANTS.items() for key in mutant.vendors]


@pytest.mark.parametrize(("name", "key"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_mutant_deviates_as_described(name: str, key: str) -> None:
    probe = PROBES[name]
    assert not probe(Client(key, None)), "the clean mock already shows the deviation"
    assert probe(Client(key, name))


@pytest.mark.parametrize(("name", "key"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_mutant_is_otherwise_the_reference(name: str, key: str) -> None:
    # Requests that do not trigger the deviation still get documented answers (except for mutants
    # whose deviation is on every success or every auth).
    client = Client(key, name)
    on_every_success = {
        "id-not-a-string",
        "required-field-missing",
        "status-outside-enum",
        "status-outside-enum-object-integer",
        "success-status-swapped",
        "content-type-text-plain",
    }
    response = client.post({}, auth=False)
    if name != "auth-not-enforced" and VENDORS[key].auth.required:
        assert response.status_code == 401
    if name not in on_every_success and not name.startswith("crash-on-empty"):
        assert _ok(client, client.post({}))


def test_the_zoo_is_complete_and_well_formed() -> None:
    assert len(MUTANTS) >= 15
    assert set(PROBES) == set(MUTANTS)
    for mutant in MUTANTS.values():
        assert mutant.vendors and set(mutant.vendors) <= set(VENDORS), mutant.name
        assert mutant.description and mutant.expected_checks, mutant.name
        assert set(mutant.expected_checks) <= KNOWN_CHECKS, mutant.name
        assert mutant.name == mutant.name.lower() and " " not in mutant.name
    for key in VENDORS:
        assert sum(key in m.vendors for m in MUTANTS.values()) >= 5, key
    # Each of our semantic checks has a mutant that only it catches; the zoo has none for these yet.
    without_a_mutant = {"unknown_resource"}
    for check in OUR_CHECKS - without_a_mutant:
        assert any(m.expected_checks == (check,) for m in MUTANTS.values()), check
