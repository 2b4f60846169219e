"""Dataset registry and loading for the HPOBench "BB" ML benchmarks.

The eight OpenML tasks of the paper (in the paper's order) plus two datasets that need no
files: ``breast_cancer`` (scikit-learn's copy, for smoke runs) and ``synthetic`` (no data at
all; only valid with the ``synthetic`` model).

Data sources, in order of preference:

1. **Offline CSV** (``data_dir`` argument, else the ``SYMEXP_DATA_DIR`` environment variable):
   ``<data_id>_<openml name>.csv`` with a header, the target as the last column, rows in OpenML
   order (see ``shared/data/openml/SOURCES.md``). A CSV cannot say which columns are nominal, so
   the registry below lists them; the header is checked against the registry (target name,
   nominal columns, column count) before any work is done.
2. **OpenML** (no data directory at all): ``openml.tasks.get_task`` and the task's dataset with
   its own target and categorical indicator, and the task's own split (repeat 0, fold 0). The
   ``openml`` package keeps its own download cache. :func:`fetch_openml` takes the ``openml``
   module as an argument so that its logic can be checked with a fake module.

Loaded data is a :class:`RawData`: features as a ``DataFrame`` (nominal columns as ``str``,
numeric columns as ``float``) and labels as ``str`` (so that e.g. kc1's ``false``/``true`` and
blood's ``1``/``2`` are plain class names, encoded to ints later in :mod:`.split`).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from symexp.errors import SymexpError, unknown_choice

DATA_DIR_ENV = "SYMEXP_DATA_DIR"


@dataclass(frozen=True)
class DatasetInfo:
    """What symexp knows about one dataset without reading it.

    ``n_columns`` counts the target. ``nominal`` lists the nominal feature columns (OpenML's
    categorical indicator, excluding the target). ``source`` is ``"openml"`` for the OpenML
    tasks (CSV offline / OpenML online), ``"sklearn"`` or ``"synthetic"`` otherwise.
    """

    name: str
    source: str
    task_id: int | None = None
    data_id: int | None = None
    openml_name: str | None = None
    target: str | None = None
    nominal: tuple[str, ...] = ()
    n_columns: int | None = None
    n_rows: int | None = None
    classes: tuple[str, ...] = ()  # the class labels as the CSV spells them (a label outside: malformed data)

    @property
    def csv_name(self) -> str:
        return f"{self.data_id}_{self.openml_name}.csv"

    @property
    def needs_files(self) -> bool:
        return self.source == "openml"


_CREDIT_G_NOMINAL = (
    "checking_status", "credit_history", "purpose", "savings_status", "employment",
    "personal_status", "other_parties", "property_magnitude", "other_payment_plans", "housing",
    "job", "own_telephone", "foreign_worker",
)

REGISTRY: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo("blood_transfusion", "openml", 10101, 1464, "blood-transfusion-service-center", "Class", (), 5, 748, ("1", "2")),
        DatasetInfo("vehicle", "openml", 53, 54, "vehicle", "Class", (), 19, 846, ("bus", "opel", "saab", "van")),
        DatasetInfo("australian", "openml", 146818, 40981, "Australian", "A15",
                    ("A1", "A4", "A5", "A6", "A8", "A9", "A11", "A12"), 15, 690, ("0", "1")),
        DatasetInfo("car", "openml", 146821, 40975, "car", "class",
                    ("buying", "maint", "doors", "persons", "lug_boot", "safety"), 7, 1728,
                    ("acc", "good", "unacc", "vgood")),
        DatasetInfo("phoneme", "openml", 9952, 1489, "phoneme", "Class", (), 6, 5404, ("1", "2")),
        DatasetInfo("segment", "openml", 146822, 40984, "segment", "class", (), 20, 2310,
                    ("brickface", "cement", "foliage", "grass", "path", "sky", "window")),
        DatasetInfo("credit_g", "openml", 31, 31, "credit-g", "class", _CREDIT_G_NOMINAL, 21, 1000, ("bad", "good")),
        DatasetInfo("kc1", "openml", 3917, 1067, "kc1", "defects", (), 22, 2109, ("false", "true")),
        DatasetInfo("breast_cancer", "sklearn", target="target", n_columns=31, n_rows=569),
        DatasetInfo("synthetic", "synthetic"),
    )
}

DATASETS: tuple[str, ...] = tuple(REGISTRY)
OPENML_DATASETS: tuple[str, ...] = tuple(n for n, d in REGISTRY.items() if d.source == "openml")


def dataset_info(name: str) -> DatasetInfo:
    if name not in REGISTRY:
        raise unknown_choice("dataset", name, DATASETS)
    return REGISTRY[name]


@dataclass
class RawData:
    """A whole dataset before splitting.

    ``split`` is ``None`` (symexp draws its own stratified split) or the OpenML task's
    ``(train_idx, test_idx)`` for repeat 0, fold 0.
    """

    X: pd.DataFrame
    y: np.ndarray  # str labels
    nominal: list[str]
    source: str  # "csv" | "openml" | "sklearn"
    split: tuple[np.ndarray, np.ndarray] | None = None


# ----------------------------------------------------------------------------------------------
# locating and checking files (cheap: done when the benchmark is made)
# ----------------------------------------------------------------------------------------------

def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The data directory to use: the argument, else ``$SYMEXP_DATA_DIR``, else ``None`` (OpenML)."""
    if data_dir is None or str(data_dir) == "":
        env = os.environ.get(DATA_DIR_ENV)
        data_dir = env if env else None
    return None if data_dir is None else Path(data_dir).expanduser().resolve()


def csv_path(info: DatasetInfo, data_dir: Path) -> Path:
    """Path of the dataset's CSV, after checking the directory, the file and its header.

    Raises a one-line :class:`SymexpError` if the directory or file is missing or the header
    does not match the registry.
    """
    if not data_dir.is_dir():
        raise SymexpError(
            f"data directory {data_dir} does not exist; pass an existing directory holding "
            f"{info.csv_name} (or unset data_dir and ${DATA_DIR_ENV} to download from OpenML)"
        )
    path = data_dir / info.csv_name
    if not path.is_file():
        raise SymexpError(f"dataset {info.name}: expected file {info.csv_name} in data directory {data_dir}, not found")
    check_header(info, path, read_header(path))
    return path


def read_header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            try:
                return next(csv.reader(fh))
            except StopIteration:
                return []
    except UnicodeDecodeError as exc:
        raise SymexpError(f"data file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); replace it with "
                          "the OpenML CSV (docs/split.md) or re-save it as UTF-8") from None


def check_header(info: DatasetInfo, path: Path | str, header: list[str]) -> None:
    """Raise if ``header`` does not fit the registry (column count, target, nominal columns)."""
    problems = []
    if len(header) != info.n_columns:
        problems.append(f"{len(header)} columns, expected {info.n_columns}")
    if not header or header[-1] != info.target:
        problems.append(f"last column {header[-1] if header else None!r}, expected target {info.target!r}")
    missing = [c for c in info.nominal if c not in header[:-1]]
    if missing:
        problems.append(f"nominal column(s) {', '.join(missing)} missing")
    if problems:
        raise SymexpError(f"dataset {info.name}: {path} does not match the registry: {'; '.join(problems)}")


# ----------------------------------------------------------------------------------------------
# loading (lazy: done at the first evaluation)
# ----------------------------------------------------------------------------------------------

def _typed_frame(X: pd.DataFrame, nominal: list[str]) -> pd.DataFrame:
    """Nominal columns as ``str`` objects (missing stays NaN), the others as float."""
    out = {}
    for c in X.columns:
        col = X[c]
        if c in nominal:
            out[c] = col.astype(object).map(lambda v: np.nan if pd.isna(v) else str(v)).astype(object)
        else:
            values = pd.to_numeric(col, errors="coerce")
            bad = values.isna() & col.notna()
            if bad.any():  # malformed data: the user's file to fix, never a failed training
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise SymexpError(f"numeric column {c!r} has non-numeric value {col.iloc[row]!r} in data row {row + 1} "
                                  f"({int(bad.sum())} such value(s)); valid: numbers or an empty field for missing")
            out[c] = values.astype(float)
    return pd.DataFrame(out, columns=list(X.columns), index=pd.RangeIndex(len(X)))


def _labels(y: Any) -> np.ndarray:
    y = pd.Series(y)
    if y.isna().any():
        raise SymexpError(f"the target has {int(y.isna().sum())} missing value(s)")
    return np.asarray([str(v) for v in y], dtype=object)


def read_csv(info: DatasetInfo, path: Path) -> RawData:
    """Read an offline CSV: every column as text first, then typed via the registry.

    Malformed content (a non-numeric value in a numeric column, a missing label, a ragged row)
    raises a one-line :class:`SymexpError` that names the file.
    """
    # Only empty fields are missing (liac-arff writes ARFF's "?" as an empty field); words like
    # credit-g's "none" are values.
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as exc:
        raise SymexpError(f"dataset {info.name}: {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                          "replace it with the OpenML CSV or re-save it as UTF-8") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise SymexpError(f"dataset {info.name}: cannot read {path}: {str(exc).splitlines()[0]}") from None
    check_header(info, path, list(df.columns))
    features = list(df.columns[:-1])
    nominal = [c for c in features if c in info.nominal]
    try:
        X = _typed_frame(df[features], nominal)
        y = _labels(df[info.target])
        if info.classes:
            unknown = ~pd.Series(y).isin(info.classes).to_numpy()
            if unknown.any():
                row = int(np.flatnonzero(unknown)[0])
                raise SymexpError(f"class label {y[row]!r} in data row {row + 1} ({int(unknown.sum())} such row(s)) "
                                  f"is not one of the dataset's classes {', '.join(info.classes)}; replace the file "
                                  "with the OpenML CSV")
    except SymexpError as exc:
        raise SymexpError(f"dataset {info.name}: {path}: {exc}") from None
    return RawData(X=X, y=y, nominal=nominal, source="csv")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (a dataset's content is part of a benchmark's identity)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_openml(info: DatasetInfo, openml_module: Any = None) -> RawData:
    """Download (or read from openml's cache) the task's data and its fold-0 split.

    ``openml_module`` defaults to the real ``openml`` package; tests pass a fake one.
    """
    if openml_module is None:
        import openml as openml_module  # noqa: PLC0415 - heavy import, only when needed
    try:
        task = openml_module.tasks.get_task(info.task_id, download_splits=True, download_data=False)
        dataset = openml_module.datasets.get_dataset(task.dataset_id, download_data=True)
    except (OSError, ConnectionError) as exc:  # requests' ConnectionError is an OSError
        # No data directory and no OpenML: a setup problem the user fixes, not a result.
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise SymexpError(
            f"dataset {info.name}: no data directory is set and OpenML task {info.task_id} cannot be "
            f"fetched ({type(exc).__name__}: {reason}); set SYMEXP_DATA_DIR (or paths.data_dir) to a "
            "directory with the datasets' CSV files") from None
    X, y, categorical, names = dataset.get_data(target=task.target_name, dataset_format="dataframe")
    names = list(X.columns) if names is None else list(names)
    nominal = [n for n, is_cat in zip(names, categorical) if is_cat]
    train_idx, test_idx = task.get_train_test_split_indices(repeat=0, fold=0, sample=0)
    X = _typed_frame(pd.DataFrame(X).reset_index(drop=True), nominal)
    split = (np.asarray(train_idx, dtype=np.int64), np.asarray(test_idx, dtype=np.int64))
    return RawData(X=X, y=_labels(y), nominal=nominal, source="openml", split=split)


def load_breast_cancer() -> RawData:
    from sklearn.datasets import load_breast_cancer as _load  # noqa: PLC0415

    bunch = _load()
    X = pd.DataFrame(np.asarray(bunch.data, dtype=float), columns=[str(c) for c in bunch.feature_names])
    return RawData(X=X, y=_labels(bunch.target), nominal=[], source="sklearn")


def load_raw(info: DatasetInfo, data_dir: Path | None, openml_module: Any = None) -> RawData:
    """Load a whole dataset from the source chosen when the benchmark was made."""
    if info.source == "sklearn":
        return load_breast_cancer()
    if info.source != "openml":
        raise SymexpError(f"dataset {info.name} has no data to load")
    if data_dir is None:
        return fetch_openml(info, openml_module)
    return read_csv(info, csv_path(info, data_dir))
