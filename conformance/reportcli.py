"""`conformance report`: regenerate any report from a conformance.json alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conformance.errors import UsageError
from conformance.reports import FILENAMES, FORMATS, ReportWriteError, atomic_write, files_for, write_files
from conformance.reports.badge import render_badges
from conformance.reports.json import dumps, load_run

STDOUT = "-"


def run_report(json_path: str, fmt: str, output: str | None) -> int:
    """Regenerate the `fmt` report from `json_path`; return the exit status (0).

    `output` is the file to write; for `badge` a directory (one file per vendor), or a `.json` file
    when the run has a single vendor. "-" prints to stdout; None writes the report's usual file name
    next to `json_path`. Each written path is printed. Raises UsageError (one line) on a bad
    format, a bad results file or an unwritable output.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    run = load_run(json_path)
    files = files_for(run, fmt)
    if output == STDOUT:
        if fmt == "badge":  # one JSON document, not one per vendor back to back
            files = {"badges": dumps(render_badges(run))}
        for text in files.values():
            _write_stdout(text)
        return 0
    if fmt == "badge" and output and output.endswith(".json") and not Path(output).is_dir():
        if len(files) != 1:
            raise UsageError(f"--output {output}: the run has {len(files)} vendors, give a directory for their badges")
        targets = {Path(output): text for text in files.values()}
    elif fmt == "badge":  # every vendor's badge, all or nothing
        directory = Path(output) if output else Path(json_path).parent
        for path in write_files(directory, files):
            print(path)
        return 0
    else:
        (text,) = files.values()
        target = Path(output) if output else Path(json_path).parent / FILENAMES[fmt]
        if target.is_dir() or (output and output.endswith(("/", os.sep))):
            target = target / FILENAMES[fmt]  # DIR/ names a folder, whether or not it exists yet
        targets = {target: text}
    for path, text in targets.items():
        try:
            atomic_write(path, text)
        except OSError as exc:
            raise ReportWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
        print(path)
    return 0


def _write_stdout(text: str) -> None:
    # Reports are UTF-8 whatever the terminal's locale says (they hold symbols like ✓ and vendor text).
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8", errors="backslashreplace"))
    buffer.flush()
