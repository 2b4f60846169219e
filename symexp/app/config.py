"""Hydra config -> library objects. The only module that knows both Hydra and the pipeline.

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

import copy
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

# The repository's conf/ is the one source of every protocol setting: symexp runs from a checkout
# (``pip install -e .``), so the configs are read where they are, never copied into the package.
ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = ROOT / "conf"
GROUPS = ("sr", "bo", "cluster", "experiment")


# -- one job -------------------------------------------------------------------------------------

def resolve_n_jobs(value: Any) -> int:
    if value in (None, "auto"):
        return default_n_jobs()
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymexpError(f"n_jobs must be a positive integer or 'auto', got {value!r}")
    return value


def sr_settings(c: dict):
    from symexp.symbolic import SRSettings

    sr = dict(c["sr"])
    sr["function_set"] = tuple(sr["function_set"])  # SRSettings validates sr.engine too
    return SRSettings(parsimony_coefficient=float(c["parsimony"][0]), n_jobs=1, **sr)


def bo_settings(c: dict):
    from symexp.sampling import BOSettings

    bo = dict(c["bo"])
    bo["snapshot_sizes"] = tuple(bo["snapshot_sizes"])
    return BOSettings(**bo)


def _select(c: dict, key: str) -> Any:
    for part in key.split("."):
        c = c[part]
    return c


def _values(c: dict, key: str) -> list:
    value = _select(c, key)
    return list(value) if isinstance(value, list | tuple) else [value]


def int_list(c: dict, key: str) -> tuple[int, ...]:
    """``key`` (a scalar or a list) as integers; 1.5 or 'abc' is a one-line error, not 1."""
    values = _values(c, key)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int)]
    if bad:
        raise SymexpError(f"{key} must be a list of integers, got {values}")
    return tuple(values)


def number_list(c: dict, key: str) -> tuple[float, ...]:
    values = _values(c, key)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | float)]
    if bad:
        raise SymexpError(f"{key} must be a list of numbers, got {values}")
    return tuple(float(v) for v in values)


def integer(c: dict, key: str) -> int:
    value = _select(c, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SymexpError(f"{key} must be an integer, got {value!r}")
    return value


def resolved(cfg: DictConfig | dict) -> dict:
    """The config as plain, resolved Python values (Hydra's own section left out)."""
    if isinstance(cfg, dict):
        return cfg
    return {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
            for k in cfg if k != "hydra"}


def cell_spec(cfg: DictConfig | dict, output_dir: str | Path) -> CellSpec:
    """Build the CellSpec of one job from its Hydra config (or that config already resolved)."""
    c = resolved(cfg)
    hps = c["hyperparameters"]
    parsimony = number_list(c, "parsimony")
    check_parsimony(parsimony)  # before SRSettings, so the message names the user's key
    paths = c["paths"]
    return CellSpec(
        experiment=str(c["experiment"]),
        model=str(c["model"]),
        dataset=str(c["dataset"]),
        protocol=str(c["protocol"]),
        mode=str(c["mode"]),
        sampling_seed=integer(c, "sampling_seed"),
        n_samples=int_list(c, "n_samples"),
        sr_seeds=int_list(c, "sr_seeds"),
        parsimony=parsimony,
        sr=sr_settings(c),
        bo=bo_settings(c),
        test_points_per_dim=integer(c, "test_set.points_per_dim"),
        test_eval_seeds=int_list(c, "test_set.eval_seeds"),
        bo_gp_points=integer(c, "bo_gp.n_points"),
        store_dir=Path(paths["store"]),
        cache_dir=Path(paths["cache"]),
        workdir=Path(output_dir),
        hyperparameters=tuple(str(h) for h in hps) if hps else None,
        data_dir=Path(paths["data_dir"]) if paths.get("data_dir") else None,
        linreg_log_features=bool(c["linear_regression"]["log_features"]),
        n_jobs=resolve_n_jobs(c["n_jobs"]),
        pdp=PDPSettings(**c["pdp"]) if c.get("pdp") else None,
        keep_failed=bool(c.get("keep_failed", False)),
        split=str(c["split"]),
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


def preset_config(preset: str = "table1", overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """The resolved settings of an experiment preset (plain values, Hydra's own keys left out):
    what a measurement script reads instead of restating the protocol's numbers."""
    return resolved(compose_config([f"experiment={preset}", *overrides]))


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


def expand_cells(overrides: list[str]):
    """Every cell of the sweep as ``(its overrides, its resolved config, its job directory)``, lazily.

    The config is resolved once; cells that differ only in plain keys (model, dataset, mode,
    seed, ...) are copies of that plain dict with their values set (resolving a composed config
    600 times takes half a minute). Cells that switch a config group are composed on their own.
    """
    fixed, user_sweeps = split_overrides(overrides)
    base = compose_config(fixed)
    params = {str(k): str(v) for k, v in (OmegaConf.select(base, "hydra.sweeper.params") or {}).items()}
    for ov in fixed:
        params.pop(ov.split("=", 1)[0].lstrip("+~"), None)  # a fixed value wins over the preset's sweep
    params.update(user_sweeps)
    keys = list(params)
    for k in keys:
        if k not in GROUPS and not k.startswith("+") and OmegaConf.select(base, k, default="__missing__") == "__missing__":
            raise hydra_error(ValueError(f"Could not override '{k}'."))
    plain = resolved(base)
    sweep_dirs = OmegaConf.to_container(base.hydra.sweep, resolve=False)
    for values in itertools.product(*(params[k].split(",") for k in keys)):
        cell = dict(zip(keys, (v.strip() for v in values)))
        if set(GROUPS) & set(cell):
            cfg = compose_config(fixed + [f"{k}={v}" for k, v in cell.items()])
            yield cell, resolved(cfg), job_dir(cfg)
            continue
        c = copy.deepcopy(plain)
        for k, v in cell.items():
            *parents, leaf = k.lstrip("+").split(".")
            node = c
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = yaml.safe_load(v)
        yield cell, c, _sweep_dir(sweep_dirs, c)


def job_dir(cfg: DictConfig) -> Path:
    sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=True)
    return Path(sweep["dir"]) / sweep["subdir"]


def _sweep_dir(templates: dict[str, str], c: dict) -> Path:
    """The job directory of a cell: Hydra's sweep dir/subdir templates resolved against its values."""
    scalars = {k: v for k, v in c.items() if not isinstance(v, dict | list)}
    node = OmegaConf.create({**scalars, "_dir": templates["dir"], "_subdir": templates["subdir"]})
    return Path(node._dir) / node._subdir


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
    store_dir: Path
    cache_dir: Path
    cpus_per_task: int | None = None
    cluster: dict[str, Any] | None = None  # the resolved cluster group (cluster.*)
    sweep_dir: Path | None = None

    @property
    def keys(self) -> list[RecordKey]:
        seen: dict[str, RecordKey] = {}
        for c in self.cells:
            for k in c.keys:
                seen.setdefault(k.record_id, k)
        return list(seen.values())

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
    out, first = [], None
    for cell_overrides, c, jd in expand_cells(list(overrides)):
        first = first if first is not None else (str(c["experiment"]), c["paths"]["store"], c["paths"]["cache"],
                                                 dict(c.get("cluster") or {}))
        spec = cell_spec(c, jd)
        bench = validate_spec(spec, check_dirs=False)
        keys = planned_keys(spec, bench)
        out.append(ViewCell(cell_overrides, spec, keys, cell_id(keys), jd))
    if first is None:
        raise SymexpError("the overrides select no cell")
    experiment, store, cache, cluster = first
    sweep_dir = out[0].job_dir.parent if out[0].job_dir is not None else None
    return View(experiment=experiment, cells=out, store_dir=Path(store), cache_dir=Path(cache),
                cpus_per_task=cluster.get("cpus_per_task"), cluster=cluster, sweep_dir=sweep_dir)


def build_views(overrides: list[str]) -> list[View]:
    """One view per preset: ``experiment=table1,sample_size`` is the union of two presets (each
    with its own sweep; a record they share is one record). Otherwise ``[build_view(overrides)]``."""
    presets = [ov.split("=", 1)[1] for ov in overrides if ov.split("=", 1)[0] == "experiment"]
    if not presets or "," not in presets[-1]:
        return [build_view(overrides)]
    rest = [ov for ov in overrides if ov.split("=", 1)[0] != "experiment"]
    names = [p.strip() for p in presets[-1].split(",") if p.strip()]
    if len(set(names)) != len(names):
        raise SymexpError(f"experiment={presets[-1]} names a preset twice")
    return [build_view([f"experiment={name}", *rest]) for name in names]


def view_cells(views: list[View]):
    """The cells of ``views`` as :class:`symexp.pipeline.work.CellWork` (absolute job dirs; a cell
    that two views share counted once)."""
    from symexp.pipeline.work import CellWork

    seen: dict[str, CellWork] = {}
    for view in views:
        for c in view.cells:
            jd = Path(c.job_dir).absolute() if c.job_dir is not None else None
            seen.setdefault(c.cell_id, CellWork(spec=c.spec, cell_id=c.cell_id, keys=tuple(c.keys), job_dir=jd))
    return list(seen.values())


def layout_settings(cluster: dict[str, Any], nodes: int | None = None):
    """The :class:`symexp.cluster.layouts.LayoutSettings` of a resolved cluster group (``nodes``
    overrides ``cluster.nodes``). ``cluster=local``: the cell layout on this machine's CPUs."""
    from symexp.cluster.costs import TASK_STARTUP_S
    from symexp.cluster.layouts import LayoutSettings

    layout = cluster.get("layout", "cell")
    if cluster.get("name") == "local" or layout == "local":
        cpus = default_n_jobs()
        return LayoutSettings(layout="cell", cpus_per_node=cpus, nodes=1, cell_cpus=cpus, task_cpus=1,
                              startup_s=TASK_STARTUP_S)
    # Only the keys the cluster group sets: LayoutSettings holds the defaults (no third copy here).
    cpus_per_node = cluster.get("cpus_per_node", cluster.get("cpus_per_task"))
    if cpus_per_node == "auto":
        cpus_per_node = default_n_jobs()
    given = {"cpus_per_node": cpus_per_node, "task_cpus": cluster.get("task_cpus"),
             "cell_cpus": cluster.get("cpus_per_task", cpus_per_node),
             "chunk_seconds": cluster.get("chunk_seconds"), "array_parallelism": cluster.get("array_parallelism"),
             "nodes": nodes if nodes is not None else cluster.get("nodes", 1)}
    if cluster.get("task_minutes") is not None:
        given["task_seconds"] = 60.0 * float(cluster["task_minutes"])
    try:
        return LayoutSettings(layout=layout, **{k: v for k, v in given.items() if v is not None})
    except (TypeError, ValueError) as exc:
        raise SymexpError(f"bad cluster settings: {exc}") from None
