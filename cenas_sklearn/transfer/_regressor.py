"""TransferRegressor: one embedding for several search spaces, a regressor on the labelled ones."""

from __future__ import annotations

import itertools
import numbers

import numpy as np
from scipy.sparse import issparse
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, _fit_context, clone
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import get_tags
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .._persistence import VersionedPickleMixin
from ..spaces._resolve import infer_space

_PASSTHROUGH = "passthrough"
_OTHER = ""  # the space label of architectures given as indices or module factories


class TransferRegressor(VersionedPickleMixin, RegressorMixin, TransformerMixin, BaseEstimator):
    """Predict accuracy across search spaces: embed all architectures, regress on labelled ones.

    A semi-supervised meta-regressor in three steps:

    1. ``features`` turns architectures into numbers (by default
       :class:`~cenas_sklearn.features.EPDJMTransformer` when ``X`` holds
       architecture strings, nothing when ``X`` is already numeric);
    2. ``embedder`` learns an embedding from **all** architectures of ``X``,
       labelled or not (by default
       :class:`~cenas_sklearn.embedding.ContrastiveEmbedder`, whose training is
       unsupervised);
    3. ``regressor`` learns the target from the embeddings of the **labelled**
       architectures only (by default a
       :class:`~sklearn.ensemble.RandomForestRegressor`).

    As in :mod:`sklearn.semi_supervised` (where unlabelled samples are marked
    ``-1``), an architecture is unlabelled when its target is ``NaN``. So one
    can fit on the accuracies of one search space with the architectures of
    another, unlabelled, in the same ``X``: the embedding covers both spaces,
    and :meth:`predict` ranks the architectures of the unlabelled one.

    Every sub-estimator is cloned in :meth:`fit`; the fitted ones are
    ``features_``, ``embedders_`` and ``regressors_``.

    Contrastive embeddings trained from different seeds can transfer very
    differently (``benchmarks/bench_transfer.py``: from one seed to the next,
    Kendall's tau across spaces ranged from below 0 to above 0.6).
    ``n_embedders`` trains several and averages their predictions, a seed
    ensemble.

    Parameters
    ----------
    features : estimator, "passthrough" or None, default=None
        Transformer from ``X`` to numeric features, fitted on all rows.
        ``None``: an :class:`~cenas_sklearn.features.EPDJMTransformer` with its
        default settings when ``X`` holds architectures (strings or module
        factories), ``"passthrough"`` when ``X`` is numeric (precomputed EPDJMs,
        embeddings or any features, 2-D or 4-D). ``"passthrough"``: ``X`` is
        validated as a numeric array and used as it is.
    embedder : estimator, "passthrough" or None, default=None
        Transformer from features to the embedding, fitted **without** ``y``
        on all rows. ``None``: a
        :class:`~cenas_sklearn.embedding.ContrastiveEmbedder` with its default
        settings. ``"passthrough"``: the regressor reads the features
        directly, which gives the baselines (e.g.
        ``embedder=SpectralFeatures(log_n_parameters=True)`` for the spectral
        one, or precomputed embeddings with ``features="passthrough"``). When
        the embedder has a ``feature_shape`` parameter left to ``None`` and the
        fitted features have a ``feature_shape_`` (an
        :class:`~cenas_sklearn.features.EPDJMTransformer`), the clone gets
        that layout, and ``log_n_parameters=True`` if the features append the
        log parameter count.
    regressor : estimator or None, default=None
        Regressor fitted on the embeddings of the labelled rows. ``None``: a
        :class:`~sklearn.ensemble.RandomForestRegressor` with default settings.
    target : {"raw", "rank"}, default="raw"
        What the regressor learns. ``"raw"``: ``y`` itself. ``"rank"``: the
        rank of each labelled architecture among the labelled ones of its own
        search space, as a quantile ``(rank - 0.5) / n_labelled_in_space`` in
        ``(0, 1)`` (ties share their mean rank). Accuracies of different spaces
        or datasets live on different scales; their ranks do not, so labels of
        several spaces can be pooled, and :meth:`predict` then returns
        quantiles, comparable across spaces. The space of each row is given
        by ``spaces`` in :meth:`fit`, or else recognised from architecture
        strings by their notation; architectures given otherwise, and all rows
        of a numeric ``X``, then form one group.
    align : {"none", "standardize"}, default="none"
        How the embeddings of the search spaces are put on a common footing
        before the regressor reads them. ``"standardize"``: each space's
        embeddings are centred and scaled to unit variance, per dimension, with
        the mean and standard deviation of all its rows in :meth:`fit`,
        labelled or not (the statistics are kept in ``alignment_``). The
        embedder places the spaces apart, and a regressor trained on one space
        then reads the other at the edge of, or outside, what it learned:
        aligning their first two moments makes each architecture's position
        *relative to its own space* the regressor's input, which is what
        transfers (``benchmarks/bench_transfer.py`` measures both). The spaces
        are those of ``target="rank"``; with a single space, this is a plain
        standardisation. With a numeric ``X`` from several spaces,
        :meth:`predict` and :meth:`transform` then need ``spaces`` too (under
        :func:`sklearn.set_config(enable_metadata_routing=True)
        <sklearn.set_config>`, ``set_predict_request(spaces=True)`` and
        ``set_score_request(spaces=True)`` route it in model selection).
        ``"none"``: the embedder's output as it is.
    n_embedders : int, default=1
        Number of embedders, each a clone of ``embedder`` trained on the same
        features from its own seed, with its own clone of ``regressor``.
        :meth:`predict` averages the regressors' predictions, and
        :meth:`transform` joins the embeddings side by side. With more than
        one, each embedder's ``random_state`` is drawn from ``random_state``
        (as :class:`~sklearn.ensemble.BaggingRegressor` seeds its members),
        also when you pass the embedder. Needs an embedder (not
        ``"passthrough"``).
    random_state : int, RandomState instance or None, default=None
        Seeds the sub-estimators built by default (``None`` parameters): the
        EPDJM initialisations, the embedder's training and the random forest,
        and the embedders of an ensemble (``n_embedders > 1``). Otherwise,
        estimators you pass are cloned with their own ``random_state``, which
        is left as it is (as :class:`~sklearn.pipeline.Pipeline` does): set it
        there for reproducible results.

    Attributes
    ----------
    features_ : estimator or "passthrough"
        The fitted feature transformer.
    embedders_ : list of estimators or ["passthrough"]
        The ``n_embedders`` fitted embedders (fitted on all rows of ``X``).
    embedder_ : estimator or "passthrough"
        The first of ``embedders_``.
    regressors_ : list of estimators
        The fitted regressors (fitted on the labelled rows only), one per
        embedder.
    regressor_ : estimator
        The first of ``regressors_``.
    n_labelled_ : int
        Number of labelled rows (finite ``y``) in :meth:`fit`.
    alignment_ : dict
        With ``align="standardize"``: for each space label (``""`` for
        architectures of no known space, and for numeric ``X`` without
        ``spaces``), the ``(mean, scale)`` of its embeddings in :meth:`fit`.
    n_features_in_ : int
        Number of features of a numeric ``X`` (or as reported by ``features_``).
        Only defined when ``X`` was numeric.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of ``X``, when they are all strings (a pandas
        DataFrame). Only defined in that case.

    See Also
    --------
    cenas_sklearn.features.EPDJMTransformer : the default features of architecture strings.
    cenas_sklearn.embedding.ContrastiveEmbedder : the default embedder.
    sklearn.semi_supervised.SelfTrainingClassifier : the same ``y`` convention for
        unlabelled samples.

    Notes
    -----
    The sub-estimators built for ``None`` parameters exist only once fitted;
    to tune their parameters (``set_params(embedder__max_iter=...)``, a grid
    of :class:`~sklearn.model_selection.GridSearchCV`), pass them explicitly.

    With architecture strings, :meth:`fit` and :meth:`predict` compute their
    EPDJMs each time; compute them once with
    :class:`~cenas_sklearn.features.EPDJMTransformer` (or
    :class:`~cenas_sklearn.features.EPDJMStore` for whole spaces) and pass
    the array to fit several models on the same architectures.

    With unlabelled rows in ``y``, the test folds of
    :func:`~sklearn.model_selection.cross_val_score` hold ``NaN`` targets too:
    :meth:`score` skips them, but scorers given by name (``scoring="r2"``...)
    do not.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.embedding import ContrastiveEmbedder
    >>> from cenas_sklearn.transfer import TransferRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((60, 2, 8, 4)).astype("float32")  # EPDJMs: 60 archs, 2 inits
    >>> y = X.std(axis=(1, 2, 3))                                  # some "accuracy"
    >>> y[30:] = np.nan                                            # half unlabelled
    >>> reg = TransferRegressor(
    ...     embedder=ContrastiveEmbedder(embedding_dim=8, hidden_layer_size=16, max_iter=2,
    ...                                  random_state=0),
    ...     random_state=0).fit(X, y)
    >>> reg.n_labelled_, reg.predict(X[30:]).shape, reg.transform(X).shape
    (30, (30,), (60, 8))
    """

    _parameter_constraints: dict = {
        "features": [None, StrOptions({_PASSTHROUGH}), HasMethods(["fit", "transform"])],
        "embedder": [None, StrOptions({_PASSTHROUGH}), HasMethods(["fit", "transform"])],
        "regressor": [None, HasMethods(["fit", "predict"])],
        "target": [StrOptions({"raw", "rank"})],
        "align": [StrOptions({"standardize", "none"})],
        "n_embedders": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, features=None, embedder=None, regressor=None, target="raw",
                 align="none", n_embedders=1, random_state=None):
        self.features = features
        self.embedder = embedder
        self.regressor = regressor
        self.target = target
        self.align = align
        self.n_embedders = n_embedders
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(
        # features, embedder and regressor are validated when they are fitted
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, spaces=None):
        """Fit the features and the embedder on all of ``X``, the regressor on the labelled rows.

        Parameters
        ----------
        X : list of architectures, or array-like of shape (n_samples, n_features) or \
                (n_samples, n_inits, n_probe, n_components)
            Architecture strings of any mix of search spaces (or module
            factories), or numeric features such as precomputed EPDJMs.
        y : array-like of shape (n_samples,)
            Target (e.g. accuracy) of each architecture; ``NaN`` marks an
            unlabelled one. At least one must be finite; infinite values are
            an error.
        spaces : array-like of shape (n_samples,), default=None
            Search space (any hashable label) of each row, used by
            ``target="rank"`` and ``align="standardize"``. Default: recognised
            from architecture strings; a single group for numeric ``X``. Pass it through
            ``params={"spaces": ...}`` in
            :func:`~sklearn.model_selection.cross_val_score`, or as a fit
            parameter of :class:`~sklearn.model_selection.GridSearchCV`.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X, y, spaces)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y, spaces=None):
        """Fit, and return the embedding of ``X`` computed on the way.

        Equivalent to ``fit(X, y, spaces).transform(X)``, without computing the
        features of ``X`` (its EPDJMs, for architecture strings) twice.

        Parameters
        ----------
        X : list of architectures or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples,)
            As in :meth:`fit`.
        spaces : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_dimensions)
            The embedding of every row of ``X``, labelled or not.
        """
        return self._fit(X, y, spaces)

    def _fit(self, X, y, spaces):
        """Fit every step; return the embedding of ``X``."""
        for name in ("n_features_in_", "feature_names_in_"):  # from an earlier fit
            self.__dict__.pop(name, None)
        X = _as_sequence(X)
        y = self._check_y(y)
        check_consistent_length(X, y)
        labelled = ~np.isnan(y)
        if not labelled.any():
            raise ValueError(
                f"y has no labelled architecture: all {len(y)} targets are NaN (NaN marks an "
                "unlabelled architecture); give the accuracy of at least one"
            )
        labels = _space_labels(X, spaces, len(y), strict=self.target == "rank")
        target = self._transform_y(y, labelled, labels)

        if self.n_embedders > 1 and _is_passthrough(self.embedder):
            raise ValueError(
                f"n_embedders={self.n_embedders} needs an embedder to train from several "
                "seeds, got embedder='passthrough'")
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=3)
        # (embedder, regressor) seeds of the members after the first, drawn after the first
        # three so that a single embedder is seeded as before ensembles existed.
        member_seeds = [tuple(seeds[1:])] + [
            tuple(rng.randint(np.iinfo(np.int32).max, size=2))
            for _ in range(self.n_embedders - 1)]
        self.features_ = self._make_features(X, seeds[0])
        features = self._fit_features(X)
        self.embedders_, parts = [], []
        for embedder_seed, _ in member_seeds:
            embedder = self._make_embedder(self.features_, embedder_seed)
            if _is_passthrough(embedder):
                parts.append(features)
            else:
                parts.append(embedder.fit_transform(features))
            self.embedders_.append(embedder)
        self.embedder_ = self.embedders_[0]
        self._widths = [part.shape[1] for part in parts]
        embedding = parts[0] if len(parts) == 1 else np.hstack(parts)
        self.alignment_ = {}
        if self.align == "standardize":
            for label in dict.fromkeys(labels):
                rows = embedding[_rows_of(labels, label)].astype(np.float64)
                scale = rows.std(axis=0)
                scale[~(scale > 1e-12 * np.abs(rows).max(initial=1.0))] = 1.0
                self.alignment_[label] = (rows.mean(axis=0), scale)
            embedding = self._align(embedding, labels)
        self.regressors_ = []
        for (_, regressor_seed), block in zip(member_seeds, self._blocks(embedding),
                                              strict=True):
            if self.regressor is None:
                from sklearn.ensemble import RandomForestRegressor

                regressor = RandomForestRegressor(random_state=int(regressor_seed))
            else:
                regressor = clone(self.regressor)
            self.regressors_.append(regressor.fit(block[labelled], target[labelled]))
        self.regressor_ = self.regressors_[0]
        self.n_labelled_ = int(labelled.sum())
        return embedding

    def _blocks(self, embedding):
        """The columns of each embedder in a joined embedding."""
        if len(self.embedders_) == 1:
            return [embedding]
        bounds = np.cumsum([0, *self._widths])
        return [embedding[:, start:stop] for start, stop in itertools.pairwise(bounds)]

    def _check_y(self, y):
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but the target "
                "y is None."
            )
        y = check_array(y, input_name="y", ensure_2d=False, dtype=np.float64,
                        ensure_all_finite="allow-nan")
        return column_or_1d(y, warn=True)

    def _transform_y(self, y, labelled, labels):
        """The regressor's target: ``y``, or the within-space quantiles of the labelled ``y``."""
        if self.target == "raw":
            return y
        return _within_space_quantiles(y, _codes(labels), labelled)

    def _align(self, embedding, labels):
        """Each row standardised with the statistics of its space (``align="standardize"``)."""
        if not self.alignment_:
            return embedding
        out = np.empty(embedding.shape, dtype=embedding.dtype)
        for label in dict.fromkeys(labels):
            if label not in self.alignment_:
                known = ", ".join(repr(k) for k in self.alignment_)
                raise ValueError(
                    f"no architecture of the space {label!r} was seen in fit (spaces seen: "
                    f"{known}): align='standardize' needs each space's statistics; include "
                    "its architectures in fit, unlabelled (y = NaN) if need be"
                )
            mean, scale = self.alignment_[label]
            rows = _rows_of(labels, label)
            out[rows] = (embedding[rows] - mean) / scale
        return out

    def _make_features(self, X, seed):
        if self.features is None:
            if _holds_architectures(X):
                from ..features import EPDJMTransformer

                return EPDJMTransformer(random_state=int(seed))
            return _PASSTHROUGH
        if _is_passthrough(self.features):
            return _PASSTHROUGH
        return clone(self.features)

    def _fit_features(self, X):
        if _is_passthrough(self.features_):
            return self._validate_numeric(X, reset=True)
        out = self.features_.fit_transform(X)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.features_, name):
                setattr(self, name, getattr(self.features_, name))
        return out

    def _validate_numeric(self, X, *, reset):
        return validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])

    def _make_embedder(self, features, seed):
        if _is_passthrough(self.embedder):
            return _PASSTHROUGH
        if self.embedder is None:
            from ..embedding import ContrastiveEmbedder

            embedder = ContrastiveEmbedder(random_state=int(seed))
        else:
            embedder = clone(self.embedder)
            if self.n_embedders > 1 and "random_state" in embedder.get_params(deep=False):
                embedder.set_params(random_state=int(seed))
        feature_shape = getattr(features, "feature_shape_", None)
        params = embedder.get_params(deep=False)
        if feature_shape is not None and "feature_shape" in params \
                and params["feature_shape"] is None:
            layout = {"feature_shape": tuple(feature_shape)}
            if getattr(features, "append_log_n_parameters", False) \
                    and "log_n_parameters" in params:
                layout["log_n_parameters"] = True
            embedder.set_params(**layout)
        return embedder

    # ------------------------------------------------------------------ predict
    def transform(self, X, spaces=None):
        """The embedding of each architecture (the regressor's input).

        Parameters
        ----------
        X : list of architectures or array-like
            As in :meth:`fit`.
        spaces : array-like of shape (n_samples,), default=None
            Search space of each row, as in :meth:`fit`. Needed with
            ``align="standardize"`` when ``X`` is numeric and :meth:`fit` saw
            several spaces.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_dimensions)
            The output of ``embedder_`` (of ``features_`` when the embedder is
            ``"passthrough"``), aligned across spaces as ``align`` says; with
            several embedders, their outputs side by side, in the order of
            ``embedders_``.
        """
        check_is_fitted(self)
        X = _as_sequence(X)
        if _is_passthrough(self.features_):
            features = self._validate_numeric(X, reset=False)
        else:
            features = self.features_.transform(X)
        parts = [features if _is_passthrough(embedder) else embedder.transform(features)
                 for embedder in self.embedders_]
        embedding = parts[0] if len(parts) == 1 else np.hstack(parts)
        if not self.alignment_:
            return embedding
        labels = _space_labels(X, spaces, len(embedding))
        if spaces is None and not _holds_architectures(X):
            if len(self.alignment_) > 1:
                raise ValueError(
                    f"fit saw {len(self.alignment_)} search spaces and X is numeric: pass "
                    "spaces= (the space of each row) so that each row is aligned with the "
                    "statistics of its own space"
                )
            labels = [next(iter(self.alignment_))] * len(embedding)
        return self._align(embedding, labels)

    def predict(self, X, spaces=None):
        """Predict the target of each architecture.

        Parameters
        ----------
        X : list of architectures or array-like
            As in :meth:`fit`.
        spaces : array-like of shape (n_samples,), default=None
            Search space of each row, as in :meth:`transform`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted targets (the mean of the regressors' predictions); with
            ``target="rank"``, predicted within-space quantiles in ``[0, 1]``,
            which rank architectures of any space.
        """
        check_is_fitted(self)
        blocks = self._blocks(self.transform(X, spaces))
        if len(blocks) == 1:
            return self.regressor_.predict(blocks[0])
        return np.mean([regressor.predict(block)
                        for regressor, block in zip(self.regressors_, blocks, strict=True)],
                       axis=0)

    def score(self, X, y, sample_weight=None, spaces=None):
        """Coefficient of determination R² of the predictions on the labelled rows.

        Rows whose ``y`` is ``NaN`` (unlabelled) are skipped. With
        ``target="rank"``, the predictions are compared with the within-space
        quantiles of the labelled ``y`` given here (spaces as in :meth:`fit`).
        To compare rankings, a rank correlation (for instance
        :func:`scipy.stats.kendalltau` through
        :func:`~sklearn.metrics.make_scorer`) is often the better measure.

        Parameters
        ----------
        X : list of architectures or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples,)
            True targets, ``NaN`` for unlabelled rows.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        spaces : array-like of shape (n_samples,), default=None
            Search space of each row, as in :meth:`fit`.

        Returns
        -------
        score : float
            R² on the labelled rows.
        """
        X = _as_sequence(X)
        y = self._check_y(y)
        check_consistent_length(X, y)
        labelled = ~np.isnan(y)
        if not labelled.any():
            raise ValueError("y has no labelled architecture to score: all targets are NaN")
        labels = _space_labels(X, spaces, len(y), strict=self.target == "rank")
        target = self._transform_y(y, labelled, labels)
        if sample_weight is not None:
            check_consistent_length(y, sample_weight)
        weights = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        return r2_score(target[labelled], self.predict(X, spaces)[labelled],
                        sample_weight=weights)

    def __setstate__(self, state):
        if "embedder_" in state and "embedders_" not in state:  # fitted before ensembles
            state = {**state, "embedders_": [state["embedder_"]],
                     "regressors_": [state["regressor_"]], "n_embedders": 1}
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.features is None:
            tags.input_tags.string = True  # a list of architecture strings
        elif not _is_passthrough(self.features):  # a transformer: its inputs
            feature_tags = get_tags(self.features).input_tags
            tags.input_tags.two_d_array = feature_tags.two_d_array
            tags.input_tags.string = feature_tags.string
            tags.input_tags.sparse = feature_tags.sparse
        if self.regressor is not None:
            tags.regressor_tags.poor_score = get_tags(self.regressor).regressor_tags.poor_score
        # transform returns the embedding: its dtype is the last step's (float32 by default)
        if self.embedder is None:
            last = "float32"
        elif not _is_passthrough(self.embedder):
            last = self.embedder
        elif self.features is None or _is_passthrough(self.features):
            last = "numeric"  # X validated as float64 or float32
        else:
            last = self.features
        if isinstance(last, str):
            preserves = ["float32"] if last == "float32" else ["float64", "float32"]
        else:
            step_tags = get_tags(last).transformer_tags
            preserves = list(step_tags.preserves_dtype) if step_tags is not None else []
        tags.transformer_tags.preserves_dtype = preserves
        return tags


# ---------------------------------------------------------------------- helpers
def _is_passthrough(step) -> bool:
    return isinstance(step, str) and step == _PASSTHROUGH


def _as_sequence(X):
    """A one-shot iterable (a generator of architectures) as a list; anything else unchanged."""
    if not hasattr(X, "__len__") and hasattr(X, "__iter__") and not issparse(X):
        return list(X)
    return X


def _holds_architectures(X) -> bool:
    """Whether ``X`` is a sequence of architectures rather than a numeric array.

    Architectures are strings or module factories (callables); ``X`` holds them when it is
    a list, a tuple or a 1-D array of strings or objects with at least one such item.
    Integer indices alone are read as numbers: they need ``features=EPDJMTransformer(space=...)``.
    """
    if isinstance(X, list | tuple):
        items = X
    elif getattr(X, "ndim", None) == 1 and hasattr(X, "dtype"):  # numpy or pandas, 1-D
        if X.dtype.kind in "US":
            return True
        if X.dtype.kind != "O":
            return False
        items = list(X)
    else:
        return False
    return any(isinstance(item, str) or callable(item) for item in items)


def _space_labels(X, spaces, n_samples, strict=False):
    """The space label of each row: ``spaces``, recognised from strings, or one group.

    A string of no known notation is an error when ``strict`` (ranks need its space), else
    it joins the group of the architectures given otherwise.
    """
    if spaces is not None:
        if isinstance(spaces, str):
            raise TypeError("spaces must be an array-like of one label per row, got a string")
        labels = list(spaces.tolist() if hasattr(spaces, "tolist") else spaces)
        if len(labels) != n_samples:
            raise ValueError(f"spaces has {len(labels)} labels for {n_samples} rows")
        try:
            dict.fromkeys(labels)
        except TypeError as exc:
            raise TypeError(f"the labels of spaces must be hashable: {exc}") from None
        return labels
    if _holds_architectures(X):
        return [_space_of(arch, position, strict) for position, arch in enumerate(X)]
    return [_OTHER] * n_samples


def _codes(labels):
    """One integer code per row for the space it belongs to."""
    index = {}
    return np.array([index.setdefault(label, len(index)) for label in labels], dtype=np.intp)


def _rows_of(labels, label):
    return np.array([item == label for item in labels], dtype=bool)


def _space_of(arch, position, strict):
    if isinstance(arch, np.str_):
        arch = str(arch)
    if not isinstance(arch, str):
        return _OTHER
    try:
        return infer_space(arch).nats_name
    except ValueError as exc:
        if not strict:
            return _OTHER
        raise ValueError(
            f"target='rank' ranks within each search space, and the space of the architecture "
            f"at position {position} is unknown ({exc}); pass spaces= to fit"
        ) from None


def _within_space_quantiles(y, codes, labelled):
    """``(rank - 0.5) / n`` of each labelled ``y`` among the labelled ``y`` of its space."""
    out = np.full(len(y), np.nan)
    for code in np.unique(codes[labelled]):
        rows = np.flatnonzero(labelled & (codes == code))
        out[rows] = (rankdata(y[rows]) - 0.5) / len(rows)
    return out
