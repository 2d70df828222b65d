"""
=============================================
Embedding your own family of torch networks
=============================================

:class:`~cenas_sklearn.features.EPDJMTransformer` is not tied to the search
spaces shipped with ``cenas_sklearn``: an architecture can be any callable that
returns a fresh :class:`torch.nn.Module`. This example defines a small family
of plain convolutional networks that differ in depth, width and activation,
describes each by the singular values of its data Jacobians at initialisation,
and asks which changes move a network most: does a network twice as wide
compute something different at initialisation, or is it depth and
nonlinearity that matter?

The settings are small so that the example runs in seconds on a CPU.
"""

# %%
# The contract of a module factory
# --------------------------------
# For each initialisation, the transformer calls the factory with no
# argument, with torch's random generator seeded (so the weights and any
# randomness of the forward pass, such as dropout, are reproducible, and the
# global generator is left untouched). It then
#
# - moves the module to the transformer's device and precision, puts it in
#   training mode (BatchNorm normalises with the probe batch's statistics) and
#   freezes its parameters;
# - feeds it the probe batch, a float tensor of shape
#   ``(n_probe, 3, probe_size, probe_size)`` (by default, natural image crops
#   normalised as CIFAR-10), and differentiates the sum of all its logits with
#   respect to the images;
# - expects logits of shape ``(n_probe, n_classes)`` (or a tuple whose last
#   element is, as NATS-Bench networks return ``(features, logits)``), of any
#   number of classes: ``num_classes`` only configures the networks built from
#   a search space, and is not passed to factories.
#
# A module *instance* is rejected, since each initialisation needs fresh
# weights. Lazy modules (such as :class:`torch.nn.LazyLinear`), whose
# parameters only exist after a first forward pass, are materialised on the
# probes, under the initialisation's seed, before the Jacobian is taken.
#
# A frozen dataclass makes a good factory: it is a readable, comparable,
# hashable description of the network, and calling it builds one.

from dataclasses import dataclass

from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


@dataclass(frozen=True)
class ConvNet:
    """A plain CNN: ``depth`` blocks of 3x3 convolution, BatchNorm and activation."""

    depth: int
    width: int
    activation: str = "relu"

    def __call__(self):
        layers, channels = [], 3
        for _ in range(self.depth):
            layers += [nn.Conv2d(channels, self.width, 3, padding=1, bias=False),
                       nn.BatchNorm2d(self.width), ACTIVATIONS[self.activation]()]
            channels = self.width
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(channels, 10))


family = [ConvNet(depth, width, activation) for activation in ("relu", "tanh")
          for depth in (1, 2, 4) for width in (8, 16, 32)]
print(len(family), "networks, e.g.", family[0])

# %%
# Two NAS-Bench-201 cells join them for comparison: strings of a search space
# and factories can be mixed in one ``X``.

from cenas_sklearn.spaces import NB201Space

nb201_cells = NB201Space().sample(2, random_state=0, unique=True)
archs = family + nb201_cells

# %%
# EPDJMs and their spectra
# ------------------------
# :meth:`~cenas_sklearn.features.EPDJMTransformer.compute` returns the EPDJMs
# with the singular values of each Jacobian and the parameter count of each
# network. :class:`~cenas_sklearn.features.SpectralFeatures` turns the EPDJMs
# into the log of their 16 singular values, averaged over the 8
# initialisations: a description that does not depend on the singular bases,
# nor on the parameter count (left out here: it grows with the square of the
# width).
#
# With ``n_jobs > 1``, the factories are sent to joblib's worker processes.
# joblib's default backend (loky) pickles them with cloudpickle, so classes and
# lambdas defined in a script work; the ``"multiprocessing"`` backend needs
# factories importable from a module. Here, 20 small networks take a few
# seconds on one core, not worth starting workers for.

import numpy as np

from cenas_sklearn.features import EPDJMTransformer, SpectralFeatures

epdjm = EPDJMTransformer(n_inits=8, n_probe=32, probe_size=16, n_components=16,
                         random_state=0)
epdjm.fit()
computed = epdjm.compute(archs)
spectral = SpectralFeatures(feature_shape=epdjm.feature_shape_)
spectra = spectral.fit_transform(computed.epdjm)
print("EPDJMs:", computed.epdjm.shape, "-> spectral features:", spectra.shape)
for arch, n_params in zip(archs[:3], computed.n_parameters[:3], strict=True):
    print(f"  {arch}: {n_params} parameters")

# %%
# Which changes move a network?
# -----------------------------
# The Euclidean distance between spectral features, for the pairs of the
# family that differ in one attribute only. Two distances: between the log
# spectra themselves, and between their *shapes*, each log spectrum minus its
# mean (which removes the Jacobian's overall scale). As a yardstick of the
# noise of random initialisation, the last line compares each network with
# itself under 8 other initialisations (another ``random_state``).

import itertools

from scipy.spatial.distance import pdist, squareform
from sklearn.base import clone


def shape(log_spectra):
    return log_spectra - log_spectra.mean(axis=1, keepdims=True)


distances = squareform(pdist(spectra))
shape_distances = squareform(pdist(shape(spectra)))
pairs = {"width only": [], "activation only": [], "depth only": []}
for i, j in itertools.combinations(range(len(family)), 2):
    a, b = family[i], family[j]
    changed = [name for name in ("width", "activation", "depth")
               if getattr(a, name) != getattr(b, name)]
    if len(changed) == 1:
        pairs[f"{changed[0]} only"].append((distances[i, j], shape_distances[i, j]))

other = clone(epdjm).set_params(random_state=1).fit().compute(family).epdjm
other_spectra = spectral.transform(other)
pairs["other initialisations"] = list(zip(
    np.linalg.norm(spectra[:len(family)] - other_spectra, axis=1),
    np.linalg.norm(shape(spectra[:len(family)]) - shape(other_spectra), axis=1),
    strict=True))
print(f"{'pairs differing in':>22}      log spectra (min-max)   shapes (min-max)")
for name, values in pairs.items():
    full, shapes = np.array(values).T
    print(f"{name:>22} ({len(values):2d}):  {full.mean():.2f} ({full.min():.2f}-{full.max():.2f})"
          f"        {shapes.mean():.2f} ({shapes.min():.2f}-{shapes.max():.2f})")
print("mean log singular value by depth (relu, width 16):",
      {arch.depth: round(float(spectra[k].mean()), 2) for k, arch in enumerate(family)
       if arch.activation == "relu" and arch.width == 16})

# %%
# In this run, changing only the width moves a network by no more than drawing
# other initialisations of it does (0.28 against 0.39 on average, 0.10 against
# 0.11 for the shapes): at initialisation, these networks compute nearly the
# same thing at widths 8, 16 and 32, although their parameter counts differ
# fourfold and more. Depth moves them farthest, mostly by shifting the
# Jacobian's overall scale (the mean log singular value grows with depth);
# once the scale is removed, changing the activation reshapes the spectrum as
# much as changing the depth (0.42 and 0.37 on average, three to four times
# the noise).
#
# The distance matrix
# -------------------
# Rows and columns follow the family's order (activation, then depth, then
# width), the two NAS-Bench-201 cells last. Left: log spectra; right: their
# shapes. The blocks of three along the diagonal are the three widths of one
# depth and activation. The colour scale stops at the largest distance within
# the family: the NAS-Bench-201 networks (5 cells per stage, 3 stages) are
# farther from all of them in log spectra, as printed below.

import matplotlib.pyplot as plt

labels = [f"{arch.activation} d{arch.depth} w{arch.width}" for arch in family]
labels += [f"NB201 cell {k + 1}" for k in range(len(nb201_cells))]
n = len(family)
for k in range(len(nb201_cells)):
    print(f"NB201 cell {k + 1}: distance to the family {distances[n + k, :n].min():.2f} to "
          f"{distances[n + k, :n].max():.2f} (log spectra), largest within the family "
          f"{distances[:n, :n].max():.2f}")
fig, axes = plt.subplots(1, 2, figsize=(12, 5.8))
for ax, matrix, title in ((axes[0], distances, "log spectra"),
                          (axes[1], shape_distances, "shapes of the log spectra")):
    image = ax.imshow(matrix, cmap="viridis", vmax=matrix[:n, :n].max())
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    fig.colorbar(image, ax=ax, shrink=0.8, extend="max", label="distance")
    ax.set_title(f"Distances between {title}")
fig.tight_layout()
plt.show()

# %%
# A map of the family
# -------------------
# A PCA of the spectral features of the family (the NAS-Bench-201 cells left
# out, so that they do not set the axes): colour is depth, marker the
# activation, size the width.

from sklearn.decomposition import PCA

coords = PCA(n_components=2).fit_transform(spectra[:len(family)])
markers = {"relu": "o", "tanh": "s"}
colors = {1: "tab:blue", 2: "tab:orange", 4: "tab:green"}
fig, ax = plt.subplots(figsize=(6, 4.5))
for arch, (x, y) in zip(family, coords, strict=True):
    ax.scatter(x, y, marker=markers[arch.activation], color=colors[arch.depth],
               s=arch.width * 4, edgecolors="k", linewidths=0.5)
handles = [plt.Line2D([], [], marker=m, linestyle="", color="lightgrey", markeredgecolor="k",
                      label=a) for a, m in markers.items()]
handles += [plt.Line2D([], [], marker="o", linestyle="", color=c, label=f"depth {d}")
            for d, c in colors.items()]
ax.legend(handles=handles, fontsize=8)
ax.set_xlabel("PCA 1")
ax.set_ylabel("PCA 2")
ax.set_title("Spectral features of the family (marker size: width)")
fig.tight_layout()
plt.show()
