"""What the analysis reads: the record store, an experiment preset's view of it, its usable records.

An experiment preset is a *view* of the store (the records its cells plan,
:func:`symexp.app.config.build_view`): the analysis reads exactly those records, and takes the
protocol values it labels its outputs with (n, parsimony, seeds) from the same preset, never from
constants of its own. Fits stopped by the SR time limit are left out (as the authors did) unless
``include_timed_out``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from symexp.errors import SymexpError
from symexp.store.records import SR_METHODS, load_records

DEFAULT_STORE = Path("results/store")


DEFAULT_CACHE = Path("results/cache")


REFERENCE_DIR = Path(__file__).resolve().parent.parent / "results" / "reference"


PUBLISHED_TABLE1 = REFERENCE_DIR / "table1_published.csv"


_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def check_store(store: Path) -> Path:
    from symexp.store.records import check_store_format

    if not store.is_dir():
        raise SymexpError(f"record store {str(store)!r} does not exist (pass --store <records dir>)")
    check_store_format(store)  # an old-format store is refused with what to do, never misread
    return store


def available_experiments(store: Path | None = None) -> list[str]:
    """The experiment presets (``conf/experiment/*.yaml``): the views the analysis can read."""
    from symexp.app.config import CONF_DIR

    return sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


def check_experiment(store: Path, experiment: str, explicit: bool = True) -> None:
    """The experiment must be a preset (a view); its records may be missing (reported, not an error)."""
    if not _NAME_RE.match(experiment):
        raise SymexpError(f"invalid experiment name {experiment!r}")
    if experiment not in available_experiments():
        raise SymexpError(f"unknown experiment {experiment!r}; valid: {', '.join(available_experiments())}")


class ViewRef(str):
    """An experiment preset's name, with the Hydra overrides its view is built with.

    It is the name wherever a builder prints or labels (``f"experiment {experiment}"``) and the
    whole view wherever it reads records (:func:`load_ok`, :func:`view_setting`), so overrides
    such as ``protocol=clean`` or ``sr=operon`` travel through every builder unchanged.
    """

    overrides: tuple[str, ...] = ()

    def __new__(cls, name: str, overrides=()) -> ViewRef:
        ref = super().__new__(cls, name)
        ref.overrides = tuple(overrides) or tuple(getattr(name, "overrides", ()))
        return ref


@functools.lru_cache(maxsize=16)
def _view(experiment: str, overrides: tuple[str, ...]):
    from symexp.app.config import build_view

    return build_view([f"experiment={experiment}", *overrides])


def view_of(experiment: str):
    """The view of a preset (built once per process: composing 600 cells takes seconds)."""
    return _view(str(experiment), tuple(getattr(experiment, "overrides", ())))


def view_setting(experiment: str) -> dict[str, Any]:
    """The preset's protocol values (n, parsimony, seeds, ...), from ``conf/``."""
    return view_of(experiment).setting()


def the_one(values: Sequence[Any], what: str, experiment: str) -> Any:
    """The single value a preset has for ``what`` (its n, its parsimony), or a one-line error."""
    if len(values) != 1:
        raise SymexpError(f"experiment {experiment} has {len(values)} values of {what} ({values}); pass one")
    return values[0]


def load_ok(store: Path, experiment: str, include_timed_out: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(all records, usable records) of a preset's view.

    Usable: status ok, a finite test RMSE and, unless ``include_timed_out``, not stopped by the SR
    time limit. Damaged record files are left out and counted (:mod:`analysis.damaged`: named on
    stderr and in the build report). The frames gain an ``experiment`` column (the view's name).
    """
    from analysis import damaged as _damaged_records

    df, damaged = load_records(store, view_of(experiment).keys)
    _damaged_records.note(damaged)
    df["experiment"] = experiment
    if len(df) == 0:
        return df, df
    rmse = pd.to_numeric(df["test_rmse"], errors="coerce")
    usable = (df["status"] == "ok") & np.isfinite(rmse.to_numpy(dtype=float, na_value=np.nan))
    if not include_timed_out:
        usable &= ~df["sr_timed_out"].fillna(False).astype(bool)
    ok = df[usable].copy()
    ok["test_rmse"] = pd.to_numeric(ok["test_rmse"]).astype(float)
    ok["complexity"] = pd.to_numeric(ok["complexity"], errors="coerce").astype(float)
    ok["parsimony"] = pd.to_numeric(ok["parsimony"], errors="coerce").astype(float)
    ok["n_samples"] = pd.to_numeric(ok["n_samples"], errors="coerce")
    ok["protocol"] = ok["protocol"].fillna("unknown").astype(str)
    return df, ok


def is_close(series: pd.Series, value: float) -> pd.Series:
    """Element-wise ``isclose`` for parsimony-like floats (NaN -> False)."""
    arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(np.isclose(arr, value, rtol=1e-9, atol=0.0), index=series.index)


def search_space(model: str, dataset: str, protocol: str, hyperparameters: Sequence[str]):
    """The :class:`symexp.benchmarks.space.SearchSpace` of ``hyperparameters`` of a benchmark, or ``None``.

    Uses :func:`symexp.benchmarks.make_benchmark` (loads no data); if that refuses (e.g. an
    unusable ``$SYMEXP_DATA_DIR``), the model's registered space directly. ``None`` when the
    model or a hyperparameter is unknown: the caller reports it as missing.
    """
    from symexp.benchmarks import make_benchmark

    try:
        return make_benchmark(model=model, dataset=dataset, protocol=protocol,
                              hyperparameters=list(hyperparameters)).space
    except SymexpError:
        pass
    try:
        if model == "synthetic":
            from symexp.benchmarks.objective import SYNTHETIC_SPACE as full
        else:
            from symexp.benchmarks.models import model_info

            full = model_info(model).space
        return full.subspace(list(hyperparameters))
    except (SymexpError, KeyError, ImportError):
        return None


def select_records(ok: pd.DataFrame, methods: Sequence[str], n_samples: int | None = None,
                   parsimony: float | None = None, with_formula: bool = False) -> pd.DataFrame:
    """The usable records of ``methods`` that enter a table or figure.

    ``n_samples``: only that training-set size; ``parsimony``: SR records only at that coefficient
    (the baselines have none); ``with_formula``: only records with a non-empty formula.
    """
    if len(ok) == 0:
        return ok
    sel = ok[ok["method"].isin(list(methods))]
    if n_samples is not None:
        sel = sel[sel["n_samples"] == n_samples]
    if parsimony is not None:
        is_sr = sel["method"].isin(SR_METHODS)
        sel = sel[~is_sr | is_close(sel["parsimony"], parsimony)]
    if with_formula:
        sel = sel[sel["formula"].notna() & (sel["formula"].astype(str).str.len() > 0)]
    return sel


def readable_formula_of(formula: str, model: str, dataset: str, protocol: str, hyperparameters: Sequence[str]):
    """The formula as the paper prints it (guards that never act on the search space removed).

    Returns a :class:`symexp.symbolic.display.ReadableFormula`, or ``None`` when the search space
    is unknown or the text is not a formula (the caller then shows the stored text).
    """
    from symexp.symbolic.display import readable_formula

    space = search_space(model, dataset, protocol, hyperparameters)
    if space is None:
        return None
    names = list(hyperparameters)
    try:
        return readable_formula(formula, names, [(float(space[h].lower), float(space[h].upper)) for h in names],
                                [bool(space[h].log) for h in names])
    except SymexpError:
        return None
