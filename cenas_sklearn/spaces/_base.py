"""The interface shared by the finite search spaces of cenas_sklearn."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property

import numpy as np
from sklearn.utils import check_random_state


class SearchSpace(ABC, Sequence):
    """A finite, ordered set of neural architectures.

    A search space is a read-only sequence of architecture strings in the
    benchmark's official index order: ``space[i]`` is the string of index
    ``i``, ``space.index(arch)`` is its inverse, ``len(space)`` its size.
    Subclasses define how a string is parsed and how its network is built.

    Architectures are accepted everywhere as a string or as an integer index;
    invalid input raises :class:`TypeError` (wrong kind of object),
    :class:`ValueError` (a malformed string, with the reason) or
    :class:`IndexError` (an index out of range).
    """

    #: Short name used by NATS-Bench for this space (``"tss"`` or ``"sss"``).
    nats_name: str = ""

    # ------------------------------------------------------------------ abstract
    @abstractmethod
    def _enumerate(self) -> list[str]:
        """All architecture strings, in official index order."""

    @abstractmethod
    def parse(self, arch):
        """Parse and validate one architecture string into its structured form."""

    @abstractmethod
    def format(self, parsed) -> str:
        """Inverse of :meth:`parse`: the official string of a structured form."""

    @abstractmethod
    def _index_of_parsed(self, parsed) -> int:
        """Index of a structured (already validated) architecture."""

    @abstractmethod
    def build(self, arch, *, num_classes: int = 10):
        """Build the torch network of ``arch`` with fresh (PyTorch default) weights."""

    @abstractmethod
    def neighbours(self, arch) -> list[str]:
        """All architectures that differ from ``arch`` by one elementary edit."""

    @abstractmethod
    def onehot(self, archs) -> np.ndarray:
        """One-hot encoding of the space's own parametrisation, one row per architecture."""

    # ------------------------------------------------------------------ sequence
    @cached_property
    def _archs(self) -> tuple[str, ...]:
        return tuple(self._enumerate())

    def __len__(self) -> int:
        return len(self._archs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._archs)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self._archs[index])
        if isinstance(index, numbers.Integral) and not isinstance(index, bool) and index < 0:
            index += len(self)  # Python's negative indexing, as for any sequence
        return self._archs[self._check_index(index)]

    def __contains__(self, arch) -> bool:
        try:
            self.index(arch)
        except (TypeError, ValueError, IndexError):
            return False
        return True

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __getstate__(self):
        # The enumeration is cheap to rebuild; keep pickles small.
        state = self.__dict__.copy()
        for name in ("_archs", "_index_map", "_iso_keys", "_iso_representative"):
            state.pop(name, None)
        return state

    def _key(self) -> tuple:
        return ()

    # ------------------------------------------------------------------ lookup
    def _check_index(self, index) -> int:
        if isinstance(index, bool | np.bool_) or not isinstance(index, numbers.Integral):
            raise TypeError(
                f"an architecture index must be an integer, got {type(index).__name__}"
            )
        index = int(index)
        n = len(self)
        if not 0 <= index < n:
            raise IndexError(
                f"architecture index {index} is out of range for {self!r} (0..{n - 1})"
            )
        return index

    def index(self, arch) -> int:
        """Official index of ``arch`` (a string or an index)."""
        if isinstance(arch, str):
            return self._index_of_parsed(self.parse(arch))
        return self._check_index(arch)

    def indices(self, archs: Iterable) -> np.ndarray:
        """Vectorised :meth:`index`: an ``int64`` array, one entry per architecture."""
        return np.fromiter((self.index(a) for a in archs), dtype=np.int64)

    def to_string(self, arch) -> str:
        """The official string of ``arch``, given as a string (edges in any order) or an index."""
        return self._archs[self.index(arch)]

    # ------------------------------------------------------------------ sampling
    def sample_indices(self, n_samples: int, *, random_state=None, replace: bool = False,
                       unique: bool = False) -> np.ndarray:
        """Draw architecture indices uniformly at random.

        Parameters
        ----------
        n_samples : int
            Number of indices to draw.
        random_state : int, RandomState instance or None, default=None
            Seed or generator, as everywhere in scikit-learn.
        replace : bool, default=False
            Draw with replacement.
        unique : bool, default=False
            Draw only among the isomorphism representatives
            (see :meth:`representative_indices`), so that no two drawn
            architectures compute the same function.

        Returns
        -------
        indices : ndarray of shape (n_samples,)
        """
        n_samples = check_int(n_samples, "n_samples", minimum=0)
        pool = self.representative_indices() if unique else np.arange(len(self))
        if not replace and n_samples > len(pool):
            raise ValueError(
                f"cannot draw n_samples={n_samples} distinct architectures from {len(pool)}; "
                "pass replace=True"
            )
        rng = check_random_state(random_state)
        return rng.choice(pool, size=n_samples, replace=replace).astype(np.int64)

    def sample(self, n_samples: int, *, random_state=None, replace: bool = False,
               unique: bool = False) -> list[str]:
        """Draw architecture strings uniformly at random (see :meth:`sample_indices`)."""
        idx = self.sample_indices(n_samples, random_state=random_state, replace=replace,
                                  unique=unique)
        return [self._archs[i] for i in idx]

    # ------------------------------------------------------------------ isomorphism
    def isomorphism_key(self, arch) -> str:
        """A string equal for two architectures exactly when they compute the same function.

        The default treats every architecture as distinct; cell-based spaces override it.
        """
        return self.to_string(arch)

    @cached_property
    def _iso_keys(self) -> np.ndarray:
        return np.array([self.isomorphism_key(a) for a in self._archs], dtype=object)

    @cached_property
    def _iso_representative(self) -> np.ndarray:
        # Map every index to the smallest index computing the same function.
        keys = self._iso_keys
        first: dict[str, int] = {}
        rep = np.empty(len(keys), dtype=np.int64)
        for i, k in enumerate(keys):
            rep[i] = first.setdefault(k, i)
        return rep

    def canonical(self, arch) -> str:
        """The representative of ``arch``'s isomorphism class: its member of smallest index."""
        return self._archs[self._iso_representative[self.index(arch)]]

    def representative_indices(self) -> np.ndarray:
        """Indices of one architecture per isomorphism class (the smallest index of each)."""
        rep = self._iso_representative
        return np.flatnonzero(rep == np.arange(len(rep)))

    # ------------------------------------------------------------------ networks
    def n_parameters(self, arch, *, num_classes: int = 10) -> int:
        """Number of trainable parameters of the network of ``arch``."""
        net = self.build(arch, num_classes=num_classes)
        return int(sum(p.numel() for p in net.parameters()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_int(value, name: str, *, minimum: int = 1) -> int:
    """``value`` as an ``int``; the errors name the argument.

    :class:`TypeError` unless an integer (bools excluded), :class:`ValueError` below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
