"""The layout of EPDJM features: 2-D rows, 3-D per-initialisation rows, or 4-D sets."""

from __future__ import annotations

import numbers

import numpy as np


def check_feature_shape(feature_shape):
    """Validate ``feature_shape``: ``(n_inits, n_probe, n_components)``, one may be -1."""
    if feature_shape is None:
        return None
    shape = tuple(feature_shape)
    if len(shape) != 3 or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and (s >= 1 or s == -1)
        for s in shape
    ) or shape.count(-1) > 1:
        raise ValueError(
            "feature_shape must be three positive integers (n_inits, n_probe, n_components), "
            f"one of which may be -1, got {feature_shape!r}"
        )
    return shape


def to_sets(X, feature_shape, log_n_parameters):
    """Reshape validated ``X`` to ``(n_archs, n_inits, n_probe, n_components)``.

    Returns the 4-D array and the log parameter counts (or None).
    """
    log_params = None
    if X.ndim == 4:
        if log_n_parameters:
            raise ValueError(
                "log_n_parameters=True reads the log parameter count from the last column of "
                "2-D X; a 4-D X has no such column"
            )
        _check_no_empty_axis(X)
        return X, None
    if X.ndim == 3:
        X = X.reshape(X.shape[0], -1)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (one row per architecture), 3-D or 4-D (n_archs, n_inits, n_probe, "
            f"n_components), got {X.ndim}-D"
        )
    if log_n_parameters:
        X, log_params = X[:, :-1], X[:, -1].copy()
    shape = check_feature_shape(feature_shape)
    if shape is None:
        raise ValueError(
            f"X is {X.ndim}-D: pass feature_shape=(n_inits, n_probe, n_components), e.g. "
            "EPDJMTransformer.feature_shape_, or give X as a 4-D array"
        )
    known = int(np.prod([s for s in shape if s != -1]))
    if (-1 in shape and X.shape[1] % known) or (-1 not in shape and X.shape[1] != known):
        extra = " plus the log_n_parameters column" if log_n_parameters else ""
        raise ValueError(
            f"X has {X.shape[1] + bool(log_n_parameters)} columns, which feature_shape="
            f"{tuple(feature_shape)}{extra} cannot describe"
        )
    sets = X.reshape(X.shape[0], *shape)
    _check_no_empty_axis(sets)
    return sets, log_params


def _check_no_empty_axis(sets):
    if 0 in sets.shape[1:]:
        raise ValueError(
            "X holds EPDJM sets of shape (n_inits, n_probe, n_components) = "
            f"{sets.shape[1:]}: every axis needs at least one entry"
        )
