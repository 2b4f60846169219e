"""The ``symexp`` command.

    symexp explain PATH [--study NAME] [--space FILE] [--engine operon|gplearn|both] [--out DIR] ...
    symexp explain REPORT_DIR --select N
    symexp split DATASET [--out FILE] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from symexp.errors import SymexpError

#: Measured with bench/bench_explain.py (docs/measurements.md).
TYPICAL_DEFAULT_RUN = "13-86 s"


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


def _print_summary(summary: dict, out: Path) -> None:
    name = summary["objective"]["name"]
    if summary["source"].get("budget"):
        print(f"multi-fidelity run: {summary['source']['budget']}")
    for w in summary["warnings"]:
        print(f"WARNING: {w}")
    ch = summary["chosen"]
    how = f"default: {summary['rule_name']} rule" if ch["selected_by"] == "rule" else "--select"
    print(f"formula ({how}, front position {ch['position']} of {len(summary['front'])}; "
          f"{summary['objective']['better']}):")
    print(f"  {name} ~ {ch['formula']}")
    r2 = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    cv = summary["surrogate"]["cv"]
    from symexp.explain.report import headline

    print(f"  {headline(summary)}")
    print(f"  complexity {ch['complexity']}; surrogate cross-validated R^2 {r2(cv['r2']) if cv else 'not run'}; "
          f"in-sample R^2 vs surrogate {r2(ch['surrogate']['r2'])}")
    logs = [f"{v['symbol']} = log10({v['hyperparameter']})" for v in summary["variables"] if v.get("log10")]
    if logs:
        print(f"  {', '.join(logs)} (base-10 logarithm); log = natural logarithm")
    if summary["integrated_out"]:
        print(f"  integrated out: {', '.join(summary['integrated_out'])}")
    print("front (simplest first):")
    for c in summary["front"]:
        held = c.get("heldout") or {}
        rmse = "-" if held.get("rmse") is None else f"{held['rmse']:.4g}"
        print(f"  {c['position']:>2}  ops {c['complexity']:>3}  held-out rmse {rmse:>9}  R^2 {r2(held.get('r2')):>6}  "
              f"{c['engine']:<7} {c['formula']}")
    imp = ", ".join(f"{k} {v:.2f}" for k, v in summary["importance"]["values"].items())
    print(f"importance: {imp}")
    for note in summary["notes"]:
        print(f"note: {note}")
    print(f"report: {out / 'report.md'} and {out / 'report.html'}  summary: {out / 'summary.json'}")
    print(f"another formula of the front, without refitting: symexp explain {out} --select N")


def _fit_options(args: argparse.Namespace) -> list[tuple[str, object, object]]:
    """(flag, value, default) of the options that only make sense for a fit."""
    return [("--kind", args.kind, None), ("--study", args.study, None), ("--objective", args.objective, None),
            ("--space", args.space, None), ("--cost-column", args.cost_column, "cost"),
            ("--direction", args.direction, None), ("--ignore-columns", args.ignore_columns, None),
            ("--drop-nonfinite", args.drop_nonfinite, False), ("--budget", args.budget, None), ("--hyperparameters", args.hyperparameters, None),
            ("--top-k", args.top_k, None), ("--engine", args.engine, None), ("--units", args.units, None),
            ("--sr-seeds", args.sr_seeds, None), ("--population", args.population, None),
            ("--generations", args.generations, None), ("--max-length", args.max_length, None),
            ("--functions", args.functions, None), ("--parsimony", args.parsimony, None),
            ("--time-limit", args.time_limit, "default"), ("--samples", args.samples, None),
            ("--background", args.background, None), ("--seed", args.seed, 0), ("--cv-folds", args.cv_folds, None),
            ("--out", args.out, "symexp-explain"), ("--force", args.force, False)]


def _explain(args: argparse.Namespace) -> int:
    import json

    from symexp.explain import explain
    from symexp.explain.report import is_report_dir, reselect

    if is_report_dir(args.path):
        fit_only = [flag for flag, value, default in _fit_options(args) if value != default]
        if fit_only:
            raise SymexpError(f"{args.path} is a report folder: only --select, --format, --json and --quiet apply to "
                              f"it (got {', '.join(fit_only)}); to fit again, pass the run instead")
        out = Path(args.path)
        summary = reselect(out, args.select, args.format)
    else:
        if args.select is not None:
            raise SymexpError("--select picks a formula of an existing report: run `symexp explain RUN --out DIR` "
                              "first, then `symexp explain DIR --select N` (no refit)")
        out = Path(args.out)
        options = {k: v for k, v in dict(
            hyperparameters=args.hyperparameters, engine=args.engine, units=args.units, parsimony=args.parsimony,
            sr_seeds=args.sr_seeds, population_size=args.population, generations=args.generations,
            max_length=args.max_length, function_set=args.functions, n_samples=args.samples,
            n_background=args.background, cv_folds=args.cv_folds, top_k=args.top_k).items() if v is not None}
        result = explain(
            args.path, kind=args.kind, study=args.study, space_file=args.space, cost_column=args.cost_column,
            objective=args.objective, drop_nonfinite=args.drop_nonfinite, ignore_columns=args.ignore_columns,
            direction=args.direction, budget=args.budget, out_dir=out, report_format=args.format or "md", force=args.force,
            seed=args.seed, time_limit_s=args.time_limit, progress=not args.quiet, **options)
        summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
        return 0
    _print_summary(summary, out)
    return 0


EXPLAIN_EPILOG = """\
how long it takes: a default run (operon, 2 SR seeds) on 60-100 evaluations took {typical} on
2 cores shared with other jobs (under 30 s at a load average up to 8, up to 86 s at 12); every SR
fit stops at --time-limit (default {limit:g} s), so SR takes at most {fits} x {limit:g} s plus
converting the front, plus the surrogate. The progress lines on stderr show the elapsed time.

engines: operon (default) evolves formulas on (error, length) and tunes their constants, giving a
whole front of formulas in seconds; gplearn is the paper's engine, one fit per parsimony
coefficient and seed: 2.4 times slower and far less accurate on the benchmark (RMSE vs the truth
0.52 of its std against 0.06); both puts all candidates on one front at the time of both. See
bench/bench_explain.py and docs/measurements.md for the measurements.

units: a log-scaled hyperparameter lr enters formulas only as the variable log10_lr = log10(lr)
(--units raw: raw units); a categorical as 0/1 indicators kernel_is_<choice>; log is the natural
logarithm. symexp.explain.evaluate(summary, configs) re-evaluates a stored formula at raw values.

quality: the headline is the chosen formula's held-out R^2 (cross-validation: surrogate and
constants refitted per fold) with a 90 % split-conformal interval; the default formula is the knee
of the front on held-out error. Warnings open the report; both report.md and a self-contained
report.html are written.
"""


DESCRIPTION = ("symexp: reproduce the paper's experiments (run, status, summary, report; Hydra overrides as in "
               "conf/) or explain your own HPO run (explain).")

#: Subcommands that take their own arguments (Hydra overrides, their own flags): ``symexp NAME ARGS``
#: calls ``main(ARGS)`` of the module, so ``symexp NAME --help`` is that command's own help.
OWN_ARGUMENTS = {
    "run": ("symexp.app.run", "run cells: Hydra overrides, e.g. `symexp run -m experiment=smoke`"),
    "status": ("symexp.app.status", "done / running / missing cells, cost estimate (--estimate), --relaunch"),
    "summary": ("symexp.app.summary", "RMSE table and formulas of an experiment's records"),
    "report": ("analysis.build_all", "tables, figures and formulas from the records (results/analysis)"),
}


def _add_own_argument_commands(sub) -> None:
    for name, (_, text) in OWN_ARGUMENTS.items():
        sub.add_parser(name, help=text, add_help=False)


def _split(args: argparse.Namespace) -> int:
    from symexp.benchmarks.split import dataset_splits_arff
    from symexp.store.atomic import atomic_write_text

    text = dataset_splits_arff(args.dataset, args.data_dir)
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            atomic_write_text(args.out, text)
        except OSError as exc:
            raise SymexpError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symexp", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_own_argument_commands(sub)
    from symexp.explain import DEFAULTS, ENGINES

    e = sub.add_parser(
        "explain", help="explain your own HPO run (SMAC3 run directory, Optuna study, or CSV) with formulas",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXPLAIN_EPILOG.format(typical=TYPICAL_DEFAULT_RUN, limit=DEFAULTS.time_limit_s,
                                     fits=len(DEFAULTS.sr_seeds)),
        description="Fit a GP surrogate on the run, rank hyperparameters by fANOVA, and fit symbolic regression on "
                    "surrogate-labelled random configurations of the top-k; writes a report (warnings first), plots "
                    "and summary.json. Given a report folder instead of a run, redraws the report (--select).")
    e.add_argument("path", help="SMAC3 run directory (runhistory.json + configspace.json), Optuna storage "
                                "(sqlite:///study.db or a .db file), a CSV file; or a report folder of an "
                                "earlier run (with --select)")
    e.add_argument("--kind", choices=["smac3", "optuna", "csv"], help="what PATH is (default: detected)")
    e.add_argument("--study", help="Optuna study name (default: the storage's only study)")
    e.add_argument("--objective", type=int, help="index of the objective of a multi-objective run")
    e.add_argument("--space", help="CSV: YAML/JSON space file {name: {type: float|int|categorical, lower, upper, log, "
                                   "choices}} (default: inferred from the data, with a note)")
    e.add_argument("--cost-column", default="cost", help="CSV: the objective's column (default: cost)")
    e.add_argument("--direction", choices=["minimize", "maximize"],
                   help="CSV: whether lower (default) or higher values of the cost column are better")
    e.add_argument("--ignore-columns", type=_csv_list(str), help="CSV: comma-separated columns that are neither "
                                                                 "hyperparameters nor the cost (e.g. wallclock)")
    e.add_argument("--budget", help="SMAC3 multi-fidelity run: the budget whose trials are explained (default: the "
                                    "highest), or 'all' to make the budget a variable of the formula")
    e.add_argument("--drop-nonfinite", action="store_true", help="leave out evaluations with NaN/inf cost instead of failing")
    e.add_argument("--hyperparameters", type=_csv_list(str), help="comma-separated names for the formula "
                                                                  "(default: the top-k by importance)")
    e.add_argument("--top-k", type=int, help=f"number of most important hyperparameters in the formula "
                                             f"(default {DEFAULTS.top_k})")
    e.add_argument("--engine", choices=list(ENGINES), help=f"SR engine (default {DEFAULTS.engine}); see below")
    e.add_argument("--units", choices=["log10", "raw"], help="how log-scaled hyperparameters enter the formula "
                                                             f"(default {DEFAULTS.units})")
    e.add_argument("--sr-seeds", type=_csv_list(int), help="SR seeds (default "
                                                           f"{','.join(map(str, DEFAULTS.sr_seeds))})")
    e.add_argument("--population", type=int, help=f"SR population size (default {DEFAULTS.population_size})")
    e.add_argument("--generations", type=int, help=f"SR generations (default {DEFAULTS.generations})")
    e.add_argument("--max-length", type=int, help=f"operon: maximum formula length in nodes (default {DEFAULTS.max_length})")
    e.add_argument("--functions", type=_csv_list(str), help="SR function set (default "
                                                            f"{','.join(DEFAULTS.function_set)})")
    e.add_argument("--parsimony", type=_csv_list(float), help="gplearn: parsimony coefficients of the sweep "
                                                              f"(default {','.join(map(str, DEFAULTS.parsimony))})")
    e.add_argument("--time-limit", type=_time_limit, default="default",
                   help=f"seconds per SR fit, or none (default {DEFAULTS.time_limit_s:g})")
    e.add_argument("--samples", type=int, help=f"surrogate-labelled random configurations for SR (default {DEFAULTS.n_samples})")
    e.add_argument("--background", type=int, help=f"partial-dependence background samples (default {DEFAULTS.n_background})")
    e.add_argument("--seed", type=int, default=0, help="seed of surrogate, samples and background (default 0)")
    e.add_argument("--cv-folds", type=int, help=f"cross-validation folds of the surrogate, 0 to skip (default {DEFAULTS.cv_folds})")
    e.add_argument("--select", type=int, help="with a report folder as PATH: redraw it with this front position as "
                                              "the formula (default: the knee of the front); rewrites both pages")
    e.add_argument("--out", default="symexp-explain", help="report folder (default ./symexp-explain); must not exist "
                                                            "or be empty unless --force")
    e.add_argument("--force", action="store_true", help="write into a non-empty --out folder")
    e.add_argument("--format", choices=["md", "html"], help="which page the command names first; both report.md and "
                                                            "the self-contained report.html are always written")
    e.add_argument("--json", action="store_true", help="print the JSON summary instead of the text summary")
    e.add_argument("--quiet", action="store_true", help="no progress lines")
    e.set_defaults(func=_explain)

    s = sub.add_parser(
        "split", help="write the OpenML task split (datasplits.arff) of one of the paper's datasets, regenerated offline",
        description="Regenerate the task's datasplits.arff exactly as OpenML's server makes it (10-fold CV, seed 0; "
                    "docs/split.md), from the offline CSV ($SYMEXP_DATA_DIR) or OpenML; diff it against OpenML's own.")
    s.add_argument("dataset", help="blood_transfusion, vehicle, australian, car, phoneme, segment, credit_g or kc1")
    s.add_argument("--out", type=Path, help="file to write (default: standard output)")
    s.add_argument("--data-dir", help="directory of the offline CSVs (default $SYMEXP_DATA_DIR, else OpenML)")
    s.set_defaults(func=_split)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in OWN_ARGUMENTS:
            import importlib

            return importlib.import_module(OWN_ARGUMENTS[argv[0]][0]).main(argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SymexpError as exc:
        print(f"symexp: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:  # a full disk, a read-only or vanished directory
        from symexp.errors import environment_error

        if (line := environment_error(exc)) is None:
            raise
        print(f"symexp: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
