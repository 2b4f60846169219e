"""CSV files with a YAML/JSON space file, or a space inferred from the data (see :mod:`symexp.explain.readers`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symexp.errors import SymexpError, unknown_choice
from symexp.benchmarks.space import Categorical, Numerical
from symexp.explain.readers.run_data import RunData, finish, value_index

SPACE_KEYS = {"type", "lower", "upper", "log", "choices", "default"}
SPACE_TYPES = ("float", "int", "categorical")


def read_space_file(path: str | Path) -> list[Numerical | Categorical]:
    """Hyperparameters from a YAML/JSON space file (see the module docstring)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise SymexpError(f"cannot read space file {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SymexpError(f"space file {p} is not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(data, list):  # [{name: ..., type: ...}, ...]
        try:
            data = {str(d["name"]): {k: v for k, v in d.items() if k != "name"} for d in data}
        except (TypeError, KeyError):
            raise SymexpError(f"space file {p}: a list must hold mappings with a 'name' key") from None
    if not isinstance(data, dict) or not data:
        raise SymexpError(f"space file {p} must map each hyperparameter name to {{type, lower, upper, log}} or "
                          f"{{type: categorical, choices}}")
    hps: list[Numerical | Categorical] = []
    for name, spec in data.items():
        where = f"space file {p}: {name}"
        if not isinstance(spec, dict):
            raise SymexpError(f"{where} must be a mapping like {{type: float, lower: 0, upper: 1}}")
        extra = sorted(set(spec) - SPACE_KEYS)
        if extra:
            raise SymexpError(f"{where}: unknown key(s) {', '.join(extra)}; valid: {', '.join(sorted(SPACE_KEYS))}")
        kind = spec.get("type", "categorical" if "choices" in spec else "float")
        if kind not in SPACE_TYPES:
            raise unknown_choice(f"type of {name} in {p}", kind, SPACE_TYPES)
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise SymexpError(f"{where}: a categorical needs a non-empty list 'choices'")
            texts = tuple(str(c) for c in choices)
            if len(set(texts)) != len(texts):
                raise SymexpError(f"{where}: choices {list(texts)} are not distinct")
            default = spec.get("default")
            hps.append(Categorical(str(name), texts, None if default is None else str(default)))
            continue
        for key in ("lower", "upper"):
            v = spec.get(key)
            if isinstance(v, str):
                # PyYAML (YAML 1.1) reads 1e-6 (no dot) as text; it is a number to the user
                try:
                    v = spec[key] = float(v) if math.isfinite(float(v)) else v
                except ValueError:
                    pass
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise SymexpError(f"{where}: '{key}' must be a number, got {v!r}")
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise SymexpError(f"{where}: 'log' must be true or false, got {log!r}")
        integer = kind == "int"
        lo, hi = spec["lower"], spec["upper"]
        if integer and (lo != int(lo) or hi != int(hi)):
            raise SymexpError(f"{where}: an int hyperparameter needs integer bounds, got [{lo}, {hi}]")
        hps.append(Numerical(str(name), int(lo) if integer else float(lo), int(hi) if integer else float(hi),
                             log=log, integer=integer, default=spec.get("default")))
    return hps


#: Without a space file, a positive numeric column spanning at least this ratio (max / min) is
#: taken as log-scaled: HPO spaces put such ranges (learning rates, regularisation, C, gamma) on
#: a log scale, and a formula in raw units over several decades is rarely readable.
INFERRED_LOG_RATIO = 100.0


def _infer_space(df, names: list[str], notes: list[str]) -> list[Numerical | Categorical]:
    import pandas as pd

    hps: list[Numerical | Categorical] = []
    for name in names:
        col = df[name]
        num = pd.to_numeric(col, errors="coerce")
        if num.notna().all():
            lo, hi = float(num.min()), float(num.max())
            if lo == hi:
                notes.append(f"column {name} is constant ({lo:g}); left out")
                continue
            integer = bool(np.all(num == np.round(num)))
            log = lo > 0 and hi / lo >= INFERRED_LOG_RATIO
            hps.append(Numerical(name, int(lo) if integer else lo, int(hi) if integer else hi, integer=integer,
                                 log=log))
        else:
            hps.append(Categorical(name, tuple(sorted({str(v) for v in col.dropna()}))))
    notes.append("no space file: space inferred from the data ("
                 + "; ".join(hp.describe() for hp in hps)
                 + f"; log-scaled when positive and max/min >= {INFERRED_LOG_RATIO:g}); pass --space FILE for "
                   "the real bounds and log scales")
    return hps


def read_csv(path: str | Path, space_file: str | Path | None = None, cost_column: str = "cost",
             drop_nonfinite: bool = False, ignore_columns: Sequence[str] | None = None,
             direction: str = "minimize") -> RunData:
    """A CSV of configurations and costs, with an optional space file.

    Every column other than the cost must be a hyperparameter of the space or be listed in
    ``ignore_columns``: a column that varies could be a hyperparameter the space file forgot, and
    explaining without it would silently attribute its effect to the others. Constant columns
    outside the space are left out with a note."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise SymexpError(f"CSV file {p} does not exist")
    try:
        df = pd.read_csv(p, sep=None if p.suffix.lower() == ".tsv" else ",", engine="python")
    except Exception as exc:  # noqa: BLE001 - pandas raises many types on bad files
        raise SymexpError(f"cannot read CSV {p}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    columns = [str(c) for c in df.columns]
    df.columns = columns
    if len(df) == 0:
        raise SymexpError(f"CSV {p} has a header ({', '.join(columns)}) but no rows: no evaluations to explain")
    if cost_column not in columns:
        raise SymexpError(f"CSV {p} has no cost column {cost_column!r}; columns: {', '.join(columns)} "
                          f"(choose with --cost-column)")
    notes: list[str] = []
    ignore = [str(c) for c in (ignore_columns or [])]
    unknown = [c for c in ignore if c not in columns]
    if unknown:
        raise SymexpError(f"--ignore-columns: {', '.join(unknown)} not column(s) of {p} ({', '.join(columns)})")
    if cost_column in ignore:
        raise SymexpError(f"--ignore-columns lists the cost column {cost_column!r}")
    if ignore:
        notes.append(f"CSV column(s) {', '.join(ignore)} ignored (--ignore-columns)")
    if space_file is not None:
        hps = read_space_file(space_file)
        missing = [hp.name for hp in hps if hp.name not in columns]
        if missing:
            raise SymexpError(f"unknown hyperparameter name(s) {', '.join(missing)} in space file {space_file}: not "
                              f"columns of {p} ({', '.join(columns)})")
        if cost_column in {hp.name for hp in hps}:
            raise SymexpError(f"the cost column {cost_column!r} is also a hyperparameter in {space_file}")
        both = [hp.name for hp in hps if hp.name in ignore]
        if both:
            raise SymexpError(f"--ignore-columns lists {', '.join(both)}, which the space file {space_file} defines")
        outside = [c for c in columns if c != cost_column and c not in {hp.name for hp in hps} and c not in ignore]
        varying = [c for c in outside if df[c].nunique(dropna=False) > 1]
        if varying:
            raise SymexpError(f"CSV column(s) {', '.join(varying)} vary but are not in the space file {space_file}: add "
                              f"them to it if they are hyperparameters, or pass --ignore-columns {','.join(varying)}")
        if outside:
            notes.append(f"constant CSV column(s) {', '.join(outside)} not in the space file; left out")
    else:
        hps = _infer_space(df, [c for c in columns if c != cost_column and c not in ignore], notes)
    if len(df) == 0:
        raise SymexpError(f"CSV {p} has no rows")

    costs = pd.to_numeric(df[cost_column], errors="coerce")
    text_bad = [i for i in range(len(df)) if pd.isna(costs.iloc[i]) and not _is_nan_text(df[cost_column].iloc[i])]
    if text_bad:
        rows = ", ".join(str(i + 2) for i in text_bad[:5])
        raise SymexpError(f"cost column {cost_column!r} of {p} has non-numeric values (line(s) {rows})")
    X = np.empty((len(df), len(hps)))
    for j, hp in enumerate(hps):
        col = df[hp.name]
        for i in range(len(df)):
            v = col.iloc[i]
            where = f"{p.name} line {i + 2}"
            if isinstance(hp, Categorical):
                if pd.isna(v):
                    raise SymexpError(f"{where}: {hp.name} is empty")
                text = str(v) if str(v) in hp.choices else _choice_text(v)
                X[i, j] = value_index(hp, text, where)
            else:
                try:
                    num = float(v)
                except (TypeError, ValueError):
                    raise SymexpError(f"{where}: {hp.name}={v!r} is not a number") from None
                if not math.isfinite(num):
                    raise SymexpError(f"{where}: {hp.name} is empty or not finite")
                if hp.integer and num != round(num):
                    raise SymexpError(f"{where}: {hp.name}={v!r} must be an integer")
                X[i, j] = value_index(hp, num, where)
    labels = [f"line {i + 2}" for i in range(len(df))]
    source = {"kind": "csv", "path": str(p), "cost_column": cost_column,
              "space_file": None if space_file is None else str(space_file)}
    return finish(hps, X, costs.to_numpy(dtype=float), source, notes, labels, drop_nonfinite,
                  objective=cost_column, direction=direction)


def _is_nan_text(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return True  # NaN from an empty cell
    return str(v).strip().lower() in ("", "nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _choice_text(v: Any) -> str:
    # pandas reads 1, 2 as int and "1.0" as float; match the space file's text of the choice
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
