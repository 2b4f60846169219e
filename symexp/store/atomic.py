"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one.

The content goes to a temporary file in the same directory, is flushed and fsynced, then
renamed over the target with :func:`os.replace` (atomic on POSIX, also on NFS for a rename
within one directory). A process killed mid-write leaves at most a ``.tmp-*`` file, which
readers ignore.

Files get the permissions an ordinary ``open()`` would give them (``0o666`` minus the umask):
``mkstemp`` creates ``0o600`` files, which would make a group-shared cache on a cluster
unreadable to colleagues.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"


def current_umask() -> int:
    """The process's umask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: set and restore (not thread-safe, but only a fallback)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent directories."""
    path = Path(path)
    try:
        return _atomic_write(path, data)
    except OSError as exc:
        if exc.filename is None:  # write/fsync errors name no file: name the one being written
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def _atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON (NaN/inf rejected: they are not JSON)."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
