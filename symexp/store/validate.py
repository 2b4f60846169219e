"""A record must agree with itself: what is checked on every load (threat model: a group-shared store).

A store shared by a group on a cluster can hold files that anyone of the group wrote or edited,
by mistake or not. A record is only trusted when it is consistent with itself:

1. it is a JSON object of this format (``schema_version``), with a 16-hex-digit ``record_id``;
2. ``record_id`` is the hash of its ``identity`` (so the identity is what made the numbers),
   equals the id in its file name, and, when read for a planned record, the planned id;
3. every identity value is a known one: the model, dataset and protocol are the benchmark
   registry's, the method one of :data:`~symexp.store.records.METHODS` and belongs to the mode,
   seeds are non-negative integers, ``n`` a positive integer no larger than the BO budget, the SR
   engine a known engine and the parsimony a finite non-negative number; these are the only
   values that ever become part of a path;
4. the record's label fields (model, dataset, protocol, method, mode, seeds, n, parsimony, engine)
   equal their identity values;
5. every other field has its declared type and range: ``test_rmse``/``train_rmse`` finite and
   >= 0, ``complexity`` a non-negative integer (``true`` is not an integer), ``formula`` a
   non-empty string, texts are strings, counts non-negative integers, ``sr_timed_out`` a bool;
   ``formula`` and ``program`` use a formula's characters only, ``formula_latex`` only the LaTeX
   commands SymPy writes for the whitelisted functions (:func:`symexp.textsafe.latex_math_ok`).

A record that fails is *damaged*: named with the first problem found, set aside into
``.damaged/`` by the next run and recomputed, exactly as a truncated file; the analysis counts
it (:mod:`analysis.damaged`). Nothing here reads code: the checks are on JSON values only.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from symexp.seeding import stable_hash

ID_RE = re.compile(r"^[0-9a-f]{16}$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODES = ("bo", "random", "bo_gp")
#: Identity fields copied into a record, as (record field, path in the identity).
LABELS = (
    ("model", ("benchmark", "model")), ("dataset", ("benchmark", "dataset")),
    ("protocol", ("benchmark", "protocol")),
    ("method", ("method",)), ("mode", ("mode",)), ("sampling_seed", ("sampling_seed",)),
    ("n_samples", ("n_samples",)),
)


@functools.lru_cache(maxsize=1)
def known_names() -> dict[str, tuple[str, ...]]:
    """The names an identity may hold (the registries'), read once."""
    from symexp.benchmarks.datasets import DATASETS
    from symexp.benchmarks.objective import MODELS, PROTOCOLS
    from symexp.store.records import METHODS
    from symexp.symbolic.settings import VALID_ENGINES

    return {"model": tuple(MODELS), "dataset": tuple(DATASETS), "protocol": tuple(PROTOCOLS),
            "method": tuple(METHODS), "mode": MODES, "engine": tuple(VALID_ENGINES)}


def is_int(v: Any) -> bool:
    """An integer that is not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _nonneg_int(v: Any) -> bool:
    return is_int(v) and v >= 0


def _name(kind: str, v: Any) -> str | None:
    valid = known_names()[kind]
    return None if isinstance(v, str) and v in valid else f"{kind} {v!r} is not one of {', '.join(valid)}"


def identity_problem(identity: Any) -> str | None:
    """What is wrong with the values of an identity (``None`` if each is a known, valid value)."""
    if not isinstance(identity, dict):
        return f"identity is {type(identity).__name__}, not an object"
    bench = identity.get("benchmark")
    if not isinstance(bench, dict):
        return "identity without a benchmark"
    for kind in ("model", "dataset", "protocol"):
        if (why := _name(kind, bench.get(kind))) is not None:
            return f"identity: {why}"
    hps = bench.get("hyperparameters")
    if not (isinstance(hps, list) and hps and all(isinstance(h, str) and NAME_RE.match(h) for h in hps)):
        return f"identity: hyperparameters {hps!r} are not a list of names"
    method, mode = identity.get("method"), identity.get("mode")
    for kind, v in (("method", method), ("mode", mode)):
        if (why := _name(kind, v)) is not None:
            return f"identity: {why}"
    if method != f"sr_{mode}" and not (mode == "bo_gp" and method in ("gp_baseline", "linear_regression")):
        return f"identity: method {method} does not belong to mode {mode}"
    if not _nonneg_int(identity.get("sampling_seed")):
        return f"identity: sampling_seed {identity.get('sampling_seed')!r} is not a non-negative integer"
    n = identity.get("n_samples")
    if not (is_int(n) and n > 0):
        return f"identity: n_samples {n!r} is not a positive integer"
    bo = identity.get("bo")
    if mode in ("bo", "bo_gp"):
        budget = bo.get("n_trials") if isinstance(bo, dict) else None
        if not (is_int(budget) and budget > 0):
            return f"identity: BO budget {budget!r} is not a positive integer"
        if n > budget:
            return f"identity: n_samples {n} is larger than the BO budget {budget}"
    if method.startswith("sr_"):
        sr = identity.get("sr")
        if not isinstance(sr, dict) or (why := _name("engine", sr.get("engine"))) is not None:
            return f"identity: SR {why if isinstance(sr, dict) else 'settings missing'}"
        if not _nonneg_int(identity.get("sr_seed")):
            return f"identity: sr_seed {identity.get('sr_seed')!r} is not a non-negative integer"
        p = identity.get("parsimony")
        if not (is_number(p) and p >= 0):
            return f"identity: parsimony {p!r} is not a finite non-negative number"
    return None


def _get(identity: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        identity = identity[part]
    return identity


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same JSON kind (``true`` is not ``1``, ``1.0`` is ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _text_or_none(record: Mapping[str, Any], name: str) -> str | None:
    v = record.get(name)
    return None if v is None or isinstance(v, str) else f"{name} is {type(v).__name__}, not text"


def record_problem(record: Any, key: Any = None, file_id: str | None = None) -> str | None:
    """What is wrong with a stored record (``None`` if it agrees with itself and belongs to ``key``).

    Parameters
    ----------
    record : Any
        The parsed JSON content of a record file.
    key : RecordKey, optional
        The planned record it is read for (its id must match).
    file_id : str, optional
        The id in the file's name (must match).

    Returns
    -------
    str or None
        The first problem found, in words, or ``None``.
    """
    from symexp.store.records import SCHEMA_VERSION, SR_METHODS, STATUSES

    if not isinstance(record, dict):
        return f"not a JSON object but {type(record).__name__}"
    if record.get("schema_version") != SCHEMA_VERSION or not is_int(record.get("schema_version")):
        return f"schema_version {record.get('schema_version')!r}, this version reads {SCHEMA_VERSION}"
    rid = record.get("record_id")
    if not (isinstance(rid, str) and ID_RE.match(rid)):
        return f"record_id {rid!r} is not a 16-digit hex id"
    if key is not None and rid != key.record_id:
        return f"record_id {rid!r} does not match its file (expected {key.record_id})"
    if file_id is not None and rid != file_id:
        return f"record_id {rid!r} does not match its file name (id {file_id})"
    identity = record.get("identity")
    if not isinstance(identity, dict):
        return "no identity"
    if stable_hash(identity) != rid:
        return f"record_id {rid} is not the hash of its identity ({stable_hash(identity)}): identity edited"
    if (why := identity_problem(identity)) is not None:
        return why
    method = identity["method"]
    is_sr = method in SR_METHODS
    labels = [(f, _get(identity, p)) for f, p in LABELS]
    labels += [("sr_seed", identity["sr_seed"] if is_sr else None),
               ("parsimony", identity["parsimony"] if is_sr else None),
               ("sr_engine", identity["sr"]["engine"] if is_sr else None)]
    for name, expected in labels:
        if not _same(record.get(name), expected):
            return f"{name} {record.get(name)!r} differs from its identity ({expected!r})"
    status = record.get("status")
    if status not in STATUSES:
        return f"status {status!r} is not one of {', '.join(STATUSES)}"
    for name in ("error", "formula", "formula_latex", "program", "created_at"):
        if (why := _text_or_none(record, name)) is not None:
            return why
    from symexp.textsafe import formula_text_ok, latex_math_ok

    for name in ("formula", "program"):
        if record.get(name) is not None and not formula_text_ok(record[name]):
            return f"{name} holds characters no formula has ({record[name][:60]!r})"
    if record.get("formula_latex") is not None and not latex_math_ok(record["formula_latex"]):
        return f"formula_latex is not a formula of the whitelisted LaTeX ({record['formula_latex'][:60]!r})"
    for name in ("n_trainings", "formula_complexity"):
        v = record.get(name)
        if v is not None and not _nonneg_int(v):
            return f"{name} {v!r} is not a non-negative integer"
    v = record.get("n_train_points")
    if v is not None and not (is_int(v) and v > 0):
        return f"n_train_points {v!r} is not a positive integer"
    if record.get("sr_timed_out") is not None and not isinstance(record["sr_timed_out"], bool):
        return f"sr_timed_out {record['sr_timed_out']!r} is not true or false"
    hps = record.get("hyperparameters")  # the training set's columns (PD: the top ones), not an identity value
    if hps is not None and not (isinstance(hps, list) and all(isinstance(h, str) and NAME_RE.match(h) for h in hps)):
        return f"hyperparameters {hps!r} are not a list of names"
    w = record.get("warnings")
    if w is not None and not (isinstance(w, list) and all(isinstance(x, str) for x in w)):
        return "warnings is not a list of texts"
    for name in ("timings", "versions", "artefacts", "split_info"):
        if record.get(name) is not None and not isinstance(record[name], dict):
            return f"{name} is {type(record[name]).__name__}, not an object"
    if status == "failed":
        return None if isinstance(record.get("error"), str) and record["error"] else "failed without an error message"
    rmse = record.get("test_rmse")
    if not is_number(rmse):
        return f"status ok without a finite test_rmse ({rmse!r})"
    if rmse < 0:
        return f"test_rmse {rmse!r} is negative"
    train = record.get("train_rmse")
    if train is not None and not (is_number(train) and train >= 0):
        return f"train_rmse {train!r} is not a finite non-negative number"
    if is_sr:
        if not isinstance(record.get("formula"), str) or not record["formula"]:
            return "SR record without a formula"
        if not _nonneg_int(record.get("complexity")):
            return f"SR record without an operation count (complexity {record.get('complexity')!r})"
    elif record.get("complexity") is not None and not _nonneg_int(record["complexity"]):
        return f"complexity {record['complexity']!r} is not a non-negative integer"
    return None


def file_id(name: str) -> str:
    """The record id in a record file's name (``n140-sr0-p0.0001-gplearn-<id>.json``): its last
    ``-``-separated part (whatever it is: a name without an id then fails the comparison)."""
    stem = name[:-5] if name.endswith(".json") else name
    return stem.rsplit("-", 1)[-1]
