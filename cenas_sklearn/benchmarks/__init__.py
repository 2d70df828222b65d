"""Accuracies of architectures: tabular benchmarks and the NATS-Bench archives.

- :class:`TabularBenchmark`: one accuracy per architecture and dataset, looked up in a table;
  :func:`fetch_nb201` and :func:`fetch_nats_size` load (and download) the published tables.
- :class:`NATSBenchmark`: mean-over-seeds accuracies and costs from the NATS-Bench archives,
  through the official ``nats_bench`` API.
- :class:`TrainingObjective`: no table at all: the validation accuracy of each candidate
  network after training it for a few epochs on your own images (a search objective);
  :func:`load_digits_images`: scikit-learn's digits as small images, the offline demo data.
  Failed trainings raise :class:`TrainingError`.
"""

from ._fetch import fetch_nats_size, fetch_nb201, get_data_home
from ._nats import NATS_DATASETS, NATSBenchmark
from ._tabular import TabularBenchmark
from ._training import TrainingError, TrainingObjective, load_digits_images

__all__ = [
    "NATS_DATASETS",
    "NATSBenchmark",
    "TabularBenchmark",
    "TrainingError",
    "TrainingObjective",
    "fetch_nats_size",
    "fetch_nb201",
    "get_data_home",
    "load_digits_images",
]
