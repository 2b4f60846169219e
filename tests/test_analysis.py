"""The analysis commands on small synthetic record stores (tables, figures, reports, CLI errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import build_all, formulas, parsimony, sample_size, table1
from analysis.cli import run_cli
from symexp.store import RecordStore

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"lr": ["alpha", "eta0"], "nn": ["alpha", "batch_size"]}
DATASETS = ["blood_transfusion", "kc1"]
SEEDS = [0, 3, 6, 9, 12]
SR_SEEDS = [0, 3, 6]
METHODS = ["sr_bo", "sr_random", "sr_bo_gp", "gp_baseline", "linear_regression"]
MISSING_CELL = ("nn", "kc1", "linear_regression")
FORMULA = {"lr": "0.05*log(alpha + 1) + eta0/(eta0 + 2)", "nn": "0.078*exp((alpha/batch_size)**0.25)"}


def _fields(hps, rmse, **extra):
    f = {"status": "ok", "test_rmse": float(rmse), "train_rmse": float(rmse) / 2, "hyperparameters": hps,
         "n_train_points": 140, "timings": {"fit": {"wall_s": 1.0, "cpu_s": 1.0}}, "versions": {"numpy": "2"}}
    f.update(extra)
    return f


def view_keys(experiment: str, *overrides: str):
    """The record keys of a preset's view (the records the analysis of that preset reads)."""
    from symexp.app.config import build_view

    return sorted(build_view([f"experiment={experiment}", *overrides]).keys,
                  key=lambda k: (k.model, k.dataset, k.method, k.n_samples, k.sampling_seed, -1 if k.sr_seed is None else k.sr_seed,
                                 k.parsimony or 0))


def _sr_extra(key, rng, model):
    if key.sr_seed is None:
        return {}
    return {"complexity": int(rng.integers(1, 12)), "formula": FORMULA[model], "mode": key.method[3:]}


FAILED = ("lr", "kc1", "sr_bo")  # one run of this cell failed
TIMED_OUT = ("lr", "kc1", "sr_random")  # one run of this cell hit the SR time limit


def make_table1_store(root: Path) -> dict:
    """2 models x 2 datasets x 5 methods of the table1 view; returns {(model, dataset, method): [rmse values]}."""
    store, rng, values = RecordStore(root), np.random.default_rng(42), {}
    planted_failed = planted_late = False
    for key in view_keys("table1", "model=lr,nn", "dataset=blood_transfusion,kc1"):
        cell = (key.model, key.dataset, key.method)
        if cell == MISSING_CELL:
            continue
        hps = list(MODELS[key.model])
        if cell == FAILED and not planted_failed:
            store.write(key, {"status": "failed", "error": "boom", "hyperparameters": hps})
            planted_failed = True
            continue
        if cell == TIMED_OUT and not planted_late:  # a fit stopped by the time limit: left out, counted
            store.write(key, _fields(hps, 9.0, sr_timed_out=True, **_sr_extra(key, rng, key.model)))
            planted_late = True
            continue
        # two planted cells for the comparison: one inside, one outside the paper's range
        v = {("lr", "blood_transfusion", "sr_random"): 0.011,
             ("lr", "blood_transfusion", "gp_baseline"): 0.040}.get(cell, None)
        v = rng.uniform(0.005, 0.05) if v is None else v
        store.write(key, _fields(hps, v, **_sr_extra(key, rng, key.model)))
        values.setdefault(cell, []).append(v)
    # a record of another view (n = 60): the table1 view does not hold it
    other = next(k for k in view_keys("sample_size", "model=lr", "dataset=kc1", "mode=bo", "sampling_seed=0")
                 if k.n_samples == 60)
    store.write(other, _fields(list(MODELS["lr"]), 9.0, **_sr_extra(other, rng, "lr")))
    return values


SAMPLE_SIZE_NS = (20, 60, 100)


def make_other_stores(root: Path) -> None:
    store, rng = RecordStore(root), np.random.default_rng(7)
    for key in view_keys("sample_size", "model=lr,nn", "dataset=blood_transfusion,kc1"):
        if (key.method == "linear_regression" or key.n_samples not in SAMPLE_SIZE_NS or key.sampling_seed not in SEEDS[:3]
                or key.sr_seed not in (None, *SR_SEEDS[:2])
                or (key.model, key.dataset, key.method, key.n_samples) == ("nn", "kc1", "sr_bo", 100)):
            continue
        store.write(key, _fields(list(MODELS[key.model]), rng.gamma(2, 0.01) * (1 + 20 / key.n_samples),
                                 **_sr_extra(key, rng, key.model)))
    # parsimony sweep: complexity grows and RMSE flattens as parsimony drops
    sweep = {0.075: (1, 0.05), 0.01: (2, 0.045), 0.001: (5, 0.03), 0.0001: (8, 0.029)}
    for key in view_keys("parsimony", "model=lr", "dataset=australian"):
        if key.parsimony in sweep and key.sampling_seed in SEEDS[:2] and key.sr_seed in SR_SEEDS[:2]:
            ops, rmse = sweep[key.parsimony]
            store.write(key, _fields(list(MODELS["lr"]), rmse, complexity=ops, formula="alpha", mode="bo_gp"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    values = make_table1_store(root)
    make_other_stores(root)
    return root, values


@pytest.fixture(scope="module")
def table1_out(store, tmp_path_factory):
    root, values = store
    out = tmp_path_factory.mktemp("out")
    assert table1.main(["--store", str(root), "--out", str(out)]) == 0
    return out / "table1" / "hpobench", values


# -- Table 1 -------------------------------------------------------------------------------
def test_table1_files_and_shape(table1_out):
    d, _ = table1_out
    for name in ["table1.csv", "table1.md", "table1.tex", "comparison.csv", "comparison.md"]:
        assert (d / name).is_file() and (d / name).stat().st_size > 0, name
    t = pd.read_csv(d / "table1.csv")
    assert len(t) == len(MODELS) * len(DATASETS) + 1
    assert t["model"].tolist() == ["Logistic Regression"] * 2 + ["Neural Network"] * 2 + ["Average"]
    assert t["dataset"].tolist()[:4] == ["blood-transfusion", "kc1"] * 2
    for m in METHODS:
        assert {f"{m}_mean", f"{m}_std", f"{m}_n"} <= set(t.columns)
    md = (d / "table1.md").read_text()
    assert md.count("\n| ") == 7  # header, separator, 4 model x dataset rows, Average
    tex = (d / "table1.tex").read_text()
    assert r"\begin{tabular}" in tex and tex.count(r"\\") >= 6


def test_table1_statistics_match_numpy(table1_out):
    d, values = table1_out
    t = pd.read_csv(d / "table1.csv").set_index(["model_key", "dataset_key"])
    row_means = []
    for model in MODELS:
        for ds in DATASETS:
            row = t.loc[(model, ds)]
            for m in METHODS:
                vals = values.get((model, ds, m))
                if vals is None:
                    assert np.isnan(row[f"{m}_mean"]) and row[f"{m}_n"] == 0
                    continue
                assert row[f"{m}_n"] == len(vals) == (15 if m.startswith("sr_") else 5) - ((model, ds, m) in (FAILED, TIMED_OUT))
                assert row[f"{m}_mean"] == pytest.approx(np.mean(vals), rel=1e-12)
                assert row[f"{m}_std"] == pytest.approx(np.std(vals, ddof=1), rel=1e-9, abs=1e-15)
            row_means.append({m: np.mean(values[(model, ds, m)]) for m in METHODS if (model, ds, m) in values})
    avg = pd.read_csv(d / "table1.csv").iloc[-1]
    for m in METHODS:
        want = np.mean([r[m] for r in row_means if m in r])
        assert avg[f"{m}_mean"] == pytest.approx(want, rel=1e-12)


def test_table1_best_and_second_best(table1_out):
    d, values = table1_out
    t = pd.read_csv(d / "table1.csv", keep_default_na=False)
    md_rows = [line for line in (d / "table1.md").read_text().splitlines() if line.startswith("| ")][2:]
    tex = (d / "table1.tex").read_text()
    for i, (model, ds) in enumerate([(m, ds) for m in MODELS for ds in DATASETS]):
        means = {m: np.mean(values[(model, ds, m)]) for m in ["sr_bo", "sr_random", "sr_bo_gp"]}
        ranked = sorted(means, key=means.get)
        assert t.loc[i, "best"] == ranked[0]
        assert t.loc[i, "second_best"] == ranked[1]
        cells = [c.strip() for c in md_rows[i].strip("|").split("|")]
        sr_cells = dict(zip(["sr_bo", "sr_random", "sr_bo_gp"], cells[3:6]))
        assert sr_cells[ranked[0]].startswith(f"**{means[ranked[0]]:.3f}**")
        assert sr_cells[ranked[1]].startswith(f"_{means[ranked[1]]:.3f}_")
        assert not sr_cells[ranked[2]].startswith(("*", "_"))
        assert rf"\textbf{{{means[ranked[0]]:.3f}}}" in tex
        assert rf"\underline{{{means[ranked[1]]:.3f}}}" in tex
    # baselines are never marked
    assert "**" not in "".join(line.split("|")[7] for line in md_rows[:4])


def test_timed_out_fits_are_left_out_and_counted(table1_out, store, tmp_path):
    d, values = table1_out
    t = pd.read_csv(d / "table1.csv").set_index(["model_key", "dataset_key"])
    assert t.loc[("lr", "kc1"), "sr_random_timed_out"] == 1 and t.loc[("lr", "kc1"), "sr_bo_timed_out"] == 0
    assert t.loc[("lr", "kc1"), "sr_random_mean"] == pytest.approx(np.mean(values[TIMED_OUT]))  # 9.0 left out
    assert "(1⏱)" in (d / "table1.md").read_text()
    root, _ = store
    assert table1.main(["--store", str(root), "--out", str(tmp_path), "--include-timed-out"]) == 0
    t2 = pd.read_csv(tmp_path / "table1" / "hpobench" / "table1.csv").set_index(["model_key", "dataset_key"])
    assert t2.loc[("lr", "kc1"), "sr_random_n"] == 15
    assert t2.loc[("lr", "kc1"), "sr_random_mean"] == pytest.approx(np.mean([*values[TIMED_OUT], 9.0]))


def test_a_damaged_or_malicious_record_never_crashes_or_runs(store, tmp_path, monkeypatch):
    """A record from someone else's store whose formula is code: the analysis reads it as data."""
    import shutil

    root, _ = store
    mine = tmp_path / "store"
    shutil.copytree(root, mine)
    path = next(p for p in RecordStore(mine).iter_paths() if "/nn/kc1/" in str(p) and "/sr_bo/" in str(p))
    rec = json.loads(path.read_text())
    rec["formula"] = "__import__('os').system('touch pwned') + alpha"
    path.write_text(json.dumps(rec))
    victim = next(p for p in RecordStore(mine).iter_paths() if "/lr/blood_transfusion/" in str(p))
    victim.write_text(victim.read_text()[:40])  # truncated
    monkeypatch.chdir(tmp_path)
    assert formulas.main(["--store", str(mine), "--out", str(tmp_path / "out"), "--method", "all"]) == 0
    assert table1.main(["--store", str(mine), "--out", str(tmp_path / "out")]) == 0
    assert not (tmp_path / "pwned").exists()


def test_mark_best_ties_like_the_authors():
    assert table1.mark_best({"sr_bo": 0.2, "sr_random": 0.1, "sr_bo_gp": 0.3}) == (["sr_random"], ["sr_bo"])
    assert table1.mark_best({"sr_bo": 0.1, "sr_random": 0.1, "sr_bo_gp": 0.3}) == (["sr_bo", "sr_random"], [])
    assert table1.mark_best({"sr_bo": np.nan, "sr_random": 0.1, "gp_baseline": 0.0}) == (["sr_random"], [])
    assert table1.mark_best({}) == ([], [])


def test_table1_comparison_counts(table1_out):
    d, values = table1_out
    cmp = pd.read_csv(d / "comparison.csv")
    assert len(cmp) == 200
    pub = pd.read_csv(ROOT / "results" / "reference" / "table1_published.csv")
    names = {"lr": "Logistic Regression", "nn": "Neural Network"}
    dnames = {"blood_transfusion": "blood-transfusion", "kc1": "kc1"}
    agree = 0
    for (model, ds, m), vals in values.items():
        p = pub[(pub["model"] == names[model]) & (pub["dataset"] == dnames[ds])].iloc[0]
        if abs(round(np.mean(vals), 3) - p[f"{m}_mean"]) <= p[f"{m}_std"] + 1e-9:
            agree += 1
    n_present = len(values)
    assert n_present == 19
    assert (cmp["status"] == "agree").sum() == agree
    assert (cmp["status"] == "differs").sum() == n_present - agree
    assert (cmp["status"] == "missing").sum() == 200 - n_present
    planted = cmp.set_index(["model", "dataset", "method"])
    assert planted.loc[("Logistic Regression", "blood-transfusion", "sr_random"), "status"] == "agree"
    assert planted.loc[("Logistic Regression", "blood-transfusion", "gp_baseline"), "status"] == "differs"
    assert planted.loc[("Logistic Regression", "blood-transfusion", "gp_baseline"), "difference"] == pytest.approx(0.021)
    md = (d / "comparison.md").read_text()
    assert f"Cells that agree: {agree} of 200" in md
    assert "over the 3 row(s) complete in all five columns" in md
    assert "Neural Network / kc1 / Linear Regression" in md  # the missing cell is listed
    assert "Paper's ordering holds:" in md


def test_table1_on_a_sub_grid_compares_only_its_rows(store, tmp_path):
    """A view restricted by overrides (the paper subset) is compared on its own rows: the rows it
    never meant to run are not "missing", and the ordering is also judged on the same rows."""
    root, values = store
    assert table1.main(["--store", str(root), "--out", str(tmp_path), "model=lr,nn", "dataset=blood_transfusion,kc1"]) == 0
    d = tmp_path / "table1" / "hpobench"
    cmp = pd.read_csv(d / "comparison.csv")
    assert len(cmp) == 4 * 5
    assert set(zip(cmp["model"], cmp["dataset"])) == {
        (m, ds) for m in ("Logistic Regression", "Neural Network") for ds in ("blood-transfusion", "kc1")}
    assert (cmp["status"] == "missing").sum() == 20 - len(values)
    md = (d / "comparison.md").read_text()
    assert "of 20**" in md and "Published ordering over the same 3 row(s):" in md


def test_ordering_summary_detects_the_papers_order():
    pub = table1.load_published()
    # reproduce the published means exactly: the ordering must hold and every cell agree
    rows = [{"protocol": "p", "model": r["model_key"], "dataset": r["dataset_key"], "method": m,
             "mean": r[f"{m}_mean"], "std": r[f"{m}_std"], "n": 15} for _, r in pub.iterrows() for m in METHODS]
    cmp = table1.compare(pd.DataFrame(rows), pub)
    assert (cmp["status"] == "agree").all()
    order = table1.ordering_summary(cmp)
    assert order["n_complete_rows"] == 40 and order["holds"] is True
    assert order["published_order"] == ["gp_baseline", "sr_bo_gp", "sr_random", "sr_bo", "linear_regression"]
    # swap two columns: the ordering no longer holds
    swapped = [dict(r, mean=r["mean"] * (10 if r["method"] == "gp_baseline" else 1)) for r in rows]
    assert table1.ordering_summary(table1.compare(pd.DataFrame(swapped), pub))["holds"] is False


def test_table1_no_matching_records_is_reported_not_raised(store, tmp_path):
    root, _ = store
    rep = table1.build(root, tmp_path, n_samples=12345)
    assert not rep.built and "all 200 cells missing" in rep.missing[0]


# -- figures -------------------------------------------------------------------------------
def test_sample_size(store, tmp_path):
    root, _ = store
    assert sample_size.main(["--store", str(root), "--out", str(tmp_path)]) == 0
    d = tmp_path / "sample_size" / "hpobench"
    for model in MODELS:
        for ext in ("png", "pdf"):
            assert (d / f"sample_size_{model}.{ext}").stat().st_size > 1000
    s = pd.read_csv(d / "sample_size_summary.csv")
    own = s[s["n_samples"].isin(SAMPLE_SIZE_NS)]
    assert len(own) == len(MODELS) * len(DATASETS) * 4 * 3 - 1
    assert set(own["n_runs"]) == {6, 3}
    assert "Neural Network / kc1 / SR (BO): n = 100" in (d / "missing.md").read_text()
    # n = 140 is Table 1's: the same records, shared through the views, not computed again
    shared = s[s["n_samples"] == 140]
    assert len(shared) == len(MODELS) * len(DATASETS) * 4 and set(shared["n_runs"]) == {15, 14, 5}


def test_parsimony_and_elbow(store, tmp_path):
    root, _ = store
    assert parsimony.main(["--store", str(root), "--out", str(tmp_path)]) == 0
    d = tmp_path / "parsimony" / "hpobench"
    for base in ("parsimony_sr_bo_gp_complexity_rmse", "parsimony_sr_bo_gp_vs_parsimony"):
        for ext in ("png", "pdf"):
            assert (d / f"{base}.{ext}").stat().st_size > 1000
    s = pd.read_csv(d / "parsimony_summary.csv")
    assert len(s) == 4 and s["n_runs"].tolist() == [4] * 4
    # 0.075 -> 0.01: +1 op (continue); 0.01 -> 0.001: +3 ops, -33 % (continue);
    # 0.001 -> 0.0001: +3 ops, -3.3 % (stop): elbow at 0.001
    assert s.loc[s["elbow"], "parsimony"].tolist() == [0.001]
    assert "| 0.001 |" in (d / "elbow.md").read_text()


def test_formulas_table_and_trees(store, tmp_path):
    root, values = store
    assert formulas.main(["--store", str(root), "--out", str(tmp_path), "--method", "all"]) == 0
    d = tmp_path / "formulas" / "hpobench"
    t = pd.read_csv(d / "formulas.csv")
    assert len(t) == len(MODELS) * len(DATASETS) * 3
    for ext in ("csv", "md", "tex"):
        assert (d / f"formulas.{ext}").is_file()
    # median-RMSE run: the 8th of 15 sorted values
    r = t[(t["model"] == "Neural Network") & (t["dataset"] == "kc1") & (t["method"] == "sr_bo")].iloc[0]
    assert r["test_rmse"] == pytest.approx(np.sort(values[("nn", "kc1", "sr_bo")])[7])
    assert r["n_runs"] == 15 and r["formula"] == FORMULA["nn"]
    assert len(list((d / "trees").glob("*.png"))) == 12 and len(list((d / "trees").glob("*.pdf"))) == 12
    assert (tmp_path / "formulas" / "figure1_example.png").is_file()
    assert (tmp_path / "formulas" / "figure1_example.pdf").is_file()


def test_expression_tree_operations():
    """Appendix B: 0.078 * exp((alpha / batch_size) ** (1/4)) has 4 operations."""
    e = formulas.parse_formula(formulas.FIGURE1_FORMULA, formulas.FIGURE1_HPS)
    assert formulas.count_ops(e) == 4
    tree = formulas.expr_to_tree(e)
    assert formulas.n_operations(tree) == 4
    assert [tree.label, tree.children[1].label, tree.children[1].children[0].label] == ["×", "exp", "^"]
    n_leaves, depth = formulas.layout(tree)
    assert (n_leaves, depth) == (4, 4)
    # hyperparameter names that are SymPy functions elsewhere stay plain symbols
    g = formulas.parse_formula("gamma*C - 1/eta", ["gamma", "C", "eta"])
    assert {str(s) for s in g.free_symbols} == {"gamma", "C", "eta"}
    assert formulas.expr_to_tree(g).label == "−"


# -- build_all and CLI errors ----------------------------------------------------------------
def test_build_all_on_empty_store(tmp_path):
    empty = tmp_path / "store"
    empty.mkdir()
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "analysis.build_all", "--store", str(empty), "--out", str(out),
                           "--cache", str(tmp_path / "cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("table1", "sample_size", "parsimony", "formulas", "landscapes", "pdp_formulas", "pdp_figures"):
        assert f"== {name}: nothing built" in proc.stdout
    assert "no records for experiment 'table1'" in proc.stdout
    assert "Not built: table1, sample_size, parsimony, formulas, landscapes, pdp_formulas, pdp_figures" in proc.stdout
    assert (out / "build_report.md").is_file()


def test_build_all_populated_subset(store, tmp_path, capsys):
    root, _ = store
    code = build_all.main(["--store", str(root), "--out", str(tmp_path), "--only", "table1,parsimony"])
    assert code == 0
    text = capsys.readouterr().out
    assert "== table1: built" in text and "== parsimony: built" in text
    assert (tmp_path / "table1" / "hpobench" / "table1.csv").is_file()


@pytest.mark.parametrize("module", [table1, sample_size, parsimony, formulas, build_all])
def test_missing_store_is_one_line_exit_2(module, tmp_path, capsys):
    code = run_cli(module.main, ["--store", str(tmp_path / "nope"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_unknown_experiment_and_bad_option(store, tmp_path, capsys):
    root, _ = store
    assert run_cli(table1.main, ["--store", str(root), "--experiment", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown experiment 'nosuch'" in err and "table1" in err
    with pytest.raises(SystemExit) as exc:
        table1.main(["--store", str(root), "--bogus"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
