"""Baselines scored on the same test set as the symbolic regression.

- GP baseline: the BO run's own Gaussian process (the surrogate SR is meant to explain).
- Linear regression: ordinary least squares on the BO-GP training set (raw hyperparameters,
  as the paper; optionally log-transformed for log-scaled ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LinearRegression


class LinearBaseline:
    """Least squares on (optionally log-transformed) hyperparameters; ``fit``/``predict`` on raw arrays."""

    def __init__(self, log_features: Sequence[bool] | None = None):
        self.log_features = None if log_features is None else list(log_features)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if not self.log_features:
            return X
        X = X.copy()
        for j, is_log in enumerate(self.log_features):
            if is_log:
                X[:, j] = np.log(X[:, j])
        return X

    def fit(self, X: np.ndarray, y: np.ndarray) -> LinearBaseline:
        self.model_ = LinearRegression().fit(self._transform(X), np.asarray(y, dtype=float))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(self._transform(X))
