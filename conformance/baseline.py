"""A baseline of accepted deviations: failures that do not fail the gate, strictly.

The file is TOML (read with `tomllib`, written back by the small deterministic writer below, so
an update produces a stable diff). It is validated with `schemas/baseline.schema.json`::

    # Accepted deviations: failures that do not fail the conformance gate.
    version = 1

    [[entry]]
    vendor = "seekrflow"                      # the profile key
    operation = "POST /v1/threads"
    check = "status_code_conformance"
    title = "Undocumented HTTP status code"   # substring of the failure title; "" or absent: any title
    reason = "Answers 400 where the spec documents 422; vendor ticket open."
    link = "https://example.invalid/TICKET-1" # optional
    expires = "2026-06-30"                    # optional ISO date (a bare TOML date is accepted too)

Matching: an entry matches a failure when vendor, operation and check equal the CheckResult's and
`title` is a (case-sensitive) substring of the failure's title. A vendor profile's
`known_deviations` become entries of the same kind (`entries_from_profiles`).

Strictness, as applied by `apply_baseline`:

* an unexpired entry that matches a failure accepts it; a CheckResult whose failures are all
  accepted becomes "accepted" (not failing);
* an entry expires *on* its date: from that day on it accepts nothing, and the CheckResult it
  matches stays "failed" with the note "baseline entry expired on <date> ...";
* an entry that matches no failure is stale and fails the run: a passed (or accepted) CheckResult
  becomes "stale", a failed one keeps failing with a note, and when its vendor ran but no such
  operation/check exists a "stale" CheckResult is added;
* an entry whose vendor is not in the run, or whose CheckResult is "not_reached" or
  "not_applicable", is left alone: the check did not run, so it can neither confirm nor refute it.
  So is an entry whose operation/check has no CheckResult in an interrupted or budget-exhausted
  run: the run may have stopped before reaching it.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from conformance.errors import UsageError
from conformance.results import CheckResult, Failure, RunResult
from conformance.vendors import Profile, iso_expiry_dates

BASELINE_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "baseline.schema.json"
BASELINE_VERSION = 1
TODO_REASON = "TODO: explain why this deviation is accepted"
# Outcomes of a check that did not judge anything: an entry for it is neither confirmed nor stale.
NOT_RUN_OUTCOMES: frozenset[str] = frozenset({"not_reached", "not_applicable"})
_HEADER = (
    "# Accepted deviations: failures that do not fail the conformance gate (see conformance/baseline.py).\n"
    "# Strict: an entry that no longer matches a failure fails the run as stale; remove it then.\n"
    "# Regenerate with the suite's baseline update; reasons, links and expiry of kept entries survive.\n"
)


@dataclass(frozen=True)
class Entry:
    """One accepted deviation: a vendor's failures of one check whose title contains `title`."""

    vendor: str
    operation: str
    check: str
    reason: str
    title: str = ""
    link: str | None = None
    expires: date | None = None
    # Where the entry comes from, for notes ("baseline.toml", "profile seekrflow"); not part of its identity.
    source: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.vendor}::{self.operation}::{self.check}"

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.vendor, self.operation, self.check, self.title)

    def matches(self, result: CheckResult, failure: Failure) -> bool:
        return (
            result.vendor == self.vendor
            and result.operation == self.operation
            and result.check == self.check
            and self.title in failure.title
        )

    def expired(self, today: date) -> bool:
        return self.expires is not None and today >= self.expires

    def describe(self) -> str:
        title = f"title {self.title!r}" if self.title else "any title"
        where = f", from {self.source}" if self.source else ""
        return f"{title}{where}"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(BASELINE_SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _path_sort_key(error: jsonschema.ValidationError) -> list[tuple[int, str | int]]:
    # Array indexes and object keys mix in a path; tag them so the sort never compares int with str.
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load_baseline(path: Path | str) -> list[Entry]:
    """Read and validate a baseline file; any problem is a one-line UsageError naming the file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"baseline file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"baseline {path} cannot be read: {_one_line(str(exc))}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"baseline {path} is not valid TOML: {_one_line(str(exc))}") from None
    iso_expiry_dates(raw.get("entry"))
    errors = sorted(_validator().iter_errors(raw), key=_path_sort_key)
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise UsageError(f"baseline {path} is invalid at {where}: {_one_line(first.message)}")
    entries: list[Entry] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for index, item in enumerate(raw.get("entry", [])):
        entry = Entry(
            vendor=item["vendor"],
            operation=item["operation"],
            check=item["check"],
            reason=item["reason"],
            title=item.get("title", ""),
            link=item.get("link"),
            expires=date.fromisoformat(item["expires"]) if "expires" in item else None,
            source=str(path),
        )
        # Two entries with one identity always match together, so neither could ever go stale alone.
        if entry.identity in seen:
            raise UsageError(
                f"baseline {path} is invalid at entry/{index}: same vendor, operation, check and title "
                f"as entry/{seen[entry.identity]} ({entry.key}, title {entry.title!r})"
            )
        seen[entry.identity] = index
        entries.append(entry)
    return entries


def entries_from_profiles(profiles: Iterable[Profile]) -> list[Entry]:
    """The profiles' known deviations as baseline entries (vendor = profile key)."""
    entries = []
    for profile in profiles:
        for deviation in profile.known_deviations:
            try:
                expires = date.fromisoformat(deviation.expires) if deviation.expires else None
            except ValueError:
                raise UsageError(
                    f"profile {profile.source or profile.key}: known deviation {deviation.operation} "
                    f"{deviation.check} has an invalid expires date {deviation.expires!r}"
                ) from None
            entries.append(
                Entry(
                    vendor=profile.key,
                    operation=deviation.operation,
                    check=deviation.check,
                    reason=deviation.reason,
                    title=deviation.title,
                    link=deviation.link,
                    expires=expires,
                    source=f"profile {profile.key}",
                )
            )
    return entries


def _vendors_in(run: RunResult) -> set[str]:
    return {v.vendor for v in run.vendors} | {r.vendor for r in run.results}


def _add_note(result: CheckResult, note: str) -> None:
    notes = result.note.split("; ") if result.note else []
    if note not in notes:
        notes.append(note)
    result.note = "; ".join(notes)


def apply_baseline(run: RunResult, entries: Sequence[Entry], *, today: date) -> RunResult:
    """Apply baseline entries to a run; returns a new run, `run` itself is left untouched.

    Acceptances already present on failures (an earlier application) are kept, so profile
    deviations and a baseline file may be applied together or one after the other. When several
    unexpired entries match a failure, the first one in `entries` gives its reason and link.
    """
    out = copy.deepcopy(run)
    ran = _vendors_in(out)
    incomplete = out.interrupted or out.budget_exhausted
    by_key: dict[str, list[CheckResult]] = {}
    for result in out.results:
        by_key.setdefault(result.key, []).append(result)

    matched: set[int] = set()  # indexes into entries
    expired_hit: set[int] = set()  # id() of results that an expired entry matches
    for index, entry in enumerate(entries):
        for result in by_key.get(entry.key, []):
            for failure in result.failures:
                if not entry.matches(result, failure):
                    continue
                matched.add(index)
                if entry.expires is not None and entry.expired(today):
                    expired_hit.add(id(result))
                    _add_note(
                        result,
                        f"baseline entry expired on {entry.expires.isoformat()} ({entry.describe()}): "
                        "renew or remove it",
                    )
                elif failure.accepted_reason is None:
                    failure.accepted_reason = entry.reason
                    failure.accepted_link = entry.link
                    failure.accepted_expires = entry.expires.isoformat() if entry.expires else None

    for result in out.results:
        if result.outcome not in ("failed", "accepted") or not result.failures:
            continue  # a failed result without failures has nothing an entry could accept
        accepted = all(f.accepted_reason is not None for f in result.failures)
        result.outcome = "accepted" if accepted and id(result) not in expired_hit else "failed"

    for index, entry in enumerate(entries):
        if index in matched or entry.vendor not in ran:
            continue
        expired = f" (also expired on {entry.expires.isoformat()})" if entry.expires and entry.expired(today) else ""
        note = f"stale baseline entry ({entry.describe()}){expired}: no failure matches it any more, remove it"
        results = by_key.get(entry.key)
        if not results and incomplete:
            continue  # the run stopped early: a missing check may simply not have been reached
        if not results:
            stale = CheckResult(vendor=entry.vendor, operation=entry.operation, check=entry.check, outcome="stale")
            _add_note(
                stale,
                f"stale baseline entry ({entry.describe()}){expired}: {entry.vendor} ran but has no such "
                "operation/check, remove it",
            )
            out.results.append(stale)
            by_key[entry.key] = [stale]
            continue
        for result in results:
            if result.outcome in NOT_RUN_OUTCOMES:
                # Neither confirmed nor refuted, but said, so the entry does not vanish from the reports.
                _add_note(result, f"baseline entry ({entry.describe()}) not checked: this check judged no case")
                continue
            if result.outcome in ("passed", "accepted"):
                result.outcome = "stale"
            _add_note(result, note)
    return out


def _still_holds(entry: Entry, run: RunResult, ran: set[str]) -> bool:
    """Whether `update_baseline` keeps an entry: it matches a failure, or the run cannot tell."""
    if entry.vendor not in ran:
        return True
    results = [r for r in run.results if r.key == entry.key]
    if any(entry.matches(r, f) for r in results for f in r.failures):
        return True
    if not results:
        return run.interrupted or run.budget_exhausted  # as in apply_baseline: maybe never reached
    return all(r.outcome in NOT_RUN_OUTCOMES for r in results)


def update_baseline(path: Path | str, run: RunResult, existing_entries: Sequence[Entry]) -> list[Entry]:
    """Rewrite the baseline file from the run's failures; returns the entries written.

    `existing_entries` are the file's own entries (not profile deviations, which would be copied
    into the file). An existing entry is kept as is (reason, link, expiry, even a broad title)
    while it matches a failure, or while the run cannot tell (its vendor did not run, its check was
    not reached or not applicable); the others no longer reproduce and are dropped. Every failure
    no kept entry covers gets a new entry with its exact title and the TODO reason, except a failure
    already accepted by something else (a profile's known deviation, in an applied run). An expired
    entry is kept while it matches: renewing it is a human decision.
    """
    path = Path(path)
    ran = _vendors_in(run)
    kept: list[Entry] = []
    seen: set[tuple[str, str, str, str]] = set()
    for entry in existing_entries:
        if entry.identity not in seen and _still_holds(entry, run, ran):
            seen.add(entry.identity)
            kept.append(entry)
    new: dict[tuple[str, str, str, str], Entry] = {}
    for result in run.results:
        for failure in result.failures:
            if any(e.matches(result, failure) for e in kept) or failure.accepted_reason is not None:
                continue
            entry = Entry(
                vendor=result.vendor,
                operation=result.operation,
                check=result.check,
                reason=TODO_REASON,
                title=failure.title,
                source=str(path),
            )
            new.setdefault(entry.identity, entry)
    entries = sorted([*kept, *new.values()], key=lambda e: e.identity)
    write_baseline(path, entries)
    return entries


def _toml_string(value: str) -> str:
    """A TOML basic string: every control character escaped, so a title from a server round-trips."""
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def dumps_baseline(entries: Iterable[Entry]) -> str:
    """The baseline file's text for `entries`, in the order given."""
    lines = [_HEADER + f"version = {BASELINE_VERSION}\n"]
    for entry in entries:
        fields: list[tuple[str, Any]] = [
            ("vendor", entry.vendor),
            ("operation", entry.operation),
            ("check", entry.check),
            ("title", entry.title),
            ("reason", entry.reason),
            ("link", entry.link),
            ("expires", entry.expires.isoformat() if entry.expires else None),
        ]
        body = "".join(f"{name} = {_toml_string(value)}\n" for name, value in fields if value is not None)
        lines.append("\n[[entry]]\n" + body)
    return "".join(lines)


def write_baseline(path: Path | str, entries: Iterable[Entry]) -> None:
    """Write the baseline file atomically (temp file in the same directory, then os.replace)."""
    path = Path(path)
    try:
        data = dumps_baseline(entries).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate in a title: TOML cannot hold it
        raise UsageError(f"baseline {path} cannot be written: {_one_line(str(exc))}") from None
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp creates 0600; keep the old file's mode, or give a new file the usual 0644.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UsageError(f"baseline {path} cannot be written: {_one_line(str(exc))}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
