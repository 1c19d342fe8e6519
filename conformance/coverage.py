"""The coverage record: what each body field was actually sent as, over a run.

`CoverageRecord.record` is called once per request body sent; records from parallel workers are
combined with `merge`. Counts are numbers of bodies (a class seen twice in one body counts once).
What a field is (nullable, free-form dict, plain string) is read from the body schema, and the
awkward classes are recognised by `conformance.strategies.classes`, the same code that makes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.strategies import (
    KEY_CLASSES,
    NUMBER_CLASSES,
    STRING_CLASSES,
    Components,
    dict_branch,
    dict_facts,
    encoded_size,
    is_nullable,
    resolve_schema,
    string_branch,
    string_classes,
)


def _zeros(classes: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(classes, 0)


def _add(counts: dict[str, int], other: Mapping[str, int]) -> None:
    for name, count in other.items():
        counts[name] = counts.get(name, 0) + count


def _ordered(counts: Mapping[str, int], classes: tuple[str, ...]) -> dict[str, int]:
    """Counts in the canonical class order, then any unknown class (from a newer worker) by name."""
    return {**{c: counts.get(c, 0) for c in classes}, **{c: counts[c] for c in sorted(counts) if c not in classes}}


@dataclass
class FieldCoverage:
    """What one body property was sent as, over every recorded body."""

    nullable: bool = False
    free_form: bool = False  # a free-form object (metadata/context dict) is one of its alternatives
    string: bool = False  # a plain string is one of its alternatives
    null_sent: int = 0
    absent_sent: int = 0
    value_sent: int = 0
    # Free-form dict values.
    dicts_sent: int = 0
    max_depth: int = 0
    max_keys: int = 0  # the most keys of any object inside the dict, the dict itself included
    max_body_bytes: int = 0  # the largest whole body (compact UTF-8 JSON) that carried a dict here
    key_classes: dict[str, int] = field(default_factory=lambda: _zeros(KEY_CLASSES))
    number_classes: dict[str, int] = field(default_factory=lambda: _zeros(NUMBER_CLASSES))
    value_string_classes: dict[str, int] = field(default_factory=lambda: _zeros(STRING_CLASSES))
    nested_list: int = 0
    null_value: int = 0
    boolean: int = 0
    # Plain string values.
    strings_sent: int = 0
    string_classes: dict[str, int] = field(default_factory=lambda: _zeros(STRING_CLASSES))

    def observe(self, body: Mapping[str, Any], name: str, body_bytes: int | None) -> None:
        """Count what `body` sent for this field (`body_bytes` is the body's size, if known)."""
        if name not in body:
            self.absent_sent += 1
            return
        value = body[name]
        if value is None:
            self.null_sent += 1
            return
        self.value_sent += 1
        if self.free_form and isinstance(value, Mapping):
            facts = dict_facts(value)
            self.dicts_sent += 1
            self.max_depth = max(self.max_depth, facts.depth)
            self.max_keys = max(self.max_keys, facts.max_keys)
            size = encoded_size(body) if body_bytes is None else body_bytes
            self.max_body_bytes = max(self.max_body_bytes, size)
            _add(self.key_classes, dict.fromkeys(facts.key_classes, 1))
            _add(self.number_classes, dict.fromkeys(facts.number_classes, 1))
            _add(self.value_string_classes, dict.fromkeys(facts.string_classes, 1))
            self.nested_list += facts.nested_list
            self.null_value += facts.null_value
            self.boolean += facts.boolean
        elif self.string and isinstance(value, str):
            self.strings_sent += 1
            _add(self.string_classes, dict.fromkeys(string_classes(value), 1))

    def merge(self, other: FieldCoverage) -> FieldCoverage:
        """Add `other`'s counts to this one (maxima take the larger); returns self."""
        self.nullable |= other.nullable
        self.free_form |= other.free_form
        self.string |= other.string
        for name in (
            "null_sent", "absent_sent", "value_sent", "dicts_sent", "nested_list", "null_value", "boolean",
            "strings_sent",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("max_depth", "max_keys", "max_body_bytes"):
            setattr(self, name, max(getattr(self, name), getattr(other, name)))
        for name in ("key_classes", "number_classes", "value_string_classes", "string_classes"):
            _add(getattr(self, name), getattr(other, name))
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in a fixed key order; the `dict` and `string` parts appear only for such fields."""
        result: dict[str, Any] = {
            "nullable": self.nullable,
            "null_sent": self.null_sent,
            "absent_sent": self.absent_sent,
            "value_sent": self.value_sent,
        }
        if self.free_form:
            result["dict"] = {
                "sent": self.dicts_sent,
                "max_depth": self.max_depth,
                "max_keys": self.max_keys,
                "max_body_bytes": self.max_body_bytes,
                "key_classes": _ordered(self.key_classes, KEY_CLASSES),
                "number_classes": _ordered(self.number_classes, NUMBER_CLASSES),
                "string_classes": _ordered(self.value_string_classes, STRING_CLASSES),
                "nested_list": self.nested_list,
                "null_value": self.null_value,
                "boolean": self.boolean,
            }
        if self.string:
            result["string"] = {"sent": self.strings_sent, "classes": _ordered(self.string_classes, STRING_CLASSES)}
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldCoverage:
        """Read back `to_dict()` (e.g. a worker's record)."""
        item = cls(
            nullable=bool(data["nullable"]),
            null_sent=int(data["null_sent"]),
            absent_sent=int(data["absent_sent"]),
            value_sent=int(data["value_sent"]),
        )
        if "dict" in data:
            part = data["dict"]
            item.free_form = True
            item.dicts_sent = int(part["sent"])
            item.max_depth, item.max_keys = int(part["max_depth"]), int(part["max_keys"])
            item.max_body_bytes = int(part["max_body_bytes"])
            item.key_classes = dict(part["key_classes"])
            item.number_classes = dict(part["number_classes"])
            item.value_string_classes = dict(part["string_classes"])
            item.nested_list, item.null_value = int(part["nested_list"]), int(part["null_value"])
            item.boolean = int(part["boolean"])
        if "string" in data:
            item.string = True
            item.strings_sent = int(data["string"]["sent"])
            item.string_classes = dict(data["string"]["classes"])
        return item


class CoverageRecord:
    """Per body field, what a run sent: null / absent / value, and how deep, wide, big and awkward."""

    def __init__(self) -> None:
        self.fields: dict[str, FieldCoverage] = {}
        self.bodies = 0
        self.non_object_bodies = 0
        # Resolved schemas by identity; the entry keeps the schema alive so its id is not reused.
        self._schemas: dict[tuple[int, int], tuple[Any, Any, Mapping[str, Any]]] = {}

    def _properties(self, schema: Any, components: Components) -> Mapping[str, Any]:
        key = (id(schema), id(components))
        if key not in self._schemas:
            resolved = resolve_schema(schema, components)
            properties = resolved.get("properties", {}) if isinstance(resolved, Mapping) else {}
            self._schemas[key] = (schema, components, properties)
        return self._schemas[key][2]

    def record(self, body: Any, schema: Any, components: Components = None, *, body_bytes: int | None = None) -> None:
        """Count one sent body against its schema; `body_bytes` is its size as sent, if the caller knows it."""
        self.bodies += 1
        if not isinstance(body, Mapping):
            self.non_object_bodies += 1
            return
        for name, sub in self._properties(schema, components).items():
            if name not in self.fields:
                self.fields[name] = FieldCoverage(
                    nullable=is_nullable(sub),
                    free_form=dict_branch(sub) is not None,
                    string=string_branch(sub) is not None,
                )
            self.fields[name].observe(body, name, body_bytes)

    def merge(self, other: CoverageRecord) -> CoverageRecord:
        """Add another record (e.g. a parallel worker's) into this one; returns self."""
        self.bodies += other.bodies
        self.non_object_bodies += other.non_object_bodies
        for name, item in other.fields.items():
            if name in self.fields:
                self.fields[name].merge(item)
            else:
                self.fields[name] = FieldCoverage().merge(item)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, deterministic: fields by name, classes in their canonical order."""
        return {
            "bodies": self.bodies,
            "non_object_bodies": self.non_object_bodies,
            "fields": {name: self.fields[name].to_dict() for name in sorted(self.fields)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CoverageRecord:
        """Read back `to_dict()`."""
        record = cls()
        record.bodies = int(data["bodies"])
        record.non_object_bodies = int(data["non_object_bodies"])
        record.fields = {name: FieldCoverage.from_dict(item) for name, item in data["fields"].items()}
        return record
