"""The ``symexp`` command.

    symexp explain PATH [--study NAME] [--space FILE] [--engine gplearn|operon|both] [--out DIR] ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from symexp.errors import SymexpError


def _csv_list(kind):
    def parse(text: str):
        items = [t.strip() for t in str(text).split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError("empty list")
        try:
            return [kind(t) for t in items]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind.__name__}, got {text!r}") from None
    return parse


def _time_limit(text: str):
    if text == "default":
        return text
    if text.lower() in ("none", "null", "0"):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'none', got {text!r}") from None


def _explain(args: argparse.Namespace) -> int:
    import json

    from symexp.explain import DEFAULT_PARSIMONY, explain

    out = Path(args.out)
    result = explain(
        args.path, kind=args.kind, study=args.study, space_file=args.space, cost_column=args.cost_column,
        objective=args.objective, drop_nonfinite=args.drop_nonfinite, out_dir=out, report_format=args.format,
        hyperparameters=args.hyperparameters, top_k=args.top_k, engine=args.engine, parsimony=args.parsimony or DEFAULT_PARSIMONY,
        sr_seeds=args.sr_seeds, population_size=args.population, generations=args.generations,
        function_set=args.functions, time_limit_s=args.time_limit, n_samples=args.samples,
        n_background=args.background, seed=args.seed, select=args.select, cv_folds=args.cv_folds,
        progress=not args.quiet)
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
        return 0
    ch = summary["chosen"]
    how = "elbow rule" if ch["selected_by"] == "elbow" else "--select"
    print(f"formula ({how}, front position {ch['position']} of {len(summary['front'])}): cost ~ {ch['formula']}")
    print(f"  LaTeX: {ch['latex']}")
    print(f"  complexity {ch['complexity']}, RMSE vs surrogate {ch['rmse']:.4g} (cost std {summary['surrogate']['cost_std']:.4g})")
    if summary["integrated_out"]:
        print(f"  integrated out: {', '.join(summary['integrated_out'])}")
    print("front (simplest first):")
    for c in summary["front"]:
        rmse = "-" if c["rmse"] is None else f"{c['rmse']:.4g}"
        print(f"  {c['position']:>2}  ops {c['complexity']:>3}  rmse {rmse:>9}  {c['engine']:<7} {c['formula']}")
    imp = ", ".join(f"{k} {v:.2f}" for k, v in summary["importance"]["values"].items())
    print(f"importance: {imp}")
    for note in summary["notes"]:
        print(f"note: {note}")
    print(f"report: {out / summary['files']['report']}  summary: {out / 'summary.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symexp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser(
        "explain", help="explain your own HPO run (SMAC3 run directory, Optuna study, or CSV) with formulas",
        description="Fit a GP surrogate on the run, rank hyperparameters by fANOVA, and fit symbolic regression on "
                    "surrogate-labelled random configurations of the top-k; writes a report, plots and summary.json.")
    e.add_argument("path", help="SMAC3 run directory (runhistory.json + configspace.json), Optuna storage "
                                "(sqlite:///study.db or a .db file), or a CSV file")
    e.add_argument("--kind", choices=["smac3", "optuna", "csv"], help="what PATH is (default: detected)")
    e.add_argument("--study", help="Optuna study name (default: the storage's only study)")
    e.add_argument("--space", help="CSV: YAML/JSON space file {name: {type: float|int|categorical, lower, upper, log, choices}}")
    e.add_argument("--cost-column", default="cost", help="CSV: the cost column (default: cost)")
    e.add_argument("--objective", type=int, help="index of the objective of a multi-objective run")
    e.add_argument("--drop-nonfinite", action="store_true", help="leave out evaluations with NaN/inf cost instead of failing")
    e.add_argument("--hyperparameters", type=_csv_list(str), help="comma-separated names for the formula "
                                                                  "(default: the top-k by importance)")
    e.add_argument("--top-k", type=int, default=2, help="number of most important hyperparameters in the formula (default 2)")
    e.add_argument("--engine", choices=["gplearn", "operon", "both"], default="gplearn",
                   help="gplearn parsimony sweep, operon Pareto front, or both (default gplearn)")
    e.add_argument("--parsimony", type=_csv_list(float), default=None,
                   help="parsimony coefficients of the gplearn sweep (default 0.0001,0.0005,0.001,0.005,0.01,0.05)")
    e.add_argument("--sr-seeds", type=_csv_list(int), default=[0], help="SR seeds (default 0)")
    e.add_argument("--population", type=int, help="SR population size (default 1000)")
    e.add_argument("--generations", type=int, help="SR generations (default 20)")
    e.add_argument("--functions", type=_csv_list(str), help="SR function set (default: the paper's "
                                                            "add,sub,mul,div,sqrt,log,exp,sin,cos,abs)")
    e.add_argument("--time-limit", type=_time_limit, default="default", help="seconds per SR fit, or none (default 900)")
    e.add_argument("--samples", type=int, default=400, help="surrogate-labelled random configurations for SR (default 400)")
    e.add_argument("--background", type=int, default=200, help="partial-dependence background samples (default 200)")
    e.add_argument("--seed", type=int, default=0, help="seed of surrogate, samples and background (default 0)")
    e.add_argument("--select", type=int, help="front position of the formula to report (default: elbow rule)")
    e.add_argument("--cv-folds", type=int, default=5, help="cross-validation folds of the surrogate, 0 to skip (default 5)")
    e.add_argument("--out", default="symexp-explain", help="report folder (default ./symexp-explain)")
    e.add_argument("--format", choices=["md", "html"], default="md", help="report page format (default md)")
    e.add_argument("--json", action="store_true", help="print the JSON summary instead of the text summary")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=_explain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SymexpError as exc:
        print(f"symexp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
