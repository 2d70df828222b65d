"""SpectralFeatures: log singular values of the data Jacobians (+ log parameter count)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._persistence import VersionedPickleMixin
from ._layout import check_feature_shape, to_sets

_EPS = 1e-12


class SpectralFeatures(VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """Log singular values of each architecture's data Jacobians: a cheap, strong baseline.

    The column norms of an EPDJM ``U_k Σ_k`` are the Jacobian's top ``k``
    singular values. Their logs, aggregated over initialisations, describe an
    architecture independently of its search space (mostly through the
    Jacobian's overall scale), and with the log parameter count they predict
    accuracy well. Stateless: :meth:`fit` only validates.

    Parameters
    ----------
    feature_shape : tuple of int, default=None
        ``(n_inits, n_probe, n_components)`` of one row of a 2-D ``X``, as for
        :class:`~cenas_sklearn.embedding.ContrastiveEmbedder`.
    log_n_parameters : bool, default=False
        The last column of a 2-D ``X`` is the log parameter count; it is passed
        through as the last output feature.
    aggregate : {"mean", "median", "concatenate"}, default="mean"
        How the initialisations are combined: mean or median of the log
        singular values, or all of them side by side.

    Attributes
    ----------
    n_features_in_ : int
    n_components_ : int
        Singular values per initialisation.

    Examples
    --------
    >>> import numpy as np
    >>> from cenas_sklearn.features import SpectralFeatures
    >>> X = np.random.RandomState(0).standard_normal((5, 2, 8, 3))
    >>> SpectralFeatures().fit_transform(X).shape
    (5, 3)
    """

    _parameter_constraints: dict = {
        "feature_shape": [tuple, list, None],
        "log_n_parameters": ["boolean"],
        "aggregate": [StrOptions({"mean", "median", "concatenate"})],
    }

    def __init__(self, *, feature_shape=None, log_n_parameters=False, aggregate="mean"):
        self.feature_shape = feature_shape
        self.log_n_parameters = log_n_parameters
        self.aggregate = aggregate

    def _sets(self, X, reset):
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        check_feature_shape(self.feature_shape)
        return to_sets(X, self.feature_shape, self.log_n_parameters)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate ``X`` and record its layout.

        Parameters
        ----------
        X : array-like of shape (n_archs, n_features) or (n_archs, n_inits, n_probe, \
                n_components)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        sets, _ = self._sets(X, reset=True)
        self.n_inits_, self.n_components_ = sets.shape[1], sets.shape[3]
        return self

    def transform(self, X):
        """Log singular values (aggregated over initialisations), then the log parameter count.

        Returns
        -------
        X_new : ndarray of shape (n_archs, n_outputs)
        """
        check_is_fitted(self)
        sets, log_params = self._sets(X, reset=False)
        if sets.shape[3] != self.n_components_ or (
                self.aggregate == "concatenate" and sets.shape[1] != self.n_inits_):
            raise ValueError(f"X has sets of shape {sets.shape[1:]}, fitted on "
                             f"({self.n_inits_}, ..., {self.n_components_})")
        logsv = np.log(np.linalg.norm(sets, axis=2) + _EPS)  # (n, n_inits, k)
        if self.aggregate == "mean":
            out = logsv.mean(axis=1)
        elif self.aggregate == "median":
            out = np.median(logsv, axis=1)
        else:
            out = logsv.reshape(len(logsv), -1)
        if log_params is not None:
            out = np.concatenate([out, log_params[:, None]], axis=1)
        return out.astype(sets.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """``log_sigma{j}`` (``log_sigma_i{i}_{j}`` if concatenated), then ``log_n_parameters``."""
        check_is_fitted(self)
        if self.aggregate == "concatenate":
            names = [f"log_sigma_i{i}_{j}" for i in range(self.n_inits_)
                     for j in range(self.n_components_)]
        else:
            names = [f"log_sigma{j}" for j in range(self.n_components_)]
        if self.log_n_parameters:
            names.append("log_n_parameters")
        return np.array(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.requires_fit = True
        return tags
