"""Torch modules of the NAS-Bench-201 / NATS-Bench cell networks.

The modules reproduce the ``infer.tiny`` (topology space) and
``infer.shape.tiny`` (size space) networks of NATS-Bench operation by
operation, so that parameter counts equal the published ones.  Submodule names
follow the upstream implementation (``stem``, ``cells``, ``lastact``,
``global_pooling``, ``classifier``; ``op`` inside a ReLU-Conv-BN, ``conv_a`` /
``conv_b`` / ``downsample`` in a residual block), which keeps ``state_dict``
keys in the same layout.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ReLUConvBN(nn.Module):
    """ReLU, then a bias-free convolution, then BatchNorm."""

    def __init__(self, c_in, c_out, kernel_size, stride, padding):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x):
        return self.op(x)


class AvgPool3x3(nn.Module):
    """3x3 average pooling, stride 1, padding 1, padded pixels not counted.

    The same function as ``nn.AvgPool2d(3, 1, 1, count_include_pad=False)``, computed
    as a depthwise box-filter convolution divided by the count of real pixels: on CPU
    the forward and backward passes run about twice as fast as PyTorch's pooling
    kernel, which dominated the cost of NB201 networks with pooling edges.
    """

    def forward(self, x):
        channels, (height, width) = x.shape[1], x.shape[2:]
        box = x.new_ones(channels, 1, 3, 3)
        sums = F.conv2d(x, box, padding=1, groups=channels)
        counts = F.conv2d(x.new_ones(1, 1, height, width), box[:1], padding=1)
        return sums / counts


class Pooling(nn.Module):
    """3x3 average pooling, preceded by a 1x1 ReLU-Conv-BN when the width changes."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.preprocess = None if c_in == c_out else ReLUConvBN(c_in, c_out, 1, 1, 0)
        if stride == 1:
            self.op = AvgPool3x3()
        else:
            self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x):
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` operation: an all-zero tensor of the output shape."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x):
        if self.c_in == self.c_out:
            if self.stride == 1:
                return x.mul(0.0)
            return x[:, :, :: self.stride, :: self.stride].mul(0.0)
        shape = list(x.shape)
        shape[1] = self.c_out
        return x.new_zeros(shape)

    def extra_repr(self):
        return f"c_in={self.c_in}, c_out={self.c_out}, stride={self.stride}"


class FactorizedReduce(nn.Module):
    """Width (stride 1) or resolution (stride 2) change for ``skip_connect``.

    Stride 1 is a plain 1x1 convolution and BatchNorm (no ReLU, as upstream);
    stride 2 concatenates two 1x1 stride-2 convolutions offset by one pixel.
    """

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.stride = stride
        self.relu = nn.ReLU(inplace=False)
        if stride == 2:
            halves = [c_out // 2, c_out - c_out // 2]
            self.convs = nn.ModuleList(
                nn.Conv2d(c_in, h, 1, stride=2, padding=0, bias=False) for h in halves
            )
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0)
        elif stride == 1:
            self.conv = nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False)
        else:  # pragma: no cover - guarded by the callers
            raise ValueError(f"invalid stride {stride}")
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        if self.stride == 2:
            x = self.relu(x)
            y = self.pad(x)
            out = torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)


def make_operation(name, c_in, c_out, stride):
    """Instantiate one cell operation by its NAS-Bench-201 name."""
    if name == "none":
        return Zero(c_in, c_out, stride)
    if name == "skip_connect":
        if stride == 1 and c_in == c_out:
            return nn.Identity()
        return FactorizedReduce(c_in, c_out, stride)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, stride, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, stride, 1)
    if name == "avg_pool_3x3":
        return Pooling(c_in, c_out, stride)
    raise ValueError(f"unknown operation {name!r}")


class ResNetBasicBlock(nn.Module):
    """The residual reduction block between stages (stride 2)."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1, 1, 0)
        else:
            self.downsample = None
        self.out_dim = c_out

    def forward(self, x):
        out = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + out


class InferCell(nn.Module):
    """A cell: a DAG whose node ``j`` sums one operation applied to each earlier node.

    ``genotype`` is a tuple of nodes, each a tuple of ``(operation, input_node)``.
    Edges leaving the cell's input (node 0) map ``c_in`` to ``c_out`` channels.
    """

    def __init__(self, genotype, c_in, c_out):
        super().__init__()
        self.layers = nn.ModuleList()
        self.node_inputs = []
        for node in genotype:
            inputs = []
            for op_name, src in node:
                width_in = c_in if src == 0 else c_out
                self.layers.append(make_operation(op_name, width_in, c_out, 1))
                inputs.append(src)
            self.node_inputs.append(tuple(inputs))
        self.out_dim = c_out

    def forward(self, x):
        nodes = [x]
        layer = 0
        for inputs in self.node_inputs:
            total = None
            for src in inputs:
                y = self.layers[layer](nodes[src])
                total = y if total is None else total + y
                layer += 1
            nodes.append(total)
        return nodes[-1]


class CellNetwork(nn.Module):
    """Stem, cells and residual reduction blocks, BN+ReLU, global pooling, linear classifier.

    ``channels[i]`` is the output width of layer ``i``; ``reductions[i]`` says whether
    that layer is a stride-2 residual block (else it is a cell). ``forward`` returns logits.
    """

    def __init__(self, channels, reductions, genotype, num_classes):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels[0], kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels[0]),
        )
        self.cells = nn.ModuleList()
        c_prev = channels[0]
        for c_curr, reduction in zip(channels, reductions, strict=True):
            if reduction:
                cell = ResNetBasicBlock(c_prev, c_curr, 2)
            else:
                cell = InferCell(genotype, c_prev, c_curr)
            self.cells.append(cell)
            c_prev = cell.out_dim
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)
        self.size_multiple = 2 ** sum(map(bool, reductions))

    def forward(self, x):
        if x.ndim != 4 or any(size % self.size_multiple for size in x.shape[2:]):
            # The residual blocks' strided convolution rounds odd sizes up and their
            # 2x2 pooling rounds them down: the two branches would not add up.
            raise ValueError(
                f"this network takes images of shape (n, C, H, W) with H and W multiples of "
                f"{self.size_multiple} (one halving per reduction block), got "
                f"{tuple(x.shape)}"
            )
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        out = self.global_pooling(self.lastact(feature))
        return self.classifier(out.flatten(1))
