"""Probe images: the fixed batch pushed through every untrained network."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from sklearn.utils import check_random_state

from ..spaces._base import check_int

#: Per-channel mean and standard deviation of CIFAR-10, used to normalise the probes.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


@lru_cache(maxsize=1)
def _sample_photographs() -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_sample_images

    return tuple(np.asarray(img, dtype=np.float32) / 255.0 for img in load_sample_images().images)


def natural_probe_images(n_probe: int = 256, size: int = 32, *, random_state=0) -> np.ndarray:
    """Natural-image probes cut from the photographs that ship with scikit-learn.

    Each probe is a random square crop of twice ``size`` pixels from
    ``china.jpg`` or ``flower.jpg`` (alternately), reduced to ``size`` x ``size``
    by 2x2 averaging, randomly flipped left-right, and normalised with the
    CIFAR-10 channel statistics: CIFAR-like inputs, with nothing downloaded.

    Parameters
    ----------
    n_probe : int, default=256
        Number of probe images.
    size : int, default=32
        Height and width of each probe, in pixels (at most 213).
    random_state : int, RandomState instance or None, default=0
        Positions of the crops and the flips.

    Returns
    -------
    probes : ndarray of shape (n_probe, 3, size, size), dtype float32

    Examples
    --------
    >>> from cenas_sklearn.features import natural_probe_images
    >>> natural_probe_images(8, 16).shape
    (8, 3, 16, 16)
    """
    n_probe = check_int(n_probe, "n_probe")
    size = check_int(size, "size")
    photos = _sample_photographs()
    crop = 2 * size
    if crop > min(min(p.shape[:2]) for p in photos):
        raise ValueError(f"size must be at most 213 for the natural probes, got {size}")
    rng = check_random_state(random_state)
    out = np.empty((n_probe, 3, size, size), dtype=np.float32)
    for i in range(n_probe):
        photo = photos[i % len(photos)]
        top = rng.randint(photo.shape[0] - crop + 1)
        left = rng.randint(photo.shape[1] - crop + 1)
        patch = photo[top:top + crop, left:left + crop]
        patch = patch.reshape(size, 2, size, 2, 3).mean(axis=(1, 3))
        if rng.rand() < 0.5:
            patch = patch[:, ::-1]
        out[i] = patch.transpose(2, 0, 1)
    mean = np.asarray(CIFAR10_MEAN, dtype=np.float32)[:, None, None]
    std = np.asarray(CIFAR10_STD, dtype=np.float32)[:, None, None]
    return (out - mean) / std


def gaussian_probe_images(n_probe: int = 256, size: int = 32, *, random_state=0) -> np.ndarray:
    """Standard normal probes of shape ``(n_probe, 3, size, size)`` (float32)."""
    n_probe = check_int(n_probe, "n_probe")
    size = check_int(size, "size")
    rng = check_random_state(random_state)
    return rng.standard_normal((n_probe, 3, size, size)).astype(np.float32)

