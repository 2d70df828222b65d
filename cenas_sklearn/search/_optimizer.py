"""Bayesian optimisation over a finite set of candidates, with scikit-optimize's ask/tell."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state
from skopt.acquisition import gaussian_ei, gaussian_lcb, gaussian_pi
from skopt.utils import create_result

from .._persistence import VersionedPickleMixin
from ._base import CandidatePool, as_index, candidate_space, check_groups
from ._gp import (
    FrozenPosterior,
    default_kernel,
    fit_gp,
    median_distance,
    posterior,
    squared_distances,
)

ACQUISITION_FUNCTIONS = ("EI", "PI", "LCB", "gp_hedge")
STRATEGIES = ("cl_min", "cl_mean", "cl_max")
_HEDGE = ("EI", "LCB", "PI")  # skopt's order for gp_hedge
_ETA = 1.0  # skopt's default gp_hedge temperature


class CandidateOptimizer(VersionedPickleMixin):
    """Bayesian optimisation over a finite set of candidates, with skopt's ask/tell contract.

    The candidates are the rows of ``embeddings``; a point is a candidate **index**. A
    Gaussian process (scikit-optimize's :class:`~skopt.learning.GaussianProcessRegressor`)
    is fitted on the evaluated candidates' embeddings, then an acquisition function of
    scikit-optimize (:func:`~skopt.acquisition.gaussian_ei`, ``gaussian_pi``,
    ``gaussian_lcb``, or skopt's ``gp_hedge`` portfolio of the three) is evaluated on every
    candidate not yet evaluated, and the best is proposed. A candidate is never proposed twice.

    Like skopt's :class:`~skopt.Optimizer`, it **minimises** ``y``, unless
    ``maximize=True``: then ``tell`` takes the values to maximise (accuracies), and the
    optimizer and its :meth:`get_result` work on their negatives, so that the result's
    ``func_vals`` and ``fun`` are ``-accuracy``.

    Parameters
    ----------
    embeddings : array-like of shape (n_candidates, n_features) or \
            (n_candidates, n_inits, n_features)
        One embedding per candidate, or one per random initialisation of each candidate.
        Internally divided by their median pairwise distance, so that kernel length scales
        are in units of a typical distance between candidates.
    kernel : kernel instance, default=None
        The GP kernel; default: ``C(1.0) * Matern(length_scale=1.0, nu=2.5) + White(1e-2)``
        (skopt's default kernel with a single length scale). Kernels of constant, white,
        RBF, Matern and rational quadratic terms with a scalar length scale use a fast path
        (cached distances); any other kernel works, more slowly.
    acq_func : {"EI", "PI", "LCB", "gp_hedge"}, default="EI"
        Expected improvement, probability of improvement, lower confidence bound, or
        skopt's probabilistic choice among the three by their past gains.
    xi : float, default=0.01
        Improvement offset of EI and PI, in the units of ``y``.
    kappa : float, default=1.96
        Weight of the standard deviation in LCB.
    n_initial_points : int, default=10
        Successful evaluations made at candidates drawn uniformly at random before the GP
        is used.
    acq_subset_size : int, default=None
        Evaluate the acquisition function on this many unevaluated candidates drawn at
        random at each step (the original paper's code: 20); None: on all of them.
    fit_hyperparameters : bool, default=True
        Fit the kernel hyperparameters (and the noise level) by maximum likelihood at each
        step; False keeps the kernel's initial values.
    n_restarts_optimizer : int, default=0
        Extra random restarts of the hyperparameter optimisation.
    normalize_y : bool, default=True
        Standardise the targets before fitting the GP.
    per_init : bool, default=True
        With 3-D ``embeddings``: every initialisation of an evaluated candidate is one GP
        point (all with its value), and the posterior mean and variance of a candidate are
        averaged over its initialisations. False averages the embeddings over the
        initialisations first. Ignored for 2-D embeddings.
    groups : array-like of shape (n_candidates,), default=None
        A label per candidate (e.g. its isomorphism class): once a candidate is evaluated,
        no candidate of its group is proposed.
    maximize : bool, default=False
        Maximise the told values instead of minimising them.
    model_queue_size : int, default=None
        Keep only this many of the last fitted GPs in ``models``; None keeps them all.
    random_state : int, RandomState instance or None, default=None
        Seed of the random initial points, of the random subsets, of ties and of gp_hedge.

    Attributes
    ----------
    Xi : list of int
        The candidates told with a finite value, in order.
    yi : list of float
        Their values, as told.
    failed : list of int
        The candidates told with a non-finite value: skipped, never proposed again.
    models : list of GaussianProcessRegressor
        The fitted GPs, the last one fitted on all of ``Xi``.
    space : skopt.space.Space
        One integer dimension, the candidate index.
    gains_ : ndarray of shape (3,)
        With ``acq_func="gp_hedge"``: the gains of EI, LCB and PI.

    Notes
    -----
    The posterior over all candidates is computed once per step from the fitted GP (the
    numbers of scikit-learn's ``predict(X, return_std=True)``), with the squared distances
    from every candidate to each evaluated one cached: ``n_candidates * n_inits**2 * 8``
    bytes per evaluation (125 kB for 15,625 candidates and one embedding each; 16 times
    that with 4 initialisations, which also makes each step about 16 times slower). A step
    at 150 evaluations over 15,625 candidates of dimension 256 takes about 0.2 s on one CPU
    core (``benchmarks/bench_search.py``).

    Failed evaluations are left out of :meth:`get_result` (skopt's result has no notion of
    failure).

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.search import CandidateOptimizer
    >>> rng = np.random.RandomState(0)
    >>> emb = rng.normal(size=(200, 2))
    >>> values = -np.sum((emb - 0.5) ** 2, axis=1)        # best candidate: closest to (0.5, 0.5)
    >>> opt = CandidateOptimizer(emb, n_initial_points=5, maximize=True, random_state=0)
    >>> result = opt.run(lambda i: values[i], n_iter=20)
    >>> bool(result.x[0] == np.argmax(values)), len(result.x_iters)
    (True, 20)
    >>> batch = opt.ask(n_points=3)                   # three distinct new candidates
    >>> len(set(batch) - set(opt.Xi))
    3
    """

    def __init__(self, embeddings, *, kernel=None, acq_func="EI", xi=0.01, kappa=1.96,
                 n_initial_points=10, acq_subset_size=None, fit_hyperparameters=True,
                 n_restarts_optimizer=0, normalize_y=True, per_init=True, groups=None,
                 maximize=False, model_queue_size=None, random_state=None):
        try:
            Z = np.asarray(embeddings)
        except ValueError as exc:  # ragged nested sequences
            raise ValueError(f"embeddings must be an array of numbers: {exc}") from None
        if Z.dtype.kind not in "biuf":
            raise TypeError(f"embeddings must be real numbers, got dtype {Z.dtype}")
        Z = Z.astype(np.float64)
        if Z.ndim == 2:
            Z = Z[:, None, :]
        elif Z.ndim != 3:
            raise ValueError("embeddings must be a 2-D array (n_candidates, n_features) or a "
                             f"3-D array (n_candidates, n_inits, n_features), got {Z.ndim}-D")
        if Z.shape[0] < 1 or Z.shape[1] < 1 or Z.shape[2] < 1:
            raise ValueError(f"embeddings of shape {Z.shape} hold no candidate")
        if not np.isfinite(Z).all():
            raise ValueError("embeddings hold NaN or infinite values")
        if not per_init:
            Z = Z.mean(axis=1, keepdims=True)
        if acq_func not in ACQUISITION_FUNCTIONS:
            raise ValueError(f"acq_func must be one of {ACQUISITION_FUNCTIONS}, got {acq_func!r}")
        for name, value, low in (("n_initial_points", n_initial_points, 0),
                                 ("n_restarts_optimizer", n_restarts_optimizer, 0),
                                 ("acq_subset_size", acq_subset_size, 1),
                                 ("model_queue_size", model_queue_size, 1)):
            if value is None and name in ("acq_subset_size", "model_queue_size"):
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")

        self.n_candidates, self.n_inits, n_features = Z.shape
        flat = Z.reshape(-1, n_features)
        self._Z = flat / median_distance(flat)
        self._sq_norms = (self._Z ** 2).sum(axis=1)
        self.kernel = default_kernel() if kernel is None else kernel
        self.acq_func = acq_func
        self.xi = float(xi)
        self.kappa = float(kappa)
        self.n_initial_points = int(n_initial_points)
        self.acq_subset_size = acq_subset_size
        self.fit_hyperparameters = bool(fit_hyperparameters)
        self.n_restarts_optimizer = int(n_restarts_optimizer)
        self.normalize_y = bool(normalize_y)
        self.maximize = bool(maximize)
        self.max_model_queue_size = model_queue_size
        self.rng = check_random_state(random_state)
        self._gp_seed = int(self.rng.randint(np.iinfo(np.int32).max))
        self.space = candidate_space(self.n_candidates)
        self.specs = {"args": {"acq_func": acq_func, "xi": xi, "kappa": kappa,
                               "n_initial_points": n_initial_points,
                               "acq_subset_size": acq_subset_size, "maximize": maximize},
                      "function": "CandidateOptimizer"}
        self._pool = CandidatePool(self.n_candidates, check_groups(groups, self.n_candidates))
        self._told = np.zeros(self.n_candidates, dtype=bool)
        self.Xi, self.yi, self.failed, self.models = [], [], [], []
        if acq_func == "gp_hedge":
            self.gains_ = np.zeros(len(_HEDGE))
        self._next_xs = None  # the proposal of each hedged acquisition function
        self._model_n_obs = -1  # how many observations the last model saw
        self._sq_cache = {}
        self._cache = {}

    # ------------------------------------------------------------------ public
    @property
    def n_available(self):
        """How many candidates may still be proposed."""
        return len(self._pool)

    def ask(self, n_points=None, strategy="cl_min"):
        """The next candidate to evaluate, or a list of ``n_points`` distinct ones.

        Repeated calls without :meth:`tell` return the same proposal.

        Parameters
        ----------
        n_points : int, default=None
            None: one candidate index. An int: a list of that many distinct indices, for
            parallel evaluation, chosen by the constant liar strategy: after each choice
            the optimizer pretends that the candidate was evaluated at the lie value and
            refits the GP.
        strategy : {"cl_min", "cl_mean", "cl_max"}, default="cl_min"
            The lie: the minimum, mean or maximum of the values so far, on the minimised
            scale (with ``maximize=True``, "cl_min" lies with the best accuracy).

        Returns
        -------
        index : int or list of int

        Raises
        ------
        RuntimeError
            If fewer than ``n_points`` (or 1) candidates remain to be proposed.
        """
        if n_points is not None and (isinstance(n_points, bool)
                                     or not isinstance(n_points, numbers.Integral)
                                     or n_points < 1):
            raise ValueError(f"n_points must be None or an integer >= 1, got {n_points!r}")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        wanted = 1 if n_points is None else int(n_points)
        if self.n_available < wanted:
            grouped = "" if self._pool.groups is None else ", or share a group with one that was"
            raise RuntimeError(
                f"only {self.n_available} of the {self.n_candidates} candidates are left to "
                f"propose (the others were evaluated{grouped}); cannot propose {wanted}")
        key = (wanted, strategy if wanted > 1 else None)  # ask() is ask(1)[0]
        if key not in self._cache:
            self._cache[key] = self._ask(wanted, strategy)
        proposal = self._cache[key]
        return proposal[0] if n_points is None else list(proposal)

    def tell(self, x, y, fit=True):
        """Record the value of one evaluated candidate, or of several.

        Parameters
        ----------
        x : int or list of int
            Candidate index (skopt's one-element point ``[i]`` is accepted too), or a list
            of them when ``y`` is a list.
        y : float or list of float
            The value(s). NaN or infinite marks a failed evaluation: the candidate is
            recorded in ``failed``, not given to the GP, and never proposed again.
        fit : bool, default=True
            Fit the GP now (once ``n_initial_points`` values are known); otherwise it is
            fitted at the next :meth:`ask`.

        Returns
        -------
        result : OptimizeResult or None
            As :meth:`get_result`; None while no evaluation has succeeded.
        """
        if np.ndim(y) == 0:
            xs, ys = [as_index(x, self.n_candidates)], [y]
        else:
            if np.ndim(x) == 0 or len(x) != len(y):
                raise ValueError("with a list of values y, x must be a list of as many "
                                 f"candidates; got x={x!r}")
            xs, ys = [as_index(xi, self.n_candidates) for xi in x], list(y)
        ys = [_check_value(index, value) for index, value in zip(xs, ys, strict=True)]
        if len(set(xs)) != len(xs):
            raise ValueError(f"a candidate is told twice in {xs}")
        for index in xs:
            if self._told[index]:
                raise ValueError(f"candidate {index} was already told")
        for index, value in zip(xs, ys, strict=True):
            self._told[index] = True
            self._pool.remove(index)
            if np.isfinite(value):
                self.Xi.append(index)
                self.yi.append(value)
            else:
                self.failed.append(index)
        self._cache = {}
        if fit and self._model_phase(len(self.yi)):
            self._refit()
        return self.get_result() if self.yi else None

    def run(self, func, n_iter=1):
        """Evaluate ``func`` at ``n_iter`` successive proposals (:meth:`ask` + :meth:`tell`).

        ``func`` takes a candidate index and returns a float; a NaN return is a failed
        evaluation, an exception propagates.

        Returns
        -------
        result : OptimizeResult
        """
        for _ in range(n_iter):
            x = self.ask()
            self.tell(x, func(x))
        return self.get_result()

    def get_result(self):
        """The evaluations so far as a scikit-optimize ``OptimizeResult``.

        ``x_iters`` are the successful evaluations as one-element points ``[index]``,
        ``func_vals`` their values on the minimised scale (``-y`` with ``maximize=True``),
        ``x`` and ``fun`` the best of them; ``models``, ``space``, ``specs`` and
        ``random_state`` as in skopt, so that :func:`skopt.plots.plot_convergence` works.
        """
        if not self.yi:
            raise ValueError("no evaluation has succeeded yet")
        result = create_result([[i] for i in self.Xi], self._minimised(self.yi), self.space,
                               self.rng, models=self.models)
        result.specs = self.specs
        return result

    # ------------------------------------------------------------------ internals
    def _minimised(self, values):
        values = np.asarray(values, dtype=np.float64)
        return -values if self.maximize else values

    def _model_phase(self, n_obs):
        return n_obs >= max(1, self.n_initial_points)

    def _refit(self):
        """Fit the GP on all observations; update the gp_hedge gains; queue the model."""
        gp = self._fit(self.Xi, self._minimised(self.yi))
        if self._next_xs is not None and self.acq_func == "gp_hedge":
            mean, _ = self._posterior(gp, self.Xi, np.asarray(self._next_xs))
            self.gains_ -= mean
        self._next_xs = None
        self.models.append(gp)
        if self.max_model_queue_size is not None and \
                len(self.models) > self.max_model_queue_size:
            del self.models[0]
        self._model_n_obs = len(self.yi)
        return gp

    def _rows(self, candidates):
        candidates = np.asarray(candidates, dtype=np.intp)
        return (candidates[:, None] * self.n_inits + np.arange(self.n_inits)).reshape(-1)

    def _fit(self, train, y):
        return fit_gp(self.kernel, self._Z[self._rows(train)], np.repeat(y, self.n_inits),
                      fit_hyperparameters=self.fit_hyperparameters,
                      n_restarts_optimizer=self.n_restarts_optimizer,
                      normalize_y=self.normalize_y, random_state=self._gp_seed)

    def _sq_columns(self, train):
        """Squared distances from every candidate row to the rows of ``train`` (cached)."""
        missing = [index for index in dict.fromkeys(train) if index not in self._sq_cache]
        if missing:  # one matrix product for all the new columns
            rows = self._rows(missing)
            sq = squared_distances(self._Z, self._Z[rows], self._sq_norms, self._sq_norms[rows])
            for k, index in enumerate(missing):
                self._sq_cache[index] = sq[:, k * self.n_inits:(k + 1) * self.n_inits].copy()
        return np.concatenate([self._sq_cache[index] for index in train], axis=1)

    def _posterior(self, gp, train, candidates):
        """Posterior mean and std of each candidate (averaged over its inits)."""
        rows, train_rows = self._rows(candidates), self._rows(train)
        if self.acq_subset_size is None:
            sq = self._sq_columns(train)
            sq = sq if len(rows) == sq.shape[0] else sq[rows]
        else:
            sq = squared_distances(self._Z[rows], self._Z[train_rows], self._sq_norms[rows],
                                   self._sq_norms[train_rows])
        mean, var = posterior(gp, self._Z[rows], self._Z[train_rows], sq)
        mean = mean.reshape(-1, self.n_inits).mean(axis=1)
        var = var.reshape(-1, self.n_inits).mean(axis=1)
        return mean, np.sqrt(var)

    def _ask(self, n_points, strategy):
        """``n_points`` proposals: the first from the current state, the next ones with lies."""
        pool = self._pool.copy()
        train, y = list(self.Xi), list(self._minimised(self.yi))
        proposals = []
        for k in range(n_points):
            if not self._model_phase(len(y)):
                x = pool.draw(self.rng)
            else:
                if k == 0:
                    gp = self.models[-1] if self._model_n_obs == len(self.yi) else self._refit()
                else:
                    gp = self._fit(train, np.asarray(y))
                x = self._acquire(gp, train, np.asarray(y), pool, hedge_record=k == 0)
            proposals.append(x)
            pool.remove(x)
            if k + 1 < n_points:
                lie = {"cl_min": np.min, "cl_mean": np.mean,
                       "cl_max": np.max}[strategy](y) if y else 0.0
                train.append(x)
                y.append(float(lie))
        return proposals

    def _acquire(self, gp, train, y, pool, hedge_record):
        """The candidate of ``pool`` that the acquisition function prefers."""
        candidates = np.flatnonzero(pool.available)
        if self.acq_subset_size is not None and self.acq_subset_size < candidates.size:
            candidates = np.sort(self.rng.choice(candidates, self.acq_subset_size,
                                                 replace=False))
        mean, std = self._posterior(gp, train, candidates)
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise ValueError(
                "the Gaussian process's posterior is not finite: the objective values range "
                f"from {np.min(y):.3g} to {np.max(y):.3g} (on the minimised scale), beyond "
                "what it can fit; rescale the objective (e.g. to accuracies in [0, 100])")
        model, X = FrozenPosterior(mean, std), np.arange(candidates.size)[:, None]
        y_opt = float(np.min(y))
        choices = []
        for acq in (_HEDGE if self.acq_func == "gp_hedge" else (self.acq_func,)):
            if acq == "EI":
                score = gaussian_ei(X, model, y_opt=y_opt, xi=self.xi)
            elif acq == "PI":
                score = gaussian_pi(X, model, y_opt=y_opt, xi=self.xi)
            else:
                score = -gaussian_lcb(X, model, kappa=self.kappa)
            best = np.flatnonzero(score == score.max())
            choices.append(int(candidates[best[0] if best.size == 1 else self.rng.choice(best)]))
        if self.acq_func != "gp_hedge":
            return choices[0]
        if hedge_record:
            self._next_xs = choices
        logits = _ETA * (self.gains_ - self.gains_.max())
        probs = np.exp(logits) / np.exp(logits).sum()
        return choices[int(np.argmax(self.rng.multinomial(1, probs)))]


def _check_value(index, value):
    """A told value as a float (NaN or infinity marks a failure), or a TypeError."""
    if isinstance(value, bool | np.bool_ | str | bytes) or np.ndim(value) != 0:
        raise TypeError(f"the value of candidate {index} must be a real number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"the value of candidate {index} must be a real number, got "
                        f"{value!r}") from None
