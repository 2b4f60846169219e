"""GP snapshots: SMAC's Gaussian process at one point of a BO run, stored as plain data.

A :class:`GPSnapshot` holds everything needed to reproduce the predictions of the GP that
SMAC's ``BlackBoxFacade`` had trained on the first ``n`` evaluations of a run, without pickles:

* the encoded training inputs ``X_train`` (SMAC's unit-cube vectors, one row per evaluation,
  in evaluation order) and the training targets ``y_train`` exactly as SMAC's run-history
  encoder handed them to ``model.train``;
* the normalisation constants ``y_mean`` / ``y_std`` (SMAC normalises y itself, ``normalize_y``);
* the kernel hyperparameter *values* SMAC handed to scikit-learn's regressor before its final
  ``fit`` (``kernel_params``, e.g. ``k1__k2__length_scale``): the values of the model's kernel
  template ``model._gp.kernel``, i.e. ``exp(theta*)`` of SMAC's optimised ``theta*``.

Why the template values, not the fitted kernel's: scikit-learn's ``GaussianProcessRegressor.fit``
without an optimiser evaluates ``log_marginal_likelihood(kernel_.theta, clone_kernel=False)``,
which sets ``kernel_.theta = log(values)``, i.e. replaces every value ``v`` by ``exp(log(v))``;
the Cholesky factor is then computed with those values. ``exp(log(v))`` need not equal ``v`` in
the last bit, and applying the round trip twice need not give the same as once (measured: for
about 1 value in 2000). Format-1 snapshots stored the fitted values ``exp(log(v))``; rebuilding
from them applied the round trip a second time, so now and then a length scale differed by one
ulp, the kernel matrix by ~1e-15, and the predictions by ~1e-15 (the svm / blood_transfusion /
seed 0 run at n = 200, which the old bitwise self-check then rejected). Storing the template
values makes the rebuilt regressor go through exactly SMAC's steps, and the predictions are
bitwise equal again. ``theta`` (of the fitted kernel) is kept for information only.

:meth:`GPSnapshot.predict` rebuilds SMAC's default kernel (``BlackBoxFacade.get_kernel``:
constant x Matern 5/2 ARD + white noise), sets these values, fits scikit-learn's
``GaussianProcessRegressor`` without optimisation exactly as SMAC's ``GaussianProcess._train``
does, and untransforms like ``GaussianProcess._predict``. The result is bitwise equal to the live
model's ``predict`` (checked in every BO run, see :func:`compare_with_model`, and in the tests). Raw hyperparameter values are
encoded through ConfigSpace (``space.from_array`` -> ``Configuration`` ->
``convert_configurations_to_array``) so log and integer transforms are SMAC's own.

BLAS runs single-threaded inside :meth:`predict` (``threadpoolctl``), so results do not depend
on how many cores a process sees.

JSON (:meth:`to_json` / :meth:`from_json`) stores floats as Python floats; ``json`` writes them
with ``repr``, which round-trips exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symexp.errors import SymexpError
from symexp.seeding import derive_rng
from symexp.benchmarks.space import Numerical, SearchSpace

SNAPSHOT_FORMAT = 2
#: Formats this version reads. Format 1 stored the fitted kernel's values (see module docstring):
#: its snapshots reproduce SMAC's predictions to ~1e-15, not always bit for bit.
READABLE_FORMATS = (1, 2)
KERNEL_KIND = "smac2-blackbox-default"  # BlackBoxFacade.get_kernel for numerical spaces


# -- space <-> JSON ------------------------------------------------------------------------------

def space_to_json(space: SearchSpace) -> list[dict[str, Any]]:
    space.require_numerical("a GP snapshot")
    return [
        {"name": hp.name, "lower": hp.lower, "upper": hp.upper, "log": hp.log, "integer": hp.integer,
         "default": hp.default}
        for hp in space.hyperparameters
    ]


def space_from_json(data: list[dict[str, Any]]) -> SearchSpace:
    return SearchSpace(tuple(Numerical(**d) for d in data))


# -- encoding ----------------------------------------------------------------------------------

def encode(space: SearchSpace, X_raw: np.ndarray, configspace=None) -> np.ndarray:
    """Raw-unit configurations (m, d) -> SMAC's model input (m, d), via ConfigSpace."""
    from ConfigSpace import Configuration
    from smac.utils.configspace import convert_configurations_to_array

    cs = configspace if configspace is not None else space.to_configspace()
    configs = [Configuration(cs, values=c) for c in space.from_array(X_raw)]
    if not configs:
        return np.empty((0, space.dim))
    return convert_configurations_to_array(configs)


def _blas_single_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def default_kernel(configspace, seed: int = 0):
    """The kernel SMAC's BlackBoxFacade builds for ``configspace`` (priors are irrelevant here)."""
    from types import SimpleNamespace

    from smac.facade.blackbox_facade import BlackBoxFacade

    return BlackBoxFacade.get_kernel(SimpleNamespace(configspace=configspace, seed=seed))


def _kernel_leaves(kernel, prefix: str = ""):
    """(sklearn-style name prefix, leaf kernel) pairs of a composite kernel, left to right.

    Walked by hand: SMAC's kernels override ``get_params`` and return ``None`` for nested
    (``k1__k2__...``) names, so ``get_params(deep=True)`` cannot be used.
    """
    from sklearn.gaussian_process.kernels import KernelOperator

    if isinstance(kernel, KernelOperator):
        yield from _kernel_leaves(kernel.k1, prefix + "k1__")
        yield from _kernel_leaves(kernel.k2, prefix + "k2__")
    else:
        yield prefix, kernel


def kernel_values(kernel) -> dict[str, float | list[float]]:
    """The (non-fixed) hyperparameter values of a kernel, by sklearn parameter name."""
    out: dict[str, float | list[float]] = {}
    for prefix, leaf in _kernel_leaves(kernel):
        for hp in leaf.hyperparameters:
            if hp.fixed:
                continue
            v = getattr(leaf, hp.name)
            out[prefix + hp.name] = [float(x) for x in np.ravel(v)] if np.ndim(v) else float(v)
    return out


def set_kernel_values(kernel, values: dict[str, Any]) -> None:
    """Inverse of :func:`kernel_values` (names must match exactly)."""
    expected = sorted(kernel_values(kernel))
    if sorted(values) != expected:
        raise SymexpError(f"GP snapshot kernel parameters {sorted(values)} do not match SMAC's default kernel "
                          f"{expected}")
    for prefix, leaf in _kernel_leaves(kernel):
        for hp in leaf.hyperparameters:
            if not hp.fixed:
                v = values[prefix + hp.name]
                setattr(leaf, hp.name, np.asarray(v, dtype=float) if isinstance(v, list) else float(v))


# -- snapshot ----------------------------------------------------------------------------------

@dataclass(eq=False)
class GPSnapshot:
    """SMAC's GP trained on the first ``n`` evaluations of a BO run (see module docstring).

    Attributes
    ----------
    space : SearchSpace
    n : int
        Number of evaluations the GP was trained on (``len(X_train)``).
    X_train : ndarray (n, d)
        Encoded training inputs (ConfigSpace vectors), evaluation order.
    y_train : ndarray (n,)
        Training targets as given to ``model.train`` (the costs; a failed evaluation appears
        with the imputed cost SMAC was told).
    y_mean, y_std : float
        SMAC's normalisation constants (``std`` 0 replaced by 1 as SMAC does).
    kernel_params : dict
        Fitted kernel hyperparameter values by sklearn name.
    theta : ndarray
        ``log`` of the hyperparameters, in sklearn's order (information only).
    source : str
        ``"live"``: the model SMAC itself trained when choosing evaluation ``n + 1``;
        ``"refit"``: a copy of SMAC's model trained on the first ``n`` evaluations (used when SMAC
        had not trained on exactly ``n`` points, e.g. ``n`` inside the initial design).
    self_check : dict or None
        How well the snapshot reproduced SMAC's model when it was taken
        (:func:`compare_with_model`): largest absolute deviations of mean and standard deviation
        (cost units), the tolerance, and ``ok``. None for snapshots not taken from a run.
    """

    space: SearchSpace
    n: int
    X_train: np.ndarray
    y_train: np.ndarray
    y_mean: float
    y_std: float
    kernel_params: dict[str, Any]
    theta: np.ndarray
    source: str = "live"
    self_check: dict[str, Any] | None = None
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.X_train = np.asarray(self.X_train, dtype=float).reshape(-1, self.space.dim)
        self.y_train = np.asarray(self.y_train, dtype=float).reshape(-1)
        self.theta = np.asarray(self.theta, dtype=float).reshape(-1)
        if len(self.X_train) != self.n or len(self.y_train) != self.n:
            raise SymexpError(f"GP snapshot: n={self.n} but X_train has {len(self.X_train)} rows and y_train "
                              f"{len(self.y_train)}")
        if not (np.isfinite(self.y_train).all() and math.isfinite(self.y_mean) and math.isfinite(self.y_std)):
            raise SymexpError("GP snapshot: training targets and normalisation constants must be finite")

    # -- construction from a live SMAC model ---------------------------------------------------
    @classmethod
    def from_smac_model(cls, model, X: np.ndarray, Y: np.ndarray, space: SearchSpace,
                        source: str = "live") -> GPSnapshot:
        """Capture a trained ``smac.model.gaussian_process.GaussianProcess``.

        ``X``, ``Y`` are the arrays the model was trained on (``runhistory_encoder.transform()``);
        they are checked against what the model holds, bit for bit. The kernel values are those
        of the model's kernel template (see the module docstring for why).
        """
        if not getattr(model, "_is_trained", False):
            raise RuntimeError("the SMAC model has not been trained")
        if not getattr(model, "_normalize_y", False):
            raise RuntimeError("GP snapshots assume SMAC's normalize_y=True")
        gp = model._gp
        X = np.asarray(X, dtype=float)
        Y = np.asarray(Y, dtype=float).reshape(-1, 1)
        mean, std = float(model.mean_y_), float(model.std_y_)
        if not (np.array_equal(X, gp.X_train_) and np.array_equal(((Y - mean) / std).flatten(), gp.y_train_)):
            raise RuntimeError("the SMAC model was not trained on the given data")
        return cls(space=space, n=len(X), X_train=X.copy(), y_train=Y.flatten(), y_mean=mean, y_std=std,
                   kernel_params=kernel_values(gp.kernel), theta=np.array(gp.kernel_.theta), source=source)

    # -- prediction ----------------------------------------------------------------------------
    def _regressor(self):
        if "gpr" not in self._cache:
            from sklearn.gaussian_process import GaussianProcessRegressor

            cs = self.space.to_configspace()
            kernel = default_kernel(cs)
            set_kernel_values(kernel, self.kernel_params)
            gpr = GaussianProcessRegressor(kernel=kernel, normalize_y=False, optimizer=None,
                                           n_restarts_optimizer=0, alpha=0)
            y_norm = (self.y_train.reshape(-1, 1) - self.y_mean) / self.y_std
            with _blas_single_thread():
                gpr.fit(self.X_train, y_norm.flatten())
            self._cache["gpr"], self._cache["cs"] = gpr, cs
        return self._cache["gpr"], self._cache["cs"]

    def predict_encoded(self, X_enc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at SMAC-encoded inputs (m, d)."""
        from smac.constants import VERY_SMALL_NUMBER

        gpr, _ = self._regressor()
        X_enc = np.asarray(X_enc, dtype=float)
        with _blas_single_thread():
            mu, sd = gpr.predict(X_enc, return_std=True)
        var = np.clip(sd**2, VERY_SMALL_NUMBER, np.inf)
        mu = mu * self.y_std + self.y_mean
        var = var * self.y_std**2
        return np.asarray(mu, dtype=float).reshape(-1), np.sqrt(var).reshape(-1)

    def predict(self, X_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean (m,) and standard deviation (m,) at raw-unit configurations (m, d)."""
        _, cs = self._regressor()
        return self.predict_encoded(encode(self.space, X_raw, cs))

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "kernel": KERNEL_KIND,
            "space": space_to_json(self.space),
            "n": int(self.n),
            "source": self.source,
            "X_train": [[float(v) for v in row] for row in self.X_train],
            "y_train": [float(v) for v in self.y_train],
            "y_mean": float(self.y_mean),
            "y_std": float(self.y_std),
            "kernel_params": {k: (list(map(float, v)) if isinstance(v, list) else float(v))
                              for k, v in sorted(self.kernel_params.items())},
            "theta": [float(v) for v in self.theta],
            "self_check": self.self_check,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GPSnapshot:
        if data.get("format") not in READABLE_FORMATS or data.get("kernel") != KERNEL_KIND:
            raise SymexpError(f"unsupported GP snapshot (format {data.get('format')!r}, kernel {data.get('kernel')!r}); "
                              f"this version reads formats {list(READABLE_FORMATS)}, kernel {KERNEL_KIND}")
        space = space_from_json(data["space"])
        return cls(space=space, n=int(data["n"]),
                   X_train=np.array(data["X_train"], dtype=float).reshape(-1, space.dim),
                   y_train=np.array(data["y_train"], dtype=float), y_mean=float(data["y_mean"]),
                   y_std=float(data["y_std"]), kernel_params=dict(data["kernel_params"]),
                   theta=np.array(data["theta"], dtype=float), source=str(data["source"]),
                   self_check=data.get("self_check"))

    @property
    def reproduces_smac(self) -> bool:
        """False only when the self-check at capture found a real mismatch (see ``self_check``)."""
        return self.self_check is None or bool(self.self_check.get("ok", True))


# -- self-check --------------------------------------------------------------------------------

#: Deviations below ``cost_scale * max(CHECK_REL_FLOOR, CHECK_COND_FACTOR * eps * cond(K))`` are
#: floating-point noise (a different summation order in BLAS changes the result by ~eps * cond(K)
#: in the normalised scale); anything larger is a real mismatch (other data, kernel or values).
CHECK_REL_FLOOR = 1e-10
CHECK_COND_FACTOR = 10.0


def compare_with_model(snapshot: GPSnapshot, model, X_probe: np.ndarray) -> dict[str, Any]:
    """Compare the snapshot's predictions with a live SMAC GP at encoded inputs (m, d).

    Returns the record stored as ``GPSnapshot.self_check``: ``n_probes``; ``max_abs_diff_mean``,
    ``max_abs_diff_std`` (cost units); ``bitwise`` (all predictions and fitted kernel values equal
    bit for bit); ``cost_scale`` (``|y_mean| + y_std``); ``cond_K`` (condition number of the
    kernel matrix); ``tolerance`` (cost units, for the mean; the variance is compared with
    ``tolerance * cost_scale``); ``ok`` (deviations within tolerance).

    Bitwise equality needs the model to have been trained with single-threaded BLAS, as
    :func:`symexp.sampling._bo_worker.run_trajectory` does (a multi-threaded Cholesky sums in
    another order).
    """
    X_probe = np.asarray(X_probe, dtype=float)
    with _blas_single_thread():
        mean, var = model.predict(X_probe)
    mean, var = np.asarray(mean, dtype=float).reshape(-1), np.asarray(var, dtype=float).reshape(-1)
    s_mean, s_std = snapshot.predict_encoded(X_probe)
    s_var = s_std**2
    gpr, _ = snapshot._regressor()
    kernel_equal = kernel_values(gpr.kernel_) == kernel_values(model._gp.kernel_)
    bitwise = bool(np.array_equal(mean, s_mean) and np.array_equal(np.sqrt(var), s_std) and kernel_equal)
    with np.errstate(invalid="ignore"):
        d_mean = float(np.max(np.abs(mean - s_mean), initial=0.0))
        d_std = float(np.max(np.abs(np.sqrt(var) - s_std), initial=0.0))
        d_var = float(np.max(np.abs(var - s_var), initial=0.0))
    if not all(math.isfinite(v) for v in (d_mean, d_std, d_var)):  # NaN/inf predictions: a real mismatch
        return {"n_probes": int(len(X_probe)), "max_abs_diff_mean": None, "max_abs_diff_std": None,
                "bitwise": False, "cost_scale": None, "cond_K": None, "tolerance": None, "ok": False}
    scale = abs(float(snapshot.y_mean)) + float(snapshot.y_std)
    with np.errstate(all="ignore"):
        cond = float(np.linalg.cond(gpr.L_) ** 2)
    if not math.isfinite(cond):  # a singular factor: nothing can be told apart from noise; only bitwise counts
        cond_json, tol, ok = None, None, bitwise
    else:
        tol = scale * max(CHECK_REL_FLOOR, CHECK_COND_FACTOR * float(np.finfo(float).eps) * cond)
        cond_json, ok = cond, bool(d_mean <= tol and d_var <= tol * scale)
    return {"n_probes": int(len(X_probe)), "max_abs_diff_mean": d_mean, "max_abs_diff_std": d_std,
            "bitwise": bitwise, "cost_scale": scale, "cond_K": cond_json, "tolerance": tol, "ok": ok}


# -- BO-GP sampling ----------------------------------------------------------------------------

def gp_labels(snapshot: GPSnapshot, space: SearchSpace, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """BO-GP training set: ``n_points`` random configurations labelled with the GP posterior mean.

    The configurations are drawn with ``derive_rng("bo_gp", seed, snapshot.n)`` through
    ``space.sample`` (so they differ between sample sizes ``n`` and sampling seeds), and labelled
    in one batched prediction. Returns ``(X (n_points, d) raw units, y (n_points,))``.
    """
    space.require_numerical("BO-GP sampling")
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 1:
        raise SymexpError(f"bo_gp n_points must be a positive integer, got {n_points!r}")
    if space.names != snapshot.space.names:
        raise SymexpError(f"GP snapshot is over {snapshot.space.names}, not {space.names}")
    X = space.sample(int(n_points), derive_rng("bo_gp", int(seed), int(snapshot.n)))
    mean, _ = snapshot.predict(X)
    return X, mean
