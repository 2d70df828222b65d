import warnings
from functools import partial

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation
from torch import nn

from benchmarks.epdjm_reference import reference_epdjm
from cenas_sklearn.features import EPDJMTransformer, ZeroJacobianWarning, _epdjm
from cenas_sklearn.features._jacobian import compute_epdjm, init_seed
from cenas_sklearn.features._probes import natural_probe_images
from cenas_sklearn.spaces import NATSSizeSpace, NB201Space

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
MIXED = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|"
TINY = {"n_inits": 2, "n_probe": 8, "probe_size": 8, "n_components": 4, "random_state": 0}


@pytest.fixture(scope="module")
def small_nb201():
    return NB201Space(C=4, N=1)


@pytest.fixture(scope="module")
def epdjm(small_nb201):
    return EPDJMTransformer(space=small_nb201, **TINY).fit()


class TinyCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, num_classes),
        )

    def forward(self, x):
        return self.body(x)


class FeaturesAndLogits(TinyCNN):
    def forward(self, x):
        logits = self.body(x)
        return x.mean(dim=(2, 3)), logits


class ConstantLogits(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(10))

    def forward(self, x):
        return self.bias.expand(x.shape[0], -1)


class ImageOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)

    def forward(self, x):
        return self.conv(x)


def _sequential_cnn():
    return nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 5))


def _cnn_with_dropout():
    return nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                         nn.Linear(72, 5))


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize("space_name, archs", [
    ("nb201", [0, 100, 9930, 15624]),
    ("sss", ["8:8:8:8:8", "8:16:24:32:40", "64:8:64:8:64"]),
])
@pytest.mark.parametrize("probe_images", ["natural", "gaussian"])
def test_matches_reference_implementation(space_name, archs, probe_images):
    space = NB201Space(C=4, N=1) if space_name == "nb201" else NATSSizeSpace()
    est = EPDJMTransformer(space=space, probe_images=probe_images, **TINY).fit()
    ours = est.compute(archs).epdjm
    probes = torch.from_numpy(est.probe_images_)
    seeds = [init_seed(est.seed_, i) for i in range(est.n_inits)]
    assert ours.shape == (len(archs), 2, 8, 4)
    assert ours.dtype == np.float32
    for row, arch in enumerate(archs):
        ref = reference_epdjm(partial(space.build, space.to_string(arch)), probes, seeds, 4)
        assert np.abs(ref).max() > 0
        assert np.abs(ours[row] - ref).max() / np.abs(ref).max() <= 1e-4
    # The two initialisations differ.
    assert not np.allclose(ours[:, 0], ours[:, 1])


def test_column_norms_are_the_top_singular_values(epdjm, small_nb201):
    out = epdjm.compute([0, 9930, 3731])
    assert out.singular_values.shape == (3, 2, 8)
    assert out.singular_values.dtype == np.float32
    sv = out.singular_values.astype(np.float64)
    assert (np.diff(sv, axis=-1) <= 0).all() and (sv >= 0).all()
    norms = np.linalg.norm(out.epdjm.astype(np.float64), axis=-2)
    np.testing.assert_allclose(norms, sv[..., :4], rtol=1e-5)
    # Columns are orthogonal: U_k Σ_k has a diagonal Gram matrix Σ_k².
    gram = np.einsum("aipk,aipl->aikl", out.epdjm.astype(np.float64), out.epdjm)
    off = gram - np.einsum("aik,kl->aikl", sv[..., :4] ** 2, np.eye(4))
    assert np.abs(off).max() <= 1e-5 * sv.max() ** 2
    # Signs flipped so that each column's largest-magnitude entry is positive.
    cols = np.moveaxis(out.epdjm, -2, -1).reshape(-1, 8)
    assert (cols[np.arange(len(cols)), np.abs(cols).argmax(axis=1)] > 0).all()
    assert out.n_parameters.dtype == np.int64
    assert out.n_parameters.tolist() == [small_nb201.n_parameters(a) for a in (0, 9930, 3731)]
    assert not out.zero_jacobian.any()


def test_normalize_divides_by_the_top_singular_value(epdjm, small_nb201):
    archs = [0, 9930]
    raw = epdjm.compute(archs)
    normed = clone(epdjm).set_params(normalize=True).fit().compute(archs)
    np.testing.assert_allclose(
        normed.epdjm, raw.epdjm / raw.singular_values[..., :1, None], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(normed.epdjm[..., 0], axis=-1), 1.0, rtol=1e-5)
    # The spectrum itself is never normalised.
    np.testing.assert_array_equal(normed.singular_values, raw.singular_values)


def test_precision_float64_stays_close_and_outputs_float32(epdjm):
    archs = [0, 9930]
    f32 = epdjm.transform(archs)
    f64 = clone(epdjm).set_params(precision="float64").fit().transform(archs)
    assert f64.dtype == np.float32
    assert np.abs(f64 - f32).max() <= 1e-3 * np.abs(f64).max()


def test_channels_last_layout_of_the_benchmarks_materialises_lazy_modules_first():
    # benchmarks/bench_epdjm_speed.py --memory-format channels_last measures this layout.
    def lazy():
        return nn.Sequential(nn.LazyConv2d(4, 3), nn.Flatten(), nn.LazyLinear(3))

    probes = torch.from_numpy(natural_probe_images(6, 8))
    seeds = [init_seed(0, i) for i in range(2)]
    fast = compute_epdjm(lazy, probes, seeds, 4, memory_format=torch.channels_last)["epdjm"]
    np.testing.assert_allclose(fast, compute_epdjm(lazy, probes, seeds, 4)["epdjm"],
                               rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- determinism
def test_same_random_state_is_bitwise_reproducible(epdjm, small_nb201):
    archs = [0, 9930, 3731, 15624, 100]
    first = epdjm.transform(archs)
    assert np.array_equal(first, epdjm.transform(archs))
    fresh = EPDJMTransformer(space=NB201Space(C=4, N=1), **TINY)
    assert np.array_equal(first, fresh.fit_transform(archs))
    # Independent of the order of X and of the other architectures.
    order = [3, 1, 4, 0, 2]
    assert np.array_equal(first[order], epdjm.transform([archs[i] for i in order]))
    one_by_one = np.vstack([epdjm.transform([a]) for a in archs])
    assert np.array_equal(first, one_by_one)
    # Refitting keeps the seed and the probes.
    seed, probes = epdjm.seed_, epdjm.probe_images_.copy()
    epdjm.fit()
    assert epdjm.seed_ == seed and np.array_equal(epdjm.probe_images_, probes)


def test_n_jobs_does_not_change_the_features(epdjm):
    archs = [0, 9930, 3731, 15624, 100]
    serial = epdjm.transform(archs)
    # One thread per worker, as in the parent (see tests/conftest.py).
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        parallel = clone(epdjm).set_params(n_jobs=2).fit().transform(archs)
    assert np.array_equal(serial, parallel)


def test_different_random_state_differs(epdjm):
    other = clone(epdjm).set_params(random_state=1).fit()
    assert other.seed_ != epdjm.seed_
    assert not np.allclose(other.transform([9930]), epdjm.transform([9930]))
    # The probes do not depend on random_state.
    assert np.array_equal(other.probe_images_, epdjm.probe_images_)


def test_random_state_instance_and_none(small_nb201):
    a = EPDJMTransformer(space=small_nb201, **{**TINY, "random_state": np.random.RandomState(3)})
    b = EPDJMTransformer(space=small_nb201, **{**TINY, "random_state": 3})
    assert a.fit().seed_ == b.fit().seed_
    seeds = {EPDJMTransformer(space=small_nb201, **{**TINY, "random_state": None}).fit().seed_
             for _ in range(3)}
    assert len(seeds) > 1


def test_global_random_states_are_untouched(small_nb201):
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global state)
    est = EPDJMTransformer(space=small_nb201, **TINY)
    est.fit_transform([0, 9930])
    est.compute([ALL_CONV])
    est.set_params(space=None).fit().transform([lambda: TinyCNN()])
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


def test_factory_with_dropout_is_deterministic():
    # the seed covers the forward pass, so stochastic layers are reproducible too
    est = EPDJMTransformer(**TINY).fit()
    torch_state = torch.random.get_rng_state()
    first = est.transform([_cnn_with_dropout])
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(first, est.transform([_cnn_with_dropout]))


def _lazy_mlp():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(10))


def test_lazy_modules_are_materialised_on_the_probes_under_the_seed():
    est = EPDJMTransformer(**TINY, append_log_n_parameters=True).fit()
    out = est.compute([_lazy_mlp, _lazy_mlp])
    n_pixels = 3 * TINY["probe_size"] ** 2
    assert out.n_parameters.tolist() == [n_pixels * 10 + 10] * 2
    assert np.array_equal(out.epdjm[0], out.epdjm[1])  # seeded: the same weights twice
    # a linear network's Jacobian is its weight matrix summed over the logits: rank one
    sigma = out.singular_values[0]
    assert sigma[:, 0].min() > 0 and np.all(sigma[:, 1:] < 1e-4 * sigma[:, :1])
    assert np.isfinite(est.transform([_lazy_mlp])).all()


def test_network_without_parameters_has_a_finite_log_count():
    est = EPDJMTransformer(**TINY, append_log_n_parameters=True).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero RuntimeWarning
        Xt = est.transform([_parameter_free])
    assert Xt[0, -1] == 0.0 and np.isfinite(Xt).all()


def _parameter_free():
    return torch.nn.Sequential(torch.nn.AvgPool2d(4), torch.nn.Flatten())  # 12 "logits"


# ---------------------------------------------------------------- zero Jacobians
def test_all_none_cell_gives_zeros_and_a_warning(epdjm):
    archs = [9930, ALL_NONE, 0]
    with pytest.warns(ZeroJacobianWarning, match=r"1 of 3 architectures .*none~0.*zeros"):
        out = epdjm.compute(archs)
    assert out.zero_jacobian.tolist() == [False, True, False]
    assert np.isfinite(out.epdjm).all() and np.isfinite(out.singular_values).all()
    assert not out.epdjm[1].any() and not out.singular_values[1].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        others = epdjm.transform([9930, 0])
    assert np.array_equal(out.epdjm[[0, 2]].reshape(2, -1), others)
    # normalize=True must not divide by the zero singular value.
    normed = clone(epdjm).set_params(normalize=True).fit()
    with pytest.warns(ZeroJacobianWarning):
        Xt = normed.transform([ALL_NONE])
    assert np.isfinite(Xt).all() and not Xt.any()


def test_constant_factory_gives_zeros_and_names_a_factory():
    est = EPDJMTransformer(**TINY).fit()
    with pytest.warns(ZeroJacobianWarning, match="a factory"):
        Xt = est.transform([ConstantLogits])
    assert Xt.shape == (1, 64) and not Xt.any()


# ---------------------------------------------------------------- input kinds
def test_strings_indices_and_factories_agree(small_nb201):
    arch = small_nb201[3731]
    by_index = EPDJMTransformer(space=small_nb201, **TINY).fit()
    expected = by_index.transform([3731])
    assert np.array_equal(expected, by_index.transform([arch]))
    assert np.array_equal(expected, by_index.transform(np.array([arch])))
    assert np.array_equal(expected, by_index.transform(np.array([3731])))
    assert np.array_equal(expected, by_index.transform(iter([3731])))
    factory = partial(small_nb201.build, arch)
    assert np.array_equal(expected, EPDJMTransformer(**TINY).fit().transform([factory]))
    # Edges written in another order are the same architecture.
    node1, node2, node3 = arch.split("+")
    shuffled = "+".join([node1, node2, "|" + "|".join(node3.strip("|").split("|")[::-1]) + "|"])
    assert shuffled != arch
    assert np.array_equal(expected, by_index.transform([shuffled]))


def test_space_names_read_indices_in_default_spaces():
    named = EPDJMTransformer(space="nb201", **TINY).fit()
    by_string = EPDJMTransformer(**TINY).fit()
    nb201 = NB201Space()
    assert np.array_equal(named.transform([9930]), by_string.transform([nb201[9930]]))
    sss = EPDJMTransformer(space="sss", **TINY).fit()
    assert np.array_equal(sss.transform([284]), by_string.transform(["8:8:40:32:40"]))


def test_mixed_nb201_and_sss_strings_without_space():
    est = EPDJMTransformer(**TINY).fit()
    X = [MIXED, "8:16:24:32:40", np.str_(ALL_CONV)]
    Xt = est.transform(X)
    assert Xt.shape == (3, 64)
    assert np.array_equal(Xt[0], EPDJMTransformer(space="nb201", **TINY).fit().transform([MIXED])[0])
    assert np.array_equal(Xt[1], EPDJMTransformer(space="sss", **TINY).fit().transform([X[1]])[0])
    assert np.array_equal(Xt[2], est.transform([ALL_CONV])[0])


@pytest.mark.parametrize("factory", [
    TinyCNN,
    partial(TinyCNN, num_classes=3),
    lambda: nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(2, 5)),
    _sequential_cnn,
    FeaturesAndLogits,
], ids=["class", "partial", "lambda", "function", "tuple-output"])
def test_module_factories(factory):
    est = EPDJMTransformer(**TINY).fit()
    out = est.compute([factory, factory])
    assert out.epdjm.shape == (2, 2, 8, 4)
    assert np.isfinite(out.epdjm).all() and out.epdjm.any()
    assert np.array_equal(out.epdjm[0], out.epdjm[1])
    assert not np.array_equal(out.epdjm[0, 0], out.epdjm[0, 1])
    assert out.n_parameters[0] == sum(p.numel() for p in factory().parameters())


def test_tuple_output_uses_the_logits():
    est = EPDJMTransformer(**TINY).fit()
    assert np.array_equal(est.transform([FeaturesAndLogits]), est.transform([TinyCNN]))


def test_num_classes_reaches_the_built_networks(small_nb201):
    est = EPDJMTransformer(space=small_nb201, num_classes=3, **TINY).fit()
    out = est.compute([9930])
    assert out.n_parameters[0] == small_nb201.n_parameters(9930, num_classes=3)
    factory = partial(small_nb201.build, small_nb201[9930], num_classes=3)
    assert np.array_equal(out.epdjm, EPDJMTransformer(**TINY).fit().compute([factory]).epdjm)


def test_probe_array(epdjm):
    probes = np.random.RandomState(0).uniform(-1, 1, (6, 3, 4, 4))
    est = EPDJMTransformer(space=epdjm.space, n_inits=2, n_components=3, random_state=0,
                           probe_images=probes).fit()
    assert est.probe_images_.dtype == np.float32
    np.testing.assert_array_equal(est.probe_images_, probes.astype(np.float32))
    assert est.feature_shape_ == (2, 6, 3)
    assert est.transform([0, 9930]).shape == (2, 36)
    same = est.set_params(n_probe=6, probe_size=4).fit()
    assert same.feature_shape_ == (2, 6, 3)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("X, exc, match", [
    (["|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"], ValueError, "unknown operation 'conv_5x5'"),
    (["8:8:8:8:12"], ValueError, "width 12 of layer 4 is not a candidate"),
    (["resnet18"], ValueError, "cannot tell the search space"),
    ([3], ValueError, r"is an index; pass space="),
    ([np.int64(3)], ValueError, r"is an index; pass space="),
    ([3.5], TypeError, "must be a string, an index or a module factory, got float"),
    ([None], TypeError, "got NoneType"),
    ([True], TypeError, "got bool"),
    ([TinyCNN()], TypeError, "module instance; pass a callable"),
    ([lambda: "not a module"], TypeError, "must return a torch.nn.Module, got str"),
    ([ImageOutput], ValueError, r"logits of shape \(n_probe, num_classes\) = \(8, C\), got \(8, 2, 8, 8\)"),
    (MIXED, TypeError, "must be an iterable of architectures"),
    (b"8:8:8:8:8", TypeError, "must be an iterable of architectures"),
    (7, TypeError, "must be an iterable of architectures"),
    ([], ValueError, "contains no architecture"),
    (np.array([], dtype=str), ValueError, "contains no architecture"),
])
def test_bad_architectures_are_rejected(X, exc, match):
    est = EPDJMTransformer(**TINY).fit()
    with pytest.raises(exc, match=match):
        est.transform(X)


def test_bad_indices_in_a_space(small_nb201):
    est = EPDJMTransformer(space=small_nb201, **TINY)
    with pytest.raises(IndexError, match="out of range"):
        est.fit([0, 15625])
    with pytest.raises(IndexError, match="out of range"):
        est.fit().transform([-1])
    with pytest.raises(ValueError, match="unknown operation"):
        est.transform(["|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    # fit validates X without computing it.
    assert est.fit([0, 1]) is est


@pytest.mark.parametrize("params, exc, match", [
    ({"probe_images": np.zeros((8, 3, 8))}, ValueError, r"shape \(n_probe, channels, height, width\)"),
    ({"probe_images": np.full((8, 3, 8, 8), np.nan)}, ValueError, "NaN or infinity"),
    ({"probe_images": np.full((8, 3, 8, 8), np.inf)}, ValueError, "NaN or infinity"),
    ({"probe_images": np.zeros((0, 3, 8, 8))}, ValueError, "empty"),
    ({"probe_images": np.full((8, 3, 8, 8), "a")}, TypeError, "real numbers"),
    ({"probe_images": np.zeros((8, 3, 8, 8)), "n_probe": 16}, ValueError, "n_probe=16 contradicts probe_images with 8 images"),
    ({"probe_images": np.zeros((8, 3, 8, 8)), "probe_size": 4}, ValueError, "probe_size=4 contradicts"),
    ({"n_components": 9}, ValueError, "n_components=9 must be <= n_probe=8"),
    ({"probe_size": 1}, ValueError, r"<= the 3 input values per probe"),
    ({"probe_size": 214}, ValueError, "at most 213"),
    ({"n_inits": 0}, InvalidParameterError, "'n_inits' parameter"),
    ({"n_components": 0}, InvalidParameterError, "'n_components' parameter"),
    ({"n_probe": 0}, InvalidParameterError, "'n_probe' parameter"),
    ({"precision": "float16"}, InvalidParameterError, "'precision' parameter"),
    ({"probe_images": "uniform"}, InvalidParameterError, "'probe_images' parameter"),
    ({"space": "nb101"}, InvalidParameterError, "'space' parameter"),
    ({"space": 3}, InvalidParameterError, "'space' parameter"),
    ({"normalize": "yes"}, InvalidParameterError, "'normalize' parameter"),
    ({"num_classes": 0}, InvalidParameterError, "'num_classes' parameter"),
    ({"device": 0}, InvalidParameterError, "'device' parameter"),
    ({"device": "tpu"}, ValueError, "device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
])
def test_bad_parameters_are_rejected_in_fit(params, exc, match):
    est = EPDJMTransformer(**{**TINY, **params})
    with pytest.raises(exc, match=match):
        est.fit()


def test_sklearn_param_validation():
    check_param_validation("EPDJMTransformer", EPDJMTransformer(**TINY))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_an_error(device):
    with pytest.raises(ValueError, match="CUDA is not available"):
        EPDJMTransformer(device=device, **TINY).fit()
    assert EPDJMTransformer(device="auto", **TINY).fit().device_ == "cpu"


def test_transform_before_fit():
    est = EPDJMTransformer(**TINY)
    with pytest.raises(NotFittedError):
        est.transform([MIXED])
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()


# ---------------------------------------------------------------- sklearn integration
def test_clone_and_params(small_nb201):
    est = EPDJMTransformer(space=small_nb201, **TINY)
    params = est.get_params()
    assert params["space"] is small_nb201 and params["n_probe"] == 8
    assert set(params) == set(EPDJMTransformer._parameter_constraints)
    copy = clone(est)
    assert copy is not est and copy.get_params() == params
    assert copy.set_params(n_inits=3, n_components=2) is copy
    copy.fit()
    assert copy.feature_shape_ == (3, 8, 2)
    assert est.get_params() == params and not hasattr(est, "seed_")
    assert clone(copy).get_params()["n_inits"] == 3 and not hasattr(clone(copy), "seed_")


def test_feature_names(epdjm):
    names = epdjm.get_feature_names_out()
    assert names.dtype == object and len(names) == 2 * 8 * 4 == epdjm.transform([0]).shape[1]
    assert names[0] == "epdjm_i0_p0_c0" and names[1] == "epdjm_i0_p0_c1"
    assert names[4] == "epdjm_i0_p1_c0" and names[-1] == "epdjm_i1_p7_c3"
    assert len(set(names)) == len(names)
    # Names follow the layout of feature_shape_.
    row = epdjm.compute([0]).epdjm[0]
    assert row[1, 7, 3] == epdjm.transform([0])[0, list(names).index("epdjm_i1_p7_c3")]


def test_pipeline_with_pca(small_nb201):
    X = [0, 9930, 3731, 15624]
    pipe = Pipeline([("epdjm", EPDJMTransformer(space=small_nb201, **TINY)), ("pca", PCA(2))])
    Xt = pipe.fit_transform(X)
    assert Xt.shape == (4, 2) and np.isfinite(Xt).all()
    np.testing.assert_allclose(pipe.transform(X), Xt, rtol=1e-4, atol=1e-5)
    assert list(pipe.get_feature_names_out()) == ["pca0", "pca1"]


def test_pipeline_memory_reuses_the_cache(tmp_path, small_nb201, monkeypatch):
    calls = []
    compute = _epdjm.compute_epdjm

    def counting(factory, **kwargs):
        calls.append(factory)
        return compute(factory, **kwargs)

    monkeypatch.setattr(_epdjm, "compute_epdjm", counting)
    X = [0, 9930, 3731]
    pipe = Pipeline([("epdjm", EPDJMTransformer(space=small_nb201, **TINY)), ("pca", PCA(2))],
                    memory=str(tmp_path))
    first = pipe.fit_transform(X)
    assert len(calls) == 3
    assert any(p.is_file() for p in tmp_path.rglob("output.pkl"))
    second = clone(pipe).fit_transform(X)
    assert len(calls) == 3  # the fitted transformer and its output came from the cache
    assert np.array_equal(first, second)
    clone(pipe).set_params(epdjm__random_state=1).fit(X)
    assert len(calls) == 6  # other settings miss the cache


# Pickle and joblib round trips: tests/test_reliability_persistence.py.


def test_set_output_pandas(epdjm):
    pd = pytest.importorskip("pandas")
    est = clone(epdjm).set_output(transform="pandas").fit()
    df = est.transform([0, 9930])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(epdjm.get_feature_names_out())
    assert np.array_equal(df.to_numpy(), epdjm.transform([0, 9930]))


def test_verbose_progress_bar(epdjm, capsys):
    est = clone(epdjm).set_params(verbose=1).fit()
    assert np.array_equal(est.transform([0, 9930]), epdjm.transform([0, 9930]))
    assert "EPDJM" in capsys.readouterr().err


# ---------------------------------------------------------------- dask
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.timeout(300)
def test_dask_backend_matches_serial(epdjm, dask_client):
    X = [0, 9930, 3731, 15624, 100, ALL_CONV]
    from distributed import get_task_stream

    serial = epdjm.transform(X)
    with joblib.parallel_config(backend="dask"), get_task_stream(dask_client) as tasks:
        on_dask = epdjm.transform(X)
    assert np.array_equal(serial, on_dask)
    # The architectures were computed on the workers, one torch thread each.
    assert len(tasks.data) >= len(X) // 4 and {t["worker"] for t in tasks.data}
    assert set(dask_client.run(torch.get_num_threads).values()) == {1}
