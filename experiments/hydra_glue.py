"""Hydra config -> library objects. The only place that knows both Hydra and symexp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from symexp.errors import SymexpError
from symexp.pipeline import CellSpec, PDPSettings, check_parsimony, default_n_jobs
from symexp.seeding import stable_hash

# Keys that say where and how fast a cell runs, not what it computes: left out of config_hash.
NON_SEMANTIC_KEYS = ("paths", "n_jobs", "cluster", "job_minutes", "hydra")


def resolve_n_jobs(value: Any) -> int:
    if value in (None, "auto"):
        return default_n_jobs()
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise SymexpError(f"n_jobs must be a positive integer or 'auto', got {value!r}") from None
    if n < 1:
        raise SymexpError(f"n_jobs must be a positive integer or 'auto', got {value!r}")
    return n


def config_hash(cfg: DictConfig) -> str:
    container = OmegaConf.to_container(cfg, resolve=False)
    semantic = {k: v for k, v in container.items() if k not in NON_SEMANTIC_KEYS}
    return stable_hash(semantic)


def sr_settings(cfg: DictConfig, n_jobs_per_fit: int = 1):
    from symexp.symbolic import SRSettings

    sr = OmegaConf.to_container(cfg.sr, resolve=True)
    sr["function_set"] = tuple(sr["function_set"])  # SRSettings validates sr.engine too
    return SRSettings(parsimony_coefficient=float(cfg.parsimony[0]), n_jobs=n_jobs_per_fit, **sr)


def bo_settings(cfg: DictConfig):
    from symexp.sampling import BOSettings

    bo = OmegaConf.to_container(cfg.bo, resolve=True)
    bo["snapshot_sizes"] = tuple(bo["snapshot_sizes"])
    return BOSettings(**bo)


def _number_list(cfg: DictConfig, key: str, cast: type) -> tuple:
    """``cfg[key]`` (a scalar or a list) as a tuple of ``cast`` values; one-line error otherwise."""
    value = cfg[key]
    values = list(value) if OmegaConf.is_list(value) or isinstance(value, list | tuple) else [value]
    try:
        return tuple(cast(v) for v in values)
    except (TypeError, ValueError):
        kind = "integers" if cast is int else "numbers"
        raise SymexpError(f"{key} must be a list of {kind}, got {values}") from None


def cell_spec(cfg: DictConfig, output_dir: str | Path) -> CellSpec:
    """Build the CellSpec of one job from its resolved Hydra config."""
    hps = cfg.hyperparameters
    parsimony = _number_list(cfg, "parsimony", float)
    check_parsimony(parsimony)  # before SRSettings, so the message names the user's key
    sr = sr_settings(cfg)
    # Another engine's records must not collide with (or be skipped as) the gplearn ones.
    experiment = str(cfg.experiment) if sr.engine == "gplearn" else f"{cfg.experiment}_{sr.engine}"
    return CellSpec(
        experiment=experiment,
        model=str(cfg.model),
        dataset=str(cfg.dataset),
        protocol=str(cfg.protocol),
        mode=str(cfg.mode),
        sampling_seed=int(cfg.sampling_seed),
        n_samples=_number_list(cfg, "n_samples", int),
        sr_seeds=_number_list(cfg, "sr_seeds", int),
        parsimony=parsimony,
        sr=sr,
        bo=bo_settings(cfg),
        test_points_per_dim=int(cfg.test_set.points_per_dim),
        test_eval_seeds=tuple(int(s) for s in cfg.test_set.eval_seeds),
        bo_gp_points=int(cfg.bo_gp.n_points),
        store_dir=Path(cfg.paths.store),
        cache_dir=Path(cfg.paths.cache),
        workdir=Path(output_dir),
        hyperparameters=tuple(str(h) for h in hps) if hps else None,
        data_dir=Path(cfg.paths.data_dir) if cfg.paths.data_dir else None,
        linreg_log_features=bool(cfg.linear_regression.log_features),
        n_jobs=resolve_n_jobs(cfg.n_jobs),
        config_hash=config_hash(cfg),
        pdp=PDPSettings(**OmegaConf.to_container(cfg.pdp, resolve=True)) if cfg.get("pdp") else None,
    )
