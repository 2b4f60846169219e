"""Replay checks what it replays: a checkpointed cost must be the evaluation's true cost.

A BO checkpoint (:mod:`symexp.sampling.checkpoint`) is a plain file in a shared cache; anyone of
the group can edit it. Replaying a trial tells SMAC the *recorded* cost, so an edited cost would
steer the run and end up in the training sets. When the objective can tell a trial's true cost
cheaply (it declares ``verifies_replay = True``: the benchmark's objective, whose every
evaluation is in the evaluation cache; a missing entry is simply evaluated again), each replayed
cost is compared with it. At the first disagreement replay stops: that trial and every later one
are evaluated (true costs), the checkpoint file is copied into ``.damaged/`` beside it (kept for
inspection), truncated to the trials that agreed, and the reason is reported (stderr, and the
run's ``replay`` info: ``cost_mismatch_at``, ``set_aside``).
"""

from __future__ import annotations

import datetime as _dt
import math
import shutil
from pathlib import Path
from typing import Any

from symexp.store.once import DAMAGED_DIR


def verifies(objective: Any) -> bool:
    """Whether replayed costs of ``objective`` are checked (see the module docstring)."""
    return bool(getattr(objective, "verifies_replay", False))


def costs_agree(recorded: float, true: float) -> bool:
    """Equal costs (both not finite counts as equal: a failed evaluation)."""
    if not math.isfinite(recorded) or not math.isfinite(true):
        return not math.isfinite(recorded) and not math.isfinite(true)
    return math.isclose(recorded, true, rel_tol=1e-9, abs_tol=1e-12)


def set_aside_copy(path: str | Path, reason: str) -> Path:
    """Copy a checkpoint whose content is not trusted to ``<dir>/.damaged/<name>.<UTC time>``;
    returns the copy's path (the caller truncates the original to its trusted prefix)."""
    path = Path(path)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.parent / DAMAGED_DIR / f"{path.name}.{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)
    (target.parent / f"{target.name}.why").write_text(reason + "\n", encoding="utf-8")
    return target
