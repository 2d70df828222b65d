"""The NAS-Bench-201 topology space (NATS-Bench ``tss``)."""

from __future__ import annotations

import itertools
import numbers
import random
from functools import cached_property

import numpy as np

from ._base import SearchSpace, check_int

#: The five candidate operations, in NAS-Bench-201's order.
NB201_OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

# NAS-Bench-201 enumerates every cell, then shuffles the list with Python's
# ``random`` seeded with 88 (Dong & Yang, 2020, the benchmark's generation
# script); the result is the official index order.
_OFFICIAL_SHUFFLE_SEED = 88
_N_NODES = 4  # input node 0, intermediate nodes 1 and 2, output node 3
_EDGES = tuple((j, i) for j in range(1, _N_NODES) for i in range(j))  # (to, from)


def _format_cell(genotype) -> str:
    return "+".join(
        "|" + "|".join(f"{op}~{src}" for op, src in node) + "|" for node in genotype
    )


class NB201Space(SearchSpace):
    """The NAS-Bench-201 topology search space (= NATS-Bench ``tss``).

    A cell is a 4-node DAG; each of its 6 edges carries one of 5 operations
    (:data:`NB201_OPERATIONS`), hence 5**6 = 15,625 architectures. They are
    enumerated in the **official NAS-Bench-201 index order** without any data
    file, so that ``space[i]`` is the architecture of index ``i`` in every
    NAS-Bench-201 / NATS-Bench table.

    Architecture strings read ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: node
    ``j`` lists its incoming edges ``op~i`` from each earlier node ``i``. Edges
    of a node may be written in any order; they are canonicalised.

    Parameters
    ----------
    C : int, default=16
        Width of the first stage of the built networks (NAS-Bench-201: 16).
    N : int, default=5
        Number of cells per stage of the built networks (NAS-Bench-201: 5).

    Examples
    --------
    >>> from cenas_sklearn.spaces import NB201Space
    >>> space = NB201Space()
    >>> len(space)
    15625
    >>> space[0]
    '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'
    >>> space.index(space[9930])
    9930
    >>> len(space.representative_indices())  # functionally distinct cells
    6466
    """

    nats_name = "tss"
    operations = NB201_OPERATIONS

    def __init__(self, *, C: int = 16, N: int = 5):
        for name, value in (("C", C), ("N", N)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.C = int(C)
        self.N = int(N)

    def _key(self):
        return (self.C, self.N)

    def __repr__(self):
        params = ", ".join(f"{k}={v}" for k, v in (("C", self.C), ("N", self.N))
                           if v != {"C": 16, "N": 5}[k])
        return f"NB201Space({params})"

    # ------------------------------------------------------------------ enumeration
    def _enumerate(self):
        # Same nesting as NAS-Bench-201's generator: node 1's edge varies slowest,
        # node 3's last edge fastest.
        cells = [
            (n1, n2, n3)
            for n1 in itertools.product(NB201_OPERATIONS, repeat=1)
            for n2 in itertools.product(NB201_OPERATIONS, repeat=2)
            for n3 in itertools.product(NB201_OPERATIONS, repeat=3)
        ]
        random.Random(_OFFICIAL_SHUFFLE_SEED).shuffle(cells)
        return [
            _format_cell(tuple(tuple(zip(node, range(len(node)), strict=True)) for node in cell))
            for cell in cells
        ]

    @cached_property
    def _index_map(self) -> dict[tuple[int, ...], int]:
        # Per-edge operation codes -> official index.
        return {self._codes(self.parse(s)): i for i, s in enumerate(self._archs)}

    @staticmethod
    def _codes(genotype) -> tuple[int, ...]:
        return tuple(NB201_OPERATIONS.index(op) for node in genotype for op, _ in node)

    def _index_of_parsed(self, parsed):
        return self._index_map[self._codes(parsed)]

    # ------------------------------------------------------------------ parsing
    def parse(self, arch):
        """Validate an architecture and return its genotype.

        Parameters
        ----------
        arch : str or int
            An architecture string or an official index.

        Returns
        -------
        genotype : tuple of tuples
            ``genotype[j - 1]`` lists node ``j``'s incoming edges as
            ``(operation, source_node)`` pairs, sorted by source node.

        Raises
        ------
        ValueError
            If the string is malformed; the message names the node or edge at fault.
        """
        if not isinstance(arch, str):
            return self.parse(self._archs[self._check_index(arch)])
        nodes = arch.strip().split("+")
        if len(nodes) != _N_NODES - 1:
            raise ValueError(
                f"an NB201 architecture has {_N_NODES - 1} nodes separated by '+', "
                f"got {len(nodes)} in {arch!r}"
            )
        genotype = []
        for j, node in enumerate(nodes, start=1):
            if len(node) < 2 or not (node.startswith("|") and node.endswith("|")):
                raise ValueError(f"node {j} must be written '|op~i|...|', got {node!r} in {arch!r}")
            edges = {}
            for token in node[1:-1].split("|"):
                op, sep, src = token.partition("~")
                if not sep or not (src.isascii() and src.isdigit()):
                    raise ValueError(
                        f"edge {token!r} of node {j} must read 'operation~source' "
                        f"in {arch!r}"
                    )
                src = int(src)
                if src >= j:
                    raise ValueError(
                        f"edge {token!r} of node {j} comes from node {src}; "
                        f"node {j} takes inputs from nodes 0..{j - 1} only, in {arch!r}"
                    )
                if op not in NB201_OPERATIONS:
                    raise ValueError(
                        f"unknown operation {op!r} on edge {j}<-{src} in {arch!r}; "
                        f"expected one of {', '.join(NB201_OPERATIONS)}"
                    )
                if src in edges:
                    raise ValueError(f"edge {j}<-{src} is given twice in {arch!r}")
                edges[src] = op
            missing = [i for i in range(j) if i not in edges]
            if missing:
                raise ValueError(
                    f"node {j} lacks its edge(s) from node(s) "
                    f"{', '.join(map(str, missing))} in {arch!r}"
                )
            genotype.append(tuple((edges[i], i) for i in range(j)))
        return tuple(genotype)

    def format(self, parsed):
        return _format_cell(parsed)

    # ------------------------------------------------------------------ structure
    def isomorphism_key(self, arch):
        """NAS-Bench-201's key for functionally identical cells.

        Following the benchmark's own rule: a ``none`` edge, or any edge leaving
        a node that is identically zero, contributes zero; ``skip_connect``
        passes its input through; the terms summed at a node commute. The rule
        groups the 15,625 cells into the published 6,466 classes.
        """
        genotype = self.parse(arch)
        nodes = {0: "0"}
        for j, node in enumerate(genotype, start=1):
            terms = []
            for op, src in node:
                if op == "none" or nodes[src] == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(nodes[src])
                else:
                    terms.append(f"({nodes[src]})@{op}")
            nodes[j] = "+".join(sorted(terms))
        return nodes[len(genotype)]

    def neighbours(self, arch):
        """All 24 architectures that differ from ``arch`` in the operation of one edge."""
        genotype = [list(node) for node in self.parse(arch)]
        out = []
        for _j, node in enumerate(genotype):
            for e, (op, src) in enumerate(node):
                for new in NB201_OPERATIONS:
                    if new != op:
                        node[e] = (new, src)
                        out.append(_format_cell(genotype))
                node[e] = (op, src)
        return out

    def onehot(self, archs):
        """One-hot operation encoding: 6 edges x 5 operations = 30 binary features.

        Columns are ordered edge by edge (``1<-0``, ``2<-0``, ``2<-1``, ``3<-0``,
        ``3<-1``, ``3<-2``), operations in :data:`NB201_OPERATIONS` order.
        """
        archs = [archs] if isinstance(archs, str | numbers.Integral) else list(archs)
        out = np.zeros((len(archs), len(_EDGES) * len(NB201_OPERATIONS)), dtype=np.float32)
        for row, arch in enumerate(archs):
            codes = self._codes(self.parse(arch))
            out[row, np.arange(len(codes)) * len(NB201_OPERATIONS) + np.asarray(codes)] = 1.0
        return out

    def onehot_feature_names(self):
        """Names of the :meth:`onehot` columns, as an object array."""
        return np.array(
            [f"{j}<-{i}={op}" for j, i in _EDGES for op in NB201_OPERATIONS], dtype=object
        )

    def build(self, arch, *, num_classes=10):
        """Build the NAS-Bench-201 ``infer.tiny`` network of ``arch``.

        Stem (3x3 conv + BN), three stages of ``N`` cells of width ``C``, ``2C``,
        ``4C`` joined by residual stride-2 blocks, then BN+ReLU, global average
        pooling and a linear classifier. ``forward`` returns the logits.
        """
        from ._ops import CellNetwork

        genotype = self.parse(arch)
        num_classes = check_int(num_classes, "num_classes")
        C, N = self.C, self.N
        channels = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
        reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        return CellNetwork(channels, reductions, genotype, num_classes)
