"""Train / validation / test split and preprocessing, as HPOBench's ``OpenMLDataManager`` does it.

HPOBench (``hpobench/dependencies/ml/data_manager.py``):

1. test = the OpenML task's test split (repeat 0, fold 0 of its 10-fold CV);
2. validation = 33 % of the remaining rows, ``train_test_split(stratify=y, shuffle=True,
   random_state=1)``;
3. preprocessing fitted on the training rows only: nominal columns most-frequent imputation +
   one-hot encoding (unknown categories ignored, dense output), the other columns median
   imputation + standardisation; nominal blocks first, then numeric ones (ColumnTransformer
   order).

Offline (CSV, ``breast_cancer``) there is no task split file. Split method ``openml_folds``
(the default) regenerates it: :mod:`.openml_folds` runs OpenML's own fold generator (seed 0,
Weka's randomize/stratify/trainCV/testCV), which reproduces OpenML's files exactly, so the test
rows and the order of the training rows handed to the validation split are HPOBench's
(``split_info["source"]`` is ``"openml_folds"``; online, with the task's own file,
``"openml_task"``). Method ``stratified_kfold`` keeps the earlier stand-in for comparison: fold 0
of ``StratifiedKFold(n_splits=10, shuffle=True, random_state=0)`` (same sizes, other rows).

Labels are encoded to ``0..k-1`` in sorted order of their string names, over the whole dataset
(so all splits share one encoding; XGBoost needs such labels).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symexp.benchmarks.datasets import OPENML_DATASETS, REGISTRY, DatasetInfo, RawData, load_raw, resolve_data_dir
from symexp.benchmarks.openml_folds import FOLD_GENERATION_SEED, fold_indices, generate_folds, splits_arff
from symexp.errors import unknown_choice

N_FOLDS = 10  # the paper's tasks: 10-fold cross-validation, 1 repeat
N_REPEATS = 1
TEST_REPEAT = 0  # HPOBench tests on repeat 0, fold 0 of the task's cross-validation
TEST_FOLD = 0
TEST_FOLD_SEED = 0  # StratifiedKFold random_state of the stratified_kfold stand-in
# How the test rows are chosen when the task's split file is not at hand; the setting lives in
# conf/config.yaml (``split``).
SPLIT_METHODS = ("openml_folds", "stratified_kfold")
VALID_SIZE = 0.33
VALID_SEED = 1  # HPOBench's global_seed for the train/valid split


@dataclass
class PreparedData:
    """Preprocessed arrays of one dataset (float64 features, int64 labels)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    feature_names: list[str]
    split_info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    classes, codes = np.unique(np.asarray(y, dtype=str), return_inverse=True)
    return codes.astype(np.int64), [str(c) for c in classes]


def check_split_method(method: str) -> str:
    if method not in SPLIT_METHODS:
        raise unknown_choice("split", method, SPLIT_METHODS)
    return method


def split_source(method: str, has_task_split: bool) -> str:
    """Which split makes the test rows: the task's file if at hand (for ``openml_folds``)."""
    check_split_method(method)
    if method == "openml_folds":
        return "openml_task" if has_task_split else "openml_folds"
    return "stratified_kfold"


def split_indices(
    y_codes: np.ndarray, task_split: tuple[np.ndarray, np.ndarray] | None = None, method: str = "openml_folds"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """``(train_idx, valid_idx, test_idx, source)`` as row positions into the whole dataset.

    ``y_codes`` are the labels in file order. The rows left after the test fold go to the
    validation split in the order the split file lists them (HPOBench receives them so), which
    decides which rows ``train_test_split`` picks.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: PLC0415

    n = len(y_codes)
    source = split_source(method, task_split is not None)
    if source == "openml_task":
        rest_idx, test_idx = (np.asarray(a, dtype=np.int64) for a in task_split)
    elif source == "openml_folds":
        rest_idx, test_idx = fold_indices(y_codes, repeat=TEST_REPEAT, fold=TEST_FOLD, n_folds=N_FOLDS,
                                          seed=FOLD_GENERATION_SEED)
    else:
        skf = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=TEST_FOLD_SEED)
        rest_idx, test_idx = next(iter(skf.split(np.zeros((n, 1)), y_codes)))
    train_idx, valid_idx = train_test_split(
        rest_idx, test_size=VALID_SIZE, shuffle=True, stratify=y_codes[rest_idx], random_state=VALID_SEED
    )
    return np.asarray(train_idx), np.asarray(valid_idx), np.asarray(test_idx), source


def dataset_splits_arff(name: str, data_dir: str | Path | None = None) -> str:
    """The ``datasplits.arff`` text of one of the paper's OpenML tasks, regenerated from its data.

    ``data_dir``: the offline CSVs (``None``: ``$SYMEXP_DATA_DIR``, else OpenML). The relation is
    OpenML's ``<dataset name>_splits``.
    """
    if name not in OPENML_DATASETS:
        raise unknown_choice("dataset (one of the paper's OpenML tasks)", name, OPENML_DATASETS)
    info = REGISTRY[name]
    raw = load_raw(info, resolve_data_dir(data_dir))
    lines = generate_folds(list(raw.y), n_folds=N_FOLDS, n_repeats=N_REPEATS, seed=FOLD_GENERATION_SEED)
    return splits_arff(lines, f"{info.openml_name}_splits")


def make_preprocessor(nominal: list[str], numeric: list[str]):
    """The HPOBench ColumnTransformer (nominal block first, then numeric)."""
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: PLC0415

    blocks = []
    if nominal:
        blocks.append((
            "cat",
            make_pipeline(SimpleImputer(strategy="most_frequent"),
                          OneHotEncoder(sparse_output=False, handle_unknown="ignore")),
            list(nominal),
        ))
    if numeric:
        blocks.append(("cont", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(numeric)))
    return ColumnTransformer(blocks, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)


def split_description(source: str, info: DatasetInfo) -> dict[str, Any]:
    """What made the split (part of the benchmark key and of every record's ``split_info``)."""
    if source == "openml_task":
        split = {"source": source, "task_id": info.task_id, "repeat": TEST_REPEAT, "fold": TEST_FOLD}
    elif source == "openml_folds":
        split = {"source": source, "n_folds": N_FOLDS, "repeat": TEST_REPEAT, "fold": TEST_FOLD,
                 "seed": FOLD_GENERATION_SEED, "data_id": info.data_id}
    else:
        split = {"source": source, "n_folds": N_FOLDS, "fold": TEST_FOLD, "fold_seed": TEST_FOLD_SEED,
                 "data_id": info.data_id}
    split.update({"valid_size": VALID_SIZE, "valid_seed": VALID_SEED})
    return split


def prepare(raw: RawData, info: DatasetInfo, method: str = "openml_folds") -> PreparedData:
    """Split ``raw`` and preprocess it (preprocessor fitted on the training rows only)."""
    y, classes = encode_labels(raw.y)
    train_idx, valid_idx, test_idx, source = split_indices(y, raw.split, method)
    nominal = [c for c in raw.X.columns if c in set(raw.nominal)]
    numeric = [c for c in raw.X.columns if c not in set(raw.nominal)]
    pre = make_preprocessor(nominal, numeric)
    X = raw.X
    X_train = np.ascontiguousarray(pre.fit_transform(X.iloc[train_idx]), dtype=np.float64)
    X_valid = np.ascontiguousarray(pre.transform(X.iloc[valid_idx]), dtype=np.float64)
    X_test = np.ascontiguousarray(pre.transform(X.iloc[test_idx]), dtype=np.float64)
    split_info = {
        **split_description(source, info),
        "n_train": len(train_idx),
        "n_valid": len(valid_idx),
        "n_test": len(test_idx),
        "task_id": info.task_id,
        "data_id": info.data_id,
    }
    return PreparedData(
        X_train=X_train, y_train=y[train_idx], X_valid=X_valid, y_valid=y[valid_idx],
        X_test=X_test, y_test=y[test_idx], classes=classes,
        feature_names=[str(n) for n in pre.get_feature_names_out()], split_info=split_info,
    )


# A process-wide cache so that many benchmark objects (and the tasks a worker process runs one
# after the other) load and preprocess a dataset once. Keyed by where the data comes from; for
# a CSV also by its size and modification time, so an edited file is re-read.
_PREPARED: dict[tuple, PreparedData] = {}
_PREPARED_LOCK = threading.Lock()


def _source_id(info: DatasetInfo, data_dir: Path | None) -> tuple:
    if info.source == "openml" and data_dir is not None:
        path = Path(data_dir) / info.csv_name
        try:
            st = path.stat()
            return (info.name, "csv", str(path), st.st_size, st.st_mtime_ns)
        except OSError:
            return (info.name, "csv", str(path))
    if info.source == "openml":
        return (info.name, "openml", info.task_id)
    return (info.name, info.source)


def get_prepared(info: DatasetInfo, data_dir: Path | None, openml_module: Any = None,
                 method: str = "openml_folds") -> PreparedData:
    """The prepared data of ``info`` from ``data_dir`` split by ``method`` (cached for the life of
    the process)."""
    key = (*_source_id(info, data_dir), check_split_method(method))
    with _PREPARED_LOCK:
        hit = _PREPARED.get(key)
    if hit is not None:
        return hit
    prepared = prepare(load_raw(info, data_dir, openml_module), info, method)
    with _PREPARED_LOCK:
        _PREPARED[key] = prepared
    return prepared


def clear_prepared_cache() -> None:
    with _PREPARED_LOCK:
        _PREPARED.clear()
