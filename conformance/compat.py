"""Every reach into a dependency's private internals, in one place.

Each function here uses something its library does not promise to keep. Each has a self-test in
`tests/test_compat.py` that fails loudly when the library moves, and `pyproject.toml` bounds the
library to the versions tested. Everything else in the package uses public API only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpcore
import httpx
from schemathesis.core.jsonschema.bundler import unbundle_path


class CompatError(RuntimeError):
    """A dependency no longer has the internal this module relies on: pin it, or update compat.py."""


def wrap_network_backend(
    transport: httpx.HTTPTransport, wrap: Callable[[httpcore.NetworkBackend], httpcore.NetworkBackend]
) -> None:
    """httpx: replace the network backend of `transport`'s connection pool with `wrap(backend)`.

    httpx.HTTPTransport builds its httpcore pool itself and takes no backend; building our own pool
    would mean re-implementing HTTPTransport (proxies, TLS, limits)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        raise CompatError("httpx.HTTPTransport._pool._network_backend is gone")
    pool._network_backend = wrap(backend)  # type: ignore[union-attr]


def route_schema_transport(schema: Any, transport: Any) -> None:
    """Schemathesis: make `schema` send every request (cases and its own probes) through `transport`.

    The schema's `transport` is a read-only property chosen from its `app`; a subclass that answers with
    ours is the narrowest way to replace it without patching Schemathesis globally."""
    base = type(schema)
    if not isinstance(getattr(base, "transport", None), property):
        raise CompatError("schemathesis BaseSchema.transport is no longer a property")
    schema.__class__ = type(f"Routed{base.__name__}", (base,), {"transport": property(lambda self: transport)})


def copy_serializers(target: Any, source: Any) -> None:
    """Schemathesis: give a transport of ours the serializers (JSON, form, ...) of a built-in one."""
    method = getattr(target, "_copy_serializers_from", None)
    if method is None:
        raise CompatError("schemathesis BaseTransport._copy_serializers_from is gone")
    method(source)


def unique_key_property(attribute: str) -> property:
    """Schemathesis: a property for a Failure subclass of ours that Schemathesis tells findings apart by.

    Schemathesis compares and hashes failures (and deduplicates the members of a FailureGroup) by the
    private `_unique_key`; ours must say which field a semantic failure is about, or two fields that
    break in one response would collapse into one failure."""
    from schemathesis.core.failures import Failure

    if not hasattr(Failure, "_unique_key"):
        raise CompatError("schemathesis Failure._unique_key is gone")
    return property(lambda self: getattr(self, attribute))


def without_database_key(test: Any) -> Any:
    """Hypothesis: `test` (a `@given` test that keeps no example database) is run without a source digest.

    On every run Hypothesis digests the test function's source (`inspect.getsource`, then tokenizing it) as the
    key of its example database, even when `settings.database` is None. Our one-case runs (`engine._draw`, a few
    hundred per default run) spent about 0.6 ms each on it, a third of their cost. The key is read from a private
    attribute, which Schemathesis's own executor sets to None for the same reason; with no database the key is
    never used, so nothing that is generated changes."""
    test._hypothesis_internal_database_key = None
    return test


@functools.cache
def _no_local_constants() -> Any:
    """Hypothesis' local-constants pool, empty (what `without_local_constants` puts in its place): one
    instance, as Hypothesis asks for the pool once per test case."""
    from hypothesis.internal.constants_ast import Constants

    return Constants()


@contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis: generation that depends on the seed only, not on which local modules are imported.

    Hypothesis (6.131+) mixes literals from every imported non-site-packages module into what it draws,
    and rescans whenever `sys.modules` grows. Which of our modules (or a user's conftest) are loaded
    differs between `--vendor a` and `--vendor a --vendor b`, between `-n 0` and `-n 2`, and between
    installs, so the same seed gave different cases. No public setting turns the pool off, so it is
    emptied here for the duration of our generation and restored afterwards.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants  # noqa: F401  (what _no_local_constants builds)
    except ImportError:
        raise CompatError("hypothesis' local-constants pool moved (hypothesis.internal.conjecture.providers)") from None
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if original is None or cache is None:
        raise CompatError("hypothesis providers._get_local_constants / CONSTANTS_CACHE are gone")
    if original is _no_local_constants:
        yield  # already emptied by an enclosing call (a draw within an operation): nothing to swap or clear
        return
    providers._get_local_constants = _no_local_constants
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def schema_location(failure: Any) -> list[str | int]:
    """Where in the spec a Schemathesis `JsonSchemaError` failed: its schema path with the bundle's
    generated names (`x-bundled/schema000002`) replaced by the `$ref` pointers they came from.

    The generated names are numbered in bundling order, so they change when an unrelated `$ref` is
    added to the spec; the pointers do not. Schemathesis keeps the mapping only in the private
    `_name_to_uri` slot (it uses it itself to display the path); without it, the raw path is used.
    """
    path: list[str | int] = list(getattr(failure, "schema_path", None) or [])
    name_to_uri = getattr(failure, "_name_to_uri", None)
    if isinstance(name_to_uri, dict) and name_to_uri:
        path = unbundle_path(path, name_to_uri)
    return path


def negative_locations(case: Any) -> list[str]:
    """Schemathesis: the parts of `case` generated (or, for a replaced body, judged) invalid, by location name
    (`path`, `header`, `cookie`, `query`, `body`), from `CaseMetadata.is_negative_at` and the
    `ParameterLocation` enum of `schemathesis.core`."""
    try:
        from schemathesis.core.parameters import ParameterLocation
    except ImportError:
        raise CompatError("schemathesis.core.parameters.ParameterLocation is gone") from None
    meta = case.meta
    if meta is None:
        return []
    if not callable(getattr(meta, "is_negative_at", None)):
        raise CompatError("schemathesis CaseMetadata.is_negative_at is gone")
    return [location.value for location in ParameterLocation if meta.is_negative_at(location)]


def judge_body(case: Any) -> Any:
    """Schemathesis: label `case` (drawn with an explicit body) as if its body had been generated, then
    replaced; Schemathesis validates a replaced body when the case's metadata is next read, and says
    whether the case is positive or negative by that.

    An explicit body is left out of the case's generated components, so the metadata would call every
    case positive, an invalid body too. The component list and its `ComponentInfo` are internals."""
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.generation import GenerationMode

    try:
        from schemathesis.generation.meta import ComponentInfo
    except ImportError:
        raise CompatError("schemathesis.generation.meta.ComponentInfo is gone") from None
    meta = case.meta
    components = getattr(meta, "components", None)
    if not isinstance(components, dict):
        raise CompatError("schemathesis CaseMetadata.components is gone")
    components[ParameterLocation.BODY] = ComponentInfo(mode=GenerationMode.POSITIVE)
    case.body = case.body  # marks the body as changed: the next read of `case.meta` validates it
    return case


def pytest_rootdir_and_inifile(
    args: list[str], invocation_dir: Path, inifile: str | None, rootdir: str | None, override_ini: Any
) -> tuple[Path, Path | None]:
    """The rootdir and ini file pytest chooses for these command-line paths.

    pytest chooses them before it loads plugins, so a plugin option's value given as a separate argument
    (`--report-dir out`) is taken for a test path there. Telling that apart needs pytest's own choice for the
    true paths, and only the private `_pytest.config.findpaths.determine_setup` makes it.
    """
    import inspect

    try:
        from _pytest.config.findpaths import determine_setup
    except ImportError:
        raise CompatError("pytest's _pytest.config.findpaths.determine_setup is gone") from None
    accepted = inspect.signature(determine_setup).parameters
    options: dict[str, Any] = {"inifile": inifile, "args": args, "rootdir_cmd_arg": rootdir}
    options["invocation_dir"] = invocation_dir
    if "override_ini" in accepted:
        options["override_ini"] = override_ini
    if set(options) - set(accepted):
        raise CompatError(f"pytest's determine_setup no longer takes {sorted(set(options) - set(accepted))}")
    found = determine_setup(**options)
    return found[0], found[1]
