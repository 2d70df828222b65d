"""Bring your own data: an objective that trains each candidate network on the user's images."""

from __future__ import annotations

import math
import numbers
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.multiclass import type_of_target

from .._seeding import seeded_torch
from ..spaces import NB201Space, get_space
from ..spaces._resolve import _ALIASES

_SOLVERS = {"sgd": 0.1, "adam": 0.01}  # solver -> default learning_rate_init
_EVAL_BATCH = 512  # images per forward pass without gradients


class TrainingError(RuntimeError):
    """Training a candidate network failed: its loss diverged, or its training raised.

    A search records the error as a failed evaluation of the candidate and goes on.
    """


def load_digits_images(*, size=16, n_channels=3):
    """Load scikit-learn's digits as float images of a given size and number of channels.

    The 1,797 grey 8x8 images of :func:`sklearn.datasets.load_digits`, scaled to [0, 1]
    and resized to ``size x size`` by bilinear interpolation; the grey channel is repeated
    ``n_channels`` times. Shipped with scikit-learn, they need no download: the dataset of
    the offline demo of :class:`TrainingObjective`.

    Parameters
    ----------
    size : int, default=16
        Height and width of the returned images (8 keeps the original pixels).
    n_channels : int, default=3
        Number of (identical) channels: 3 for the RGB stems of the search spaces' networks.

    Returns
    -------
    X : ndarray of shape (1797, n_channels, size, size), dtype float32
        The images, values in [0, 1].
    y : ndarray of shape (1797,), dtype int64
        The digit of each image, 0 to 9.

    See Also
    --------
    sklearn.datasets.load_digits : The original 8x8 images and their targets.
    TrainingObjective : Trains candidate networks on images such as these.

    Examples
    --------
    >>> from cenas_sklearn.benchmarks import load_digits_images
    >>> X, y = load_digits_images(size=16)
    >>> X.shape, X.dtype, y.shape
    ((1797, 3, 16, 16), dtype('float32'), (1797,))
    >>> float(X.min()), float(X.max())
    (0.0, 1.0)
    """
    import torch
    from sklearn.datasets import load_digits
    from torch.nn import functional as F

    for name, value in (("size", size), ("n_channels", n_channels)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    if size != images.shape[-1]:
        # antialias only matters (and is only applied) when shrinking the images
        images = F.interpolate(images, size=(int(size), int(size)), mode="bilinear",
                               align_corners=False, antialias=size < images.shape[-1])
    images = images.clamp_(0.0, 1.0).repeat(1, int(n_channels), 1, 1)
    return images.numpy(), digits.target.astype(np.int64)


class TrainingObjective:
    """Validation accuracy of candidate ``i`` after training it on your images: an objective.

    Calling ``objective(i)`` builds the network of candidate ``i`` of a search space, trains
    it for ``max_iter`` epochs on the training images, and returns its accuracy (in percent)
    on the validation images: a search objective for data that no benchmark table covers.
    Give it to :class:`~cenas_sklearn.search.BayesianArchitectureSearch` or to a baseline
    as ``y``.

    Training uses cross-entropy, mini-batches of ``batch_size`` images in a seeded random
    order, SGD with Nesterov momentum 0.9 (NAS-Bench-201's recipe) or Adam, and a cosine
    learning-rate schedule annealed to 0 over all ``max_iter`` epochs. The validation
    accuracy is measured in evaluation mode, with BatchNorm statistics recomputed over the
    training images with the final weights (the running averages of a short training are
    still far from them).

    Every candidate is trained with the same seed, drawn from ``random_state``: the same
    split, the same order of batches and the same weight-initialisation stream (common
    random numbers make candidates more comparable). The same seed gives bitwise identical
    accuracies on the CPU (with the same torch version and thread count); CUDA convolutions
    may differ in their last bits from run to run. The global torch and numpy generators
    are left untouched.

    A training whose loss becomes NaN or infinite, or that raises, raises
    :class:`TrainingError` (naming the candidate and its architecture), which a search
    records as a failed evaluation. Results are cached: evaluating a candidate again costs
    nothing. Bad data or parameters raise :class:`ValueError` or :class:`TypeError` when the
    objective is created, before any search starts.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_channels, height, width) or \
            (n_samples, height, width)
        Training images (and validation images, unless ``X_val`` is given). Grey images
        (3-D, or one channel) are repeated to the 3 channels of the networks' stem. Each
        channel is standardised with the mean and standard deviation of the training images.
    y : array-like of shape (n_samples,)
        Class label of each image (at least 2 classes).
    X_val : array-like of shape (n_val, n_channels, height, width) or \
            (n_val, height, width), default=None
        Validation images; default: a stratified ``validation_fraction`` of ``X``.
    y_val : array-like of shape (n_val,), default=None
        Their labels (all among those of ``y``); given exactly when ``X_val`` is.
    space : {"nb201", "sss", ...} or SearchSpace, default="nb201"
        The search space, or its name for :func:`~cenas_sklearn.spaces.get_space`.
    architectures : sequence of str or int, default=None
        The architecture of each candidate (a string, or an index of the space); default:
        candidate ``i`` is architecture ``i`` of the space.
    validation_fraction : float, default=0.25
        Fraction of ``X`` held out (stratified) for validation when ``X_val`` is None.
    C : int, default=8
        Channels of the first stage of NB201 networks (NAS-Bench-201: 16); the other
        stages have ``2C`` and ``4C``. Size-space networks take their widths from the
        architecture string, and other spaces build their networks as they are.
    N : int, default=1
        Cells per stage of NB201 networks (NAS-Bench-201: 5); the size space has one cell
        per stage.
    max_iter : int, default=3
        Training epochs.
    batch_size : int, default=64
        Training images per step.
    solver : {"sgd", "adam"}, default="sgd"
        SGD with Nesterov momentum 0.9, or Adam.
    learning_rate_init : float, default=None
        Initial learning rate, annealed by the cosine schedule; None: 0.1 for SGD, 0.01
        for Adam.
    weight_decay : float, default=5e-4
        L2 penalty of the optimizer (NAS-Bench-201: 5e-4).
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=0
        Seed of the split, the batch order and the initial weights, drawn once when the
        objective is made (None: from numpy's global generator, as in scikit-learn).
    verbose : int, default=0
        Print one line per trained candidate (and one per epoch if > 1).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, from ``y``.
    results_ : dict of int to float
        Validation accuracy of every successfully trained candidate, by candidate index
        (the cache).
    history_ : list of dict
        One record per training, in order, failures included: ``"index"``,
        ``"architecture"`` (its string), ``"accuracy"`` (NaN for a failure),
        ``"loss_curve"`` (mean training loss of each epoch), ``"duration"`` (seconds) and
        ``"error"`` (None, or the error message).
    n_evaluations_ : int
        Number of trainings run (cached calls excluded).

    See Also
    --------
    load_digits_images : Digits as small images, the offline dataset of the demo.
    cenas_sklearn.search.BenchmarkObjective : Accuracies looked up in a benchmark instead.

    Notes
    -----
    The defaults are the *demo* settings: NB201 networks with ``C=8, N=1`` (3 cells;
    19k-92k parameters, median 32k, against 73k-1.5M with NAS-Bench-201's ``C=16, N=5``)
    trained for 3 epochs on :func:`load_digits_images` at 16x16 (1,347 training and 450
    validation images). On one CPU core (``OMP_NUM_THREADS=1``), one evaluation took
    0.7-2.8 s of CPU time (median 1.6 s over 25 cells, the all-``nor_conv_3x3`` cell the
    slowest; 2.7 s median wall time on a loaded 2-core machine). Random cells reached
    96-99% validation accuracy, the all-``nor_conv_3x3`` cell 98.9% and the all-``none``
    cell, whose output is constant, 10% (chance). With ``max_iter=1`` an evaluation takes
    0.4-2 s and random cells spread over 63-94%. Size-space networks are much wider (8 to
    64 channels in every layer): 3 to 25 s per evaluation at the same settings. The time
    grows about linearly with the number of images, of pixels and of epochs.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.benchmarks import TrainingObjective, load_digits_images
    >>> X, y = load_digits_images(size=8)
    >>> cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    ...          "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    ...          "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    >>> objective = TrainingObjective(X[:400], y[:400], architectures=cells, device="cpu",
    ...                               random_state=0)
    >>> accuracy = objective(0)
    >>> bool(accuracy > 75), objective(1) < 20      # a conv cell; a cell of zeros
    (True, True)
    >>> objective(0) == accuracy, objective.n_evaluations_   # cached
    (True, 2)

    A search evaluates it by candidate index:
    ``BayesianArchitectureSearch().fit(embeddings, objective)``.
    """

    _parameter_constraints: dict = {
        "X_val": ["array-like", None],
        "y_val": ["array-like", None],
        "space": [StrOptions(set(_ALIASES)), HasMethods(["build", "index"])],
        "architectures": ["array-like", None],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "C": [Interval(numbers.Integral, 1, None, closed="left")],
        "N": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [StrOptions(set(_SOLVERS))],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "device": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, X, y, *, X_val=None, y_val=None, space="nb201", architectures=None,
                 validation_fraction=0.25, C=8, N=1, max_iter=3, batch_size=64, solver="sgd",
                 learning_rate_init=None, weight_decay=5e-4, device="auto", random_state=0,
                 verbose=0):
        self.X = X
        self.y = y
        self.X_val = X_val
        self.y_val = y_val
        self.space = space
        self.architectures = architectures
        self.validation_fraction = validation_fraction
        self.C = C
        self.N = N
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        # A plain callable, not an estimator: it is checked here, so that bad data fails
        # when the objective is made rather than as a failed evaluation of every candidate.
        self._validate()
        self.results_ = {}
        self.history_ = []

    # ------------------------------------------------------------------ validation
    def _validate(self):
        from .._device import resolve_device

        params = {k: getattr(self, k) for k in self._parameter_constraints}
        validate_parameter_constraints(self._parameter_constraints, params,
                                       caller_name=type(self).__name__)
        resolve_device(self.device)  # a ValueError now if CUDA is asked for and absent
        self._space = get_space(self.space)
        if isinstance(self._space, NB201Space):
            self._builder = type(self._space)(C=self.C, N=self.N)
        else:
            self._builder = self._space
        self._archs = None if self.architectures is None else self._check_architectures()

        X = _check_images(self.X, "X")
        y = _check_labels(self.y, "y")
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X and y have different numbers of samples: {X.shape[0]} images "
                             f"and {y.shape[0]} labels")
        self.classes_, y = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least 2 classes to train a classifier, got only "
                             f"{self.classes_.tolist()[0]!r}")
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if (self.X_val is None) != (self.y_val is None):
            raise ValueError("X_val and y_val must be given together, or neither of them")
        if self.X_val is None:
            try:
                X_train, X_val, y_train, y_val = train_test_split(
                    X, y, test_size=self.validation_fraction, stratify=y,
                    random_state=self._seed)
            except ValueError as exc:
                raise ValueError(f"cannot hold out validation_fraction="
                                 f"{self.validation_fraction} of X, stratified by class: {exc}; "
                                 "change validation_fraction or pass X_val and y_val") from exc
        else:
            X_train, y_train = X, y
            X_val = _check_images(self.X_val, "X_val")
            labels = _check_labels(self.y_val, "y_val")
            if X_val.shape[0] != labels.shape[0]:
                raise ValueError(f"X_val and y_val have different numbers of samples: "
                                 f"{X_val.shape[0]} images and {labels.shape[0]} labels")
            if X_val.shape[1:] != X_train.shape[1:]:
                raise ValueError(f"X_val's images have shape {X_val.shape[1:]}, X's "
                                 f"{X_train.shape[1:]}")
            unknown = np.setdiff1d(labels, self.classes_)
            if unknown.size:
                raise ValueError(f"y_val holds labels absent from y: {unknown[:5].tolist()}")
            y_val = np.searchsorted(self.classes_, labels)
        mean = X_train.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
        std = X_train.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
        std[std == 0] = 1.0
        self._data = tuple(
            np.ascontiguousarray(a) for a in (
                ((X_train - mean) / std).astype(np.float32), y_train.astype(np.int64),
                ((X_val - mean) / std).astype(np.float32), y_val.astype(np.int64)))

    def _check_architectures(self):
        if isinstance(self.architectures, str):
            raise TypeError("architectures must be a sequence of architectures, got a single "
                            "string; wrap it in a list")
        archs = list(self.architectures)
        if not archs:
            raise ValueError("architectures holds no candidate")
        out = []
        for i, arch in enumerate(archs):
            try:
                out.append(self._space.to_string(arch))
            except (TypeError, ValueError, IndexError) as exc:
                raise type(exc)(f"architectures[{i}] is not an architecture of "
                                f"{self._space!r}: {exc}") from exc
        return out

    # ------------------------------------------------------------------ candidates
    def __len__(self):
        """Number of candidates."""
        return len(self._space) if self._archs is None else len(self._archs)

    def architecture(self, index):
        """The architecture string of a candidate.

        Parameters
        ----------
        index : int
            The candidate's index, ``0 <= index < len(objective)``.

        Returns
        -------
        architecture : str
            Its architecture, in the space's official notation.
        """
        if isinstance(index, bool | np.bool_) or not isinstance(index, numbers.Integral):
            raise TypeError(f"a candidate is given by its integer index, got {index!r}")
        if not 0 <= index < len(self):
            raise IndexError(f"candidate index {index} is out of range (0..{len(self) - 1})")
        return self._space[int(index)] if self._archs is None else self._archs[int(index)]

    @property
    def n_evaluations_(self):
        return len(self.history_)

    # ------------------------------------------------------------------ evaluation
    def __call__(self, index):
        """Train a candidate network and return its validation accuracy.

        Parameters
        ----------
        index : int
            The candidate's index, ``0 <= index < len(objective)``.

        Returns
        -------
        accuracy : float
            Validation accuracy in percent, from :attr:`results_` if the candidate was
            trained before.

        Raises
        ------
        TrainingError
            If the training diverged (non-finite loss) or raised.
        """
        arch = self.architecture(index)
        index = int(index)
        if index in self.results_:
            return self.results_[index]
        start = time.perf_counter()
        curve = []
        try:
            accuracy = self._train(arch, curve)
        except Exception as exc:
            if isinstance(exc, TrainingError):
                error = TrainingError(f"candidate {index} ({arch}): {exc}")
            else:
                error = TrainingError(f"candidate {index} ({arch}): training raised "
                                      f"{type(exc).__name__}: {exc}")
            self._record(index, arch, float("nan"), curve, start, str(error))
            raise error from exc
        self._record(index, arch, accuracy, curve, start, None)
        self.results_[index] = accuracy
        return accuracy

    def _record(self, index, arch, accuracy, curve, start, error):
        duration = time.perf_counter() - start
        self.history_.append({"index": index, "architecture": arch, "accuracy": accuracy,
                              "loss_curve": list(curve), "duration": duration, "error": error})
        if self.verbose:
            what = f"failed: {error}" if error else f"{accuracy:.2f}%"
            print(f"[{type(self).__name__}] candidate {index} {arch}: {what} "
                  f"({duration:.1f} s)", flush=True)

    def _train(self, arch, curve):
        """Train a fresh network of ``arch``; its validation accuracy in percent."""
        import torch
        from torch.nn import functional as F

        from .._device import resolve_device

        device = torch.device(resolve_device(self.device))
        X_train, y_train, X_val, y_val = (torch.from_numpy(a).to(device) for a in self._data)
        # Weights come from torch's global generator: seeded under the package's one lock,
        # so that concurrent evaluations and EPDJM computations cannot interleave their draws.
        with seeded_torch(self._seed):
            net = self._builder.build(arch, num_classes=len(self.classes_))
        net = net.to(device)
        lr = _SOLVERS[self.solver] if self.learning_rate_init is None else \
            float(self.learning_rate_init)
        if self.solver == "sgd":
            optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True,
                                        weight_decay=self.weight_decay)
        else:
            optimizer = torch.optim.Adam(net.parameters(), lr=lr,
                                         weight_decay=self.weight_decay)
        n_train = X_train.shape[0]
        # A last batch of one image would break BatchNorm on 1x1 feature maps (tiny images):
        # that image sits out the epoch (a random one each time).
        steps_per_epoch = max(1, n_train // self.batch_size if n_train % self.batch_size == 1
                              else math.ceil(n_train / self.batch_size))
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=self.max_iter * steps_per_epoch)
        generator = torch.Generator().manual_seed(self._seed)

        net.train()
        for epoch in range(self.max_iter):
            order = torch.randperm(n_train, generator=generator).to(device)
            total = torch.zeros((), dtype=torch.float64, device=device)
            seen = 0
            for step in range(steps_per_epoch):
                batch = order[step * self.batch_size:(step + 1) * self.batch_size]
                seen += batch.shape[0]
                loss = F.cross_entropy(net(X_train[batch]), y_train[batch])
                if not torch.isfinite(loss):
                    raise TrainingError(
                        f"the training loss diverged to {loss.item()} at epoch {epoch + 1}, "
                        f"step {step + 1} (learning_rate_init={lr:g}: try a smaller one)")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.detach() * batch.shape[0]
            curve.append(float(total) / seen)
            if self.verbose > 1:
                print(f"[{type(self).__name__}]   epoch {epoch + 1}/{self.max_iter}: "
                      f"loss {curve[-1]:.4f}", flush=True)

        _recompute_batchnorm_statistics(net, X_train)
        net.eval()
        correct = 0
        with torch.inference_mode():
            for start in range(0, X_val.shape[0], _EVAL_BATCH):
                logits = net(X_val[start:start + _EVAL_BATCH])
                if not torch.isfinite(logits).all():
                    raise TrainingError("the trained network outputs non-finite logits on "
                                        "the validation images (its weights diverged)")
                correct += int((logits.argmax(1) == y_val[start:start + _EVAL_BATCH]).sum())
        return 100.0 * correct / X_val.shape[0]

    def __repr__(self):
        shape = getattr(self.X, "shape", None)
        data = f"<{len(self.X)} images>" if shape is None else f"<array of shape {shape}>"
        return (f"{type(self).__name__}({data}, space={self.space!r}, C={self.C}, N={self.N}, "
                f"max_iter={self.max_iter}, random_state={self.random_state!r})")


def _recompute_batchnorm_statistics(net, X):
    """Set the running statistics of every BatchNorm layer to their means over ``X``.

    After a few hundred steps, the exponential moving averages kept during training still
    weigh the statistics of the first, very different weights: the validation accuracy in
    evaluation mode then reads as chance level however well the network fits. One extra
    forward pass over the training images, with the final weights (at most a third of the
    cost of an epoch), gives the statistics the network will be evaluated with.
    """
    import torch

    layers = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    net.train()
    with torch.no_grad():
        for start in range(0, X.shape[0], _EVAL_BATCH):
            if X.shape[0] - start > 1 or start == 0:  # no batch of one (see _train)
                net(X[start:start + _EVAL_BATCH])
    for m, momentum in zip(layers, momenta, strict=True):
        m.momentum = momentum


def _check_images(X, name):
    """Images as float32 ``(n, 3, h, w)``; grey images repeated to 3 channels."""
    X = check_array(X, allow_nd=True, ensure_2d=False, dtype=np.float32, input_name=name)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4:
        raise ValueError(f"{name} must hold images, of shape (n_samples, height, width) or "
                         f"(n_samples, n_channels, height, width); got a {X.ndim}-D array of "
                         f"shape {X.shape}")
    if X.shape[1] == 1:
        X = np.repeat(X, 3, axis=1)
    elif X.shape[1] != 3:
        raise ValueError(f"{name} must have 1 or 3 channels (axis 1) for the networks' RGB "
                         f"stem, got {X.shape[1]} (shape {X.shape}); channels-last images "
                         "need X.transpose(0, 3, 1, 2)")
    if X.shape[0] == 0:
        raise ValueError(f"{name} holds no image")
    return X


def _check_labels(y, name):
    y = column_or_1d(np.asarray(y), input_name=name, warn=True)
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError(f"{name} contains NaN or infinity")
    kind = type_of_target(y, input_name=name)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"{name} must hold class labels, got a target of type {kind!r}")
    return y
