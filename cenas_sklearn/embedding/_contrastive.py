"""ContrastiveEmbedder: SimCLR over EPDJMs, trained with skorch, as a scikit-learn transformer."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._persistence import VersionedPickleMixin
from .._seeding import seeded_torch
from ..features._layout import check_feature_shape, to_sets
from ._inputs import fit_standardizer, set_extras, set_rows

#: The training configuration of Hesslow & Poli (2021), reachable as
#: ``ContrastiveEmbedder(**PAPER_CONFIGURATION)``.
PAPER_CONFIGURATION = {
    "representation": "epdjm",
    "spectrum": False,
    "row_subsample": 1.0,
    "learning_rate_init": 5e-5,
    "learning_rate_decay": 0.95,
    "batch_size": 1024,
    "max_iter": 30,
    "temperature": 0.1,
    "hidden_layer_size": 256,
    "n_layers": 4,
    "embedding_dim": 256,
}

_PREPROCESS_BATCH = 512  # architectures preprocessed / embedded at a time (bounds memory)


class ContrastiveEmbedder(VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """Contrastive (SimCLR) embedding of architectures from their EPDJMs.

    A DeepSet encoder reads one initialisation's EPDJM as a set of rows (a
    per-row MLP, the mean over rows, an MLP to the embedding); a projection
    head feeds the NT-Xent loss, whose positives are two *different*
    initialisations of the same architecture, drawn afresh at every visit,
    and whose negatives are all other architectures of the batch. The
    encoder is trained by a skorch :class:`~skorch.NeuralNet` built in
    :meth:`fit` (``net_``). :meth:`transform` returns each architecture's
    embedding averaged over its initialisations.

    Training is unsupervised: ``y`` is ignored.

    The defaults were chosen by measurement (``benchmarks/bench_embedder_quality.py``,
    3,200 NB201 architectures, EPDJMs of 64 probes of 16x16, 3 initialisations,
    32 components): the Gram representation, the log spectrum, strong row
    subsampling and long training generalise best to unseen architectures.
    The original method's settings are :data:`PAPER_CONFIGURATION`.

    Parameters
    ----------
    feature_shape : tuple of int, default=None
        ``(n_inits, n_probe, n_components)`` of one row of a 2-D ``X`` (as
        :attr:`EPDJMTransformer.feature_shape_` gives it; one entry may be
        -1). Not needed when ``X`` is 4-D.
    representation : {"gram", "epdjm"}, default="gram"
        What the set's rows are. ``"epdjm"``: the rows of ``U_k Σ_k`` (the
        original method; their coordinates depend on the initialisation's
        singular basis). ``"gram"``: for each probe, its cosine similarity to
        every probe in the top-k Jacobian subspace plus its log norm, which
        is free of the basis and sign ambiguity.
    spectrum : bool, default=True
        Join the log singular values of each EPDJM (its column norms) to the
        pooled set vector.
    log_n_parameters : bool, default=False
        The last column of a 2-D ``X`` is the log parameter count of each
        architecture (``EPDJMTransformer(append_log_n_parameters=True)``); it
        joins the pooled set vector.
    hidden_layer_size : int, default=256
        Width of the encoder's MLPs.
    n_layers : int, default=4
        Linear layers of the per-row MLP.
    embedding_dim : int, default=256
    projection_dim : int, default=128
        Output size of the projection head, on which the loss is computed.
    temperature : float, default=0.1
        NT-Xent temperature.
    row_subsample : float, default=0.25
        Fraction of each set's rows (probes) kept, at random, in each training
        view: an augmentation against memorising the training architectures.
        Embeddings are always computed from all rows.
    max_iter : int, default=150
        Epochs.
    batch_size : int, default=512
        Architectures per batch (each seen under two initialisations).
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    learning_rate_decay : float, default=1.0
        Multiplies the learning rate after each epoch (the paper: 0.95).
    weight_decay : float, default=0.0
    validation_fraction : float, default=0.1
        Fraction of architectures held out to report ``valid_loss`` (0 for none).
    early_stopping : bool, default=False
        Stop when the validation loss has not improved by ``tol`` (relative)
        for ``n_iter_no_change`` epochs, and keep the best epoch's weights.
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    device : str, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; CUDA without CUDA is
        a ``ValueError``. Outputs are NumPy arrays on the CPU.
    verbose : int, default=0
        Print skorch's per-epoch table when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batches and the pairs of initialisations;
        the global torch generator is left untouched. Fits running in threads of
        one process take turns on it, so that each keeps its own seed.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network (module ``net_.module_``).
    history_ : skorch.History
        Per-epoch records (``train_loss``, ``valid_loss``, ``dur``, ...).
    loss_curve_ : list of float
        Training loss per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (empty without validation).
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    device_ : str

    See Also
    --------
    EPDJMTransformer : computes the EPDJMs this estimator embeds.
    PAPER_CONFIGURATION : the original training settings.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.embedding import ContrastiveEmbedder
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((40, 2, 8, 4)).astype("float32")  # 40 archs, 2 inits
    >>> emb = ContrastiveEmbedder(embedding_dim=8, hidden_layer_size=16, max_iter=2,
    ...                           random_state=0).fit(X)
    >>> emb.transform(X).shape
    (40, 8)
    """

    _parameter_constraints: dict = {
        "feature_shape": [tuple, list, None],
        "representation": [StrOptions({"gram", "epdjm"})],
        "spectrum": ["boolean"],
        "log_n_parameters": ["boolean"],
        "hidden_layer_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "projection_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "row_subsample": [Interval(numbers.Real, 0, 1, closed="right")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(numbers.Real, 0, 1, closed="right")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "device": [str, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, feature_shape=None, representation="gram", spectrum=True,
                 log_n_parameters=False, hidden_layer_size=256, n_layers=4, embedding_dim=256,
                 projection_dim=128, temperature=0.1, row_subsample=0.25, max_iter=150,
                 batch_size=512,
                 learning_rate_init=1e-3, learning_rate_decay=1.0, weight_decay=0.0,
                 validation_fraction=0.1, early_stopping=False, n_iter_no_change=10, tol=1e-4,
                 device="auto", verbose=0, random_state=None):
        self.feature_shape = feature_shape
        self.representation = representation
        self.spectrum = spectrum
        self.log_n_parameters = log_n_parameters
        self.hidden_layer_size = hidden_layer_size
        self.n_layers = n_layers
        self.embedding_dim = embedding_dim
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.row_subsample = row_subsample
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.learning_rate_decay = learning_rate_decay
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ inputs
    def _sets(self, X, *, reset):
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float32, np.float64],
                          ensure_min_features=1)
        check_feature_shape(self.feature_shape)
        with np.errstate(over="ignore"):  # overflow is reported just below
            X = X.astype(np.float32, copy=False)
        if not np.isfinite(X).all():
            raise ValueError("X has values too large for float32 (beyond about 3.4e38)")
        sets, log_params = to_sets(X, self.feature_shape, self.log_n_parameters)
        if not reset and sets.shape[2:] != self.set_shape_[1:]:
            raise ValueError(
                f"X holds sets of shape {sets.shape[2:]}, the embedder was fitted on "
                f"{self.set_shape_[1:]}"
            )
        return sets, log_params

    def _preprocess(self, sets, log_params, start, stop):
        chunk = sets[start:stop]
        rows = set_rows(chunk, self.representation)
        extra = set_extras(chunk, None if log_params is None else log_params[start:stop],
                           self.spectrum)
        return rows.astype(np.float32), extra.astype(np.float32)

    def _inputs(self, sets, log_params):
        parts = [self._preprocess(sets, log_params, s, s + _PREPROCESS_BATCH)
                 for s in range(0, len(sets), _PREPROCESS_BATCH)]
        rows = np.concatenate([p[0] for p in parts])
        extra = np.concatenate([p[1] for p in parts])
        return rows, extra

    def _standardize(self, rows, extra):
        rows -= self.row_mean_
        rows /= self.row_scale_
        if extra.shape[-1]:
            extra -= self.extra_mean_
            extra /= self.extra_scale_
        return rows, extra

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoder on the EPDJMs of ``X`` (unsupervised; ``y`` is ignored).

        Parameters
        ----------
        X : array-like of shape (n_archs, n_features) or (n_archs, n_inits, n_probe, \
                n_components)
            EPDJMs of at least two architectures under at least two initialisations.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        import torch
        from skorch import NeuralNet
        from skorch.callbacks import EarlyStopping, LRScheduler
        from skorch.dataset import ValidSplit

        from .._device import resolve_device
        from ._loss import NTXentLoss
        from ._nets import DeepSetEncoder, SimCLRModule
        from ._training import PairDataset, history_curve

        sets, log_params = self._sets(X, reset=True)
        if sets.shape[1] < 2:
            raise ValueError(
                "contrastive training needs at least 2 initialisations per architecture; X has "
                f"{sets.shape[1]} (from {self.n_features_in_} feature(s))"
            )
        if sets.shape[0] < 2:
            raise ValueError("contrastive training needs at least 2 architectures, got "
                             f"n_samples={sets.shape[0]}")
        if self.early_stopping and not self.validation_fraction:
            raise ValueError("early_stopping=True needs validation_fraction > 0")
        self.device_ = resolve_device(self.device)
        self.set_shape_ = sets.shape[1:]
        rows, extra = self._inputs(sets, log_params)
        self.row_mean_, self.row_scale_ = fit_standardizer(rows)
        self.extra_mean_, self.extra_scale_ = fit_standardizer(extra)
        rows, extra = self._standardize(rows, extra)

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        callbacks = []
        if self.learning_rate_decay != 1.0:
            callbacks.append(("lr_decay", LRScheduler(
                policy=torch.optim.lr_scheduler.ExponentialLR, gamma=self.learning_rate_decay)))
        if self.early_stopping:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, threshold=self.tol,
                load_best=True, sink=print if self.verbose else _silent)))
        # Training draws from torch's global generator (weights, batches, views): seeded,
        # restored afterwards, and one fit at a time across threads.
        with seeded_torch(seed, self.device_):
            module = SimCLRModule(
                DeepSetEncoder(rows.shape[-1], n_extra=extra.shape[-1],
                               hidden_size=self.hidden_layer_size, n_layers=self.n_layers,
                               embedding_dim=self.embedding_dim),
                self.embedding_dim, self.projection_dim)
            self.net_ = NeuralNet(
                module=module,
                criterion=NTXentLoss,
                criterion__temperature=self.temperature,
                optimizer=torch.optim.Adam,
                optimizer__weight_decay=self.weight_decay,
                lr=self.learning_rate_init,
                max_epochs=self.max_iter,
                batch_size=self.batch_size,
                iterator_train__shuffle=True,
                train_split=ValidSplit(self.validation_fraction, random_state=seed)
                if self.validation_fraction else None,
                callbacks=callbacks,
                device=self.device_,
                verbose=self.verbose,
            )
            n_rows = max(1, round(self.row_subsample * rows.shape[2]))
            self.net_.fit(PairDataset(rows, extra, n_rows), None)
        self.history_ = self.net_.history
        self.loss_curve_ = history_curve(self.history_, "train_loss")
        self.validation_loss_curve_ = history_curve(self.history_, "valid_loss")
        self.n_iter_ = len(self.history_)
        return self

    # ------------------------------------------------------------------ transform
    def transform_inits(self, X):
        """Embeddings of every initialisation, shape (n_archs, n_inits, embedding_dim).

        Computed in float64 (then returned as float32), so that an architecture's
        embedding does not depend on the other rows of ``X`` through the rounding of
        batched matrix products.
        """
        import copy

        import torch

        check_is_fitted(self)
        sets, log_params = self._sets(X, reset=False)
        module = copy.deepcopy(self.net_.module_).to(dtype=torch.float64).eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(sets), _PREPROCESS_BATCH):
                rows, extra = self._standardize(
                    *self._preprocess(sets, log_params, start, start + _PREPROCESS_BATCH))
                rows = torch.from_numpy(rows).to(self.device_, torch.float64)
                extra = torch.from_numpy(extra).to(self.device_, torch.float64)
                out.append(module.embed(rows, extra).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def transform(self, X):
        """Embedding of each architecture: the mean over its initialisations.

        Parameters
        ----------
        X : array-like of shape (n_archs, n_features) or (n_archs, n_inits, n_probe, \
                n_components)

        Returns
        -------
        X_new : ndarray of shape (n_archs, embedding_dim), float32
        """
        return self.transform_inits(X).mean(axis=1)

    def score(self, X, y=None):
        """Identification accuracy across initialisations (higher is better).

        For every pair of initialisations ``(a, b)`` (consecutive ones), the
        fraction of architectures whose embedding under ``a`` has, among the
        embeddings under ``b`` of all architectures of ``X``, its own as the
        nearest by cosine similarity; averaged over pairs. Chance is ``1 / n_archs``.

        Parameters
        ----------
        X : array-like
            EPDJMs of at least two initialisations per architecture.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return identification_accuracy(self.transform_inits(X))

    def get_feature_names_out(self, input_features=None):
        """Names ``contrastiveembedder{i}`` for the embedding dimensions."""
        check_is_fitted(self)
        return np.array([f"contrastiveembedder{i}" for i in range(self.embedding_dim)],
                        dtype=object)

    def __setstate__(self, state):
        # A model trained on CUDA loads on a CPU-only machine: skorch maps the weights to
        # the CPU when it unpickles ``net_``; the embedder follows.
        super().__setstate__(state)
        device = getattr(self, "device_", "cpu")
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                self.device_ = "cpu"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags


def identification_accuracy(embeddings) -> float:
    """Fraction of architectures recognised across initialisations by nearest neighbour.

    Parameters
    ----------
    embeddings : array-like of shape (n_archs, n_inits, dim)

    Returns
    -------
    accuracy : float
        Mean over consecutive pairs of initialisations ``(i, i + 1)`` of the
        fraction of architectures whose embedding under ``i`` is nearest (cosine)
        to its own under ``i + 1``.
    """
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim != 3 or emb.shape[1] < 2:
        raise ValueError(
            "identification needs embeddings of shape (n_archs, n_inits >= 2, dim), "
            f"got {emb.shape}"
        )
    norms = np.linalg.norm(emb, axis=2, keepdims=True)
    emb = emb / np.where(norms > 0, norms, 1.0)
    scores = []
    for a in range(emb.shape[1] - 1):
        sim = emb[:, a] @ emb[:, a + 1].T
        scores.append(np.mean(np.argmax(sim, axis=1) == np.arange(len(emb))))
    return float(np.mean(scores))


def _silent(*args, **kwargs):
    pass
