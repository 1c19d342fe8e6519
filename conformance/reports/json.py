"""`conformance.json`: the run itself, from which every other report can be regenerated."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from conformance.errors import UsageError
from conformance.redact import redact
from conformance.reports._common import redacted_run
from conformance.results import SCHEMA_VERSION, RunResult
from conformance.safeload import loads_json, read_bounded

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "conformance.schema.json"
FILENAME = "conformance.json"


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) that documents and validates conformance.json."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def render_json(run: RunResult) -> dict[str, Any]:
    """The run as a JSON-ready dict (`RunResult.to_dict()` of the redacted run)."""
    return redacted_run(run).to_dict()


def dumps(data: dict[str, Any]) -> str:
    # Not ensure_ascii: response bodies in other scripts stay readable; key order is the model's.
    return redact(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def validation_errors(data: Any) -> list[str]:
    """Every way `data` breaks the schema, as `at <json pointer>: <message>` lines, first path first."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]


def load_run(path: str | Path) -> RunResult:
    """Read a conformance.json back into a RunResult, or raise UsageError with one clear line."""
    path = Path(path)
    # Bounded: size, nesting depth, strict JSON (no NaN); a refusal is a one-line UsageError.
    data = loads_json(read_bounded(path, "results file"), f"results file {path}")
    if isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise UsageError(
                f"results file {path} has schema_version {version}, newer than this tool reads ({SCHEMA_VERSION});"
                " upgrade thread-conformance"
            )
    errors = validation_errors(data)
    if errors:
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise UsageError(f"results file {path} is not a conformance results file: {_one_line(errors[0])}{more}")
    try:
        return RunResult.from_dict(data)
    except (TypeError, KeyError, ValueError) as exc:  # the schema should have caught it; keep the promise anyway
        raise UsageError(f"results file {path} is not a conformance results file: {_one_line(str(exc))}") from None


def _one_line(text: str, limit: int = 300) -> str:
    text = redact(" ".join(text.split()))  # the message may quote file content
    return text if len(text) <= limit else text[: limit - 3] + "..."
