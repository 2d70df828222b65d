"""Torch modules of the contrastive embedder: a DeepSet encoder and a SimCLR wrapper."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def mlp(sizes, *, final_activation=False) -> nn.Sequential:
    """Linear layers of the given sizes joined by ReLUs."""
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if final_activation or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DeepSetEncoder(nn.Module):
    """Permutation-invariant encoder of a set of rows (Zaheer et al., 2017).

    ``phi`` (an MLP applied to every row), the mean over rows, then ``rho`` (an
    MLP to the embedding). Optional per-set ``extra`` features (e.g. the log
    singular values, the log parameter count) join the pooled vector before ``rho``.

    Parameters
    ----------
    n_features : int
        Length of each row.
    n_extra : int, default=0
        Length of the per-set extra vector.
    hidden_size : int, default=256
    n_layers : int, default=4
        Linear layers of ``phi``.
    embedding_dim : int, default=256
    n_rho_layers : int, default=2
        Linear layers of ``rho``.
    """

    def __init__(self, n_features, *, n_extra=0, hidden_size=256, n_layers=4,
                 embedding_dim=256, n_rho_layers=2):
        super().__init__()
        self.phi = mlp([n_features] + [hidden_size] * n_layers, final_activation=True)
        self.rho = mlp([hidden_size + n_extra] + [hidden_size] * (n_rho_layers - 1)
                       + [embedding_dim])
        self.n_extra = n_extra

    def forward(self, rows, extra=None):
        pooled = self.phi(rows).mean(dim=-2)
        if self.n_extra:
            pooled = torch.cat([pooled, extra], dim=-1)
        return self.rho(pooled)


class SimCLRModule(nn.Module):
    """An encoder and the projection head on which NT-Xent is computed.

    ``forward(rows, extra=None)`` maps inputs of shape ``(batch, views, ...)`` to
    projections ``(batch, views, projection_dim)``; :meth:`embed` gives the
    encoder's embeddings, which are what :class:`ContrastiveEmbedder` returns.
    """

    def __init__(self, encoder: DeepSetEncoder, embedding_dim: int, projection_dim: int):
        super().__init__()
        self.encoder = encoder
        self.head = mlp([embedding_dim, embedding_dim, projection_dim])

    def embed(self, rows, extra=None):
        return self.encoder(rows, extra)

    def forward(self, rows, extra=None):
        return self.head(self.embed(rows, extra))
