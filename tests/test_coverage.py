"""Self-tests of the coverage record: exact counts, merging, determinism, and that the coverage phase covers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.coverage import CoverageRecord, FieldCoverage
from conformance.strategies import (
    DEFAULT_STRING_CLASSES,
    KEY_CLASSES,
    NUMBER_CLASSES,
    STRING_CLASSES,
    coverage_bodies,
    encoded_size,
    request_bodies,
    resolve_schema,
    string_branch,
)

SPEC_PATHS = sorted(
    (Path(__file__).resolve().parent.parent / "conformance" / "bundled" / "specs").glob("*/openapi.yaml")
)

SCHEMA = {"$ref": "#/components/schemas/Body"}
COMPONENTS = {
    "schemas": {
        "Body": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "title": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "meta": {"anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]},
            },
        }
    }
}
UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
BODIES: list[Any] = [
    {"id": UUID, "title": None},
    {"id": UUID, "title": "", "meta": {"$a": {"b": [[1]]}, "": -0.0}},
    {"id": UUID, "meta": {"x": 2**60, "y": 1e300, "z": 0.5, "n": None, "t": True, "e\U0001f600": "\u202e"}},
    [],
]


def vendor_bodies() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for path in SPEC_PATHS:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in spec["paths"].values():
            for operation in item.values():
                content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) else {}
                if "application/json" in content:
                    found.append((path.parent.name, spec, content["application/json"]["schema"]))
    return found


VENDOR_BODIES = vendor_bodies()


def record_of(bodies: list[Any]) -> CoverageRecord:
    record = CoverageRecord()
    for body in bodies:
        record.record(body, SCHEMA, COMPONENTS)
    return record


def test_counts_are_exact() -> None:
    data = record_of(BODIES).to_dict()
    assert data["bodies"] == 4
    assert data["non_object_bodies"] == 1
    assert list(data["fields"]) == ["id", "meta", "title"]  # by name
    title = data["fields"]["title"]
    assert (title["nullable"], title["null_sent"], title["absent_sent"], title["value_sent"]) == (True, 1, 1, 1)
    assert title["string"]["sent"] == 1
    assert title["string"]["classes"]["empty"] == 1
    assert "dict" not in title
    ident = data["fields"]["id"]
    assert (ident["nullable"], ident["null_sent"], ident["absent_sent"], ident["value_sent"]) == (False, 0, 0, 3)
    assert ident["string"] == {"sent": 3, "classes": dict.fromkeys(STRING_CLASSES, 0)}  # a uuid is a string too
    meta = data["fields"]["meta"]
    assert (meta["null_sent"], meta["absent_sent"], meta["value_sent"]) == (0, 1, 2)
    part = meta["dict"]
    assert part["sent"] == 2
    assert part["max_depth"] == 4  # meta -> $a -> b -> [[1]]: object, object, list, list
    assert part["max_keys"] == 6
    assert part["max_body_bytes"] == max(encoded_size(b) for b in BODIES[1:3])
    assert part["key_classes"] == {
        "empty": 1, "unicode": 1, "emoji": 1, "dot": 0, "dollar": 1, "slash": 0, "whitespace": 0, "long": 0,
        "escape": 0,
    }  # fmt: skip
    assert part["number_classes"] == {"big_int": 1, "negative_zero": 1, "exponent": 1, "fraction": 1}
    assert part["string_classes"]["rtl"] == 1
    assert (part["nested_list"], part["null_value"], part["boolean"]) == (1, 1, 1)
    assert list(part) == [
        "sent", "max_depth", "max_keys", "max_body_bytes", "key_classes", "number_classes", "string_classes",
        "nested_list", "null_value", "boolean",
    ]  # fmt: skip


def test_body_bytes_as_sent_overrides_the_estimate() -> None:
    record = CoverageRecord()
    record.record({"id": UUID, "meta": {}}, SCHEMA, COMPONENTS, body_bytes=12345)
    assert record.to_dict()["fields"]["meta"]["dict"]["max_body_bytes"] == 12345


def test_merge_equals_recording_everything_in_one_place() -> None:
    whole = record_of(BODIES).to_dict()
    for split in range(len(BODIES) + 1):
        left, right = record_of(BODIES[:split]), record_of(BODIES[split:])
        assert left.merge(right).to_dict() == whole
        assert record_of(BODIES[split:]).merge(record_of(BODIES[:split])).to_dict() == whole


def test_to_dict_is_json_deterministic_and_reads_back() -> None:
    forward, backward = record_of(BODIES), record_of(BODIES[::-1])
    text = json.dumps(forward.to_dict())
    assert text == json.dumps(backward.to_dict())  # same key order whatever the order of recording
    again = CoverageRecord.from_dict(json.loads(text))
    assert again.to_dict() == forward.to_dict()
    assert CoverageRecord.from_dict(json.loads(text)).merge(again).to_dict()["bodies"] == 8
    assert FieldCoverage.from_dict(forward.fields["meta"].to_dict()).to_dict() == forward.fields["meta"].to_dict()


@pytest.mark.parametrize(("name", "spec", "schema"), VENDOR_BODIES, ids=[v[0] for v in VENDOR_BODIES])
def test_the_coverage_phase_covers_every_class(name: str, spec: dict[str, Any], schema: dict[str, Any]) -> None:
    record = CoverageRecord()
    for _, body, _ in coverage_bodies(schema, components=spec):
        record.record(body, schema, spec)
    data = record.to_dict()
    assert data["non_object_bodies"] == 4 + 1  # array, string, number, boolean; null
    schemas = resolve_schema(schema, spec)["properties"]
    for name, field in data["fields"].items():
        assert field["absent_sent"] > 0 and field["value_sent"] > 0
        if field["nullable"]:
            assert field["null_sent"] > 0
        text = string_branch(schemas[name])
        if text is not None and "format" not in text:
            assert all(field["string"]["classes"][c] > 0 for c in DEFAULT_STRING_CLASSES)
        if "dict" in field:
            part = field["dict"]
            assert part["max_depth"] >= 8
            assert part["max_keys"] >= 100
            assert part["max_body_bytes"] >= 100_000
            assert all(part["key_classes"][c] > 0 for c in KEY_CLASSES)
            assert all(part["number_classes"][c] > 0 for c in NUMBER_CLASSES)
            assert part["nested_list"] and part["null_value"] and part["boolean"]


@pytest.mark.parametrize(("name", "spec", "schema"), VENDOR_BODIES, ids=[v[0] for v in VENDOR_BODIES])
def test_every_generated_body_is_counted_once_per_field(
    name: str, spec: dict[str, Any], schema: dict[str, Any]
) -> None:
    @settings(
        max_examples=10,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(request_bodies(schema, components=spec), min_size=1, max_size=5))
    def check(bodies: list[dict[str, Any]]) -> None:
        record = CoverageRecord()
        for body in bodies:
            record.record(body, schema, spec)
        data = record.to_dict()
        assert data["bodies"] == len(bodies)
        for field in data["fields"].values():
            assert field["null_sent"] + field["absent_sent"] + field["value_sent"] == len(bodies)

    check()
