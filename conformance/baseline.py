"""A baseline of accepted deviations: failures that do not fail the gate, strictly, one by one.

The file is TOML, validated with `schemas/baseline.schema.json`, read with `tomllib` and updated in
place with `tomlkit`, so the user's comments, reasons, links and order survive an update::

    # Accepted deviations: failures that do not fail the conformance gate.
    version = 2

    [[entry]]
    id = "F-93fec3f6"                         # the failure's id (conformance.identity)
    vendor = "seekrflow"                      # the profile key
    operation = "POST /v1/threads"
    check = "response_schema_conformance"
    description = "Response violates schema (ST108 200 /components/schemas/ThreadStatus/enum)"  # for humans
    reason = "status 'deleted' ships in v6; vendor ticket SEEKR-9."
    link = "https://example.invalid/SEEKR-9"  # optional
    expires = 2026-06-30                      # optional ISO date (a string is accepted too)

Matching: an entry accepts exactly the failure with its `id`, under its vendor, operation and check.
Another failure of the same check, even under the same title, is not accepted: it fails the run and
names its own id. `id = "*"` is the deliberate wildcard: it accepts every failure of that vendor,
operation and check. `--baseline-update` never writes it. A vendor profile's `known_deviations`
become entries of the same kind (`entries_from_profiles`).

Entries without an `id` are the title-matching form of version 1 files. A title cannot tell two
failures apart (two schema violations share "Response violates schema"), so such an entry accepts
nothing: each failure it would have matched by title stays failed with a note saying how to migrate
(`--baseline-update` replaces it by one id entry per failure it matched, with its reason kept but
marked TODO for review, or write `id = "*"`). It is not stale while its title still matches.

Unreviewed: an entry whose reason still starts with "TODO" (what `--baseline-update` writes) does not
accept its failure: the run fails with "unreviewed baseline entry", until a human writes the reason.
`allow_unreviewed = true` at the top of the file lets such entries accept (still noted).

Strictness, as applied by `apply_baseline`:

* an unexpired, reviewed entry that matches a failure accepts it; a CheckResult whose failures are
  all accepted becomes "accepted" (not failing);
* an entry expires *on* its date: from that day on it accepts nothing, and the CheckResult it
  matches stays "failed" with the note "baseline entry expired on <date> ...";
* an entry that matches no failure is stale and fails the run: a passed (or accepted) CheckResult
  becomes "stale", a failed one keeps failing with a note, and when its vendor ran but no such
  operation/check exists a "stale" CheckResult is added;
* an entry whose vendor is not in the run, or whose CheckResult is "not_reached" or
  "not_applicable", is left alone: the check did not run, so it can neither confirm nor refute it.
  So is an entry whose operation/check has no CheckResult in an interrupted or budget-exhausted
  run: the run may have stopped before reaching it;
* an entry of a check whose failures are keyed by what in the request triggers them (a server error, an
  undocumented status, an accepted invalid or a rejected valid request: `identity.REQUEST_KEYED`) is not
  stale while that check has other failures on the run: which causes of a defect a run shows depends on
  its seed. It gets a note ("not seen on this run"); it is stale once the check has no failure at all.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from conformance.errors import UsageError
from conformance.identity import REQUEST_KEYED, WILDCARD, broad_id
from conformance.results import CheckResult, Failure, RunResult
from conformance.safeload import loads_toml, read_bounded
from conformance.vendors import Profile, iso_expiry_dates

if TYPE_CHECKING:
    import tomlkit
    from tomlkit.items import Table

# tomlkit (which keeps a file's comments and layout) is imported where a baseline document is read or written
# for an update: a run without --baseline-update does not need it (tomllib reads baselines).

BASELINE_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "baseline.schema.json"
BASELINE_VERSION = 2
TODO_REASON = "TODO: explain why this deviation is accepted"
UNREVIEWED_PREFIX = "TODO"
# Outcomes of a check that did not judge anything: an entry for it is neither confirmed nor stale.
NOT_RUN_OUTCOMES: frozenset[str] = frozenset({"not_reached", "not_applicable"})
_HEADER = (
    "Accepted deviations: failures that do not fail the conformance gate (see conformance/baseline.py).",
    'Each entry accepts exactly one failure, by its id; id = "*" (written by hand) accepts any failure',
    "of its check. Strict: an entry that no longer matches a failure fails the run as stale; remove it then.",
    "Update with the suite's --baseline-update; then replace each TODO reason (a TODO entry fails the gate).",
)


@dataclass(frozen=True)
class Entry:
    """One accepted deviation: the failure `id` of a vendor's check (`*`: any), or a legacy title entry."""

    vendor: str
    operation: str
    check: str
    reason: str
    id: str | None = None  # None: a version 1 entry that matched by title, accepts nothing now
    title: str = ""  # legacy (version 1) only: a substring of the failure title
    link: str | None = None
    expires: date | None = None
    description: str | None = None
    # Where the entry comes from, for notes ("baseline.toml", "profile seekrflow"); not part of its identity.
    source: str = field(default="", compare=False)
    allow_unreviewed: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.vendor}::{self.operation}::{self.check}"

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.vendor, self.operation, self.check, self.id if self.id is not None else "title:" + self.title)

    @property
    def legacy(self) -> bool:
        return self.id is None

    @property
    def wildcard(self) -> bool:
        return self.id == WILDCARD

    @property
    def unreviewed(self) -> bool:
        return self.reason.strip().upper().startswith(UNREVIEWED_PREFIX)

    def _same_check(self, result: CheckResult) -> bool:
        return result.vendor == self.vendor and result.operation == self.operation and result.check == self.check

    def matches(self, result: CheckResult, failure: Failure) -> bool:
        """Whether this entry is about `failure`: its id (any id for `*`; for a legacy entry, its title)."""
        if not self._same_check(result):
            return False
        if self.legacy:
            return self.title in failure.title
        return self.wildcard or failure.id == self.id or self.matches_broadly(result, failure)

    def matches_broadly(self, result: CheckResult, failure: Failure) -> bool:
        """Whether this entry names `failure` only by the broad id earlier versions gave a server error, an
        undocumented status, an accepted invalid request or a rejected valid one (`identity.broad_id`: code and
        status), not by its own."""
        return (
            not self.legacy
            and not self.wildcard
            and failure.id != self.id
            and broad_id(result.vendor, result.operation, result.check, failure.finding) == self.id
        )

    def expired(self, today: date) -> bool:
        return self.expires is not None and today >= self.expires

    @property
    def from_profile(self) -> bool:
        """A vendor profile's known deviation (not a baseline file's entry)."""
        return self.source == f"profile {self.vendor}"

    def describe(self) -> str:
        if self.legacy:
            what = f"legacy entry by title {self.title!r}" if self.title else "legacy entry for any title"
        elif self.wildcard:
            what = "id * (any failure of the check)"
        else:
            what = f"id {self.id}" + (f": {self.description}" if self.description else "")
        where = f", from {self.source}" if self.source else ""
        return f"{what}{where}"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(BASELINE_SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _path_sort_key(error: jsonschema.ValidationError) -> list[tuple[int, str | int]]:
    # Array indexes and object keys mix in a path; tag them so the sort never compares int with str.
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read(path: Path) -> str:
    return read_bounded(path, "baseline file")


def load_baseline(path: Path | str) -> list[Entry]:
    """Read and validate a baseline file; any problem is a one-line UsageError naming the file."""
    path = Path(path)
    raw = loads_toml(_read(path), f"baseline {path}")
    iso_expiry_dates(raw.get("entry"))
    errors = sorted(_validator().iter_errors(raw), key=_path_sort_key)
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise UsageError(f"baseline {path} is invalid at {where}: {_one_line(first.message)}")
    allow_unreviewed = bool(raw.get("allow_unreviewed", False))
    entries: list[Entry] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for index, item in enumerate(raw.get("entry", [])):
        entry = Entry(
            vendor=item["vendor"],
            operation=item["operation"],
            check=item["check"],
            reason=item["reason"],
            id=item.get("id"),
            title=item.get("title", ""),
            link=item.get("link"),
            expires=date.fromisoformat(item["expires"]) if "expires" in item else None,
            description=item.get("description"),
            source=str(path),
            allow_unreviewed=allow_unreviewed,
        )
        # Two entries with one identity always match together, so neither could ever go stale alone.
        if entry.identity in seen:
            what = f"id {entry.id}" if entry.id is not None else f"title {entry.title!r}"
            raise UsageError(
                f"baseline {path} is invalid at entry/{index}: same vendor, operation, check and {what} "
                f"as entry/{seen[entry.identity]} ({entry.key})"
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
                    id=deviation.id or None,
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


_UNACCEPTED = "not accepted by any baseline entry: "


def _refusal(entry: Entry, failure: Failure, today: date) -> str | None:
    """Why a matching entry does not accept `failure`, as the note the CheckResult gets; None: it accepts."""
    name = failure.id or failure.title
    if entry.legacy:
        return (
            f"baseline entry matches by title ({entry.describe()}) and cannot tell failures apart, so it does "
            f"not accept {name}: run with --baseline-update to replace it by one entry per failure id (its reason "
            'is kept, marked TODO for review), or write id = "*" to accept any failure of the check'
        )
    if entry.expires is not None and entry.expired(today):
        return f"baseline entry expired on {entry.expires.isoformat()} ({entry.describe()}): renew or remove it"
    if entry.unreviewed and not entry.allow_unreviewed:
        return (
            f"unreviewed baseline entry ({entry.describe()}): its reason is still the TODO placeholder, so it "
            f"does not accept {name}; write the real reason (or set allow_unreviewed = true in the file)"
        )
    return None


def apply_baseline(run: RunResult, entries: Sequence[Entry], *, today: date) -> RunResult:
    """Apply baseline entries to a run; returns a new run, `run` itself is left untouched.

    Acceptances already present on failures (an earlier application) are kept, so profile
    deviations and a baseline file may be applied together or one after the other. When several
    entries match a failure, the first one in `entries` that accepts it gives its reason and link.
    """
    out = copy.deepcopy(run)
    ran = _vendors_in(out)
    incomplete = out.interrupted or out.budget_exhausted
    by_key: dict[str, list[CheckResult]] = {}
    for result in out.results:
        by_key.setdefault(result.key, []).append(result)

    keyed = {entry.key for entry in entries}
    matched: set[int] = set()  # indexes into entries
    refused: dict[int, list[str]] = {}  # id() of a result -> notes of entries that matched but did not accept
    broadly: dict[tuple[int, int], list[str]] = {}  # (id() of a result, entry index) -> ids it matched broadly
    for index, entry in enumerate(entries):
        for result in by_key.get(entry.key, []):
            for failure in result.failures:
                if not entry.matches(result, failure):
                    continue
                matched.add(index)
                if entry.matches_broadly(result, failure):
                    broadly.setdefault((id(result), index), []).append(failure.id or "")
                why = _refusal(entry, failure, today)
                if why is not None:
                    refused.setdefault(id(result), []).append(why)
                elif failure.accepted_reason is None:
                    failure.accepted_reason = entry.reason
                    failure.accepted_link = entry.link
                    if entry.unreviewed:
                        _add_note(result, f"accepted by an unreviewed baseline entry ({entry.describe()})")
                    failure.accepted_expires = entry.expires.isoformat() if entry.expires else None

    for result in out.results:
        for note in refused.get(id(result), []):
            _add_note(result, note)
        for (result_id, index), ids in broadly.items():
            if result_id == id(result):
                _, what = REQUEST_KEYED.get(result.check, ("", "failures"))
                _add_note(
                    result,
                    f"baseline entry ({entries[index].describe()}) names {what} by code and status only, as "
                    "earlier versions of thread-conformance did, so it accepts any such input answered so: "
                    f"replace it by the failures' own ids ({', '.join(sorted(ids))})"
                    + (
                        " in the profile's known deviations"
                        if entries[index].from_profile
                        else ": --baseline-update does, marked TODO for review"
                    ),
                )
        if result.outcome not in ("failed", "accepted") or not result.failures:
            continue  # a failed result without failures has nothing an entry could accept
        accepted = all(f.accepted_reason is not None for f in result.failures)
        result.outcome = "accepted" if accepted else "failed"
        # Name the failures that still fail the gate where entries exist for the check; recomputed, so
        # applications compose (a profile's deviations, then the file).
        earlier = _UNACCEPTED in (result.note or "")
        notes = [n for n in (result.note or "").split("; ") if n and not n.startswith(_UNACCEPTED)]
        if result.outcome == "failed" and (result.key in keyed or earlier):
            left = ", ".join(f.id or repr(f.title) for f in result.failures if f.accepted_reason is None)
            notes.append(f"{_UNACCEPTED}{left}")
        result.note = "; ".join(notes) or None

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
            if _request_keyed_and_failing(result):
                _add_note(
                    result,
                    f"baseline entry ({entry.describe()}) not seen on this run: this check's failures are keyed by "
                    "what in the generated requests triggers them, and its others show the defect is still there",
                )
                continue
            if result.outcome in ("passed", "accepted"):
                result.outcome = "stale"
            _add_note(result, note)
    return out


def _request_keyed_and_failing(result: CheckResult) -> bool:
    """Whether the check's failures are keyed by what in the request triggers them (`identity.REQUEST_KEYED`),
    and it has some on this run. Then an entry none of them matches is not stale: which causes of a vendor's
    defect a run shows depends on the requests its seed generates (a seed may exercise one cause and not the
    other), and calling the other entry stale would fail a run against an unchanged vendor."""
    return result.check in REQUEST_KEYED and bool(result.failures)


def _still_holds(entry: Entry, run: RunResult, ran: set[str]) -> bool:
    """Whether `update_baseline` keeps an entry: it matches a failure, or the run cannot tell."""
    if entry.vendor not in ran:
        return True
    results = [r for r in run.results if r.key == entry.key]
    if any(entry.matches(r, f) for r in results for f in r.failures):
        return True
    if not results:
        return run.interrupted or run.budget_exhausted  # as in apply_baseline: maybe never reached
    return all(r.outcome in NOT_RUN_OUTCOMES or _request_keyed_and_failing(r) for r in results)


def _new_entry(result: CheckResult, failure: Failure, path: Path, reason: str = TODO_REASON) -> Entry:
    return Entry(
        vendor=result.vendor,
        operation=result.operation,
        check=result.check,
        reason=reason,
        id=failure.id,
        description=f"{failure.title} ({failure.finding})" if failure.finding else failure.title,
        source=str(path),
    )


def update_baseline(path: Path | str, run: RunResult, existing_entries: Sequence[Entry]) -> list[Entry]:
    """Update the baseline file in place from the run's failures; returns the entries the file now holds.

    `existing_entries` are the file's own entries (not profile deviations, which would be copied
    into the file). An existing id or wildcard entry is kept as is, with its comments, reason, link
    and expiry, while it matches a failure or while the run cannot tell (its vendor did not run, its
    check was not reached or not applicable); the others no longer reproduce and are removed. A legacy
    title entry that matches, and an id entry that matches only by an earlier broad id
    (`Entry.matches_broadly`), is replaced by one id entry per failure it matched, its reason kept but
    prefixed with TODO (a title or a broad id may have swallowed a failure nobody reviewed). Every failure with an id
    that no kept entry covers gets a new entry with the TODO reason, appended in a stable order,
    except a failure already accepted by something else (a profile's known deviation, in an applied
    run). An expired entry is kept while it matches: renewing it is a human decision.
    """
    from tomlkit.items import AoT

    path = Path(path)
    ran = _vendors_in(run)
    document = _load_document(path)
    items = document.get("entry")
    tables: list[Table] = list(items) if isinstance(items, AoT) else []
    if items is not None and not isinstance(items, AoT) and existing_entries:
        raise UsageError(f"baseline {path}: write its entries as [[entry]] tables, so that an update can edit them")
    if len(tables) != len(existing_entries):
        raise UsageError(f"baseline {path} changed while the run was going on: run again")
    kept: list[tuple[Table, Entry]] = []
    migrated: dict[tuple[str, str, str, str], Entry] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for table, entry in zip(tables, existing_entries, strict=True):
        if entry.identity in seen or not _still_holds(entry, run, ran):
            continue
        seen.add(entry.identity)
        matches = [(r, f) for r in run.results for f in r.failures if f.id and entry.matches(r, f)]
        # An id entry stays, unless it matched only by an earlier broad id: then, like a title entry, it may have
        # swallowed failures nobody reviewed.
        if not matches or not (entry.legacy or all(entry.matches_broadly(r, f) for r, f in matches)):
            kept.append((table, entry))  # (no match: the run cannot tell, left for a run that can)
            continue
        was = f"by title {entry.title!r}" if entry.legacy else f"by the broad id {entry.id}"
        reason = entry.reason if entry.unreviewed else f"TODO (was accepted {was}): {entry.reason}"
        for result, failure in matches:
            new = replace(_new_entry(result, failure, path, reason), link=entry.link, expires=entry.expires)
            migrated.setdefault(new.identity, new)
    fresh: dict[tuple[str, str, str, str], Entry] = {}
    covering = [e for _, e in kept] + list(migrated.values())
    for result in run.results:
        for failure in result.failures:
            if failure.id is None or failure.accepted_reason is not None:
                continue
            if any(e.matches(result, failure) for e in covering if not e.legacy):
                continue
            entry = _new_entry(result, failure, path)
            fresh.setdefault(entry.identity, entry)
    added = sorted([*migrated.values(), *fresh.values()], key=lambda e: e.identity)
    leads = _comment_leads(tables)
    if "entry" in document:
        del document["entry"]
    document["version"] = BASELINE_VERSION
    out: list[Table] = []
    for table, _ in kept:
        for item in leads.get(id(table), []):  # the comment written above an entry stays above it
            (out[-1] if out else document).add(item)
        out.append(table)
    out += [_table(e) for e in added]
    if out:
        for item in leads.get(None, []):  # comments after the last entry stay at the end
            out[-1].add(item)
        document.append("entry", AoT(out))
    _write_text(path, document.as_string())
    return [e for _, e in kept] + added


def _new_document() -> tomlkit.TOMLDocument:
    import tomlkit

    document = tomlkit.document()
    for line in _HEADER:
        document.add(tomlkit.comment(line))
    return document


def _comment_leads(tables: list[Table]) -> dict[int | None, list[Any]]:
    """Detach the comments written above each entry, by id() of the entry (None: after the last one).

    tomlkit keeps a comment between two [[entry]] tables in the body of the first; a reader means it
    for the second, so it must move (or go) with the second when entries are removed or added.
    """
    from tomlkit.items import Comment, Whitespace

    leads: dict[int | None, list[Any]] = {}
    for index, table in enumerate(tables):
        body = table.value.body
        cut = len(body)
        while cut > 0 and body[cut - 1][0] is None and isinstance(body[cut - 1][1], Comment | Whitespace):
            cut -= 1
        trailing = [item for _, item in body[cut:] if isinstance(item, Comment)]  # tomlkit spaces tables itself
        del body[cut:]
        following = tables[index + 1] if index + 1 < len(tables) else None
        leads[id(following) if following is not None else None] = trailing
    return leads


def _load_document(path: Path) -> tomlkit.TOMLDocument:
    import tomlkit
    import tomlkit.exceptions

    if not path.exists():
        return _new_document()
    try:
        return tomlkit.parse(_read(path))
    except tomlkit.exceptions.TOMLKitError as exc:
        raise UsageError(f"baseline {path} is not valid TOML: {_one_line(str(exc))}") from None


def _table(entry: Entry) -> Table:
    import tomlkit

    table = tomlkit.table()
    fields: list[tuple[str, Any]] = [
        ("id", entry.id),
        ("vendor", entry.vendor),
        ("operation", entry.operation),
        ("check", entry.check),
        ("title", entry.title if entry.legacy and entry.title else None),
        ("description", entry.description),
        ("reason", entry.reason),
        ("link", entry.link),
        ("expires", entry.expires.isoformat() if entry.expires else None),
    ]
    for name, value in fields:
        if value is not None:
            table.add(name, value)
    return table


def dumps_baseline(entries: Iterable[Entry]) -> str:
    """A new baseline file's text for `entries`, in the order given."""
    from tomlkit.items import AoT

    document = _new_document()
    document["version"] = BASELINE_VERSION
    tables = [_table(e) for e in entries]
    if tables:
        document.append("entry", AoT(tables))
    return document.as_string()


def write_baseline(path: Path | str, entries: Iterable[Entry]) -> None:
    """Write a new baseline file for `entries`, atomically."""
    _write_text(Path(path), dumps_baseline(entries))


def _write_text(path: Path, text: str) -> None:
    """Write the baseline file atomically (temp file in the same directory, then os.replace)."""
    try:
        data = text.encode("utf-8")
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
