"""`conformance vendor init`: a starter profile from a spec, every guess marked, valid against the profile schema."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from conformance.cli import main
from conformance.errors import UsageError
from conformance.scaffold import GUESS, build_profile, vendors_dir_for
from conformance.vendors import bundled_dir, load_profile

BUNDLED_DIR = bundled_dir()
BUNDLED = sorted((BUNDLED_DIR / "specs").glob("*/openapi.yaml"))
# Lines that state a fact of the spec or of the file, not a guess.
FACTS = ("spec", "known_deviations", "security_scheme")

# A spec of another shape than the bundled ones: OpenAPI 3.0, an apiKey header scheme beside HTTP basic,
# path parameters (one with an example, one without), camelCase fields, a 201, and no client-chosen id.
ACME = {
    "openapi": "3.0.3",
    "info": {"title": "Acme Conversations", "version": "2.1"},
    "servers": [{"url": "https://api.acme.test/v2"}],
    "components": {
        "securitySchemes": {
            "acmeKey": {"type": "apiKey", "in": "header", "name": "X-Acme-Key"},
            "basic": {"type": "http", "scheme": "basic"},
        },
        "schemas": {
            "Conversation": {
                "type": "object",
                "required": ["id", "createdAt"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "workspaceId": {"type": "string"},
                    "subject": {"type": "string", "nullable": True},
                    "labels": {"type": "array", "items": {"type": "string"}},
                    "createdAt": {"type": "string", "format": "date-time"},
                    "closedAt": {"type": "string", "format": "date-time", "nullable": True},
                },
            }
        },
    },
    "security": [{"acmeKey": []}, {"basic": []}],
    "paths": {
        "/workspaces/{workspaceId}/projects/{projectId}/conversations": {
            "parameters": [
                {
                    "name": "workspaceId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "ws-1",
                },
            ],
            "get": {"responses": {"200": {"description": "list"}}},
            "post": {
                "parameters": [{"name": "projectId", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "subject": {"type": "string"},
                                    "labels": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "201": {
                        "description": "created",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Conversation"}}},
                    },
                    "400": {"description": "bad"},
                },
            },
        }
    },
}


def _write(tmp_path: Path, document: dict[str, object], name: str = "acme-2.1") -> Path:
    path = tmp_path / "fixtures" / "specs" / name / "openapi.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _assignments(text: str) -> list[str]:
    return [line for line in text.splitlines() if "=" in line and not line.lstrip().startswith(("#", "["))]


def _every_guess_marked(text: str) -> None:
    for line in _assignments(text):
        if line.split("=", 1)[0].strip() not in FACTS:
            assert GUESS in line, line


def _loads_as_profile(tmp_path: Path, spec: Path, key: str, text: str) -> None:
    """The written profile loads (schema-validated) with its spec, from a fixtures directory of its own."""
    fixtures = tmp_path / "fixtures"
    if not spec.resolve().is_relative_to(fixtures.resolve()):
        target = fixtures / "specs" / spec.parent.name / spec.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(spec, target)
    (fixtures / "profiles").mkdir(parents=True, exist_ok=True)
    (fixtures / "profiles" / f"{key}.toml").write_text(text)
    profile = load_profile(fixtures / "profiles" / f"{key}.toml", fixtures)
    assert profile.spec_path.is_file()


@pytest.mark.parametrize("spec", BUNDLED, ids=lambda p: p.parent.name)
def test_bundled_specs_give_valid_profiles_with_every_guess_marked(tmp_path: Path, spec: Path) -> None:
    text = build_profile(spec, "vendor-x", BUNDLED_DIR)
    _every_guess_marked(text)
    raw = tomllib.loads(text)
    assert raw["spec"] == f"specs/{spec.parent.name}/openapi.yaml"
    _loads_as_profile(tmp_path, spec, "vendor-x", text)


def test_langgraph_guesses_match_the_reviewed_profile() -> None:
    spec = BUNDLED_DIR / "specs" / "langgraph-0.16.7" / "openapi.yaml"
    raw = tomllib.loads(build_profile(spec, "langgraph", BUNDLED_DIR))
    reviewed = tomllib.loads((BUNDLED_DIR / "profiles" / "langgraph.toml").read_text())
    assert raw["auth"] == reviewed["auth"] == "none"
    assert raw["fields"] == reviewed["fields"]
    [guess], [kept] = raw["client_ids"], reviewed["client_ids"]
    for name in ("field", "conflict_status", "policy_field", "policies", "on_conflict"):
        assert guess[name] == kept[name], name
    # What the review changed: ttl is not echoed (only under ?include=ttl, in another shape).
    assert set(raw["echo"]) - set(reviewed["echo"]) == {"ttl"}


def test_another_shape_api_key_header_path_params_no_client_ids(tmp_path: Path) -> None:
    spec = _write(tmp_path, ACME)
    text = build_profile(spec, "acme", tmp_path / "fixtures")
    _every_guess_marked(text)
    raw = tomllib.loads(text)
    assert raw["auth"] == {
        "security_scheme": "acmeKey",
        "header": "X-Acme-Key",
        "value": "{token}",
        "token_env": "ACME_API_KEY",
    }
    assert "also names basic" in text
    assert raw["base_url"] == "https://api.acme.test/v2"
    assert raw["path_params"] == {"workspaceId": "ws-1", "projectId": "CHANGE-ME"}
    assert raw["echo"] == {"subject": "body.subject", "labels": "body.labels", "workspaceId": "path.workspaceId"}
    assert raw["fields"] == {"ids": ["id"], "timestamps": ["createdAt", "closedAt"]}
    assert "client_ids" not in raw
    _loads_as_profile(tmp_path, spec, "acme", text)


def test_basic_and_bearer_schemes(tmp_path: Path) -> None:
    basic = {**ACME, "security": [{"basic": []}]}
    raw = tomllib.loads(build_profile(_write(tmp_path, basic, "basic-1"), "basic", tmp_path / "fixtures"))
    assert (raw["auth"]["header"], raw["auth"]["value"]) == ("Authorization", "Basic {token}")
    bearer = {
        **ACME,
        "components": {**ACME["components"], "securitySchemes": {"jwt": {"type": "http", "scheme": "bearer"}}},  # type: ignore[dict-item]
        "security": [{"jwt": []}],
    }
    raw = tomllib.loads(build_profile(_write(tmp_path, bearer, "bearer-1"), "bearer", tmp_path / "fixtures"))
    assert (raw["auth"]["header"], raw["auth"]["value"]) == ("Authorization", "Bearer {token}")


def test_cli_writes_refuses_to_overwrite_and_rejects_what_is_not_openapi_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path, ACME)
    out = tmp_path / "acme.toml"
    assert main(["vendor", "init", "--spec", str(spec), "--key", "acme", "--output", str(out)]) == 0
    assert "review every line marked" in capsys.readouterr().out
    first = out.read_text()
    assert main(["vendor", "init", "--spec", str(spec), "--key", "acme", "--output", str(out)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0  # one line
    assert main(["vendor", "init", "--spec", str(spec), "--key", "acme", "--output", str(out), "--force"]) == 0
    assert out.read_text() == first
    swagger = tmp_path / "swagger.yaml"
    swagger.write_text("swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n")
    assert main(["vendor", "init", "--spec", str(swagger), "--key", "old", "--output", "-"]) == 2
    assert "not an OpenAPI 3.x document" in capsys.readouterr().err
    with pytest.raises(UsageError, match="vendor key"):
        build_profile(spec, "Not A Key", tmp_path / "fixtures")


def test_the_profile_goes_to_the_vendors_directory_the_spec_lies_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONFORMANCE_VENDORS_DIR", raising=False)
    spec = _write(tmp_path, ACME)
    assert vendors_dir_for(spec) == (tmp_path / "fixtures").resolve()
    assert main(["vendor", "init", "--spec", str(spec), "--key", "acme"]) == 0
    written = tmp_path / "fixtures" / "profiles" / "acme.toml"
    assert load_profile(written, tmp_path / "fixtures").spec_path == spec.resolve()
    capsys.readouterr()
    loose = tmp_path / "loose.yaml"
    loose.write_text(yaml.safe_dump(ACME, sort_keys=False))
    assert main(["vendor", "init", "--spec", str(loose), "--key", "acme"]) == 2
    assert "--vendors-dir" in capsys.readouterr().err
    assert main(["vendor", "init", "--spec", str(loose), "--key", "acme", "--vendors-dir", str(tmp_path / "x")]) == 2
    assert "outside the vendors directory" in capsys.readouterr().err
