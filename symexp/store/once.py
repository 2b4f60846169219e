"""Compute a JSON artefact once, however many processes ask for it at the same time.

Used for everything that several jobs share and that is expensive: a BO run, the test set,
a PD artefact. The first process takes a file lock next to the artefact, computes, writes the
JSON atomically, releases; the others block on the lock and then read the file. A process
killed while holding the lock releases it (``flock`` locks die with their process), and since
the artefact is written atomically, the next process simply recomputes.

Self-healing: a file that does not parse, or that its ``validate`` check rejects (truncated by
a full disk, edited by hand, written by an older version), is never returned and never
silently deleted: it is *set aside* (moved into a ``.damaged/`` folder next to it, the move
reported with both paths) and the artefact is computed again.

Nothing is written when ``compute`` raises: a failure is never cached.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from symexp.store.atomic import atomic_write_json

DAMAGED_DIR = ".damaged"

Validate = Callable[[Any], "str | None"]
Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def artefact_files(directory: Path, pattern: str, prefix: str = "") -> list[Path]:
    """The finished artefact files under ``directory`` matching ``pattern`` whose name (or first
    folder below ``directory``) starts with ``prefix``, sorted; temporary and hidden files left out.

    The readers' side of the ``*_path`` functions that name the artefacts where they are written."""
    from symexp.store.atomic import TMP_PREFIX

    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for p in directory.glob(pattern):
        named = p.name if p.parent == directory else p.relative_to(directory).parts[0]
        if named.startswith(prefix) and not p.name.startswith((TMP_PREFIX, ".")):
            out.append(p)
    return sorted(out)


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def set_aside(path: str | os.PathLike[str], reason: str, log: Log | None = _stderr) -> Path:
    """Move a damaged file to ``<its dir>/.damaged/<name>.<UTC time>`` and report it.

    Returns the new path. The file is kept for inspection; the caller recomputes.
    """
    path = Path(path)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.parent / DAMAGED_DIR / f"{path.name}.{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    if log is not None:
        from symexp.textsafe import terminal

        log(f"damaged file {terminal(path)} ({terminal(reason)}): set aside as {terminal(target)}; recomputing")
    return target


def read_checked(path: str | os.PathLike[str], validate: Validate | None = None) -> tuple[Any | None, str | None]:
    """``(content, None)`` for a good file, ``(None, None)`` if absent, ``(None, why)`` if damaged."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None, None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"not valid JSON: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    if data is None:
        return None, "empty (JSON null)"
    if validate is not None:
        problem = validate(data)
        if problem:
            return None, problem
    return data, None


def read_if_exists(path: str | os.PathLike[str]) -> Any | None:
    """The JSON content of ``path``, or ``None`` if it is absent or does not parse."""
    data, _ = read_checked(path)
    return data


def compute_once(path: str | os.PathLike[str], compute: Callable[[], Any], *, validate: Validate | None = None,
                 timeout: float = -1, log: Log | None = _stderr) -> tuple[Any, bool]:
    """Return ``(artefact, computed_here)`` for the JSON file at ``path``.

    ``compute`` must return a JSON-serialisable object; it runs at most once per ``path``
    across all processes sharing the file system (unless a previous run was killed before
    writing). ``validate(content)`` returns a description of what is wrong with a stored
    artefact (``None`` if it is fine); the artefact ``compute`` returns is checked too, and a
    bad one raises ``RuntimeError`` instead of being stored. ``timeout`` is the lock wait in
    seconds (-1: forever).
    """
    path = Path(path)
    found, problem = read_checked(path, validate)
    if found is not None:
        return found, False
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(path)), timeout=timeout):
        found, problem = read_checked(path, validate)  # another process may have finished while we waited
        if found is not None:
            return found, False
        if problem is not None:
            set_aside(path, problem, log)
        value = compute()
        if validate is not None:
            bad = validate(value)
            if bad:
                raise RuntimeError(f"refusing to store {path}: {bad}")
        atomic_write_json(path, value)
        return value, True
