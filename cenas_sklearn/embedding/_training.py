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
    n_rows : int, default=None
        Rows kept per view, drawn at random without replacement (an augmentation:
        the set's mean is estimated from a random subset); all rows when None.
    """

    def __init__(self, rows, extra, n_rows=None):
        self.rows = torch.from_numpy(rows)
        self.extra = torch.from_numpy(extra)
        self.n_inits = rows.shape[1]
        self.n_rows = None if n_rows is None or n_rows >= rows.shape[2] else int(n_rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        a = int(torch.randint(self.n_inits, ()))
        b = (a + int(torch.randint(1, self.n_inits, ()))) % self.n_inits
        pair = [a, b]
        rows = self.rows[i, pair]
        if self.n_rows is not None:
            keep = torch.stack([torch.randperm(rows.shape[1])[: self.n_rows] for _ in pair])
            rows = torch.gather(rows, 1, keep[..., None].expand(-1, -1, rows.shape[2]))
        return {"rows": rows, "extra": self.extra[i, pair]}, 0


def history_curve(history, key) -> list[float]:
    """``history[:, key]`` as floats, or an empty list when the key was never recorded."""
    return [float(row[key]) for row in history if key in row]
