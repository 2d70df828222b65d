"""Seeded sections of torch code that leave the global generators untouched, thread-safely."""

from __future__ import annotations

import threading
from contextlib import contextmanager

#: Held while torch's global generator is seeded and drawn from. Module initialisation and
#: dropout have no generator argument: they draw from the process-wide generator, which
#: threads share (joblib's threading backend, dask workers running several threads, the
#: threads of a batched search). Without one lock around every seeded section, two threads
#: interleave their draws, and each gets weights seeded by the other: silently different
#: features on every run.
TORCH_RNG_LOCK = threading.RLock()


@contextmanager
def seeded_torch(seed, device="cpu"):
    """Run the block with torch's generators seeded by ``seed``, one thread at a time.

    The generators (the CPU's, and ``device``'s if it is a GPU) are restored afterwards, so
    the caller's random state is unchanged.
    """
    import torch

    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    with TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
