"""The record store: identities, atomic writes, shared artefacts, claims and job states.

- :mod:`.atomic`: atomic, umask-respecting writes.
- :mod:`.once`: shared JSON artefacts computed once across processes, damaged ones set aside.
- :mod:`.records`: content-addressed records (:class:`RecordKey`, :class:`RecordStore`,
  :func:`load_records`).
- :mod:`.claims`: who is computing which fit / cell right now.
- :mod:`.jobstatus`: a job's state file.
- :mod:`.status`: the state of a view's cells (done, missing, partial, running, ...).
- :mod:`.validate`: a record must agree with itself (checked on every load).
- :mod:`.marker`: ``STORE.json``, the format marker, and its messages.
- :mod:`.statusowner`: only the job that computes a cell writes its status.
"""

from symexp.store.atomic import atomic_write_json, atomic_write_text, read_json
from symexp.store.claims import Claim, is_held
from symexp.store.once import compute_once, read_checked, set_aside
from symexp.store.records import (
    METHODS,
    RECORD_FIELDS,
    SR_METHODS,
    RecordKey,
    RecordStore,
    load_records,
    record_problem,
)

__all__ = [
    "METHODS", "RECORD_FIELDS", "SR_METHODS", "Claim", "RecordKey", "RecordStore", "atomic_write_json",
    "atomic_write_text", "compute_once", "is_held", "load_records", "read_checked", "read_json",
    "record_problem", "set_aside",
]
