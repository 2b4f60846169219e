"""Shared pieces of the analysis commands: names, paths, CLI handling, plotting style, output.

Every command is ``python -m analysis.<name> --store <records dir> --out <dir>``. An experiment
preset is a *view* of the store (the records its cells plan, ``symexp/app/config.build_view``):
the analysis reads exactly those records, and takes the protocol values it labels its outputs
with (n, parsimony, seeds) from the same preset, never from constants of its own. Fits stopped by
the SR time limit are left out (as the authors did) unless ``--include-timed-out`` is given;
they are counted in the reports. Outputs go to ``<out>/<artefact>/<protocol>/``.
User mistakes (a missing store, an unknown experiment, a bad option) print one line on stderr
and exit with status 2; missing *data* is never an error: it is listed in the report.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from symexp.errors import SymexpError
from symexp.store.atomic import atomic_write_text
from symexp.store.records import load_records

DEFAULT_STORE = Path("results/store")
DEFAULT_OUT = Path("results/analysis")
DEFAULT_CACHE = Path("results/cache")
REFERENCE_DIR = Path(__file__).resolve().parent.parent / "results" / "reference"
PUBLISHED_TABLE1 = REFERENCE_DIR / "table1_published.csv"

# -- names ---------------------------------------------------------------------------------
MODEL_ORDER = ("lr", "svm", "rf", "xgb", "nn")
MODEL_NAMES = {
    "lr": "Logistic Regression",
    "svm": "Support Vector Machine",
    "rf": "Random Forest",
    "xgb": "XGBoost",
    "nn": "Neural Network",
}



def _paper_pairs() -> dict[str, tuple[str, ...]]:
    from symexp.benchmarks.models import ML_MODELS, model_info

    return {m: tuple(model_info(m).paper_pair) for m in ML_MODELS}


MODEL_HPS = _paper_pairs()  # the benchmark registry's, not a copy
DATASET_ORDER = (
    "blood_transfusion", "vehicle", "australian", "car", "phoneme", "segment", "credit_g", "kc1",
)
DATASET_NAMES = {
    "blood_transfusion": "blood-transfusion",
    "vehicle": "vehicle",
    "australian": "Australian",
    "car": "car",
    "phoneme": "phoneme",
    "segment": "segment",
    "credit_g": "credit-g",
    "kc1": "kc1",
}
METHOD_ORDER = ("sr_bo", "sr_random", "sr_bo_gp", "gp_baseline", "linear_regression")
SR_METHOD_ORDER = METHOD_ORDER[:3]
METHOD_LABELS = {
    "sr_bo": "SR (BO)",
    "sr_random": "SR (Random)",
    "sr_bo_gp": "SR (BO-GP)",
    "gp_baseline": "GP Baseline",
    "linear_regression": "Linear Regression",
}
METHOD_COLORS = {
    "sr_bo": "#4C72B0",
    "sr_random": "#DD8452",
    "sr_bo_gp": "#55A868",
    "gp_baseline": "#8C8C8C",
    "linear_regression": "#C44E52",
}


def model_name(key: str) -> str:
    return MODEL_NAMES.get(key, key)


def dataset_name(key: str) -> str:
    return DATASET_NAMES.get(key, key)


def method_label(key: str) -> str:
    return METHOD_LABELS.get(key, key)


def order_keys(present: Iterable[str], canonical: Sequence[str]) -> list[str]:
    """``present`` in canonical order first, then unknown keys alphabetically."""
    present = set(present)
    return [k for k in canonical if k in present] + sorted(present - set(canonical))


def model_dataset_cells(df: pd.DataFrame, all_canonical: bool = False) -> list[tuple[str, str]]:
    """(model, dataset) pairs in the paper's order: present ones, or the full 5 x 8 grid too."""
    models = order_keys(df["model"].dropna().unique() if len(df) else [], MODEL_ORDER)
    datasets = order_keys(df["dataset"].dropna().unique() if len(df) else [], DATASET_ORDER)
    if all_canonical:
        models = order_keys(set(models) | set(MODEL_ORDER), MODEL_ORDER)
        datasets = order_keys(set(datasets) | set(DATASET_ORDER), DATASET_ORDER)
    return [(m, d) for m in models for d in datasets]


# -- records -------------------------------------------------------------------------------
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def check_store(store: Path) -> Path:
    from symexp.store.records import check_store_format

    if not store.is_dir():
        raise SymexpError(f"record store {str(store)!r} does not exist (pass --store <records dir>)")
    check_store_format(store)  # an old-format store is refused with what to do, never misread
    return store


def available_experiments(store: Path | None = None) -> list[str]:
    """The experiment presets (``conf/experiment/*.yaml``): the views the analysis can read."""
    conf = Path(__file__).resolve().parent.parent / "conf" / "experiment"
    return sorted(p.stem for p in conf.glob("*.yaml"))


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
    time limit. Damaged record files are skipped (``summary``/``status`` list them). The frames
    gain an ``experiment`` column (the view's name).
    """
    df, _damaged = load_records(store, view_of(experiment).keys)
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


# -- output --------------------------------------------------------------------------------
def set_style() -> None:
    """Non-interactive backend and a clean seaborn look for every figure."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "savefig.bbox": "tight",
        "axes.titleweight": "bold",
        "pdf.fonttype": 42,
    })


def save_figure(fig, base: Path) -> list[Path]:
    """Write ``base.png`` and ``base.pdf`` (creating the directory) and close the figure."""
    import matplotlib.pyplot as plt

    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        path = base.with_suffix(f".{ext}")
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        fig.savefig(tmp, format=ext)
        os.replace(tmp, path)
        paths.append(path)
    plt.close(fig)
    return paths


def write_text(path: Path, text: str) -> Path:
    return atomic_write_text(path, text if text.endswith("\n") else text + "\n")


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    return write_text(path, df.to_csv(index=False, lineterminator="\n"))


def fmt(x: Any, digits: int = 3) -> str:
    """A number with fixed decimals, or an en dash when missing."""
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}"


def latex_escape(s: str) -> str:
    repl = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(repl.get(c, c) for c in str(s))


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    align = align or ["l"] * len(header)
    sep = ["---:" if a == "r" else ":---:" if a == "c" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


# -- CLI -----------------------------------------------------------------------------------
class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def make_parser(prog: str, description: str, default_experiment: str | None) -> OneLineParser:
    p = OneLineParser(prog=prog, description=description)
    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help=f"records directory (default: {DEFAULT_STORE})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output directory (default: {DEFAULT_OUT})")
    if default_experiment is not None:
        p.add_argument("--experiment", default=None,
                       help=f"experiment preset whose records are read (default: {default_experiment})")
    p.add_argument("--include-timed-out", action="store_true",
                   help="also use SR fits stopped by the time limit (left out by default, as the authors did)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="Hydra overrides of the preset's view, as for `symexp run` (e.g. protocol=clean)")
    return p


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None, prog: str = "analysis") -> int:
    """Call ``main``; a :class:`SymexpError` becomes one stderr line and exit status 2."""
    try:
        return main(argv)
    except SymexpError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2


class Report:
    """What a builder produced and what it could not build, printed at the end."""

    def __init__(self, name: str):
        self.name = name
        self.outputs: list[Path] = []
        self.missing: list[str] = []
        self.notes: list[str] = []

    def add(self, *paths: Path | Iterable[Path]) -> None:
        for p in paths:
            if isinstance(p, Path):
                self.outputs.append(p)
            else:
                self.outputs.extend(p)

    @property
    def built(self) -> bool:
        return bool(self.outputs)

    def text(self, max_missing: int = 50) -> str:
        lines = [f"== {self.name}: {'built' if self.built else 'nothing built'}"]
        lines += [f"   {n}" for n in self.notes]
        if self.outputs:
            dirs = sorted({str(p.parent) for p in self.outputs})
            lines.append(f"   {len(self.outputs)} file(s) in: {', '.join(dirs)}")
        if self.missing:
            lines.append(f"   missing ({len(self.missing)}):")
            shown = self.missing[:max_missing]
            lines += [f"     - {m}" for m in shown]
            if len(self.missing) > max_missing:
                lines.append(f"     ... and {len(self.missing) - max_missing} more (see the report files)")
        return "\n".join(lines)


def facet_axes(n_panels: int, ncols: int = 4, panel: tuple[float, float] = (3.6, 2.9), layout: str | None = None):
    """A figure with ``n_panels`` axes in rows of ``ncols`` (unused axes removed)."""
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n_panels))
    nrows = max(1, math.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows), squeeze=False,
                             layout=layout)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        fig.delaxes(ax)
    return fig, flat[:n_panels]


def add_cache_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"shared cache of the pipeline: test sets, BO runs, PD artefacts (default: {DEFAULT_CACHE})")


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


def panel_title(model: str, dataset: str) -> str:
    hps = MODEL_HPS.get(model)
    return f"{model_name(model)}" + (f" ({', '.join(hps)})" if hps else "") + f"\n{dataset_name(dataset)}"
