"""`error_shape`: where a profile declares its vendor's error bodies (the `[mock]` `*_error` templates the
reference mock answers with), an error answer in another shape fails, stricter than the spec; off with
--skip-check error_shape."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from conformance import api
from conformance.catalogue import BY_NAME
from conformance.checks import shape_schema
from conformance.errors import UsageError
from conformance.mock import create_app
from conformance.server import running_server
from conformance.vendors import select_vendors

TOKEN = "tok-error-shape-77"


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_TOKEN", TOKEN)


def _results(vendor: str, mutant: str | None, **options: Any) -> dict[str, Any]:
    app = create_app(select_vendors([vendor]), tokens={TOKEN}, mutant=mutant)
    with running_server(app) as url:
        settings = api.make_settings(
            vendors=[vendor], target_url=url, seed=2, max_examples=15, check_report_dir=False, **options
        )
        result = api.run(settings)
    return {r.check: r for r in result.results}


def test_the_declared_shape_is_the_mock_templates_shape() -> None:
    (seekrflow,) = select_vendors(["seekrflow"])
    (template,) = seekrflow.error_shapes[422]
    validator = jsonschema.Draft202012Validator(shape_schema(template))
    fastapi = {"detail": [{"loc": ["body", "meta_data"], "msg": "Input should be a dict", "type": "dict_type"}]}
    assert validator.is_valid(fastapi)
    assert validator.is_valid({**fastapi, "extra": 1})  # the shape, not a closed schema
    for other in ({"message": "Invalid request"}, {"detail": "Invalid request"}, {"detail": [{"msg": "x"}]}, []):
        assert not validator.is_valid(other), other
    assert BY_NAME["error_shape"].stricter


@pytest.mark.parametrize("vendor", ["seekrflow", "watsonx"])
def test_a_422_in_another_shape_fails_error_shape_only(vendor: str) -> None:
    results = _results(vendor, "error-body-other-shape")
    failed = {name for name, r in results.items() if r.outcome == "failed"}
    assert failed == {"error_shape"}, failed  # the spec leaves the error body free: only the stricter check sees it
    (failure,) = results["error_shape"].failures
    assert failure.exchange is not None and failure.exchange.status == 422
    assert "Stricter than the spec" in failure.message and failure.finding == "TC901 422 body"


@pytest.mark.parametrize("vendor", ["seekrflow", "andibase", "langgraph"])
def test_the_reference_passes(vendor: str) -> None:
    results = _results(vendor, None)
    assert results["error_shape"].outcome == "passed"
    assert not [r for r in results.values() if r.outcome == "failed"]


def test_turned_off_in_config_gives_spec_only_verdicts() -> None:
    results = _results("seekrflow", "error-body-other-shape", skip_checks=["error_shape"])
    assert results["error_shape"].outcome == "not_applicable" and "turned off" in (results["error_shape"].note or "")
    assert not [r for r in results.values() if r.outcome == "failed"]


def test_an_unknown_check_to_skip_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no such check"):
        api.make_settings(vendors=["seekrflow"], skip_checks=["error_shapes"], check_report_dir=False)
    settings = api.make_settings(vendors=["seekrflow"], skip_checks=["error_shape, round_trip"], check_report_dir=False)
    assert settings.skip_checks == ("error_shape", "round_trip")
