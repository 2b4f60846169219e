"""End-to-end tests of ``symexp explain`` (the library entry point and the CLI subcommand).

The runs are made here on the synthetic benchmark whose cost is ``x*y + 0.1`` (x in [0.1, 2]
log, y in [0, 1]): a real SMAC3 run (BlackBoxFacade, 30 trials), an Optuna study in SQLite
(random sampler, 80 trials, with a weak z the explanation must integrate out), and CSVs with a
space file. With the default units, x enters as log10(x), so the exact formula is
``0.1 + y * x**1.0`` after write-back (``exp(2.3026*log10(x)) = x``).

Recovery criterion, on the 10 x 10 test grid of (x, y) where the cost spans [0.1, 2.1] (std
~0.4): the chosen formula has RMSE < ``TOLERANCE`` = 0.04 against the truth. The error is
dominated by the GP surrogate fitted on 30-80 evaluations; the formulas reproduce the surrogate.

SR runs here are small (``FAST``) to keep the file quick; the defaults are checked on a known
truth by a slow test (``test_defaults_recover_a_known_truth``) and measured by
``bench/bench_explain.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from symexp.benchmarks import make_benchmark
from symexp.benchmarks.objective import SYNTHETIC_SPACE
from symexp.cli import main
from symexp.errors import SymexpError
from symexp.explain import evaluate, explain, read_run
from symexp.explain.front import R2_TOLERANCE, knee_index
from symexp.explain.readers import safe_names
from symexp.symbolic import operon_status

# The SMAC run and the Optuna study are module fixtures: keep their users on one xdist worker.
pytestmark = pytest.mark.xdist_group("explain")

TOLERANCE = 0.04
SPACE_YAML = "x: {type: float, lower: 0.1, upper: 2.0, log: true}\ny: {type: float, lower: 0.0, upper: 1.0}\n"
needs_operon = pytest.mark.skipif(operon_status() is not None, reason=str(operon_status()))
#: Small SR and labelling settings for the end-to-end tests (library keyword arguments).
FAST = dict(population_size=300, generations=10, local_iterations=5, sr_seeds=(0,), n_samples=200,
            check_points=900, n_background=50)
FAST_CLI = ["--population", "300", "--generations", "10", "--sr-seeds", "0", "--samples", "200",
            "--background", "50", "--quiet"]
FAST_CLI_PROGRESS = FAST_CLI[:-1]


def true_cost(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * X[:, 1] + 0.1


def truth_rmse(summary: dict, formula: dict) -> float:
    """RMSE of a formula of the summary vs x*y + 0.1 on the 10 x 10 test grid of (x, y)."""
    grid = SYNTHETIC_SPACE.subspace(["x", "y"]).test_grid(10)
    pred = evaluate(summary, {"x": grid[:, 0], "y": grid[:, 1]}, position=formula["position"])
    return float(np.sqrt(np.mean((pred - true_cost(grid)) ** 2)))


def check_summary(summary: dict, out: Path, kind: str, n: int, page: str = "report.md") -> None:
    assert summary["symexp_explain"] == 3
    assert summary["source"]["kind"] == kind and summary["source"]["n_evaluations"] == n
    chosen = summary["chosen"]
    assert chosen["position"] == summary["rule"] and chosen["selected_by"] == "rule"
    assert chosen["formula"] == summary["front"][chosen["position"]]["formula"]
    # the front is ordered simple -> complex with strictly falling RMSE
    comp = [c["complexity"] for c in summary["front"]]
    rm = [c["surrogate"]["rmse"] for c in summary["front"]]
    assert comp == sorted(comp) and len(set(comp)) == len(comp)
    assert all(a > b for a, b in zip(rm, rm[1:]))
    r2 = [c["surrogate"]["r2"] for c in summary["front"]]
    tol = R2_TOLERANCE
    old = summary["alternatives"]["r2_tolerance"]
    assert r2[old] >= max(r2) - tol and all(v < max(r2) - tol for v in r2[:old])
    if summary["surrogate"]["cv"] is None:  # no held-out error: the R^2-tolerance rule
        assert summary["rule_name"] == "r2_tolerance" and chosen["position"] == old
        assert all("heldout" not in c for c in summary["front"])
    else:  # the knee of the front on held-out error, every front member with its held-out figure
        assert summary["rule_name"] == "knee" and "elbow rule" in summary["choice_rule"]
        assert all(c["heldout"]["folds"] == summary["surrogate"]["cv"]["folds"] for c in summary["front"])
        assert chosen["position"] == knee_index([c["complexity"] for c in summary["front"]],
                                                [c["heldout"]["rmse"] for c in summary["front"]],
                                                summary["surrogate"]["objective_std"])
        assert chosen["heldout"]["r2"] > 0.8 and chosen["heldout"]["interval"] > 0
    assert set(summary["explained"]) == {"x", "y"}
    assert truth_rmse(summary, chosen) < TOLERANCE, chosen["formula"]
    # log-scaled x enters only as the variable log10_x, and the report says so
    x_var = summary["variables"][summary["explained"].index("x")]
    assert summary["units"] == "log10" and x_var["enters_as"] == "log10(x)" and x_var["symbol"] == "log10_x"
    for c in summary["front"]:
        assert {s["symbol"] for s in _symbols(c["tree"])} <= {"log10_x", "y"}, c["formula"]
        assert "log10(" not in c["formula"] and "x**" not in c["formula"].replace("log10_x**", "")
    assert chosen["surrogate"]["r2"] > 0.95 and chosen["evaluations"]["r2"] > 0.9 and chosen["finite_on_box"]
    assert summary["warnings"] == []
    assert summary["sr"]["settings"]["engine"] == summary["sr"]["engine"]
    for name in ("report.md", "report.html", "summary.json", "landscape.json", "pd.png", "landscape.png", "front.png",
                 "importance.png"):
        assert (out / name).is_file(), name
    html_page = (out / "report.html").read_text()
    assert ".png\"" not in html_page and html_page.count('src="data:image/png;base64,') == 4  # self-contained
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))
    text = (out / page).read_text()
    assert chosen["formula"].replace("*", "") in text.replace("*", "") or chosen["formula"] in text
    assert "lower is better" in text and "log10_x" in text and "log10(x)" in text
    if summary["surrogate"]["cv"] is not None:
        assert "Held-out quality" in text and "of held-out evaluations lie within" in text


def _symbols(tree):
    if "symbol" in tree:
        yield tree
    for a in tree.get("args", []):
        yield from _symbols(a)


# ----------------------------------------------------------------------------------------------
# end to end: SMAC3, Optuna, CSV
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smac_output(tmp_path_factory) -> Path:
    """A real SMAC3 2.x run (BlackBoxFacade, 30 trials) on x*y + 0.1; returns smac3_output/."""
    from smac import BlackBoxFacade, Scenario
    from threadpoolctl import threadpool_limits

    bench = make_benchmark(model="synthetic", dataset="synthetic")
    root = tmp_path_factory.mktemp("smac") / "smac3_output"
    cs = bench.space.to_configspace(seed=0)

    def target(config, seed: int = 0) -> float:
        return bench.formula(float(config["x"]), float(config["y"]))

    scenario = Scenario(cs, name="synthetic", deterministic=True, n_trials=30, seed=0, output_directory=root)
    # A cheaper acquisition search and GP retraining every 4 trials keep the run to ~10 s.
    smac = BlackBoxFacade(
        scenario, target, overwrite=True, logging_level=40,
        initial_design=BlackBoxFacade.get_initial_design(scenario, n_configs=10),
        acquisition_maximizer=BlackBoxFacade.get_acquisition_maximizer(scenario, challengers=200,
                                                                       local_search_iterations=2),
        config_selector=BlackBoxFacade.get_config_selector(scenario, retrain_after=4))
    with threadpool_limits(limits=1):
        smac.optimize()
    assert (root / "synthetic" / "0" / "runhistory.json").is_file()
    return root


@needs_operon
def test_explain_smac_run_recovers_formula(smac_output, tmp_path, capsys):
    """The CLI on a SMAC3 output folder (the run is found below it), default engine (operon)."""
    out = tmp_path / "report"
    rc = main(["explain", str(smac_output), *FAST_CLI, "--cv-folds", "3", "--out", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    check_summary(summary, out, "smac3", 30)
    assert summary["source"]["path"].endswith("synthetic/0")
    assert summary["objective"] == {"name": "cost", "direction": "minimize", "better": "lower is better",
                                    "n_objectives": 1, "index": None}
    assert summary["sr"]["engine"] == "operon" and all(c["engine"] == "operon" for c in summary["candidates"])
    assert summary["surrogate"]["kind"] == "smac-gp" and summary["surrogate"]["n_train"] == 30
    assert summary["surrogate"]["cv"]["folds"] == 3 and summary["surrogate"]["cv"]["r2"] > 0.5


@pytest.fixture(scope="module")
def optuna_storage(tmp_path_factory) -> str:
    """An Optuna study (random sampler, 80 trials) on x*y + 0.1 + 0.05*(z - 0.5) in SQLite."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path_factory.mktemp('optuna') / 'study.db'}"

    def objective(trial):
        x = trial.suggest_float("x", 0.1, 2.0, log=True)
        y = trial.suggest_float("y", 0.0, 1.0)
        z = trial.suggest_float("z", 0.0, 1.0)
        return x * y + 0.1 + 0.05 * (z - 0.5)

    study = optuna.create_study(study_name="synthetic", storage=url, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=80)
    # a failed trial is left out with a note
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    return url


@needs_operon
def test_explain_optuna_study_recovers_formula(optuna_storage, tmp_path):
    """The library entry point on an Optuna study: top-2 by fANOVA, z integrated out."""
    out = tmp_path / "report"
    result = explain(optuna_storage, study="synthetic", cv_folds=3, out_dir=out, progress=False, **FAST)
    summary = result.summary()
    check_summary(summary, out, "optuna", 80)
    assert summary["integrated_out"] == ["z"]
    assert summary["importance"]["values"]["z"] < 0.05 < min(summary["importance"]["values"][n] for n in ("x", "y"))
    assert any("not COMPLETE" in n for n in summary["notes"])
    assert any("integrated out" in n for n in summary["notes"])
    # the evaluations check adds z's effect through the surrogate: better than the formula alone
    ev = summary["chosen"]["evaluations"]
    assert ev["r2"] > ev["r2_alone"]
    other = result.select(0)
    assert other.chosen is result.front[0] and other.summary()["chosen"]["selected_by"] in ("user", "rule")
    with pytest.raises(SymexpError, match="not a front position"):
        result.select(len(result.front))


@needs_operon
def test_explain_csv_html_with_categorical(tmp_path, capsys):
    """The CLI on a CSV + space file with an irrelevant categorical and a metadata column; HTML
    page with the formula as MathML (no script, nothing fetched)."""
    rng = np.random.default_rng(0)
    X = SYNTHETIC_SPACE.subspace(["x", "y"]).sample(40, rng)
    pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "kernel": rng.choice(["rbf", "poly"], 40),
                  "cost": true_cost(X), "wallclock": rng.uniform(size=40)}).to_csv(tmp_path / "run.csv", index=False)
    (tmp_path / "space.yaml").write_text(SPACE_YAML + "kernel: {type: categorical, choices: [rbf, poly]}\n")
    out = tmp_path / "report"
    rc = main(["explain", str(tmp_path / "run.csv"), "--space", str(tmp_path / "space.yaml"), *FAST_CLI,
               "--cv-folds", "0", "--ignore-columns", "wallclock", "--format", "html", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "cost ~ " in text and "report:" in text and "kernel" in text and "--select N" in text
    summary = json.loads((out / "summary.json").read_text())
    check_summary(summary, out, "csv", 40, page="report.html")
    assert summary["integrated_out"] == ["kernel"]
    assert any("categorical" in n and "kernel" in n for n in summary["notes"])
    assert any("wallclock" in n and "ignored" in n for n in summary["notes"])
    assert any("not cross-validated" in n for n in summary["notes"]) and summary["surrogate"]["cv"] is None
    assert {"name": "kernel", "type": "categorical", "choices": ["rbf", "poly"]} in summary["space"]
    import re

    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", (out / "report.html").read_text())
    assert '<math display="block">' in page and "<script" not in page and "http" not in page
    assert "base-10 logarithm" in page and (out / "report.md").is_file()


@pytest.mark.parametrize("engine", ["gplearn", "both"])
def test_fallback_engines_finish_and_record_the_engine(tmp_path, engine):
    """gplearn's guarded programs (ITE, zoo after simplification) used to end a run after the work
    with 'cannot store a formula'; now every candidate is stored, guarded or dropped with a note.
    Tiny fits, no time limit (deterministic under load)."""
    rng = np.random.default_rng(3)
    n = 40
    lr, depth = 10 ** rng.uniform(-4, 0, n), rng.integers(1, 13, n)
    cost = 0.1 * (np.log10(lr) + 2) ** 2 + 0.5 * np.exp(-depth / 3) + 0.2
    pd.DataFrame({"lr": lr, "depth": depth, "cost": cost}).to_csv(tmp_path / "run.csv", index=False)
    (tmp_path / "space.yaml").write_text("lr: {type: float, lower: 1e-4, upper: 1, log: true}\n"
                                         "depth: {type: int, lower: 1, upper: 12}\n")
    out = tmp_path / "report"
    result = explain(tmp_path / "run.csv", space_file=tmp_path / "space.yaml", engine=engine, out_dir=out,
                     parsimony=(0.001, 0.01), cv_folds=3, progress=False,
                     **dict(FAST, population_size=200, generations=5, n_samples=100, time_limit_s=None))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sr"]["engine"] == engine and summary["sr"]["settings"]["engine"] == engine
    assert {c["engine"] for c in summary["candidates"]} <= ({"gplearn"} if engine == "gplearn" else {"gplearn", "operon"})
    assert result.front and all("heldout" in c for c in summary["front"])
    grid = np.column_stack([np.geomspace(1e-4, 1, 7), np.arange(1, 8)])
    for c in summary["front"]:  # every stored formula re-evaluates, finite on the box
        assert np.all(np.isfinite(evaluate(summary, grid, position=c["position"])))


def test_explain_gplearn_on_a_narrow_band_is_not_a_constant(tmp_path):
    """Costs in a narrow band (0.06 to 0.11) used to collapse to a constant under gplearn's
    constant range and parsimony; the standardised target gives a real formula."""
    rng = np.random.default_rng(5)
    n = 60
    C, gamma = 10 ** rng.uniform(-3, 3, n), 10 ** rng.uniform(-4, 1, n)
    cost = 0.06 + 0.004 * (np.log10(gamma) + 1.5) ** 2 + 0.03 * np.exp(-2 * (np.log10(C) + 3))
    pd.DataFrame({"C": C, "gamma": gamma, "cost": cost}).to_csv(tmp_path / "run.csv", index=False)
    (tmp_path / "space.yaml").write_text("C: {type: float, lower: 1.0e-3, upper: 1.0e+3, log: true}\n"
                                         "gamma: {type: float, lower: 1.0e-4, upper: 10.0, log: true}\n")
    # no time limit: the result must not depend on the machine's load
    result = explain(tmp_path / "run.csv", space_file=tmp_path / "space.yaml", engine="gplearn", cv_folds=0,
                     parsimony=(0.003, 0.01), progress=False, **dict(FAST, population_size=500, time_limit_s=None))
    assert all(c.engine == "gplearn" for c in result.candidates) and len(result.candidates) >= 1
    chosen = result.chosen
    assert chosen.expression.free_symbols  # not a constant (a constant has R^2 = 0)
    assert chosen.metrics["surrogate"]["r2"] > 0.2  # gplearn is weak here; operon reaches 0.99 (bench_explain)
    assert "C" in result.explained  # the hyperparameter keeps its name (no "C_")
    assert "Piecewise" not in chosen.formula or chosen.guards  # a guard left in is explained


@pytest.mark.slow
def test_defaults_recover_a_known_truth(tmp_path):
    """The issue's done-when case with the defaults: a CSV of 80 random-search evaluations whose
    cost is a known function of a log-scaled learning rate and an integer depth, plus an
    irrelevant third hyperparameter. The knee of the front is the truth's form, within 5 % of the
    truth's std."""
    if operon_status() is not None:
        pytest.skip(str(operon_status()))
    rng = np.random.default_rng(0)
    n = 80
    lr, depth, sub = 10 ** rng.uniform(-4, 0, n), rng.integers(1, 13, n), rng.uniform(0.5, 1.0, n)

    def truth(lr, depth):
        return 0.1 * (np.log10(lr) + 2) ** 2 + 0.5 * np.exp(-depth / 3) + 0.2

    pd.DataFrame({"lr": lr, "depth": depth, "subsample": sub, "cost": truth(lr, depth)}).to_csv(
        tmp_path / "run.csv", index=False)
    (tmp_path / "space.yaml").write_text("lr: {type: float, lower: 1e-4, upper: 1, log: true}\n"
                                         "depth: {type: int, lower: 1, upper: 12}\n"
                                         "subsample: {type: float, lower: 0.5, upper: 1.0}\n")
    result = explain(tmp_path / "run.csv", space_file=tmp_path / "space.yaml", progress=False)
    assert sorted(result.explained) == ["depth", "lr"] and result.integrated_out == ["subsample"]
    test = np.column_stack([10 ** rng.uniform(-4, 0, 2000), rng.integers(1, 13, 2000)])
    t = truth(test[:, 0], test[:, 1])
    cols = [["lr", "depth"].index(n) for n in result.explained]
    pred = result.predict(result.chosen, test[:, cols])
    rmse = np.sqrt(np.mean((pred - t) ** 2))
    # the knee finds the truth's form: as close to the truth as the best formula on the front; what is
    # left is the GP surrogate's error (bench_explain's lr_depth run, the CSV: 0.024 of the std)
    best = min(np.sqrt(np.mean((result.predict(c, test[:, cols]) - t) ** 2)) for c in result.front)
    assert rmse < 0.05 * np.std(t) and rmse <= 1.25 * best, result.chosen.formula
    assert result.rule_name == "knee" and result.warnings == []
    r2_truth = 1 - rmse**2 / np.var(t)
    assert abs(result.chosen.metrics["heldout"]["r2"] - r2_truth) < 0.15  # the headline is honest


# ----------------------------------------------------------------------------------------------
# direction, objectives and the quality gate
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def maximised_storage(tmp_path_factory) -> str:
    """A maximised single-objective study named R^2 and a two-objective study, in one SQLite file."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path_factory.mktemp('optuna_max') / 'studies.db'}"
    study = optuna.create_study(study_name="r2", storage=url, direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=1))
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        study.set_metric_names(["R^2"])

    def r2(trial):
        alpha = trial.suggest_float("alpha", 1e-3, 10.0, log=True)
        width = trial.suggest_float("width", 0.0, 1.0)
        return 0.9 - 0.1 * (np.log10(alpha) + 1) ** 2 - 0.05 * width

    study.optimize(r2, n_trials=30)
    multi = optuna.create_study(study_name="multi", storage=url, directions=["minimize", "maximize"],
                                sampler=optuna.samplers.RandomSampler(seed=2))
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        multi.set_metric_names(["latency", "accuracy"])
    multi.optimize(lambda t: (t.suggest_float("width", 1.0, 100.0), 0.5 + 0.004 * t.params["width"]), n_trials=25)
    return url


@needs_operon
def test_maximised_study_reports_its_best_and_direction(maximised_storage, tmp_path, capsys):
    from symexp.explain.report import landscape_figure

    out = tmp_path / "r2"
    rc = main(["explain", maximised_storage, "--study", "r2", *FAST_CLI, "--cv-folds", "0", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "higher is better" in text and "R^2 ~ " in text
    summary = json.loads((out / "summary.json").read_text())
    run = read_run(maximised_storage, study="r2")
    assert summary["best_observed"]["value"] == pytest.approx(float(np.max(run.y)))
    assert summary["best_observed"]["value"] > float(np.min(run.y))
    assert summary["objective"]["direction"] == "maximize" and summary["objective"]["name"] == "R^2"
    page = (out / "report.md").read_text()
    head = page.split("## Formula")[0]
    assert "maximises R^2" in head and "higher is better" in head  # at the top, not in a note at the bottom
    assert "`R^2 ~ " in page
    fig = landscape_figure(summary, json.loads((out / "landscape.json").read_text()))
    labels = [ax.get_ylabel() for ax in fig.axes]  # panels, then their colour bars
    assert labels.count("R^2 (higher is better)") == 2 and "formula - surrogate (R^2)" in labels


@needs_operon
def test_multi_objective_study_names_its_objective(maximised_storage, tmp_path):
    out = tmp_path / "multi"
    result = explain(maximised_storage, study="multi", objective=1, out_dir=out, progress=False, cv_folds=0,
                     **FAST)
    summary = result.summary()
    assert summary["objective"] == {"name": "accuracy", "direction": "maximize", "better": "higher is better",
                                    "n_objectives": 2, "index": 1}
    head = (out / "report.md").read_text().split("## Formula")[0]
    assert "objective 1 of 2: accuracy" in head


@needs_operon
def test_quality_gate_warns_at_the_top(tmp_path, capsys):
    """Costs that are pure noise: the surrogate cannot predict held-out evaluations and no formula
    describes the run. The warnings come first in the output, the report and summary.json."""
    rng = np.random.default_rng(7)
    X = SYNTHETIC_SPACE.subspace(["x", "y"]).sample(40, rng)
    pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "cost": rng.normal(size=40)}).to_csv(tmp_path / "noise.csv",
                                                                                   index=False)
    (tmp_path / "space.yaml").write_text(SPACE_YAML)
    out = tmp_path / "report"
    rc = main(["explain", str(tmp_path / "noise.csv"), "--space", str(tmp_path / "space.yaml"), *FAST_CLI_PROGRESS,
               "--cv-folds", "4", "--out", str(out)])
    assert rc == 0
    captured = capsys.readouterr()
    text = captured.out
    assert text.startswith("WARNING: ")
    # progress: step lines with the elapsed time and the SR time bound, no guessed ETA
    progress = captured.err.strip().splitlines()
    assert "1 SR fit(s) with operon (each stopped at 20 s)" in progress[0]
    assert progress[1].startswith("symexp explain: [") and "s] step 1/" in progress[1]
    assert progress[-1].endswith("done") and not any("remaining" in line or "<" in line for line in progress)
    summary = json.loads((out / "summary.json").read_text())
    assert any("cross-validated R^2" in w for w in summary["warnings"])
    assert summary["surrogate"]["cv"]["r2"] < 0.5
    # pure noise: nothing to explain, said first; the held-out R^2 is the figure judged
    assert summary["warnings"][0].startswith("Nothing to explain") and summary["chosen"]["heldout"]["r2"] < 0.1
    page = (out / "report.md").read_text()
    assert page.index("## Warnings") < page.index("## Formula")
    assert all(w in page for w in summary["warnings"])


# ----------------------------------------------------------------------------------------------
# bad input: one line on stderr, exit status 2, no traceback, nothing written
# ----------------------------------------------------------------------------------------------

def write_csv(path: Path, x, y, cost, extra: dict | None = None) -> Path:
    pd.DataFrame({"x": x, "y": y, "cost": cost, **(extra or {})}).to_csv(path, index=False)
    return path


@pytest.fixture()
def good_csv(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    X = SYNTHETIC_SPACE.subspace(["x", "y"]).sample(20, rng)
    csv = write_csv(tmp_path / "run.csv", X[:, 0], X[:, 1], true_cost(X))
    space = tmp_path / "space.yaml"
    space.write_text(SPACE_YAML)
    return csv, space


def run_cli(argv, capsys) -> str:
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("symexp: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_bad_csv_inputs(tmp_path, good_csv, capsys):
    csv, space = good_csv
    out = tmp_path / "o"
    base = ["explain", "--quiet", "--out", str(out)]
    rng = np.random.default_rng(2)
    x, y = np.exp(rng.uniform(np.log(0.1), np.log(2), 20)), rng.uniform(size=20)

    assert "does not exist" in run_cli(base + [str(tmp_path / "missing.csv")], capsys)
    header = tmp_path / "header.csv"
    header.write_text("x,y,cost\n")
    for extra in ([], ["--space", str(space)]):  # with or without a space file: one line, exit 2
        assert "has a header (x, y, cost) but no rows" in run_cli(base + [str(header), *extra], capsys)
    few = write_csv(tmp_path / "few.csv", x[:5], y[:5], x[:5] * y[:5])
    assert "needs at least 10" in run_cli(base + [str(few), "--space", str(space)], capsys)
    flat = write_csv(tmp_path / "flat.csv", x, y, np.full(20, 0.3))
    assert "all 20 costs are equal" in run_cli(base + [str(flat), "--space", str(space)], capsys)
    cost = x * y
    cost[3], cost[7] = np.nan, np.inf
    bad = write_csv(tmp_path / "nan.csv", x, y, cost)
    msg = run_cli(base + [str(bad), "--space", str(space)], capsys)
    assert "2 cost(s) are NaN or infinite (line 5, line 9)" in msg and "--drop-nonfinite" in msg
    run = read_run(bad, space_file=space, drop_nonfinite=True)
    assert run.n == 18 and any("left out 2" in n for n in run.notes)
    text = write_csv(tmp_path / "text.csv", x, ["a"] + list(y[1:]), x * y)
    assert "is not a number" in run_cli(base + [str(text), "--space", str(space)], capsys)
    assert "no cost column 'loss'" in run_cli(base + [str(csv), "--space", str(space), "--cost-column", "loss"], capsys)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(SPACE_YAML + "lr: {type: float, lower: 0.001, upper: 1, log: true}\n")
    assert "unknown hyperparameter name(s) lr" in run_cli(base + [str(csv), "--space", str(wrong)], capsys)
    assert "unknown hyperparameter 'w'" in run_cli(base + [str(csv), "--space", str(space), "--hyperparameters", "x,w"],
                                                   capsys)
    tight = tmp_path / "tight.yaml"
    tight.write_text("x: {type: float, lower: 0.1, upper: 1.0}\ny: {type: float, lower: 0, upper: 1}\n")
    assert "outside [0.1, 1]" in run_cli(base + [str(csv), "--space", str(tight)], capsys)
    broken = tmp_path / "broken.yaml"
    broken.write_text("x: {type: float, lower: 0.1\n")
    assert "not valid YAML/JSON" in run_cli(base + [str(csv), "--space", str(broken)], capsys)
    typo = tmp_path / "typo.yaml"
    typo.write_text("x: {type: float, lower: 0.1, upper: 2, scale: log}\ny: {type: float, lower: 0, upper: 1}\n")
    assert "unknown key(s) scale" in run_cli(base + [str(csv), "--space", str(typo)], capsys)
    assert "--samples must be" in run_cli(base + [str(csv), "--space", str(space), "--samples", "3"], capsys)
    assert "parsimony_coefficient must be > 0" in run_cli(
        base + [str(csv), "--space", str(space), "--engine", "gplearn", "--parsimony", "-1"], capsys)
    assert "--objective is for multi-objective" in run_cli(base + [str(csv), "--objective", "1"], capsys)
    assert not out.exists()  # nothing written by any of these


def test_csv_column_outside_the_space(tmp_path, good_csv, capsys):
    """A varying column the space file lacks is refused (it may be a forgotten hyperparameter)
    unless --ignore-columns names it; a constant one is left out with a note."""
    csv, space = good_csv
    df = pd.read_csv(csv)
    df["momentum"] = np.linspace(0.1, 0.9, len(df))
    df["dataset"] = "iris"
    df.to_csv(csv, index=False)
    msg = run_cli(["explain", str(csv), "--space", str(space), "--quiet", "--out", str(tmp_path / "o")], capsys)
    assert "momentum vary but are not in the space file" in msg and "--ignore-columns momentum" in msg
    run = read_run(csv, space_file=space, ignore_columns=["momentum"])
    assert run.space.names == ["x", "y"]
    assert any("momentum ignored" in n for n in run.notes) and any("constant" in n and "dataset" in n for n in run.notes)
    assert "not column(s)" in run_cli(["explain", str(csv), "--ignore-columns", "nope"], capsys)
    assert "only for CSV" in run_cli(["explain", str(tmp_path), "--ignore-columns", "x"], capsys)


@needs_operon
def test_categorical_enters_the_formula_as_indicators(tmp_path, capsys):
    """An important categorical is in the formula as 0/1 indicators of its choices but the first;
    the stored formula evaluates at choice names, and its indicator terms are the choices' effects."""
    rng = np.random.default_rng(3)
    n = 60
    X = SYNTHETIC_SPACE.subspace(["x", "y"]).sample(n, rng)
    kernel = rng.choice(["a", "b", "c"], n)
    effect = {"a": 0.0, "b": 0.5, "c": 1.0}
    cost = true_cost(X) + np.array([effect[k] for k in kernel])
    csv = write_csv(tmp_path / "run.csv", X[:, 0], X[:, 1], cost, {"kernel": kernel})
    space = tmp_path / "space.yaml"
    space.write_text(SPACE_YAML + "kernel: {type: categorical, choices: [a, b, c]}\n")
    out = tmp_path / "report"
    result = explain(csv, space_file=space, top_k=3, out_dir=out, progress=False, cv_folds=3, **FAST)
    summary = json.loads((out / "summary.json").read_text())
    symbols = [v["symbol"] for v in summary["variables"]]
    assert "kernel_is_b" in symbols and "kernel_is_c" in symbols and "kernel" not in symbols
    assert any("indicators" in note and "baseline" in note for note in summary["notes"])
    free = {s.name for s in result.chosen.expression.free_symbols}
    assert {"kernel_is_b", "kernel_is_c"} <= free, result.chosen.formula
    at = {"x": [1.0] * 3, "y": [0.5] * 3, "kernel": ["a", "b", "c"]}
    values = evaluate(summary, at)
    assert values[1] - values[0] == pytest.approx(0.5, abs=0.1) and values[2] - values[0] == pytest.approx(1.0, abs=0.1)
    assert summary["chosen"]["heldout"]["r2"] > 0.8
    with pytest.raises(SymexpError, match="not a choice of kernel"):
        evaluate(summary, dict(at, kernel=["a", "d", "c"]))
    space.write_text(SPACE_YAML + "kernel: {type: categorical, choices: [a, c]}\n")
    assert "kernel='b' is not one of ['a', 'c']" in run_cli(["explain", str(csv), "--space", str(space)], capsys)


def test_existing_out_is_refused_before_any_work(tmp_path, good_csv, capsys, monkeypatch):
    import symexp.explain.explanation as explanation

    csv, space = good_csv
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")

    def no_reading(*args, **kwargs):
        raise AssertionError("the run was read before the output folder was checked")

    monkeypatch.setattr(explanation, "read_run", no_reading)
    msg = run_cli(["explain", str(csv), "--space", str(space), "--out", str(out)], capsys)
    assert "exists and is not empty" in msg and "--force" in msg
    assert "is not a folder" in run_cli(["explain", str(csv), "--out", str(out / "mine.txt")], capsys)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_select_on_a_fresh_run_is_refused_before_the_fit(good_csv, capsys, monkeypatch):
    import symexp.explain.explanation as explanation

    csv, space = good_csv
    monkeypatch.setattr(explanation, "explain_run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fitted")))
    msg = run_cli(["explain", str(csv), "--space", str(space), "--select", "40"], capsys)
    assert "--select picks a formula of an existing report" in msg and "symexp explain DIR --select N" in msg


def test_sqlite_that_is_not_optuna_is_left_untouched(tmp_path, capsys):
    import sqlite3

    db = tmp_path / "mine.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE measurements (t REAL, v REAL)")
    con.execute("INSERT INTO measurements VALUES (1.0, 2.0)")
    con.commit()
    con.close()
    before = (hashlib.sha256(db.read_bytes()).hexdigest(), os.stat(db).st_mtime_ns)
    listing = sorted(p.name for p in tmp_path.iterdir())
    for path in (str(db), f"sqlite:///{db}"):
        msg = run_cli(["explain", path, "--out", str(tmp_path / "o")], capsys)
        assert "not an Optuna storage" in msg and "nothing was written" in msg
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), os.stat(db).st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no journal, no report folder
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    assert "is not an SQLite database" in run_cli(["explain", str(text)], capsys)
    assert text.read_text() == "not a database"
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert "is not an SQLite database" in run_cli(["explain", str(empty)], capsys)
    assert empty.stat().st_size == 0


def test_bad_smac_inputs(tmp_path, smac_output, capsys):
    import shutil

    assert "no SMAC3 run" in run_cli(["explain", str(tmp_path)], capsys)
    run = tmp_path / "run"
    shutil.copytree(smac_output / "synthetic" / "0", run)
    rh = json.loads((run / "runhistory.json").read_text())

    (run / "runhistory.json").write_text("{not json")
    assert "cannot read" in run_cli(["explain", str(run)], capsys)
    (run / "runhistory.json").write_text(json.dumps({"stats": {}}))
    assert "not a SMAC3 2.x run history" in run_cli(["explain", str(run)], capsys)
    broken = json.loads(json.dumps(rh))
    broken["data"][0]["config_id"] = 999
    (run / "runhistory.json").write_text(json.dumps(broken))
    assert "inconsistent run files" in run_cli(["explain", str(run)], capsys)
    broken = json.loads(json.dumps(rh))
    broken["configs"]["1"]["lr"] = 0.1
    (run / "runhistory.json").write_text(json.dumps(broken))
    assert "sets lr, which configspace.json does not define" in run_cli(["explain", str(run)], capsys)
    broken = json.loads(json.dumps(rh))
    for entry in broken["data"][5:]:
        entry["status"] = 2  # crashed
    (run / "runhistory.json").write_text(json.dumps(broken))
    msg = run_cli(["explain", str(run)], capsys)
    assert "5 usable evaluation(s)" in msg and "needs at least 10" in msg
    broken = json.loads(json.dumps(rh))
    for entry in broken["data"]:
        entry["cost"] = [entry["cost"], 1.0]
    (run / "runhistory.json").write_text(json.dumps(broken))
    assert "2 objectives; choose one with --objective 0..1" in run_cli(["explain", str(run)], capsys)
    assert read_run(run, objective=0).n == 30 and read_run(run, objective=1).objective == "cost 1"
    (run / "runhistory.json").write_text(json.dumps(rh))
    assert "only for CSV" in run_cli(["explain", str(run), "--direction", "maximize"], capsys)
    (run / "configspace.json").unlink()
    assert "no configspace.json" in run_cli(["explain", str(run)], capsys)


def test_bad_optuna_inputs(tmp_path, optuna_storage, capsys):
    import optuna

    assert "does not exist" in run_cli(["explain", f"sqlite:///{tmp_path / 'none.db'}"], capsys)
    assert "unknown study" in run_cli(["explain", optuna_storage, "--study", "nope"], capsys)
    db_file = optuna_storage[len("sqlite:///"):]
    assert read_run(db_file).n == 80  # a .db path works like its URL
    url = f"sqlite:///{tmp_path / 'multi.db'}"
    for name in ("a", "b"):
        optuna.create_study(study_name=name, storage=url, directions=["minimize", "maximize"])
    assert "has 2 studies; choose one with --study (a, b)" in run_cli(["explain", url], capsys)
    st = optuna.load_study(study_name="a", storage=url)
    for i in range(12):
        t = st.ask()
        st.tell(t, [t.suggest_float("lr", 1e-3, 1.0, log=True), float(i)])
    assert "2 objectives; choose one with --objective" in run_cli(["explain", url, "--study", "a"], capsys)
    run = read_run(url, study="a", objective=1)
    assert run.n == 12 and run.maximize and run.objective == "objective 1"
    assert int(np.argmax(run.y)) == run.best_index()
    assert "--space, --cost-column" in run_cli(["explain", url, "--space", "s.yaml"], capsys)


def test_cli_entry_point_has_no_traceback(tmp_path):
    """The installed command (a fresh process) prints one line and exits 2 on a user error."""
    proc = subprocess.run([sys.executable, "-m", "symexp.cli", "explain", str(tmp_path / "nope.csv")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("symexp: error:") and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_help_says_how_long_and_what_engines_trade(capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    text = capsys.readouterr().out
    assert "how long it takes" in text and "--time-limit" in text
    assert "operon" in text and "gplearn" in text and "log10" in text


def test_safe_names():
    names, changed = safe_names(["classifier:C", "lambda", "exp", "x", "2nd", "E", "C"])
    assert names == ["classifier_C", "lambda_", "exp_", "x", "h_2nd", "E_", "C"]
    assert changed == {"classifier_C": "classifier:C", "lambda_": "lambda", "exp_": "exp", "h_2nd": "2nd", "E_": "E"}


def test_space_inferred_without_space_file(tmp_path):
    rng = np.random.default_rng(4)
    csv = write_csv(tmp_path / "run.csv", rng.uniform(1, 5, 12), rng.integers(1, 9, 12), rng.uniform(size=12),
                    {"opt": rng.choice(["adam", "sgd"], 12)})
    run = read_run(csv)
    assert run.space.names == ["x", "y", "opt"]
    assert run.space["y"].integer and not run.space["x"].integer and run.categorical == ["opt"]
    assert any("inferred from the data" in n for n in run.notes)


def test_multi_fidelity_budget_is_chosen_and_stated(tmp_path, smac_output, capsys):
    """A SMAC3 run with two budgets: the highest by default (stated at the top), --budget B picks
    one, --budget all makes the budget a variable; a wrong budget gets one line and exit 2."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(smac_output / "synthetic" / "0", run)
    rh = json.loads((run / "runhistory.json").read_text())
    low = [dict(e, budget=1.0, cost=e["cost"] + 0.5) for e in rh["data"]]
    rh["data"] = [dict(e, budget=9.0) for e in rh["data"]] + low
    (run / "runhistory.json").write_text(json.dumps(rh))
    top = read_run(run)
    assert top.n == 30 and top.source["budget"].startswith("budget 9: the highest budget (default")
    one = read_run(run, budget="1")
    assert one.n == 30 and np.allclose(np.sort(one.y), np.sort(top.y) + 0.5)
    both = read_run(run, budget="all")
    assert both.n == 60 and both.space.names[-1] == "budget" and not both.space["budget"].log
    assert sorted(set(both.X[:, -1])) == [1.0, 9.0] and "variable of the formula" in both.source["budget"]
    assert "the run's budgets are 1, 9" in run_cli(["explain", str(run), "--budget", "3", "--out",
                                                    str(tmp_path / "o")], capsys)
    assert "number or 'all'" in run_cli(["explain", str(run), "--budget", "most", "--out", str(tmp_path / "o")],
                                        capsys)
    assert "--budget is for multi-fidelity SMAC3 runs" in run_cli(
        ["explain", str(tmp_path / "x.csv"), "--budget", "1", "--out", str(tmp_path / "o")], capsys)
    assert "is for multi-fidelity runs" in run_cli(["explain", str(smac_output), "--budget", "1", "--out",
                                                    str(tmp_path / "o")], capsys)
    assert not (tmp_path / "o").exists()
