"""A BO run's trial log on disk, so that a run that dies late resumes instead of starting over.

File format: JSON Lines, append-only. The first line is a header naming the run it belongs to
(``{"kind": "symexp-bo-checkpoint", "format": 1, "identity": {...}}``; the identity is the
space, the SMAC settings and the seed of the job); every further line is one finished trial::

    {"i": 0, "config": {"C": 1.5, "gamma": 0.01}, "cost": 0.23, "seed": 209652396,
     "origin": "Initial Design: Sobol"}

``cost`` is the objective's return value (``null`` when it was not finite). Each line is
written with one ``write`` and flushed and fsynced before the next trial starts, so a crash
loses at most the trial being evaluated; a torn last line (the process died inside ``write``)
is dropped when the file is read. Reading stops at the first line that is not a valid trial
record following the previous one, and the file is then rewritten (atomically) with the valid
prefix only, so new trials are never appended after garbage. Such a garbled line (anything but a
torn last line) is named (:attr:`TrialLog.garbled`) and the whole file is first copied into
``.damaged/`` (:attr:`TrialLog.set_aside`). Replayed costs are checked against the evaluations
(:mod:`symexp.sampling.replay_check`).

A log whose header does not match the run being started (other space, settings or seed) is not
replayed: it is replaced by a fresh one and :attr:`TrialLog.discarded` says why.

Replay itself (ask, compare, tell the recorded cost) is done by
:func:`symexp.sampling._bo_worker.run_trajectory`; this module only reads and writes the file.
Stored files are data: only ``json`` is used to read them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from symexp.store.atomic import atomic_write_text

CHECKPOINT_KIND = "symexp-bo-checkpoint"
CHECKPOINT_FORMAT = 1


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, allow_nan=False, separators=(",", ":")) + "\n"


def _header(identity: dict[str, Any]) -> dict[str, Any]:
    return {"kind": CHECKPOINT_KIND, "format": CHECKPOINT_FORMAT, "identity": identity}


def _valid_trial(rec: Any, i: int) -> bool:
    if not isinstance(rec, dict) or rec.get("i") != i or not isinstance(rec.get("config"), dict):
        return False
    cost = rec.get("cost")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost)):
        return False
    return isinstance(rec.get("seed"), int) and isinstance(rec.get("origin"), str)


class TrialLog:
    """The trial log of one SMAC job (see the module docstring).

    Parameters
    ----------
    path : Path
        The checkpoint file (created if missing).
    identity : dict
        JSON-able description of the job; a file with another identity is replaced.

    Attributes
    ----------
    trials : list of dict
        The valid trial records found in the file, in order (``trials[i]["i"] == i``).
    discarded : str or None
        Why the file's previous content was not kept, if it was not.
    """

    def __init__(self, path: str | os.PathLike[str], identity: dict[str, Any]):
        self.path = Path(path)
        self.identity = json.loads(json.dumps(identity))  # normalise (tuples -> lists) for comparison
        self.discarded: str | None = None
        self.garbled: str | None = None  # why the file was cut before its end (a line not a trial)
        self.set_aside: Path | None = None  # the copy of the file in .damaged/, if it was set aside
        self.trials: list[dict[str, Any]] = []
        dropped = 0
        if self.path.exists():
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
            header = self._parse(lines[0]) if lines else None
            if not (isinstance(header, dict) and header.get("kind") == CHECKPOINT_KIND
                    and header.get("format") == CHECKPOINT_FORMAT):
                self.discarded = f"{self.path} is not a symexp BO checkpoint (format {CHECKPOINT_FORMAT})"
            elif header.get("identity") != self.identity:
                self.discarded = f"{self.path} belongs to another BO run (space, settings or seed differ)"
            else:
                for k, text in enumerate(lines[1:], start=2):
                    rec = self._parse(text)
                    if not _valid_trial(rec, len(self.trials)):
                        if k < len(lines) or rec is not None:  # not just a torn last line (a crash mid-write)
                            self.garbled = (f"line {k} of {self.path} is not trial {len(self.trials)} "
                                            f"({text[:80]!r}); replaying the {len(self.trials)} trial(s) before it")
                        break
                    self.trials.append(rec)
                dropped = len(lines) - 1 - len(self.trials)
        self.dropped_lines = dropped
        if self.garbled is not None:  # named and kept, like any damaged file; only the valid prefix is replayed
            from symexp.sampling.replay_check import set_aside_copy

            self.set_aside = set_aside_copy(self.path, self.garbled)
        self._rewrite()  # header + valid prefix: appends never follow a torn line

    @staticmethod
    def _parse(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            return None

    def _rewrite(self) -> None:
        atomic_write_text(self.path, "".join(_line(r) for r in [_header(self.identity), *self.trials]))

    def truncate(self, n: int) -> None:
        """Keep only the first ``n`` trials (a replay diverged at trial ``n``)."""
        self.trials = self.trials[:n]
        self._rewrite()

    def append(self, config: dict[str, Any], cost: float, seed: int, origin: str) -> None:
        """Record finished trial number ``len(trials)``; durable when this returns."""
        rec = {"i": len(self.trials), "config": dict(config),
               "cost": float(cost) if math.isfinite(cost) else None, "seed": int(seed), "origin": str(origin)}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(_line(rec))
            fh.flush()
            os.fsync(fh.fileno())
        self.trials.append(rec)

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def recorded_cost(rec: dict[str, Any]) -> float:
    """The objective's value of a trial record (``nan`` when it was not finite)."""
    return math.nan if rec["cost"] is None else float(rec["cost"])
