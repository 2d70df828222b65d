"""A straightforward reference implementation of the EPDJM, for speed and accuracy comparisons.

One initialisation at a time, gradients for every parameter (a plain ``backward()``),
a full SVD of the Jacobian. Same seeds and sign convention as
:class:`cenas_sklearn.features.EPDJMTransformer`, so outputs are comparable.
"""

from __future__ import annotations

import numpy as np
import torch


def reference_epdjm(factory, probes, seeds, n_components):
    """EPDJMs of one architecture: ndarray (n_inits, n_probe, n_components), float32."""
    out = []
    for seed in seeds:
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        net = factory()
        torch.random.set_rng_state(state)
        net.train()
        x = probes.clone().requires_grad_(True)
        logits = net(x)
        logits.sum().backward()
        jac = x.grad.reshape(x.shape[0], -1)
        u, s, _ = torch.linalg.svd(jac)  # full_matrices=True: forms all of V
        u = u[:, :n_components]
        rows = u.abs().argmax(dim=0)
        u = u * torch.sign(u[rows, torch.arange(u.shape[1])])
        out.append((u * s[:n_components]).detach().numpy())
    return np.stack(out).astype(np.float32)
