"""Replay searches on a tabular benchmark over many seeds: best-so-far curves, JSON, plots."""

from __future__ import annotations

import json
import numbers
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from ._base import write_json_atomic
from ._objective import BenchmarkObjective

CURVES_FORMAT = "cenas_sklearn.search.curves"


@dataclass(frozen=True, eq=False)
class SearchCurves:
    """Best-so-far curves of one search method on one benchmark, one per seed.

    Parameters
    ----------
    method : str
        Name of the search method.
    benchmark : str
        Name of the benchmark table.
    dataset : str or None
        Its dataset.
    seeds : tuple of int
        The ``random_state`` of each run, in row order.
    best_so_far : ndarray of shape (n_seeds, n_queries)
        ``best_so_far[s, n - 1]``: the best value found by run ``s`` in its first ``n``
        evaluations (NaN before its first success; the last value repeated if the run
        stopped early, having evaluated every candidate).
    queried : ndarray of shape (n_seeds, n_queries)
        The candidate evaluated at each query (-1 after an early stop).
    optimum : float
        The best value of the table over the candidates.
    optimum_index : int
        The candidate that has it.
    maximize : bool, default=True
        Whether higher is better.
    fit_time : ndarray of shape (n_seeds,), default=None
        Seconds each run took.

    Attributes
    ----------
    mean, std, median : ndarray of shape (n_queries,)
        Statistics over the seeds of the best value so far (std with ``ddof=0``).
    regret : ndarray of shape (n_seeds, n_queries)
        Distance to the optimum (>= 0) of each run's best value so far.
    """

    method: str
    benchmark: str
    dataset: str | None
    seeds: tuple
    best_so_far: np.ndarray
    queried: np.ndarray
    optimum: float
    optimum_index: int
    maximize: bool = True
    fit_time: np.ndarray | None = field(default=None)

    @property
    def n_queries(self):
        return self.best_so_far.shape[1]

    @property
    def mean(self):
        return np.nanmean(self.best_so_far, axis=0)

    @property
    def std(self):
        return np.nanstd(self.best_so_far, axis=0)

    @property
    def median(self):
        return np.nanmedian(self.best_so_far, axis=0)

    @property
    def regret(self):
        sign = 1.0 if self.maximize else -1.0
        return sign * (self.optimum - self.best_so_far)

    def summary(self, n_queries=None):
        """Mean, std and median best value, and mean regret after ``n_queries`` (default:
        all)."""
        n = self.n_queries if n_queries is None else int(n_queries)
        if not 1 <= n <= self.n_queries:
            raise ValueError(f"n_queries must be in 1..{self.n_queries}, got {n_queries}")
        return {"method": self.method, "n_queries": n, "n_seeds": len(self.seeds),
                "mean": float(self.mean[n - 1]), "std": float(self.std[n - 1]),
                "median": float(self.median[n - 1]),
                "mean_regret": float(np.nanmean(self.regret[:, n - 1])),
                "optimum": self.optimum}

    # ------------------------------------------------------------------ JSON
    def to_dict(self):
        """A JSON-ready dict (NaN as null), with the mean, std, median and mean regret."""
        def nested(a):
            return [[None if np.isnan(v) else float(v) for v in row] for row in a]

        def flat(a):
            return [None if np.isnan(v) else float(v) for v in a]

        return {
            "format": CURVES_FORMAT, "version": 1,
            "method": self.method, "benchmark": self.benchmark, "dataset": self.dataset,
            "seeds": [int(s) for s in self.seeds], "n_queries": self.n_queries,
            "maximize": bool(self.maximize), "optimum": float(self.optimum),
            "optimum_index": int(self.optimum_index),
            "best_so_far": nested(self.best_so_far),
            "queried": self.queried.astype(int).tolist(),
            "fit_time": None if self.fit_time is None else flat(self.fit_time),
            "mean": flat(self.mean), "std": flat(self.std), "median": flat(self.median),
            "mean_regret": flat(np.nanmean(self.regret, axis=0)),
        }

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict` (the derived statistics are recomputed)."""
        if not isinstance(data, dict) or data.get("format") != CURVES_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"not search curves: format {found!r}")

        def array(rows):
            return np.array([[np.nan if v is None else v for v in row] for row in rows],
                            dtype=np.float64).reshape(len(rows), -1)

        fit_time = data.get("fit_time")
        return cls(method=data["method"], benchmark=data["benchmark"],
                   dataset=data["dataset"], seeds=tuple(data["seeds"]),
                   best_so_far=array(data["best_so_far"]),
                   queried=np.array(data["queried"], dtype=np.int64).reshape(
                       len(data["queried"]), -1),
                   optimum=float(data["optimum"]), optimum_index=int(data["optimum_index"]),
                   maximize=bool(data["maximize"]),
                   fit_time=None if fit_time is None else np.array(
                       [np.nan if v is None else v for v in fit_time], dtype=np.float64))

    def to_json(self, path):
        """Write the curves to a JSON file (atomically)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_json(cls, path):
        """Read curves written by :meth:`to_json`.

        A file that is not valid JSON, or not search curves, is a ``ValueError`` naming it.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:  # truncated, or not text
            raise ValueError(f"cannot read search curves from {path}: {exc}") from exc
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} does not hold valid search curves: {exc!r}") from exc


def _one_run(search, X, values, n_queries):
    start = time.perf_counter()
    search.fit(X, values)
    elapsed = time.perf_counter() - start
    history = search.history_
    best = np.full(n_queries, np.nan)
    queried = np.full(n_queries, -1, dtype=np.int64)
    n = len(history["index"])
    queried[:n] = history["index"]
    sign = -1.0 if search.maximize else 1.0
    running = np.fmin.accumulate(sign * history["value"]) * sign  # NaN-aware running best
    best[:n] = running
    best[n:] = running[-1] if n else np.nan
    return best, queried, elapsed


def simulate(search, benchmark, dataset=None, *, X=None, architectures=None, n_queries=100,
             seeds=10, method=None, path=None, n_jobs=None, verbose=0):
    """Replay a search on a tabular benchmark over several seeds.

    Every run searches the candidates for the best accuracy of the table, which the search
    reads as its objective (``fit(X, values)``); its score after ``n`` queries is the best
    accuracy among its first ``n`` evaluations. Failures (architectures without a value in
    the table) count as queries.

    Parameters
    ----------
    search : estimator or callable
        An unfitted search (:class:`BayesianArchitectureSearch`,
        :class:`RandomArchitectureSearch`, :class:`RegularizedEvolution`...), cloned for
        each seed with ``n_iter=n_queries`` and ``random_state=seed``; or a callable
        ``seed -> search`` (its ``n_iter`` is set to ``n_queries``).
    benchmark : TabularBenchmark
        The table (anything with ``table(dataset)``, ``space`` and ``name``).
    dataset : str, default=None
        Its dataset; default: its first.
    X : array-like or sequence, default=None
        What ``fit`` receives as candidates: embeddings aligned with ``architectures``
        for a Bayesian search; default: the architecture indices (``architectures``, or
        ``np.arange(len(benchmark.space))``), which random search and regularised evolution
        take.
    architectures : sequence of str or int, default=None
        The architecture of each candidate; default: every architecture of the space, in
        index order.
    n_queries : int, default=100
        Evaluations per run.
    seeds : int or sequence of int, default=10
        The seeds: an int ``n`` means ``0, ..., n - 1``.
    method : str, default=None
        Name of the method in the output; default: the search's class name.
    path : str or path-like, default=None
        If given, the curves are also written there as JSON.
    n_jobs : int, default=None
        Runs in parallel (joblib); None means 1.
    verbose : int, default=0
        Print one line per run.

    Returns
    -------
    curves : SearchCurves
        The best-so-far curves, with the seeds, the optimum and the regret.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.benchmarks import TabularBenchmark
    >>> from cenas_sklearn.search import RandomArchitectureSearch, simulate
    >>> acc = np.random.RandomState(0).uniform(10, 90, size=15625)
    >>> bench = TabularBenchmark("nb201", {"cifar10": acc}, name="toy")
    >>> curves = simulate(RandomArchitectureSearch(), bench, n_queries=20, seeds=3)
    >>> curves.best_so_far.shape, curves.seeds, bool((curves.regret >= 0).all())
    ((3, 20), (0, 1, 2), True)
    """
    if isinstance(n_queries, bool) or not isinstance(n_queries, numbers.Integral) \
            or n_queries < 1:
        raise ValueError(f"n_queries must be an integer >= 1, got {n_queries!r}")
    if isinstance(seeds, numbers.Integral):
        seeds = range(int(seeds))
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds is empty")
    objective = BenchmarkObjective(benchmark, dataset, architectures=architectures)
    values = objective.values()
    if np.isnan(values).all():
        raise ValueError(f"the {getattr(benchmark, 'name', 'benchmark')} table has no value "
                         "for any candidate")
    if X is None:
        X = np.arange(len(values)) if architectures is None else architectures
    if len(X) != len(values):
        raise ValueError(f"X has {len(X)} candidates, the architectures {len(values)}")

    searches = []
    for seed in seeds:
        if hasattr(search, "get_params"):
            est = clone(search).set_params(n_iter=n_queries, random_state=seed)
        else:
            est = search(seed)
            est.set_params(n_iter=n_queries)
        searches.append(est)
    maximize = bool(getattr(searches[0], "maximize", True))
    optimum_index = int(np.nanargmax(values) if maximize else np.nanargmin(values))
    name = method or type(searches[0]).__name__

    runs = Parallel(n_jobs=n_jobs)(delayed(_one_run)(est, X, values, n_queries)
                                   for est in searches)
    if verbose:
        for seed, (best, _, elapsed) in zip(seeds, runs, strict=True):
            print(f"[simulate] {name} seed {seed}: best {best[-1]:.6g} after {n_queries} "
                  f"queries ({elapsed:.1f} s)", flush=True)
    curves = SearchCurves(
        method=name, benchmark=str(getattr(benchmark, "name", type(benchmark).__name__)),
        dataset=dataset if dataset is not None else (benchmark.datasets[0]
                                                     if hasattr(benchmark, "datasets") else None),
        seeds=seeds, best_so_far=np.stack([r[0] for r in runs]),
        queried=np.stack([r[1] for r in runs]), optimum=float(values[optimum_index]),
        optimum_index=optimum_index, maximize=maximize,
        fit_time=np.array([r[2] for r in runs]))
    if path is not None:
        curves.to_json(path)
    return curves


def plot_curves(curves, *, regret=False, ax=None, band="std"):
    """Plot the best value so far (or the regret) against the number of queries.

    Parameters
    ----------
    curves : SearchCurves, list of SearchCurves or dict of str to SearchCurves
        One curve per method; a dict's keys are the labels (default: ``method``).
    regret : bool, default=False
        Plot the mean regret (log scale) instead of the mean best value.
    ax : matplotlib Axes, default=None
        Where to draw; default: the current axes.
    band : {"std", "quartiles"} or None, default="std"
        ``"std"``: the mean over the seeds, shaded one standard deviation either side;
        ``"quartiles"``: the median, the first to third quartiles shaded (better for the
        regret's log scale); None: the mean alone.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn in.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from cenas_sklearn.benchmarks import TabularBenchmark
    >>> from cenas_sklearn.search import RandomArchitectureSearch, plot_curves, simulate
    >>> acc = np.random.RandomState(0).uniform(10, 90, size=15625)
    >>> bench = TabularBenchmark("nb201", {"cifar10": acc}, name="toy")
    >>> curves = simulate(RandomArchitectureSearch(), bench, n_queries=10, seeds=2)
    >>> ax = plot_curves({"random": curves}, regret=True, band="quartiles")
    >>> ax.get_xlabel()
    'number of queries'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if band not in ("std", "quartiles", None):
        raise ValueError(f'band must be "std", "quartiles" or None, got {band!r}')
    if isinstance(curves, SearchCurves):
        curves = [curves]
    items = list(curves.items()) if isinstance(curves, dict) else [(c.method, c) for c in curves]
    if ax is None:
        ax = plt.gca()
    for label, c in items:
        queries = np.arange(1, c.n_queries + 1)
        data = c.regret if regret else c.best_so_far
        if band == "quartiles":
            low, centre, high = np.nanpercentile(data, [25, 50, 75], axis=0)
        else:
            centre, std = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
            low, high = centre - std, centre + std
        (line,) = ax.plot(queries, centre, label=f"{label} ({len(c.seeds)} seeds)")
        if band is not None:
            ax.fill_between(queries, low, high, color=line.get_color(), alpha=0.2)
    if regret:
        ax.set_yscale("log")
        what = "regret (optimum - best so far)"
    else:
        ax.axhline(items[0][1].optimum, color="k", linestyle="--", linewidth=1, label="optimum")
        what = "best value so far"
    ax.set_ylabel(f"{'median' if band == 'quartiles' else 'mean'} {what}")
    first = items[0][1]
    ax.set_xlabel("number of queries")
    ax.set_title(f"{first.benchmark}" + (f" / {first.dataset}" if first.dataset else ""))
    ax.legend()
    return ax
