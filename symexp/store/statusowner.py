"""Only the job that runs a cell writes its ``job_status.json``.

Several copies of one cell may be started (a relaunch while the first job still runs, two users,
a requeued SLURM job). Only a copy that found records to compute *owns* the cell's status file:
it writes ``running`` when it starts computing, then ``done``, ``failed`` or ``interrupted``. A
copy that found nothing to do (every record exists or is claimed by a live job) writes nothing,
so the live job's ``running`` stays, and if that job then dies the status command still says
*interrupted*, not *missing* or *done*. A copy that fails before it owns the cell (a full disk
found while claiming) writes ``failed`` only when no other job's ``running`` is in the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from symexp.store.jobstatus import read_job_status, write_job_status


class StatusOwner:
    """The status file of one job's cell, written only once the job owns the cell.

    Parameters
    ----------
    output_dir : path
        The job's output directory (where ``job_status.json`` lives).
    """

    def __init__(self, output_dir: str | os.PathLike[str]):
        self.output_dir = Path(output_dir)
        self.started = False

    def start(self, **fields: Any) -> None:
        """The job has records to compute: it owns the cell's status from now on."""
        if not self.started:
            write_job_status(self.output_dir, "running", **fields)
            self.started = True

    def _other_running(self) -> bool:
        found = read_job_status(self.output_dir)
        return bool(found) and found.get("state") == "running" and found.get("pid") != os.getpid()

    def finish(self, state: str, **fields: Any) -> bool:
        """Write the final ``state`` if this job owns the cell (or, for a failure, if no other job's
        ``running`` would be overwritten). Returns whether it was written."""
        if self.started or (state == "failed" and not self._other_running()):
            write_job_status(self.output_dir, state, **fields)
            return True
        return False
