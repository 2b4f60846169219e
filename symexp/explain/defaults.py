"""The defaults of ``symexp explain`` (light: the command-line parser reads them).

They were chosen with ``bench/bench_explain.py`` on runs with a known truth; docs/measurements.md
quotes the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

ENGINES: tuple[str, ...] = ("operon", "gplearn", "both")
#: Functions of the SR search: the paper's set without the periodic sin / cos, which fit
#: wiggles of the surrogate rather than trends (measured in bench/bench_explain.py).
EXPLAIN_FUNCTIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "exp", "log", "sqrt")
#: Parsimony coefficients of a gplearn sweep on the standardised target (std 1).
DEFAULT_PARSIMONY: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03)


@dataclass(frozen=True)
class Defaults:
    """The defaults of ``symexp explain`` (see the module docstring)."""

    engine: str = "operon"
    sr_seeds: tuple[int, ...] = (0, 1)
    population_size: int = 500
    generations: int = 20
    max_length: int = 30
    local_iterations: int = 10
    #: operon's formulas are used as SymPy builds them (no ``sympy.simplify``): on the benchmark the
    #: same accuracy and complexity (RMSE vs truth / std 0.058 vs 0.060, 9.8 vs 9.5 operations) in
    #: about 35 % less time (simplifying ~35 front members was half of the SR step). gplearn's
    #: programs, with their protected operations, are always simplified.
    simplify_operon: bool = False
    time_limit_s: float = 20.0
    function_set: tuple[str, ...] = EXPLAIN_FUNCTIONS
    parsimony: tuple[float, ...] = DEFAULT_PARSIMONY
    units: str = "log10"
    n_samples: int = 400
    n_background: int = 200
    check_points: int = 2500
    top_k: int = 2
    cv_folds: int = 5


DEFAULTS = Defaults()
