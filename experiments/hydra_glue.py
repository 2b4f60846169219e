"""Hydra config -> library objects. The only place that knows both Hydra and symexp.

* :func:`cell_spec`: one job's :class:`~symexp.pipeline.CellSpec` from its composed config.
* :func:`build_view`: an experiment preset (plus command-line overrides) as a *view*: its
  cells (the preset's sweep, ``hydra.sweeper.params``, with overrides applied: ``k=a,b`` sweeps,
  ``k=a`` fixes), each with its spec, planned record keys and job directory. The runner, the
  status command, the summary and the analysis all read a preset through this one function, so
  they agree on which records it holds.
* Every problem with the overrides (unknown key or preset, a value of the wrong type, a seed out
  of range, in any cell of a sweep) is a one-line :class:`SymexpError`, raised before any job runs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from symexp.errors import SymexpError
from symexp.pipeline import CellSpec, PDPSettings, check_parsimony, default_n_jobs, planned_keys, validate_spec
from symexp.pipeline.plan import cell_id
from symexp.store.records import RecordKey

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
GROUPS = ("sr", "bo", "cluster", "experiment")


# -- one job -------------------------------------------------------------------------------------

def resolve_n_jobs(value: Any) -> int:
    if value in (None, "auto"):
        return default_n_jobs()
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymexpError(f"n_jobs must be a positive integer or 'auto', got {value!r}")
    return value


def sr_settings(cfg: DictConfig):
    from symexp.symbolic import SRSettings

    sr = OmegaConf.to_container(cfg.sr, resolve=True)
    sr["function_set"] = tuple(sr["function_set"])  # SRSettings validates sr.engine too
    return SRSettings(parsimony_coefficient=float(cfg.parsimony[0]), n_jobs=1, **sr)


def bo_settings(cfg: DictConfig):
    from symexp.sampling import BOSettings

    bo = OmegaConf.to_container(cfg.bo, resolve=True)
    bo["snapshot_sizes"] = tuple(bo["snapshot_sizes"])
    return BOSettings(**bo)


def _values(cfg: DictConfig, key: str) -> list:
    value = OmegaConf.select(cfg, key)
    return list(value) if OmegaConf.is_list(value) or isinstance(value, list | tuple) else [value]


def int_list(cfg: DictConfig, key: str) -> tuple[int, ...]:
    """``cfg[key]`` (a scalar or a list) as integers; 1.5 or 'abc' is a one-line error, not 1."""
    values = _values(cfg, key)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int)]
    if bad:
        raise SymexpError(f"{key} must be a list of integers, got {values}")
    return tuple(values)


def number_list(cfg: DictConfig, key: str) -> tuple[float, ...]:
    values = _values(cfg, key)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | float)]
    if bad:
        raise SymexpError(f"{key} must be a list of numbers, got {values}")
    return tuple(float(v) for v in values)


def integer(cfg: DictConfig, key: str) -> int:
    value = OmegaConf.select(cfg, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SymexpError(f"{key} must be an integer, got {value!r}")
    return value


def cell_spec(cfg: DictConfig, output_dir: str | Path) -> CellSpec:
    """Build the CellSpec of one job from its resolved Hydra config."""
    hps = cfg.hyperparameters
    parsimony = number_list(cfg, "parsimony")
    check_parsimony(parsimony)  # before SRSettings, so the message names the user's key
    pdp = OmegaConf.to_container(cfg.pdp, resolve=True) if cfg.get("pdp") else None
    return CellSpec(
        experiment=str(cfg.experiment),
        model=str(cfg.model),
        dataset=str(cfg.dataset),
        protocol=str(cfg.protocol),
        mode=str(cfg.mode),
        sampling_seed=integer(cfg, "sampling_seed"),
        n_samples=int_list(cfg, "n_samples"),
        sr_seeds=int_list(cfg, "sr_seeds"),
        parsimony=parsimony,
        sr=sr_settings(cfg),
        bo=bo_settings(cfg),
        test_points_per_dim=integer(cfg, "test_set.points_per_dim"),
        test_eval_seeds=int_list(cfg, "test_set.eval_seeds"),
        bo_gp_points=integer(cfg, "bo_gp.n_points"),
        store_dir=Path(cfg.paths.store),
        cache_dir=Path(cfg.paths.cache),
        workdir=Path(output_dir),
        hyperparameters=tuple(str(h) for h in hps) if hps else None,
        data_dir=Path(cfg.paths.data_dir) if cfg.paths.data_dir else None,
        linreg_log_features=bool(cfg.linear_regression.log_features),
        n_jobs=resolve_n_jobs(cfg.n_jobs),
        pdp=PDPSettings(**pdp) if pdp else None,
        keep_failed=bool(cfg.get("keep_failed", False)),
    )


# -- composing with one-line errors -----------------------------------------------------------------

def hydra_error(exc: Exception) -> SymexpError:
    """A one-line message for Hydra's (multi-line) composition errors."""
    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    if "Could not find '" in first:  # unknown preset / group option
        group, option = first.split("Could not find '", 1)[1].rstrip("'").split("/", 1)
        options = [line.strip() for line in text.splitlines() if line.startswith("\t") and "provider=" not in line]
        return SymexpError(f"unknown {group} {option!r}; valid: {', '.join(options)}")
    if first.startswith("Could not override '"):
        key = first.split("'")[1]
        parent = key.rsplit(".", 1)[0] if "." in key else None
        return SymexpError(f"unknown setting {key!r}; valid keys{f' of {parent}' if parent else ''}: "
                           f"{', '.join(_keys_at(parent))}")
    if first.startswith("Ambiguous value for argument"):
        return SymexpError(f"{first.split('argument ', 1)[1]}: a sweep needs --multirun (-m)")
    return SymexpError(f"bad override: {first}")


def _keys_at(parent: str | None) -> list[str]:
    try:
        cfg = _compose([])
        node = OmegaConf.select(cfg, parent) if parent else cfg
        return sorted(str(k) for k in node.keys() if k != "hydra")
    except Exception:  # noqa: BLE001 - only for the message
        return ["(see conf/config.yaml)"]


def _compose(overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # so that ${hydra:...} (e.g. the store's default path) resolves
    return cfg


def compose_config(overrides: list[str]) -> DictConfig:
    """The composed config (Hydra's own keys included) or a one-line SymexpError."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return _compose(list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise hydra_error(exc) from None


# -- views ---------------------------------------------------------------------------------------

def split_overrides(overrides: list[str]) -> tuple[list[str], dict[str, str]]:
    """(fixed overrides, {key: "a,b"} sweeps) from command-line overrides."""
    fixed, sweeps = [], {}
    for ov in overrides:
        if "=" not in ov:
            raise SymexpError(f"override {ov!r} is not key=value")
        key, value = ov.split("=", 1)
        if "," in value and not value.lstrip().startswith(("[", "{", "'", '"')):
            sweeps[key] = value
        else:
            fixed.append(ov)
    return fixed, sweeps


def expand_cells(overrides: list[str]) -> tuple[list[tuple[dict[str, str], DictConfig]], DictConfig]:
    """Every cell of the sweep as (its overrides, its composed config), and the base config."""
    fixed, user_sweeps = split_overrides(overrides)
    base = compose_config(fixed)
    params = {str(k): str(v) for k, v in (OmegaConf.select(base, "hydra.sweeper.params") or {}).items()}
    for ov in fixed:
        params.pop(ov.split("=", 1)[0].lstrip("+~"), None)  # a fixed value wins over the preset's sweep
    params.update(user_sweeps)
    keys = list(params)
    cells = []
    for values in itertools.product(*(params[k].split(",") for k in keys)):
        cell = dict(zip(keys, (v.strip() for v in values)))
        if set(GROUPS) & set(cell):
            cfg = compose_config(fixed + [f"{k}={v}" for k, v in cell.items()])
        else:
            cfg = base.copy()
            for k, v in cell.items():
                if OmegaConf.select(cfg, k, default="__missing__") == "__missing__" and not k.startswith("+"):
                    raise hydra_error(ValueError(f"Could not override '{k}'."))
                OmegaConf.update(cfg, k.lstrip("+"), yaml.safe_load(v), force_add=True)
        cells.append((cell, cfg))
    return cells, base


def job_dir(cfg: DictConfig) -> Path:
    from hydra.core.hydra_config import HydraConfig

    HydraConfig.instance().set_config(cfg)
    sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=True)
    return Path(sweep["dir"]) / sweep["subdir"]


@dataclass
class ViewCell:
    overrides: dict[str, str]
    spec: CellSpec
    keys: list[RecordKey]
    cell_id: str
    job_dir: Path


@dataclass
class View:
    """An experiment preset with overrides: its cells and, through them, its records."""

    experiment: str
    cells: list[ViewCell]
    config: DictConfig

    @property
    def keys(self) -> list[RecordKey]:
        seen: dict[str, RecordKey] = {}
        for c in self.cells:
            for k in c.keys:
                seen.setdefault(k.record_id, k)
        return list(seen.values())

    @property
    def store_dir(self) -> Path:
        return Path(self.config.paths.store)

    @property
    def cache_dir(self) -> Path:
        return Path(self.config.paths.cache)

    def setting(self) -> dict[str, Any]:
        """The protocol values the analysis labels its outputs with (from the preset, never restated)."""
        specs = [c.spec for c in self.cells]
        return {
            "experiment": self.experiment,
            "n_samples": sorted({n for s in specs for n in s.n_samples}),
            "parsimony": sorted({p for s in specs for p in s.parsimony}),
            "sr_seeds": sorted({r for s in specs for r in s.sr_seeds}),
            "sampling_seeds": sorted({s.sampling_seed for s in specs}),
            "bo_gp_points": sorted({s.bo_gp_points for s in specs}),
            "sr_engine": sorted({s.sr.engine for s in specs}),
        }


def build_view(overrides: list[str]) -> View:
    """The view of ``overrides`` (e.g. ``["experiment=table1", "model=lr"]``); validates every cell."""
    cells, base = expand_cells(list(overrides))
    out = []
    for cell_overrides, cfg in cells:
        jd = job_dir(cfg)
        spec = cell_spec(cfg, jd)
        bench = validate_spec(spec, check_dirs=False)
        keys = planned_keys(spec, bench)
        out.append(ViewCell(cell_overrides, spec, keys, cell_id(keys), jd))
    return View(experiment=str(base.experiment), cells=out, config=base)
