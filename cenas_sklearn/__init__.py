"""Contrastive embeddings of neural architectures, as scikit-learn estimators.

The public names are importable from the top level; the subpackages that need
torch are imported on first use, so ``import cenas_sklearn`` stays fast.
"""

from importlib import import_module

from ._version import __version__

_LAZY = {
    "NB201Space": "spaces",
    "NATSSizeSpace": "spaces",
    "get_space": "spaces",
    "IncompatibleVersionError": "_persistence",
    "EPDJMTransformer": "features",
    "EPDJMStore": "features",
    "natural_probe_images": "features",
    "SpectralFeatures": "features",
    "ContrastiveEmbedder": "embedding",
    "TransferRegressor": "transfer",
    "BayesianArchitectureSearch": "search",
    "RegularizedEvolution": "search",
    "RandomArchitectureSearch": "search",
    "TabularBenchmark": "benchmarks",
    "NATSBenchmark": "benchmarks",
    "fetch_nb201": "benchmarks",
    "fetch_nats_size": "benchmarks",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
