"""Build every analysis artefact from whatever records (and cache files) exist.

Usage::

    python -m analysis.build_all [--store results/store] [--cache results/cache] [--out results/analysis]
                                 [--only table1,sample_size,...] [--no-trees] [--experiment NAME]

Without ``--experiment`` (the paper's setting) it runs, in order:

=================  ============================  ==============================================
builder            experiment read               outputs (under ``<out>``)
=================  ============================  ==============================================
``table1``         ``table1``                    ``table1/<protocol>/`` (Table 1 + comparison)
``sample_size``    ``sample_size``               ``sample_size/<protocol>/`` (Fig. 4, 9-11)
``parsimony``      ``parsimony``                 ``parsimony/<protocol>/`` (Fig. 5, 8)
``formulas``       ``table1``                    ``formulas/<protocol>/`` (formula tables, trees)
``landscapes``     ``table1`` + cache            ``landscapes/<protocol>/`` (Fig. 3)
``pdp_formulas``   ``pdp``                       ``pdp_formulas/<protocol>/`` (5-HP MLP case formulas)
``pdp_figures``    ``pdp`` + cache PD artefacts  ``pdp_figures/<protocol>/`` (Fig. 6b, 7)
``figure1``        none                          ``formulas/figure1_example`` (paper's Fig. 1 tree)
=================  ============================  ==============================================

``--experiment NAME`` builds what applies to the records of one experiment (e.g. ``smoke``)
instead, into ``<out>/experiments/NAME/``, labelled as not the paper's setting: Table 1,
the formulas of all three SR methods and the landscapes at the experiment's own sample size
(its largest n) and parsimony (Table 1's if it has it, else its smallest), both from its preset; the sample-size
figures only if it has several n, the parsimony figures only if it has several parsimony
values; for ``pdp``, the PD formulas and Fig. 6b/7. What does not apply is reported as such.
``<out>/experiments/NAME/README.md`` states the setting used.

Missing data is never an error: each builder reports what it built and what is missing, the
summary is printed and also written to ``<out>/build_report.md`` (``<out>/experiments/NAME/``
with ``--experiment``), with the full missing lists, and the last lines name every output
directory.

Exit status: 0 when every builder ran (whatever was missing), 2 for bad arguments (e.g. a store
that does not exist, an unknown experiment), 1 if a builder failed with an unexpected error (a
bug; the traceback is in the report and the other builders still run).
"""

from __future__ import annotations

import re
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from analysis import damaged, formulas, landscapes, parsimony, pdp_figures, sample_size, table1
from analysis.cli import add_cache_arg, make_parser, run_cli
from analysis.names import dataset_name, model_name
from analysis.output import Report, write_text
from analysis.views import DEFAULT_CACHE, check_experiment, check_store, load_ok, view_setting, ViewRef
from symexp.textsafe import terminal

BUILDERS = ("table1", "sample_size", "parsimony", "formulas", "landscapes", "pdp_formulas", "pdp_figures",
            "figure1")
# The presets that are the paper's experiments; their n and parsimony come from conf/experiment/.
PAPER_PRESETS = ("table1", "sample_size", "parsimony", "pdp")


@dataclass
class Setting:
    """What ``--experiment`` builds from: the experiment's own n and parsimony."""

    experiment: str
    n_samples: int | None
    parsimony: float | None
    all_n: list[int]
    all_parsimony: list[float]
    cells: list[str]

    @property
    def is_paper(self) -> bool:
        return self.experiment in PAPER_PRESETS

    @property
    def label(self) -> str:
        n = f"n = {self.n_samples}" if self.n_samples is not None else "no n"
        p = f"parsimony {self.parsimony:g}" if self.parsimony is not None else "no parsimony"
        return f"experiment {self.experiment} ({n}, {p}): {'the' if self.is_paper else 'not the'} paper's setting"


def experiment_setting(store: Path, experiment: str) -> Setting:
    """The experiment's own n (its largest) and parsimony (Table 1's if it has it, else its smallest),
    from its preset; the cells from its records."""
    setting = view_setting(experiment)
    ns, ps = setting["n_samples"], setting["parsimony"]
    _, ok = load_ok(store, experiment)
    if len(ok) == 0:
        return Setting(experiment, None, None, ns, ps, [])
    paper_p = view_setting("table1")["parsimony"]
    p = next((v for v in ps if v in paper_p), ps[0] if ps else None)
    cells = sorted({f"{model_name(m)} / {dataset_name(d)}" for m, d in zip(ok["model"], ok["dataset"])})
    return Setting(experiment, ns[-1] if ns else None, p, ns, ps, cells)


def not_applicable(name: str, why: str) -> Report:
    rep = Report(name)
    rep.missing.append(f"not applicable: {why}")
    return rep


def _run(name: str, store: Path, out: Path, trees: bool, cache: Path = DEFAULT_CACHE,
         setting: Setting | None = None, include_timed_out: bool = False, overrides: tuple[str, ...] = ()) -> Report:
    late = {"include_timed_out": include_timed_out}

    def view(experiment: str) -> ViewRef:
        return ViewRef(experiment, overrides)

    if setting is None:  # the paper's setting: each builder on its own preset
        if name == "table1":
            return table1.build(store, out, view(table1.DEFAULT_EXPERIMENT), **late)
        if name == "sample_size":
            return sample_size.build(store, out, view(sample_size.DEFAULT_EXPERIMENT), **late)
        if name == "parsimony":
            return parsimony.build(store, out, view(parsimony.DEFAULT_EXPERIMENT), **late)
        if name == "formulas":
            return formulas.build(store, out, view(formulas.DEFAULT_EXPERIMENT), trees=trees, **late)
        if name == "landscapes":
            return landscapes.build(store, out, cache, view(landscapes.DEFAULT_EXPERIMENT), **late)
        if name == "pdp_formulas":
            return formulas.build(store, out, experiment=view("pdp"), methods=list(formulas.SR_METHODS),
                                  n_samples=None, parsimony=None, trees=trees, subdir="pdp_formulas", **late)
        if name == "pdp_figures":
            return pdp_figures.build(store, out, cache, view(pdp_figures.DEFAULT_EXPERIMENT), **late)
    else:
        exp, n, p = setting.experiment, setting.n_samples, setting.parsimony
        if name in ("pdp_formulas", "pdp_figures") and exp != "pdp":
            return not_applicable(name, f"needs experiment pdp, not {exp}")
        if name not in ("pdp_formulas", "pdp_figures", "figure1") and exp == "pdp":
            return not_applicable(name, "experiment pdp explains the top-k of five hyperparameters; "
                                        "see pdp_formulas and pdp_figures")
        if n is None and name != "figure1":
            return not_applicable(name, f"experiment {exp} has no ok records")
        if name == "table1":
            if p is None:
                return not_applicable(name, f"experiment {exp} has no SR records with a parsimony")
            rep = table1.build(store, out, exp, n_samples=n, parsimony=p, **late)
            # the published cells this experiment does not cover are expected, not missing data
            uncovered = [m for m in rep.missing if m.startswith("[")]
            if uncovered:
                rep.missing = [m for m in rep.missing if not m.startswith("[")]
                rep.notes.append(f"{len(uncovered)} of the paper's 200 cells not covered by experiment {exp} "
                                 f"(listed in comparison.md)")
        elif name == "sample_size":
            if len(setting.all_n) < 2:
                return not_applicable(name, f"experiment {exp} has one sample size (n = {n})")
            rep = sample_size.build(store, out, exp, parsimony=p, **late)
        elif name == "parsimony":
            if len(setting.all_parsimony) < 2:
                return not_applicable(name, f"experiment {exp} has one parsimony value ({p:g})" if p is not None
                                      else f"experiment {exp} has no SR records")
            rep = parsimony.build(store, out, exp, **late)
        elif name == "formulas":
            rep = formulas.build(store, out, exp, methods=list(formulas.SR_METHODS), n_samples=n,
                                 parsimony=p, trees=trees, **late)
        elif name == "landscapes":
            rep = landscapes.build(store, out, cache, exp, n=n, parsimony=p, subtitle=setting.label, **late)
        elif name == "pdp_formulas":
            rep = formulas.build(store, out, experiment=view("pdp"), methods=list(formulas.SR_METHODS),
                                 n_samples=None, parsimony=None, trees=trees, subdir="pdp_formulas", **late)
        elif name == "pdp_figures":
            rep = pdp_figures.build(store, out, cache, exp, parsimony=p, subtitle=setting.label, **late)
        else:
            rep = None
        if rep is not None:
            rep.notes.insert(0, setting.label)
            return rep
    if name == "figure1":
        rep = Report("figure1")
        rep.add(formulas.build_figure1(out))
        rep.notes.append("the paper's Fig. 1 formula (needs no records)")
        return rep
    raise AssertionError(name)


def build_all(store: Path, out: Path, only: list[str] | None = None, trees: bool = True,
              cache: Path = DEFAULT_CACHE, setting: Setting | None = None,
              include_timed_out: bool = False, overrides: tuple[str, ...] = ()) -> tuple[list[Report], bool]:
    reports, failed = [], False
    for name in only or BUILDERS:
        t0 = time.perf_counter()
        try:
            rep = _run(name, store, out, trees, cache, setting, include_timed_out, overrides)
        except Exception as exc:  # a bug in a builder must not stop the others
            rep = Report(name)
            rep.missing.append(f"FAILED: {type(exc).__name__}: {exc}")
            rep.notes.append("traceback:\n" + traceback.format_exc())
            failed = True
        rep.notes.append(f"({time.perf_counter() - t0:.1f} s)")
        reports.append(rep)
    return reports, failed


def output_lines(reports: list[Report]) -> list[str]:
    """One line per artefact directory: builder, directory, number of files."""
    lines = []
    for r in reports:
        dirs = Counter(str(p.parent.resolve()) for p in r.outputs)
        for d in sorted(dirs):
            lines.append(f"  {r.name:<13} {d}  ({dirs[d]} file{'s' if dirs[d] != 1 else ''})")
    return lines


def setting_readme(setting: Setting, store: Path) -> str:
    ns = ", ".join(map(str, setting.all_n)) or "none"
    ps = ", ".join(f"{p:g}" for p in setting.all_parsimony) or "none"
    used_p = "none" if setting.parsimony is None else f"{setting.parsimony:g}"
    if setting.is_paper:
        intro = "The sample size and parsimony are the paper's; the tables and figures use this experiment's records:"
        outro = ""
    else:
        t1 = view_setting("table1")
        intro = ("**This is not the paper's setting.** Table 1 of the paper (preset `table1`) is "
                 f"n = {', '.join(map(str, t1['n_samples']))} samples, parsimony "
                 f"{', '.join(f'{v:g}' for v in t1['parsimony'])}, {len(t1['sampling_seeds'])} sampling seeds x "
                 f"{len(t1['sr_seeds'])} SR seeds on 5 models x 8 datasets; here the tables and figures use this "
                 "experiment's own records:")
        outro = ("" if setting.experiment == "pdp" else
                 "\nThe comparison with the published Table 1 is therefore only a sanity check (cells of other "
                 "datasets are listed as missing).\n")
    return (f"# Analysis of experiment `{setting.experiment}`\n\n"
            f"Built by `python -m analysis.build_all --experiment {setting.experiment}` from the records in "
            f"its view of the store `{store.resolve()}`.\n\n{intro}\n\n"
            f"- sample size used: n = {setting.n_samples} (present: {ns})\n"
            f"- parsimony used: {used_p} (present: {ps})\n"
            f"- model x dataset cells: {', '.join(setting.cells) or 'none'}\n" + outro)


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.build_all", "Build every analysis artefact from the records that exist.", None)
    add_cache_arg(p)
    p.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BUILDERS)}")
    p.add_argument("--no-trees", action="store_true", help="skip the per-cell expression-tree figures")
    p.add_argument("--experiment", default=None,
                   help="build what applies to this experiment's records (its own n and parsimony) into "
                        "<out>/experiments/<name>/ instead of the paper's setting")
    args = p.parse_args(argv)
    damaged.clear()  # this build's damaged records only
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in BUILDERS]
    if unknown:
        p.error(f"unknown builder(s) {', '.join(unknown)}; valid: {', '.join(BUILDERS)}")
    store = check_store(args.store)
    out, setting = args.out, None
    if args.experiment is not None:
        check_experiment(store, args.experiment, explicit=True)
        setting = experiment_setting(store, ViewRef(args.experiment, args.overrides))
        out = args.out / "experiments" / args.experiment
        write_text(out / "README.md", setting_readme(setting, store))
    reports, failed = build_all(store, out, only or None, trees=not args.no_trees, cache=args.cache, setting=setting,
                                include_timed_out=args.include_timed_out, overrides=tuple(args.overrides))
    extra = [damaged.report()] if damaged.seen() else []  # never dropped silently: counted and named
    full = "\n\n".join(r.text(max_missing=10**9) for r in [*reports, *extra])
    head = f"store: {terminal(store.resolve())}\ncache: {terminal(args.cache.resolve())}\nout: {terminal(out.resolve())}\n"
    if setting is not None:
        head += f"setting: {setting.label}\n"
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", full + head)), default=0))  # never closed early
    report_path = write_text(out / "build_report.md",
                             f"# Analysis build report\n\n{head}\n{fence}\n{full}\n{fence}\n")
    short = "\n".join(r.text(max_missing=5) for r in [*reports, *extra])
    built = [r.name for r in reports if r.built]
    missing = [r.name for r in reports if not r.built]
    print(short)
    if setting is not None:
        print(f"\n{setting.label}; see {(out / 'README.md').resolve()}")
    print(f"\nBuilt: {', '.join(built) or 'nothing'}. Not built: {', '.join(missing) or 'none'}.")
    print(f"Full report: {report_path.resolve()}")
    lines = output_lines(reports)
    print("Outputs (one line per directory):" if lines else "Outputs: none")
    for line in lines:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.build_all"))
