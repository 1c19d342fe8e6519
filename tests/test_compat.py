"""One test per private reach in conformance/compat.py: each fails loudly when its library moves.

When one of these fails after an upgrade, do not loosen the test: update compat.py (or find the public
API that replaced the internal) and move the version bound in pyproject.toml."""

from __future__ import annotations

from typing import Any

import httpcore
import httpx
import schemathesis
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from conformance import compat
from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import select_vendors


class _Recording(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner
        self.connections = 0

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        self.connections += 1
        return self.inner.connect_tcp(*args, **kwargs)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def test_httpx_network_backend_can_be_wrapped() -> None:
    wrappers: list[_Recording] = []

    def wrap(inner: httpcore.NetworkBackend) -> httpcore.NetworkBackend:
        wrappers.append(_Recording(inner))
        return wrappers[-1]

    transport = httpx.HTTPTransport()
    compat.wrap_network_backend(transport, wrap)
    profiles = select_vendors(["seekrflow"])
    with running_server(create_app(profiles, tokens=["t"])) as root, httpx.Client(transport=transport) as client:
        client.get(root)
    assert wrappers and wrappers[0].connections == 1  # the request's connection went through our backend


def _schema() -> Any:
    spec = select_vendors(["seekrflow"])[0].spec
    return schemathesis.openapi.from_dict(spec)


def test_schemathesis_schema_transport_can_be_routed() -> None:
    schema = _schema()
    original = type(schema)
    ours = object()
    compat.route_schema_transport(schema, ours)
    assert schema.transport is ours
    assert isinstance(schema, original)
    assert [op.ok().label for op in schema.get_all_operations()] == ["POST /v1/threads"]


def test_schemathesis_serializers_can_be_copied() -> None:
    operation = next(iter(_schema().get_all_operations())).ok()
    case = operation.Case(body={"meta_data": {"k": 1}}, media_type="application/json")
    transport = RequestsTransport()
    compat.copy_serializers(transport, REQUESTS_TRANSPORT)
    sent = transport.serialize_case(case, base_url="http://127.0.0.1:9")
    assert sent["json"] == {"meta_data": {"k": 1}}


def test_schemathesis_tells_our_semantic_failures_apart_by_their_key() -> None:
    from conformance.checks import SemanticFailure

    def failure(key: str) -> SemanticFailure:
        return SemanticFailure(operation="POST /v1/threads", title="t", message="m", key=key)

    assert failure("a") == failure("a")
    assert failure("a") != failure("b")  # Schemathesis compares failures by the private `_unique_key`
    assert len({failure("a"), failure("a"), failure("b")}) == 2


def test_hypothesis_local_constants_pool_is_emptied_and_restored() -> None:
    from hypothesis.internal.conjecture import providers

    original = providers._get_local_constants
    with compat.without_local_constants():
        pool = providers._get_local_constants()
        assert not any(len(values) for values in (pool.integers, pool.floats, pool.bytes, pool.strings))
        emptied = providers._get_local_constants
        with compat.without_local_constants():  # nested (a draw within an operation): the pool stays empty
            assert providers._get_local_constants is emptied
        assert providers._get_local_constants is emptied
    assert providers._get_local_constants is original


def test_hypothesis_runs_a_test_without_a_database_key_without_digesting_its_source(monkeypatch: Any) -> None:
    import hypothesis
    import hypothesis.core
    import hypothesis.strategies as st

    def no_digest(function: Any) -> bytes:
        raise AssertionError(f"Hypothesis digested the source of {function.__name__}")

    monkeypatch.setattr(hypothesis.core, "function_digest", no_digest)
    drawn: list[int] = []

    @hypothesis.settings(max_examples=3, database=None, phases=[hypothesis.Phase.generate])
    @hypothesis.seed(1)
    @hypothesis.given(st.integers())
    def test(value: int) -> None:
        drawn.append(value)

    try:
        test()
    except AssertionError:
        pass
    else:  # the patch is in place: without the attribute Hypothesis digests the source (else this test is vacuous)
        raise AssertionError("Hypothesis no longer calls hypothesis.core.function_digest: update compat")
    drawn.clear()
    compat.without_database_key(test)()
    assert len(drawn) == 3


def _case_with_an_array_body() -> Any:
    """A positive case of the mock's operation drawn with an explicit `[]` body (the spec wants an object)."""
    import hypothesis
    from schemathesis.generation import GenerationMode

    operation = next(iter(_schema().get_all_operations())).ok()
    found: list[Any] = []

    @hypothesis.settings(max_examples=1, database=None, phases=[hypothesis.Phase.generate])
    @hypothesis.given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE, body=[], media_type="application/json")
    )
    def draw(case: Any) -> None:
        found.append(case)

    draw()
    return found[0]


def test_schemathesis_judges_a_body_given_to_a_case_as_generated() -> None:
    from schemathesis.generation import GenerationMode

    case = _case_with_an_array_body()
    assert case.meta.generation.mode is GenerationMode.POSITIVE  # an explicit body is not judged by itself
    assert compat.judge_body(case) is case
    assert case.meta.generation.mode is GenerationMode.NEGATIVE  # the spec wants an object, not an array
    case.body = {}
    assert case.meta.generation.mode is GenerationMode.POSITIVE


def test_schemathesis_names_the_invalid_parts_of_a_case() -> None:
    case = compat.judge_body(_case_with_an_array_body())
    assert compat.negative_locations(case) == ["body"]  # the spec wants an object, not an array
    case.body = {}
    assert compat.negative_locations(case) == []


def test_pytest_chooses_the_ini_file_from_the_paths_it_is_given(tmp_path: Any) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert compat.pytest_rootdir_and_inifile([], root, None, None, None) == (root, root / "pyproject.toml")
    # No ini file above a temporary directory (its rootdir depends on what else is in /tmp: a setup.py counts).
    assert compat.pytest_rootdir_and_inifile([str(tmp_path)], root, None, None, None)[1] is None
