"""Vendor profiles: a vendor is a spec file plus one TOML profile, never Python."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import jsonschema

from conformance.errors import UsageError
from conformance.safeload import load_document, loads_toml, read_bounded

PROFILE_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "profile.schema.json"
FALLBACK_TOKEN_ENV = "CONFORMANCE_TOKEN"
VENDORS_DIR_ENV = "CONFORMANCE_VENDORS_DIR"
BUNDLED = "bundled"  # the origin of the vendors shipped inside the package


def bundled_dir() -> Path:
    """The package's own vendors directory (`profiles/*.toml`, `specs/...`), read through importlib.resources."""
    root = files("conformance.bundled")
    if not isinstance(root, Path):  # e.g. a zip import: the profiles' relative spec paths need a directory
        raise UsageError("the bundled vendors are not on a file system (zip installs are not supported)")
    return root


@dataclass(frozen=True)
class Auth:
    """How a vendor's token is sent, or (`kind="none"`, profile `auth = "none"`) that it takes none."""

    security_scheme: str = ""
    header: str = ""
    value: str = ""
    token_env: str = ""
    kind: Literal["header", "none"] = "header"

    @property
    def required(self) -> bool:
        """Whether the vendor authenticates requests at all."""
        return self.kind != "none"

    def header_value(self, token: str) -> str:
        return self.value.replace("{token}", token)


NO_AUTH = Auth(kind="none")
REJECT, RETURN_EXISTING = "reject", "return_existing"


@dataclass(frozen=True)
class ClientId:
    """A request body field in which the client may choose the new resource's id, and what a repeat gets.

    A repeated id is answered by one of two behaviours: `reject` (the documented `conflict_status`, no
    resource created) or `return_existing` (a 2xx carrying the resource that already has the id, whose
    `existing_fields` are those of the first create). `policy_field`, when the vendor has one, lets the
    request choose the behaviour by value (`policies`); without it (or when it is not sent) `on_conflict`
    applies.
    """

    name: str  # the request body field
    response: str  # the response field that carries the id
    conflict_status: int = 409
    on_conflict: str = REJECT
    policy_field: str | None = None
    policies: dict[str, str] = field(default_factory=dict)
    existing_fields: tuple[str, ...] = ()

    def behaviour(self, body: Any) -> str | None:
        """The behaviour the request `body` asks for on a repeat, or None for a policy value not in `policies`."""
        if self.policy_field is not None and isinstance(body, dict) and self.policy_field in body:
            chosen = body[self.policy_field]
            return self.policies.get(chosen) if isinstance(chosen, str) else None
        return self.on_conflict


@dataclass(frozen=True)
class Deviation:
    """A known, accepted deviation of a vendor: strict, so a fix is noticed."""

    operation: str
    check: str
    reason: str
    title: str = ""  # legacy: a deviation without `id` accepts nothing (see conformance.baseline)
    link: str | None = None
    expires: str | None = None
    id: str = ""  # the failure id it accepts (conformance.identity), or "*" for any failure of the check


@dataclass(frozen=True)
class Profile:
    """A vendor profile, loaded from `<vendors dir>/profiles/<key>.toml`."""

    key: str
    display_name: str
    spec_path: Path
    auth: Auth
    base_url: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    echo: dict[str, str] = field(default_factory=dict)
    id_fields: tuple[str, ...] = ()
    timestamp_fields: tuple[str, ...] = ()
    timestamp_skew_seconds: float | None = None
    known_deviations: tuple[Deviation, ...] = ()
    client_ids: tuple[ClientId, ...] = ()
    mock: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    origin: str = BUNDLED  # "bundled", or the --vendors-dir the profile came from

    @property
    def error_shapes(self) -> dict[int, list[Any]]:
        """The vendor's declared error bodies by status: the `[mock]` section's `*_error` templates, the one
        declaration the reference mock answers with and the `error_shape` check judges by."""
        shapes: dict[int, list[Any]] = {}
        for name, template in sorted(self.mock.items()):
            if name.endswith("_error") and isinstance(template, dict) and "body" in template:
                shapes.setdefault(int(template["status"]), []).append(template["body"])
        return shapes

    @property
    def spec(self) -> dict[str, Any]:
        return load_spec(self.spec_path)

    def token(self, environ: os._Environ[str] | dict[str, str] | None = None) -> str | None:
        """The token from the vendor's own variable, else from CONFORMANCE_TOKEN; None when it takes none."""
        if not self.auth.required:
            return None
        env = os.environ if environ is None else environ
        return env.get(self.auth.token_env) or env.get(FALLBACK_TOKEN_ENV) or None


@cache
def _profile_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(PROFILE_SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@cache
def load_spec(path: Path) -> dict[str, Any]:
    """Parse an OpenAPI document (YAML or JSON) through the bounded loader: a vendor's spec is data, so
    size, nesting and YAML aliases are bounded and no `$ref` may leave the document."""
    data = load_document(path, "spec file")
    if not isinstance(data, dict):
        raise UsageError(f"spec file {path} does not hold an OpenAPI document")
    return data


def iso_expiry_dates(items: Any) -> None:
    """A bare TOML date (expires = 2026-06-30) is as clear as a string: make each entry's `expires` its
    ISO string before validation, in a profile's known deviations as in a baseline file."""
    for item in items if isinstance(items, list) else []:
        value = item.get("expires") if isinstance(item, dict) else None
        if isinstance(value, date) and not isinstance(value, datetime):
            item["expires"] = value.isoformat()


def load_profile(path: Path, vendors_dir: Path | None = None, *, origin: str = BUNDLED) -> Profile:
    """Load and validate one profile file; the file's stem is the vendor key, its spec path is relative
    to the vendors directory (the profile's grandparent by default)."""
    base = (vendors_dir or path.resolve().parent.parent).resolve()
    raw = loads_toml(read_bounded(path, "profile file"), f"profile {path}")
    iso_expiry_dates(raw.get("known_deviations"))
    errors = sorted(_profile_validator().iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        first = jsonschema.exceptions.best_match(errors[:1])  # into a oneOf (auth): the branch that nearly fits
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise UsageError(f"profile {path} is invalid at {where}: {first.message}")
    fields = raw.get("fields", {})
    spec_path = (base / raw["spec"]).resolve()
    if not spec_path.is_relative_to(base):  # a profile names a spec of its own directory, nothing else
        raise UsageError(f"profile {path} is invalid at spec: {raw['spec']!r} lies outside {base}")
    return Profile(
        key=path.stem,
        display_name=raw["display_name"],
        spec_path=spec_path,
        auth=NO_AUTH if raw["auth"] == "none" else Auth(**raw["auth"]),
        base_url=raw.get("base_url"),
        path_params=dict(raw.get("path_params", {})),
        echo=dict(raw.get("echo", {})),
        id_fields=tuple(fields.get("ids", ())),
        timestamp_fields=tuple(fields.get("timestamps", ())),
        timestamp_skew_seconds=raw.get("timestamp_skew_seconds"),
        known_deviations=tuple(Deviation(**d) for d in raw.get("known_deviations", ())),
        client_ids=tuple(_client_id(item) for item in raw.get("client_ids", ())),
        mock=dict(raw.get("mock", {})),
        source=path,
        origin=origin,
    )


def _client_id(raw: dict[str, Any]) -> ClientId:
    return ClientId(
        name=raw["field"],
        response=raw.get("response", raw["field"]),
        conflict_status=raw.get("conflict_status", 409),
        on_conflict=raw.get("on_conflict", REJECT),
        policy_field=raw.get("policy_field"),
        policies=dict(raw.get("policies", {})),
        existing_fields=tuple(raw.get("existing_fields", (raw.get("response", raw["field"]),))),
    )


def profile_paths(vendors_dir: Path) -> list[Path]:
    return sorted((vendors_dir / "profiles").glob("*.toml"))


def user_vendors_dir(vendors_dir: Path | str | None = None) -> Path | None:
    """The user's vendors directory: the one given, else $CONFORMANCE_VENDORS_DIR, else none."""
    chosen = vendors_dir if vendors_dir not in (None, "") else os.environ.get(VENDORS_DIR_ENV) or None
    if chosen is None:
        return None
    path = Path(chosen)
    if not (path / "profiles").is_dir():
        raise UsageError(f"vendors directory {path}: no profiles/ folder in it (expected profiles/<key>.toml)")
    return path


def known_vendors(vendors_dir: Path | str | None = None) -> dict[str, Profile]:
    """Every vendor that has a profile, by key: the bundled ones, then the user's directory's, which add
    vendors or override bundled ones of the same key."""
    bundled = bundled_dir()
    vendors = {p.stem: load_profile(p, bundled) for p in profile_paths(bundled)}
    user = user_vendors_dir(vendors_dir)
    if user is not None:
        for path in profile_paths(user):
            vendors[path.stem] = load_profile(path, user, origin=str(user))
    return dict(sorted(vendors.items()))


def select_vendors(names: list[str] | None, vendors_dir: Path | str | None = None) -> list[Profile]:
    """The profiles named (all when `names` is empty), or a UsageError naming the unknown one."""
    vendors = known_vendors(vendors_dir)
    if not names:
        return list(vendors.values())
    selected = []
    for name in names:
        if name not in vendors:
            known = ", ".join(vendors) or "none"
            raise UsageError(f"unknown vendor {name!r} (known: {known})")
        if vendors[name] not in selected:
            selected.append(vendors[name])
    return selected
