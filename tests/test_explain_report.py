"""The report of ``symexp explain``: figure labels, legends and names, and redrawing a report for
another front member without refitting (``symexp explain OUT --select N``).

One small explanation (module fixture, a few seconds) of a maximised CSV run whose
hyperparameters have names that are not formula symbols (``classifier:C``, ``lambda``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from symexp.cli import main
from symexp.explain import explain
from symexp.explain.report import front_figure, importance_figure, landscape_figure, pd_figure
from symexp.symbolic import operon_status

pytestmark = [pytest.mark.xdist_group("explain_report"),
              pytest.mark.skipif(operon_status() is not None, reason=str(operon_status()))]

FAST = dict(population_size=300, generations=10, local_iterations=5, sr_seeds=(0,), n_samples=200,
            check_points=900, n_background=50, cv_folds=3)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report folder: accuracy (maximised) of 'classifier:C' (log) and 'lambda', plus 'noise'."""
    tmp = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(0)
    n = 40
    C, lam, noise = 10 ** rng.uniform(-2, 2, n), rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    acc = 0.9 - 0.05 * (np.log10(C) - 0.5) ** 2 - 0.1 * lam
    pd.DataFrame({"classifier:C": C, "lambda": lam, "noise": noise, "accuracy": acc}).to_csv(tmp / "run.csv",
                                                                                             index=False)
    (tmp / "space.yaml").write_text("classifier:C: {type: float, lower: 0.01, upper: 100, log: true}\n"
                                    "lambda: {type: float, lower: 0, upper: 1}\n"
                                    "noise: {type: float, lower: 0, upper: 1}\n")
    out = tmp / "out"
    explain(tmp / "run.csv", space_file=tmp / "space.yaml", cost_column="accuracy", direction="maximize",
            out_dir=out, progress=False, **FAST)
    return out


def load(out: Path) -> tuple[dict, dict]:
    return json.loads((out / "summary.json").read_text()), json.loads((out / "landscape.json").read_text())


def all_labels(fig) -> list[str]:
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    return out


def test_landscape_labels_use_original_names_and_direction(report):
    summary, data = load(report)
    assert summary["explained"] == ["classifier_C", "lambda_"]  # formula symbols
    fig = landscape_figure(summary, data)
    labels = all_labels(fig)
    assert "classifier:C (log scale)" in labels and "lambda" in labels
    assert not any("classifier_C" in t or "lambda_" in t for t in labels)
    ylabels = [ax.get_ylabel() for ax in fig.axes]
    assert ylabels.count("accuracy (higher is better)") == 2  # colour bars of surrogate and formula
    assert "formula - surrogate (accuracy)" in ylabels
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["evaluated configurations"]


def test_one_dimensional_landscape(report, tmp_path):
    summary, _ = load(report)
    result = explain(report.parent / "run.csv", space_file=report.parent / "space.yaml", cost_column="accuracy",
                     direction="maximize", hyperparameters=["lambda"], out_dir=tmp_path / "one", progress=False,
                     **FAST)
    s1, d1 = load(tmp_path / "one")
    assert result.explained == ["lambda_"] and len(d1["pair"]) == 1
    fig = landscape_figure(s1, d1)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "lambda" and ax.get_ylabel() == "accuracy (higher is better)"
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"formula", "evaluated configurations (observed)"}


def test_three_explained_landscape_averages_the_third(report, tmp_path):
    """With three explained hyperparameters the landscape shows the top two; the formula's third
    variable is averaged over the stored background, like the surrogate's others. Raw units on
    request: the log-scaled classifier:C enters as itself."""
    from symexp.explain.formula import predict
    from symexp.explain.report import expression_of, formula_on_landscape

    explain(report.parent / "run.csv", space_file=report.parent / "space.yaml", cost_column="accuracy",
            direction="maximize", top_k=3, units="raw", out_dir=tmp_path / "three", progress=False, **FAST)
    summary, data = load(tmp_path / "three")
    assert summary["units"] == "raw" and all(v["enters_as"] == v["symbol"] for v in summary["variables"])
    assert not any("log10" in c["formula"] for c in summary["candidates"])
    assert len(summary["explained"]) == 3 and data["pair"] == summary["explained"][:2]
    third = summary["explained"][2]
    assert data["background"]["names"] == [third] and len(data["background"]["values"]) == 100
    expr = expression_of(summary, summary["chosen"])
    values = formula_on_landscape(summary, data, expr)
    a, b = data["axes"][0][7], data["axes"][1][11]
    bg = np.asarray(data["background"]["values"])[:, 0]
    X = np.column_stack([np.full(len(bg), a), np.full(len(bg), b), bg])
    assert values[7 * len(data["axes"][1]) + 11] == pytest.approx(float(np.mean(predict(expr, summary["explained"], X))))
    assert len(landscape_figure(summary, data).axes) == 6  # three panels and their colour bars


def test_importance_plot_has_a_legend_and_original_names(report):
    summary, _ = load(report)
    fig = importance_figure(summary)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["in the formula", "integrated out"]
    assert {t.get_text() for t in ax.get_yticklabels()} == {"classifier:C", "lambda", "noise"}
    assert "fANOVA" in ax.get_xlabel()


def test_front_plot_labels(report):
    summary, _ = load(report)
    ax = front_figure(summary).axes[0]
    assert ax.get_xlabel() == "complexity (operations)" and ax.get_ylabel() == "RMSE (accuracy)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "default choice (knee rule)" in legend and "held-out RMSE vs evaluations" in legend
    assert "Pareto front (RMSE vs surrogate, in-sample)" in legend


def test_report_page_states_units_functions_and_symbols(report):
    summary, _ = load(report)
    page = (report / "report.md").read_text()
    assert ("| log10_classifier_C | classifier:C | float, log-scaled in [0.01, 100] | "
            "log10_classifier_C = log10(classifier_C), from -2 to 2 |") in page
    assert "`log10_classifier_C` = log10(classifier:C)" in page and "symexp.explain.evaluate" in page
    assert "log10" not in summary["functions"]  # the log10 is in the variable, never a function of the formula
    assert "maximises accuracy" in page.split("## Formula")[0]


def test_reselect_redraws_without_refitting(report, tmp_path, capsys, monkeypatch):
    import shutil

    import symexp.explain.explanation as explanation
    import symexp.explain.surrogate as surrogate

    out = tmp_path / "copy"
    shutil.copytree(report, out)
    before, _ = load(out)
    assert len(before["front"]) >= 2
    target = 0 if before["rule"] != 0 else 1

    def refit(*args, **kwargs):
        raise AssertionError("refitted")

    monkeypatch.setattr(surrogate.GPSurrogate, "fit", refit)
    monkeypatch.setattr(explanation, "search", refit)
    assert main(["explain", str(out), "--select", str(target), "--format", "html"]) == 0
    text = capsys.readouterr().out
    assert "--select, front position" in text
    after, _ = load(out)
    assert after["chosen"]["position"] == target and after["chosen"]["selected_by"] == "user"
    assert after["chosen"]["formula"] == before["front"][target]["formula"]
    assert after["front"] == before["front"] and after["rule"] == before["rule"]
    # --select rewrites both pages (neither is deleted), and the plots
    for page in ("report.html", "report.md"):
        assert before["front"][target]["formula"].split("*")[0] in (out / page).read_text(), page
    assert f"Front position {target} of" in (out / "report.md").read_text()
    # out of range: one line, exit 2, nothing changed
    rc = main(["explain", str(out), "--select", str(len(before["front"]))])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == (f"symexp: error: --select {len(before['front'])} is not a front position; the front has "
                               f"{len(before['front'])} formulas: 0..{len(before['front']) - 1}")
    assert load(out)[0] == after
    rc = main(["explain", str(out), "--select", "0", "--engine", "gplearn"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "is a report folder: only --select, --format, --json and --quiet apply" in err
    assert "--engine" in err and load(out)[0] == after
    # back to the default choice
    assert main(["explain", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["chosen"]["position"] == before["rule"] and again["chosen"]["selected_by"] == "rule"


def test_force_overwrites_a_report(report, tmp_path, capsys):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(report, out)
    rc = main(["explain", str(report.parent / "run.csv"), "--space", str(report.parent / "space.yaml"),
               "--cost-column", "accuracy", "--direction", "maximize", "--out", str(out), "--force", "--quiet",
               "--population", "300", "--generations", "10", "--sr-seeds", "0", "--cv-folds", "0",
               "--samples", "200", "--background", "50", "--format", "html"])
    assert rc == 0
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    assert "accuracy ~ " in capsys.readouterr().out


def test_partial_dependence_plot_has_formula_band_and_rug(report):
    """One panel per explained hyperparameter: surrogate PD, the formula's PD, the conformal band
    (the held-out interval, stated in the report) and the evaluations as a rug."""
    from matplotlib.collections import PolyCollection

    summary, data = load(report)
    held = summary["chosen"]["heldout"]
    assert held["interval"] > 0 and held["coverage"] == 0.9
    fig = pd_figure(summary, data)
    panels = [ax for ax in fig.axes if ax.get_xlabel()]
    assert len(panels) == len(summary["explained"])
    for ax in panels:
        labels = [line.get_label() for line in ax.get_lines()]
        assert "formula" in labels and "evaluations (rug)" in labels
        assert any(isinstance(c, PolyCollection) for c in ax.collections)
        rug = next(line for line in ax.get_lines() if line.get_label() == "evaluations (rug)")
        assert len(rug.get_xdata()) == summary["source"]["n_evaluations"]
    assert {e["name"] for e in data["pd1"]} == set(summary["explained"])
    page = (report / "report.md").read_text()
    assert f"90% of held-out evaluations lie within +- " in page and "![partial dependence](pd.png)" in page
    assert page.index("Held-out quality") < page.index("in-sample: formula vs surrogate")
