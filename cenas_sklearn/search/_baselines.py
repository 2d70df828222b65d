"""Baselines for the Bayesian search, with its interface: random search and regularised
evolution."""

from __future__ import annotations

import numbers
import os
from collections import deque

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..spaces import get_space
from ..spaces._resolve import _ALIASES
from ._base import BaseArchitectureSearch, CandidatePool, as_index

_COMMON_CONSTRAINTS = {
    "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "maximize": ["boolean"],
    "checkpoint": [str, os.PathLike, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def _check_sequence(X):
    """The candidates as a list or an array, with their number."""
    if isinstance(X, str) or not hasattr(X, "__len__"):
        raise TypeError("X must be a sequence of candidates (architectures, or rows of an "
                        f"array), got {type(X).__name__}")
    if isinstance(X, np.ndarray) and X.ndim == 0:
        raise TypeError("X must be a sequence of candidates, got a 0-d array")
    if len(X) == 0:
        raise ValueError("X holds no candidate")
    return X, len(X)


class _Proposer:
    """One candidate at a time; failures (NaN values) are dropped from the state."""

    def __init__(self, n_candidates, groups, rng, maximize):
        self.pool = CandidatePool(n_candidates, groups)
        self.rng = rng
        self.sign = -1.0 if maximize else 1.0
        self._next = None
        self._told = np.zeros(n_candidates, dtype=bool)
        self.n_candidates = n_candidates

    @property
    def n_available(self):
        return len(self.pool)

    def ask(self, n_points=None):
        if n_points not in (None, 1):
            raise ValueError(f"{type(self).__name__} proposes one candidate at a time")
        if self.n_available == 0:
            raise RuntimeError(f"all {self.n_candidates} candidates have been evaluated")
        if self._next is None:
            self._next = self._propose()
        return self._next if n_points is None else [self._next]

    def tell(self, x, y):
        x = as_index(x, self.n_candidates)
        if self._told[x]:
            raise ValueError(f"candidate {x} was already told")
        self._told[x] = True
        self._next = None
        self.pool.remove(x)
        if np.isfinite(y):
            self._record(x, self.sign * float(y))


class _RandomProposer(_Proposer):
    def _propose(self):
        return self.pool.draw(self.rng)

    def _record(self, x, y):
        pass


class RandomArchitectureSearch(BaseArchitectureSearch):
    """Random search: evaluate ``n_iter`` candidates drawn uniformly without replacement.

    The baseline of :class:`BayesianArchitectureSearch`, with its interface and attributes.

    Parameters
    ----------
    n_iter : int, default=100
        Number of evaluations, failures included.
    maximize : bool, default=True
        Maximise the objective (an accuracy); :attr:`result_` holds its negative.
    checkpoint : str or path-like, default=None
        JSON file of the history, rewritten after every evaluation; resumed from if it
        exists (see :class:`BayesianArchitectureSearch`).
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.
    verbose : int, default=0
        Print one line per evaluation.

    Attributes
    ----------
    best_index_ : int
        Index of the best candidate evaluated.
    best_score_ : float
        Its objective value.
    history_ : dict
        ``"index"``, ``"value"`` (NaN for a failure) and ``"error"`` of every evaluation.
    n_iter_ : int
        Number of evaluations made.
    result_ : OptimizeResult
        The successful evaluations as a scikit-optimize result.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.search import RandomArchitectureSearch
    >>> values = np.linspace(80.0, 90.0, 50)
    >>> search = RandomArchitectureSearch(n_iter=10, random_state=0).fit(np.arange(50), values)
    >>> len(set(search.history_["index"])), bool(search.best_score_ == values[search.best_index_])
    (10, True)
    """

    _parameter_constraints: dict = dict(_COMMON_CONSTRAINTS)

    def __init__(self, *, n_iter=100, maximize=True, checkpoint=None, random_state=None,
                 verbose=0):
        self.n_iter = n_iter
        self.maximize = maximize
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, groups=None):
        """Evaluate random candidates.

        Parameters
        ----------
        X : sequence of length n_candidates
            The candidates: architectures, embeddings (rows of an array), indices...; only
            their number is used.
        y : callable or array-like of shape (n_candidates,)
            The objective: a callable taking a candidate index and returning a float, or
            the values themselves (see :class:`BayesianArchitectureSearch`).
        groups : array-like of shape (n_candidates,), default=None
            Group label of each candidate: at most one candidate per group is evaluated.

        Returns
        -------
        self : object
            The fitted search.
        """
        return self._search(X, y, groups)

    def _check_candidates(self, X):
        return _check_sequence(X)

    def _make_proposer(self, X, groups, rng):
        return _RandomProposer(len(X), groups, rng, self.maximize)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags


class _EvolutionProposer(_Proposer):
    """Regularised evolution (Real et al., 2019) over candidate rows."""

    def __init__(self, n_candidates, groups, rng, maximize, *, mutations, population_size,
                 sample_size):
        super().__init__(n_candidates, groups, rng, maximize)
        self.mutations = mutations  # row -> rows of its one-edit neighbours among the candidates
        self.population_size = population_size
        self.sample_size = sample_size
        self.population = deque()  # (row, minimised value), oldest first
        self.parents = {}  # row -> row of its parent, for the mutated children

    def _propose(self):
        if len(self.population) < self.population_size:
            return self.pool.draw(self.rng)
        picks = self.rng.randint(len(self.population), size=self.sample_size)
        parent = min((self.population[i] for i in picks), key=lambda member: member[1])[0]
        children = [row for row in self.mutations(parent) if self.pool.available[row]]
        if not children:  # every neighbour evaluated: a fresh random candidate instead
            return self.pool.draw(self.rng)
        child = children[self.rng.randint(len(children))]
        self.parents[child] = parent
        return child

    def _record(self, x, y):
        self.population.append((x, y))
        if len(self.population) > self.population_size:
            self.population.popleft()  # aging: the oldest dies, whatever its value


class RegularizedEvolution(BaseArchitectureSearch):
    """Regularised (aging) evolution over the architectures of a search space.

    REA (Real et al., 2019), as benchmarked on NAS-Bench-201: a population of
    ``population_size`` random architectures; then, at each step, ``sample_size`` members
    are drawn at random (with replacement), the best of them is mutated — one edge's
    operation for :class:`~cenas_sklearn.spaces.NB201Space`, one layer's width for
    :class:`~cenas_sklearn.spaces.NATSSizeSpace`, through ``space.neighbours`` — the
    child is evaluated and joins the population, and the oldest member dies.

    Unlike the original, no evaluation is spent twice: the mutation is drawn among the
    parent's neighbours that are candidates not yet evaluated (and, with ``groups``, not
    in the group of an evaluated one); if there is none, a random candidate is evaluated
    instead. A failed evaluation does not join the population.

    Parameters
    ----------
    space : SearchSpace or str, default="nb201"
        The search space of the architectures, or its name.
    population_size : int, default=30
        Size of the population (and number of initial random architectures).
    sample_size : int, default=10
        Members drawn to pick a parent.
    n_iter : int, default=100
        Number of evaluations, failures included.
    maximize : bool, default=True
        Maximise the objective (an accuracy).
    checkpoint : str or path-like, default=None
        JSON file of the history (see :class:`BayesianArchitectureSearch`).
    random_state : int, RandomState instance or None, default=None
        Seed of the search.
    verbose : int, default=0
        Print one line per evaluation.

    Attributes
    ----------
    best_index_ : int
        Position in ``X`` of the best architecture evaluated.
    best_score_ : float
        Its objective value.
    history_ : dict
        ``"index"``, ``"value"``, ``"error"`` as for :class:`BayesianArchitectureSearch`,
        and ``"parent"``: the position of the parent of each mutated child, -1 for a random
        architecture.
    n_iter_ : int
        Number of evaluations made.
    result_ : OptimizeResult
        The successful evaluations as a scikit-optimize result.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.search import RegularizedEvolution
    >>> from cenas_sklearn.spaces import NB201Space
    >>> space = NB201Space()
    >>> score = space.onehot(space)[:, 3::5].sum(axis=1)  # number of conv3x3 edges
    >>> rea = RegularizedEvolution(population_size=10, sample_size=3, n_iter=60, random_state=0)
    >>> rea = rea.fit(np.arange(len(space)), score)
    >>> child, parent = rea.history_["index"][-1], rea.history_["parent"][-1]
    >>> space[child] in space.neighbours(space[parent])
    True
    """

    _parameter_constraints: dict = {
        "space": [StrOptions(set(_ALIASES)), HasMethods(["neighbours", "index"])],
        "population_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "sample_size": [Interval(numbers.Integral, 1, None, closed="left")],
        **_COMMON_CONSTRAINTS,
    }

    def __init__(self, *, space="nb201", population_size=30, sample_size=10, n_iter=100,
                 maximize=True, checkpoint=None, random_state=None, verbose=0):
        self.space = space
        self.population_size = population_size
        self.sample_size = sample_size
        self.n_iter = n_iter
        self.maximize = maximize
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, groups=None):
        """Evolve architectures.

        Parameters
        ----------
        X : sequence of str or int of length n_candidates
            The candidate architectures: strings or indices of ``space`` (e.g.
            ``np.arange(len(space))`` for the whole space). Candidate ``i`` is ``X[i]``.
        y : callable or array-like of shape (n_candidates,)
            The objective: a callable taking a candidate position ``i`` and returning a
            float, or the values themselves.
        groups : array-like of shape (n_candidates,), default=None
            Group label of each candidate: at most one candidate per group is evaluated.

        Returns
        -------
        self : object
            The fitted search.
        """
        return self._search(X, y, groups)

    def _check_candidates(self, X):
        X, n = _check_sequence(X)
        indices = get_space(self.space).indices(X)  # the candidates, as indices of the space
        if np.unique(indices).size != n:
            raise ValueError("X lists an architecture more than once")
        return indices, n

    def _make_proposer(self, indices, groups, rng):
        space = get_space(self.space)
        rows = {int(index): row for row, index in enumerate(indices)}

        def mutations(row):
            neighbours = (space.index(arch) for arch in space.neighbours(int(indices[row])))
            return [rows[index] for index in neighbours if index in rows]

        return _EvolutionProposer(len(indices), groups, rng, self.maximize, mutations=mutations,
                                  population_size=self.population_size,
                                  sample_size=self.sample_size)

    def _history_extras(self, proposer, indices):
        return {"parent": np.array([proposer.parents.get(i, -1) for i in indices],
                                   dtype=np.int64)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags
