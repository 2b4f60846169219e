"""The report page (analysis.report_page): self-contained, escaped, and opened in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis.report_page import build_page

ROOT = Path(__file__).resolve().parents[1]
SUBSET = ROOT / "results" / "paper_subset"


def browser() -> str | None:
    out = subprocess.run(["bash", str(ROOT / "tools" / "browser.sh"), "path"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def hostile_subset(tmp: Path) -> Path:
    """A subset folder whose claims and comparison carry markup, and one figure."""
    sub = tmp / "subset"
    (sub / "analysis" / "table1" / "hpobench").mkdir(parents=True)
    shutil.copy(SUBSET / "analysis" / "table1" / "hpobench" / "comparison.csv",
                sub / "analysis" / "table1" / "hpobench" / "comparison.csv")
    claims = pd.read_csv(SUBSET / "claims.csv")
    claims.loc[0, "measured"] = '<script>document.title="owned"</script><img src=x onerror=alert(1)>'
    claims.to_csv(sub / "claims.csv", index=False)
    (sub / "analysis" / "parsimony" / "hpobench").mkdir(parents=True)
    shutil.copy(_png(tmp), sub / "analysis" / "parsimony" / "hpobench" / "fig.png")
    return sub


def _png(tmp: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    path = tmp / "fig.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def test_page_is_self_contained_and_escapes_what_it_reads(tmp_path):
    page = build_page(hostile_subset(tmp_path))
    assert "<script" not in page and "<img src=x" not in page  # only as escaped text
    assert "&lt;script&gt;" in page
    assert re.findall(r'src="([^"]+)"', page) and all(s.startswith("data:image/png;base64,")
                                                     for s in re.findall(r'src="([^"]+)"', page))
    assert "http://" not in page and "https://" not in page  # no external resource
    comparison = pd.read_csv(SUBSET / "analysis" / "table1" / "hpobench" / "comparison.csv")
    assert page.count('<td class="in">') == int(comparison["inside"].fillna(False).astype(bool).sum())


@pytest.mark.skipif(browser() is None, reason="no chromium here (make test installs it as root with apt)")
def test_page_renders_in_a_headless_browser(tmp_path):
    """Chromium loads the page from disk without network; its DOM has the tables, the figure and
    the hostile text as text (the document title is the page's own)."""
    page = tmp_path / "report.html"
    page.write_text(build_page(hostile_subset(tmp_path)), encoding="utf-8")
    args = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>symexp: the paper subset against the paper</title>" in dom.stdout
    assert dom.stdout.count("<table>") >= 2 and "<figure>" in dom.stdout
    assert "owned" not in dom.stdout.split("</title>")[0]
    shot = tmp_path / "shot.png"
    run = subprocess.run([*args, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and shot.stat().st_size > 10_000, run.stderr[-2000:]
