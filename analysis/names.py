"""Names and orders of the paper's models, datasets and methods, as tables and figures show them.

The methods, their order (Table 1's columns) and their labels are the record store's
(:data:`symexp.store.records.METHODS`, :data:`~symexp.store.records.METHOD_LABELS`); the explained
hyperparameter pair of each model is the benchmark registry's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from symexp.store.records import METHOD_LABELS, METHODS, SR_METHODS

__all__ = ["DATASET_NAMES", "DATASET_ORDER", "METHODS", "METHOD_LABELS", "MODEL_HPS", "MODEL_NAMES", "MODEL_ORDER",
           "SR_METHODS", "dataset_name", "method_label", "model_dataset_cells", "model_name", "order_keys",
           "panel_title"]

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


def panel_title(model: str, dataset: str) -> str:
    hps = MODEL_HPS.get(model)
    return f"{model_name(model)}" + (f" ({', '.join(hps)})" if hps else "") + f"\n{dataset_name(dataset)}"
