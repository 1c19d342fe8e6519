"""Report writers: thin views of one RunResult, each in its own module.

Every report can be regenerated from `conformance.json` alone (`conformance report`), and every file
is written atomically, so a crash or a full disk never leaves a half report for CI to publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.reports import badge as _badge
from conformance.reports import html as _html
from conformance.reports import json as _json
from conformance.reports import junit as _junit
from conformance.reports import markdown as _markdown
from conformance.reports._atomic import atomic_write
from conformance.reports.terminal import terminal_summary
from conformance.results import RunResult

FORMATS: tuple[str, ...] = ("json", "junit", "html", "markdown", "badge")
FILENAMES: dict[str, str] = {
    "json": _json.FILENAME,
    "junit": _junit.FILENAME,
    "html": _html.FILENAME,
    "markdown": _markdown.FILENAME,
    "badge": "badge-<vendor>.json",
}

__all__ = ["FILENAMES", "FORMATS", "atomic_write", "files_for", "render", "terminal_summary", "write_reports"]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")


def render(run: RunResult, fmt: str) -> str | dict[str, Any]:
    """One report as text (junit, html, markdown) or as JSON-ready data (json; badge: by vendor key)."""
    _check_format(fmt)
    if fmt == "json":
        return _json.render_json(run)
    if fmt == "junit":
        return _junit.render_junit(run)
    if fmt == "html":
        return _html.render_html(run)
    if fmt == "markdown":
        return _markdown.render_markdown(run)
    return _badge.render_badges(run)


def files_for(run: RunResult, fmt: str) -> dict[str, str]:
    """The files one format produces: file name -> content."""
    _check_format(fmt)
    if fmt == "badge":
        return {_badge.filename(v): _json.dumps(b) for v, b in _badge.render_badges(run).items()}
    content = render(run, fmt)
    text = _json.dumps(content) if isinstance(content, dict) else content
    return {FILENAMES[fmt]: text}


def write_reports(
    run: RunResult, directory: str | Path, formats: Iterable[str] = ("json", "junit", "html", "markdown", "badge")
) -> list[Path]:
    """Write the reports of `run` into `directory` (created if needed); return the paths written.

    Everything is rendered before anything is written, so a bug in one writer leaves all previous
    reports in place rather than a mix of old and new.
    """
    formats = [formats] if isinstance(formats, str) else list(dict.fromkeys(formats))
    for fmt in formats:
        _check_format(fmt)
    directory = Path(directory)
    contents: dict[str, str] = {}
    for fmt in formats:
        contents.update(files_for(run, fmt))
    written = [atomic_write(directory / name, text) for name, text in contents.items()]
    if "badge" in formats:
        # A badge of a vendor this run did not test is an earlier run's: publishing it would be a lie.
        for stale in directory.glob("badge-*.json"):
            if stale.name not in contents:
                stale.unlink(missing_ok=True)
    return written
