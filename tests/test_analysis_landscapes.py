"""Landscape figures (Fig. 3) from a real tiny pipeline run, PD figures (Fig. 6b, 7) from a hand-made
artefact, and build_all's wiring of both."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import build_all, landscapes, pdp_figures
from analysis.cli import run_cli
from analysis.views import load_ok, ViewRef
from analysis.formulas import median_run
from symexp.store import RecordStore

# One worker builds the pipeline fixture once (pytest -n 2 --dist loadfile).
pytestmark = pytest.mark.xdist_group("analysis_landscapes")

N_POINTS_BO_GP = 30
# The smoke preset on the synthetic benchmark with tiny BO and SR budgets (as tests/test_pipeline.py).
OVERRIDES = (
    "model=synthetic", "dataset=synthetic", "n_samples=[8,10]", "sr_seeds=[0,1]", "sr.population_size=60",
    "sr.generations=3", "sr.function_set=[add,sub,mul,div]", "sr.time_limit_s=60", "bo.n_trials=10",
    "bo.snapshot_sizes=[8,10]", "bo.initial_design_per_dim=2", "bo.initial_design_max_ratio=0.5",
    "test_set.points_per_dim=4", "test_set.eval_seeds=[0]", f"bo_gp.n_points={N_POINTS_BO_GP}", "n_jobs=1",
)
EXPERIMENT = ViewRef("smoke", OVERRIDES)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """store + cache of the three modes on the synthetic benchmark (seed 0, n = 8 and 10)."""
    from symexp.app.config import build_view
    from symexp.pipeline import run_cell

    tmp = tmp_path_factory.mktemp("pipe")
    view = build_view(["experiment=smoke", *OVERRIDES, f"paths.store={tmp / 'store'}", f"paths.cache={tmp / 'cache'}"])
    for cell in view.cells:
        report = run_cell(dataclasses.replace(cell.spec, workdir=tmp / "work"), log=lambda _m: None)
        assert not report.failed
    return tmp / "store", tmp / "cache"


def _cell(store: Path) -> pd.DataFrame:
    _, ok = load_ok(store, EXPERIMENT)
    return ok[(ok["model"] == "synthetic") & (ok["dataset"] == "synthetic")]


def _only_file(directory: Path, pattern: str) -> Path:
    files = sorted(directory.glob(pattern))
    assert len(files) == 1, files
    return files[0]


# -- landscapes ------------------------------------------------------------------------------
def test_landscape_figure_files(pipeline, tmp_path, capsys):
    store, cache = pipeline
    out = tmp_path / "out"
    code = landscapes.main(["--store", str(store), "--cache", str(cache), "--out", str(out),
                            "--experiment", "smoke", *OVERRIDES])
    assert code == 0
    text = capsys.readouterr().out
    assert "== landscapes: built" in text and "5 of 5 panels drawn" in text and "missing" not in text
    d = out / "landscapes" / "hpobench"
    for ext in ("png", "pdf"):  # default: smallest seed, largest n
        assert (d / f"landscape_synthetic_synthetic_seed0_n10.{ext}").stat().st_size > 5000
    assert not list(d.glob("*_n8.*"))
    summary = pd.read_csv(d / "landscapes.csv")
    assert summary["panel"].tolist() == list(landscapes.PANELS)
    assert (summary["status"] == "ok").all()
    md = (d / "landscapes.md").read_text()
    assert "testsets/" in md and "/bo/" in md


def test_landscape_panel_data_match_the_cache_and_records(pipeline):
    from symexp.sampling import BORun, bo_training_set, gp_for, gp_labels, random_configurations
    from symexp.symbolic import formula_predict

    store, cache = pipeline
    cell = _cell(store)
    ls = landscapes.landscape_data(cell, cache, "synthetic", "synthetic", "hpobench", 0, 10, resolution=0)
    assert ls.hyperparameters == ["x", "y"] and ls.log == [True, False]
    assert all(p.ok for p in ls.panels.values())

    # (a) ground truth = the test-set cache file
    test = json.loads(_only_file(cache / "testsets", "*.json").read_text())
    np.testing.assert_array_equal(ls.panels["truth"].X, np.asarray(test["X"]))
    np.testing.assert_array_equal(ls.panels["truth"].z, np.asarray(test["y"]))

    # (a) GP = the BO run's snapshot for n, predicted on the grid; its RMSE = the GP-baseline record
    run = BORun.from_json(json.loads(_only_file(cache / "bo", "*/seed0-*.json").read_text()))
    gp = gp_for(run, 10)
    np.testing.assert_allclose(ls.panels["gp"].z, gp.predict(np.asarray(test["X"]))[0], rtol=0, atol=1e-12)
    sub = cell[(cell["n_samples"] == 10) & (cell["sampling_seed"] == 0)]
    gp_rec = sub[sub["method"] == "gp_baseline"].iloc[0]
    assert ls.panels["gp"].rmse == pytest.approx(gp_rec["test_rmse"], rel=1e-9)

    # (b) SR = the median-RMSE record's formula; training points recomputed from seeds
    space = landscapes.search_space("synthetic", "synthetic", "hpobench", ["x", "y"])
    expected_points = {
        "sr_bo": bo_training_set(run, 10)[0],
        "sr_random": random_configurations(space, 10, 0),
        "sr_bo_gp": gp_labels(gp, space, N_POINTS_BO_GP, 0)[0],
    }
    for m in ("sr_bo", "sr_random", "sr_bo_gp"):
        runs = sub[sub["method"] == m]
        assert len(runs) == 2
        rec = median_run(runs)
        assert rec["test_rmse"] == runs["test_rmse"].min()  # lower median of two
        p = ls.panels[m]
        assert p.formula == rec["formula"] and p.rmse == rec["test_rmse"] and p.n_runs == 2
        np.testing.assert_array_equal(p.z, formula_predict(rec["formula"], ["x", "y"], np.asarray(test["X"])))
        np.testing.assert_array_equal(p.points, expected_points[m])
    assert len(ls.panels["sr_bo_gp"].points) == N_POINTS_BO_GP

    # by default the GP and SR panels (functions) are drawn on the fine grid, the truth on its own
    default = landscapes.landscape_data(cell, cache, "synthetic", "synthetic", "hpobench", 0, 10)
    k = landscapes.FINE_GRID
    assert k >= 50 and default.panels["truth"].z.shape == (16,)
    for name in ("gp", "sr_bo", "sr_random", "sr_bo_gp"):
        assert default.panels[name].z.shape == (k * k,), name
    np.testing.assert_allclose(default.panels["sr_bo"].z,
                               formula_predict(default.panels["sr_bo"].formula, ["x", "y"], space.test_grid(k)),
                               atol=1e-12)

    # --resolution: GP and SR panels on another grid, ground truth unchanged
    fine = landscapes.landscape_data(cell, cache, "synthetic", "synthetic", "hpobench", 0, 10, resolution=7)
    assert fine.panels["gp"].z.shape == (49,) and fine.panels["truth"].z.shape == (16,)
    np.testing.assert_allclose(fine.panels["gp"].z, gp.predict(space.test_grid(7))[0], atol=1e-12)
    assert fine.panels["gp"].rmse == pytest.approx(ls.panels["gp"].rmse)


def test_landscape_seed_and_n_options(pipeline, tmp_path):
    store, cache = pipeline
    args = ["--store", str(store), "--cache", str(cache), "--out", str(tmp_path), "--experiment", "smoke", *OVERRIDES]
    ls = landscapes.landscape_data(_cell(store), cache, "synthetic", "synthetic", "hpobench", 0, 8)
    assert ls.stem == "landscape_synthetic_synthetic_seed0_n8" and ls.panels["gp"].label == "GP after 8 BO samples"
    assert len(ls.panels["sr_bo"].points) == 8 and ls.panels["sr_bo"].ok
    rep = landscapes.build(store, tmp_path / "o2", cache, EXPERIMENT, seed=5)
    assert not rep.built and any("no records at sampling seed 5" in m for m in rep.missing)
    rep = landscapes.build(store, tmp_path / "o2", cache, EXPERIMENT, n=9)
    assert not rep.built and any("n=9: no records" in m for m in rep.missing)
    assert landscapes._choices(_cell(store)["n_samples"], "all", None) == [8, 10]
    with pytest.raises(SystemExit) as exc:
        landscapes.main(args + ["--n", "ten"])
    assert exc.value.code == 2


def test_landscape_missing_pieces_are_drawn_as_missing(pipeline, tmp_path):
    """No BO run, no test set, no SR (Random) records: the rest is drawn, the gaps are listed."""
    store, cache = pipeline
    store2, cache2 = tmp_path / "store", tmp_path / "cache"
    shutil.copytree(store, store2)
    shutil.copytree(cache, cache2)
    shutil.rmtree(cache2 / "bo")
    shutil.rmtree(store2 / "synthetic" / "synthetic" / "hpobench" / "sr_random")
    rep = landscapes.build(store2, tmp_path / "out", cache2, EXPERIMENT)
    assert rep.built
    text = "\n".join(rep.missing)
    assert "GP after 10 BO samples: no BO run for seed 0" in text
    assert "SR (Random): no ok SR (Random) record" in text
    assert "SR (BO): missing training points" in text and "SR (BO-GP): missing training points" in text
    ls = landscapes.landscape_data(_cell(store2), cache2, "synthetic", "synthetic", "hpobench", 0, 10)
    assert ls.panels["truth"].ok and ls.panels["sr_bo"].ok and ls.panels["sr_bo_gp"].ok
    assert not ls.panels["gp"].ok and not ls.panels["sr_random"].ok
    assert ls.panels["sr_bo"].points is None

    shutil.rmtree(cache2 / "testsets")
    ls = landscapes.landscape_data(_cell(store2), cache2, "synthetic", "synthetic", "hpobench", 0, 10, resolution=0)
    assert not ls.panels["truth"].ok and ls.panels["sr_bo"].ok and ls.panels["sr_bo"].X.shape == (100, 2)
    assert "no test set in" in ls.panels["truth"].missing
    ls = landscapes.landscape_data(_cell(store2), tmp_path / "no-cache", "synthetic", "synthetic", "hpobench", 0, 10)
    assert [k for k, p in ls.panels.items() if p.ok] == ["sr_bo", "sr_bo_gp"]  # SR panels only


def test_landscape_picks_the_test_set_that_reproduces_the_records(pipeline, tmp_path):
    """Another test grid of the same benchmark in the cache (e.g. another experiment's): not used."""
    store, cache = pipeline
    cache2 = tmp_path / "cache"
    shutil.copytree(cache, cache2)
    real = _only_file(cache2 / "testsets", "*.json")
    data = json.loads(real.read_text())
    space = landscapes.search_space("synthetic", "synthetic", "hpobench", ["x", "y"])
    X = space.test_grid(3)
    fake = dict(data, points_per_dim=3, X=X.tolist(), y=(X[:, 0] + 5.0).tolist(), costs=[[v] for v in X[:, 0] + 5])
    fake_path = real.with_name(real.name.replace("-grid4-", "-grid3-"))
    fake_path.write_text(json.dumps(fake))
    ls = landscapes.landscape_data(_cell(store), cache2, "synthetic", "synthetic", "hpobench", 0, 10)
    assert ls.test.path == real and "test set: the file the records name" in ls.notes
    # records that do not name their files (older ones): the pair that reproduces them is taken
    anonymous = _cell(store).assign(artefacts=None)
    ls = landscapes.landscape_data(anonymous, cache2, "synthetic", "synthetic", "hpobench", 0, 10)
    assert ls.test.path == real
    assert any("took the pair that reproduces the records best" in n for n in ls.notes)


def test_landscape_cli_errors(tmp_path, capsys):
    assert run_cli(landscapes.main, ["--store", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "store").mkdir()
    rep = landscapes.build(tmp_path / "store", tmp_path / "out", tmp_path / "cache")
    assert not rep.built and "no records for experiment 'table1'" in rep.missing[0]


# -- PD figures (Fig. 6b, 7) -----------------------------------------------------------------
PD_FORMULAS = ("x*y + 0.1", "x*y", "0.5")  # RMSE against the PD: smallest, median, largest
PDP_OVERRIDES = ("model=synthetic", "dataset=synthetic", "hyperparameters=[x,y,z]", "n_samples=[20]")


def make_pd_artefact(cache: Path, store: Path, seed: int = 0, n: int = 20, with_records: bool = True) -> Path:
    """A small synthetic PD artefact over the synthetic benchmark's x (log), y, z, plus records."""
    from symexp.sampling.pdp import feature_grid
    from symexp.symbolic import formula_predict

    space = landscapes.search_space("synthetic", "synthetic", "hpobench", ["x", "y", "z"])
    top = ["x", "y"]
    grid = feature_grid(space, top, 6)
    pd_values = grid[:, 0] * grid[:, 1] + 0.1 + 0.01 * np.sin(5 * grid[:, 1])
    rng = np.random.default_rng(1)
    train_X = space.subspace(top).sample(25, rng)
    train_y = train_X[:, 0] * train_X[:, 1] + 0.1
    art = {
        "benchmark": "synthetic/synthetic/hpobench/0123456789", "model": "synthetic", "dataset": "synthetic",
        "protocol": "hpobench", "sampling_seed": seed, "n_samples": n, "hyperparameters": ["x", "y", "z"],
        "importances": {"x": 0.55, "y": 0.35, "z": 0.02}, "top": top, "grid": grid.tolist(),
        "pd": pd_values.tolist(), "train_X": train_X.tolist(), "train_y": train_y.tolist(),
    }
    path = cache / "pdp" / "synthetic_synthetic_hpobench_0123456789" / f"seed{seed}-n{n}-abc.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(art))
    if with_records:
        from symexp.app.config import build_view

        rs = RecordStore(store)
        keys = build_view(["experiment=pdp", *PDP_OVERRIDES, f"sampling_seed={seed}", f"n_samples=[{n}]"]).keys
        for key, formula in zip(sorted(keys, key=lambda k: k.sr_seed), PD_FORMULAS):
            pred = formula_predict(formula, top, grid)
            rmse = float(np.sqrt(np.mean((pred - pd_values) ** 2)))
            rs.write(key, {"status": "ok", "test_rmse": rmse, "formula": formula, "complexity": 3, "hyperparameters": top,
                           "mode": "bo_gp", "n_train_points": 25})
    return path


def test_pdp_figures(tmp_path, capsys):
    from symexp.symbolic import formula_predict

    store, cache, out = tmp_path / "store", tmp_path / "cache", tmp_path / "out"
    art_path = make_pd_artefact(cache, store)
    code = pdp_figures.main(["--store", str(store), "--cache", str(cache), "--out", str(out), *PDP_OVERRIDES])
    assert code == 0
    assert "== pdp_figures: built" in capsys.readouterr().out
    d = out / "pdp_figures" / "hpobench"
    for base in ("importance_synthetic_synthetic_seed0_n20", "pdp_synthetic_synthetic_seed0_n20"):
        for ext in ("png", "pdf"):
            assert (d / f"{base}.{ext}").stat().st_size > 3000, base
    md = (d / "pdp_figures.md").read_text()
    assert str(art_path) in md and "55.0%" in md
    assert f"`{PD_FORMULAS[1]}`" in md and f"`{PD_FORMULAS[0]}`" not in md

    art = pdp_figures.read_artefact(art_path)
    _, ok = load_ok(store, ViewRef("pdp", PDP_OVERRIDES))
    fd = pdp_figures.pdp_data(art, pdp_figures.matching_records(ok, art, 1e-4))
    assert fd.n_runs == 3 and fd.record["formula"] == PD_FORMULAS[1]  # the median of three RMSEs
    assert fd.log == [True, False]
    np.testing.assert_array_equal(fd.sr_values, formula_predict(PD_FORMULAS[1], ["x", "y"], art.grid))
    assert fd.rmse_recomputed == pytest.approx(fd.record["test_rmse"], rel=1e-12)


def test_pdp_figures_missing_inputs(tmp_path, capsys):
    store, cache = tmp_path / "store", tmp_path / "cache"
    store.mkdir()
    rep = pdp_figures.build(store, tmp_path / "out", cache)
    assert not rep.built and "no PD artefacts in" in rep.missing[0]
    assert pdp_figures.main(["--store", str(store), "--cache", str(cache), "--out", str(tmp_path / "o")]) == 0
    assert "nothing built" in capsys.readouterr().out


# -- build_all ---------------------------------------------------------------------------------
def test_build_all_experiment_mode(pipeline, tmp_path, capsys):
    store, cache = pipeline
    out = tmp_path / "out"
    code = build_all.main(["--store", str(store), "--cache", str(cache), "--out", str(out),
                           "--experiment", "smoke", "--no-trees",
                           "--only", "table1,formulas,landscapes,parsimony,pdp_figures", *OVERRIDES])
    assert code == 0
    text = capsys.readouterr().out
    root = out / "experiments" / EXPERIMENT
    for name in ("table1", "formulas", "landscapes"):
        assert f"== {name}: built" in text, name
    assert "not applicable: needs experiment pdp" in text
    assert "no published row among this view's (model, dataset) pairs" in text  # smoke: nothing to compare
    assert f"experiment {EXPERIMENT} (n = 10, parsimony 0.0001): not the paper's setting" in text
    assert (root / "landscapes" / "hpobench" / "landscape_synthetic_synthetic_seed0_n10.png").is_file()
    assert "n=10" in (root / "table1" / "hpobench" / "table1.md").read_text()
    assert len(pd.read_csv(root / "formulas" / "hpobench" / "formulas.csv")) == 3
    assert "not the paper's setting" in (root / "README.md").read_text()
    assert (root / "build_report.md").is_file()
    # the final lines name each output directory
    tail = text.split("Outputs (one line per directory):")[1]
    assert str((root / "landscapes" / "hpobench").resolve()) in tail
    assert str((root / "table1" / "hpobench").resolve()) in tail
    assert "not applicable: experiment smoke has one parsimony value" in text
    setting = build_all.experiment_setting(store, EXPERIMENT)
    assert (setting.n_samples, setting.all_n, setting.parsimony) == (10, [8, 10], 1e-4)


def test_build_all_paper_mode_pdp_figures(tmp_path, capsys):
    """build_all runs pdp_figures on the cache's artefacts; an artefact without records and a broken file
    are drawn / listed, not fatal."""
    store, cache, out = tmp_path / "store", tmp_path / "cache", tmp_path / "out"
    store.mkdir()
    make_pd_artefact(cache, store, with_records=False)
    (cache / "pdp" / "synthetic_synthetic_hpobench_0123456789" / "seed1-n20-bad.json").write_text("{not json")
    code = build_all.main(["--store", str(store), "--cache", str(cache), "--out", str(out),
                           "--only", "landscapes,pdp_figures"])
    assert code == 0
    text = capsys.readouterr().out
    assert "== landscapes: nothing built" in text and "== pdp_figures: built" in text
    assert "no ok sr_bo_gp record with a formula over x, y" in text and "unreadable PD artefact" in text
    d = out / "pdp_figures" / "hpobench"
    for base in ("importance_synthetic_synthetic_seed0_n20", "pdp_synthetic_synthetic_seed0_n20"):
        assert (d / f"{base}.png").is_file() and (d / f"{base}.pdf").is_file()
    assert str(d.resolve()) in text.split("Outputs (one line per directory):")[1]
    assert run_cli(build_all.main, ["--store", str(store), "--experiment", "nosuch"]) == 2
