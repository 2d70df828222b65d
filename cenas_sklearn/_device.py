"""Resolve the ``device`` parameter shared by the torch-backed estimators."""

from __future__ import annotations


def resolve_device(device) -> str:
    """Turn a ``device`` parameter into a concrete torch device string.

    ``None`` and ``"auto"`` mean CUDA when available, else the CPU. Asking for CUDA on
    a machine without it is a :class:`ValueError`, never a silent fallback.
    """
    import torch

    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}"
        ) from exc
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine; "
                "use device='cpu' or device='auto'"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} "
                "CUDA device(s) are visible"
            )
    elif parsed.type != "cpu":
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return str(parsed)


def device_after_unpickling(device, estimator_name) -> str:
    """The device of an estimator just unpickled: ``device``, or the CPU when it is CUDA and
    this machine has none (a model fitted on a GPU loads on a CPU-only machine).

    Warns with skorch's ``DeviceWarning``, as skorch does when it maps a net's weights.
    """
    if not str(device).startswith("cuda"):
        return device
    import torch

    if torch.cuda.is_available():
        return device
    import warnings

    from skorch.exceptions import DeviceWarning

    warnings.warn(
        f"this {estimator_name} was fitted on {device!r}, but no CUDA device is available: "
        "it computes on the CPU (float rounding differs, by about 1e-6 relative)",
        DeviceWarning, stacklevel=3)
    return "cpu"
