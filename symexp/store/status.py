"""Which cells of a view are done, running, missing, or failed, and why.

A cell is *running* when some job holds its presence lock (on any machine sharing the store);
*done* when every record it plans is there with status ok; *failed* when a record says failed or
its job says it failed (the reason comes from the record or ``job_status.json``); *interrupted*
when its job started but neither finished nor reported a failure (killed, preempted, timed out);
*partial* when some records exist; *missing* otherwise. Damaged records (which the next run sets
aside and recomputes) are listed with what is wrong with them. Nothing here writes or moves a file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from symexp.store.claims import is_held
from symexp.store.jobstatus import read_job_status
from symexp.store.records import RecordKey, RecordStore
from symexp.textsafe import terminal

STATES = ("done", "running", "missing", "partial", "interrupted", "failed")
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


def cell_status(store: RecordStore, keys: list[RecordKey], cell: str, job_dir: Path | None,
                overrides: dict[str, str]) -> CellStatus:
    """The state of one cell whose planned records are ``keys`` and whose id is ``cell``."""
    ok, reasons, failed, damaged = 0, [], False, 0
    for key in keys:
        state, detail = store.state(key)
        if state == "ok":
            ok += 1
        elif state == "failed":
            failed = True
            reasons.append(f"{key.method} n={key.n_samples} sr_seed={key.sr_seed}: {detail}")
        elif state == "damaged":
            damaged += 1
            reasons.append(f"damaged record {store.path(key)}: {detail} (set aside and recomputed by the next run)")
    job = read_job_status(job_dir) if job_dir is not None else None
    if is_held(store.claim_path(f"cell-{cell}")):
        state = "running"
        if job and job.get("state") == "running":
            where = f", SLURM job {job['slurm_job_id']}" if job.get("slurm_job_id") else ""
            reasons.append(f"started {job.get('time')} on {job.get('host')}{where}")
    elif ok == len(keys):
        state = "done"
    elif failed:
        state = "failed"
    elif job and job.get("state") == "failed":
        state = "failed"
        reasons.append(f"job failed: {job.get('error')}")
    elif job and job.get("state") in ("running", "interrupted"):
        state = "interrupted"
        where = f" (SLURM job {job['slurm_job_id']})" if job.get("slurm_job_id") else ""
        how = "interrupted" if job["state"] == "interrupted" else "no longer running: killed or lost"
        reasons.append(f"started {job.get('time')} on {job.get('host')}{where}, {how}")
    else:
        state = "partial" if ok or damaged else "missing"
    return CellStatus(overrides=overrides, state=state, n_records=ok, n_planned=len(keys), reasons=reasons)


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
        lines.extend(f"      {terminal(r)}" for r in c.reasons)
    if limit is not None and len(shown) > limit:
        lines.append(f"  ... {len(shown) - limit} more (--verbose lists all)")
    return "\n".join(lines)
