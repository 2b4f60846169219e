"""A job's state in its output directory: ``job_status.json`` = running | done | failed.

Records say what finished; this file says why a cell has no records: a user error, a crash
(with its reason), or ``running`` left behind by a job that was killed or is still going.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from symexp.atomic import atomic_write_json
from symexp.once import read_if_exists
from symexp.records import utc_now

FILENAME = "job_status.json"


def write_job_status(output_dir: str | os.PathLike[str], state: str, **fields: Any) -> Path:
    data = {"state": state, "time": utc_now(), "host": socket.gethostname(), "pid": os.getpid(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"), **fields}
    return atomic_write_json(Path(output_dir) / FILENAME, data)


def read_job_status(output_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    return read_if_exists(Path(output_dir) / FILENAME)
