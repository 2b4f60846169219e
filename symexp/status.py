"""Which cells of an experiment are done, missing, or failed, and why.

A cell is *done* when every record it plans exists with status ok; *failed* when a record says
failed or its job says it crashed (the reason comes from the record or ``job_status.json``);
*interrupted* when its job started but neither finished nor reported a failure (killed,
preempted, timed out, or still running); *partial* when some records exist; *missing* otherwise.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from symexp.jobstatus import read_job_status
from symexp.pipeline import CellSpec, planned_keys
from symexp.records import RecordStore

STATES = ("done", "missing", "partial", "interrupted", "failed")
MAX_LISTED = 40


@dataclass
class CellStatus:
    overrides: dict[str, str]
    state: str
    n_records: int
    n_planned: int
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.overrides.items())


def cell_status(spec: CellSpec, job_dir: Path | None, overrides: dict[str, str]) -> CellStatus:
    store = RecordStore(spec.store_dir)
    keys = planned_keys(spec)
    present, reasons = 0, []
    for key in keys:
        path = store.path(key)
        if not path.is_file():
            continue
        present += 1
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            reasons.append(f"unreadable record {path}")
            continue
        if rec.get("status") != "ok":
            reasons.append(f"{key.method} n={key.n_samples} sr_seed={key.sr_seed}: {rec.get('error')}")
    job = read_job_status(job_dir) if job_dir is not None else None
    if present == len(keys) and not reasons:
        state = "done"
    elif reasons:
        state = "failed"
    elif job and job.get("state") == "failed":
        state = "failed"
        reasons.append(f"job crashed: {job.get('error')}")
    elif job and job.get("state") == "running":
        state = "interrupted"
        where = f" (SLURM job {job['slurm_job_id']})" if job.get("slurm_job_id") else ""
        reasons.append(f"started {job.get('time')} on {job.get('host')}{where}, no result: killed, preempted or still running")
    else:
        state = "partial" if present else "missing"
    return CellStatus(overrides=overrides, state=state, n_records=present, n_planned=len(keys), reasons=reasons)


def format_status(experiment: str, cells: list[CellStatus], verbose: bool = False) -> str:
    counts = Counter(c.state for c in cells)
    head = f"experiment {experiment}: {len(cells)} cells: " + ", ".join(
        f"{counts[s]} {s}" for s in STATES if counts[s])
    lines = [head]
    shown = [c for c in cells if verbose or c.state != "done"]
    # Failures first: they need a look; a long list of never-started cells does not.
    shown.sort(key=lambda c: STATES.index(c.state), reverse=True)
    limit = None if verbose else MAX_LISTED
    for c in shown[:limit]:
        lines.append(f"  {c.state:<11} {c.label}  ({c.n_records}/{c.n_planned} records)")
        lines.extend(f"      {r}" for r in c.reasons)
    if limit is not None and len(shown) > limit:
        lines.append(f"  ... {len(shown) - limit} more (--verbose lists all)")
    return "\n".join(lines)
