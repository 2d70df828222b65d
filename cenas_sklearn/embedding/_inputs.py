"""From EPDJM sets to the encoder's inputs: row representations, extras, standardisation."""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def set_rows(sets, representation):
    """The rows of each set: EPDJM rows, or Gram-correlation rows with the log row norm.

    ``"gram"`` replaces each ``(n_probe, k)`` EPDJM ``E`` by the correlation matrix of
    ``E Eᵀ`` (probe-by-probe cosine similarity of the Jacobian rows, within the top-k
    subspace) with one more column, the log norm of each row. It does not depend on the
    singular basis or its signs, which change from one initialisation to the next.
    """
    if representation == "epdjm":
        return sets
    gram = np.einsum("nipk,niqk->nipq", sets, sets)
    norms = np.sqrt(np.maximum(np.einsum("nipp->nip", gram), 0.0))
    safe = np.where(norms > _EPS, norms, 1.0)
    corr = gram / safe[..., :, None] / safe[..., None, :]
    return np.concatenate([corr, np.log(norms + _EPS)[..., None]], axis=-1)


def set_extras(sets, log_params, spectrum):
    """Per-set extra features: log singular values (column norms), log parameter count."""
    parts = []
    if spectrum:
        parts.append(np.log(np.linalg.norm(sets, axis=2) + _EPS))
    if log_params is not None:
        parts.append(np.broadcast_to(log_params[:, None, None], (*sets.shape[:2], 1)))
    if not parts:
        return np.zeros((*sets.shape[:2], 0), dtype=sets.dtype)
    return np.concatenate(parts, axis=-1)


def fit_standardizer(values):
    """Per-feature mean and scale over every leading axis."""
    flat = values.reshape(-1, values.shape[-1]) if values.shape[-1] else values.reshape(0, 0)
    if flat.shape[1] == 0:
        return np.zeros(0, np.float32), np.ones(0, np.float32)
    mean = flat.mean(axis=0, dtype=np.float64)
    scale = flat.std(axis=0, dtype=np.float64)
    scale[scale < 1e-8] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)
