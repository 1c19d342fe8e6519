"""The site's data: one record per published run, and what the pages derive from the records.

`index.json` holds the records (`runs`) and the views derived from them (`latest`, `vendors`,
`changes`); only `runs` is read back when more runs are published, so the site itself is the record
and a run file can be deleted once published.

Identities:

* A run is identified by (started_at, seed, vendor keys with their target URLs): `run_id`. The same
  run published twice, even from a regenerated file, is added once.
* A failure is identified by its `id` in conformance.json. Files written before failures carried an
  id get a stand-in, `derived_failure_id`: "D-" and 8 hex digits of the SHA-256 of vendor, operation,
  check and title (so the stand-in of a failure is stable across runs, but two failures that share a
  title on one check share it too).
* A row of the matrix is vendor x spec version x target; a vendor's history follows one series,
  vendor x target, across spec versions, so an upgrade is a point on its timeline.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jsonschema_rs

from conformance.errors import UsageError
from conformance.identity import broad_id
from conformance.reports._common import OUTCOMES, conformance_percent, redacted_run, result_ids
from conformance.reports.json import validation_errors
from conformance.results import SCHEMA_VERSION, RunResult
from conformance.safeload import loads_json, read_bounded

INDEX = "index.json"
SCHEMA_NAME = "index.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / SCHEMA_NAME
SITE_VERSION = 1
JUDGED = frozenset({"passed", "failed", "stale", "accepted"})
EXPLAINED = frozenset({"failed", "stale", "accepted"})


class Timer:
    """Wall time of a publish, for the command's closing line only (never written into the site)."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.start


# --------------------------------------------------------------------------------------------------- loading


def read_json_file(path: Path, what: str) -> Any:
    """The JSON document in `path`, or a one-line UsageError naming `what` it should have been.

    The one place the publisher reads a file it did not write itself (run files, and an existing
    site's index.json, which may have been edited by hand).
    """
    return loads_json(read_bounded(path, what), f"{what} {path}")


def load_run_file(path: Path) -> tuple[dict[str, Any], RunResult]:
    """A conformance.json as data and as a RunResult (validated against its schema), or a UsageError."""
    data = read_json_file(path, "results file")
    if (
        isinstance(data, dict)
        and isinstance(data.get("schema_version"), int)
        and data["schema_version"] > SCHEMA_VERSION
    ):
        raise UsageError(
            f"results file {path} has schema_version {data['schema_version']}, newer than this tool reads "
            f"({SCHEMA_VERSION}); upgrade thread-conformance"
        )
    errors = validation_errors(_without_failure_ids(data))
    if errors:
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise UsageError(f"results file {path} is not a conformance results file: {_one_line(errors[0])}{more}")
    try:
        run = RunResult.from_dict(_without_failure_ids(data))
    except (TypeError, KeyError, ValueError) as exc:
        raise UsageError(f"results file {path} is not a conformance results file: {_one_line(str(exc))}") from None
    return data, run


def _without_failure_ids(data: Any) -> Any:
    # Failure ids are read from the raw data (`failure.get("id")`); the model of this version may not
    # know the field yet, so it is set aside for validation and for the model.
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return data
    schema_failure = _schema_failure_properties()
    if "id" in schema_failure:
        return data
    copy = dict(data)
    copy["results"] = [
        {
            **r,
            "failures": [
                {k: v for k, v in f.items() if k != "id"} if isinstance(f, dict) else f for f in r["failures"]
            ],
        }
        if isinstance(r, dict) and isinstance(r.get("failures"), list)
        else r
        for r in data["results"]
    ]
    return copy


def _drop_id(failure: Any) -> Any:
    return {k: v for k, v in failure.items() if k != "id"} if isinstance(failure, dict) else failure


@cache
def _schema_failure_properties() -> frozenset[str]:
    from conformance.reports.json import schema

    return frozenset(schema()["$defs"]["Failure"]["properties"])


@cache
def site_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of index.json."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _record_validator() -> Any:
    # Only the record is read back (the rest of index.json is derived from it and rewritten), and it can
    # hold thousands of runs: the Rust validator Schemathesis already depends on checks it in milliseconds
    # where the pure-Python one takes seconds.
    schema = site_schema()
    record = {
        "$schema": schema["$schema"],
        "type": "object",
        "required": ["site_version", "runs"],
        "properties": {"site_version": schema["properties"]["site_version"], "runs": schema["properties"]["runs"]},
        "$defs": schema["$defs"],
    }
    return jsonschema_rs.validator_for(record)


def load_site_records(directory: Path) -> list[dict[str, Any]]:
    """The run records of the site already in `directory` (none when it holds no site yet)."""
    path = directory / INDEX
    if not path.exists():
        return []
    data = read_json_file(path, "site index")
    error = next(iter(_record_validator().iter_errors(data)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.instance_path)
        raise UsageError(f"{path} is not a conformance site index: at /{where}: {_one_line(error.message)}")
    runs: list[dict[str, Any]] = data["runs"]
    return runs


def _one_line(text: str, limit: int = 300) -> str:
    from conformance.redact import redact

    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------- records


def clean_target(url: str) -> str:
    """The target URL without credentials, query or fragment (a non-URL, e.g. "embedded reference mock", as is)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    if not parts.scheme or not parts.netloc:
        return url.strip()
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def run_id(run: RunResult) -> str:
    """A published run's identity: "R-" and 12 hex digits of (started_at, seed, vendors and their targets)."""
    targets = sorted((v.vendor, clean_target(v.target_url)) for v in run.vendors)
    key = json.dumps([run.started_at, run.seed, targets], sort_keys=True, ensure_ascii=True)
    return "R-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def derived_failure_id(vendor: str, operation: str, check: str, title: str) -> str:
    """The stand-in id of a failure from a file written before failures carried one (see the module doc)."""
    key = json.dumps([vendor, operation, check, title], ensure_ascii=True)
    return "D-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (a naive one is taken as UTC); None if unparseable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_stamp(value: str | None) -> str:
    """A time as RFC 3339 UTC to the second ("2026-12-04T16:20:05Z"); the input as is when unparseable."""
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else (value or "")


REPORT_NAME = "report.html"


def report_path(rid: str) -> str:
    return f"runs/{rid}/{REPORT_NAME}"


def make_record(data: dict[str, Any], run: RunResult) -> dict[str, Any]:
    """The site's record of one run: everything the pages need, no request or response body."""
    run = redacted_run(run)
    rid = run_id(run)
    anchors = result_ids(run)
    raw_results = data.get("results", [])
    vendors = []
    for vendor in run.vendors:
        checks = []
        for index, result in enumerate(run.results):
            if result.vendor != vendor.vendor:
                continue
            raw_failures = raw_results[index].get("failures", []) if index < len(raw_results) else []
            failures = []
            for n, failure in enumerate(result.failures):
                raw = raw_failures[n] if n < len(raw_failures) and isinstance(raw_failures[n], dict) else {}
                given = raw.get("id")
                fid = given if isinstance(given, str) and given else None
                record = {
                    "id": fid or derived_failure_id(vendor.vendor, result.operation, result.check, failure.title),
                    "derived_id": fid is None,
                    "title": failure.title,
                    "accepted": failure.accepted_reason is not None,
                    "accepted_reason": failure.accepted_reason,
                    "accepted_link": failure.accepted_link,
                    "accepted_expires": failure.accepted_expires,
                }
                broad = broad_id(vendor.vendor, result.operation, result.check, failure.finding) if fid else None
                if broad is not None and broad != fid:
                    record["broad_id"] = broad
                failures.append(record)
            checks.append(
                {
                    "operation": result.operation,
                    "check": result.check,
                    "outcome": result.outcome,
                    "cases": result.cases,
                    # The report explains only failing, stale and accepted checks, and those with failures.
                    "anchor": anchors[index] if failures or result.outcome in EXPLAINED else None,
                    "failures": failures,
                }
            )
        vendors.append(
            {
                "vendor": vendor.vendor,
                "display_name": vendor.display_name,
                "spec_title": vendor.spec_title,
                "spec_version": vendor.spec_version,
                "target": clean_target(vendor.target_url),
                "cases": vendor.cases,
                "percent": conformance_percent(run, vendor.vendor),
                "checks": checks,
            }
        )
    return {
        "id": rid,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "seed": run.seed,
        "tool_version": run.tool_version,
        "schemathesis_version": run.schemathesis_version,
        "interrupted": run.interrupted,
        "budget_exhausted": run.budget_exhausted,
        "failed": run.failed,
        "report": report_path(rid),
        "vendors": vendors,
    }


def record_sort_key(record: dict[str, Any]) -> tuple[str, str]:
    moment = parse_time(record["started_at"])
    return (moment.isoformat() if moment else record["started_at"], record["id"])


# --------------------------------------------------------------------------------------------------- views

# The outcome a matrix cell shows for a check over several operations: the worst one.
_RANK = {o: i for i, o in enumerate(OUTCOMES)}


def worst(outcomes: Iterable[str]) -> str:
    return min(outcomes, key=lambda o: _RANK.get(o, len(_RANK)), default="not_applicable")


@dataclass
class Entry:
    """One vendor's part of one run, placed in time."""

    run: dict[str, Any]
    vendor: dict[str, Any]

    @property
    def when(self) -> str:
        return utc_stamp(self.run["started_at"])

    @property
    def day(self) -> str:
        return self.when[:10]

    @property
    def series(self) -> tuple[str, str]:
        return (self.vendor["vendor"], self.vendor["target"])

    @property
    def row_key(self) -> tuple[str, str, str]:
        return (self.vendor["vendor"], self.vendor["spec_version"], self.vendor["target"])

    def failure_ids(self) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """failure id -> (its check entry, the failure), in the run's order."""
        out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for check in self.vendor["checks"]:
            for failure in check["failures"]:
                out.setdefault(failure["id"], (check, failure))
        return out

    def judged(self, operation: str, check: str) -> bool:
        return any(
            c["operation"] == operation and c["check"] == check and c["outcome"] in JUDGED
            for c in self.vendor["checks"]
        )


@dataclass
class Lifecycle:
    """One failure of one series over time: when it appeared, when it went away (and came back)."""

    id: str
    vendor: str
    target: str
    operation: str
    check: str
    title: str
    derived_id: bool
    first_seen: str
    last_seen: str
    fixed: str | None  # the first run without it after it was last seen; None while it is open
    reopened: int = 0  # times it came back after a fix
    accepted: bool = False  # accepted in the latest run that has it
    accepted_reason: str | None = None
    accepted_link: str | None = None
    accepted_expires: str | None = None
    accepted_since: str | None = None  # first run in which it was accepted (of the current stretch)
    runs_seen: int = 0  # runs that had it
    first_run: str = ""
    fixed_run: str | None = None
    last_run: str = ""


@dataclass
class Change:
    """One line of the Atom feed: a failure appeared, a failure went away, a new spec version."""

    kind: str  # new-failure | fixed | new-version
    when: str
    run: str
    vendor: str
    display_name: str
    target: str
    spec_version: str
    title: str
    failure_id: str | None = None
    check: str | None = None

    @property
    def key(self) -> str:
        return hashlib.sha256(
            json.dumps([self.kind, self.run, self.vendor, self.target, self.failure_id, self.spec_version]).encode()
        ).hexdigest()[:16]


def entries(records: Sequence[dict[str, Any]]) -> list[Entry]:
    """Every vendor of every run, oldest first (ties by run id then vendor key, so the order is stable)."""
    out = [Entry(r, v) for r in records for v in r["vendors"]]
    out.sort(key=lambda e: (*record_sort_key(e.run), e.vendor["vendor"], e.vendor["target"]))
    return out


def lifecycles(all_entries: Sequence[Entry]) -> tuple[list[Lifecycle], list[Change]]:
    """Every failure's lifecycle per series, and the changes (for the feed), from entries in date order."""
    open_: dict[tuple[tuple[str, str], str], Lifecycle] = {}
    done: dict[tuple[tuple[str, str], str], Lifecycle] = {}
    versions: dict[tuple[str, str], str] = {}
    changes: list[Change] = []
    for entry in all_entries:
        vendor = entry.vendor
        base = {
            "when": entry.when,
            "run": entry.run["id"],
            "vendor": vendor["vendor"],
            "display_name": vendor["display_name"],
            "target": vendor["target"],
            "spec_version": vendor["spec_version"],
        }
        previous_version = versions.get(entry.series)
        if previous_version is None or previous_version != vendor["spec_version"]:
            verb = "first run with" if previous_version is None else f"upgraded from {previous_version} to"
            changes.append(Change(kind="new-version", title=f"{verb} spec version {vendor['spec_version']}", **base))
        versions[entry.series] = vendor["spec_version"]
        present = entry.failure_ids()
        narrowed: set[tuple[tuple[str, str], str]] = set()  # open failures of a broad id that narrower ids continue
        for fid, (check, failure) in present.items():
            key = (entry.series, fid)
            life = open_.get(key)
            broad = (entry.series, failure.get("broad_id") or "")
            if life is None and key not in done and broad in open_:
                # An earlier version's broad id for this failure (identity.broad_id) is open: the same failure,
                # now told apart from others; its history carries over, and neither one is news.
                life = open_[key] = replace(open_[broad], id=fid, derived_id=failure["derived_id"])
                narrowed.add(broad)
            elif life is None:
                life = done.pop(key, None)
                if life is not None:
                    life.reopened += 1
                    life.fixed = life.fixed_run = None
                    life.accepted_since = None
                else:
                    life = Lifecycle(
                        id=fid,
                        vendor=vendor["vendor"],
                        target=vendor["target"],
                        operation=check["operation"],
                        check=check["check"],
                        title=failure["title"],
                        derived_id=failure["derived_id"],
                        first_seen=entry.when,
                        last_seen=entry.when,
                        fixed=None,
                        first_run=entry.run["id"],
                    )
                open_[key] = life
                changes.append(
                    Change(
                        kind="new-failure",
                        title=f"{'failing again' if life.reopened else 'new failure'}: {failure['title']}",
                        failure_id=fid,
                        check=check["check"],
                        **base,
                    )
                )
            life.last_seen = entry.when
            life.last_run = entry.run["id"]
            life.title = failure["title"]
            life.runs_seen += 1
            life.accepted = failure["accepted"]
            if failure["accepted"]:
                life.accepted_reason = failure["accepted_reason"]
                life.accepted_link = failure["accepted_link"]
                life.accepted_expires = failure["accepted_expires"]
                life.accepted_since = life.accepted_since or entry.when
            else:
                life.accepted_since = None
        for key in [k for k in open_ if k[0] == entry.series and k[1] not in present]:
            if key in narrowed:
                del open_[key]  # its history goes on under its narrower ids
                continue
            life = open_[key]
            if not entry.judged(life.operation, life.check):
                continue  # not judged this time (not reached, not applicable): no news either way
            life.fixed = entry.when
            life.fixed_run = entry.run["id"]
            done[key] = open_.pop(key)
            changes.append(
                Change(kind="fixed", title=f"fixed: {life.title}", failure_id=life.id, check=life.check, **base)
            )
    lives = sorted([*open_.values(), *done.values()], key=lambda x: (x.vendor, x.target, x.first_seen, x.check, x.id))
    changes.sort(
        key=lambda c: (c.when, c.run, c.vendor, c.target, c.kind != "new-version", c.check or "", c.failure_id or "")
    )
    return lives, changes


def _change_order(c: Change) -> tuple[str, str, str, str, bool, str, str]:
    return (c.when, c.run, c.vendor, c.target, c.kind != "new-version", c.check or "", c.failure_id or "")


def days_between(start: str, end: str) -> int | None:
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return (b.date() - a.date()).days


def days_until(day: str | None, since: str) -> int | None:
    """Days from `since` (a time) to `day` (an ISO date); negative once past."""
    if not day:
        return None
    try:
        target = date.fromisoformat(day[:10])
    except ValueError:
        return None
    start = parse_time(since)
    return (target - start.date()).days if start else None


# --------------------------------------------------------------------------------------------------- publish


def publish(run_files: Sequence[str | Path], out: str | Path) -> tuple[list[str], list[str], Path]:
    """Add `run_files` to the site in `out` (created if needed) and rewrite its pages and feeds.

    Returns (ids of runs added, ids already published, the site directory). Every file is read and
    checked before anything is written.
    """
    from conformance.publish.render import write_site

    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {directory} is not a directory")
    records = {r["id"]: r for r in load_site_records(directory)}
    added: list[str] = []
    skipped: list[str] = []
    new_runs: dict[str, RunResult] = {}
    for name in run_files:
        data, run = load_run_file(Path(name))
        record = make_record(data, run)
        if record["id"] in records:
            skipped.append(record["id"])
            continue
        records[record["id"]] = record
        new_runs[record["id"]] = run
        added.append(record["id"])
    ordered = sorted(records.values(), key=record_sort_key)
    write_site(directory, ordered, new_runs)
    return added, skipped, directory


def run_publish(run_files: Sequence[str], out: str) -> int:
    """`conformance publish`: add runs to a site, print one line; raises UsageError on a bad input."""
    if not run_files:
        raise UsageError("publish needs at least one conformance.json")
    timer = Timer()
    added, skipped, directory = publish(run_files, out)
    already = f", {len(skipped)} already published" if skipped else ""
    print(f"published {len(added)} run(s){already} to {directory} in {timer.seconds():.1f} s")
    return 0
