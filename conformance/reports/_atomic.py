"""Atomic file writes: a report is either the previous file or the complete new one, never half of it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DEFAULT_MODE = 0o644  # reports are meant to be published, unlike mkstemp's private 0o600


def atomic_write(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same directory, fsync'd, then os.replace'd.

    Creates the directory if needed. On any error the temporary file is removed and the previous
    file (if any) is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A lone surrogate (e.g. from a vendor's "\ud800" JSON escape) cannot be UTF-8; written as the
    # text "\ud800" it stays readable, and inside conformance.json it is that very JSON escape again.
    payload = data.encode("utf-8", errors="backslashreplace") if isinstance(data, str) else data
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = DEFAULT_MODE
    # Same directory, so os.replace is a rename on one file system and therefore atomic.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (e.g. Windows), hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
