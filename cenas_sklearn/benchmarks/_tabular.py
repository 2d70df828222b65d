"""Accuracies of every architecture of a search space, looked up in a table."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..spaces import SearchSpace, get_space

# The files of the LightOn tables (lightonai/contrastive-embeddings-for-neural-architectures,
# folders SearchSpaces/Bench201 and SearchSpaces/BenchNatsss), by NATS-Bench space name.
# ``archs`` lists the architecture of every row; ``accuracies`` maps a dataset to its file.
#
# What the numbers are was checked against the NATS-Bench archives (indices 0, 11, 284):
# - Bench201: CIFAR-10 is the "ori-test" accuracy of the "cifar10" setting (trained on
#   train+valid), CIFAR-100 the "x-test" accuracy, both after 200 epochs and each from a
#   single training run (one seed per architecture, not the mean over seeds).
# - BenchNatsss: both files hold *validation* accuracies after 90 epochs: "cifar10_accs"
#   is the "x-valid" accuracy of the "cifar10-valid" setting (trained on the train split
#   only) and "cifar100_accs" the "x-valid" accuracy of "cifar100". The datasets are named
#   as in NATS-Bench so that they are not mistaken for test accuracies.
LIGHTON_LAYOUTS = {
    "tss": {
        "archs": "configs.txt",
        "accuracies": {"cifar10": "cifar10_test_accs.npy", "cifar100": "cifar100_test_accs.npy"},
        "metric": "test",
    },
    "sss": {
        "archs": "arch_strings.npy",
        "accuracies": {"cifar10-valid": "cifar10_accs.npy", "cifar100": "cifar100_accs.npy"},
        "metric": "valid",
    },
}


def _is_single(archs) -> bool:
    """One architecture (a string, an index, or anything else not iterable) or several."""
    return isinstance(archs, str | bytes) or not isinstance(archs, Iterable)


class TabularBenchmark:
    """Accuracies of the architectures of a search space, by dataset.

    A tabular benchmark answers "how accurate is this architecture?" by
    looking it up: row ``i`` of each table is the architecture of official
    index ``i`` of ``space``. Architectures are accepted as strings (in any
    notation the space parses) or as indices.

    Parameters
    ----------
    space : SearchSpace or str
        The search space, or its name for :func:`~cenas_sklearn.spaces.get_space`.
    accuracies : dict of str to array-like of shape (len(space),)
        Accuracy in percent of every architecture, by dataset name, in the
        space's index order. ``NaN`` marks an architecture that was not
        evaluated: looking it up raises :class:`KeyError`, and :meth:`optimum`
        ignores it. Infinite values and values outside ``[0, 100]`` are
        rejected with :class:`ValueError`. The arrays are copied.
    name : str, default=None
        Name of the benchmark, shown in messages.
    metric : str, default="test"
        What the accuracies measure (``"test"`` or ``"valid"``). Descriptive
        only: it is recorded so that a validation table is not taken for a
        test table.

    Attributes
    ----------
    space : SearchSpace
        The search space whose architectures the tables describe.
    datasets : tuple of str
        The datasets, in the order they were given; the first is the default.

    See Also
    --------
    fetch_nb201 : The NAS-Bench-201 table (15,625 architectures).
    fetch_nats_size : The NATS-Bench size-space table (32,768 architectures).
    NATSBenchmark : Mean-over-seeds results read from the NATS-Bench archives.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.spaces import NB201Space
    >>> from cenas_sklearn.benchmarks import TabularBenchmark
    >>> space = NB201Space()
    >>> acc = np.full(len(space), np.nan)
    >>> acc[[0, 11]] = [85.62, 91.2]
    >>> bench = TabularBenchmark(space, {"cifar10": acc}, name="toy")
    >>> bench.accuracy(0)
    85.62
    >>> bench.accuracy([space[11], 0])
    array([91.2 , 85.62])
    >>> bench.optimum()
    (11, 91.2)
    >>> bench.accuracy(1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    KeyError: "architecture '|nor_conv_3x3~0|+...' (index 1) has no cifar10 accuracy in the toy..."
    """

    def __init__(self, space, accuracies, *, name=None, metric="test"):
        self._space = get_space(space)
        self.name = type(self).__name__ if name is None else str(name)
        self.metric = str(metric)
        if not isinstance(accuracies, dict) or not accuracies:
            raise TypeError("accuracies must be a non-empty dict of dataset name to array")
        n = len(self.space)
        self._tables = {}
        for dataset, values in accuracies.items():
            if not isinstance(dataset, str):
                raise TypeError(f"dataset names must be strings, got {dataset!r}")
            table = np.array(values, dtype=np.float64)
            if table.shape != (n,):
                raise ValueError(
                    f"the {dataset} accuracies have shape {table.shape}, expected ({n},): "
                    f"one per architecture of {self.space!r}"
                )
            _check_accuracies(table, f"the {dataset} accuracies")
            table.flags.writeable = False
            self._tables[dataset] = table

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_folder(cls, path, space, *, name=None):
        """Load a table in the layout of the LightOn repository, checking its alignment.

        NB201 folders (``space`` of ``nats_name`` ``"tss"``) hold ``configs.txt``
        (line ``i`` = architecture ``i``), ``cifar10_test_accs.npy`` and
        ``cifar100_test_accs.npy``: test accuracies, datasets ``"cifar10"``
        and ``"cifar100"``. NATS size-space folders (``"sss"``) hold
        ``arch_strings.npy``, ``cifar10_accs.npy`` and ``cifar100_accs.npy``:
        *validation* accuracies, datasets ``"cifar10-valid"`` and
        ``"cifar100"`` as NATS-Bench names them.

        The architecture list of the folder must equal the space's index
        order entry for entry, so that no accuracy is ever attributed to the
        wrong architecture. Arrays are read with ``allow_pickle=False``.

        Parameters
        ----------
        path : str or path-like
            The folder.
        space : SearchSpace or str
            :class:`~cenas_sklearn.spaces.NB201Space` (``"nb201"``) or
            :class:`~cenas_sklearn.spaces.NATSSizeSpace` (``"sss"``).
        name : str, default=None
            Name of the benchmark; default: the folder's name.

        Returns
        -------
        bench : TabularBenchmark

        Raises
        ------
        FileNotFoundError
            If a file is missing (the message gives its full path).
        ValueError
            If the architecture list is not the space's order (the message
            names the first line or entry at fault), an array has the wrong
            shape or type, or holds infinite or out-of-range accuracies
            (the message names the file).
        """
        space = get_space(space)
        if space.nats_name not in LIGHTON_LAYOUTS:
            raise ValueError(f"no table layout is known for {space!r}")
        layout = LIGHTON_LAYOUTS[space.nats_name]
        folder = Path(path).expanduser()
        _check_architecture_list(folder / layout["archs"], space)
        accuracies = {
            dataset: _load_accuracies(folder / filename, len(space))
            for dataset, filename in layout["accuracies"].items()
        }
        return cls(space, accuracies, name=folder.name if name is None else name,
                   metric=layout["metric"])

    # ------------------------------------------------------------------ queries
    @property
    def space(self) -> SearchSpace:
        # Read-only: the tables are aligned with this space's index order.
        return self._space

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def _table(self, dataset) -> tuple[str, np.ndarray]:
        if dataset is None:
            dataset = self.datasets[0]
        try:
            return dataset, self._tables[dataset]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown dataset {dataset!r} for the {self.name} table; "
                f"expected one of {', '.join(map(repr, self.datasets))}"
            ) from None

    def _index(self, arch) -> int:
        try:
            return self.space.index(arch)
        except (ValueError, IndexError) as exc:
            raise KeyError(f"architecture {arch!r} is not in the {self.name} table: {exc}") from exc

    def accuracy(self, archs, dataset=None):
        """Accuracy in percent of one architecture or of several.

        Parameters
        ----------
        archs : str, int or iterable of str or int
            An architecture (string or index) or an iterable of them.
        dataset : str, default=None
            One of :attr:`datasets`; default: the first.

        Returns
        -------
        accuracy : float or ndarray of shape (n_archs,)
            A float for a single architecture, else a ``float64`` array.

        Raises
        ------
        KeyError
            If ``dataset`` is unknown (the message lists the known ones), or an
            architecture is malformed, out of range or has no accuracy in the
            table (the message names it).
        """
        dataset, table = self._table(dataset)
        single = _is_single(archs)
        archs = [archs] if single else list(archs)
        indices = np.fromiter((self._index(a) for a in archs), dtype=np.int64, count=len(archs))
        values = table[indices]
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            index = int(indices[missing[0]])
            others = f" (and {missing.size - 1} more)" if missing.size > 1 else ""
            raise KeyError(
                f"architecture {self.space[index]!r} (index {index}) has no {dataset} "
                f"accuracy in the {self.name} table{others}"
            )
        return float(values[0]) if single else values

    def optimum(self, dataset=None):
        """The most accurate architecture of the table.

        Parameters
        ----------
        dataset : str, default=None
            One of :attr:`datasets`; default: the first.

        Returns
        -------
        index : int
            Its index (the smallest one in case of a tie); ``space[index]`` is
            its string.
        accuracy : float
            Its accuracy in percent.
        """
        dataset, table = self._table(dataset)
        if np.isnan(table).all():
            raise ValueError(f"the {self.name} table has no accuracy for dataset {dataset!r}")
        index = int(np.nanargmax(table))
        return index, float(table[index])

    def table(self, dataset=None) -> np.ndarray:
        """The accuracies of all architectures, in the space's index order.

        Parameters
        ----------
        dataset : str, default=None
            One of :attr:`datasets`; default: the first.

        Returns
        -------
        table : ndarray of shape (len(space),)
            A read-only ``float64`` view; ``NaN`` where there is no accuracy.
        """
        view = self._table(dataset)[1].view()
        view.flags.writeable = False
        return view

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, space={self.space!r}, "
                f"datasets={self.datasets!r}, metric={self.metric!r})")


# ---------------------------------------------------------------------- file checks
def _check_accuracies(table: np.ndarray, what: str) -> None:
    if np.isinf(table).any():
        bad = int(np.flatnonzero(np.isinf(table))[0])
        raise ValueError(f"{what} hold an infinite value (at index {bad}); "
                         "use NaN for an architecture that was not evaluated")
    finite = table[~np.isnan(table)]
    if finite.size and (finite.min() < 0 or finite.max() > 100):
        raise ValueError(f"{what} are not percentages in [0, 100]: they range from "
                         f"{finite.min()} to {finite.max()}")


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")


def _load_array(path: Path) -> np.ndarray:
    _require_file(path)
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise ValueError(f"{path} cannot be read without unpickling it: {exc}") from exc
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{path} holds an archive of arrays, expected a single array")
    return array


def _load_accuracies(path: Path, n: int) -> np.ndarray:
    array = _load_array(path)
    if array.shape != (n,):
        raise ValueError(f"{path} has shape {array.shape}, expected ({n},): "
                         "one accuracy per architecture")
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{path} holds {array.dtype} values, expected accuracies (floats)")
    array = array.astype(np.float64)
    _check_accuracies(array, f"the accuracies of {path}")
    return array


def _check_architecture_list(path: Path, space: SearchSpace) -> None:
    """Raise ValueError unless the file lists the space's architectures in index order."""
    if path.suffix == ".npy":
        archs = _load_array(path)
        if archs.dtype.kind != "U" or archs.ndim != 1:
            raise ValueError(f"{path} holds {archs.dtype} of shape {archs.shape}, "
                             "expected a 1-d array of architecture strings")
        where = "entry"
        archs = archs.tolist()
    else:
        _require_file(path)
        text = path.read_text(encoding="utf-8")
        archs = text.splitlines()
        where = "line"
    if len(archs) != len(space):
        raise ValueError(f"{path} lists {len(archs)} architectures, expected {len(space)} "
                         f"(one per architecture of {space!r})")
    for i, (found, expected) in enumerate(zip(archs, space, strict=True)):
        if found != expected:
            number = i + 1 if where == "line" else i
            raise ValueError(
                f"{path}: {where} {number} reads {found!r} but architecture {i} of "
                f"{space!r} is {expected!r}; the file is not in the official index order, "
                "so its accuracies cannot be attributed"
            )

