"""Cheap analytic objectives and spaces for tests and timing (not used by experiments)."""

from __future__ import annotations

import math

from symexp.benchmarks.space import Numerical, SearchSpace


def branin_space() -> SearchSpace:
    """Two hyperparameters shaped like the paper's pairs: one log-scaled float, one log-scaled int."""
    return SearchSpace((
        Numerical("alpha", 1e-5, 1.0, log=True),
        Numerical("batch_size", 4, 256, log=True, integer=True),
    ))


def float_space() -> SearchSpace:
    """Two plain floats (the Branin domain)."""
    return SearchSpace((Numerical("x1", -5.0, 10.0), Numerical("x2", 0.0, 15.0)))


def branin(config: dict, seed: int) -> float:
    """Branin on the unit square spanned by ``branin_space`` or ``float_space`` (log axes mapped
    linearly in log space), scaled to roughly [0, 1]. Deterministic (``seed`` is ignored)."""
    if "x1" in config:
        x1, x2 = float(config["x1"]), float(config["x2"])
    else:
        u = (math.log(config["alpha"]) - math.log(1e-5)) / (math.log(1.0) - math.log(1e-5))
        v = (math.log(config["batch_size"]) - math.log(4)) / (math.log(256) - math.log(4))
        x1, x2 = -5.0 + 15.0 * u, 15.0 * v
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return ((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10) / 300.0


def failing_branin(config: dict, seed: int) -> float:
    """``branin`` that fails (returns NaN) for ``alpha > 1e-3`` (the top 40% of its log range)."""
    if config.get("alpha", 0.0) > 1e-3:
        return float("nan")
    return branin(config, seed)


class CountingObjective:
    """``branin`` that counts its calls and raises ``RuntimeError`` on call number ``raise_at``
    (1-based; None: never), to interrupt a BO run late. Picklable."""

    def __init__(self, raise_at: int | None = None):
        self.raise_at = raise_at
        self.calls = 0

    def __call__(self, config: dict, seed: int) -> float:
        self.calls += 1
        if self.raise_at is not None and self.calls >= self.raise_at:
            raise RuntimeError(f"objective interrupted at call {self.calls}")
        return branin(config, seed)


class PidFileObjective:
    """Writes the evaluating process's PID to ``path`` and then sleeps ``seconds`` (to observe a
    SMAC worker process from outside). Picklable."""

    def __init__(self, path: str, seconds: float):
        self.path = path
        self.seconds = seconds

    def __call__(self, config: dict, seed: int) -> float:
        import os
        import time

        with open(self.path, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(self.seconds)
        return branin(config, seed)
