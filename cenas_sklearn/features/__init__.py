"""Space-independent features of untrained networks: EPDJMs and their on-disk store."""

from ._epdjm import EPDJMTransformer
from ._jacobian import ZeroJacobianWarning
from ._probes import gaussian_probe_images, natural_probe_images
from ._spectral import SpectralFeatures
from ._store import EPDJMStore

__all__ = [
    "EPDJMStore",
    "EPDJMTransformer",
    "SpectralFeatures",
    "ZeroJacobianWarning",
    "gaussian_probe_images",
    "natural_probe_images",
]
