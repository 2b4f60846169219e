"""One self-contained HTML page of the paper subset: Table 1 beside the paper, the claims, every figure.

Usage::

    python -m analysis.report_page [--subset results/paper_subset] [--out results/paper_subset/report.html]

Reads only what the analysis built from the committed records: ``<subset>/analysis/table1/*/
comparison.csv`` (Table 1 beside the published values), ``<subset>/claims.csv`` and every PNG
below ``<subset>/analysis/`` (figures of the sample-size, parsimony, PD and landscape builders),
each with its caption. Figures are embedded as data URIs and the page has no script and no
external resource, so it opens offline and shows the same thing everywhere. All text read from
files is HTML-escaped.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from analysis.cli import OneLineParser, run_cli
from analysis.names import method_label
from analysis.output import fmt, write_text
from symexp.textsafe import html as safe_html
from symexp.errors import SymexpError

DEFAULT_SUBSET = Path("results/paper_subset")
# Caption of the figures of each analysis builder (the folder below analysis/ it writes to).
CAPTIONS = {
    "sample_size": "RMSE against the true cost over the number of samples n (paper Fig. 4, 9-11): box plots over "
                   "the runs (sampling seeds x SR seeds) per method.",
    "parsimony": "RMSE and operation count over the parsimony coefficient (paper Fig. 5, 8); the elbow rule's "
                 "choice is marked.",
    "pdp": "The five-hyperparameter MLP: fANOVA importance and the partial dependence of the two most "
           "important hyperparameters with the SR formula fitted to it (paper Fig. 6b, 7).",
    "landscapes": "Ground truth on the test grid, the GP's posterior mean and the three SR formulas on a fine "
                  "grid, with the training points (paper Fig. 2, 3).",
}
VERDICT_CLASS = {"holds": "ok", "partly": "part", "does not hold": "bad", "not measured": "none"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; }
th { background: #f3f3f3; }
td.in { background: #e6f4e6; } td.out { background: #fbe9e7; } td.miss { color: #999; }
.ok { color: #1b5e20; font-weight: bold; } .part { color: #8d6e00; font-weight: bold; }
.bad { color: #b71c1c; font-weight: bold; } .none { color: #777; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; }
"""


def _e(value) -> str:
    """Text for the page: HTML-escaped, control characters shown (:func:`symexp.textsafe.html`)."""
    return safe_html(value)


def table1_section(subset: Path) -> str:
    paths = sorted((subset / "analysis" / "table1").glob("*/comparison.csv"))
    if not paths:
        return "<p>No Table 1 comparison built yet (<code>make paper-subset-table</code>).</p>"
    parts = []
    for path in paths:
        df = pd.read_csv(path)
        methods = list(dict.fromkeys(df["method"]))
        inside = int(df["inside"].fillna(False).astype(bool).sum())
        present = int(df["reproduced_mean"].notna().sum())
        parts.append(f"<h3>Protocol {_e(path.parent.name)}: {inside} of {present} cells inside the published "
                     "mean ± std</h3>")
        head = "".join(f"<th>{_e(method_label(m))}</th>" for m in methods)
        rows = []
        for (model, dataset), g in df.groupby(["model", "dataset"], sort=False):
            cells = []
            for m in methods:
                r = g[g["method"] == m].iloc[0]
                if pd.isna(r["reproduced_mean"]):
                    cells.append(f'<td class="miss">– / {fmt(r["published_mean"])} ± {fmt(r["published_std"])}</td>')
                    continue
                cls = "in" if bool(r["inside"]) else "out"
                cells.append(f'<td class="{cls}">{fmt(r["reproduced_mean"])} ± {fmt(r["reproduced_std"])}'
                             f' / {fmt(r["published_mean"])} ± {fmt(r["published_std"])}</td>')
            rows.append(f"<tr><td>{_e(model)}</td><td>{_e(dataset)}</td>{''.join(cells)}</tr>")
        parts.append(f"<table><tr><th>model</th><th>dataset</th>{head}</tr>{''.join(rows)}</table>")
    parts.append("<p>Each cell: ours (mean ± std over SR seeds, sampling seed 0) / published (mean ± std over 5 x 3 "
                 "runs); green: ours, rounded to 3 decimals, lies inside the published range.</p>")
    return "\n".join(parts)


def claims_section(subset: Path) -> str:
    path = subset / "claims.csv"
    if not path.exists():
        return "<p>No claims table built yet (<code>make paper-claims</code>).</p>"
    df = pd.read_csv(path).fillna("")
    rows = [f"<tr><td>{_e(r['claim'])}</td><td>{_e(r['paper'])} <i>({_e(r['where'])})</i></td>"
            f"<td>{_e(r['measured'])}</td><td>{_e(r['rows'])}</td>"
            f"<td class=\"{VERDICT_CLASS.get(r['verdict'], 'none')}\">{_e(r['verdict'])}</td>"
            f"<td>{_e(r['criterion'])}</td></tr>" for _, r in df.iterrows()]
    return ("<table><tr><th>claim</th><th>paper</th><th>measured</th><th>rows and seeds</th><th>verdict</th>"
            f"<th>criterion</th></tr>{''.join(rows)}</table>")


def figures_section(subset: Path) -> str:
    root = subset / "analysis"
    figs = []
    for kind, caption in CAPTIONS.items():
        for png in sorted((root / kind).rglob("*.png")) if (root / kind).is_dir() else []:
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            name = png.relative_to(root).as_posix()
            figs.append(f'<figure><img alt="{_e(name)}" src="data:image/png;base64,{data}">'
                        f"<figcaption><b>{_e(name)}</b>: {_e(caption)}</figcaption></figure>")
    if not figs:
        return ("<p>No figures built from the committed records yet (<code>make paper-sample-size</code>, "
                "<code>make paper-parsimony</code>, <code>make paper-pdp</code>).</p>")
    return "\n".join(figs)


def build_page(subset: Path) -> str:
    if not subset.is_dir():
        raise SymexpError(f"{subset} is not a directory; pass the paper subset's folder (default {DEFAULT_SUBSET})")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>symexp: the paper subset against the paper</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>Symbolic Explanations for HPO: the paper subset against the paper</h1>",
        "<p>Built by <code>make report</code> from the committed records only "
        "(Segel et al., AutoML Conf 2023).</p>",
        "<h2>Table 1</h2>", table1_section(subset),
        "<h2>The paper's claims</h2>", claims_section(subset),
        "<h2>Figures</h2>", figures_section(subset),
        "</body></html>", ""])


def main(argv: list[str] | None = None) -> int:
    p = OneLineParser(prog="analysis.report_page", description=__doc__.splitlines()[0])
    p.add_argument("--subset", type=Path, default=DEFAULT_SUBSET, help=f"the subset's folder (default {DEFAULT_SUBSET})")
    p.add_argument("--out", type=Path, default=None, help="the page (default <subset>/report.html)")
    args = p.parse_args(argv)
    out = args.out or args.subset / "report.html"
    write_text(out, build_page(args.subset))
    print(f"report page: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.report_page"))
