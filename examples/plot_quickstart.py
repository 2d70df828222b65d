"""
=======================================================
Quick start: EPDJM features of two search spaces
=======================================================

This example embeds a few untrained networks from two search spaces,
NAS-Bench-201 (:class:`~cenas_sklearn.spaces.NB201Space`) and the NATS-Bench
size space (:class:`~cenas_sklearn.spaces.NATSSizeSpace`), by what they
*compute* rather than by how each space encodes them.

:class:`~cenas_sklearn.features.EPDJMTransformer` pushes a fixed batch of probe
images through several fresh random initialisations of each network and keeps
the top singular directions of the data Jacobian (the EPDJM). Because the
features do not depend on the space's encoding, architectures of both spaces
land in one feature space, which any scikit-learn estimator can use: here a
:class:`~sklearn.preprocessing.StandardScaler` and a
:class:`~sklearn.decomposition.PCA` projecting on two dimensions.

The settings are tiny so that the example runs in seconds on a CPU; the paper
uses 256 probe images of 32x32 pixels, 4 initialisations and 128 components.
"""

# %%
# Sample architectures from both spaces
# -------------------------------------
# Architectures are strings in each benchmark's notation: NB201 cells read
# ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``, size-space networks ``c0:c1:c2:c3:c4``
# (the width of each of the five layers). ``unique=True`` draws one
# architecture per isomorphism class, so no two NB201 cells compute the same
# function.

from cenas_sklearn.spaces import NATSSizeSpace, NB201Space

nb201 = NB201Space()
sss = NATSSizeSpace()
nb201_archs = nb201.sample(12, random_state=0, unique=True)
sss_archs = sss.sample(12, random_state=0)
archs = nb201_archs + sss_archs
print(nb201_archs[0])
print(sss_archs[0])

# %%
# EPDJM features in a scikit-learn pipeline
# -----------------------------------------
# ``X`` is a list of architecture strings; the transformer recognises each
# space by its notation. One output row holds ``n_inits`` matrices of shape
# ``(n_probe, n_components)``.
#
# ``normalize=True`` divides each EPDJM by its top singular value, the variant
# the authors found better for comparing architectures across search spaces:
# without it, the overall scale of the Jacobian (its top singular value varies
# about a hundredfold among these networks) dominates the principal components.

from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cenas_sklearn.features import EPDJMTransformer

epdjm = EPDJMTransformer(n_inits=2, n_probe=16, probe_size=8, n_components=8, normalize=True,
                         random_state=0)
pipe = make_pipeline(epdjm, StandardScaler(), PCA(n_components=2, random_state=0))
coords = pipe.fit_transform(archs)
print("features per architecture:", epdjm.feature_shape_, "->", coords.shape)

# %%
# :meth:`~cenas_sklearn.features.EPDJMTransformer.compute` returns more than the
# features: the singular values of each Jacobian (never normalised) and the
# parameter count of each network, which colours the plot below.

import numpy as np

n_parameters = epdjm.compute(archs).n_parameters
log_params = np.log10(n_parameters)

# %%
# Both spaces in one map
# ----------------------
# Each point is an architecture: circles for NAS-Bench-201 cells, triangles
# for size-space networks, coloured by the logarithm of the parameter count.

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

n = len(nb201_archs)
groups = (("NAS-Bench-201", "o", slice(0, n)), ("NATS size space", "^", slice(n, None)))
fig, ax = plt.subplots(figsize=(6, 4.5))
for label, marker, rows in groups:
    points = ax.scatter(coords[rows, 0], coords[rows, 1], c=log_params[rows], marker=marker,
                        cmap="viridis", vmin=log_params.min(), vmax=log_params.max(), s=60,
                        edgecolors="k", label=label)
fig.colorbar(points, ax=ax, label="log10(number of parameters)")
ax.legend(handles=[Line2D([], [], marker=marker, linestyle="", markersize=8, color="lightgrey",
                          markeredgecolor="k", label=label) for label, marker, _ in groups])
ax.set_xlabel("PCA 1")
ax.set_ylabel("PCA 2")
ax.set_title("EPDJM features of untrained networks")
fig.tight_layout()
plt.show()
