"""`conformance vendor init`: a starter profile from any OpenAPI 3.x spec, every guess marked for review.

What is read from the spec, and how:

- auth: the creating operation's security requirement (else the document's), looked up in
  `components.securitySchemes`: HTTP bearer, OAuth 2 and OpenID Connect send `Authorization: Bearer`,
  HTTP basic `Authorization: Basic`, an apiKey in a header that header; no requirement is `auth = "none"`.
- ids and timestamps: `format: uuid` and `format: date-time` properties of the success response.
- echo fields: request body properties that come back under the same name in the success response, and
  path parameters that do.
- path parameters: each one, pinned to its example when the spec gives one, else to a placeholder.
- client-chosen ids: a request property that is also an id of the response; a documented 409 is its
  conflict status; a request enum whose name speaks of existence or conflicts is the policy field.

The profile is written as TOML text by hand (the standard library reads TOML but does not write it), and
validated against the profile schema before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.vendors import VENDORS_DIR_ENV, _profile_validator, load_spec

GUESS = "# guessed: confirm"
HTTP_METHODS = ("post", "put", "patch", "get", "delete", "options", "head", "trace")
_KEY = re.compile(r"[a-z][a-z0-9_-]*")
_POLICY_NAME = re.compile(r"exist|conflict|duplicate", re.IGNORECASE)
_REJECTING = re.compile(r"raise|error|fail|reject", re.IGNORECASE)
_RETURNING = re.compile(r"nothing|ignore|existing|return|get|skip", re.IGNORECASE)


@dataclass
class _Lines:
    """The TOML text being written, a section at a time."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _toml(value: Any) -> str:
    """A TOML value for a JSON-compatible Python value (TOML basic strings accept JSON's escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise UsageError(f"cannot write {type(value).__name__} into a profile")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _resolve(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """Follow a local `$ref` chain (only at this node)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 32:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node, depth = target, depth + 1
    return node if isinstance(node, dict) else {}


def _properties(schema: Any, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Top-level properties of an object schema, refs resolved (allOf members merged, anyOf/oneOf ignored)."""
    schema = _resolve(schema, spec)
    out: dict[str, dict[str, Any]] = {}
    for member in schema.get("allOf", ()):
        out.update(_properties(member, spec))
    for name, prop in (schema.get("properties") or {}).items():
        out[str(name)] = _resolve(prop, spec)
    return out


def _json_schema(holder: Any, spec: dict[str, Any]) -> Any:
    content = _resolve(holder, spec).get("content") or {}
    media = next((m for t, m in content.items() if "json" in str(t).lower()), None)
    return media.get("schema") if isinstance(media, dict) else None


def _format(prop: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """The `format` of a property, looking through a nullable anyOf/oneOf."""
    if "format" in prop:
        return str(prop["format"])
    for branch in prop.get("anyOf", prop.get("oneOf", ())):
        found = _resolve(branch, spec).get("format")
        if found:
            return str(found)
    return None


@dataclass
class _Operation:
    method: str
    path: str
    node: dict[str, Any]
    path_item: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _operations(spec: dict[str, Any]) -> list[_Operation]:
    found = []
    for path, item in (spec.get("paths") or {}).items():
        item = _resolve(item, spec)
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                found.append(_Operation(method, str(path), item[method], item))
    return found


def _creating(operations: list[_Operation]) -> list[_Operation]:
    """The operations that create: POST (else PUT) operations; all operations when there are none."""
    for method in ("post", "put"):
        chosen = [op for op in operations if op.method == method]
        if chosen:
            return chosen
    return operations


def _success(op: _Operation) -> tuple[str, Any] | None:
    for code, response in (op.node.get("responses") or {}).items():
        if re.fullmatch(r"2\d\d|2XX", str(code)):
            return str(code), response
    return None


def _auth(lines: _Lines, spec: dict[str, Any], ops: list[_Operation], key: str) -> None:
    requirements: list[Any] = []
    for op in ops:
        requirements += op.node.get("security", spec.get("security")) or []
    names = [name for requirement in requirements if isinstance(requirement, dict) for name in requirement]
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    if not names:
        lines.add(f'auth = "none"  {GUESS} (the spec names no security requirement for this operation)')
        return
    name = names[0]
    scheme = _resolve(schemes.get(name), spec)
    kind, where = str(scheme.get("type", "")), str(scheme.get("in", ""))
    http = str(scheme.get("scheme", "")).lower()
    token_env = re.sub(r"[^A-Z0-9_]", "_", key.upper()) + "_API_KEY"
    if kind == "apiKey" and where == "header":
        header, value, note = str(scheme.get("name", "")), "{token}", f"apiKey in the {scheme.get('name')} header"
    elif kind == "http" and http == "basic":
        header, value = "Authorization", "Basic {token}"
        note = "HTTP basic: the token variable holds base64(user:password)"
    elif kind in ("http", "oauth2", "openIdConnect"):
        header, value, note = "Authorization", "Bearer {token}", f"{kind} {http}".strip() + ": a bearer token"
    else:
        # A query or cookie apiKey (or an unknown type) cannot be expressed as a header: the user decides.
        header, value = "Authorization", "Bearer {token}"
        note = f"{kind or 'unknown'} scheme in {where or 'an unknown place'} is not a header: CHANGE this"
    if len(set(names)) > 1:
        note += f"; the spec also names {', '.join(sorted(set(names) - {name}))}"
    lines.add("[auth]")
    lines.add(f"# From securitySchemes.{name}: {note}.")
    lines.add(f"security_scheme = {_toml(name)}")
    lines.add(f"header = {_toml(header)}  {GUESS}")
    lines.add(f"value = {_toml(value)}  {GUESS}")
    lines.add(f"token_env = {_toml(token_env)}  {GUESS} (the token's variable; CONFORMANCE_TOKEN is the fallback)")


def vendors_dir_for(spec_path: Path, vendors_dir: Path | str | None = None) -> Path:
    """The vendors directory the profile goes to: the one given, else $CONFORMANCE_VENDORS_DIR, else the
    directory the spec lies in as DIR/specs/<name>/<file>. The spec must lie inside it, since a profile names
    its spec relative to its own directory."""
    chosen = vendors_dir if vendors_dir not in (None, "") else os.environ.get(VENDORS_DIR_ENV) or None
    if chosen is None:
        if spec_path.resolve().parent.parent.name != "specs":
            raise UsageError(f"{spec_path}: pass --vendors-dir DIR, with the spec under DIR/specs/<vendor>-<version>/")
        return spec_path.resolve().parent.parent.parent
    base = Path(chosen).resolve()
    if not spec_path.resolve().is_relative_to(base):
        raise UsageError(f"{spec_path} lies outside the vendors directory {base}: copy it under {base}/specs/")
    return base


def build_profile(spec_path: Path, key: str, vendors_dir: Path) -> str:
    """The starter profile for the spec at `spec_path`, as TOML text, validated against the profile schema."""
    if not _KEY.fullmatch(key):
        raise UsageError(f"vendor key {key!r} must be lower case letters, digits, '-' or '_', starting with a letter")
    spec = load_spec(spec_path)
    version = str(spec.get("openapi", ""))
    if not version.startswith("3."):
        raise UsageError(f"{spec_path} is not an OpenAPI 3.x document (openapi: {version or 'missing'})")
    ops = _creating(_operations(spec))
    if not ops:
        raise UsageError(f"{spec_path} has no operation")
    info = spec.get("info") or {}
    spec_ref = spec_path.resolve().relative_to(vendors_dir.resolve()).as_posix()

    request_props: dict[str, dict[str, Any]] = {}
    response_props: dict[str, dict[str, Any]] = {}
    path_params: dict[str, dict[str, Any]] = {}
    documented: set[str] = set()
    for op in ops:
        request_props.update(_properties(_json_schema(op.node.get("requestBody"), spec), spec))
        success = _success(op)
        if success is not None:
            response_props.update(_properties(_json_schema(success[1], spec), spec))
        documented |= {str(code) for code in op.node.get("responses") or {}}
        for param in [*(op.path_item.get("parameters") or ()), *(op.node.get("parameters") or ())]:
            param = _resolve(param, spec)
            if param.get("in") == "path" and "name" in param:
                path_params[str(param["name"])] = param

    ids = [name for name, prop in response_props.items() if _format(prop, spec) == "uuid"]
    stamps = [name for name, prop in response_props.items() if _format(prop, spec) == "date-time"]
    echo = {name: f"body.{name}" for name in request_props if name in response_props}
    echo.update({name: f"path.{name}" for name in path_params if name in response_props})

    lines = _Lines()
    lines.add(f"# {key}: a starter profile written by `conformance vendor init` from {spec_path.name}.")
    lines.add("# Every line marked 'guessed: confirm' is a guess from the spec: check it, then delete the mark.")
    lines.add(f"# Operations read: {', '.join(op.label for op in ops)}.")
    lines.add(f"display_name = {_toml(str(info.get('title') or key))}  {GUESS}")
    lines.add(f"spec = {_toml(spec_ref)}")
    servers = [s.get("url") for s in spec.get("servers") or () if isinstance(s, dict)]
    usable = [url for url in servers if isinstance(url, str) and re.match(r"https?://[^{}]+$", url)]
    if usable:
        lines.add(f"base_url = {_toml(usable[0])}  {GUESS} (the spec's first server)")
    lines.add("# Accepted deviations: {operation, check, title, reason, link, expires}; each is a strict expectation.")
    lines.add("known_deviations = []")
    _auth(lines, spec, ops, key)
    lines.add()

    lines.add("[path_params]")
    if path_params:
        lines.add("# Pinned to a resource that exists on the target; override with --param NAME=VALUE.")
    for name, param in path_params.items():
        example = param.get("example", _resolve(param.get("schema"), spec).get("example"))
        value = str(example) if isinstance(example, str | int) else "CHANGE-ME"
        lines.add(f"{_toml_key(name)} = {_toml(value)}  {GUESS}: an existing {name}")
    lines.add()

    lines.add("[echo]")
    lines.add("# response field = where in the request it comes from (sent under the same name)")
    for name, location in echo.items():
        lines.add(f"{_toml_key(name)} = {_toml(location)}  {GUESS}")
    lines.add()

    lines.add("[fields]")
    lines.add(f"ids = {_toml(ids)}  {GUESS} (format: uuid in the success response)")
    lines.add(f"timestamps = {_toml(stamps)}  {GUESS} (format: date-time in the success response)")

    for name in [n for n in request_props if n in ids]:
        lines.add()
        lines.add("[[client_ids]]")
        lines.add(f"# The client may choose the id in `{name}`: a request field that is an id of the response.")
        lines.add(f"field = {_toml(name)}  {GUESS}")
        status = "409" if "409" in documented else None
        if status:
            lines.add(f"conflict_status = 409  {GUESS} (documented)")
        else:
            lines.add(f"conflict_status = 409  {GUESS}: the spec documents no 409; CHANGE to its conflict status")
        policy = next(
            (
                (n, p)
                for n, p in request_props.items()
                if _POLICY_NAME.search(n) and isinstance(p.get("enum"), list) and p["enum"]
            ),
            None,
        )
        existing = [name, *[s for s in stamps if "creat" in s.lower()], *[e for e in echo if e != name]]
        if policy is None:
            lines.add(f'on_conflict = "reject"  {GUESS}: or "return_existing"')
        else:
            policy_name, prop = policy
            policies = {}
            for value in prop["enum"]:
                text = str(value)
                policies[text] = "reject" if _REJECTING.search(text) else "return_existing"
            default = prop.get("default")
            on_conflict = policies.get(str(default), "reject") if default is not None else "reject"
            lines.add(f"policy_field = {_toml(policy_name)}  {GUESS}")
            lines.add(f"policies = {_toml(policies)}  {GUESS}")
            lines.add(f"on_conflict = {_toml(on_conflict)}  {GUESS} (the policy field's default: {default!r})")
        lines.add(f"existing_fields = {_toml(existing)}  {GUESS}: what a returned existing resource keeps")
    text = lines.text()
    _validate(text)
    return text


def _validate(text: str) -> None:
    raw = tomllib.loads(text)
    errors = sorted(_profile_validator().iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top level)"
        raise UsageError(f"the starter profile would be invalid at {where}: {errors[0].message}")


def run_init(spec: str, key: str, output: str | None, force: bool, vendors_dir: str | None = None) -> int:
    """Write the starter profile (to `output`, else `<vendors dir>/profiles/<key>.toml`; '-' for stdout)."""
    version = str(load_spec(Path(spec)).get("openapi", ""))
    if not version.startswith("3."):  # said before where the profile would go: the spec is the first mistake
        raise UsageError(f"{spec} is not an OpenAPI 3.x document (openapi: {version or 'missing'})")
    base = vendors_dir_for(Path(spec), vendors_dir)
    text = build_profile(Path(spec), key, base)
    if output == "-":
        print(text, end="")
        return 0
    target = Path(output) if output else base / "profiles" / f"{key}.toml"
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    print(f"wrote {target}: review every line marked 'guessed: confirm'")
    return 0
