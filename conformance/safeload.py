"""Bounded loading of files that come from elsewhere: specs, reports, vendor directories.

Every file we read is data, never instructions. A loader here reads at most `max_bytes`, refuses a
document nested deeper than `max_depth` or whose YAML aliases would expand past `max_nodes`, and
refuses every `$ref` that leaves the document (no network, no `file://`), unless `allow_local_refs`
lets relative refs name files under the spec's own directory, which are then inlined so that nothing
downstream (the OpenAPI validator, Schemathesis) ever resolves a reference by itself.
Every refusal is a `UnsafeDocument`: a `UsageError`, so the commands end with one line and a usage exit.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from conformance.errors import UsageError

MAX_BYTES = 64 * 1024 * 1024
# Real OpenAPI documents nest a few dozen levels; our own recursive code (the diff's canonical forms,
# jsonschema, Schemathesis) uses several frames per level, so the bound keeps well below Python's
# recursion limit.
MAX_DEPTH = 100
# Nodes the document holds once every YAML alias is expanded: a few-KB "billion laughs" file reaches
# billions, while the largest public OpenAPI documents hold a few hundred thousand.
MAX_NODES = 2_000_000
MAX_REF_EXPANSIONS = 10_000


class UnsafeDocument(UsageError):
    """A file refused by the bounded loader (too big, too deep, alias bomb, ref outside the document)."""


def read_bounded(path: Path, what: str, max_bytes: int = MAX_BYTES) -> str:
    """The text of `path` (UTF-8), refusing a file larger than `max_bytes` before reading it whole, and
    anything but a regular file: a pipe or a device in a vendor directory would block the read, or never end."""
    try:
        # O_NONBLOCK: opening a pipe for reading would otherwise wait for a writer before we could look at it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path} (no such file)") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode  # a directory opens too (read-only): it is refused here
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise UsageError(f"{what} {path} is a directory")
        raise UnsafeDocument(f"{what} {path} is not a regular file (a pipe, a device or a socket)")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise UnsafeDocument(f"{what} {path} is larger than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {what} {path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def loads_json(text: str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON (no NaN/Infinity), nested at most `max_depth` deep."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise UnsafeDocument(f"{what} is nested deeper than this tool reads ({max_depth} levels)") from None
    check_depth(data, what, max_depth)
    return data


def loads_toml(text: str, what: str, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """TOML (baselines, profiles), nested at most `max_depth` deep. tomllib parses nested arrays and inline
    tables recursively, so a deep one ends in a RecursionError: refused like any other too-deep document."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{what} is not valid TOML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise UnsafeDocument(f"{what} is nested deeper than this tool reads ({max_depth} levels)") from None
    check_depth(data, what, max_depth)
    return data


def check_depth(data: Any, what: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse `data` nested deeper than `max_depth` (an iterative walk: no recursion limit of ours)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise UnsafeDocument(f"{what} is nested deeper than {max_depth} levels")
        if isinstance(node, dict | list):
            if id(node) in seen:  # a shared (aliased) node: its depth below is already bounded
                continue
            seen.add(id(node))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _yaml_bounds(text: str, what: str, max_depth: int, max_nodes: int) -> None:
    """Walk the YAML event stream (iterative, linear in the file) and refuse an alias bomb or deep nesting
    before anything is composed: PyYAML's composer recurses per level and expands nothing lazily."""
    sizes: dict[str, int] = {}  # anchor -> nodes it stands for once expanded
    # One frame per open collection: [anchor, nodes so far]
    frames: list[list[Any]] = [[None, 0]]
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor or "", 1)
            frames[-1][1] += size
            total += size
        elif isinstance(event, yaml.ScalarEvent):
            frames[-1][1] += 1
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            frames.append([event.anchor, 1])
            total += 1
            if len(frames) - 1 > max_depth:
                raise UnsafeDocument(f"{what} is nested deeper than {max_depth} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = frames.pop()
            frames[-1][1] += size
            if anchor:
                sizes[anchor] = size
        if total > max_nodes:
            raise UnsafeDocument(f"{what} expands to more than {max_nodes} nodes (YAML aliases)")


def loads_yaml(
    text: str, what: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES, syntax: str = "YAML"
) -> Any:
    """YAML (or JSON, which is YAML) under the bounds; JSON text takes the fast, strict path."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return loads_json(text, what, max_depth=max_depth)
        except UnsafeDocument:
            raise
        except UsageError:
            pass  # not strict JSON: perhaps YAML flow style; the YAML path decides
    try:
        _yaml_bounds(text, what, max_depth, max_nodes)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise UsageError(f"{what} is not valid {syntax}{at}: {' '.join(str(problem).split())}") from None
    except RecursionError:
        raise UnsafeDocument(f"{what} is nested deeper than this tool reads ({max_depth} levels)") from None
    check_depth(data, what, max_depth)
    return data


def load_document(
    path: Path | str,
    what: str = "spec",
    *,
    allow_local_refs: bool = False,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    syntax: str = "YAML",
) -> Any:
    """A YAML/JSON document from `path`, bounded, with every `$ref` kept inside it.

    A `$ref` that does not start with `#` is refused, unless `allow_local_refs` and it is a relative
    path to a file under `path`'s own directory: that file is loaded under the same bounds and the
    referenced part inlined. Remote (`http:`, `https:`, ...) and `file:` refs are always refused.
    """
    path = Path(path)
    label = f"{what} {path}"
    text = read_bounded(path, what, max_bytes)
    doc = loads_yaml(text, label, max_depth=max_depth, max_nodes=max_nodes, syntax=syntax)
    external = [ref for ref in _refs(doc) if not ref.startswith("#")]
    if not external:
        return doc
    if not allow_local_refs:
        raise UnsafeDocument(
            f"{label} has a $ref outside the document ({_short(external[0])}); only '#/...' refs are followed"
            " (local files under the spec's directory with --allow-local-refs)"
        )
    root = path.resolve().parent
    bundler = _Bundler(root, what, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes)
    result = bundler.inline(doc, path.resolve(), doc)
    check_depth(result, label, max_depth)
    return result


def _refs(node: Any) -> Iterator[str]:
    """Every `$ref` string in `node` (iterative)."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _short(ref: str, limit: int = 80) -> str:
    ref = " ".join(ref.split())
    return repr(ref if len(ref) <= limit else ref[: limit - 3] + "...")


class _Bundler:
    """Inlines refs to local files under one directory, so the result holds only `#/...` refs."""

    def __init__(self, root: Path, what: str, **bounds: int) -> None:
        self.root = root
        self.what = what
        self.bounds = bounds
        self.files: dict[Path, Any] = {}
        self.expansions = 0

    def _file(self, path: Path) -> Any:
        if path not in self.files:
            text = read_bounded(path, self.what, self.bounds["max_bytes"])
            self.files[path] = loads_yaml(
                text, f"{self.what} {path}", max_depth=self.bounds["max_depth"], max_nodes=self.bounds["max_nodes"]
            )
        return self.files[path]

    def _target(self, ref: str, base: Path) -> tuple[Path, str]:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            raise UnsafeDocument(f"{self.what}: $ref {_short(ref)} is not a local file; no network or file: refs")
        relative = unquote(parts.path)
        target = (base.parent / relative).resolve()
        if not target.is_relative_to(self.root):
            raise UnsafeDocument(f"{self.what}: $ref {_short(ref)} leaves the spec's directory {self.root}")
        return target, parts.fragment

    def inline(self, node: Any, base: Path, doc: Any, chain: tuple[str, ...] = ()) -> Any:
        """`node` (from file `base`, whose document is `doc`) with its external refs inlined.

        In the root document `#/...` refs stay; in an included file they are inlined too, since they
        point into that file, not into the root."""
        if isinstance(node, list):
            return [self.inline(item, base, doc, chain) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (not ref.startswith("#") or chain):
            self.expansions += 1
            if self.expansions > MAX_REF_EXPANSIONS:
                raise UnsafeDocument(f"{self.what}: more than {MAX_REF_EXPANSIONS} $ref expansions across files")
            if ref.startswith("#"):
                target_path, fragment, target_doc = base, ref[1:], doc
            else:
                target_path, fragment = self._target(ref, base)
                target_doc = self._file(target_path)
            key = f"{target_path}#{fragment}"
            if key in chain:
                raise UnsafeDocument(f"{self.what}: $ref {_short(ref)} is recursive across files; bundle it first")
            target = _pointer(target_doc, fragment, ref, self.what)
            return self.inline(copy.deepcopy(target), target_path, target_doc, (*chain, key))
        return {key: self.inline(value, base, doc, chain) for key, value in node.items()}


def _pointer(doc: Any, fragment: str, ref: str, what: str) -> Any:
    node = doc
    for raw in fragment.split("/")[1:] if fragment else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise UsageError(f"{what}: $ref {_short(ref)} does not resolve")
    return node
