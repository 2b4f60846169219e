"""Optuna studies: a storage URL (``sqlite:///study.db``) or a SQLite file (see :mod:`symexp.explain.readers`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from symexp.errors import SymexpError, unknown_choice
from symexp.benchmarks.space import Categorical, Numerical
from symexp.explain.readers.run_data import RunData, finish, pick_objective, value_index


#: Tables every Optuna RDB storage has (optuna/storages/_rdb/models.py).
OPTUNA_TABLES = frozenset({"studies", "trials", "version_info"})


def check_optuna_sqlite(file: Path, shown: str) -> None:
    """Refuse a file that is not an Optuna SQLite database, without writing to it.

    Optuna's storage creates its tables in any SQLite file it opens (and SQLite turns any empty
    file into a database), so this looks first: read-only, through SQLite's own URI mode."""
    import sqlite3

    try:
        with open(file, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise SymexpError(f"cannot read Optuna storage {shown}: {exc.strerror or exc}") from None
    if header != b"SQLite format 3\x00":
        raise SymexpError(f"{shown} is not an SQLite database, so not an Optuna storage "
                          f"(expected a file written by optuna.create_study(storage='sqlite:///...'))")
    try:
        con = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise SymexpError(f"cannot read SQLite file {shown}: {exc}") from None
    missing = sorted(OPTUNA_TABLES - tables)
    if missing:
        raise SymexpError(f"{shown} is an SQLite database but not an Optuna storage (no table(s) "
                          f"{', '.join(missing)}); nothing was written to it")


def storage_url(path: str) -> str:
    """A storage URL for ``path``; SQLite files must exist (Optuna would create an empty one) and be
    Optuna databases (Optuna would add its tables to any other)."""
    if "://" not in path:
        p = Path(path)
        if not p.is_file():
            raise SymexpError(f"Optuna storage file {p} does not exist")
        check_optuna_sqlite(p, path)
        return f"sqlite:///{p.resolve()}"
    if path.startswith("sqlite:///"):
        file = path[len("sqlite:///"):]
        if file in ("", ":memory:"):
            raise SymexpError(f"Optuna storage {path} is an in-memory database; it holds no study")
        if not Path(file).is_file():
            raise SymexpError(f"Optuna storage {path}: file {file} does not exist")
        check_optuna_sqlite(Path(file), path)
    return path


def _merge_distribution(name: str, old: Any, new: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if old is None or old == new:
        return new
    if isinstance(old, CategoricalDistribution) and isinstance(new, CategoricalDistribution):
        choices = list(old.choices) + [c for c in new.choices if c not in old.choices]
        return CategoricalDistribution(choices)
    for cls in (FloatDistribution, IntDistribution):
        if isinstance(old, cls) and isinstance(new, cls):
            if old.log != new.log:
                raise SymexpError(f"inconsistent study: {name} is log-scaled in some trials and not in others")
            return cls(min(old.low, new.low), max(old.high, new.high), log=old.log)
    raise SymexpError(f"inconsistent study: {name} has different kinds of distributions "
                      f"({type(old).__name__}, {type(new).__name__})")


def read_optuna(storage: str, study: str | None = None, objective: int | None = None,
                drop_nonfinite: bool = False) -> RunData:
    """An Optuna study: ``storage`` is a URL (``sqlite:///x.db``) or a SQLite file."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(storage)
    try:
        names = optuna.get_all_study_names(storage=url)
    except Exception as exc:  # noqa: BLE001 - not a database, wrong URL, driver missing
        raise SymexpError(f"cannot open Optuna storage {storage}: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if study is None:
        if len(names) != 1:
            raise SymexpError(f"Optuna storage {storage} has {len(names)} studies; choose one with --study "
                              f"({', '.join(names) or 'none'})")
        study = names[0]
    elif study not in names:
        raise unknown_choice(f"study in {storage}", study, names)
    st = optuna.load_study(study_name=study, storage=url)
    trials = st.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    notes: list[str] = []
    if len(complete) < len(trials):
        notes.append(f"left out {len(trials) - len(complete)} trial(s) that are not COMPLETE (failed, pruned, running)")
    if not complete:
        raise SymexpError(f"study {study!r} has no complete trials")

    dists: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for t in complete:
        for name, dist in t.distributions.items():
            dists[name] = _merge_distribution(name, dists.get(name), dist)
            counts[name] = counts.get(name, 0) + 1
    partial = sorted(n for n, c in counts.items() if c < len(complete))
    if partial:
        notes.append(f"left out hyperparameter(s) {', '.join(partial)}: not set in every complete trial (conditional)")
    hps: list[Numerical | Categorical] = []
    for name, dist in dists.items():
        if name in partial:
            continue
        if isinstance(dist, CategoricalDistribution):
            choices = tuple(str(c) for c in dist.choices)
            if len(set(choices)) != len(choices):
                raise SymexpError(f"categorical hyperparameter {name}: choices {list(choices)} are not distinct as text")
            hps.append(Categorical(name, choices))
        elif isinstance(dist, IntDistribution | FloatDistribution):
            integer = isinstance(dist, IntDistribution)
            if dist.step is not None and dist.step != 1:
                notes.append(f"{name}: step {dist.step} ignored (the formula is continuous)")
            elif dist.step is not None and not integer:
                notes.append(f"{name}: step {dist.step} ignored (the formula is continuous)")
            if dist.low == dist.high:
                notes.append(f"hyperparameter {name} is fixed at {dist.low!r}; left out")
                continue
            hps.append(Numerical(name, int(dist.low) if integer else float(dist.low),
                                 int(dist.high) if integer else float(dist.high), log=bool(dist.log), integer=integer))
        else:
            raise SymexpError(f"hyperparameter {name}: unsupported Optuna distribution {type(dist).__name__}")

    X, y, labels = [], [], []
    for t in complete:
        where = f"trial {t.number}"
        X.append([value_index(hp, t.params[hp.name], where) for hp in hps])
        values = t.values if t.values is not None else [float("nan")]
        y.append(pick_objective(values, objective, f"study {study!r}"))
        labels.append(where)
    directions = [d.name.lower() for d in st.directions]
    k = 0 if objective is None else objective
    metric_names = getattr(st, "metric_names", None)
    if metric_names and len(metric_names) == len(directions) and metric_names[k]:
        name = str(metric_names[k])
    else:
        name = "objective" if len(directions) == 1 else f"objective {k}"
    source = {"kind": "optuna", "path": storage, "study": study, "n_trials": len(trials), "direction": directions[k]}
    if objective is not None:
        source["objective"] = int(objective)
    return finish(hps, np.array(X, dtype=float).reshape(len(y), len(hps)), np.array(y), source, notes, labels,
                  drop_nonfinite, objective=name, direction=directions[k], n_objectives=len(directions))
