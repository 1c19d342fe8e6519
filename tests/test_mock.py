"""Self-tests of the reference mock: it answers exactly as each vendor's spec says.

Every verdict here comes from an independent oracle: jsonschema (Draft 2020-12) applied to the spec
documents themselves, never the mock's own validation code.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema
import pytest
import referencing
import referencing.jsonschema
import yaml

from conformance import mockcli
from conformance.errors import UsageError
from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import Profile, known_vendors

TOKEN = "test-token-0123"
VENDORS = known_vendors()
KEYS = list(VENDORS)
AUTH_KEYS = [key for key in KEYS if VENDORS[key].auth.required]
UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


class Oracle:
    """What the spec document says about a vendor's one operation, read with plain jsonschema."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.spec = yaml.safe_load(profile.spec_path.read_text(encoding="utf-8"))
        ((self.path, item),) = self.spec["paths"].items()
        ((self.method, self.op),) = ((m, o) for m, o in item.items() if m in ("get", "post", "put", "patch", "delete"))
        self.uri = f"urn:test-oracle:{profile.key}"
        resource = referencing.Resource.from_contents(
            self.spec, default_specification=referencing.jsonschema.DRAFT202012
        )
        self.registry: referencing.Registry[Any] = referencing.Registry().with_resource(self.uri, resource)
        self.success = next(int(code) for code in self.op["responses"] if str(code).startswith("2"))
        self.error_statuses = sorted(int(c) for c in self.op["responses"] if str(c) in ("400", "422"))

    def _validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(
            {"$ref": f"{self.uri}#{pointer}"}, registry=self.registry, format_checker=jsonschema.FormatChecker()
        )

    def _op_pointer(self) -> str:
        return "/paths/" + self.path.replace("~", "~0").replace("/", "~1") + "/" + self.method

    def request_errors(self, body: Any) -> list[str]:
        pointer = self._op_pointer() + "/requestBody/content/application~1json/schema"
        return [e.message for e in self._validator(pointer).iter_errors(body)]

    def response_errors(self, status: int, body: Any) -> list[str]:
        """Why `body` does not match the schema documented for `status` ('undocumented' if none is)."""
        if str(status) not in self.op["responses"]:
            return ["undocumented status"]
        pointer = self._op_pointer() + f"/responses/{status}/content/application~1json/schema"
        return [e.message for e in self._validator(pointer).iter_errors(body)]

    def url(self, **params: str) -> str:
        values = {**self.profile.path_params, **params}
        return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], self.path)

    def headers(self, token: str = TOKEN) -> dict[str, str]:
        if not self.profile.auth.required:
            return {}
        return {self.profile.auth.header: self.profile.auth.header_value(token)}


ORACLES = {key: Oracle(profile) for key, profile in VENDORS.items()}
# The request field of each vendor that takes a free-form object, and the response field that returns it.
OBJECT_FIELD = {"seekrflow": "meta_data", "watsonx": "context", "andibase": "metadata", "langgraph": "metadata"}

VALID: dict[str, list[Any]] = {
    "seekrflow": [
        {},
        {"meta_data": None},
        {"meta_data": {}},
        {"meta_data": {"a": 1, "b": [1, "x", None], "c": {"d": False}}},
        {"unknown": 1},
    ],
    "watsonx": [
        {},
        {"title": "t"},
        {"title": "", "assistant_id": UUID, "agent_id": None, "context": {"k": "v"}},
        {"assistant_id": None, "agent_id": UUID.upper(), "context": None},
    ],
    "andibase": [
        {},
        {"title": None, "status": "closed", "externalId": None, "metadata": None},
        {"title": "", "status": "archived", "externalId": "", "metadata": {"n": [1, {"m": 2}]}},
    ],
    "langgraph": [
        {},
        {"metadata": {"a": [1, {"b": None}]}, "if_exists": "do_nothing"},
        {"thread_id": UUID, "metadata": {}, "ttl": {"strategy": "delete", "ttl": 1.5}},
        {"supersteps": [], "unknown": 1},
    ],
}
INVALID: dict[str, list[Any]] = {
    "seekrflow": [{"meta_data": 1}, {"meta_data": "x"}, {"meta_data": []}, [], "text", 1, None, True],
    "watsonx": [
        {"assistant_id": "nope"},
        {"assistant_id": "3fa85f64571745622b3fc2c963f66afa6"},
        {"agent_id": 5},
        {"title": None},
        {"title": 1},
        {"context": []},
        [],
    ],
    "andibase": [
        {"status": "deleted"},
        {"status": None},
        {"title": 1},
        {"metadata": []},
        {"externalId": 5},
        [],
        None,
    ],
    "langgraph": [
        {"thread_id": "nope"},
        {"thread_id": 5},
        {"metadata": []},
        {"metadata": None},
        {"if_exists": "replace"},
        {"ttl": {"strategy": "forever"}},
        {"supersteps": [{}]},
        [],
    ],
}


def send(app: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to an ASGI app, in process."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    return {key: create_app([profile], tokens=[TOKEN]) for key, profile in VENDORS.items()}


def post(app: Any, oracle: Oracle, *, headers: dict[str, str] | None = None, url: str | None = None, **kw: Any) -> Any:
    hdrs = oracle.headers() if headers is None else headers
    return send(app, oracle.method.upper(), url or oracle.url(), headers=hdrs, **kw)


def assert_documented(oracle: Oracle, response: httpx.Response, status: int) -> Any:
    """The response has `status`, a JSON content type, and a body valid against the spec for it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = response.json()
    assert oracle.response_errors(status, body) == []
    return body


def assert_echoed(profile: Profile, request: dict[str, Any], body: dict[str, Any]) -> None:
    for field, location in profile.echo.items():
        where, _, name = location.partition(".")
        if where == "body" and name in request and request[name] is not None:
            assert body[field] == request[name], field


# -- valid and invalid requests ------------------------------------------------------------------


def test_oracle_agrees_with_the_test_data() -> None:
    for key, oracle in ORACLES.items():
        for body in VALID[key]:
            assert oracle.request_errors(body) == [], (key, body)
        for body in INVALID[key]:
            assert oracle.request_errors(body) != [], (key, body)


@pytest.mark.parametrize("key", KEYS)
def test_valid_requests_get_the_documented_success(apps: dict[str, Any], key: str) -> None:
    oracle = ORACLES[key]
    examples = [
        ex["value"]
        for media in oracle.op["requestBody"]["content"].values()
        for ex in (media.get("examples") or {}).values()
    ]
    for request in [*examples, *VALID[key]]:
        body = assert_documented(oracle, post(apps[key], oracle, json=request), oracle.success)
        assert isinstance(body, dict)
        if isinstance(request, dict):
            assert_echoed(VENDORS[key], request, body)


def test_success_bodies_follow_spec_defaults_and_profile() -> None:
    seekr = create_app([VENDORS["seekrflow"]], tokens=[TOKEN])
    body = post(seekr, ORACLES["seekrflow"], json={"meta_data": None}).json()
    assert (body["object"], body["status"], body["active_run_id"], body["meta_data"]) == (
        "thread",
        "available",
        None,
        {},
    )
    andi = create_app([VENDORS["andibase"]], tokens=[TOKEN])
    body = post(andi, ORACLES["andibase"], json={}).json()
    assert body["channelId"] == VENDORS["andibase"].path_params["channelId"]
    assert (body["status"], body["title"], body["metadata"], body["lastMessageAt"], body["closedAt"]) == (
        "open",
        None,
        None,
        None,
        None,
    )
    wx = create_app([VENDORS["watsonx"]], tokens=[TOKEN])
    body = post(wx, ORACLES["watsonx"], json={"context": {"a": 1}}).json()
    assert body["title"] == "Untitled"  # the request schema's default, applied
    assert (body["assistant_id"], body["context"]) == (None, {"a": 1})


@pytest.mark.parametrize("key", KEYS)
def test_ids_are_fresh_and_timestamps_rfc3339(apps: dict[str, Any], key: str) -> None:
    oracle, profile = ORACLES[key], VENDORS[key]
    before = datetime.now(UTC) - timedelta(seconds=1)
    bodies = [post(apps[key], oracle, json={}).json() for _ in range(3)]
    after = datetime.now(UTC) + timedelta(seconds=1)
    for field in profile.id_fields:
        assert len({b[field] for b in bodies}) == 3
    for field in profile.timestamp_fields:
        for value in (b[field] for b in bodies):
            if value is not None:
                assert RFC3339_Z.fullmatch(value), value
                assert before <= datetime.fromisoformat(value) <= after


@pytest.mark.parametrize(("key", "index"), [(k, i) for k in KEYS for i in range(len(INVALID[k]))])
def test_invalid_requests_get_the_documented_error(apps: dict[str, Any], key: str, index: int) -> None:
    oracle = ORACLES[key]
    (status,) = oracle.error_statuses
    assert_documented(oracle, post(apps[key], oracle, json=INVALID[key][index]), status)


MALFORMED = {
    "invalid JSON": {"content": b'{"a": ', "headers": {"content-type": "application/json"}},
    "NaN": {"content": b'{"x": NaN}', "headers": {"content-type": "application/json"}},
    "Infinity": {"content": b'{"x": -Infinity}', "headers": {"content-type": "application/json"}},
    "overflowing float": {"content": b'{"x": 1e400}', "headers": {"content-type": "application/json"}},
    "not UTF-8": {"content": b'{"x": "\xff"}', "headers": {"content-type": "application/json"}},
    "empty body": {"content": b"", "headers": {"content-type": "application/json"}},
    "no body": {"content": b"", "headers": {}},
    "text/plain": {"content": b"{}", "headers": {"content-type": "text/plain"}},
    "form": {"content": b"a=1", "headers": {"content-type": "application/x-www-form-urlencoded"}},
    "no content type": {"content": b"{}", "headers": {}},
}


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize("key", KEYS)
def test_malformed_bodies_get_the_documented_error(apps: dict[str, Any], key: str, case: str) -> None:
    oracle = ORACLES[key]
    (status,) = oracle.error_statuses
    request = MALFORMED[case]
    headers = {**oracle.headers(), **request["headers"]}
    assert_documented(oracle, post(apps[key], oracle, headers=headers, content=request["content"]), status)


def test_content_type_parameters_are_accepted(apps: dict[str, Any]) -> None:
    oracle = ORACLES["seekrflow"]
    headers = {**oracle.headers(), "content-type": "Application/JSON; charset=utf-8"}
    assert post(apps["seekrflow"], oracle, headers=headers, content=b"{}").status_code == 200


# -- authentication and unknown resources --------------------------------------------------------


@pytest.mark.parametrize("key", AUTH_KEYS)
def test_auth_is_enforced_first(apps: dict[str, Any], key: str) -> None:
    oracle, profile = ORACLES[key], VENDORS[key]
    expected = profile.mock["auth_error"]
    for headers in ({}, oracle.headers("wrong-token"), {profile.auth.header: TOKEN + "x"}):
        # Invalid body and (for andibase) an unknown channel: authentication still comes first.
        response = post(apps[key], oracle, headers=headers, json=INVALID[key][0])
        assert response.status_code == 401
        if "401" in oracle.op["responses"]:
            assert oracle.response_errors(401, response.json()) == []
        if not headers:
            assert response.json() == expected["body"]


def test_andibase_accepts_x_api_key_and_bearer() -> None:
    oracle = ORACLES["andibase"]
    app = create_app([VENDORS["andibase"]], tokens=[TOKEN])
    for headers in ({"x-api-key": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, {"authorization": f"bearer {TOKEN}"}):
        assert_documented(oracle, post(app, oracle, headers=headers, json={}), 201)
    for headers in ({"x-api-key": "nope"}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        body = assert_documented(oracle, post(app, oracle, headers=headers, json={}), 401)
        assert body["code"] == "invalid_api_key"
    body = assert_documented(oracle, post(app, oracle, headers={}, json={}), 401)
    assert body["code"] == "authentication_required"


def test_andibase_unknown_channel_is_404_after_auth_before_validation() -> None:
    oracle = ORACLES["andibase"]
    app = create_app([VENDORS["andibase"]], tokens=[TOKEN])
    url = oracle.url(channelId="00000000-0000-4000-8000-000000000000")
    body = assert_documented(oracle, post(app, oracle, url=url, json={"status": "deleted"}), 404)
    assert body["code"] == "not_found"
    assert post(app, oracle, url=url, headers={}, json={}).status_code == 401
    # A percent-encoded "/" stays inside the parameter: still the documented 404, in JSON.
    assert_documented(oracle, post(app, oracle, url="/api/v1/channels/a%2Fb/threads", json={}), 404)
    # So does a control character (a newline), which the framework's own path matching would miss.
    assert_documented(oracle, post(app, oracle, url="/api/v1/channels/%0A/threads", json={}), 404)
    assert post(app, oracle, url="/api/v1/channels/%0A/threads", headers={}, json={}).status_code == 401


# -- awkward but valid input ---------------------------------------------------------------------

AWKWARD: dict[str, Any] = {
    "astral": {"s": "𝄞 😀 \U0010ffff"},
    "rtl": {"s": "שלום مرحبا \u202e"},
    "control": {"s": "\x00\x1f\u2028"},
    "non-ascii key": {"ключ 😀": "v"},
    "huge ints": {"big": 2**64 + 1, "neg": -(2**80), "edge": 2**53 + 1},
    "negative zero": {"z": -0.0},
    "exponents": {"small": 1.5e-300, "large": 1.7976931348623157e308, "e": 1e21},
    "depth 8": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": "deep"}}}}}}}},
    "100 KB": {"blob": "x" * 100_000, "list": list(range(100))},
    "mixed": {"l": [1, 2.5, None, True, "s", [], {}]},
}


@pytest.mark.parametrize("case", list(AWKWARD))
@pytest.mark.parametrize("key", KEYS)
def test_awkward_values_are_accepted_and_echoed_exactly(apps: dict[str, Any], key: str, case: str) -> None:
    oracle, field = ORACLES[key], OBJECT_FIELD[key]
    request = {field: AWKWARD[case]}
    response = post(apps[key], oracle, json=request)
    body = assert_documented(oracle, response, oracle.success)
    assert response.content.isascii()
    assert body[field] == AWKWARD[case]
    if case == "negative zero":
        assert math.copysign(1, body[field]["z"]) == -1


@pytest.mark.parametrize("key", KEYS)
def test_lone_surrogates_are_echoed_as_escapes(apps: dict[str, Any], key: str) -> None:
    oracle, field = ORACLES[key], OBJECT_FIELD[key]
    escapes = r'{"lone": "\ud800", "pair": "\ud83d\ude00", "low": "\udfff"}'
    raw = f'{{"{field}": {escapes}}}'.encode()
    response = post(apps[key], oracle, headers={**oracle.headers(), "content-type": "application/json"}, content=raw)
    assert response.status_code == oracle.success
    assert json.loads(response.content)[field] == {"lone": "\ud800", "pair": "😀", "low": "\udfff"}


def test_absurd_numbers_and_nesting_are_refused_not_crashed(apps: dict[str, Any]) -> None:
    oracle = ORACLES["andibase"]
    headers = {**oracle.headers(), "content-type": "application/json"}
    for raw in (b'{"metadata": {"n": ' + b"9" * 5000 + b"}}", b'{"metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        assert_documented(oracle, post(apps["andibase"], oracle, headers=headers, content=raw), 400)


# -- the app ------------------------------------------------------------------------------------


def test_several_vendors_are_mounted_under_their_keys() -> None:
    app = create_app(list(VENDORS.values()), tokens=[TOKEN])
    for key, oracle in ORACLES.items():
        response = post(app, oracle, url=f"/{key}{oracle.url()}", json={})
        assert_documented(oracle, response, oracle.success)
        assert post(app, oracle, url=oracle.url(), json={}).status_code == 404  # not at the root
    assert app.state.created == len(ORACLES)
    assert app.state.requests == 2 * len(ORACLES)


def test_one_vendor_can_be_prefixed_too() -> None:
    oracle = ORACLES["seekrflow"]
    app = create_app([VENDORS["seekrflow"]], tokens=[TOKEN], prefix_by_vendor=True)
    assert post(app, oracle, url="/seekrflow/v1/threads", json={}).status_code == 200


def test_unknown_paths_and_methods(apps: dict[str, Any]) -> None:
    oracle = ORACLES["seekrflow"]
    response = send(apps["seekrflow"], "GET", "/v1/threads", headers=oracle.headers())
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    response = send(apps["seekrflow"], "POST", "/v1/nothing", headers=oracle.headers(), json={})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_unknown_or_inapplicable_mutant_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown mutant 'nope'"):
        create_app([VENDORS["seekrflow"]], tokens=[TOKEN], mutant="nope")
    with pytest.raises(UsageError, match="applies to"):
        create_app([VENDORS["watsonx"]], tokens=[TOKEN], mutant="same-id")


# -- through a real server ----------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_real_server_on_loopback(key: str) -> None:
    oracle = ORACLES[key]
    app = create_app([VENDORS[key]], tokens=[TOKEN])
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert url.startswith("http://127.0.0.1:")
        example = {OBJECT_FIELD[key]: {"astral": "😀", "n": 2**60}}
        response = client.post(oracle.url(), json=example, headers=oracle.headers())
        body = assert_documented(oracle, response, oracle.success)
        assert body[OBJECT_FIELD[key]] == example[OBJECT_FIELD[key]]
        # Without credentials: refused where the vendor authenticates, served where it takes none.
        assert client.post(oracle.url(), json={}).status_code == (401 if VENDORS[key].auth.required else oracle.success)
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + oracle.url(), json={}, timeout=2)


# -- the CLI entry point ------------------------------------------------------------------------


def test_run_mock_port_in_use_is_a_one_line_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError) as info:
            mockcli.run_mock(["seekrflow"], "127.0.0.1", port, None, [TOKEN])
    assert str(info.value) == f"port {port} is already in use on 127.0.0.1"


def test_run_mock_unknown_vendor_or_mutant() -> None:
    with pytest.raises(UsageError, match="unknown vendor 'nope'"):
        mockcli.run_mock(["nope"], "127.0.0.1", 0, None, [TOKEN])
    with pytest.raises(UsageError, match="unknown mutant 'nope'"):
        mockcli.run_mock(["seekrflow"], "127.0.0.1", 0, "nope", [TOKEN])
    with pytest.raises(UsageError, match="out of range"):
        mockcli.run_mock(["seekrflow"], "127.0.0.1", 70000, None, [TOKEN])


def test_run_mock_prints_urls_and_never_an_environment_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_serve(app: Any, host: str, port: int, *, on_ready: Any = None, **_: Any) -> None:
        on_ready(f"http://{host}:{port}")

    monkeypatch.setattr(mockcli, "serve_forever", fake_serve)
    monkeypatch.setenv("SEEKRFLOW_API_KEY", "sk-secret-value")
    monkeypatch.delenv("CONFORMANCE_TOKEN", raising=False)
    monkeypatch.delenv("ANDIBASE_API_KEY", raising=False)
    monkeypatch.delenv("WATSONX_ORCHESTRATE_API_KEY", raising=False)
    tokens = mockcli.mock_tokens(list(VENDORS.values()))
    assert sorted(tokens) == sorted(["sk-secret-value", mockcli.DEFAULT_TOKEN])
    assert mockcli.run_mock(None, "127.0.0.1", 8000, "same-id", tokens) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "sk-secret-value" not in out
    assert "$SEEKRFLOW_API_KEY" in out and mockcli.DEFAULT_TOKEN in out
    assert "seekrflow at http://127.0.0.1:8000/seekrflow" in out and "mutant same-id" in out
    assert mockcli.run_mock(["watsonx"], "127.0.0.1", 8000, None, []) == 0
    assert "watsonx at http://127.0.0.1:8000;" in capsys.readouterr().out


# -- client-chosen ids and conflicts ------------------------------------------------------------


def test_client_chosen_id_conflicts_follow_the_policy() -> None:
    oracle = ORACLES["langgraph"]
    app = create_app([VENDORS["langgraph"]], tokens=[TOKEN])
    first = assert_documented(oracle, post(app, oracle, json={"thread_id": UUID, "metadata": {"n": 1}}), 200)
    assert first["thread_id"] == UUID and first["metadata"] == {"n": 1}
    # raise (explicit or the default): the documented 409, nothing created
    for body in ({"thread_id": UUID}, {"thread_id": UUID.upper(), "if_exists": "raise"}):
        error = assert_documented(oracle, post(app, oracle, json=body), 409)
        assert UUID.upper() in error["detail"].upper()
    # do_nothing: the existing thread, unchanged, whatever else the repeat sends
    again = post(app, oracle, json={"thread_id": UUID, "metadata": {"n": 2}, "if_exists": "do_nothing"})
    assert assert_documented(oracle, again, 200) == first
    # a fresh id under do_nothing is simply created; without an id the mock picks a new one
    other = "6e0d4e3f-b4fd-4dc1-bddf-cd86d708bdcb"
    created = assert_documented(oracle, post(app, oracle, json={"thread_id": other, "if_exists": "do_nothing"}), 200)
    assert created["thread_id"] == other
    assert post(app, oracle, json={}).json()["thread_id"] not in (UUID, other)
    assert app.state.created == 4  # the three creates and the do_nothing answer; never the 409s


def test_no_auth_vendor_is_served_without_credentials() -> None:
    oracle = ORACLES["langgraph"]
    app = create_app([VENDORS["langgraph"]], tokens=[TOKEN])
    assert VENDORS["langgraph"].token({"CONFORMANCE_TOKEN": "t"}) is None
    for headers in ({}, {"Authorization": "Bearer anything"}):
        assert_documented(oracle, post(app, oracle, headers=headers, json={}), 200)
