"""The Gaussian-process pieces of the Bayesian search: skopt's regressor, a default kernel, and
its posterior over a whole candidate set computed from cached squared distances."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import kernels as sk_kernels
from skopt.learning import GaussianProcessRegressor
from skopt.learning.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

_MEDIAN_SAMPLE = 1000


def default_kernel():
    """skopt's default GP kernel with one length scale: ``C * Matern(nu=2.5) + White``.

    On embeddings divided by their median pairwise distance (see :func:`median_distance`),
    so that the length scale starts at the typical distance between two candidates.
    """
    return (ConstantKernel(1.0, (1e-2, 1e3))
            * Matern(length_scale=1.0, length_scale_bounds=(1e-2, 1e2), nu=2.5)
            + WhiteKernel(noise_level=1e-2, noise_level_bounds=(1e-6, 1e1)))


def median_distance(Z):
    """Median Euclidean distance between distinct rows of ``Z`` (on at most 1,000 rows)."""
    if Z.shape[0] > _MEDIAN_SAMPLE:
        # A fixed generator: the scale is a property of the candidates, not of the search seed.
        rows = np.random.RandomState(0).choice(Z.shape[0], _MEDIAN_SAMPLE, replace=False)
        Z = Z[np.sort(rows)]
    sq = squared_distances(Z, Z, (Z ** 2).sum(axis=1), (Z ** 2).sum(axis=1))
    upper = np.sqrt(sq[np.triu_indices(Z.shape[0], k=1)])
    upper = upper[upper > 0]
    return float(np.median(upper)) if upper.size else 1.0


def squared_distances(A, B, sq_norms_a, sq_norms_b):
    """Squared Euclidean distances by one matrix product (clipped at 0)."""
    sq = sq_norms_a[:, None] + sq_norms_b[None, :] - 2.0 * (A @ B.T)
    return np.maximum(sq, 0.0, out=sq)


def fit_gp(kernel, X, y, *, fit_hyperparameters, n_restarts_optimizer, normalize_y,
           random_state):
    """skopt's :class:`~skopt.learning.GaussianProcessRegressor` fitted on ``(X, y)``.

    ``noise="gaussian"``: the white-noise level is fitted with the other hyperparameters
    (a WhiteKernel is added when the kernel has none), then removed from ``kernel_`` so that
    the posterior is that of the noise-free objective, as skopt does.
    """
    gp = GaussianProcessRegressor(
        kernel=clone(kernel), normalize_y=normalize_y, noise="gaussian",
        optimizer="fmin_l_bfgs_b" if fit_hyperparameters else None,
        n_restarts_optimizer=n_restarts_optimizer if fit_hyperparameters else 0,
        random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(X, y)
    return gp


def kernel_from_squared_distances(kernel, sq):
    """``kernel(A, B)`` of a stationary isotropic kernel from the squared distances ``sq``.

    Sums and products of constant, white, RBF, Matern (nu in 0.5, 1.5, 2.5, inf) and
    rational quadratic kernels with a scalar length scale; None for any other kernel.
    The white kernel contributes nothing between two sets, as in scikit-learn.
    """
    if isinstance(kernel, sk_kernels.Sum | sk_kernels.Product):
        a = kernel_from_squared_distances(kernel.k1, sq)
        b = kernel_from_squared_distances(kernel.k2, sq)
        if a is None or b is None:
            return None
        return a + b if isinstance(kernel, sk_kernels.Sum) else a * b
    if isinstance(kernel, sk_kernels.ConstantKernel):
        return np.asarray(kernel.constant_value, dtype=np.float64)
    if isinstance(kernel, sk_kernels.WhiteKernel):
        return np.asarray(0.0)
    length_scale = np.asarray(getattr(kernel, "length_scale", np.nan), dtype=np.float64)
    if length_scale.size != 1:
        return None  # anisotropic: not a function of the distance alone
    ls2 = float(length_scale.ravel()[0]) ** 2
    if isinstance(kernel, sk_kernels.Matern):  # before RBF: Matern subclasses it
        nu = kernel.nu
        if nu == np.inf:
            return np.exp(-0.5 * sq / ls2)
        d = np.sqrt(sq / ls2)
        if nu == 0.5:
            return np.exp(-d)
        if nu == 1.5:
            d *= np.sqrt(3.0)
            return (1.0 + d) * np.exp(-d)
        if nu == 2.5:
            d *= np.sqrt(5.0)
            return (1.0 + d + d ** 2 / 3.0) * np.exp(-d)
        return None
    if isinstance(kernel, sk_kernels.RBF):
        return np.exp(-0.5 * sq / ls2)
    if isinstance(kernel, sk_kernels.RationalQuadratic):
        return (1.0 + sq / (2.0 * kernel.alpha * ls2)) ** -kernel.alpha
    return None


def posterior(gp, Z_query, Z_train, sq):
    """Mean and variance of a fitted skopt GP at ``Z_query``, in the units of ``y``.

    The numbers of scikit-learn's ``GaussianProcessRegressor.predict(Z_query,
    return_std=True)`` (variance = std**2), but ``sq`` (squared distances query x train,
    cached by the caller) spares the kernel's distance computation. The variance goes
    through the Cholesky factor, like scikit-learn; skopt's ``predict`` uses the explicit
    inverse of the kernel matrix in a three-operand einsum, which is slower over 15,625
    candidates and loses all precision when the kernel matrix is ill-conditioned.
    """
    K = kernel_from_squared_distances(gp.kernel_, sq) if sq is not None else None
    if K is None:
        K = gp.kernel_(Z_query, Z_train)
    K = np.broadcast_to(K, (Z_query.shape[0], Z_train.shape[0]))
    y_std = np.asarray(gp.y_train_std_, dtype=np.float64).reshape(())
    mean = (K @ gp.alpha_).reshape(-1) * y_std + np.asarray(gp.y_train_mean_).reshape(())
    V = solve_triangular(gp.L_, K.T, lower=True, check_finite=False)
    var = gp.kernel_.diag(Z_query) - np.einsum("ij,ij->j", V, V)
    var = np.maximum(var, 0.0) * y_std ** 2
    return mean, var


class FrozenPosterior:
    """A posterior already computed at some candidates, in the shape skopt's acquisition
    functions query: ``predict(X, return_std=True)`` where column 0 of ``X`` holds positions
    into ``mean`` and ``std``."""

    def __init__(self, mean, std):
        self.mean = mean
        self.std = std

    def predict(self, X, return_std=False):
        rows = np.asarray(X)[:, 0].astype(np.intp)
        return (self.mean[rows], self.std[rows]) if return_std else self.mean[rows]
