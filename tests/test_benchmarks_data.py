"""symexp.benchmarks data: registry vs CSVs, split sizes and stratification, preprocessing.

Expected values are computed here from the CSVs (not typed in), and the preprocessing reference
uses pandas ``get_dummies`` and hand-written standardisation.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, train_test_split

from symexp.benchmarks import make_benchmark
from symexp.benchmarks.datasets import OPENML_DATASETS, REGISTRY, fetch_openml, read_header
from symexp.benchmarks.openml_folds import fold_indices
from symexp.benchmarks.split import prepare, split_indices
from symexp.errors import SymexpError


def _read(data_dir, name):
    info = REGISTRY[name]
    df = pd.read_csv(data_dir / info.csv_name, dtype=str, keep_default_na=False)
    return info, df


@pytest.mark.parametrize("name", OPENML_DATASETS)
def test_registry_matches_csv(data_dir, name):
    info, df = _read(data_dir, name)
    assert read_header(data_dir / info.csv_name) == list(df.columns)
    assert len(df.columns) == info.n_columns and df.columns[-1] == info.target
    assert set(info.nominal) <= set(df.columns[:-1])
    assert len(df) == info.n_rows
    # the numeric columns really are numeric
    for c in df.columns[:-1]:
        if c not in info.nominal:
            pd.to_numeric(df[c])


@pytest.mark.parametrize("name", OPENML_DATASETS)
def test_split_sizes_and_stratification(data_dir, name):
    info, df = _read(data_dir, name)
    y = df[info.target].to_numpy()
    n = len(y)
    classes, counts = np.unique(y, return_counts=True)

    bench = make_benchmark("svm", name, data_dir=data_dir)
    si = bench.split_info
    assert si["source"] == "openml_folds" and si["task_id"] == info.task_id and si["data_id"] == info.data_id
    assert (si["seed"], si["repeat"], si["fold"]) == (0, 0, 0)

    # test = one fold of a stratified 10-fold CV; valid = ceil(33 %) of the rest
    assert si["n_test"] in (n // 10, math.ceil(n / 10))
    n_rest = n - si["n_test"]
    assert si["n_valid"] == math.ceil(0.33 * n_rest)
    assert si["n_train"] == n_rest - si["n_valid"]

    d = bench.data
    assert (len(d.y_train), len(d.y_valid), len(d.y_test)) == (si["n_train"], si["n_valid"], si["n_test"])
    assert d.classes == [str(c) for c in classes]

    codes = np.searchsorted(classes, y)
    train_idx, valid_idx, test_idx, source = split_indices(codes)
    assert source == "openml_folds"
    all_idx = np.concatenate([train_idx, valid_idx, test_idx])
    assert len(all_idx) == n and len(np.unique(all_idx)) == n  # a partition of the rows
    np.testing.assert_array_equal(codes[train_idx], d.y_train)
    np.testing.assert_array_equal(codes[valid_idx], d.y_valid)
    np.testing.assert_array_equal(codes[test_idx], d.y_test)
    for k, c in enumerate(counts):
        in_test = int(np.sum(d.y_test == k))
        in_valid = int(np.sum(d.y_valid == k))
        assert abs(in_test - c / 10) < 1
        assert abs(in_valid - 0.33 * (c - in_test)) <= 1


def _reference_features(df, info, split):
    """HPOBench preprocessing by hand: split, one-hot (pandas), standardise (numpy)."""
    y = df[info.target].to_numpy()
    if split == "openml_folds":
        rest, test = fold_indices(y)  # OpenML's repeat 0, fold 0; rest in the file's order
    else:
        skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=0)
        rest, test = next(iter(skf.split(np.zeros(len(y)), y)))
    train, valid = train_test_split(rest, test_size=0.33, shuffle=True, stratify=y[rest], random_state=1)
    feats = [c for c in df.columns if c != info.target]
    nominal = [c for c in feats if c in info.nominal]
    numeric = [c for c in feats if c not in info.nominal]
    out = []
    num_train = df.iloc[train][numeric].astype(float).to_numpy()
    mean = num_train.mean(axis=0)
    std = num_train.std(axis=0)
    std[std == 0] = 1.0
    dummy_cols = pd.get_dummies(df.iloc[train][nominal], prefix_sep="=").columns if nominal else []
    for rows in (train, valid, test):
        parts = []
        if nominal:
            dummies = pd.get_dummies(df.iloc[rows][nominal], prefix_sep="=").reindex(columns=dummy_cols, fill_value=0)
            parts.append(dummies.to_numpy(dtype=float))
        if numeric:
            parts.append((df.iloc[rows][numeric].astype(float).to_numpy() - mean) / std)
        out.append(np.hstack(parts))
    return out


@pytest.mark.parametrize("split", ["openml_folds", "stratified_kfold"])
@pytest.mark.parametrize("name", OPENML_DATASETS)
def test_preprocessing_matches_reference(data_dir, name, split):
    info, df = _read(data_dir, name)
    ref_train, ref_valid, ref_test = _reference_features(df, info, split)
    bench = make_benchmark("lr", name, data_dir=data_dir, split=split)
    assert bench.split_info["source"] == split
    d = bench.data
    for got, ref in ((d.X_train, ref_train), (d.X_valid, ref_valid), (d.X_test, ref_test)):
        assert got.dtype == np.float64 and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
    n_onehot = sum(df.iloc[:, :-1][c].nunique() for c in info.nominal)  # upper bound (train may miss a value)
    assert d.n_features <= n_onehot + (info.n_columns - 1 - len(info.nominal))


def test_breast_cancer_needs_no_files(monkeypatch):
    monkeypatch.delenv("SYMEXP_DATA_DIR", raising=False)
    bench = make_benchmark("svm", "breast_cancer", data_dir="/nonexistent/dir/is/ignored")
    si = bench.split_info
    assert si["source"] == "openml_folds" and si["n_train"] + si["n_valid"] + si["n_test"] == 569
    assert bench.data.n_features == 30 and bench.data.n_classes == 2
    np.testing.assert_allclose(bench.data.X_train.mean(axis=0), 0, atol=1e-9)


def test_online_path_with_fake_openml(data_dir):
    """The OpenML branch: task target, categorical indicator and the task's own fold-0 split."""
    info, df = _read(data_dir, "credit_g")
    X = df.iloc[:, :-1].copy()
    for c in X.columns:
        X[c] = X[c].astype("category") if c in info.nominal else X[c].astype(float)
    y = df[info.target].astype("category")
    rng = np.random.default_rng(0)
    test_idx = np.sort(rng.choice(len(df), size=100, replace=False))
    train_idx = np.setdiff1d(np.arange(len(df)), test_idx)
    calls = {}

    class Task:
        dataset_id = info.data_id
        target_name = info.target

        def get_train_test_split_indices(self, repeat=0, fold=0, sample=0):
            calls["split"] = (repeat, fold, sample)
            return train_idx, test_idx

    class Dataset:
        def get_data(self, target=None, dataset_format="dataframe"):
            calls["target"] = target
            return X, y, [c in info.nominal for c in X.columns], list(X.columns)

    fake = SimpleNamespace(
        tasks=SimpleNamespace(get_task=lambda tid, **kw: calls.setdefault("task", tid) and Task()),
        datasets=SimpleNamespace(get_dataset=lambda did, **kw: calls.setdefault("dataset", did) and Dataset()),
    )
    raw = fetch_openml(info, fake)
    assert calls == {"task": 31, "dataset": 31, "target": "class", "split": (0, 0, 0)}
    assert raw.source == "openml" and raw.nominal == list(info.nominal)
    d = prepare(raw, info)
    assert d.split_info["source"] == "openml_task"
    assert d.split_info["n_test"] == 100 and d.split_info["n_train"] + d.split_info["n_valid"] == 900
    labels = np.asarray(d.classes)[d.y_test]
    np.testing.assert_array_equal(labels, df[info.target].to_numpy()[test_idx])
    # same features as the CSV path would give for these rows (categories as strings either way)
    assert d.n_features == _reference_n_features(df, info, train_idx, d.split_info["n_valid"])


def _reference_n_features(df, info, rest, n_valid):
    y = df[info.target].to_numpy()
    train, _ = train_test_split(rest, test_size=0.33, shuffle=True, stratify=y[rest], random_state=1)
    assert len(rest) - len(train) == n_valid
    nominal = list(info.nominal)
    return pd.get_dummies(df.iloc[train][nominal]).shape[1] + (info.n_columns - 1 - len(nominal))


def test_unreachable_openml_is_one_line_naming_the_data_directory(data_dir):
    """No data directory and no network: a setup problem reported in one line, not a traceback."""
    info, _ = _read(data_dir, "blood_transfusion")

    def offline(tid, **kw):
        raise ConnectionError("Failed to resolve 'www.openml.org'\nsecond line")

    fake = SimpleNamespace(tasks=SimpleNamespace(get_task=offline), datasets=None)
    with pytest.raises(SymexpError) as err:
        fetch_openml(info, fake)
    msg = str(err.value)
    assert "\n" not in msg and "task 10101" in msg and "SYMEXP_DATA_DIR" in msg
