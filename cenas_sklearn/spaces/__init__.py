"""Search spaces: architecture strings, official indices, isomorphism, torch networks.

- :class:`NB201Space`: NAS-Bench-201 topologies (= NATS-Bench ``tss``), 15,625 cells.
- :class:`NATSSizeSpace`: NATS-Bench size space (``sss``), 32,768 width settings.
"""

from ._base import SearchSpace
from ._nb201 import NB201_OPERATIONS, NB201Space
from ._resolve import get_space, infer_space
from ._size import NATS_SIZE_CELL, NATS_SIZE_CHANNELS, NATSSizeSpace

__all__ = [
    "NATS_SIZE_CELL",
    "NATS_SIZE_CHANNELS",
    "NB201_OPERATIONS",
    "NATSSizeSpace",
    "NB201Space",
    "SearchSpace",
    "get_space",
    "infer_space",
]
