"""The figures' common style: method colours, matplotlib settings, facets, PNG + PDF output."""

from __future__ import annotations

import math
import os
from pathlib import Path

METHOD_COLORS = {
    "sr_bo": "#4C72B0",
    "sr_random": "#DD8452",
    "sr_bo_gp": "#55A868",
    "gp_baseline": "#8C8C8C",
    "linear_regression": "#C44E52",
}


def set_style() -> None:
    """Non-interactive backend and a clean seaborn look for every figure."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "savefig.bbox": "tight",
        "axes.titleweight": "bold",
        "pdf.fonttype": 42,
    })


def save_figure(fig, base: Path) -> list[Path]:
    """Write ``base.png`` and ``base.pdf`` (creating the directory) and close the figure."""
    import matplotlib.pyplot as plt

    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        path = base.with_suffix(f".{ext}")
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        fig.savefig(tmp, format=ext)
        os.replace(tmp, path)
        paths.append(path)
    plt.close(fig)
    return paths


def facet_axes(n_panels: int, ncols: int = 4, panel: tuple[float, float] = (3.6, 2.9), layout: str | None = None):
    """A figure with ``n_panels`` axes in rows of ``ncols`` (unused axes removed)."""
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n_panels))
    nrows = max(1, math.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows), squeeze=False,
                             layout=layout)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        fig.delaxes(ax)
    return fig, flat[:n_panels]
