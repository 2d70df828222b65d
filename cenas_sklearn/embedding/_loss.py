"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class NTXentLoss(nn.Module):
    """NT-Xent loss (Chen et al., 2020) over pairs of views.

    For a batch of ``B`` items seen under two views, the ``2B`` projections are
    compared by cosine similarity divided by ``temperature``; each projection's
    positive is the other view of the same item and its negatives are the
    ``2B - 2`` projections of the other items. The loss is the mean
    cross-entropy of picking the positive.

    Parameters
    ----------
    temperature : float, default=0.1

    Notes
    -----
    ``forward(z, y=None)`` takes ``z`` of shape ``(B, 2, d)``; ``y`` is ignored (it
    is there so that skorch can call the loss as a criterion). A batch of a single
    item has no negatives: its loss is zero.
    """

    def __init__(self, temperature: float = 0.1):
        super().__init__()
        self.temperature = temperature

    def forward(self, z, y=None):
        if z.ndim != 3 or z.shape[1] != 2:
            raise ValueError(f"expected projections of shape (batch, 2, dim), got {tuple(z.shape)}")
        n = z.shape[0]
        if n < 2:  # no negatives: a last batch of one item contributes no gradient
            return z.sum() * 0.0
        z = F.normalize(torch.cat([z[:, 0], z[:, 1]]), dim=1)
        logits = z @ z.T / self.temperature
        logits.fill_diagonal_(float("-inf"))
        target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
        return F.cross_entropy(logits, target)
