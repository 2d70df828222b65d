"""Accuracies of architectures: tabular benchmarks and the NATS-Bench archives.

- :class:`TabularBenchmark`: one accuracy per architecture and dataset, looked up in a table;
  :func:`fetch_nb201` and :func:`fetch_nats_size` load (and download) the published tables.
- :class:`NATSBenchmark`: mean-over-seeds accuracies and costs from the NATS-Bench archives,
  through the official ``nats_bench`` API.
"""

from ._fetch import fetch_nats_size, fetch_nb201, get_data_home
from ._nats import NATS_DATASETS, NATSBenchmark
from ._tabular import TabularBenchmark

__all__ = [
    "NATS_DATASETS",
    "NATSBenchmark",
    "TabularBenchmark",
    "fetch_nats_size",
    "fetch_nb201",
    "get_data_home",
]
