"""NATS-Bench results (mean over seeds) read with the official ``nats_bench`` API."""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

from ..spaces import get_space
from ._tabular import _is_single

#: The datasets of NATS-Bench, as its API names them.
NATS_DATASETS = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")
_METRICS = ("valid", "test")
# The fast-mode archive folders of NATS-Bench v1.0 (nats_bench's ALL_BASE_NAMES + "-simple").
_ARCHIVES = {"tss": "NATS-tss-v1_0-3ffb9-simple", "sss": "NATS-sss-v1_0-50262-simple"}
# Training schedules (epochs) the archives hold, and the one of the paper.
_HPS = {"tss": ("12", "200"), "sss": ("01", "12", "90")}
_DEFAULT_HP = {"tss": "200", "sss": "90"}
_META = "meta.pickle.pbz2"
_DOWNLOAD_HINT = (
    "Download the fast-mode archive {archive}.tar as the NATS-Bench README says "
    "(https://github.com/D-X-Y/NATS-Bench#preparation-and-download) and extract it under "
    "$TORCH_HOME, so that $TORCH_HOME/{archive}/{meta} exists, or pass the folder as path="
)


def _torch_home() -> Path:
    # nats_bench's rule (api_utils.get_torch_home), which differs from torch.hub's.
    from nats_bench.api_utils import get_torch_home

    return Path(get_torch_home())


def _find_archive(path, nats_name: str) -> Path:
    """The archive folder: ``path`` itself or its ``NATS-*-simple`` child; $TORCH_HOME's if None."""
    archive = _ARCHIVES[nats_name]
    if path is None:
        candidates = [_torch_home() / archive]
    else:
        root = Path(path).expanduser()
        if root.is_file():
            raise FileNotFoundError(
                f"{root} is a file; NATSBenchmark reads the fast-mode archive folder "
                f"{archive}/ (the per-architecture files and {_META}), not a single-file archive"
            )
        candidates = [root, root / archive]
    for folder in candidates:
        if (folder / _META).is_file():
            return folder
    looked = ", ".join(str(folder / _META) for folder in candidates)
    raise FileNotFoundError(
        f"no NATS-Bench {nats_name} archive found: looked for {looked}. "
        + _DOWNLOAD_HINT.format(archive=archive, meta=_META)
    )


def _check_choice(name, value, choices):
    if isinstance(value, str):
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
    raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _check_hp(hp, nats_name: str) -> str:
    choices = _HPS[nats_name]
    if hp is None:
        return _DEFAULT_HP[nats_name]
    integer = isinstance(hp, numbers.Integral) and not isinstance(hp, bool)
    if integer or (isinstance(hp, str) and hp.strip().isdigit()):
        hp = f"{int(hp):02d}"  # 1 -> "01", 90 -> "90", the archives' keys
    if hp not in choices:
        raise ValueError(
            f"hp (training epochs) must be one of {', '.join(map(repr, choices))} for the "
            f"{nats_name} space, got {hp!r}"
        )
    return hp


class NATSBenchmark:
    """Accuracies and costs of architectures, read from the NATS-Bench archives.

    A thin, deterministic layer over the official ``nats_bench`` API
    (``nats_bench.create(archive, "tss" or "sss", fast_mode=True)``). Results
    are the **mean over the training seeds** at the end of training, which
    is what NATS-Bench tables report. The API's own defaults are a trap
    this class avoids: ``get_more_info`` defaults to ``hp="12"`` (a 12-epoch
    schedule) and ``is_random=True`` (the result of one seed drawn at random
    on every call); here the schedule is explicit (``hp``) and the query is
    ``is_random=False``.

    The archives are bz2-compressed Python pickles by upstream design, and
    unpickling can run arbitrary code: the class opens only the folder given
    as ``path`` or found under ``$TORCH_HOME``, so use archives from a source
    you trust.

    Parameters
    ----------
    path : str or path-like, default=None
        The fast-mode archive folder (``NATS-tss-v1_0-3ffb9-simple/`` or
        ``NATS-sss-v1_0-50262-simple/``, holding ``meta.pickle.pbz2`` and one
        ``NNNNNN.pickle.pbz2`` file per architecture), or a folder holding
        it. Default: that folder under ``$TORCH_HOME``, else under
        ``~/.torch``, as ``nats_bench`` resolves it.
    space : {"tss", "sss"} or SearchSpace, default="tss"
        The topology space (:class:`~cenas_sklearn.spaces.NB201Space`) or the
        size space (:class:`~cenas_sklearn.spaces.NATSSizeSpace`).
    dataset : str, default="cifar10"
        ``"cifar10"`` (trained on the CIFAR-10 train+valid splits),
        ``"cifar10-valid"`` (trained on the train split), ``"cifar100"`` or
        ``"ImageNet16-120"``.
    metric : {"test", "valid"}, default="test"
        Accuracy on the test set or on the validation set. For
        ``"cifar100"`` and ``"ImageNet16-120"`` these are NATS-Bench's
        ``x-test`` and ``x-valid`` halves of the original test set; for
        ``"cifar10-valid"``, the CIFAR-10 test set and the held-out valid
        split. ``"cifar10"`` has no validation accuracy (its networks were
        trained on the validation split too).
    hp : str or int, default=None
        Training schedule in epochs: ``"200"`` (default) or ``"12"`` for
        ``"tss"``; ``"90"`` (default), ``"12"`` or ``"01"`` for ``"sss"``.

    Attributes
    ----------
    archive_dir : pathlib.Path
        The archive folder in use.

    Notes
    -----
    The API is opened on the first query and not pickled (a pickled
    benchmark reopens the archive when it is next queried); loaded
    per-architecture files are released after each query, since the fast
    mode of ``nats_bench`` would otherwise keep every one in memory (about
    1 MB each). Query results are cached.

    Examples
    --------
    >>> from cenas_sklearn.benchmarks import NATSBenchmark
    >>> bench = NATSBenchmark(space="tss", dataset="cifar10")  # doctest: +SKIP
    >>> bench.accuracy(0)  # doctest: +SKIP
    85.86333333333334
    >>> bench.n_parameters(0)  # doctest: +SKIP
    129306
    """

    def __init__(self, path=None, space="tss", *, dataset="cifar10", metric="test", hp=None):
        space = get_space(space)
        if space.nats_name not in _ARCHIVES:
            raise ValueError(f"NATS-Bench has no results for {space!r}")
        dataset = _check_choice("dataset", dataset, NATS_DATASETS)
        metric = _check_choice("metric", metric, _METRICS)
        if dataset == "cifar10" and metric == "valid":
            raise ValueError(
                'NATS-Bench has no validation accuracy for dataset="cifar10": its networks are '
                'trained on the train and valid splits together. Use dataset="cifar10-valid" '
                "(trained on the train split only) for a validation accuracy."
            )
        self._space = space
        self._dataset = dataset
        self._metric = metric
        self._hp = _check_hp(hp, space.nats_name)
        self._archive_dir = _find_archive(path, space.nats_name)
        self._api = None
        self._cache: dict[int, dict] = {}

    # Read-only, so that cached results always match the settings.
    space = property(lambda self: self._space, doc="The search space (a SearchSpace).")
    dataset = property(lambda self: self._dataset, doc="The dataset queried.")
    metric = property(lambda self: self._metric, doc='"test" or "valid".')
    hp = property(lambda self: self._hp, doc="The training schedule, in epochs (a string).")
    archive_dir = property(lambda self: self._archive_dir, doc="The archive folder in use.")

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_api"] = None  # reopened lazily; it holds every loaded result file
        return state

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({str(self._archive_dir)!r}, "
                f"space={self._space.nats_name!r}, dataset={self._dataset!r}, "
                f"metric={self._metric!r}, hp={self._hp!r})")

    # ------------------------------------------------------------------ API access
    def _open(self):
        if self._api is None:
            import nats_bench

            api = nats_bench.create(str(self._archive_dir), self._space.nats_name,
                                    fast_mode=True, verbose=False)
            archs = list(api.meta_archs)
            if archs != list(self._space):
                n = min(len(archs), len(self._space))
                first = next((i for i in range(n) if archs[i] != self._space[i]), n)
                raise ValueError(
                    f"the architecture list of {self._archive_dir / _META} is not the order of "
                    f"{self._space!r} (first difference at index {first}); it is not a "
                    f"NATS-Bench {self._space.nats_name} archive"
                )
            self._api = api
        return self._api

    def _result_file(self, index: int) -> Path | None:
        for name in (f"{index:06d}.pickle.pbz2", f"{index}.pickle.pbz2"):
            if (self._archive_dir / name).is_file():
                return self._archive_dir / name
        return None

    def _record(self, arch) -> dict:
        try:
            index = self._space.index(arch)
        except (ValueError, IndexError) as exc:
            raise KeyError(f"architecture {arch!r} is not in the NATS-Bench "
                           f"{self._space.nats_name} space: {exc}") from exc
        if index in self._cache:
            return self._cache[index]
        name = f"architecture {self._space[index]!r} (index {index})"
        if self._result_file(index) is None:
            raise KeyError(
                f"{name} has no result file in {self._archive_dir} (looked for "
                f"{index:06d}.pickle.pbz2): the archive is incomplete"
            )
        api = self._open()
        try:
            info = api.get_more_info(index, self._dataset, hp=self._hp, is_random=False)
            cost = api.get_cost_info(index, self._dataset, hp=self._hp)
        finally:  # fast mode would keep the whole result file in memory
            api.arch2infos_dict.pop(index, None)
            api.evaluated_indexes.discard(index)
        key = f"{self._metric}-accuracy"
        if key not in info:
            raise KeyError(f"NATS-Bench has no {self._metric} accuracy of {name} on "
                           f"{self._dataset} with hp={self._hp!r}")
        latency = cost.get("latency")
        record = {
            "accuracy": float(info[key]),
            "params": float(cost["params"]),
            "flops": float(cost["flops"]),
            "latency": None if latency is None else float(latency),
        }
        self._cache[index] = record
        return record

    # ------------------------------------------------------------------ queries
    def accuracy(self, archs):
        """Mean-over-seeds accuracy in percent of one architecture or of several.

        Parameters
        ----------
        archs : str, int or iterable of str or int
            An architecture (string or index) or an iterable of them.

        Returns
        -------
        accuracy : float or ndarray of shape (n_archs,)
            A float for a single architecture, else a ``float64`` array.

        Raises
        ------
        KeyError
            If an architecture is malformed or out of range, or its result
            file is absent from the archive (the message names it and its
            index).
        """
        if _is_single(archs):
            return self._record(archs)["accuracy"]
        return np.array([self._record(a)["accuracy"] for a in archs], dtype=np.float64)

    def cost(self, arch) -> dict:
        """Size and speed of the network of ``arch`` on :attr:`dataset`, as NATS-Bench gives them.

        Parameters
        ----------
        arch : str or int
            An architecture string or index.

        Returns
        -------
        cost : dict
            ``"params"``: parameters in millions; ``"flops"``: FLOPs in
            millions; ``"latency"``: seconds per batch of 256 as measured by
            NATS-Bench (``None`` where it has none). They depend on the
            dataset through the number of classes and the image size.
        """
        record = self._record(arch)
        return {key: record[key] for key in ("params", "flops", "latency")}

    def n_parameters(self, arch) -> int:
        """Number of parameters of the network of ``arch`` on :attr:`dataset`.

        The count NATS-Bench publishes (in millions, exact to the unit), as an
        integer, comparable with :meth:`SearchSpace.n_parameters
        <cenas_sklearn.spaces.SearchSpace.n_parameters>`.
        """
        return round(self._record(arch)["params"] * 1e6)
