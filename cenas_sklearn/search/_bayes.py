"""Bayesian architecture search over embeddings: the scikit-learn estimator."""

from __future__ import annotations

import numbers
import os

import numpy as np
from sklearn.base import _fit_context
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseArchitectureSearch
from ._optimizer import ACQUISITION_FUNCTIONS, STRATEGIES, CandidateOptimizer


class BayesianArchitectureSearch(BaseArchitectureSearch):
    """Bayesian optimisation of an objective over candidate architectures given by embeddings.

    The scikit-learn front of :class:`CandidateOptimizer`: ``fit(X, y)`` evaluates the
    objective ``y`` at ``n_iter`` candidates (rows of ``X``) chosen by a Gaussian process and
    an acquisition function of scikit-optimize, and keeps the best. The first
    ``n_initial_points`` candidates are drawn at random. No candidate is evaluated twice; the
    search stops early when every candidate has been evaluated.

    A failed evaluation (the objective raises, or returns NaN or infinity) is recorded in
    :attr:`history_` with value NaN and its error message, is skipped (not given to the GP,
    never proposed again) and counts as an evaluation; a warning sums them up at the end.

    Parameters
    ----------
    n_iter : int, default=100
        Number of evaluations of the objective, failures included.
    n_initial_points : int, default=10
        Successful evaluations at random candidates before the GP is used.
    acq_func : {"EI", "PI", "LCB", "gp_hedge"}, default="EI"
        Acquisition function (skopt's).
    xi : float, default=0.01
        Improvement offset of EI and PI, in the units of the objective.
    kappa : float, default=1.96
        Weight of the standard deviation in LCB.
    acq_subset_size : int, default=None
        Evaluate the acquisition function on this many random unevaluated candidates per
        step (the original code: 20); None: on all of them.
    kernel : kernel instance, default=None
        GP kernel; default: ``C * Matern(nu=2.5) + White`` with one length scale, on
        embeddings scaled by their median pairwise distance (see :class:`CandidateOptimizer`).
    fit_hyperparameters : bool, default=True
        Fit the kernel hyperparameters at each step, or keep their initial values.
    n_restarts_optimizer : int, default=0
        Extra random restarts of the hyperparameter fit.
    normalize_y : bool, default=True
        Standardise the objective values before fitting the GP.
    per_init : bool, default=True
        With 3-D ``X`` (one embedding per initialisation): one GP point per initialisation,
        predictions averaged over them; False averages the embeddings first.
    batch_size : int, default=1
        Candidates proposed at once (by constant liar) and evaluated in parallel.
    strategy : {"cl_min", "cl_mean", "cl_max"}, default="cl_min"
        The constant liar's lie when ``batch_size > 1``, as in skopt.
    n_jobs : int, default=None
        Threads evaluating a batch; None means 1.
    maximize : bool, default=True
        Maximise the objective (an accuracy). The GP and :attr:`result_` (a skopt result,
        which minimises) work on its negative.
    checkpoint : str or path-like, default=None
        A JSON file rewritten atomically after every evaluation with the history. If it
        exists when ``fit`` starts, the search resumes: its evaluations are replayed (the
        objective is not called again for them), which reproduces the same search. A file
        that is truncated, fails its checksum or was written by another search is a
        ``ValueError``: the search never silently starts afresh over it. So is a file holding
        more evaluations than ``n_iter``: resuming never truncates the record.
    random_state : int, RandomState instance or None, default=None
        Seed of the search; the same seed gives the same sequence of candidates.
    verbose : int, default=0
        Print one line per evaluation.

    Attributes
    ----------
    best_index_ : int
        Row of ``X`` of the best candidate evaluated (the first one, in case of a tie).
    best_score_ : float
        Its objective value (its accuracy when ``maximize=True``).
    history_ : dict
        ``"index"`` (int64 array), ``"value"`` (float64 array, NaN for a failure) and
        ``"error"`` (list of str or None): every evaluation, in order.
    n_iter_ : int
        Number of evaluations made.
    result_ : OptimizeResult
        The successful evaluations as a scikit-optimize result (``x_iters`` are ``[index]``,
        ``func_vals`` the minimised values, ``models`` the last GP).
    n_features_in_ : int
        Dimension of the embeddings.

    See Also
    --------
    CandidateOptimizer : The ask/tell optimizer behind this estimator.
    RandomArchitectureSearch, RegularizedEvolution : Baselines with the same interface.
    simulate : Replays searches on a tabular benchmark over many seeds.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.search import BayesianArchitectureSearch
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4))                        # embeddings of 300 candidates
    >>> accuracy = 90 - np.sum((X - 0.3) ** 2, axis=1)        # objective: one value each
    >>> search = BayesianArchitectureSearch(n_iter=25, n_initial_points=5, random_state=0)
    >>> search = search.fit(X, lambda i: accuracy[i])
    >>> bool(search.best_index_ == np.argmax(accuracy)), search.history_["index"].shape
    (True, (25,))

    One-hot GP-BO on NAS-Bench-201 is the same estimator on the one-hot features:
    ``search.fit(space.onehot(space), objective)``.
    """

    _parameter_constraints: dict = {
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_initial_points": [Interval(numbers.Integral, 0, None, closed="left")],
        "acq_func": [StrOptions(set(ACQUISITION_FUNCTIONS))],
        "xi": [Interval(numbers.Real, None, None, closed="neither")],
        "kappa": [Interval(numbers.Real, 0, None, closed="left")],
        "acq_subset_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "kernel": [Kernel, None],
        "fit_hyperparameters": ["boolean"],
        "n_restarts_optimizer": [Interval(numbers.Integral, 0, None, closed="left")],
        "normalize_y": ["boolean"],
        "per_init": ["boolean"],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [StrOptions(set(STRATEGIES))],
        "n_jobs": [numbers.Integral, None],
        "maximize": ["boolean"],
        "checkpoint": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, n_iter=100, n_initial_points=10, acq_func="EI", xi=0.01, kappa=1.96,
                 acq_subset_size=None, kernel=None, fit_hyperparameters=True,
                 n_restarts_optimizer=0, normalize_y=True, per_init=True, batch_size=1,
                 strategy="cl_min", n_jobs=None, maximize=True, checkpoint=None,
                 random_state=None, verbose=0):
        self.n_iter = n_iter
        self.n_initial_points = n_initial_points
        self.acq_func = acq_func
        self.xi = xi
        self.kappa = kappa
        self.acq_subset_size = acq_subset_size
        self.kernel = kernel
        self.fit_hyperparameters = fit_hyperparameters
        self.n_restarts_optimizer = n_restarts_optimizer
        self.normalize_y = normalize_y
        self.per_init = per_init
        self.batch_size = batch_size
        self.strategy = strategy
        self.n_jobs = n_jobs
        self.maximize = maximize
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, groups=None):
        """Search the candidates for the best value of the objective.

        Parameters
        ----------
        X : array-like of shape (n_candidates, n_features) or \
                (n_candidates, n_inits, n_features)
            Embeddings of the candidates (one per initialisation, for a 3-D array).
        y : callable or array-like of shape (n_candidates,)
            The objective: a callable taking a candidate index (a row of ``X``) and
            returning a float, such as a :class:`BenchmarkObjective`; or the values
            themselves (NaN for a candidate that cannot be evaluated), to replay a search
            on a table.
        groups : array-like of shape (n_candidates,), default=None
            Group label of each candidate (e.g. its isomorphism class): once a candidate
            is evaluated, no other candidate of its group is.

        Returns
        -------
        self : object
            The fitted search.
        """
        return self._search(X, y, groups)

    @property
    def _batch_size(self):
        return self.batch_size

    def _check_candidates(self, X):
        X = validate_data(self, X, allow_nd=True, dtype=[np.float64, np.float32])
        if X.ndim > 3:
            raise ValueError("X must be a 2-D array (n_candidates, n_features) or a 3-D array "
                             f"(n_candidates, n_inits, n_features); got {X.ndim}-D")
        self.n_features_in_ = X.shape[-1]
        return X, X.shape[0]

    def _make_proposer(self, X, groups, rng):
        return _BatchProposer(
            CandidateOptimizer(
                X, kernel=self.kernel, acq_func=self.acq_func, xi=self.xi, kappa=self.kappa,
                n_initial_points=self.n_initial_points, acq_subset_size=self.acq_subset_size,
                fit_hyperparameters=self.fit_hyperparameters,
                n_restarts_optimizer=self.n_restarts_optimizer, normalize_y=self.normalize_y,
                per_init=self.per_init, groups=groups, maximize=self.maximize,
                model_queue_size=1, random_state=rng),
            self.strategy)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        return tags


class _BatchProposer:
    """The optimizer, with the estimator's constant-liar strategy bound to ``ask``."""

    def __init__(self, optimizer, strategy):
        self.optimizer = optimizer
        self.strategy = strategy

    @property
    def n_available(self):
        return self.optimizer.n_available

    @property
    def models(self):
        return self.optimizer.models

    def ask(self, n_points=None):
        return self.optimizer.ask(n_points, strategy=self.strategy)

    def tell(self, x, y):
        return self.optimizer.tell(x, y)
