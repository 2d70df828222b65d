import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError

from cenas_sklearn.features import SpectralFeatures

N_ARCHS, N_INITS, N_PROBE, K = 6, 3, 8, 4


def svd_epdjms(n_archs=N_ARCHS, n_inits=N_INITS, n_probe=N_PROBE, k=K, *, seed=0):
    """EPDJMs ``U_k Σ_k`` from real SVDs of random Jacobians, and their singular values."""
    rng = np.random.RandomState(seed)
    # Rows of very different scales, so that the spectrum is far from flat.
    jac = rng.standard_normal((n_archs, n_inits, n_probe, 20)) * rng.uniform(
        0.1, 10, (n_archs, 1, n_probe, 1))
    u, s, _ = np.linalg.svd(jac, full_matrices=False)
    return u[..., :k] * s[..., None, :k], s[..., :k]


@pytest.fixture(scope="module")
def epdjms():
    return svd_epdjms()


def test_output_is_the_log_singular_values(epdjms):
    sets, sv = epdjms
    # The check means something: U_k Σ_k's own singular values are Σ_k, its column norms too.
    np.testing.assert_allclose(np.linalg.svd(sets, compute_uv=False), sv, rtol=1e-10)
    out = SpectralFeatures(aggregate="concatenate").fit_transform(sets)
    assert out.shape == (N_ARCHS, N_INITS * K) and out.dtype == np.float64
    np.testing.assert_allclose(out, np.log(sv).reshape(N_ARCHS, -1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("aggregate, reduce", [
    ("mean", lambda v: v.mean(axis=1)),
    ("median", lambda v: np.median(v, axis=1)),
])
def test_aggregates(epdjms, aggregate, reduce):
    sets, sv = epdjms
    est = SpectralFeatures(aggregate=aggregate).fit(sets)
    out = est.transform(sets)
    assert out.shape == (N_ARCHS, K)
    np.testing.assert_allclose(out, reduce(np.log(sv)), rtol=1e-10, atol=1e-10)
    # The singular values are sorted, so are their aggregated logs.
    assert (np.diff(out, axis=1) <= 0).all()
    assert est.n_inits_ == N_INITS and est.n_components_ == K
    assert est.n_features_in_ == N_INITS  # a 4-D X's second axis


def test_mean_and_median_differ_with_three_inits(epdjms):
    sets, _ = epdjms
    mean = SpectralFeatures(aggregate="mean").fit_transform(sets)
    median = SpectralFeatures(aggregate="median").fit_transform(sets)
    assert not np.allclose(mean, median)
    # With two initialisations the median is the mean.
    np.testing.assert_allclose(SpectralFeatures(aggregate="median").fit_transform(sets[:, :2]),
                               SpectralFeatures().fit_transform(sets[:, :2]), rtol=1e-12)


@pytest.mark.parametrize("aggregate", ["mean", "median", "concatenate"])
def test_layouts_agree(epdjms, aggregate):
    sets, _ = epdjms
    expected = SpectralFeatures(aggregate=aggregate).fit_transform(sets)
    flat = sets.reshape(N_ARCHS, -1)
    for X, shape in [(flat, (N_INITS, N_PROBE, K)), (flat, (-1, N_PROBE, K)),
                     (flat, (N_INITS, N_PROBE, -1)), (sets.reshape(N_ARCHS, N_INITS, -1),
                                                     (N_INITS, N_PROBE, K))]:
        est = SpectralFeatures(feature_shape=shape, aggregate=aggregate)
        np.testing.assert_array_equal(est.fit_transform(X), expected)


def test_dtype_follows_the_input(epdjms):
    sets, sv = epdjms
    out = SpectralFeatures().fit_transform(sets.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.log(sv).mean(axis=1), rtol=1e-5, atol=1e-5)


def test_zero_column_is_finite():
    sets = np.zeros((2, 2, 4, 3))
    sets[1] = 1.0
    out = SpectralFeatures().fit_transform(sets)
    assert np.isfinite(out).all()
    assert (out[0] < -20).all()
    np.testing.assert_allclose(out[1], np.log(2.0), rtol=1e-10)


@pytest.mark.parametrize("aggregate, width", [("mean", K), ("median", K),
                                              ("concatenate", N_INITS * K)])
def test_log_n_parameters_passes_through(epdjms, aggregate, width):
    sets, _ = epdjms
    log_params = np.random.RandomState(1).uniform(10, 15, N_ARCHS)
    X = np.hstack([sets.reshape(N_ARCHS, -1), log_params[:, None]])
    est = SpectralFeatures(feature_shape=(N_INITS, N_PROBE, K), log_n_parameters=True,
                           aggregate=aggregate)
    out = est.fit_transform(X)
    assert out.shape == (N_ARCHS, width + 1)
    np.testing.assert_array_equal(out[:, -1], log_params)
    np.testing.assert_array_equal(out[:, :-1],
                                  SpectralFeatures(aggregate=aggregate).fit_transform(sets))
    names = est.get_feature_names_out()
    assert len(names) == width + 1 and names[-1] == "log_n_parameters"
    # -1 in feature_shape leaves the extra column out.
    auto = SpectralFeatures(feature_shape=(-1, N_PROBE, K), log_n_parameters=True,
                            aggregate=aggregate)
    np.testing.assert_array_equal(auto.fit_transform(X), out)


def test_feature_names(epdjms):
    sets, _ = epdjms
    names = SpectralFeatures().fit(sets).get_feature_names_out()
    assert names.dtype == object
    assert list(names) == ["log_sigma0", "log_sigma1", "log_sigma2", "log_sigma3"]
    names = SpectralFeatures(aggregate="concatenate").fit(sets).get_feature_names_out()
    assert list(names[:5]) == ["log_sigma_i0_0", "log_sigma_i0_1", "log_sigma_i0_2",
                               "log_sigma_i0_3", "log_sigma_i1_0"]
    assert len(names) == N_INITS * K and names[-1] == f"log_sigma_i{N_INITS - 1}_{K - 1}"
    with pytest.raises(NotFittedError):
        SpectralFeatures().get_feature_names_out()


def test_set_output_pandas(epdjms):
    pd = pytest.importorskip("pandas")
    sets, _ = epdjms
    frame = SpectralFeatures().set_output(transform="pandas").fit(sets).transform(sets)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [f"log_sigma{j}" for j in range(K)]


def test_errors(epdjms):
    sets, _ = epdjms
    flat = sets.reshape(N_ARCHS, -1)
    with pytest.raises(ValueError, match="pass feature_shape"):
        SpectralFeatures().fit(flat)
    with pytest.raises(ValueError, match="cannot describe"):
        SpectralFeatures(feature_shape=(N_INITS, N_PROBE, K + 1)).fit(flat)
    with pytest.raises(ValueError, match="feature_shape must be three positive integers"):
        SpectralFeatures(feature_shape=(N_INITS, 0, K)).fit(flat)
    with pytest.raises(ValueError, match="4-D X has no such column"):
        SpectralFeatures(log_n_parameters=True).fit(sets)
    with pytest.raises(InvalidParameterError, match="'aggregate' parameter"):
        SpectralFeatures(aggregate="max").fit(sets)
    bad = sets.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SpectralFeatures().fit(bad)
    with pytest.raises(NotFittedError):
        SpectralFeatures().transform(sets)


def test_transform_with_other_set_shape(epdjms):
    sets, _ = epdjms
    est = SpectralFeatures().fit(sets)
    with pytest.raises(ValueError, match=r"X has sets of shape \(3, 8, 3\), fitted on "
                                         r"\(3, \.\.\., 4\)"):
        est.transform(sets[..., :3])
    # Another number of probes is fine: the singular values do not depend on it.
    assert est.transform(svd_epdjms(n_probe=12)[0]).shape == (N_ARCHS, K)
    # Another number of initialisations is another number of features (X's second axis).
    with pytest.raises(ValueError, match="X has 2 features, but SpectralFeatures is expecting 3"):
        est.transform(sets[:, :2])


def test_clone_pickle_and_pipeline(epdjms):
    sets, _ = epdjms
    flat = sets.reshape(N_ARCHS, -1)
    est = SpectralFeatures(feature_shape=(N_INITS, N_PROBE, K), aggregate="median").fit(flat)
    assert clone(est).get_params() == est.get_params()
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(flat), est.transform(flat))
    y = np.arange(N_ARCHS, dtype=float)
    pipe = Pipeline([("spectral", SpectralFeatures(feature_shape=(-1, N_PROBE, K))),
                     ("ridge", Ridge(alpha=1e-3))]).fit(flat, y)
    assert pipe.predict(flat).shape == (N_ARCHS,)
    assert list(pipe[:-1].get_feature_names_out()) == [f"log_sigma{j}" for j in range(K)]
