"""Objectives of a search that look accuracies up in a benchmark."""

from __future__ import annotations

import numpy as np


class BenchmarkObjective:
    """The accuracy of candidate ``i``, looked up in a benchmark: a search objective.

    Parameters
    ----------
    benchmark : TabularBenchmark or NATSBenchmark
        Anything with ``accuracy(arch)`` (and ``accuracy(arch, dataset)`` when ``dataset``
        is given).
    dataset : str, default=None
        The dataset of a :class:`~cenas_sklearn.benchmarks.TabularBenchmark`; default: its
        first.
    architectures : sequence of str or int, default=None
        The architecture of each candidate (a string, or an index of the benchmark's space);
        default: candidate ``i`` is architecture ``i`` of the benchmark's space.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.benchmarks import TabularBenchmark
    >>> from cenas_sklearn.search import BenchmarkObjective
    >>> acc = np.full(15625, np.nan)
    >>> acc[[3, 7]] = [91.5, 72.25]
    >>> bench = TabularBenchmark("nb201", {"cifar10": acc})
    >>> objective = BenchmarkObjective(bench, "cifar10", architectures=[7, 3])
    >>> objective(0), objective(1)
    (72.25, 91.5)
    >>> objective.values()
    array([72.25, 91.5 ])
    """

    def __init__(self, benchmark, dataset=None, *, architectures=None):
        if not hasattr(benchmark, "accuracy"):
            raise TypeError(f"benchmark must have an accuracy method, got "
                            f"{type(benchmark).__name__}")
        self.benchmark = benchmark
        self.dataset = dataset
        self.architectures = architectures

    def _architecture(self, index):
        return index if self.architectures is None else self.architectures[index]

    def __call__(self, index):
        """Accuracy of candidate ``index`` (:class:`KeyError` if the table has none)."""
        arch = self._architecture(int(index))
        if self.dataset is None:
            return self.benchmark.accuracy(arch)
        return self.benchmark.accuracy(arch, self.dataset)

    def values(self):
        """The accuracy of every candidate (NaN where there is none), from ``table()``.

        Returns
        -------
        values : ndarray of shape (n_candidates,)
        """
        if not hasattr(self.benchmark, "table"):
            raise TypeError(f"{type(self.benchmark).__name__} has no table of all accuracies")
        table = np.asarray(self.benchmark.table(self.dataset), dtype=np.float64)
        if self.architectures is None:
            return table.copy()
        return table[self.benchmark.space.indices(self.architectures)]

    def __repr__(self):
        return (f"{type(self).__name__}({self.benchmark!r}, dataset={self.dataset!r}"
                f"{'' if self.architectures is None else ', architectures=[...]'})")
