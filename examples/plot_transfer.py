"""
==============================================================
Transfer: rank the NATS size space from NAS-Bench-201 labels
==============================================================

The EPDJM features describe a network by what its untrained initialisations
compute, whatever search space it comes from, so architectures of
NAS-Bench-201 (:class:`~cenas_sklearn.spaces.NB201Space`) and of the NATS-Bench
size space (:class:`~cenas_sklearn.spaces.NATSSizeSpace`) share one embedding.
:class:`~cenas_sklearn.transfer.TransferRegressor` uses it to train an
accuracy predictor on the architectures of one space and rank those of another
space that has no labels:

- the contrastive embedder learns from **all** architectures (its training is
  unsupervised), and
- the regressor learns from the labelled ones only: ``y`` is ``NaN`` for the
  others, as in :mod:`sklearn.semi_supervised`.

The accuracies come from the published tables
(:func:`~cenas_sklearn.benchmarks.fetch_nb201`,
:func:`~cenas_sklearn.benchmarks.fetch_nats_size`), looked for in the folder
named by the environment variable ``CENAS_DATA`` (or ``~/cenas_sklearn_data``)
and downloaded there when missing. The settings are tiny so that the example
runs in seconds on a CPU.
"""

# %%
# Architectures of two spaces, labels of one
# ------------------------------------------
# 60 NAS-Bench-201 cells (one per isomorphism class) with their CIFAR-10 test
# accuracy, and 60 size-space networks whose CIFAR-10 validation accuracy we
# keep aside to evaluate the ranking: the regressor never sees it.

import numpy as np

from cenas_sklearn.benchmarks import fetch_nats_size, fetch_nb201
from cenas_sklearn.spaces import NATSSizeSpace, NB201Space

nb201_table, size_table = fetch_nb201(), fetch_nats_size()
nb201_archs = NB201Space().sample(60, random_state=0, unique=True)
size_archs = NATSSizeSpace().sample(60, random_state=0)
nb201_acc = nb201_table.accuracy(nb201_archs, dataset="cifar10")
size_acc = size_table.accuracy(size_archs, dataset="cifar10-valid")  # held out

archs = nb201_archs + size_archs
spaces = np.array(["NAS-Bench-201"] * 60 + ["NATS size space"] * 60)
y = np.concatenate([nb201_acc, np.full(60, np.nan)])  # NaN: unlabelled
print(f"NB201 CIFAR-10 test accuracy: {nb201_acc.min():.1f} to {nb201_acc.max():.1f} %")
print(f"size space CIFAR-10 valid accuracy: {size_acc.min():.1f} to {size_acc.max():.1f} %")

# %%
# EPDJM features, computed once
# -----------------------------
# ``TransferRegressor`` accepts the architecture strings themselves and
# computes their EPDJMs in ``fit`` and again in ``predict``; computing them
# once with :class:`~cenas_sklearn.features.EPDJMTransformer` and passing the
# array is cheaper when the same architectures are used several times. The
# last column is the log parameter count of each network.

from cenas_sklearn.features import EPDJMTransformer

epdjm = EPDJMTransformer(n_inits=2, n_probe=16, probe_size=8, n_components=8,
                         append_log_n_parameters=True, random_state=0)
X = epdjm.fit_transform(archs)
print("features:", X.shape, "EPDJM layout per architecture:", epdjm.feature_shape_)

# %%
# Fit on NB201 ranks, rank the size space
# ---------------------------------------
# The two tables measure different things on different scales (test accuracy
# after 200 epochs, validation accuracy after 90), so the regressor learns the
# **within-space rank** of each labelled architecture (``target="rank"``, a
# quantile in (0, 1)); ``spaces`` says which space each row belongs to (it is
# recognised from the notation when ``X`` holds strings).

from scipy.stats import kendalltau

from cenas_sklearn.embedding import ContrastiveEmbedder
from cenas_sklearn.transfer import TransferRegressor

embedder = ContrastiveEmbedder(feature_shape=epdjm.feature_shape_, log_n_parameters=True,
                               hidden_layer_size=64, embedding_dim=16, max_iter=100,
                               batch_size=128, device="cpu", random_state=0)
reg = TransferRegressor(features="passthrough", embedder=embedder, target="rank",
                        random_state=0)
reg.fit(X, y, spaces=spaces)
print(f"labelled: {reg.n_labelled_} of {len(X)}; embedder trained on all {len(X)}")
tau_transfer = kendalltau(reg.predict(X[60:]), size_acc).statistic

# %%
# Baselines: the same class with another embedder. The spectral features (log
# singular values of the Jacobians and the log parameter count) are a strong,
# cheap description; the log parameter count alone needs no training at all,
# and in the size space, where networks differ only by their widths, it is
# hard to beat.

from cenas_sklearn.features import SpectralFeatures

spectral = TransferRegressor(
    features="passthrough", target="rank", random_state=0,
    embedder=SpectralFeatures(feature_shape=epdjm.feature_shape_, log_n_parameters=True))
spectral.fit(X, y, spaces=spaces)
tau_spectral = kendalltau(spectral.predict(X[60:]), size_acc).statistic
tau_params = kendalltau(X[60:, -1], size_acc).statistic

print("Kendall tau with the size-space accuracies (no size-space label used):")
print(f"  contrastive embedding + random forest: {tau_transfer:.2f}")
print(f"  spectral features + random forest:     {tau_spectral:.2f}")
print(f"  log(parameter count):                  {tau_params:.2f}")

# %%
# Both spaces in one map
# ----------------------
# ``transform`` returns the shared embedding; a PCA projects it on two
# dimensions (:class:`~sklearn.manifold.TSNE` works the same way). Circles are
# NAS-Bench-201 cells, triangles size-space networks, coloured by the rank of
# their accuracy within their own space (the spaces' accuracies are not on
# one scale).

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from scipy.stats import rankdata
from sklearn.decomposition import PCA

coords = PCA(n_components=2, random_state=0).fit_transform(reg.transform(X))
accuracy = np.concatenate([nb201_acc, size_acc])
quantile = np.empty(len(X))
for space in np.unique(spaces):
    rows = spaces == space
    quantile[rows] = (rankdata(accuracy[rows]) - 0.5) / rows.sum()

markers = (("NAS-Bench-201", "o"), ("NATS size space", "^"))
fig, ax = plt.subplots(figsize=(6.5, 4.8))
for space, marker in markers:
    rows = spaces == space
    points = ax.scatter(coords[rows, 0], coords[rows, 1], c=quantile[rows], marker=marker,
                        cmap="viridis", vmin=0, vmax=1, s=50, edgecolors="k", linewidths=0.5,
                        label=space)
fig.colorbar(points, ax=ax, label="accuracy quantile within its space")
ax.legend(handles=[Line2D([], [], marker=marker, linestyle="", markersize=8, color="lightgrey",
                          markeredgecolor="k", label=space)
                   for space, marker in markers])
ax.set_xlabel("PCA 1")
ax.set_ylabel("PCA 2")
ax.set_title(f"Shared embedding (size-space Kendall tau {tau_transfer:.2f})")
fig.tight_layout()
fig.savefig("transfer_map.png", dpi=100)
plt.show()
