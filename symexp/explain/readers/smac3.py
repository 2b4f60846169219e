"""SMAC3 (2.x) run directories: ``runhistory.json`` and ``configspace.json`` (see :mod:`symexp.explain.readers`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from symexp.errors import SymexpError
from symexp.benchmarks.space import Categorical, Numerical
from symexp.explain.readers.run_data import RunData, finish, pick_objective, value_index

def find_smac_run(path: Path) -> Path:
    if (path / "runhistory.json").is_file():
        return path
    found = sorted({p.parent for pattern in ("*/runhistory.json", "*/*/runhistory.json") for p in path.glob(pattern)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise SymexpError(f"no SMAC3 run in {path}: expected runhistory.json and configspace.json (a SMAC3 2.x "
                          f"output directory such as smac3_output/<name>/<seed>)")
    raise SymexpError(f"{len(found)} SMAC3 runs below {path}: {', '.join(str(p) for p in found[:5])}; pass one of them")


def hyperparameter_from_configspace(hp: Any, notes: list[str]) -> Numerical | Categorical | None:
    """A symexp hyperparameter for a ConfigSpace one (None for constants)."""
    kind = type(hp).__name__
    name = hp.name
    if kind == "Constant":
        notes.append(f"constant hyperparameter {name}={hp.value!r} left out")
        return None
    if kind in ("CategoricalHyperparameter", "OrdinalHyperparameter"):
        choices = tuple(str(c) for c in (hp.choices if kind == "CategoricalHyperparameter" else hp.sequence))
        if len(set(choices)) != len(choices):
            raise SymexpError(f"categorical hyperparameter {name}: choices {list(choices)} are not distinct as text")
        if kind == "OrdinalHyperparameter":
            notes.append(f"ordinal hyperparameter {name} treated as categorical")
        default = str(hp.default_value) if hp.default_value is not None else None
        return Categorical(name, choices, default if default in choices else None)
    integer = "Integer" in kind
    if "Float" not in kind and not integer:
        raise SymexpError(f"hyperparameter {name}: unsupported ConfigSpace type {kind}")
    if not kind.startswith("Uniform"):
        notes.append(f"{name}: {kind} treated as uniform on its bounds")
    lower, upper = float(hp.lower), float(hp.upper)
    default = hp.default_value
    default = None if default is None or not lower <= float(default) <= upper else (int(default) if integer else float(default))
    return Numerical(name, int(lower) if integer else lower, int(upper) if integer else upper,
                     log=bool(getattr(hp, "log", False)), integer=integer, default=default)




BUDGET_NAME = "budget"


def read_smac(path: str | Path, objective: int | None = None, drop_nonfinite: bool = False,
              budget: float | str | None = None) -> RunData:
    """A SMAC3 2.x run directory (``runhistory.json`` + ``configspace.json``).

    Multi-fidelity runs (trials at several budgets): ``budget`` None uses the highest budget (the
    default, stated at the top of the report), a number uses the trials at that budget, and
    ``"all"`` uses every trial with the budget as one more (log-scaled when it spans more than a
    decade) hyperparameter ``budget`` of the formula (the paper's future work)."""
    root = Path(path)
    if not root.is_dir():
        raise SymexpError(f"SMAC3 run directory {root} does not exist")
    run_dir = find_smac_run(root)
    cs_file = run_dir / "configspace.json"
    if not cs_file.is_file():
        raise SymexpError(f"{run_dir} has runhistory.json but no configspace.json; SMAC3 2.x writes both")
    from ConfigSpace import ConfigurationSpace

    try:
        cs = ConfigurationSpace.from_json(cs_file)
    except Exception as exc:  # noqa: BLE001 - any parse error of the user's file
        raise SymexpError(f"cannot read {cs_file}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if list(cs.conditions):
        conditional = sorted({c.child.name for c in cs.conditions if hasattr(c, "child")})
        raise SymexpError(f"{cs_file}: conditional hyperparameters ({', '.join(conditional) or 'see conditions'}) are not "
                          f"supported; explain needs every hyperparameter set in every trial")
    notes: list[str] = []
    if list(cs.forbidden_clauses):
        notes.append("forbidden clauses of the configuration space are ignored (random samples may hit them)")
    hps = [h for h in (hyperparameter_from_configspace(hp, notes) for hp in cs.values()) if h is not None]

    rh_file = run_dir / "runhistory.json"
    try:
        with open(rh_file, encoding="utf-8") as fh:
            rh = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SymexpError(f"cannot read {rh_file}: {type(exc).__name__}: {exc}") from None
    if not isinstance(rh, dict) or not isinstance(rh.get("data"), list) or not isinstance(rh.get("configs"), dict):
        raise SymexpError(f"{rh_file} is not a SMAC3 2.x run history (expected 'data' and 'configs')")

    keys = ("config_id", "cost", "status")
    rows: dict[int, list[tuple[float | None, float]]] = {}
    n_other_status = 0
    for i, entry in enumerate(rh["data"]):
        if not isinstance(entry, dict) or any(k not in entry for k in keys):
            raise SymexpError(f"{rh_file}: trial {i} is missing one of {', '.join(keys)}")
        if entry["status"] != 1:  # StatusType.SUCCESS
            n_other_status += 1
            continue
        cid = entry["config_id"]
        if str(cid) not in rh["configs"]:
            raise SymexpError(f"inconsistent run files: {rh_file} trial {i} refers to configuration {cid}, which it "
                              f"does not list")
        cost = entry["cost"]
        cost_value = pick_objective(cost, objective, f"SMAC3 run {run_dir}") if isinstance(cost, list) else (
            pick_objective([cost], objective, f"SMAC3 run {run_dir}"))
        trial_budget = entry.get("budget")
        rows.setdefault(int(cid), []).append((None if trial_budget is None else float(trial_budget), cost_value))
    if n_other_status:
        notes.append(f"left out {n_other_status} trial(s) without status SUCCESS (crashed, timed out, running, ...)")

    budgets = sorted({b for trials in rows.values() for b, _ in trials if b is not None})
    listed = ", ".join(f"{b:g}" for b in budgets)
    budget_hp = None
    used_budget: str | None = None
    if budget is not None and len(budgets) < 2:
        raise SymexpError(f"--budget is for multi-fidelity runs; {run_dir} has "
                          f"{'no budgets' if not budgets else f'one budget ({listed})'}")
    if len(budgets) > 1 and budget == "all":
        if any(hp.name == BUDGET_NAME for hp in hps):
            raise SymexpError(f"--budget all: the run already has a hyperparameter named {BUDGET_NAME!r}")
        budget_hp = Numerical(BUDGET_NAME, budgets[0], budgets[-1], log=budgets[-1] / budgets[0] > 10)
        rows = {(c, b): [(b, v) for bb, v in trials if bb == b] for c, trials in rows.items()
                for b in sorted({t[0] for t in trials})}
        used_budget = f"all budgets ({listed}), the budget a variable of the formula"
        notes.append(f"multi-fidelity run: every trial used, the budget ({listed}) as hyperparameter {BUDGET_NAME!r}")
    elif len(budgets) > 1:
        if budget is None:
            top, how = budgets[-1], "the highest budget (default; --budget B or --budget all to choose)"
        else:
            try:
                top = float(budget)
            except (TypeError, ValueError):
                raise SymexpError(f"--budget must be a number or 'all', got {budget!r}") from None
            if top not in budgets:
                raise SymexpError(f"--budget {budget}: the run's budgets are {listed}")
            how = "chosen with --budget"
        rows = {c: [t for t in trials if t[0] == top] for c, trials in rows.items()}
        rows = {c: t for c, t in rows.items() if t}
        used_budget = f"budget {top:g}: {how}"
        notes.append(f"multi-fidelity run: only the {sum(len(t) for t in rows.values())} trial(s) at budget {top:g} "
                     f"are used (budgets: {listed})")
    if any(len(t) > 1 for t in rows.values()):
        notes.append("configurations evaluated several times (instances or seeds) get their mean cost")

    X, y, labels = [], [], []
    for key in sorted(rows):
        cid = key[0] if isinstance(key, tuple) else key
        values = rh["configs"][str(cid)]
        if not isinstance(values, dict):
            raise SymexpError(f"inconsistent run files: configuration {cid} in {rh_file} is not a mapping")
        unknown = [k for k in values if k not in {hp.name for hp in hps} and k not in cs]
        if unknown:
            raise SymexpError(f"inconsistent run files: configuration {cid} sets {', '.join(unknown)}, which "
                              f"{cs_file.name} does not define")
        row = []
        for hp in hps:
            if hp.name not in values:
                raise SymexpError(f"inconsistent run files: configuration {cid} has no value for {hp.name}")
            row.append(value_index(hp, values[hp.name], f"configuration {cid} in {rh_file.name}"))
        if budget_hp is not None:
            row.append(key[1])
        X.append(row)
        costs = [c for _, c in rows[key]]
        y.append(float(np.mean(costs)) if all(math.isfinite(c) for c in costs) else float("nan"))
        labels.append(f"configuration {cid}" + (f" at budget {key[1]:g}" if budget_hp is not None else ""))
    if budget_hp is not None:
        hps = hps + [budget_hp]
    source = {"kind": "smac3", "path": str(run_dir), "n_trials": len(rh["data"])}
    if used_budget is not None:
        source["budget"] = used_budget
    n_objectives = max((len(e["cost"]) if isinstance(e["cost"], list) else 1) for e in rh["data"]) if rh["data"] else 1
    if objective is not None:
        source["objective"] = int(objective)
    name = _smac_objective_name(run_dir, 0 if objective is None else int(objective), n_objectives)
    return finish(hps, np.array(X, dtype=float).reshape(len(y), len(hps)), np.array(y), source, notes, labels,
                  drop_nonfinite, objective=name, direction="minimize", n_objectives=n_objectives)


def _smac_objective_name(run_dir: Path, index: int, n_objectives: int) -> str:
    """The objective's name from SMAC's ``scenario.json`` (``objectives``), else ``cost``."""
    try:
        with open(run_dir / "scenario.json", encoding="utf-8") as fh:
            names = json.load(fh).get("objectives")
    except (OSError, ValueError, AttributeError):
        names = None
    if isinstance(names, str):
        names = [names]
    if isinstance(names, list) and len(names) == n_objectives and all(isinstance(n, str) for n in names):
        return names[index]
    return "cost" if n_objectives == 1 else f"cost {index}"
