"""Numerical core of the EPDJM features: input Jacobians and their top-k projection.

Kept free of estimator logic so that the store, the benchmarks and the
transformer share one implementation.
"""

from __future__ import annotations

import numpy as np
import torch

from .._seeding import seeded_torch


class ZeroJacobianWarning(UserWarning):
    """An architecture's logits do not depend on its input (e.g. an all-``none`` cell)."""


def init_seed(base_seed: int, init: int) -> int:
    """The torch seed of initialisation ``init``, derived from the estimator's base seed.

    The seed does not depend on the architecture, its position in ``X``, the chunk
    it is computed in or the number of jobs: an architecture's features are a
    function of ``(architecture, base_seed)`` alone.
    """
    state = np.random.SeedSequence([int(base_seed), int(init)]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def build_module(factory, seed: int) -> torch.nn.Module:
    """Call ``factory`` with the torch RNG seeded, leaving the global RNG untouched."""
    with seeded_torch(seed):
        module = factory()
    _check_module(module, factory)
    return module


def _check_module(module, factory) -> None:
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            f"an architecture factory must return a torch.nn.Module, "
            f"got {type(module).__name__} from {factory!r}"
        )


def input_jacobian(module: torch.nn.Module, probes: torch.Tensor, *,
                   memory_format=torch.contiguous_format) -> torch.Tensor:
    """Gradient of the sum of all logits with respect to each probe image.

    The module runs in training mode (BatchNorm on batch statistics, as at
    initialisation); parameters are not differentiated. Returns a tensor of
    shape ``(n_probe, n_pixels)``: one Jacobian row per image. A module whose
    output does not depend on its input gives an all-zero Jacobian.
    ``memory_format`` is applied to the module's 4-D weights and to the probes.
    """
    module.train()
    if any(isinstance(p, torch.nn.parameter.UninitializedParameter)
           for p in module.parameters()):
        # Lazy modules (nn.LazyLinear...) create their weights at their first call: make them
        # on the probes, under the caller's seed, before freezing them.
        with torch.no_grad():
            module(probes)
    if memory_format is not torch.contiguous_format:
        module.to(memory_format=memory_format)  # once every weight exists
        probes = probes.contiguous(memory_format=memory_format)
    for param in module.parameters():
        param.requires_grad_(False)
    x = probes.detach().clone().requires_grad_(True)
    out = module(x)
    if isinstance(out, tuple | list):  # (features, logits), as NATS-Bench's networks return
        out = out[-1]
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"the network must return logits of shape (n_probe, num_classes) = "
            f"({x.shape[0]}, C), got {shape}"
        )
    grad = None
    if out.requires_grad:
        (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    if grad is None:
        return torch.zeros(x.shape[0], x[0].numel(), dtype=x.dtype, device=x.device)
    return grad.reshape(x.shape[0], -1)


def top_projection(jacobian: torch.Tensor, n_components: int, *, flip_signs: bool = True):
    """``U_k Σ_k``, the projection of a Jacobian on its top right-singular directions.

    Computed from the eigendecomposition of the probe Gram matrix ``J Jᵀ`` in
    float64 (``n_probe x n_probe``), which equals the SVD's ``U`` and ``Σ``
    without forming ``V``. With ``flip_signs``, each left-singular vector is
    signed so that its entry of largest magnitude is positive (as
    :func:`sklearn.utils.extmath.svd_flip`), making the output deterministic.

    Returns
    -------
    projection : Tensor of shape (n_probe, n_components), float32
    singular_values : Tensor of shape (min(n_probe, n_pixels),), float64, descending
    """
    n, d = jacobian.shape
    j64 = jacobian.to(torch.float64)
    evals, evecs = torch.linalg.eigh(j64 @ j64.T)
    evals, evecs = evals.flip(0), evecs.flip(1)  # descending
    sigma = evals.clamp_min(0).sqrt()[: min(n, d)]
    u = evecs[:, :n_components]
    if flip_signs:
        rows = u.abs().argmax(dim=0)
        signs = torch.sign(u[rows, torch.arange(u.shape[1], device=u.device)])
        u = u * torch.where(signs == 0, 1.0, signs)
    projection = u * sigma[:n_components]
    return projection.to(torch.float32), sigma


def compute_epdjm(factory, probes: torch.Tensor, seeds, n_components: int, *,
                  normalize: bool = False, flip_signs: bool = True, device: str = "cpu",
                  dtype=torch.float32, memory_format=torch.contiguous_format) -> dict:
    """EPDJMs of one architecture under several initialisations.

    Parameters
    ----------
    factory : callable
        Returns a fresh ``torch.nn.Module``; called once per seed.
    probes : Tensor of shape (n_probe, C, H, W)
    seeds : sequence of int
        One torch seed per initialisation (see :func:`init_seed`).
    n_components : int
    normalize : bool, default=False
        Divide each projection by its top singular value.
    flip_signs : bool, default=True
    device : str, default="cpu"
    dtype : torch.dtype, default=torch.float32
        Precision of the network and the Jacobian (the outputs are float32).
    memory_format : torch.memory_format, default=torch.contiguous_format
        Layout of the network's 4-D weights and of the probes. Only the speed benchmark
        sets ``torch.channels_last``: about 1.5x faster on CPU at the paper's settings,
        but PyTorch's channels-last BatchNorm kernel is less accurate in float32 (measured
        17x in the forward pass, 46x in the backward pass against float64), which puts
        the Jacobians up to ~20% away from the float64 network's (see
        ``docs/benchmarks.rst``). :class:`EPDJMTransformer` therefore does not offer it.

    Returns
    -------
    dict with ``epdjm`` (ndarray (n_inits, n_probe, n_components), float32),
    ``singular_values`` (ndarray (n_inits, min(n_probe, n_pixels)), float32, not
    normalised), ``n_parameters`` (int) and ``zero`` (bool: every Jacobian is zero).
    """
    probes = probes.to(device=device, dtype=dtype)
    projections, spectra, n_params = [], [], 0
    for seed in seeds:
        # The seed covers the forward pass too (dropout, stochastic depth...), and the
        # global generators are restored afterwards. Threads take turns here (see
        # TORCH_RNG_LOCK): thread-based backends compute one network at a time.
        with seeded_torch(seed, device):
            module = factory()
            _check_module(module, factory)
            module = module.to(device=device, dtype=dtype)
            jacobian = input_jacobian(module, probes, memory_format=memory_format)
        n_params = sum(p.numel() for p in module.parameters())
        proj, sigma = top_projection(jacobian, n_components, flip_signs=flip_signs)
        if normalize and sigma[0] > 0:
            proj = proj / sigma[0].to(proj.dtype)
        projections.append(proj.cpu().numpy())
        spectra.append(sigma.to(torch.float32).cpu().numpy())
        del module
    spectra = np.stack(spectra)
    return {
        "epdjm": np.stack(projections),
        "singular_values": spectra,
        "n_parameters": int(n_params),
        "zero": bool(not spectra.any()),
    }
