"""Text outputs: atomic writers, number formatting, Markdown tables, and a builder's :class:`Report`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from symexp.store.atomic import atomic_write_text
from symexp.textsafe import latex as _latex
from symexp.textsafe import terminal

DEFAULT_OUT = Path("results/analysis")


def write_text(path: Path, text: str) -> Path:
    return atomic_write_text(path, text if text.endswith("\n") else text + "\n")


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    return write_text(path, df.to_csv(index=False, lineterminator="\n"))


def fmt(x: Any, digits: int = 3) -> str:
    """A number with fixed decimals, or an en dash when missing."""
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}"


def latex_escape(s: str) -> str:
    """Text for LaTeX outside math (:func:`symexp.textsafe.latex`)."""
    return _latex(s)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    align = align or ["l"] * len(header)
    sep = ["---:" if a == "r" else ":---:" if a == "c" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(terminal(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


class Report:
    """What a builder produced and what it could not build, printed at the end."""

    def __init__(self, name: str):
        self.name = name
        self.outputs: list[Path] = []
        self.missing: list[str] = []
        self.notes: list[str] = []

    def add(self, *paths: Path | Iterable[Path]) -> None:
        for p in paths:
            if isinstance(p, Path):
                self.outputs.append(p)
            else:
                self.outputs.extend(p)

    @property
    def built(self) -> bool:
        return bool(self.outputs)

    def text(self, max_missing: int = 50) -> str:
        lines = [f"== {self.name}: {'built' if self.built else 'nothing built'}"]
        lines += [f"   {terminal(line)}" for n in self.notes for line in str(n).splitlines()]
        if self.outputs:
            dirs = sorted({str(p.parent) for p in self.outputs})
            lines.append(f"   {len(self.outputs)} file(s) in: {', '.join(dirs)}")
        if self.missing:
            lines.append(f"   missing ({len(self.missing)}):")
            shown = self.missing[:max_missing]
            lines += [f"     - {terminal(m)}" for m in shown]
            if len(self.missing) > max_missing:
                lines.append(f"     ... and {len(self.missing) - max_missing} more (see the report files)")
        return "\n".join(lines)
