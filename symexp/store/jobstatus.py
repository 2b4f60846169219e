"""A job's state in its output directory: ``job_status.json``.

States: ``running`` (written at the start), ``done``, ``failed`` (with the one-line reason: an
environment failure such as unreadable data, a full disk, out of memory, or a bug) and
``interrupted`` (Ctrl-C, SIGTERM, a SLURM time limit or preemption). Records say what finished;
this file says why a cell has no records. A ``running`` file whose job no longer holds its cell
(see :mod:`symexp.store.claims`) belongs to a job that was killed without a word (``kill -9``,
a node failure).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from symexp.store.atomic import atomic_write_json
from symexp.store.once import read_if_exists
from symexp.store.records import utc_now

FILENAME = "job_status.json"
STATES = ("running", "done", "failed", "interrupted")


def write_job_status(output_dir: str | os.PathLike[str], state: str, **fields: Any) -> Path:
    if state not in STATES:
        raise ValueError(f"unknown job state {state!r}; valid: {', '.join(STATES)}")
    data = {"state": state, "time": utc_now(), "host": socket.gethostname(), "pid": os.getpid(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"), **fields}
    return atomic_write_json(Path(output_dir) / FILENAME, data)


def read_job_status(output_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    data = read_if_exists(Path(output_dir) / FILENAME)
    return data if isinstance(data, dict) else None
