"""The only place that reaches into private internals of a dependency; each reach has a self-test
(tests/test_identity.py) that fails loudly when the dependency moves."""

from __future__ import annotations

from typing import Any

from schemathesis.core.jsonschema.bundler import unbundle_path


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
