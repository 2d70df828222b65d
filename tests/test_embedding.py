import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from skorch.exceptions import DeviceWarning

from cenas_sklearn.embedding import (
    PAPER_CONFIGURATION,
    ContrastiveEmbedder,
    NTXentLoss,
    _contrastive,
    identification_accuracy,
)
from cenas_sklearn.features import EPDJMTransformer
from cenas_sklearn.spaces import NB201Space

SHAPE = (32, 3, 8, 4)  # (n_archs, n_inits, n_probe, n_components)
# device="cpu": CUDA training is not bitwise reproducible, and the tests compare bitwise.
TINY = {"hidden_layer_size": 16, "embedding_dim": 8, "projection_dim": 8, "max_iter": 3,
        "row_subsample": 1.0,
        "batch_size": 16, "learning_rate_init": 1e-2, "device": "cpu", "random_state": 0}


def synthetic_sets(n_archs=SHAPE[0], n_inits=SHAPE[1], n_probe=SHAPE[2], k=SHAPE[3], *,
                   noise=0.05, seed=0):
    """EPDJM-like sets: each architecture a random base matrix ``B``, each init ``B Q + noise``.

    ``Q`` is a random orthogonal matrix per initialisation, as the singular basis of a real
    EPDJM changes from one initialisation to the next: the rows' Gram matrix identifies the
    architecture, the coordinates (and the column norms) do not.
    """
    rng = np.random.RandomState(seed)
    base = rng.standard_normal((n_archs, n_probe, k))
    q, r = np.linalg.qr(rng.standard_normal((n_archs, n_inits, k, k)))
    q *= np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    sets = np.einsum("apk,aikl->aipl", base, q)
    sets += noise * rng.standard_normal(sets.shape)
    return sets.astype(np.float32)


@pytest.fixture(scope="module")
def sets():
    return synthetic_sets()


@pytest.fixture(scope="module")
def fitted(sets):
    return ContrastiveEmbedder(**TINY).fit(sets)


# ---------------------------------------------------------------- NT-Xent
def ntxent_numpy(z, temperature):
    """NT-Xent written out term by term (Chen et al., 2020, eq. 1 averaged over the 2B views)."""
    n = len(z)
    u = np.concatenate([z[:, 0], z[:, 1]]).astype(np.float64)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sim = u @ u.T / temperature
    total = 0.0
    for i in range(2 * n):
        positive = i + n if i < n else i - n
        others = [sim[i, m] for m in range(2 * n) if m != i]
        total += -sim[i, positive] + np.log(np.sum(np.exp(others)))
    return total / (2 * n)


def test_ntxent_matches_numpy_reference():
    z = np.random.RandomState(0).standard_normal((5, 2, 3))
    loss = NTXentLoss(temperature=0.5)(torch.from_numpy(z))
    assert loss.ndim == 0
    np.testing.assert_allclose(loss.item(), ntxent_numpy(z, 0.5), rtol=1e-5, atol=1e-5)
    # The temperature is used.
    other = NTXentLoss(temperature=0.1)(torch.from_numpy(z)).item()
    np.testing.assert_allclose(other, ntxent_numpy(z, 0.1), rtol=1e-5)
    assert abs(other - loss.item()) > 1e-3


def test_ntxent_is_symmetric_and_scale_invariant():
    z = torch.from_numpy(np.random.RandomState(1).standard_normal((5, 2, 3)))
    loss = NTXentLoss(temperature=0.5)
    reference = loss(z)
    torch.testing.assert_close(loss(z.flip(1)), reference)  # views swapped
    torch.testing.assert_close(loss(z[[3, 0, 4, 2, 1]]), reference)  # items permuted
    torch.testing.assert_close(loss(3.0 * z), reference)  # cosine similarity
    # Positives that agree give a lower loss than random ones.
    aligned = torch.cat([z[:, :1], z[:, :1]], dim=1)
    assert loss(aligned) < reference


def test_ntxent_single_item_batch_is_zero_and_differentiable():
    z = torch.randn(1, 2, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    loss = NTXentLoss()(z)
    assert loss.item() == 0.0
    loss.backward()
    assert z.grad is not None and torch.equal(z.grad, torch.zeros_like(z))


@pytest.mark.parametrize("shape", [(5, 3), (5, 3, 3), (5, 1, 3), (2, 5, 2, 3)])
def test_ntxent_rejects_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"shape \(batch, 2, dim\)"):
        NTXentLoss()(torch.zeros(shape))


def test_identification_accuracy():
    emb = np.random.RandomState(0).standard_normal((6, 3, 4))
    same = np.repeat(emb[:, :1], 3, axis=1)
    assert identification_accuracy(same) == 1.0
    # Under the second initialisation every architecture looks like the next one.
    shifted = np.stack([emb[:, 0], np.roll(emb[:, 0], 1, axis=0)], axis=1)
    assert identification_accuracy(shifted) == 0.0
    # Cosine similarity: scale does not matter.
    scaled = np.stack([emb[:, 0], 5.0 * emb[:, 0]], axis=1)
    assert identification_accuracy(scaled) == 1.0
    with pytest.raises(ValueError, match="n_inits >= 2"):
        identification_accuracy(emb[:, :1])
    with pytest.raises(ValueError, match="n_inits >= 2"):
        identification_accuracy(emb[:, 0])


# ---------------------------------------------------------------- layouts and shapes
def test_fit_transform_shapes_and_dtypes(fitted, sets):
    out = fitted.transform(sets)
    assert out.shape == (SHAPE[0], 8) and out.dtype == np.float32
    assert np.isfinite(out).all()
    inits = fitted.transform_inits(sets)
    assert inits.shape == (SHAPE[0], SHAPE[1], 8) and inits.dtype == np.float32
    np.testing.assert_allclose(out, inits.mean(axis=1), rtol=1e-6, atol=1e-7)
    assert fitted.set_shape_ == SHAPE[1:]
    assert fitted.device_ == "cpu"
    # float64 input: the same float32 embeddings.
    assert np.array_equal(fitted.transform(sets.astype(np.float64)), out)
    # fit_transform is fit then transform.
    assert np.array_equal(ContrastiveEmbedder(**TINY).fit_transform(sets), out)


@pytest.mark.parametrize("layout", ["2d", "2d-1first", "2d-1middle", "2d-1last", "3d", "list"])
def test_layouts_give_the_same_embeddings(sets, fitted, layout):
    n = len(sets)
    X, feature_shape = {
        "2d": (sets.reshape(n, -1), (3, 8, 4)),
        "2d-1first": (sets.reshape(n, -1), (-1, 8, 4)),
        "2d-1middle": (sets.reshape(n, -1), (3, -1, 4)),
        "2d-1last": (sets.reshape(n, -1), [3, 8, -1]),
        "3d": (sets.reshape(n, 3, -1), (3, 8, 4)),
        "list": (sets.reshape(n, -1).tolist(), (3, 8, 4)),
    }[layout]
    est = ContrastiveEmbedder(feature_shape=feature_shape, **TINY).fit(X)
    assert est.set_shape_ == SHAPE[1:]
    assert np.array_equal(est.transform(X), fitted.transform(sets))
    assert np.array_equal(est.transform_inits(X), fitted.transform_inits(sets))


def test_log_n_parameters_column_is_read(sets, fitted):
    n = len(sets)
    log_params = np.random.RandomState(5).uniform(10, 14, n).astype(np.float32)
    X = np.hstack([sets.reshape(n, -1), log_params[:, None]])
    est = ContrastiveEmbedder(feature_shape=(3, 8, 4), log_n_parameters=True, **TINY).fit(X)
    assert est.n_features_in_ == 3 * 8 * 4 + 1
    out = est.transform(X)
    assert out.shape == (n, 8)
    assert not np.allclose(out, fitted.transform(sets))
    # The column reaches the encoder: changing it changes the embedding.
    shifted = X.copy()
    shifted[:, -1] += 1.0
    assert not np.allclose(est.transform(shifted), out)
    # -1 in feature_shape accounts for the extra column.
    est_auto = ContrastiveEmbedder(feature_shape=(-1, 8, 4), log_n_parameters=True, **TINY)
    assert np.array_equal(est_auto.fit(X).transform(X), out)
    with pytest.raises(ValueError, match="4-D X has no such column"):
        ContrastiveEmbedder(log_n_parameters=True, **TINY).fit(sets)


@pytest.mark.parametrize("params", [
    {"representation": "epdjm"},
    {"spectrum": False},
    {"representation": "epdjm", "spectrum": False},
    {"n_layers": 1},
    {"weight_decay": 1e-3},
])
def test_options_change_the_embedding(sets, fitted, params):
    out = ContrastiveEmbedder(**TINY, **params).fit_transform(sets)
    assert out.shape == (len(sets), 8) and np.isfinite(out).all()
    assert not np.allclose(out, fitted.transform(sets))


# ---------------------------------------------------------------- training
def test_training_learns_to_identify_architectures(sets):
    # Each epoch is one batch of all 32 architectures (about 0.5 s for 200 epochs). Over
    # data and random seeds, 200 epochs identify 86-100% of the architectures; 1 epoch 6-9%.
    params = {**TINY, "batch_size": 32, "n_layers": 2, "validation_fraction": 0.0}
    untrained = ContrastiveEmbedder(**{**params, "max_iter": 1}).fit(sets)
    trained = ContrastiveEmbedder(**{**params, "max_iter": 200}).fit(sets)
    chance = 1 / len(sets)
    assert untrained.score(sets) < 5 * chance
    assert trained.score(sets) >= 0.6  # 20 x chance
    assert trained.score(sets) > untrained.score(sets) + 0.4
    assert trained.score(sets) == identification_accuracy(trained.transform_inits(sets))
    curve = trained.loss_curve_
    assert len(curve) == trained.n_iter_ == 200 and all(isinstance(v, float) for v in curve)
    assert curve[-1] < 0.5 * curve[0]
    # The first epoch's loss is that of random embeddings: about log(2B - 1).
    assert abs(curve[0] - np.log(2 * 32 - 1)) < 0.2


def test_history_and_curves(sets):
    est = ContrastiveEmbedder(**{**TINY, "max_iter": 4, "validation_fraction": 0.2}).fit(sets)
    assert est.n_iter_ == 4 == len(est.history_)
    assert est.history_[:, "epoch"] == [1, 2, 3, 4]
    assert est.loss_curve_ == pytest.approx(est.history_[:, "train_loss"])
    assert len(est.validation_loss_curve_) == 4
    assert est.validation_loss_curve_ == pytest.approx(est.history_[:, "valid_loss"])
    assert est.history_ is est.net_.history

    no_valid = ContrastiveEmbedder(**{**TINY, "validation_fraction": 0.0}).fit(sets)
    assert no_valid.validation_loss_curve_ == []
    assert len(no_valid.loss_curve_) == no_valid.n_iter_ == TINY["max_iter"]
    assert "valid_loss" not in no_valid.history_[-1]


def test_learning_rate_decay(sets):
    est = ContrastiveEmbedder(**{**TINY, "learning_rate_decay": 0.5}).fit(sets)
    assert est.history_[:, "event_lr"] == pytest.approx([1e-2, 5e-3, 2.5e-3])
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1.25e-3)
    constant = ContrastiveEmbedder(**TINY).fit(sets)
    assert constant.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-2)


def test_early_stopping(sets, capsys):
    # With tol=0.9 no epoch improves enough: stop after 1 + n_iter_no_change epochs.
    est = ContrastiveEmbedder(**{**TINY, "max_iter": 30, "early_stopping": True, "tol": 0.9,
                                 "n_iter_no_change": 2, "validation_fraction": 0.2}).fit(sets)
    assert est.n_iter_ == 3 < est.max_iter
    assert len(est.loss_curve_) == len(est.validation_loss_curve_) == 3
    assert capsys.readouterr().out == ""  # verbose=0: the stopping message is not printed
    # Without early stopping every epoch runs.
    est = ContrastiveEmbedder(**{**TINY, "max_iter": 6, "tol": 0.9, "n_iter_no_change": 2,
                                 "validation_fraction": 0.2}).fit(sets)
    assert est.n_iter_ == 6
    with pytest.raises(ValueError, match="validation_fraction > 0"):
        ContrastiveEmbedder(**{**TINY, "early_stopping": True, "validation_fraction": 0.0}).fit(sets)


# ---------------------------------------------------------------- determinism
def test_same_random_state_is_bitwise_reproducible(fitted, sets):
    first = fitted.transform(sets)
    assert np.array_equal(first, fitted.transform(sets))
    assert np.array_equal(first, ContrastiveEmbedder(**TINY).fit(sets).transform(sets))
    # Refitting the same estimator gives the same model.
    refit = clone(fitted)
    refit.fit(sets)
    refit.fit(sets)
    assert np.array_equal(first, refit.transform(sets))
    assert refit.loss_curve_ == fitted.loss_curve_
    # A RandomState instance seeds as its integer does.
    from_instance = ContrastiveEmbedder(**{**TINY, "random_state": np.random.RandomState(0)})
    assert np.array_equal(first, from_instance.fit(sets).transform(sets))


def test_different_random_state_differs(fitted, sets):
    other = ContrastiveEmbedder(**{**TINY, "random_state": 1}).fit(sets)
    assert not np.allclose(other.transform(sets), fitted.transform(sets))


def test_global_random_generators_untouched(sets):
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global generator is the point)
    est = ContrastiveEmbedder(**{**TINY, "validation_fraction": 0.2}).fit(sets)
    est.transform(sets)
    est.score(sets)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:]


def test_transform_does_not_depend_on_the_batch(fitted, sets, monkeypatch):
    full = fitted.transform_inits(sets)
    subset = [7, 0, 31, 12, 5]
    assert np.array_equal(fitted.transform_inits(sets[subset]), full[subset])
    order = np.random.RandomState(0).permutation(len(sets))
    assert np.array_equal(fitted.transform_inits(sets[order]), full[order])
    one_by_one = np.concatenate([fitted.transform_inits(sets[i:i + 1]) for i in range(len(sets))])
    assert np.array_equal(one_by_one, full)
    # Nor on the chunks in which transform embeds the architectures.
    monkeypatch.setattr(_contrastive, "_PREPROCESS_BATCH", 5)
    assert np.array_equal(fitted.transform_inits(sets), full)


# ---------------------------------------------------------------- errors
def test_input_errors(sets):
    n = len(sets)
    flat = sets.reshape(n, -1)
    with pytest.raises(ValueError, match="pass feature_shape"):
        ContrastiveEmbedder(**TINY).fit(flat)
    with pytest.raises(ValueError, match=r"X has 96 columns, which feature_shape=\(3, 8, 5\)"):
        ContrastiveEmbedder(feature_shape=(3, 8, 5), **TINY).fit(flat)
    with pytest.raises(ValueError, match="cannot describe"):
        ContrastiveEmbedder(feature_shape=(-1, 5, 4), **TINY).fit(flat)
    with pytest.raises(ValueError, match="feature_shape must be three positive integers"):
        ContrastiveEmbedder(feature_shape=(3, 32), **TINY).fit(flat)
    with pytest.raises(ValueError, match="feature_shape must be three positive integers"):
        ContrastiveEmbedder(feature_shape=(-1, -1, 4), **TINY).fit(flat)
    with pytest.raises(ValueError, match="at least 2 initialisations per architecture; X has 1"):
        ContrastiveEmbedder(**TINY).fit(sets[:, :1])
    with pytest.raises(ValueError, match="at least 2 architectures, got n_samples=1"):
        ContrastiveEmbedder(**TINY).fit(sets[:1])
    with pytest.raises(ValueError, match="got 5-D"):
        ContrastiveEmbedder(**TINY).fit(sets[..., None])
    for bad, message in [(np.nan, "NaN"), (np.inf, "infinity")]:
        X = sets.copy()
        X[3, 1, 2, 0] = bad
        with pytest.raises(ValueError, match=message):
            ContrastiveEmbedder(**TINY).fit(X)


def test_transform_errors(fitted, sets):
    with pytest.raises(ValueError, match=r"X holds sets of shape \(8, 3\), the embedder was "
                                         r"fitted on \(8, 4\)"):
        fitted.transform(sets[..., :3])
    with pytest.raises(ValueError, match=r"fitted on \(8, 4\)"):
        fitted.transform_inits(sets[:, :, :6])
    # A different number of initialisations is a different number of features.
    with pytest.raises(ValueError, match="X has 2 features, but ContrastiveEmbedder is expecting 3"):
        fitted.transform(sets[:, :2])
    X = sets.copy()
    X[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(X)
    est = ContrastiveEmbedder(feature_shape=(3, 8, 4), **TINY).fit(sets.reshape(len(sets), -1))
    with pytest.raises(ValueError, match="X has 95 features, but ContrastiveEmbedder is expecting 96"):
        est.transform(sets.reshape(len(sets), -1)[:, :95])


@pytest.mark.parametrize("param, value", [
    ("temperature", 0), ("temperature", -1.0), ("batch_size", 1), ("learning_rate_decay", 1.5),
    ("learning_rate_decay", 0.0), ("max_iter", 0), ("validation_fraction", 1.0),
    ("representation", "svd"), ("hidden_layer_size", 0), ("tol", -1.0),
])
def test_invalid_parameters(sets, param, value):
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter"):
        ContrastiveEmbedder(**{**TINY, param: value}).fit(sets)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_an_error(sets, device):
    with pytest.raises(ValueError, match="CUDA is not available"):
        ContrastiveEmbedder(**{**TINY, "device": device}).fit(sets)


def test_bad_device_string(sets):
    with pytest.raises(ValueError, match="device must be"):
        ContrastiveEmbedder(**{**TINY, "device": "tpu"}).fit(sets)


def test_auto_device(sets):
    est = ContrastiveEmbedder(**{**TINY, "device": "auto"}).fit(sets)
    assert est.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert est.transform(sets).dtype == np.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_transform_and_pickle(sets):
    est = ContrastiveEmbedder(**{**TINY, "device": "cuda"}).fit(sets)
    assert est.device_ == "cuda"
    out = est.transform(sets)
    assert isinstance(out, np.ndarray) and out.shape == (len(sets), 8) and out.dtype == np.float32
    np.testing.assert_allclose(pickle.loads(pickle.dumps(est)).transform(sets), out, rtol=1e-6)


def test_not_fitted(sets):
    est = ContrastiveEmbedder(**TINY)
    for method in (est.transform, est.transform_inits, est.score):
        with pytest.raises(NotFittedError):
            method(sets)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()


# ---------------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trip(fitted, sets, tmp_path):
    expected = fitted.transform(sets)
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.transform(sets), expected)
    assert restored.device_ == fitted.device_
    assert restored.loss_curve_ == fitted.loss_curve_
    path = tmp_path / "embedder.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    assert np.array_equal(loaded.transform(sets), expected)
    assert loaded.get_params() == fitted.get_params()
    # An unfitted estimator round-trips too.
    assert pickle.loads(pickle.dumps(ContrastiveEmbedder(**TINY))).get_params() == \
        ContrastiveEmbedder(**TINY).get_params()


def test_cuda_model_loads_on_a_cpu_only_machine(sets, monkeypatch):
    est = ContrastiveEmbedder(**{**TINY, "device": "cpu"}).fit(sets)
    expected = est.transform(sets)
    # Pretend it was trained on CUDA (the weights themselves are on the CPU here).
    est.device_ = "cuda"
    est.net_.device = "cuda"
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    # skorch maps the weights to the CPU and says so; the embedder follows.
    with pytest.warns(DeviceWarning) as record:
        restored = pickle.loads(blob)
    messages = [str(w.message) for w in record]
    assert any("no CUDA devices are available" in m for m in messages)
    assert any("Setting self.device = cpu" in m for m in messages)
    assert restored.device_ == "cpu"
    assert torch.device(restored.net_.device) == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in restored.net_.module_.parameters())
    assert np.array_equal(restored.transform(sets), expected)


# ---------------------------------------------------------------- pipelines and sklearn API
@pytest.fixture(scope="module")
def nb201_archs():
    return NB201Space().sample(12, random_state=0)


EPDJM_TINY = {"n_inits": 2, "n_probe": 8, "probe_size": 8, "n_components": 4, "random_state": 0}


@pytest.mark.parametrize("log_n_parameters", [False, True])
def test_pipeline_from_architecture_strings(nb201_archs, log_n_parameters):
    y = np.random.RandomState(0).uniform(size=len(nb201_archs))
    pipe = Pipeline([
        ("epdjm", EPDJMTransformer(append_log_n_parameters=log_n_parameters, **EPDJM_TINY)),
        ("embed", ContrastiveEmbedder(feature_shape=(2, 8, 4), log_n_parameters=log_n_parameters,
                                      validation_fraction=0.0, **TINY)),
        ("ridge", Ridge()),
    ])
    pipe.fit(nb201_archs, y)
    pred = pipe.predict(nb201_archs)
    assert pred.shape == (12,) and np.isfinite(pred).all()
    embed = pipe.named_steps["embed"]
    assert embed.n_features_in_ == 64 + log_n_parameters
    assert list(pipe[:-1].get_feature_names_out()) == [f"contrastiveembedder{i}" for i in range(8)]
    # The embedding the ridge saw is the embedder's transform of the EPDJM features.
    features = pipe.named_steps["epdjm"].transform(nb201_archs)
    assert features.shape == (12, 64 + log_n_parameters)
    np.testing.assert_allclose(pred, pipe.named_steps["ridge"].predict(embed.transform(features)),
                               rtol=1e-6)


def test_clone_get_and_set_params(fitted):
    params = fitted.get_params()
    assert params == {**ContrastiveEmbedder().get_params(), **TINY}
    cloned = clone(fitted)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "net_") and not hasattr(cloned, "n_iter_")
    assert cloned.set_params(temperature=0.5, max_iter=2) is cloned
    assert cloned.temperature == 0.5 and cloned.max_iter == 2
    assert fitted.temperature == 0.1
    with pytest.raises(ValueError, match="Invalid parameter"):
        cloned.set_params(n_epochs=3)
    pipe = Pipeline([("embed", ContrastiveEmbedder(**TINY)), ("ridge", Ridge())])
    pipe.set_params(embed__embedding_dim=4)
    assert pipe.get_params()["embed__embedding_dim"] == 4
    assert clone(pipe).get_params()["embed__embedding_dim"] == 4


def test_get_feature_names_out_and_set_output(fitted, sets):
    names = fitted.get_feature_names_out()
    assert names.dtype == object
    assert list(names) == [f"contrastiveembedder{i}" for i in range(8)]
    assert list(fitted.get_feature_names_out(["a", "b"])) == list(names)
    pd = pytest.importorskip("pandas")
    frame = clone(fitted).set_output(transform="pandas").fit(sets).transform(sets)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(names)
    np.testing.assert_array_equal(frame.to_numpy(), fitted.transform(sets))


@pytest.mark.parametrize("representation", ["gram", "epdjm"])
def test_input_is_not_modified(sets, representation):
    X = sets.copy()
    est = ContrastiveEmbedder(representation=representation, **TINY).fit(X)
    est.transform(X)
    est.score(X)
    assert np.array_equal(X, sets)


def test_paper_configuration(sets):
    est = ContrastiveEmbedder(**PAPER_CONFIGURATION)
    params = est.get_params()
    assert params["learning_rate_init"] == 5e-5
    assert params["learning_rate_decay"] == 0.95
    assert params["batch_size"] == 1024
    assert params["max_iter"] == 30
    assert params["representation"] == "epdjm"
    assert params["spectrum"] is False
    assert {k: params[k] for k in PAPER_CONFIGURATION} == PAPER_CONFIGURATION
    # It trains (one epoch, the full-size network, tiny data).
    est.set_params(max_iter=1, random_state=0).fit(sets)
    assert est.transform(sets).shape == (len(sets), 256)
    assert est.n_iter_ == 1
    assert est.history_[:, "event_lr"] == pytest.approx([5e-5])


# ---------------------------------------------------------------- verbosity
def test_verbose_prints_a_table_per_epoch(sets, capsys):
    ContrastiveEmbedder(**{**TINY, "verbose": 1, "validation_fraction": 0.2}).fit(sets)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    header = lines[0].split()
    assert header[:3] == ["epoch", "train_loss", "valid_loss"]
    assert set(lines[1]) <= {"-", " "}
    rows = lines[2:]
    assert len(rows) == TINY["max_iter"]
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]


def test_verbose_zero_is_silent(sets, capsys):
    est = ContrastiveEmbedder(**{**TINY, "verbose": 0}).fit(sets)
    est.transform(sets)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_row_subsample_draws_distinct_rows_per_view():
    from cenas_sklearn.embedding._training import PairDataset

    rows = np.arange(2 * 3 * 8 * 2, dtype=np.float32).reshape(2, 3, 8, 2)
    extra = np.zeros((2, 3, 0), dtype=np.float32)
    item, _ = PairDataset(rows, extra, n_rows=3)[1]
    assert item["rows"].shape == (2, 3, 2)
    for view in item["rows"].numpy():
        # every kept row is a row of architecture 1, and no row is drawn twice
        flat = {tuple(r) for r in rows[1].reshape(-1, 2)}
        assert all(tuple(r) in flat for r in view) and len({tuple(r) for r in view}) == 3
    full, _ = PairDataset(rows, extra)[0]
    assert full["rows"].shape == (2, 8, 2)
