"""Build every analysis artefact from whatever records exist.

Usage::

    python -m analysis.build_all [--store results/store] [--out results/analysis]
                                 [--only table1,sample_size,parsimony,formulas,pdp_formulas,figure1] [--no-trees]

Runs, in order:

=================  ============================  ==============================================
builder            experiment read               outputs (under ``<out>``)
=================  ============================  ==============================================
``table1``         ``table1``                    ``table1/<protocol>/`` (Table 1 + comparison)
``sample_size``    ``sample_size``               ``sample_size/<protocol>/`` (Fig. 4, 9-11)
``parsimony``      ``parsimony``                 ``parsimony/<protocol>/`` (Fig. 5, 8)
``formulas``       ``table1``                    ``formulas/<protocol>/`` (formula tables, trees)
``pdp_formulas``   ``pdp``                       ``pdp_formulas/<protocol>/`` (5-HP MLP case formulas)
``figure1``        none                          ``formulas/figure1_example`` (paper's Fig. 1 tree)
=================  ============================  ==============================================

Missing data is never an error: each builder reports what it built and what is missing, the
summary is printed and also written to ``<out>/build_report.md`` (with the full missing lists).
fANOVA importances (Fig. 6) and PD plots (Fig. 7) need GP surrogates, not records: the library
functions :func:`symexp.importance.fanova_importance` and :func:`symexp.pdp.partial_dependence`
are ready, and the report says so until the pipeline stores their inputs.

Exit status: 0 when every builder ran (whatever was missing), 2 for bad arguments (e.g. a store
that does not exist), 1 if a builder failed with an unexpected error (a bug; the traceback is in
the report and the other builders still run).
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from analysis import formulas, parsimony, sample_size, table1
from analysis.common import Report, check_store, make_parser, run_cli, write_text

BUILDERS = ("table1", "sample_size", "parsimony", "formulas", "pdp_formulas", "figure1")


def _run(name: str, store: Path, out: Path, trees: bool) -> Report:
    if name == "table1":
        return table1.build(store, out)
    if name == "sample_size":
        return sample_size.build(store, out)
    if name == "parsimony":
        return parsimony.build(store, out)
    if name == "formulas":
        return formulas.build(store, out, trees=trees)
    if name == "pdp_formulas":
        return formulas.build(store, out, experiment="pdp", methods=list(formulas.SR_METHOD_ORDER),
                              n_samples=None, parsimony=None, trees=trees, subdir="pdp_formulas")
    if name == "figure1":
        rep = Report("figure1")
        rep.add(formulas.build_figure1(out))
        rep.notes.append("the paper's Fig. 1 formula (needs no records)")
        return rep
    raise AssertionError(name)


def build_all(store: Path, out: Path, only: list[str] | None = None, trees: bool = True) -> tuple[list[Report], bool]:
    reports, failed = [], False
    for name in only or BUILDERS:
        t0 = time.perf_counter()
        try:
            rep = _run(name, store, out, trees)
        except Exception as exc:  # a bug in a builder must not stop the others
            rep = Report(name)
            rep.missing.append(f"FAILED: {type(exc).__name__}: {exc}")
            rep.notes.append("traceback:\n" + traceback.format_exc())
            failed = True
        rep.notes.append(f"({time.perf_counter() - t0:.1f} s)")
        reports.append(rep)
    fanova = Report("importance / pdp (Fig. 6, 7)")
    fanova.missing.append("no stored inputs yet: needs the GP surrogates of BO runs; library functions "
                          "symexp.importance.fanova_importance and symexp.pdp.partial_dependence are ready")
    reports.append(fanova)
    return reports, failed


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.build_all", "Build every analysis artefact from the records that exist.", None)
    p.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BUILDERS)}")
    p.add_argument("--no-trees", action="store_true", help="skip the per-cell expression-tree figures")
    args = p.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in BUILDERS]
    if unknown:
        p.error(f"unknown builder(s) {', '.join(unknown)}; valid: {', '.join(BUILDERS)}")
    store = check_store(args.store)
    reports, failed = build_all(store, args.out, only or None, trees=not args.no_trees)
    full = "\n\n".join(r.text(max_missing=10**9) for r in reports)
    report_path = write_text(args.out / "build_report.md",
                             f"# Analysis build report\n\nstore: {store.resolve()}\nout: {args.out.resolve()}\n\n```\n{full}\n```\n")
    short = "\n".join(r.text(max_missing=5) for r in reports)
    built = [r.name for r in reports if r.built]
    missing = [r.name for r in reports if not r.built]
    print(short)
    print(f"\nBuilt: {', '.join(built) or 'nothing'}. Not built: {', '.join(missing) or 'none'}.")
    print(f"Outputs in {args.out.resolve()}; full report: {report_path.resolve()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.build_all"))
