"""The GP surrogate of a run: SMAC's Gaussian process, fitted on the run's evaluations.

Decision: we reuse SMAC's GP machinery rather than a scikit-learn ``GaussianProcessRegressor``
of our own, because the paper's BO-GP labels come from exactly this model: the kernel SMAC's
``BlackBoxFacade`` builds for the space (constant x Matern 5/2 ARD on numerical
hyperparameters, x Hamming on categorical ones, + white noise, with SMAC's priors and bounds),
``smac.model.gaussian_process.GaussianProcess`` with ``normalize_y=True`` and its MAP fit with
``n_restarts`` seeded restarts. The experiments' :class:`symexp.sampling.GPSnapshot` is the same
model family, so an explanation of a user's run is the paper's BO-GP step on that run.

Inputs are encoded as SMAC encodes configurations: each numerical hyperparameter mapped to
``[0, 1]`` (in log space for log-scaled ones, ``SearchSpace.in_unit_cube``), each categorical
as the index of its choice, columns in the order of the ConfigSpace SMAC's kernel was built
for. Categorical values arrive as (possibly fractional) indices from the numeric space of
:meth:`RunData.numeric_space` and are rounded.

Seeding: ``seed`` seeds the kernel priors and the restarts; BLAS runs single-threaded during
fit and predict (``threadpoolctl``), so the fit is the same on any machine with the same
library versions.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np

from symexp.errors import SymexpError
from symexp.explain.readers import round_categoricals
from symexp.benchmarks.space import SearchSpace
from symexp.symbolic.convert import rmse

KERNEL = "smac2-blackbox: constant * Matern(5/2, ARD) [* Hamming] + white noise"


def configspace(space: SearchSpace, seed: int):
    """A ConfigSpace for SMAC's kernel. Like ``SearchSpace.to_configspace``, but a categorical
    without a default gets ConfigSpace's own (the first choice; ConfigSpace 1.2 rejects
    ``default=None``). Defaults do not matter to the GP."""
    from ConfigSpace import Categorical as CSCategorical
    from ConfigSpace import ConfigurationSpace, Float, Integer

    cs = ConfigurationSpace(seed=seed)
    for hp in space:
        if not hp.is_numerical:
            cs.add(CSCategorical(hp.name, list(hp.choices)))
        elif hp.integer:
            cs.add(Integer(hp.name, (int(hp.lower), int(hp.upper)), log=hp.log))
        else:
            cs.add(Float(hp.name, (float(hp.lower), float(hp.upper)), log=hp.log))
    return cs


class GPSurrogate:
    """SMAC's GP on a (possibly mixed) search space; see the module docstring.

    Parameters
    ----------
    space : SearchSpace
        The run's space (numerical and categorical hyperparameters).
    seed : int
    n_restarts : int
        Restarts of the marginal-likelihood optimisation (SMAC's default 10).
    """

    def __init__(self, space: SearchSpace, seed: int = 0, n_restarts: int = 10):
        self.space = space
        self.seed = int(seed)
        self.n_restarts = int(n_restarts)
        self._cs = configspace(space, seed=self.seed)
        cs_names = list(self._cs.keys())
        self._order = [space.names.index(n) for n in cs_names]  # encoded column k <- space column order[k]

    # -- encoding --------------------------------------------------------------------------------
    def encode(self, X: np.ndarray) -> np.ndarray:
        """Raw (numeric-space) configurations (m, d) -> SMAC's model input (m, d)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.space.dim:
            raise SymexpError(f"expected configurations of shape (m, {self.space.dim}), got {X.shape}")
        X = round_categoricals(self.space, X)
        cols = []
        for j in self._order:
            hp = self.space.hyperparameters[j]
            x = X[:, j]
            if hp.is_numerical:
                lo, hi = float(hp.lower), float(hp.upper)
                x = np.clip(x, lo, hi)
                if hp.log:
                    lo, hi, x = math.log(lo), math.log(hi), np.log(x)
                x = (x - lo) / (hi - lo)
            cols.append(x)
        return np.column_stack(cols)

    # -- fit / predict ---------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray) -> GPSurrogate:
        from smac.facade.blackbox_facade import BlackBoxFacade
        from smac.model.gaussian_process import GaussianProcess
        from threadpoolctl import threadpool_limits

        y = np.asarray(y, dtype=float).reshape(-1)
        Xe = self.encode(X)
        if len(Xe) != len(y):
            raise SymexpError(f"{len(Xe)} configurations but {len(y)} costs")
        kernel = BlackBoxFacade.get_kernel(SimpleNamespace(configspace=self._cs, seed=self.seed))
        self._gp = GaussianProcess(configspace=self._cs, kernel=kernel, n_restarts=self.n_restarts,
                                   normalize_y=True, seed=self.seed)
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            self._gp.train(Xe, y.reshape(-1, 1))
        self.n_train_ = len(y)
        mu, _ = self.predict(X)
        self.train_rmse_ = rmse(y, mu)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at raw configurations, each shape (m,)."""
        from threadpoolctl import threadpool_limits

        if not hasattr(self, "_gp"):
            raise SymexpError("the surrogate is not fitted yet")
        Xe = self.encode(X)
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            mean, var = self._gp.predict(Xe)
        mean = np.asarray(mean, dtype=float).reshape(-1)
        std = np.sqrt(np.clip(np.asarray(var, dtype=float).reshape(-1), 0.0, np.inf))
        return mean, std

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean only (the function fANOVA, partial dependence and SR labels use)."""
        return self.predict(X)[0]

    def describe(self) -> dict:
        """Kernel, seed, fitted hyperparameters and training fit, for the JSON summary."""
        out = {"kind": "smac-gp", "kernel": KERNEL, "seed": self.seed, "n_restarts": self.n_restarts}
        if hasattr(self, "_gp"):
            out["n_train"] = int(self.n_train_)
            out["train_rmse"] = self.train_rmse_
            out["kernel_fitted"] = str(self._gp._gp.kernel_)
        return out


def cross_validated_models(space: SearchSpace, X: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5,
                           n_restarts: int = 3) -> tuple[np.ndarray, list[np.ndarray], list[GPSurrogate]]:
    """``folds``-fold cross-validation of the surrogate (seeded split): the held-out prediction at
    every evaluation (n,), each fold's held-out rows, and each fold's GP (fitted without them)."""
    n = len(y)
    folds = min(folds, n)
    idx = np.random.default_rng(seed).permutation(n)
    pred = np.empty(n)
    tests, models = [], []
    for k in range(folds):
        test = np.sort(idx[k::folds])
        train = np.setdiff1d(idx, test)
        model = GPSurrogate(space, seed=seed, n_restarts=n_restarts).fit(X[train], y[train])
        pred[test] = model.mean(X[test])
        tests.append(test)
        models.append(model)
    return pred, tests, models


def cross_validated_predictions(space: SearchSpace, X: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5,
                                n_restarts: int = 3) -> np.ndarray:
    """Held-out predictions of the surrogate at every evaluation (``folds``-fold CV, seeded
    split), shape (n,): row ``i`` comes from a GP fitted without the fold of ``i``."""
    return cross_validated_models(space, X, y, seed, folds, n_restarts)[0]
