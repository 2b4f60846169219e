"""How SMAC picks the next configuration: smac 2.0.0's selection (the paper's) or the pinned one's.

The paper pinned smac 2.0.0; symexp pins smac 2.4.1. Between the two, the acquisition
maximiser of the BlackBoxFacade (``LocalAndSortedRandomSearch``) changed in ways that make the
BO trajectory less local (smac 2.1.0, CHANGELOG #1106, and later releases):

=====================================  ====================================  =====================================
                                       smac 2.0.0 (``selection: smac2.0``)   smac 2.4.1 (``selection: native``)
=====================================  ====================================  =====================================
random challengers per iteration       ``retrain_after`` (= 1): the          ``challengers`` (= 1000 for the
                                       ConfigSelector passed                 BlackBoxFacade): ``maximize`` is
                                       ``n_points=retrain_after``            called without ``n_points``
local-search start points              previous configs sorted by EI [:10]   a *set* of: previous configs sorted
                                       + sorted by predicted cost [:10]      by predicted cost [:10] + the 10 best
                                       + the random ones [:10]; ordered,     random ones (order depends on the
                                       duplicates dropped                    hash seed)
challengers returned                   random (sorted by EI) + local-search  local-search results only, sorted by
                                       results, sorted by EI                 EI
local-search walk                      fixed neighbourhood stdev 0.05        adaptive stdev (0.05, doubled after
                                       (8 neighbours per hyperparameter,     3 improvements up to 0.4, halved
                                       SMAC's ``get_one_exchange_            every 3 plateau steps down to
                                       neighbourhood`` partial)              0.005); neighbours changing more than
                                                                             one value or revisiting a value of a
                                                                             small integer are skipped
=====================================  ====================================  =====================================

``selection: smac2.0`` reproduces the left column on smac 2.4.1 with two subclasses passed to
the facade (:class:`Smac20LocalAndSortedRandomSearch`, :class:`Smac20LocalSearch`); they
re-implement the three smac 2.0.0 methods that differ (``LocalAndSortedRandomSearch._maximize``,
``LocalSearch._get_initial_points`` and ``LocalSearch._search``, BSD-3-Clause, automl/SMAC3
v2.0.0) on 2.4.1's classes, consuming the random generators in the same order as 2.0.0 did.
Everything else is 2.4.1's own code.

What still differs from a smac 2.0.0 run (so trajectories are not identical to the paper's):

* ConfigSpace 1.2 instead of 0.6.1 (the authors' pin): random configurations
  (``sample_configuration``) and the one-exchange neighbourhood are implemented differently and
  draw different random numbers from the same seeds. For floats the neighbourhood
  *distribution* is the same (normal, stdev 0.05 in the unit cube), its draws are not.
* Integer hyperparameters (rf ``max_depth``, nn ``batch_size``): ConfigSpace 0.6 encoded an
  integer as a float on ``[lower - 0.49999, upper + 0.49999]`` (log scale if log), 1.2 maps
  ``lower`` -> 0 and ``upper`` -> 1. Both are affine in the (log) value, so the GP sees the same
  geometry up to its length scales (but their bounds and priors are in encoded units); a
  neighbourhood stdev of 0.05 spans ``(upper - lower + 1) / (upper - lower)`` times more values
  in 0.6 (in log units for log ones: ``log(101) / log(50)`` = 1.18 for ``max_depth`` in [1, 50]),
  whose integer neighbours also followed their own rule; and the Sobol design, which converts
  uniform unit-cube points to values, gave every integer equal mass in 0.6 but gives ``lower``
  and ``upper`` half the mass of the others in 1.2. Random sampling gives equal mass in both.
* ConfigSelector: when the challenger list yields only already-evaluated configurations 16 times,
  smac 2.0.0 ended the generator (the run stopped), 2.4.1 proposes random configurations
  (origin ``"Random Search (max retries, no candidates)"``). With one fresh random challenger
  per iteration this needs 16 evaluated configurations ranked above every new one; the
  origins in ``BORun.origins`` show whether it happened.
* scikit-learn / SciPy / NumPy versions of the GP (same algorithm, different rounding).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from ConfigSpace import Configuration
from ConfigSpace.exceptions import ForbiddenValueError
from smac.acquisition.maximizer import LocalAndSortedRandomSearch, LocalSearch
from smac.utils.configspace import convert_configurations_to_array, get_one_exchange_neighbourhood


class Smac20LocalSearch(LocalSearch):
    """smac 2.0.0's local search: ordered start points (EI, predicted cost, random) and the
    walk with a fixed neighbourhood (see the module docstring)."""

    def _get_initial_points(self, previous_configs, n_points, additional_start_points):
        if len(previous_configs) == 0:
            points = self._configspace.sample_configuration(size=n_points)
            return points if isinstance(points, list) else [points]
        return self._get_init_points_from_previous_configs(previous_configs, n_points, additional_start_points)

    def _get_init_points_from_previous_configs(self, previous_configs, n_points, additional_start_points):
        assert self._acquisition_function is not None
        # Draws from self._rng in 2.0.0's order: the EI tie-break first, then the cost tie-break.
        by_acquisition = [c for _, c in self._sort_by_acquisition_value(previous_configs)[:n_points]]
        by_cost: list = []
        model = self._acquisition_function.model
        if model is not None:
            costs = model.predict_marginalized(convert_configurations_to_array(previous_configs))[0]
            if len(costs.shape) == 2 and costs.shape[1] > 1:  # several objectives: random scalarisation
                weights = np.array([self._rng.rand() for _ in range(costs.shape[1])])
                costs = costs @ (weights / np.sum(weights))
            tie_break = self._rng.rand(len(costs))
            order = np.lexsort((tie_break.flatten(), costs.flatten()))  # last key is the primary one
            by_cost = [previous_configs[k] for k in order][:n_points]
        extra = [c for _, c in additional_start_points[:n_points]] if additional_start_points is not None else []
        points: list = []
        seen: set = set()
        for config in itertools.chain(by_acquisition, by_cost, extra):
            if config not in seen:
                points.append(config)
                seen.add(config)
        return points

    def _search(self, start_points):
        assert self._acquisition_function is not None
        acquisition = self._acquisition_function
        if isinstance(start_points, Configuration):
            start_points = [start_points]
        candidates = start_points
        n = len(candidates)
        start_values = acquisition(candidates)
        values = [start_values[0][0]] if n == 1 else [a[0] for a in start_values]

        active = [True] * n
        plateau_steps = [0] * n
        n_obtain = [self._vectorization_min_obtain] * n
        equal_neighbours: list[list[Any]] = [[] for _ in range(n)]
        neighbourhoods = [get_one_exchange_neighbourhood(c, seed=self._rng.randint(low=0, high=100000))
                          for c in candidates]

        while np.any(active):
            improved = [False] * n
            new_neighbourhood = [False] * n
            neighbours: list = []
            for i, neighbourhood in enumerate(neighbourhoods):
                if not active[i]:
                    continue
                got = []
                for _ in range(n_obtain[i]):
                    try:
                        got.append(next(neighbourhood))
                    except ValueError:  # an invalid neighbour (forbidden clauses); try the next one
                        new_neighbourhood[i] = True
                    except StopIteration:
                        new_neighbourhood[i] = True
                        break
                n_obtain[i] = len(got)
                neighbours.extend(got)

            if neighbours:
                neighbour_values = acquisition(neighbours)
                k = 0
                for i in range(n):
                    if not active[i]:
                        continue
                    for _ in range(n_obtain[i]):
                        if improved[i]:  # this search already moved: skip its remaining neighbours
                            k += 1
                            continue
                        if neighbour_values[k] > values[i]:
                            try:
                                neighbours[k].check_valid_configuration()
                                valid = True
                            except (ValueError, ForbiddenValueError):
                                valid = False
                            if valid:
                                candidates[i] = neighbours[k]
                                values[i] = neighbour_values[k]
                                new_neighbourhood[i] = True
                                improved[i] = True
                                equal_neighbours[i] = []
                                n_obtain[i] = 1
                        elif neighbour_values[k] == values[i]:
                            equal_neighbours[i].append(neighbours[k])
                        k += 1

            for i in range(n):
                if not active[i]:
                    continue
                if n_obtain[i] == 0 or improved[i]:
                    n_obtain[i] = 2
                else:
                    n_obtain[i] = min(n_obtain[i] * 2, self._vectorization_max_obtain)
                if new_neighbourhood[i]:
                    if not improved[i] and plateau_steps[i] < self._n_steps_plateau_walk:
                        if equal_neighbours[i]:
                            candidates[i] = equal_neighbours[i][0]
                            equal_neighbours[i] = []
                        plateau_steps[i] += 1
                    if plateau_steps[i] >= self._n_steps_plateau_walk:
                        active[i] = False
                        continue
                    neighbourhoods[i] = get_one_exchange_neighbourhood(
                        candidates[i], seed=self._rng.randint(low=0, high=100000))
        return [(a, c) for a, c in zip(values, candidates)]

class Smac20LocalAndSortedRandomSearch(LocalAndSortedRandomSearch):
    """smac 2.0.0's local-and-sorted-random search with 2.0.0's ``n_points`` (see module docstring).

    ``points_per_iteration``: the random challengers per call when the caller gives no
    ``n_points`` (smac 2.0.0's ConfigSelector passed ``retrain_after``; 2.4.1's passes none).
    """

    def __init__(self, configspace, acquisition_function=None, challengers: int = 5000,
                 max_steps: int | None = None, n_steps_plateau_walk: int = 10, local_search_iterations: int = 10,
                 seed: int = 0, points_per_iteration: int = 1):
        super().__init__(configspace, acquisition_function=acquisition_function, challengers=challengers,
                         max_steps=max_steps, n_steps_plateau_walk=n_steps_plateau_walk,
                         local_search_iterations=local_search_iterations, seed=seed)
        self._local_search = Smac20LocalSearch(configspace=configspace, acquisition_function=acquisition_function,
                                                max_steps=max_steps, n_steps_plateau_walk=n_steps_plateau_walk,
                                                seed=seed)
        self._points_per_iteration = int(points_per_iteration)

    @property
    def meta(self) -> dict[str, Any]:
        meta = super().meta
        meta["selection"] = "smac2.0"
        meta["points_per_iteration"] = self._points_per_iteration
        return meta

    def maximize(self, previous_configs, n_points=None, random_design=None):
        if n_points is None:
            n_points = self._points_per_iteration
        return super().maximize(previous_configs, n_points=n_points, random_design=random_design)

    def _maximize(self, previous_configs, n_points):
        random_sorted = self._random_search._maximize(previous_configs=previous_configs, n_points=n_points,
                                                      _sorted=True)
        local = self._local_search._maximize(previous_configs=previous_configs,
                                             n_points=self._local_search_iterations,
                                             additional_start_points=random_sorted)
        # Random ones first, then a stable sort: while the model predicts a constant, random
        # configurations stay ahead (2.0.0's comment on this order).
        challengers = random_sorted + local
        challengers.sort(reverse=True, key=lambda x: x[0])
        return challengers


def make_acquisition_maximizer(selection: str, scenario, retrain_after: int):
    """The acquisition maximiser for the BlackBoxFacade: None (the facade's default) for
    ``"native"``, :class:`Smac20LocalAndSortedRandomSearch` for ``"smac2.0"``."""
    if selection == "native":
        return None
    if selection == "smac2.0":
        # challengers / local_search_iterations: BlackBoxFacade.get_acquisition_maximizer's defaults
        # (the same in 2.0.0 and 2.4.1); challengers is unused as n_points is always given.
        return Smac20LocalAndSortedRandomSearch(configspace=scenario.configspace, challengers=1000,
                                                local_search_iterations=10, seed=scenario.seed,
                                                points_per_iteration=retrain_after)
    raise ValueError(f"unknown selection {selection!r}; valid: smac2.0, native")
