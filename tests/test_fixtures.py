"""Sanity of the bundled vendors (every spec and profile validates, they pair up) and of --vendors-dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate

from conformance.errors import UsageError
from conformance.vendors import (
    VENDORS_DIR_ENV,
    bundled_dir,
    known_vendors,
    load_profile,
    load_spec,
    profile_paths,
    select_vendors,
)

BUNDLED = bundled_dir()
SPECS = sorted((BUNDLED / "specs").glob("*/openapi.yaml"))
PROFILES = profile_paths(BUNDLED)


def test_there_are_three_vendors_at_least() -> None:
    assert {"seekrflow", "watsonx", "andibase"} <= set(known_vendors())


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_spec_is_valid_openapi_31(spec: Path) -> None:
    document = load_spec(spec)
    assert document["openapi"].startswith("3.1")
    validate(document)


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_profile_validates_against_its_schema(path: Path) -> None:
    profile = load_profile(path, BUNDLED)
    assert profile.spec_path.is_file()


def test_every_spec_has_a_profile_and_every_profile_a_spec() -> None:
    used = {p.spec_path for p in known_vendors().values()}
    assert used == {s.resolve() for s in SPECS}


@pytest.mark.parametrize("profile", list(known_vendors().values()), ids=lambda p: p.key)
def test_profile_names_only_what_its_spec_has(profile) -> None:  # type: ignore[no-untyped-def]
    spec = profile.spec
    if profile.auth.required:
        assert profile.auth.security_scheme in spec["components"]["securitySchemes"]
    else:  # auth = "none": the spec must not ask for credentials either
        assert not spec.get("security") and all(
            not op.get("security") for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)
        )
    for rule in profile.client_ids:  # a conflict answer is only "correct" where the spec documents it
        for item in spec["paths"].values():
            for op in (op for op in item.values() if isinstance(op, dict) and "responses" in op):
                assert str(rule.conflict_status) in op["responses"], (profile.key, rule)
    templates = "".join(spec["paths"])
    for name in profile.path_params:
        assert "{" + name + "}" in templates
    for location in profile.echo.values():
        where, _, name = location.partition(".")
        if where == "path":
            assert "{" + name + "}" in templates


def test_specs_taken_verbatim_from_the_vendor_docs() -> None:
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"the vendor documents are not beside the checkout ({seeds})")
    for seed, folder in (
        ("000_bc9e6949214eaa29.txt", "seekrflow-5.30.1"),
        ("004_7fc903df769d62e7.txt", "watsonx-0.1.0"),
    ):
        text = (seeds / seed).read_text()
        embedded = text.split("````yaml", 1)[1].split("\n", 1)[1].split("````", 1)[0]
        assert (BUNDLED / "specs" / folder / "openapi.yaml").read_text() == embedded


def test_a_fourth_vendor_is_one_spec_and_one_profile(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    (fixtures / "specs" / "acme-1").mkdir(parents=True)
    (fixtures / "profiles").mkdir()
    source = known_vendors()["seekrflow"]
    (fixtures / "specs" / "acme-1" / "openapi.yaml").write_text(source.spec_path.read_text())
    (fixtures / "profiles" / "acme.toml").write_text(
        'display_name = "Acme"\nspec = "specs/acme-1/openapi.yaml"\n'
        '[auth]\nsecurity_scheme = "APIKeyHeader"\nheader = "Authorization"\n'
        'value = "Bearer {token}"\ntoken_env = "ACME_TOKEN"\n'
    )
    [acme] = select_vendors(["acme"], fixtures)
    assert acme.display_name == "Acme" and acme.spec["info"]["title"] == "SeekrFlow API"
    assert acme.origin == str(fixtures)
    # The user's directory adds to the bundled vendors; it does not hide them.
    assert list(known_vendors(fixtures)) == ["acme", "andibase", "langgraph", "seekrflow", "watsonx"]


def test_a_vendors_dir_overrides_a_bundled_vendor_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    shutil.copytree(BUNDLED / "specs" / "seekrflow-5.30.1", tmp_path / "specs" / "seekrflow-5.30.1")
    (tmp_path / "profiles").mkdir()
    text = (BUNDLED / "profiles" / "seekrflow.toml").read_text()
    (tmp_path / "profiles" / "seekrflow.toml").write_text(
        text.replace('display_name = "SeekrFlow"', 'display_name = "Ours"')
    )
    monkeypatch.setenv(VENDORS_DIR_ENV, str(tmp_path))  # the environment variable, like --vendors-dir
    vendors = known_vendors()
    assert vendors["seekrflow"].display_name == "Ours" and vendors["seekrflow"].origin == str(tmp_path)
    assert vendors["watsonx"].origin == "bundled"


def test_a_vendors_dir_without_profiles_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no profiles/ folder"):
        known_vendors(tmp_path)


def test_a_profile_cannot_name_a_spec_outside_its_directory(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "evil.toml").write_text(
        'display_name = "Evil"\nspec = "../../etc/passwd"\n'
        '[auth]\nsecurity_scheme = "APIKeyHeader"\nheader = "Authorization"\n'
        'value = "Bearer {token}"\ntoken_env = "EVIL_TOKEN"\n'
    )
    with pytest.raises(UsageError, match="lies outside"):
        known_vendors(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("display_name = 1\n", "invalid"),
        ("this is not toml", "not valid TOML"),
        (
            'display_name = "x"\nspec = "s.yaml"\n[auth]\nsecurity_scheme = "a"\nheader = "h"\n'
            'value = "no-token"\ntoken_env = "T"\n',
            "invalid at auth/value",
        ),
    ],
)
def test_a_malformed_profile_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profiles" / "bad.toml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as info:
        load_profile(path, tmp_path)
    assert "\n" not in str(info.value).strip() or "TOML" in str(info.value)


def test_unknown_vendor_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="unknown vendor 'nope' \\(known: andibase, langgraph, seekrflow, watsonx\\)"):
        select_vendors(["nope"])


@pytest.mark.parametrize(
    ("deviation", "problem"),
    [
        ('{ operation = "POST /v1/threads", check = "round_trip", reason = "  " }', "reason"),
        ('{ operation = "", check = "round_trip", reason = "r" }', "operation"),
        ('{ operation = "POST /v1/threads", check = "round_trip", reason = "r", expires = 2027-01-31 }', None),
    ],
    ids=["blank-reason", "empty-operation", "toml-date"],
)
def test_known_deviations_are_validated_like_baseline_entries(
    tmp_path: Path, deviation: str, problem: str | None
) -> None:
    import shutil

    fixtures = tmp_path / "fixtures"
    shutil.copytree(BUNDLED, fixtures)
    path = fixtures / "profiles" / "watsonx.toml"
    path.write_text(path.read_text().replace("known_deviations = []", f"known_deviations = [{deviation}]"))
    if problem is None:
        [loaded] = load_profile(path, fixtures).known_deviations
        assert loaded.expires == "2027-01-31"
    else:
        with pytest.raises(UsageError, match=f"known_deviations/0/{problem}"):
            load_profile(path, fixtures)
