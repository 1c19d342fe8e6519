"""`conformance compare OLD_REPORT NEW_REPORT`: one run against another, e.g. a vendor's builds.

Both reports are `conformance.json` files. Checks are keyed by `vendor::operation::check`; within a
check, failures are told apart by their id (conformance.identity), so each check lists the failure ids
that appeared, disappeared and stayed. Each key present in both runs falls in exactly one category,
by its (old -> new) outcome and failure ids:

* regression: passed, accepted or not_applicable -> failed or stale (a failing outcome now where
  the old run judged the check and it did not fail); or failing -> failing with a failure id the old
  run did not have and no baseline entry accepts (a new failure is a regression even when the check
  was already failing). The only category that exits 1.
* fix: failed -> passed.
* unchanged failure: failing (failed or stale) -> failing, with the same failure ids.
* changed failure: failing -> failing, failures only gone (or only newly accepted), none new.
* other change: any other outcome change, e.g. not_reached -> failed (the old run never judged
  the check, so it cannot have regressed), failed -> accepted (baselined), stale -> passed.
* unchanged: the same non-failing outcome; counted, not listed.

A report written before failure ids (its failures have no `id`) is still read: a check whose
failures lack ids on either side is compared by failure title instead, and the comparison warns
that it did so (titles cannot tell two failures apart: regenerate the old report to compare by id).

Keys present in one run only are "appeared" (new only) or "disappeared" (old only), whatever their
outcome; a new check that fails is not a regression. Operations (vendor::operation) present in one
run only are listed as well. Outcomes are compared as recorded, i.e. after each run's baseline.
"""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from conformance.errors import UsageError
from conformance.identity import REQUEST_KEYED, broad_id
from conformance.reports.json import validation_errors
from conformance.results import FAILING_OUTCOMES, SCHEMA_VERSION, CheckResult, Outcome, RunResult
from conformance.safeload import loads_json, read_bounded

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[str, ...] = get_args(Format)
REGRESSION_FROM: frozenset[str] = frozenset({"passed", "accepted", "not_applicable"})
# Category name -> heading, in the order every format lists them.
CATEGORIES: dict[str, str] = {
    "regressions": "Regressions",
    "fixes": "Fixes",
    "changed_failures": "Changed failures",
    "unchanged_failures": "Unchanged failures",
    "appeared": "Appeared",
    "disappeared": "Disappeared",
    "other_changes": "Other outcome changes",
}


@dataclass(frozen=True)
class FailureRef:
    """One failure as a comparison shows it: its identity, what it is, and how to reproduce it."""

    id: str  # the failure id, or in a check compared by title, the title
    title: str
    finding: str | None = None
    curl: str = ""
    accepted: bool = False  # accepted by a baseline entry or known deviation in its run


@dataclass(frozen=True)
class Change:
    """One check as the two runs saw it; an outcome is None where the run did not have the check."""

    key: str
    vendor: str
    operation: str
    check: str
    old_outcome: str | None
    new_outcome: str | None
    old_titles: tuple[str, ...] = ()  # distinct failure titles, sorted
    new_titles: tuple[str, ...] = ()
    note: str | None = None  # the note of the newest run that has the check (e.g. a stale baseline entry)
    old_failures: tuple[FailureRef, ...] = ()  # one per identity, sorted by identity
    new_failures: tuple[FailureRef, ...] = ()
    by_title: bool = False  # a side has failures without ids (an older report): identities are titles

    @property
    def appeared_ids(self) -> list[str]:
        old = {f.id for f in self.old_failures}
        return [f.id for f in self.new_failures if f.id not in old]

    @property
    def disappeared_ids(self) -> list[str]:
        new = {f.id for f in self.new_failures}
        return [f.id for f in self.old_failures if f.id not in new]

    @property
    def stayed_ids(self) -> list[str]:
        old = {f.id for f in self.old_failures}
        return [f.id for f in self.new_failures if f.id in old]

    @property
    def new_unaccepted(self) -> list[FailureRef]:
        """Failures only the new run has and nothing accepts: what makes a failing check regress."""
        old = {f.id for f in self.old_failures}
        return [f for f in self.new_failures if f.id not in old and not f.accepted]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["old_titles"] = list(self.old_titles)
        data["new_titles"] = list(self.new_titles)
        data["old_failures"] = [asdict(f) for f in self.old_failures]
        data["new_failures"] = [asdict(f) for f in self.new_failures]
        data["appeared_ids"] = self.appeared_ids
        data["disappeared_ids"] = self.disappeared_ids
        data["stayed_ids"] = self.stayed_ids
        return data


@dataclass(frozen=True)
class RunInfo:
    """What identifies one of the compared runs in a report."""

    label: str
    started_at: str
    tool_version: str
    interrupted: bool
    budget_exhausted: bool
    seed: int | None = None


@dataclass
class Comparison:
    """The difference between two runs, by category (see the module docstring)."""

    old: RunInfo
    new: RunInfo
    regressions: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    changed_failures: list[Change] = field(default_factory=list)
    unchanged_failures: list[Change] = field(default_factory=list)
    appeared: list[Change] = field(default_factory=list)
    disappeared: list[Change] = field(default_factory=list)
    other_changes: list[Change] = field(default_factory=list)
    unchanged: int = 0  # checks with the same non-failing outcome in both runs
    appeared_operations: list[str] = field(default_factory=list)  # vendor::operation
    disappeared_operations: list[str] = field(default_factory=list)
    by_title: list[str] = field(default_factory=list)  # keys compared by title: a report without failure ids

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0

    def category(self, name: str) -> list[Change]:
        changes: list[Change] = getattr(self, name)
        return changes

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"old": asdict(self.old), "new": asdict(self.new)}
        data["summary"] = {name: len(self.category(name)) for name in CATEGORIES} | {"unchanged": self.unchanged}
        for name in CATEGORIES:
            data[name] = [c.to_dict() for c in self.category(name)]
        data["appeared_operations"] = list(self.appeared_operations)
        data["disappeared_operations"] = list(self.disappeared_operations)
        data["compared_by_title"] = list(self.by_title)
        data["regressed"] = self.regressed
        return data


def _titles(result: CheckResult | None) -> tuple[str, ...]:
    return tuple(sorted({f.title for f in result.failures})) if result else ()


def _has_ids(result: CheckResult | None) -> bool:
    return result is None or all(f.id for f in result.failures)


def _refs(result: CheckResult | None, by_title: bool, coarse: Set[str] = frozenset()) -> tuple[FailureRef, ...]:
    """One reference per failure identity (the id, or the title in a check compared by title), sorted.
    A failure whose broad id (`identity.broad_id`) is in `coarse` is referred to by it."""
    if result is None:
        return ()
    refs: dict[str, FailureRef] = {}
    for f in result.failures:
        ident = f.title if by_title or not f.id else f.id
        broad = broad_id(result.vendor, result.operation, result.check, f.finding)
        if not by_title and broad is not None and broad in coarse:
            ident = broad
        ref = FailureRef(ident, f.title, f.finding, f.curl, f.accepted_reason is not None)
        known = refs.get(ident)
        # Several failures of one title (compared by title): the identity is accepted only if all are.
        refs[ident] = ref if known is None else replace(known, accepted=known.accepted and ref.accepted)
    return tuple(refs[k] for k in sorted(refs))


def _broad_ids(result: CheckResult | None) -> set[str]:
    """The ids of `result`'s failures that are broad ids (`identity.broad_id`): an older report's."""
    if result is None:
        return set()
    key = (result.vendor, result.operation, result.check)
    return {f.id for f in result.failures if f.id and broad_id(*key, f.finding) == f.id}


def _index(run: RunResult, label: str) -> dict[str, CheckResult]:
    index: dict[str, CheckResult] = {}
    for result in run.results:
        # Two results under one key would make the comparison guess which one counts.
        if result.key in index:
            raise UsageError(f"report {label} holds two results for {result.key}")
        index[result.key] = result
    return index


def _info(run: RunResult, label: str) -> RunInfo:
    return RunInfo(label, run.started_at, run.tool_version, run.interrupted, run.budget_exhausted, run.seed)


def _category(old: Outcome, new: Outcome, change: Change) -> str | None:
    """The category of a key present in both runs; None when unchanged and not failing."""
    if new in FAILING_OUTCOMES:
        if old in REGRESSION_FROM:
            return "regressions"
        if old in FAILING_OUTCOMES:
            if change.new_unaccepted:
                return "regressions"  # a new failure, though the check was already failing
            same = [f.id for f in change.old_failures] == [f.id for f in change.new_failures]
            return "unchanged_failures" if same else "changed_failures"
        return "other_changes"  # not_reached -> failing: never judged before
    if old == "failed" and new == "passed":
        return "fixes"
    return None if old == new else "other_changes"


def compare_runs(old: RunResult, new: RunResult, *, old_label: str = "old", new_label: str = "new") -> Comparison:
    """Compare two runs check by check; every list is sorted by key."""
    old_index, new_index = _index(old, old_label), _index(new, new_label)
    comparison = Comparison(old=_info(old, old_label), new=_info(new, new_label))
    for key in sorted(old_index.keys() | new_index.keys()):
        before, after = old_index.get(key), new_index.get(key)
        some = after or before
        assert some is not None  # the key came from one of the two indexes
        by_title = not (_has_ids(before) and _has_ids(after))
        if by_title:
            comparison.by_title.append(key)
        change = Change(
            key=key,
            vendor=some.vendor,
            operation=some.operation,
            check=some.check,
            old_outcome=before.outcome if before else None,
            new_outcome=after.outcome if after else None,
            old_titles=_titles(before),
            new_titles=_titles(after),
            note=some.note,
            old_failures=_refs(before, by_title),
            # An older report keyed server errors, undocumented statuses, accepted invalid and rejected valid
            # requests broadly: the newer, narrower ids are compared at its granularity, so that upgrading
            # thread-conformance is no regression.
            new_failures=_refs(after, by_title, _broad_ids(before)),
            by_title=by_title,
        )
        if before is None:
            comparison.appeared.append(change)
        elif after is None:
            comparison.disappeared.append(change)
        else:
            name = _category(before.outcome, after.outcome, change)
            if name is None:
                comparison.unchanged += 1
            else:
                comparison.category(name).append(change)
    old_ops = {f"{r.vendor}::{r.operation}" for r in old.results}
    new_ops = {f"{r.vendor}::{r.operation}" for r in new.results}
    comparison.appeared_operations = sorted(new_ops - old_ops)
    comparison.disappeared_operations = sorted(old_ops - new_ops)
    return comparison


def _transition(change: Change, arrow: str = "->") -> str:
    return f"{change.old_outcome or '(absent)'} {arrow} {change.new_outcome or '(absent)'}"


def _failure_lines(change: Change) -> list[tuple[str, FailureRef]]:
    """(marker, failure) pairs: '+' new, '-' gone, ' ' in both (the new run's view)."""
    old = {f.id for f in change.old_failures}
    new = {f.id for f in change.new_failures}
    lines = [("+", f) for f in change.new_failures if f.id not in old]
    lines += [("-", f) for f in change.old_failures if f.id not in new]
    lines += [(" ", f) for f in change.new_failures if f.id in old]
    return lines


def _label(ref: FailureRef, by_title: bool) -> str:
    """How a failure is named in a comparison: `F-7c1e9a2b Title (finding)`, or its title alone."""
    text = ref.title if by_title else f"{ref.id} {ref.title}" + (f" ({ref.finding})" if ref.finding else "")
    return text + (" [accepted]" if ref.accepted else "")


def _one_line(text: str) -> str:
    """Server text made safe for one line of a terminal: whitespace collapsed, control characters escaped."""
    text = " ".join(text.split())
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _summary(comparison: Comparison) -> str:
    parts = [f"{heading.lower()}: {len(comparison.category(name))}" for name, heading in CATEGORIES.items()]
    parts.append(f"unchanged: {comparison.unchanged}")
    return ", ".join(parts)


def _run_warnings(comparison: Comparison) -> list[str]:
    warnings = []
    if comparison.by_title:
        warnings.append(
            f"{len(comparison.by_title)} check(s) compared by failure title, not id: a report has failures without "
            "ids (written by an older version); titles cannot tell two failures apart, regenerate it to compare by id"
        )
    for side, info in (("old", comparison.old), ("new", comparison.new)):
        if info.interrupted or info.budget_exhausted:
            why = "interrupted" if info.interrupted else "stopped by its budget"
            warnings.append(f"the {side} run ({info.label}) was {why}: some checks were not reached")
    old_seed, new_seed = comparison.old.seed, comparison.new.seed
    seeded = [c for c in comparison.regressions if c.check in REQUEST_KEYED and c.new_unaccepted and c.old_failures]
    if seeded and old_seed != new_seed:
        # A cause of a defect the old run already showed may simply not have been exercised by its seed.
        checks = ", ".join(sorted({c.check for c in seeded}))
        warnings.append(
            f"the runs used different seeds ({old_seed}, {new_seed}): new failures of {checks}, a check that failed "
            "in both, are keyed by what in the generated requests triggers them and may be a cause the old run's "
            f"requests did not exercise; run the old build again with --seed {new_seed} to tell"
        )
    return warnings


def _render_text(comparison: Comparison) -> str:
    out = [f"conformance compare: {_one_line(comparison.old.label)} -> {_one_line(comparison.new.label)}"]
    out += [f"warning: {_one_line(w)}" for w in _run_warnings(comparison)]
    out.append("Failures: '+' only in the new run, '-' only in the old run, indented: in both.")
    for name, heading in CATEGORIES.items():
        changes = comparison.category(name)
        if not changes:
            continue
        out.append(f"\n{heading} ({len(changes)}):")
        for change in changes:
            out.append(f"  {change.key}: {_transition(change)}")
            for mark, ref in _failure_lines(change):
                out.append(f"    {mark} {_one_line(_label(ref, change.by_title))}")
                if name == "regressions" and mark == "+" and not ref.accepted and ref.curl:
                    out.append(f"        reproduce: {_one_line(ref.curl)}")
            if change.note:
                out.append(f"    note: {_one_line(change.note)}")
    for label, ops in (
        ("Appeared operations", comparison.appeared_operations),
        ("Disappeared operations", comparison.disappeared_operations),
    ):
        if ops:
            out.append(f"\n{label} ({len(ops)}):")
            out += [f"  {op}" for op in ops]
    out.append(f"\nSummary: {_summary(comparison)}.")
    out.append("Result: REGRESSED" if comparison.regressed else "Result: no regression")
    return "\n".join(out)


def _md(text: str) -> str:
    """Text safe inside a markdown table cell: one line, no table or HTML syntax."""
    text = _one_line(text)
    for char in "\\|`*_[]":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _render_markdown(comparison: Comparison) -> str:
    out = [f"# Conformance comparison: {_md(comparison.old.label)} → {_md(comparison.new.label)}", ""]
    out += [f"> **Warning:** {_md(w)}" for w in _run_warnings(comparison)]
    verdict = "**Regressed.**" if comparison.regressed else "**No regression.**"
    out += [f"{verdict} {_md(_summary(comparison))}.", ""]
    out += ["Failures: `+` only in the new run, `-` only in the old run, unmarked: in both.", ""]
    for name, heading in CATEGORIES.items():
        changes = comparison.category(name)
        if not changes:
            continue
        if name == "regressions":
            out += _markdown_regressions(changes)
            continue
        out += [f"## {heading} ({len(changes)})", "", "| Check | Outcome | Failures | Note |", "|---|---|---|---|"]
        for change in changes:
            titles = "<br>".join(
                f"{'' if mark == ' ' else mark + ' '}{_md(_label(ref, change.by_title))}"
                for mark, ref in _failure_lines(change)
            )
            out.append(f"| {_md(change.key)} | {_md(_transition(change, '→'))} | {titles} | {_md(change.note or '')} |")
        out.append("")
    for label, ops in (
        ("Appeared operations", comparison.appeared_operations),
        ("Disappeared operations", comparison.disappeared_operations),
    ):
        if ops:
            out += [f"## {label} ({len(ops)})", ""] + [f"- {_md(op)}" for op in ops] + [""]
    return "\n".join(out).rstrip("\n")


_MARK_WORDS = {"+": "new", "-": "gone", " ": "in both runs"}


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the block cannot be closed from inside."""
    run = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        run = max(run, current)
    return "`" * max(3, run + 1)


def _markdown_regressions(changes: list[Change]) -> list[str]:
    """Regressions as a pull-request comment wants them: each check, then each new failure with its reproduction."""
    out = [f"## Regressions ({len(changes)})", ""]
    for change in changes:
        out += [f"### {_md(change.key)}: {_md(_transition(change, '→'))}", ""]
        for mark, ref in _failure_lines(change):
            name = _md(_label(ref, change.by_title))
            if mark == "+" and not ref.accepted:
                out.append(f"- **new:** {name}")
                if ref.curl:
                    curl = "".join(c if c.isprintable() else "?" for c in ref.curl)
                    fence = _fence(curl)
                    out += [f"  {fence}sh", f"  {curl}", f"  {fence}"]
            else:
                out.append(f"- {_MARK_WORDS[mark]}: {name}")
        if change.note:
            out.append(f"- note: {_md(change.note)}")
        out.append("")
    return out


def render(comparison: Comparison, fmt: Format | str) -> str:
    """The comparison as text, markdown or JSON (no trailing newline)."""
    if fmt == "text":
        return _render_text(comparison)
    if fmt == "markdown":
        return _render_markdown(comparison)
    if fmt == "json":
        return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False)
    raise UsageError(f"unknown compare format {fmt!r} (known: {', '.join(FORMATS)})")


def load_report(path: Path | str) -> RunResult:
    """Read a conformance.json; a missing or invalid file is a one-line UsageError."""
    path = Path(path)
    # Bounded: size, nesting depth, strict JSON (no NaN); a refusal is a one-line UsageError.
    data = loads_json(read_bounded(path, "report"), f"report {path}")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise UsageError(f"report {path} is not a conformance.json (no results list)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(
            f"report {path} has schema_version {data.get('schema_version')!r}; this tool reads {SCHEMA_VERSION}"
        )
    try:
        run = RunResult.from_dict(data)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise UsageError(f"report {path} is not a conformance.json: {_one_line(str(exc))}") from None
    outcomes = get_args(Outcome)
    for result in run.results:
        if result.outcome not in outcomes:
            raise UsageError(f"report {path} has an unknown outcome {result.outcome!r} for {result.key}")
    errors = validation_errors(data)  # the documented schema, e.g. a vendor that is not a string
    if errors:
        raise UsageError(f"report {path} is not a conformance.json: {_one_line(errors[0])}")
    return run


def run_compare(old_path: Path | str, new_path: Path | str, fmt: Format | str = "text") -> tuple[str, int]:
    """Compare two report files: (rendered comparison, exit code 1 on any regression else 0)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown compare format {fmt!r} (known: {', '.join(FORMATS)})")
    old = load_report(old_path)
    new = load_report(new_path)
    comparison = compare_runs(old, new, old_label=str(old_path), new_label=str(new_path))
    return render(comparison, fmt), comparison.exit_code
