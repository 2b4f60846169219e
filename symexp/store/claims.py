"""Claims: who is computing what right now, as ``flock`` locks on files under ``<store>/.claims/``.

* A *fit claim* (exclusive) is taken before a record is computed and released after it is
  written: two copies of a cell (a relaunch during a live run, a requeued SLURM task) never both
  run the same fit; the second one skips what the first holds.
* A *cell presence* (shared) is held by every job working on a cell for its whole life; the
  status command probes it with a non-blocking exclusive lock, which fails exactly when some job
  holds the cell: that cell is *running* (on this machine or on any node sharing the store) and
  is not relaunched.

``flock`` locks belong to the open file and vanish when the process dies (``kill -9``, SLURM's
cancel, a crash): a claim can never outlive its owner. On NFS,
Linux maps ``flock`` to POSIX byte-range locks, which the NFS lock manager shares across nodes.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class Claim:
    """A lock on ``path`` (created if needed): ``exclusive`` for fits, shared for presence."""

    def __init__(self, path: str | os.PathLike[str], exclusive: bool = True):
        self.path = Path(path)
        self.exclusive = exclusive
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock without waiting; ``False`` if another process holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> Claim:
        if not self.try_acquire():
            raise BlockingIOError(f"{self.path} is held by another process")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten claim must not leak a descriptor
        self.release()


def is_held(path: str | os.PathLike[str]) -> bool:
    """Whether some process holds a lock (shared or exclusive) on ``path``; never blocks, never creates."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
