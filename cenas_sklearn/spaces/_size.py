"""The NATS-Bench size space (``sss``)."""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from ._base import SearchSpace, check_int
from ._nb201 import NB201Space

#: Candidate widths of every layer of the size space.
NATS_SIZE_CHANNELS = (8, 16, 24, 32, 40, 48, 56, 64)
#: The cell fixed in every size-space network (index 9930 of the topology space).
NATS_SIZE_CELL = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)
_N_LAYERS = 5
# cell, residual reduction, cell, residual reduction, cell
_REDUCTIONS = (False, True, False, True, False)


class NATSSizeSpace(SearchSpace):
    """The NATS-Bench size search space (``sss``).

    Every network has the same topology (a cell, a residual stride-2 block, a
    cell, a residual block, a cell, with the fixed cell :data:`NATS_SIZE_CELL`);
    what varies is the width of each of the 5 layers, one of
    :data:`NATS_SIZE_CHANNELS`: 8**5 = 32,768 architectures written
    ``c0:c1:c2:c3:c4``, in the official NATS-Bench order (itertools.product
    order, ``8:8:8:8:8`` first, ``64:64:64:64:64`` last).

    Examples
    --------
    >>> from cenas_sklearn.spaces import NATSSizeSpace
    >>> space = NATSSizeSpace()
    >>> len(space), space[0], space[-1]
    (32768, '8:8:8:8:8', '64:64:64:64:64')
    >>> space.index("64:64:64:64:64")
    32767
    """

    nats_name = "sss"
    channels = NATS_SIZE_CHANNELS
    cell = NATS_SIZE_CELL

    def _enumerate(self):
        return [
            ":".join(map(str, widths))
            for widths in itertools.product(NATS_SIZE_CHANNELS, repeat=_N_LAYERS)
        ]

    def parse(self, arch):
        """Validate an architecture and return its widths as a tuple of 5 ints.

        Raises
        ------
        ValueError
            If the string is malformed; the message names the layer at fault.
        """
        if not isinstance(arch, str):
            return self.parse(self._archs[self._check_index(arch)])
        parts = arch.strip().split(":")
        if len(parts) != _N_LAYERS:
            raise ValueError(
                f"a size-space architecture has {_N_LAYERS} widths separated by ':', "
                f"got {len(parts)} in {arch!r}"
            )
        widths = []
        for layer, part in enumerate(parts):
            if not (part.strip().isascii() and part.strip().isdigit()):
                raise ValueError(f"width of layer {layer} is not an integer: {part!r} in {arch!r}")
            width = int(part)
            if width not in NATS_SIZE_CHANNELS:
                raise ValueError(
                    f"width {width} of layer {layer} is not a candidate width in {arch!r}; "
                    f"expected one of {', '.join(map(str, NATS_SIZE_CHANNELS))}"
                )
            widths.append(width)
        return tuple(widths)

    def format(self, parsed):
        return ":".join(map(str, parsed))

    def _index_of_parsed(self, parsed):
        index = 0
        for width in parsed:
            index = index * len(NATS_SIZE_CHANNELS) + NATS_SIZE_CHANNELS.index(width)
        return index

    def neighbours(self, arch):
        """All 35 architectures that differ from ``arch`` in the width of one layer."""
        widths = list(self.parse(arch))
        out = []
        for layer, width in enumerate(widths):
            for new in NATS_SIZE_CHANNELS:
                if new != width:
                    out.append(self.format([*widths[:layer], new, *widths[layer + 1:]]))
        return out

    def onehot(self, archs):
        """One-hot width encoding: 5 layers x 8 widths = 40 binary features."""
        archs = [archs] if isinstance(archs, str | numbers.Integral) else list(archs)
        n_c = len(NATS_SIZE_CHANNELS)
        out = np.zeros((len(archs), _N_LAYERS * n_c), dtype=np.float32)
        for row, arch in enumerate(archs):
            codes = [NATS_SIZE_CHANNELS.index(w) for w in self.parse(arch)]
            out[row, np.arange(_N_LAYERS) * n_c + np.asarray(codes)] = 1.0
        return out

    def onehot_feature_names(self):
        """Names of the :meth:`onehot` columns, as an object array."""
        return np.array(
            [f"layer{i}={c}" for i in range(_N_LAYERS) for c in NATS_SIZE_CHANNELS], dtype=object
        )

    def build(self, arch, *, num_classes=10):
        """Build the NATS-Bench ``infer.shape.tiny`` network of ``arch``.

        Layer ``i`` outputs ``c_i`` channels; the stem outputs ``c0``. Cells
        whose input width differs from their output width map it on the edges
        leaving their input node (``skip_connect`` becomes a 1x1 conv + BN).
        """
        from ._ops import CellNetwork

        widths = self.parse(arch)
        num_classes = check_int(num_classes, "num_classes")
        genotype = NB201Space().parse(NATS_SIZE_CELL)
        return CellNetwork(list(widths), list(_REDUCTIONS), genotype, num_classes)
