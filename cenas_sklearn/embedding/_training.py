"""Training data for the contrastive embedder: random pairs of initialisations."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset


class PairDataset(Dataset):
    """Each item is one architecture under two *different* initialisations.

    The pair is drawn afresh at every visit from the torch generator, so that over
    the epochs every pair of initialisations serves as a positive.

    Parameters
    ----------
    rows : ndarray of shape (n_archs, n_inits, n_rows, n_features)
    extra : ndarray of shape (n_archs, n_inits, n_extra)
    """

    def __init__(self, rows, extra):
        self.rows = torch.from_numpy(rows)
        self.extra = torch.from_numpy(extra)
        self.n_inits = rows.shape[1]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        a = int(torch.randint(self.n_inits, ()))
        b = (a + int(torch.randint(1, self.n_inits, ()))) % self.n_inits
        pair = [a, b]
        return {"rows": self.rows[i, pair], "extra": self.extra[i, pair]}, 0


def history_curve(history, key) -> list[float]:
    """``history[:, key]`` as floats, or an empty list when the key was never recorded."""
    return [float(row[key]) for row in history if key in row]
