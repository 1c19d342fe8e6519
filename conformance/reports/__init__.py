"""Report writers: thin views of one RunResult, each in its own module.

Every report can be regenerated from `conformance.json` alone (`conformance report`). The set of
reports is written all or nothing (`write_files`), so a crash or a full disk never leaves a half
report, or new reports beside old ones, for CI to publish.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.reports import badge as _badge
from conformance.reports import html as _html
from conformance.reports import json as _json
from conformance.reports import junit as _junit
from conformance.reports import markdown as _markdown
from conformance.reports._atomic import DEFAULT_MODE, _fsync_dir, atomic_write
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

# The exit status of a command whose reports could not be written (the previous set is left whole):
# apart from pytest's 0-5, from a verdict (1) and from a usage error (2 for the commands, 4 for a run).
REPORT_WRITE_EXIT = 6
_STAGING_PREFIX = ".conformance-staging-"

__all__ = [
    "FILENAMES",
    "FORMATS",
    "REPORT_WRITE_EXIT",
    "ReportWriteError",
    "atomic_write",
    "files_for",
    "render",
    "terminal_summary",
    "write_files",
    "write_reports",
]


class ReportWriteError(UsageError):
    """The reports could not be written (full disk, read-only, not a directory); the previous set is intact."""

    exit_code = REPORT_WRITE_EXIT


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
    """Write the reports of `run` into `directory` (created if needed), all or nothing; return the paths.

    Everything is rendered, then written by `write_files`: on any failure the previous reports stay
    whole and a `ReportWriteError` says why in one line.
    """
    formats = [formats] if isinstance(formats, str) else list(dict.fromkeys(formats))
    for fmt in formats:
        _check_format(fmt)
    directory = Path(directory)
    contents: dict[str, str] = {}
    for fmt in formats:
        contents.update(files_for(run, fmt))
    stale: list[str] = []
    if "badge" in formats and directory.is_dir():
        # A badge of a vendor this run did not test is an earlier run's: publishing it would be a lie.
        stale = [p.name for p in directory.glob("badge-*.json") if p.name not in contents]
    return write_files(directory, contents, remove=stale)


def write_files(directory: str | Path, files: Mapping[str, str], remove: Iterable[str] = ()) -> list[Path]:
    """Put `files` (name -> text) into `directory` and take the `remove` names out, all or nothing.

    Every new file is first written and fsync'd in a staging directory inside `directory` (the same
    file system, even when `directory` is a mount point), so a full disk fails before any report is
    touched. The files then go in by rename, each previous one kept as a hard link in the staging
    directory until all are in; if a rename fails, the previous files are put back. On failure a
    one-line `ReportWriteError`."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=directory))
    except OSError as exc:
        raise _write_error(directory, exc) from None
    try:
        _stage(staging, directory, files)
        return _swap_in(staging, directory, list(files), list(remove))
    except OSError as exc:
        raise _write_error(directory, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(staging: Path, directory: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        if Path(name).name != name or name.startswith(_STAGING_PREFIX):
            raise OSError(errno.EINVAL, f"not a plain file name: {name!r}")
        previous = directory / name
        mode = previous.stat().st_mode & 0o777 if previous.is_file() else DEFAULT_MODE
        payload = text.encode("utf-8", errors="backslashreplace")  # see atomic_write on lone surrogates
        fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging / name, mode)


def _swap_in(staging: Path, directory: Path, names: list[str], remove: list[str]) -> list[Path]:
    backup = staging / ".previous"
    backup.mkdir()
    kept: list[str] = []  # previous files, linked into `backup`, that a rename has replaced or removed
    try:
        for name in [*names, *remove]:
            if (directory / name).is_file():
                _keep(directory / name, backup / name)
        for name in names:
            os.replace(staging / name, directory / name)
            kept.append(name)
        for name in remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(directory / name)
    except OSError:
        for name in kept:  # put every previous file back; a name that had none is removed again
            with contextlib.suppress(OSError):
                if (backup / name).exists():
                    os.replace(backup / name, directory / name)
                else:
                    os.unlink(directory / name)
        for name in remove:
            if (backup / name).exists() and not (directory / name).exists():
                with contextlib.suppress(OSError):
                    os.replace(backup / name, directory / name)
        raise
    _fsync_dir(directory)
    return [directory / name for name in names]


def _keep(source: Path, copy: Path) -> None:
    """A hard link costs no space on a full disk; a file system without links gets a copy."""
    try:
        os.link(source, copy)
    except OSError:
        shutil.copy2(source, copy)


def _write_error(directory: Path, exc: OSError) -> ReportWriteError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ReportWriteError(f"cannot write the reports to {directory}: {reason}; the previous reports are unchanged")
