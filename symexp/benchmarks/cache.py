"""The evaluation cache: one small JSON file per (benchmark, protocol, fidelity, config, seed).

Layout (the benchmark key's ``/`` become directories, entries are sharded by the first two
hex digits of their id)::

    <root>/<model>/<dataset>/<protocol>/<key hash>/<id[:2]>/<id>.json

An entry holds the key fields, the cost and the fit time. Entries are written atomically
(:mod:`symexp.store.atomic`), so readers never see a torn file; a process killed mid-write leaves a
``.tmp-*`` file that :meth:`EvaluationCache.entries` ignores. A missing entry is computed under
a per-entry file lock (``<id>.json.lock``, as in :func:`symexp.store.once.compute_once`): two processes that need the same
missing entry train it once, the second one waits and reads it. Failures are never cached: the
computation raises and nothing is written. An unreadable entry (damaged by hand, a full disk)
counts as missing: it is set aside into ``.damaged/`` (and named on stderr), then recomputed.

Each cache object also keeps the costs it has seen in memory, so a process reads a file at most
once. ``root=None`` keeps the in-memory layer only.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock

from symexp.store.atomic import TMP_PREFIX, atomic_write_json
from symexp.store.once import lock_path, read_checked, set_aside
from symexp.seeding import stable_hash

ENTRY_VERSION = 1


def entry_id(bench_key: str, protocol: str, fidelity: Mapping[str, Any], config: Mapping[str, Any], seed: int) -> str:
    """The id of one evaluation: a hash of everything that determines its cost."""
    return stable_hash(bench_key, protocol, dict(fidelity), dict(config), int(seed), length=32)


class EvaluationCache:
    """Costs by entry id: in memory, and on disk under ``root`` if given."""

    def __init__(self, root: str | os.PathLike[str] | None, bench_key: str):
        self.root = None if root is None else Path(root)
        self.bench_key = bench_key
        self._memory: dict[str, float] = {}

    # pickling: the memory layer stays behind (cheap to ship to subprocesses)
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memory"] = {}
        return state

    @property
    def directory(self) -> Path | None:
        return None if self.root is None else self.root.joinpath(*self.bench_key.split("/"))

    def path(self, eid: str) -> Path:
        if self.root is None:
            raise ValueError("in-memory cache has no paths")
        return self.directory / eid[:2] / f"{eid}.json"

    def get(self, eid: str) -> float | None:
        """The cached cost, or ``None`` (memory first, then disk)."""
        cost = self._memory.get(eid)
        if cost is not None or self.root is None:
            return cost
        return self._read(eid)

    def _read(self, eid: str, set_aside_damaged: bool = False) -> float | None:
        """The stored cost, or ``None`` when absent or damaged; a damaged entry is set aside
        (named on stderr, kept in ``.damaged/``) when ``set_aside_damaged`` (under the entry's lock)."""
        entry, problem = read_checked(self.path(eid), lambda e: None if _entry_cost(e) is not None else "no finite cost")
        if problem is not None:
            if set_aside_damaged:
                set_aside(self.path(eid), problem)
            return None
        cost = None if entry is None else _entry_cost(entry)
        if cost is not None:
            self._memory[eid] = cost
        return cost

    def put_memory(self, eid: str, cost: float) -> None:
        self._memory[eid] = float(cost)

    def get_or_compute(
        self, eid: str, fields: Mapping[str, Any], compute: Callable[[], tuple[float, float]]
    ) -> tuple[float, bool]:
        """``(cost, computed_here)``; ``compute()`` returns ``(cost, fit_seconds)`` or raises."""
        found = self.get(eid)
        if found is not None:
            return found, False
        if self.root is None:
            cost, _ = compute()
            self._memory[eid] = float(cost)
            return float(cost), True

        path = self.path(eid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_path(path))):
            cost = self._read(eid, set_aside_damaged=True)  # another process may have finished while we waited
            if cost is not None:
                return cost, False
            cost, seconds = compute()
            entry = {**fields, "version": ENTRY_VERSION, "id": eid, "cost": float(cost), "fit_seconds": float(seconds)}
            atomic_write_json(path, entry)
        self._memory[eid] = float(cost)
        return float(cost), True

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every stored entry of this benchmark (temporary and lock files ignored)."""
        if self.root is None or not self.directory.is_dir():
            return
        for shard in sorted(self.directory.iterdir()):
            if not shard.is_dir():
                continue
            for f in sorted(shard.iterdir()):
                if f.name.startswith(TMP_PREFIX) or f.suffix != ".json":
                    continue
                try:
                    with open(f, encoding="utf-8") as fh:
                        yield json.load(fh)
                except (FileNotFoundError, ValueError):
                    continue


def _entry_cost(entry: Any) -> float | None:
    if not isinstance(entry, dict):
        return None
    cost = entry.get("cost")
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost):
        return None
    return float(cost)
