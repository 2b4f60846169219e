"""Compute a JSON artefact once, however many processes ask for it at the same time.

Used for everything that several jobs share and that is expensive: a BO run, the test set,
an evaluation. The first process takes a file lock next to the artefact, computes, writes the
JSON atomically, releases; the others block on the lock and then read the file. A process
killed while holding the lock releases it (``fcntl`` locks die with their process), and since
the artefact is written atomically, the next process simply recomputes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

from symexp.atomic import atomic_write_json

T = TypeVar("T")


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def read_if_exists(path: str | os.PathLike[str]) -> Any | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def compute_once(path: str | os.PathLike[str], compute: Callable[[], Any], *, timeout: float = -1) -> tuple[Any, bool]:
    """Return ``(artefact, computed_here)`` for the JSON file at ``path``.

    ``compute`` must return a JSON-serialisable object; it runs at most once per ``path``
    across all processes sharing the file system (unless a previous run was killed before
    writing). ``timeout`` is the lock wait in seconds (-1: forever).
    """
    path = Path(path)
    found = read_if_exists(path)
    if found is not None:
        return found, False
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(path)), timeout=timeout):
        found = read_if_exists(path)  # another process may have finished while we waited
        if found is not None:
            return found, False
        value = compute()
        atomic_write_json(path, value)
        return value, True
