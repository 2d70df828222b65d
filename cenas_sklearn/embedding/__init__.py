"""Contrastive embedding of architectures from their EPDJMs (SimCLR, skorch)."""

from ._contrastive import PAPER_CONFIGURATION, ContrastiveEmbedder, identification_accuracy
from ._loss import NTXentLoss

__all__ = [
    "PAPER_CONFIGURATION",
    "ContrastiveEmbedder",
    "NTXentLoss",
    "identification_accuracy",
]
