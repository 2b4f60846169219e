"""A faster gplearn ``SymbolicRegressor`` with bit-identical results (gplearn 0.4.3).

:class:`FastSymbolicRegressor` evolves the same programs as ``gplearn.genetic.SymbolicRegressor``
for the same data and ``random_state``: the same best program (same string), the same raw and
penalised fitness of every program and the same ``run_details_`` (except ``generation_time``).
It overrides only where gplearn spends its time on bookkeeping whose result is known in advance
(the profile in docs/fast_gplearn.md); every random number is drawn from the same generator
state, in the same order, by the same numpy call:

- **one RandomState, re-seeded** instead of ``check_random_state(seed)`` per program: gplearn
  builds a new ``RandomState(seed)`` per program, which in numpy 2 first seeds an MT19937 from
  the operating system's entropy and then re-seeds it with ``seed``; ``RandomState.seed(seed)``
  runs the same legacy seeding (``_legacy_seeding``, then the Gaussian cache is reset), so the
  stream is identical.
- **no index drawing when every row is in the bag** (``max_samples=1.0``, the paper's setting):
  gplearn's ``get_all_indices`` draws ``n - max_samples = 0`` out-of-bag rows from the global
  RandomState set to the program's state; with zero rows nothing is drawn, the in-bag rows are
  all rows and the weights stay all ones. The program's ``_n_samples``, ``_max_samples`` and
  ``_indices_state`` are still set as gplearn sets them, and the global RandomState is left in
  the state gplearn leaves it in (the last program's). With ``max_samples < 1`` gplearn's own
  code runs.
- **the tournament on an array**: the parents' fitness is collected once per generation into a
  float64 array instead of a list per tournament; ``np.argmin``/``np.argmax`` on the same
  values give the same (first) index.
- **subtree probabilities once per parent**: ``get_subtree``'s cumulative node probabilities
  (the same numpy expressions) are built once per parent and generation, then the same
  ``uniform()`` and ``searchsorted``; crossover and hoist/subtree mutation are gplearn's code on
  them (the same draws in the same order); point mutation and reproduction are gplearn's methods.
- **the in-bag state read from the MT19937 struct** (``uint32 key[624]; int pos``) instead of
  numpy's ``get_state()``, which copies the key element by element (70 us); checked against
  ``get_state()`` once per batch, which it then replaces only if equal.
- **rmse / mse without ``np.average``** (unit weights only): ``np.average(a, weights=w)`` is
  ``(a * w).sum() / w.sum()``; with ``w`` all ones that is ``a.sum() / n`` bit for bit.
- **evaluation without per-call error-state contexts**: the protected functions (div, log, inv,
  sig, symexp's capped exp) compute the same numpy expressions, once inside one
  ``np.errstate(all="ignore")`` for the whole fit instead of entering ``np.errstate`` per node
  (numpy 2's context manager is slow); terminals are the same arrays gplearn uses (``X[:, j]``
  views, ``np.repeat`` of constants), so every ufunc sees the same inputs and memory layout.
- **each distinct program is evaluated once per fit**: a table maps a program (its node list,
  compared exactly: same function objects, same feature indices, same constants bit for bit) to
  its raw fitness on this data. Evaluation is deterministic (the same ufuncs on the same arrays),
  so a program seen before gets the number gplearn would compute again. After the first few
  generations most offspring are copies of programs already evaluated (reproduction, and
  crossovers that rebuild an existing program); at the paper's settings about 17,000 of a
  fit's 100,000 programs are distinct (lr on blood_transfusion, n = 20-400). The table lives as long as the estimator's data do (kept
  across warm-started fits on the same bytes, metric and weights; dropped otherwise).
- **programs are built without re-validating** a program produced by a genetic operation (valid
  by construction); the new ``_Program`` has the same attributes in the same order.
- **pruning of old generations stops early**: gplearn (``low_memory=False``) walks back through
  every earlier generation after each one; once a generation loses no program, the earlier ones
  cannot lose any either (they were pruned against the same survivors before), so the walk stops.

Only gplearn 0.4.3 (the pinned version) was audited: with any other version
:func:`regressor_class` returns gplearn's own class. The original stays selectable with
``SYMEXP_SR_REFERENCE=1`` (see :func:`use_reference`); it changes how fast, not what, so it is no
part of a record's identity; records note which ran in ``versions["gplearn_fit"]``.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import math
import os
from time import time
from warnings import warn

import numpy as np
from gplearn import __version__ as GPLEARN_VERSION
from gplearn import functions as gp_functions
from gplearn._program import _Program
from gplearn import fitness as gp_fitness
from gplearn.fitness import _Fitness, _fitness_map
from gplearn.functions import _Function, _function_map
from gplearn.genetic import MAX_INT, SymbolicRegressor
from gplearn.utils import _partition_estimators, check_random_state
from joblib import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, validate_data

from symexp.symbolic.functions import capped_exp

#: The gplearn version whose code this module reproduces.
AUDITED_GPLEARN = "0.4.3"
#: Environment variable selecting gplearn's own SymbolicRegressor.
REFERENCE_ENV = "SYMEXP_SR_REFERENCE"


def use_reference() -> bool:
    """True when ``SYMEXP_SR_REFERENCE`` asks for gplearn's own implementation (any value but
    empty, ``0``, ``false``, ``no``) or the installed gplearn is not the audited version."""
    value = os.environ.get(REFERENCE_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no") or GPLEARN_VERSION != AUDITED_GPLEARN


def implementation() -> str:
    """``"fast"`` or ``"reference"``: which gplearn fit the gplearn engine runs now."""
    return "reference" if use_reference() else "fast"


def regressor_class() -> type:
    """The SymbolicRegressor class the gplearn engine uses (fast unless :func:`use_reference`)."""
    return SymbolicRegressor if use_reference() else FastSymbolicRegressor


# -- evaluation -----------------------------------------------------------------------------------
# The protected functions of gplearn/functions.py, the same expressions without their np.errstate
# (the caller holds one for the whole fit).
def _div(x1, x2):
    return np.where(np.abs(x2) > 0.001, np.divide(x1, x2), 1.)


def _log(x1):
    return np.where(np.abs(x1) > 0.001, np.log(np.abs(x1)), 0.)


def _inv(x1):
    return np.where(np.abs(x1) > 0.001, 1. / x1, 0.)


def _sig(x1):
    return 1 / (1 + np.exp(-x1))


_PLAIN = {gp_functions._protected_division: _div, gp_functions._protected_log: _log,
          gp_functions._protected_inverse: _inv, gp_functions._sigmoid: _sig}


def _plain(node: _Function):
    """The callable computing ``node`` (same numpy expression, no error-state context)."""
    f = node.function
    if f in _PLAIN:
        return _PLAIN[f]
    if isinstance(f, functools.partial) and f.func is capped_exp and not f.args and set(f.keywords) == {"cap"}:
        cap = f.keywords["cap"]
        return lambda x1: np.minimum(np.exp(x1), cap)
    return f  # numpy ufuncs and any other function: called exactly as _Function.__call__ does


def _execute(program: list, X: np.ndarray, funcs: dict, n: int):
    """``_Program.execute``: the same operations on the same arrays, evaluated from the end."""
    node = program[0]
    if isinstance(node, float):
        return np.repeat(node, n)
    if isinstance(node, int):
        return X[:, node]
    stack = []
    for node in reversed(program):
        if isinstance(node, _Function):
            f, arity = funcs[node]
            if arity == 1:
                stack[-1] = f(stack[-1])
            elif arity == 2:
                a = stack.pop()
                stack[-1] = f(a, stack[-1])
            else:
                args = stack[-arity:][::-1]
                del stack[-arity:]
                stack.append(f(*args))
        elif isinstance(node, float):
            stack.append(np.repeat(node, n))
        else:
            stack.append(X[:, node])
    return stack[-1]


def _fast_metric(metric: _Fitness, sample_weight):
    """The raw-fitness function for unit weights when ``metric`` is gplearn's rmse or mse, else None.

    gplearn: ``np.average((y_pred - y) ** 2, weights=w)``, which computes
    ``np.multiply(a, w).sum() / w.sum()``; with ``w`` all ones ``a * 1.0`` is ``a`` bit for bit and
    ``w.sum()`` is ``float(n)`` exactly, so the same sum of the same array divided by the same
    number gives the same float64.
    """
    if sample_weight is not None:
        return None
    if metric.function is gp_fitness._root_mean_square_error:
        return lambda y, y_pred, n: np.sqrt(((y_pred - y) ** 2).sum() / n)
    if metric.function is gp_fitness._mean_square_error:
        return lambda y, y_pred, n: ((y_pred - y) ** 2).sum() / n
    return None


class _StateReader:
    """``random_state.get_state()`` of a legacy RandomState without numpy's element-by-element
    copy of the MT19937 key (70 us): the key and position read from the bit generator's struct
    (``uint32 key[624]; int pos``). Checked against ``get_state()`` on first use; on any
    difference it answers with ``get_state()`` itself."""

    def __init__(self, random_state: np.random.RandomState):
        self.random_state = random_state
        self.raw = None
        try:
            addr = random_state._bit_generator.ctypes.state_address
            self.raw = np.ctypeslib.as_array((ctypes.c_uint32 * 625).from_address(addr))
        except Exception:  # noqa: BLE001 - any other numpy: the slow, public way
            self.raw = None
        self.checked = False

    def __call__(self):
        if self.raw is None:
            return self.random_state.get_state()
        state = ('MT19937', self.raw[:624].copy(), int(self.raw[624]), 0, 0.0)
        if not self.checked:
            ref = self.random_state.get_state()
            same = (len(ref) == 5 and ref[0] == state[0] and np.array_equal(ref[1], state[1])
                    and ref[1].dtype == state[1].dtype and ref[2:] == state[2:]
                    and [type(v) for v in ref[2:]] == [type(v) for v in state[2:]])
            self.checked = True
            if not same:
                self.raw = None
                return ref
        return state


def _subtree_cumprobs(program: list) -> np.ndarray:
    """``_Program.get_subtree``'s cumulative node probabilities (the same numpy operations)."""
    probs = np.array([0.9 if isinstance(node, _Function) else 0.1 for node in program])
    return np.cumsum(probs / probs.sum())


def _subtree(random_state, program: list, probs: np.ndarray):
    """``_Program.get_subtree`` with its probabilities given: one uniform draw, as gplearn's."""
    start = probs.searchsorted(random_state.uniform())  # np.searchsorted(probs, u)
    stack = 1
    end = start
    while stack > end - start:
        node = program[end]
        if isinstance(node, _Function):
            stack += node.arity
        end += 1
    return start, end


def _crossover(program: list, probs: np.ndarray, donor: list, donor_probs: np.ndarray, random_state):
    """``_Program.crossover`` (the parent's and the donor's subtree, in this order)."""
    start, end = _subtree(random_state, program, probs)
    removed = range(start, end)
    donor_start, donor_end = _subtree(random_state, donor, donor_probs)
    donor_removed = list(set(range(len(donor))) - set(range(donor_start, donor_end)))
    return program[:start] + donor[donor_start:donor_end] + program[end:], removed, donor_removed


def _hoist(program: list, probs: np.ndarray, random_state):
    """``_Program.hoist_mutation``."""
    start, end = _subtree(random_state, program, probs)
    subtree = program[start:end]
    sub_start, sub_end = _subtree(random_state, subtree, _subtree_cumprobs(subtree))
    hoist = subtree[sub_start:sub_end]
    removed = list(set(range(start, end)) - set(range(start + sub_start, start + sub_end)))
    return program[:start] + hoist + program[end:], removed


# -- evolution ------------------------------------------------------------------------------------
class _Funcs(dict):
    """Function node -> (callable, arity); a node not in the current function set (a program
    from an earlier fit with another set) is looked up on first use."""

    def __missing__(self, node):
        value = self[node] = (_plain(node), node.arity)
        return value


def _same_nodes(a: list, b: list, a_types: tuple | None = None, b_types: tuple | None = None) -> bool:
    """Whether two programs with equal node tuples are the same bit for bit: ``==`` also holds
    for a feature index and a constant of the same value (``0 == 0.0``) and for ``0.0 == -0.0``.
    ``a_types``, ``b_types``: the node types, if known."""
    if (a_types or tuple(map(type, a))) != (b_types or tuple(map(type, b))):
        return False
    if 0.0 in a:  # a zero constant (or feature 0): compare the signs of zero constants
        for u, v in zip(a, b):
            if type(u) is float and u == 0.0 and math.copysign(1.0, u) != math.copysign(1.0, v):
                return False
    return True


def _fast_evolve(n_programs, parents, X, y, sample_weight, seeds, params, memo=None):
    """``gplearn.genetic._parallel_evolve`` with the same random draws in the same order;
    ``memo``: program node tuple -> (program, node types, raw fitness) on this data (filled here)."""
    if memo is None:
        memo = {}
    n_samples, n_features = X.shape
    tournament_size = params['tournament_size']
    function_set = params['function_set']
    metric = params['_metric']
    transformer = params['_transformer']
    method_probs = params['method_probs']
    max_samples = int(params['max_samples'] * n_samples)
    all_rows = max_samples == n_samples  # gplearn draws n - max_samples = 0 out-of-bag rows
    funcs = _Funcs((f, (_plain(f), f.arity)) for f in function_set)
    # _Program.__init__'s attributes, in its order (program, fitness etc. set per program)
    template = {'function_set': function_set, 'arities': params['arities'],
                'init_depth': (params['init_depth'][0], params['init_depth'][1] + 1),
                'init_method': params['init_method'], 'n_features': n_features,
                'const_range': params['const_range'], 'metric': metric,
                'p_point_replace': params['p_point_replace'],
                'parsimony_coefficient': params['parsimony_coefficient'],
                'transformer': transformer, 'feature_names': params['feature_names'], 'program': None}
    greater = metric.greater_is_better
    fast_metric = _fast_metric(metric, sample_weight) if transformer is None else None
    n_float = float(n_samples)
    cumprobs = {}  # parent index -> get_subtree's cumulative probabilities

    def probs_of(index):
        p = cumprobs.get(index)
        if p is None:
            p = cumprobs[index] = _subtree_cumprobs(parents[index].program)
        return p

    if parents is not None:
        n_parents = len(parents)
        parent_fitness = np.array([p.fitness_ for p in parents], dtype=float)

    random_state = np.random.RandomState(0)
    get_state = _StateReader(random_state)

    def tournament(rs):
        contenders = rs.randint(0, n_parents, tournament_size)
        index = contenders[parent_fitness[contenders].argmax() if greater else parent_fitness[contenders].argmin()]
        return parents[index], index

    programs = []
    state = None
    for i in range(n_programs):
        random_state.seed(seeds[i])  # == check_random_state(seeds[i]): the same legacy seeding
        if parents is None:
            program = None
            genome = None
        else:
            method = random_state.uniform()
            parent, parent_index = tournament(random_state)
            if method < method_probs[0]:
                donor, donor_index = tournament(random_state)
                program, removed, remains = _crossover(parent.program, probs_of(parent_index), donor.program,
                                                       probs_of(donor_index), random_state)
                genome = {'method': 'Crossover', 'parent_idx': parent_index, 'parent_nodes': removed,
                          'donor_idx': donor_index, 'donor_nodes': remains}
            elif method < method_probs[1]:
                chicken = parent.build_program(random_state)
                program, removed, _ = _crossover(parent.program, probs_of(parent_index), chicken,
                                                 _subtree_cumprobs(chicken), random_state)
                genome = {'method': 'Subtree Mutation', 'parent_idx': parent_index, 'parent_nodes': removed}
            elif method < method_probs[2]:
                program, removed = _hoist(parent.program, probs_of(parent_index), random_state)
                genome = {'method': 'Hoist Mutation', 'parent_idx': parent_index, 'parent_nodes': removed}
            elif method < method_probs[3]:
                program, mutated = parent.point_mutation(random_state)
                genome = {'method': 'Point Mutation', 'parent_idx': parent_index, 'parent_nodes': mutated}
            else:
                program = parent.reproduce()
                genome = {'method': 'Reproduction', 'parent_idx': parent_index, 'parent_nodes': []}

        prog = object.__new__(_Program)
        d = prog.__dict__
        d.update(template)
        if program is None:
            program = prog.build_program(random_state)
        d['program'] = program
        d['raw_fitness_'] = None
        d['fitness_'] = None
        d['parents'] = genome
        if not all_rows:
            # gplearn's own code for sub-sampling (OOB fitness)
            d['_n_samples'] = d['_max_samples'] = d['_indices_state'] = None
            curr_sample_weight = np.ones((n_samples,)) if sample_weight is None else sample_weight.copy()
            oob_sample_weight = curr_sample_weight.copy()
            indices, not_indices = prog.get_all_indices(n_samples, max_samples, random_state)
            curr_sample_weight[not_indices] = 0
            oob_sample_weight[indices] = 0
            prog.raw_fitness_ = prog.raw_fitness(X, y, curr_sample_weight)
            prog.oob_fitness_ = prog.raw_fitness(X, y, oob_sample_weight)
            programs.append(prog)
            continue
        state = get_state()
        d['_n_samples'] = n_samples
        d['_max_samples'] = max_samples
        d['_indices_state'] = state
        key = tuple(program)
        types = tuple(map(type, program))
        hit = memo.get(key)
        if hit is not None and _same_nodes(hit[0], program, hit[1], types):
            d['raw_fitness_'] = hit[2]
        else:
            y_pred = _execute(program, X, funcs, n_samples)
            if fast_metric is not None:
                raw = fast_metric(y, y_pred, n_float)
            else:
                weight = np.ones((n_samples,)) if sample_weight is None else sample_weight.copy()
                if transformer:
                    y_pred = transformer(y_pred)
                raw = metric(y, y_pred, weight)
            d['raw_fitness_'] = raw
            if hit is None:
                memo[key] = (program, types, raw)
        programs.append(prog)
    if state is not None:
        # gplearn's get_all_indices leaves the global RandomState in the last program's state
        check_random_state(None).set_state(state)
    return programs


class FastSymbolicRegressor(SymbolicRegressor):
    """``gplearn.genetic.SymbolicRegressor`` (0.4.3) with a faster fit and identical results.

    Same parameters, attributes and results as gplearn's class (see the module docstring for
    what differs in how, not what, it computes). Floating-point warnings during evolution are
    silenced, as gplearn silences them in its protected functions.
    """

    def fit(self, X, y, sample_weight=None):
        """``BaseSymbolic.fit`` of gplearn 0.4.3 for a regressor, with the faster evolution.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,)
        sample_weight : array-like, shape (n_samples,), optional

        Returns
        -------
        self : FastSymbolicRegressor
        """
        random_state = check_random_state(self.random_state)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        X, y = validate_data(self, X, y, y_numeric=True)

        hall_of_fame = self.hall_of_fame
        if hall_of_fame is None:
            hall_of_fame = self.population_size
        if hall_of_fame > self.population_size or hall_of_fame < 1:
            raise ValueError('hall_of_fame (%d) must be less than or equal to '
                             'population_size (%d).' % (self.hall_of_fame, self.population_size))
        n_components = self.n_components
        if n_components is None:
            n_components = hall_of_fame
        if n_components > hall_of_fame or n_components < 1:
            raise ValueError('n_components (%d) must be less than or equal to '
                             'hall_of_fame (%d).' % (self.n_components, self.hall_of_fame))

        self._function_set = []
        for function in self.function_set:
            if isinstance(function, str):
                if function not in _function_map:
                    raise ValueError('invalid function name %s found in `function_set`.' % function)
                self._function_set.append(_function_map[function])
            elif isinstance(function, _Function):
                self._function_set.append(function)
            else:
                raise ValueError('invalid type %s found in `function_set`.' % type(function))
        if not self._function_set:
            raise ValueError('No valid functions found in `function_set`.')

        self._arities = {}
        for function in self._function_set:
            arity = function.arity
            self._arities[arity] = self._arities.get(arity, [])
            self._arities[arity].append(function)

        if isinstance(self.metric, _Fitness):
            self._metric = self.metric
        else:
            if self.metric not in ('mean absolute error', 'mse', 'rmse', 'pearson', 'spearman'):
                raise ValueError('Unsupported metric: %s' % self.metric)
            self._metric = _fitness_map[self.metric]

        self._method_probs = np.array([self.p_crossover, self.p_subtree_mutation,
                                       self.p_hoist_mutation, self.p_point_mutation])
        self._method_probs = np.cumsum(self._method_probs)
        if self._method_probs[-1] > 1:
            raise ValueError('The sum of p_crossover, p_subtree_mutation, '
                             'p_hoist_mutation and p_point_mutation should '
                             'total to 1.0 or less.')
        if self.init_method not in ('half and half', 'grow', 'full'):
            raise ValueError('Valid program initializations methods include '
                             '"grow", "full" and "half and half". Given %s.' % self.init_method)
        if not ((isinstance(self.const_range, tuple) and len(self.const_range) == 2)
                or self.const_range is None):
            raise ValueError('const_range should be a tuple with length two, or None.')
        if not isinstance(self.init_depth, tuple) or len(self.init_depth) != 2:
            raise ValueError('init_depth should be a tuple with length two.')
        if self.init_depth[0] > self.init_depth[1]:
            raise ValueError('init_depth should be in increasing numerical order: (min_depth, max_depth).')
        if self.feature_names is not None:
            if self.n_features_in_ != len(self.feature_names):
                raise ValueError('The supplied `feature_names` has different length to n_features. '
                                 'Expected %d, got %d.' % (self.n_features_in_, len(self.feature_names)))
            for feature_name in self.feature_names:
                if not isinstance(feature_name, str):
                    raise ValueError('invalid type %s found in `feature_names`.' % type(feature_name))
        if self.transformer is not None:
            if isinstance(self.transformer, _Function):
                self._transformer = self.transformer
            elif self.transformer == 'sigmoid':
                self._transformer = gp_functions.sig1
            else:
                raise ValueError('Invalid `transformer`. Expected either "sigmoid" or _Function object, '
                                 'got %s' % type(self.transformer))
            if self._transformer.arity != 1:
                raise ValueError('Invalid arity for `transformer`. Expected 1, got %d.' % (self._transformer.arity))

        params = self.get_params()
        params['_metric'] = self._metric
        params['_transformer'] = getattr(self, '_transformer', None)
        params['function_set'] = self._function_set
        params['arities'] = self._arities
        params['method_probs'] = self._method_probs

        if not self.warm_start or not hasattr(self, '_programs'):
            self._programs = []
            self.run_details_ = {'generation': [], 'average_length': [], 'average_fitness': [],
                                 'best_length': [], 'best_fitness': [], 'best_oob_fitness': [],
                                 'generation_time': []}

        prior_generations = len(self._programs)
        n_more_generations = self.generations - prior_generations
        if n_more_generations < 0:
            raise ValueError('generations=%d must be larger or equal to len(_programs)=%d when warm_start==True'
                             % (self.generations, len(self._programs)))
        elif n_more_generations == 0:
            fitness = [program.raw_fitness_ for program in self._programs[-1]]
            warn('Warm-start fitting without increasing n_estimators does not fit new programs.')

        # raw fitness of the programs evaluated on this data, metric and transformer (kept across
        # warm-started fits on the same bytes)
        context = (_data_digest(X, y, sample_weight), self._metric, params['_transformer'])
        if getattr(self, '_fast_memo_context', None) != context or not hasattr(self, '_fast_memo'):
            self._fast_memo = {}
        self._fast_memo_context = context

        if self.warm_start:
            # the seeds of the generations already evolved, drawn and discarded as gplearn does
            for i in range(len(self._programs)):
                _ = random_state.randint(MAX_INT, size=self.population_size)

        if self.verbose:
            self._verbose_reporter()

        with np.errstate(all='ignore'):
            for gen in range(prior_generations, self.generations):
                start_time = time()
                parents = None if gen == 0 else self._programs[gen - 1]
                n_jobs, n_programs, starts = _partition_estimators(self.population_size, self.n_jobs)
                seeds = random_state.randint(MAX_INT, size=self.population_size)
                if n_jobs == 1:
                    population = [_fast_evolve(n_programs[0], parents, X, y, sample_weight, seeds, params,
                                               self._fast_memo)]
                else:
                    population = Parallel(n_jobs=n_jobs, verbose=int(self.verbose > 1))(
                        delayed(_fast_evolve)(n_programs[i], parents, X, y, sample_weight,
                                              seeds[starts[i]:starts[i + 1]], params)
                        for i in range(n_jobs))
                population = list(itertools.chain.from_iterable(population))

                fitness = [program.raw_fitness_ for program in population]
                length = [len(program.program) for program in population]

                parsimony_coefficient = None
                if self.parsimony_coefficient == 'auto':
                    parsimony_coefficient = np.cov(length, fitness)[1, 0] / np.var(length)
                for program in population:
                    program.fitness_ = program.fitness(parsimony_coefficient)

                self._programs.append(population)

                if not self.low_memory:
                    _prune(self._programs, gen, self.population_size)
                elif gen > 0:
                    self._programs[gen - 1] = None

                best_program = population[np.argmax(fitness) if self._metric.greater_is_better
                                          else np.argmin(fitness)]
                self.run_details_['generation'].append(gen)
                self.run_details_['average_length'].append(np.mean(length))
                self.run_details_['average_fitness'].append(np.mean(fitness))
                self.run_details_['best_length'].append(best_program.length_)
                self.run_details_['best_fitness'].append(best_program.raw_fitness_)
                oob_fitness = np.nan
                if self.max_samples < 1.0:
                    oob_fitness = best_program.oob_fitness_
                self.run_details_['best_oob_fitness'].append(oob_fitness)
                self.run_details_['generation_time'].append(time() - start_time)

                if self.verbose:
                    self._verbose_reporter(self.run_details_)

                if self._metric.greater_is_better:
                    if fitness[np.argmax(fitness)] >= self.stopping_criteria:
                        break
                elif fitness[np.argmin(fitness)] <= self.stopping_criteria:
                    break

        if self._metric.greater_is_better:
            self._program = self._programs[-1][np.argmax(fitness)]
        else:
            self._program = self._programs[-1][np.argmin(fitness)]
        return self


def _data_digest(X, y, sample_weight) -> str:
    """A digest of the training data's bytes (shapes, dtypes and values)."""
    h = hashlib.blake2b(digest_size=16)
    for a in (X, y, sample_weight):
        if a is None:
            h.update(b'none')
            continue
        a = np.ascontiguousarray(a)
        h.update(repr((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _prune(programs: list, gen: int, population_size: int) -> None:
    """gplearn's removal of programs without offspring in the new population (``low_memory=False``),
    walking back from generation ``gen`` and stopping once a generation loses no program: the
    generations before it were pruned against the same survivors after the previous generation
    (so they lose none either). A program's parents are its genome's ``parent_idx`` and
    ``donor_idx`` (gplearn: every genome key containing ``idx``)."""
    everyone = range(population_size)
    for old_gen in range(gen, 0, -1):
        indices = set()
        for program in programs[old_gen]:
            if program is not None:
                genome = program.parents
                indices.add(genome['parent_idx'])
                if 'donor_idx' in genome:
                    indices.add(genome['donor_idx'])
        older = programs[old_gen - 1]
        changed = False
        for idx in everyone:
            if idx not in indices and older[idx] is not None:
                older[idx] = None
                changed = True
        if not changed:
            break
