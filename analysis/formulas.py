"""Formulas table (median-RMSE formula per model x dataset) and expression trees (paper Fig. 1).

Usage::

    python -m analysis.formulas [--store results/store] [--out results/analysis]
                                [--experiment table1] [--method sr_bo_gp|sr_random|sr_bo|all]
                                [--n-samples N] [--parsimony P] [--no-trees] [KEY=VALUE ...]
    python -m analysis.formulas --formula "0.078*exp((alpha/batch_size)**0.25)" \\
                                --hyperparameters alpha,batch_size [--out DIR]

For each protocol, model x dataset and SR method, the *median-RMSE run* is the run at position
``(k - 1) // 2`` (the lower median) of the cell's ``k`` ok SR runs with a formula, sorted by test
RMSE (ties by sampling seed, SR seed). Written to ``<out>/formulas/<protocol>/``:

- ``formulas.csv`` / ``formulas.md`` / ``formulas.tex``: model, hyperparameters, dataset, method,
  runs, the median run's seeds, test RMSE, complexity (operation count) and formula;
- ``trees/<method>_<model>_<dataset>.png/.pdf``: the expression tree of that formula.

Always written (no records needed): ``<out>/formulas/figure1_example.png/.pdf``, the tree of the
paper's Fig. 1 formula ``0.078 * exp((alpha / batch_size) ** 0.25)`` (4 operations, Appendix B).

Formulas are read with :func:`symexp.symbolic.parse_formula`, a whitelisted grammar that never
evaluates the text (records may come from anyone), with every hyperparameter name bound to a
``Symbol`` (so ``gamma``, ``C``, ``eta`` ... are variables, not SymPy functions). Trees are drawn
with matplotlib only: a tidy layout where leaves are spaced evenly left to right and each operator
sits above the middle of its children. For readability, SymPy's internal forms are shown as
written: ``a * b**-1`` as ``a ÷ b``, ``x**(1/2)`` as ``sqrt``, ``a + (-1)*b`` as ``a − b``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cli import make_parser, run_cli
from analysis.figures import save_figure, set_style
from analysis.names import DATASET_ORDER, MODEL_HPS, MODEL_ORDER, dataset_name, method_label, model_name, order_keys
from analysis.output import fmt, latex_escape, markdown_table, Report, write_csv, write_text
from symexp.textsafe import latex_math_ok, markdown, md_code, safe_component
from analysis.views import check_experiment, check_store, load_ok, the_one, view_setting, ViewRef, select_records, readable_formula_of
from symexp.store.records import SR_METHODS
from symexp.errors import SymexpError

DEFAULT_EXPERIMENT = "table1"
DEFAULT_METHOD = "sr_bo_gp"
PRESET = "preset"  # n / parsimony: the preset's own single value (None: any)
FIGURE1_FORMULA = "0.078*exp((alpha/batch_size)**0.25)"  # Appendix B: 4 operations
FIGURE1_HPS = ("alpha", "batch_size")


# -- parsing -------------------------------------------------------------------------------
def parse_formula(formula: str, hyperparameters) -> "sympy.Expr":  # noqa: F821
    """``formula`` as a SymPy expression, hyperparameter names bound to symbols; never runs code."""
    from symexp.symbolic import parse_formula as parse

    return parse(formula, [str(h) for h in (hyperparameters or [])])


def count_ops(expr) -> int:
    import sympy

    return int(sympy.count_ops(expr))


# -- expression tree -----------------------------------------------------------------------
@dataclass
class Node:
    label: str
    kind: str  # "op", "var", "const"
    children: list["Node"] = field(default_factory=list)
    x: float = 0.0
    depth: int = 0


def _number_label(e) -> str:
    import sympy

    if isinstance(e, sympy.Integer):
        return str(int(e))
    if isinstance(e, sympy.Rational):
        return f"{e.p}/{e.q}"
    v = float(e)
    return f"{v:.4g}"


def expr_to_tree(e) -> Node:
    """A display tree of a SymPy expression (subtraction, division and sqrt written out)."""
    import sympy

    if e.is_Symbol:
        return Node(str(e), "var")
    if e.is_Number or e in (sympy.pi, sympy.E):
        if e.is_Number and e.is_negative:
            return Node("−", "op", [expr_to_tree(-e)]) if not e.is_Float else Node(_number_label(e), "const")
        return Node(_number_label(e) if e.is_Number else str(e), "const")
    if isinstance(e, sympy.Add):
        pos = [a for a in e.args if not a.could_extract_minus_sign()]
        neg = [-a for a in e.args if a.could_extract_minus_sign()]
        if not neg:
            return Node("+", "op", [expr_to_tree(a) for a in pos])
        if not pos:
            return Node("−", "op", [expr_to_tree(sympy.Add(*neg, evaluate=False))])
        left = pos[0] if len(pos) == 1 else sympy.Add(*pos, evaluate=False)
        right = neg[0] if len(neg) == 1 else sympy.Add(*neg, evaluate=False)
        return Node("−", "op", [expr_to_tree(left), expr_to_tree(right)])
    if isinstance(e, sympy.Mul):
        args = list(e.args)
        if args and args[0] == -1:
            rest = args[1:]
            inner = rest[0] if len(rest) == 1 else sympy.Mul(*rest, evaluate=False)
            return Node("−", "op", [expr_to_tree(inner)])
        num, den = [], []
        for a in args:
            if isinstance(a, sympy.Pow) and a.exp.is_Number and a.exp.is_negative:
                den.append(sympy.Pow(a.base, -a.exp, evaluate=False) if a.exp != -1 else a.base)
            elif isinstance(a, sympy.Rational) and not isinstance(a, sympy.Integer) and a.p == 1:
                den.append(sympy.Integer(a.q))
            else:
                num.append(a)
        if den:
            n = sympy.Integer(1) if not num else num[0] if len(num) == 1 else sympy.Mul(*num, evaluate=False)
            d = den[0] if len(den) == 1 else sympy.Mul(*den, evaluate=False)
            return Node("÷", "op", [expr_to_tree(n), expr_to_tree(d)])
        return Node("×", "op", [expr_to_tree(a) for a in args])
    if isinstance(e, sympy.Pow):
        if e.exp == sympy.Rational(1, 2):
            return Node("sqrt", "op", [expr_to_tree(e.base)])
        if e.exp.is_Number and e.exp.is_negative:
            inv = e.base if e.exp == -1 else sympy.Pow(e.base, -e.exp, evaluate=False)
            return Node("÷", "op", [Node("1", "const"), expr_to_tree(inv)])
        return Node("^", "op", [expr_to_tree(e.base), expr_to_tree(e.exp)])
    if isinstance(e, sympy.Abs):
        return Node("abs", "op", [expr_to_tree(e.args[0])])
    if isinstance(e, sympy.Function) or e.args:
        name = getattr(e.func, "__name__", type(e).__name__)
        return Node(name, "op", [expr_to_tree(a) for a in e.args])
    return Node(str(e), "const")


def layout(root: Node) -> tuple[int, int]:
    """Set ``x`` and ``depth`` of every node; returns (number of leaves, maximum depth)."""
    counter = [0]
    max_depth = [0]

    def visit(n: Node, depth: int) -> None:
        n.depth = depth
        max_depth[0] = max(max_depth[0], depth)
        if not n.children:
            n.x = float(counter[0])
            counter[0] += 1
            return
        for c in n.children:
            visit(c, depth + 1)
        n.x = 0.5 * (n.children[0].x + n.children[-1].x)

    visit(root, 0)
    return counter[0], max_depth[0]


def n_operations(root: Node) -> int:
    return (1 if root.children else 0) + sum(n_operations(c) for c in root.children)


def draw_tree(expr, base: Path, title: str | None = None) -> list[Path]:
    """Draw the expression tree of ``expr`` to ``base.png`` / ``base.pdf``."""
    import matplotlib.pyplot as plt
    import sympy

    root = expr_to_tree(expr)
    n_leaves, depth = layout(root)
    width = max(3.0, 1.1 * n_leaves + 1.0)
    height = max(2.2, 1.0 * (depth + 1) + 0.9)
    fig, ax = plt.subplots(figsize=(width, height))
    colors = {"op": ("#DCE6F2", "#4C72B0"), "var": ("#E5F2E0", "#55A868"), "const": ("#F5F5F5", "#8C8C8C")}

    def edges(n: Node) -> None:
        for c in n.children:
            ax.plot([n.x, c.x], [-n.depth, -c.depth], color="0.45", linewidth=1.1, zorder=1)
            edges(c)

    def nodes(n: Node) -> None:
        face, edge = colors[n.kind]
        style = "round,pad=0.35" if n.kind != "op" else "circle,pad=0.3"
        label = n.label.replace("_", " ") if n.kind == "var" else n.label
        ax.text(n.x, -n.depth, label, ha="center", va="center", fontsize=11, zorder=2,
                fontstyle="italic" if n.kind == "var" else "normal",
                bbox=dict(boxstyle=style, facecolor=face, edgecolor=edge, linewidth=1.2))
        for c in n.children:
            nodes(c)

    edges(root)
    nodes(root)
    ax.set_xlim(-0.8, max(n_leaves - 1, 0) + 0.8)
    ax.set_ylim(-depth - 0.6, 0.6)
    ax.axis("off")
    ops = count_ops(expr)
    ax.set_title(title or f"${sympy.latex(expr)}$  ({ops} operations)", fontsize=11)
    return save_figure(fig, base)


# -- table ---------------------------------------------------------------------------------
def median_run(runs: pd.DataFrame) -> pd.Series:
    """The lower-median run by test RMSE (ties broken by sampling seed, then SR seed)."""
    r = runs.assign(_sr=pd.to_numeric(runs["sr_seed"], errors="coerce").fillna(-1),
                    _ss=pd.to_numeric(runs["sampling_seed"], errors="coerce").fillna(-1))
    r = r.sort_values(["test_rmse", "_ss", "_sr"], kind="stable")
    return r.iloc[(len(r) - 1) // 2]


def formulas_table(sel: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for model in order_keys(sel["model"].unique(), MODEL_ORDER):
        sm = sel[sel["model"] == model]
        for dataset in order_keys(sm["dataset"].unique(), DATASET_ORDER):
            sd = sm[sm["dataset"] == dataset]
            for method in order_keys(sd["method"].unique(), SR_METHODS):
                runs = sd[sd["method"] == method]
                r = median_run(runs)
                hps = r["hyperparameters"] if isinstance(r["hyperparameters"], list | tuple) else MODEL_HPS.get(model, ())
                readable = readable_formula_of(str(r["formula"]), model, dataset, str(r["protocol"]), list(hps))
                rows.append({
                    "model": model_name(model), "hyperparameters": ", ".join(hps), "dataset": dataset_name(dataset),
                    "method": method, "n_runs": len(runs), "sampling_seed": r["sampling_seed"],
                    "sr_seed": r["sr_seed"], "n_samples": r["n_samples"], "parsimony": r["parsimony"],
                    "test_rmse": float(r["test_rmse"]),
                    "complexity": r["complexity"] if pd.notna(r["complexity"]) else np.nan,
                    "formula": str(r["formula"]),
                    "formula_latex": r["formula_latex"] if isinstance(r["formula_latex"], str) else "",
                    "readable_formula": readable.text if readable else str(r["formula"]),
                    "guards_acting": " | ".join(readable.footnotes) if readable else "",
                    "model_key": model, "dataset_key": dataset, "_hps": list(hps),
                    "_readable": readable,
                })
    cols = ["model", "hyperparameters", "dataset", "method", "n_runs", "sampling_seed", "sr_seed", "n_samples",
            "parsimony", "test_rmse", "complexity", "formula", "formula_latex", "readable_formula", "guards_acting",
            "model_key", "dataset_key", "_hps", "_readable"]
    return pd.DataFrame(rows, columns=cols)


def _latex_formula(row: pd.Series) -> str:
    if row.get("_readable") is not None:  # built here from the parsed formula, not text from the record
        import sympy

        return f"${sympy.latex(row['_readable'].expression)}$"
    if row["formula_latex"] and latex_math_ok(row["formula_latex"]):  # whitelisted LaTeX only
        return f"${row['formula_latex']}$"
    try:
        import sympy

        return f"${sympy.latex(parse_formula(row['formula'], row['_hps']))}$"
    except SymexpError:
        return r"\texttt{" + latex_escape(row["formula"]) + "}"


def to_markdown(t: pd.DataFrame, title: str) -> str:
    head = ["Model", "Hyperparameters", "Dataset", "Method", "Runs", "Median run (seed/SR seed)", "RMSE",
            "Operations", "Formula"]
    notes: list[str] = []
    rows = []
    for _, r in t.iterrows():
        marks = ""
        for note in (r["_readable"].footnotes if r.get("_readable") is not None else []):
            notes.append(note)
            marks += f" [{len(notes)}]"
        rows.append([markdown(r["model"]), markdown(r["hyperparameters"]), markdown(r["dataset"]),
                     method_label(r["method"]), str(r["n_runs"]),
                     f"{r['sampling_seed']}/{'–' if pd.isna(r['sr_seed']) else int(r['sr_seed'])}",
                     fmt(r["test_rmse"], 4), fmt(r["complexity"], 0), md_code(r["readable_formula"]) + marks])
    text = (f"# {title}\n\nFormula of the median-RMSE run among each cell's SR runs, as the paper prints it: "
            "gplearn's protection guards (the capped `exp`, `Abs` under `sqrt`/`log`, `div` near 0) are left out "
            "where they never act on the search space (decided on a dense grid over it) and kept, with a "
            "note, where they do; `formulas.csv` has the stored formula.\n\n"
            + markdown_table(head, rows, ["l"] * 5 + ["l", "r", "r", "l"]) + "\n")
    if notes:
        text += "\nGuards that act on part of the search space:\n\n" + "".join(
            f"{i}. {markdown(note)}\n" for i, note in enumerate(notes, 1))
    return text


def to_latex(t: pd.DataFrame, caption: str) -> str:
    lines = [r"% Requires \usepackage{booktabs}", r"\begin{table}[t]", r"\centering", r"\small",
             r"\begin{tabular}{llllrrl}", r"\toprule",
             r"Model & Dataset & Method & Runs & RMSE & Ops & Formula \\", r"\midrule"]
    notes: list[str] = []
    for _, r in t.iterrows():
        marks = ""
        for note in (r["_readable"].footnotes if r.get("_readable") is not None else []):
            notes.append(note)
            marks += f"$^{{{len(notes)}}}$"
        lines.append(" & ".join([latex_escape(r["model"]), latex_escape(r["dataset"]),
                                 latex_escape(method_label(r["method"])), str(r["n_runs"]), fmt(r["test_rmse"], 4),
                                 fmt(r["complexity"], 0), _latex_formula(r) + marks]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines += [r"\par\footnotesize Guards of protected operations that act on part of the search space:"]
        lines += [rf"$^{{{i}}}$ {latex_escape(note)}\par" for i, note in enumerate(notes, 1)]
    lines += [ rf"\caption{{{caption}}}", r"\label{tab:formulas}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# -- builder -------------------------------------------------------------------------------
def build_figure1(out: Path) -> list[Path]:
    set_style()
    expr = parse_formula(FIGURE1_FORMULA, FIGURE1_HPS)
    return draw_tree(expr, out / "formulas" / "figure1_example",
                     title=f"Fig. 1 example: $s = {__import__('sympy').latex(expr)}$ ({count_ops(expr)} operations)")


def build(store: Path, out: Path, experiment: str = DEFAULT_EXPERIMENT, methods: list[str] | None = None,
          n_samples: int | str | None = PRESET, parsimony: float | str | None = PRESET,
          trees: bool = True, subdir: str = "formulas", include_timed_out: bool = False) -> Report:
    """Formulas table and trees of ``experiment`` into ``<out>/<subdir>/<protocol>/``.

    ``n_samples`` / ``parsimony``: ``"preset"`` = the preset's single value, ``None`` = any."""
    rep = Report(subdir)
    methods = methods or [DEFAULT_METHOD]
    if n_samples == PRESET:
        n_samples = the_one(view_setting(experiment)["n_samples"], "n_samples", experiment)
    if parsimony == PRESET:
        parsimony = the_one(view_setting(experiment)["parsimony"], "parsimony", experiment)
    all_df, ok = load_ok(store, experiment, include_timed_out)
    if len(all_df) == 0:
        rep.missing.append(f"no records for experiment {experiment!r} in {store} (formulas table not built)")
        return rep
    sel = select_records(ok, methods, n_samples, parsimony, with_formula=True)
    if len(sel) == 0:
        rep.missing.append(f"no ok SR records with a formula for {', '.join(methods)} "
                           f"(n={n_samples}, parsimony={parsimony}) in experiment {experiment!r}")
        return rep
    for protocol in sorted(sel["protocol"].unique()):
        t = formulas_table(sel[sel["protocol"] == protocol])
        d = out / subdir / protocol
        title = f"Formulas (experiment {experiment}, protocol {protocol})"
        rep.add(write_csv(d / "formulas.csv", t.drop(columns=["_hps", "_readable"])), write_text(d / "formulas.md", to_markdown(t, title)),
                write_text(d / "formulas.tex", to_latex(t, latex_escape(title))))
        n_trees = 0
        if trees:
            for _, r in t.iterrows():
                try:
                    expr = parse_formula(r["formula"], r["_hps"])
                except SymexpError as exc:
                    rep.missing.append(f"[{protocol}] tree {r['model']} / {r['dataset']}: {exc}")
                    continue
                stem = safe_component(f"{r['method']}_{r['model_key']}_{r['dataset_key']}")
                rep.add(draw_tree(expr, d / "trees" / stem,
                                  title=f"{r['model']}, {r['dataset']} ({method_label(r['method'])}): "
                                        f"RMSE {r['test_rmse']:.4f}, {count_ops(expr)} operations"))
                n_trees += 1
        rep.notes.append(f"[{protocol}] {len(t)} formula(s), {n_trees} tree(s)")
    return rep


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.formulas", "Median-RMSE formulas per model x dataset and expression trees (Fig. 1).",
                    DEFAULT_EXPERIMENT)
    p.add_argument("--method", default=DEFAULT_METHOD, choices=list(SR_METHODS) + ["all"],
                   help=f"SR method (default: {DEFAULT_METHOD})")
    p.add_argument("--n-samples", type=int, default=None, help="sample size n (default: the preset's; 0 = any)")
    p.add_argument("--parsimony", type=float, default=None, help="parsimony (default: the preset's; 0 = any)")
    p.add_argument("--no-trees", action="store_true", help="skip the per-cell expression-tree figures")
    p.add_argument("--formula", help="draw the tree of this formula only (to <out>/formulas/tree.png/pdf)")
    p.add_argument("--hyperparameters", default="", help="comma-separated variable names of --formula")
    args = p.parse_args(argv)
    if args.formula:
        set_style()
        expr = parse_formula(args.formula, [h.strip() for h in args.hyperparameters.split(",") if h.strip()])
        paths = draw_tree(expr, args.out / "formulas" / "tree")
        print(f"{count_ops(expr)} operations; wrote {', '.join(map(str, paths))}")
        return 0
    store = check_store(args.store)
    check_experiment(store, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), explicit=args.experiment is not None)
    methods = list(SR_METHODS) if args.method == "all" else [args.method]
    fig1 = Report("figure1")
    fig1.add(build_figure1(args.out))
    def choice(value):  # None: the preset's; 0: any
        return PRESET if value is None else (value or None)

    rep = build(store, args.out, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), methods, choice(args.n_samples),
                choice(args.parsimony), trees=not args.no_trees, include_timed_out=args.include_timed_out)
    print(fig1.text())
    print(rep.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.formulas"))
