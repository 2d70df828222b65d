import pickle

import numpy as np
import pytest
import sklearn
from scipy.stats import kendalltau
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils import estimator_checks as ec
from sklearn.utils._tags import get_tags

from cenas_sklearn.embedding import ContrastiveEmbedder
from cenas_sklearn.features import EPDJMTransformer, SpectralFeatures
from cenas_sklearn.spaces import NATSSizeSpace, NB201Space
from cenas_sklearn.transfer import TransferRegressor
from cenas_sklearn.transfer._regressor import _holds_architectures, _within_space_quantiles

# device="cpu": CUDA training is not bitwise reproducible, and the tests compare bitwise.
TINY = {"hidden_layer_size": 16, "embedding_dim": 8, "projection_dim": 8, "max_iter": 3,
        "row_subsample": 1.0, "batch_size": 16, "learning_rate_init": 1e-2, "device": "cpu",
        "random_state": 0}
TINY_EPDJM = {"n_inits": 2, "n_probe": 8, "probe_size": 8, "n_components": 4, "random_state": 0}


def synthetic_problem(n_archs=60, n_inits=2, n_probe=8, k=4, *, seed=0):
    """EPDJM-like sets whose overall scale is the target: ``y = log(scale)``.

    Each architecture is a random base matrix times a scale spread over two decades; each
    initialisation rotates it by a random orthogonal matrix and adds a little noise. The
    embedder's log spectrum sees the scale, so the target is learnable from the embedding.
    """
    rng = np.random.RandomState(seed)
    log_scale = rng.uniform(-2.0, 2.0, n_archs)
    base = rng.standard_normal((n_archs, n_probe, k)) * np.exp(log_scale)[:, None, None]
    q, _ = np.linalg.qr(rng.standard_normal((n_archs, n_inits, k, k)))
    sets = np.einsum("apk,aikl->aipl", base, q)
    sets += 0.01 * np.exp(log_scale)[:, None, None, None] * rng.standard_normal(sets.shape)
    return sets.astype(np.float32), log_scale


@pytest.fixture(scope="module")
def problem():
    return synthetic_problem()


class RecordingEmbedder(TransformerMixin, BaseEstimator):
    """The identity on flattened rows, remembering how many rows it was fitted on."""

    def fit(self, X, y=None):
        self.n_fit_ = len(X)
        self.fit_with_y_ = y is not None
        return self

    def transform(self, X):
        return np.asarray(X).reshape(len(X), -1)


class CountingFeatures(TransformerMixin, BaseEstimator):
    """The identity on numeric arrays, counting its calls of transform."""

    def fit(self, X, y=None):
        self.n_transform_ = 0
        return self

    def transform(self, X):
        self.n_transform_ += 1
        return np.asarray(X, dtype=np.float32)


class RecordingRegressor(RegressorMixin, BaseEstimator):
    """Predicts the mean of its training target, which it keeps."""

    def fit(self, X, y):
        self.X_fit_, self.y_fit_ = np.asarray(X), np.asarray(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.y_fit_.mean())


def half_unlabelled(y):
    y = np.array(y, dtype=float)
    y[len(y) // 2:] = np.nan
    return y


# ---------------------------------------------------------------- semi-supervised fit
def test_unlabelled_rows_train_the_embedder_but_not_the_regressor(problem):
    X, y = problem
    y = half_unlabelled(y)
    reg = TransferRegressor(embedder=RecordingEmbedder(), regressor=RecordingRegressor()).fit(X, y)
    assert reg.embedder_.n_fit_ == len(X) == 60
    assert not reg.embedder_.fit_with_y_
    assert reg.n_labelled_ == 30
    assert len(reg.regressor_.X_fit_) == 30
    np.testing.assert_array_equal(reg.regressor_.y_fit_, y[:30])
    np.testing.assert_array_equal(reg.regressor_.X_fit_, X[:30].reshape(30, -1))
    # Unlabelled rows anywhere, not only at the end.
    y2 = y.copy()
    y2[::3] = np.nan
    y2[40:] = problem[1][40:]
    reg.fit(X, y2)
    assert reg.n_labelled_ == np.isfinite(y2).sum()
    np.testing.assert_array_equal(reg.regressor_.y_fit_, y2[np.isfinite(y2)])


def test_contrastive_embedder_is_trained_on_all_rows(problem):
    X, y = problem
    reg = TransferRegressor(embedder=ContrastiveEmbedder(**TINY)).fit(X, half_unlabelled(y))
    alone_all = ContrastiveEmbedder(**TINY).fit(X).transform(X)
    alone_labelled = ContrastiveEmbedder(**TINY).fit(X[:30]).transform(X)
    embedding = reg.transform(X)
    np.testing.assert_array_equal(embedding, alone_all)
    assert not np.allclose(embedding, alone_labelled)
    assert embedding.shape == (60, TINY["embedding_dim"]) and embedding.dtype == np.float32
    assert reg.embedder_ is not reg.embedder  # cloned
    assert not hasattr(reg.embedder, "net_")


def test_fit_transform_computes_the_features_once(problem):
    X, y = problem
    reg = TransferRegressor(features=CountingFeatures(), embedder=ContrastiveEmbedder(**TINY))
    embedding = reg.fit_transform(X, half_unlabelled(y))
    assert reg.features_.n_transform_ == 1
    np.testing.assert_array_equal(embedding, reg.transform(X))
    assert reg.features_.n_transform_ == 2
    # n_features_in_ only for numeric X checked by the estimator itself (or its features).
    assert not hasattr(reg, "n_features_in_")  # CountingFeatures records none
    reg.set_params(features=None, embedder="passthrough").fit(X.reshape(60, -1), y)
    assert reg.n_features_in_ == 64


def test_predictions_beat_a_constant(problem):
    X, y = problem
    y_train = half_unlabelled(y)
    reg = TransferRegressor(embedder=ContrastiveEmbedder(**TINY), random_state=0)
    reg.fit(X, y_train)
    pred = reg.predict(X[30:])
    assert r2_score(y[30:], pred) > 0.5  # a constant scores <= 0
    assert kendalltau(y[30:], pred).statistic > 0.5


def test_default_subestimators_and_their_seeds(problem):
    X, y = problem
    X = X.reshape(len(X), -1)
    reg = TransferRegressor(embedder="passthrough", random_state=0).fit(X, y)
    assert reg.features_ == "passthrough" and reg.embedder_ == "passthrough"
    assert isinstance(reg.regressor_, RandomForestRegressor)
    assert reg.n_features_in_ == 64
    seed = reg.regressor_.random_state
    assert isinstance(seed, int)
    # Same random_state: same seed and bitwise the same predictions; another: another seed.
    again = TransferRegressor(embedder="passthrough", random_state=0).fit(X, y)
    assert again.regressor_.random_state == seed
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    other = TransferRegressor(embedder="passthrough", random_state=1).fit(X, y)
    assert other.regressor_.random_state != seed
    # The default embedder is a ContrastiveEmbedder seeded from random_state too (not fitted
    # here: its defaults train for 150 epochs).
    emb = TransferRegressor(random_state=0)._make_embedder("passthrough", 7)
    assert isinstance(emb, ContrastiveEmbedder) and emb.random_state == 7


def test_determinism_with_random_state(problem):
    X, y = problem
    y = half_unlabelled(y)
    params = {"embedder": ContrastiveEmbedder(**TINY), "random_state": 0}
    first = TransferRegressor(**params).fit(X, y).predict(X)
    second = TransferRegressor(**params).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)


def test_user_estimators_are_cloned_and_untouched(problem):
    X, y = problem
    embedder, regressor = ContrastiveEmbedder(**TINY), Ridge()
    reg = TransferRegressor(embedder=embedder, regressor=regressor).fit(X, y)
    assert reg.regressor_ is not regressor and not hasattr(regressor, "coef_")
    assert not hasattr(embedder, "net_")
    assert reg.regressor_.n_features_in_ == TINY["embedding_dim"]


# ---------------------------------------------------------------- seed ensembles
def test_ensemble_averages_members_trained_from_their_own_seeds(problem):
    X, y = problem
    y = half_unlabelled(y)
    embedder = ContrastiveEmbedder(**TINY)  # random_state=0, replaced per member
    reg = TransferRegressor(embedder=embedder, regressor=Ridge(), n_embedders=3,
                            align="standardize", random_state=0).fit(X, y)
    assert embedder.random_state == 0 and not hasattr(embedder, "net_")  # untouched
    assert len(reg.embedders_) == len(reg.regressors_) == 3
    assert reg.embedder_ is reg.embedders_[0] and reg.regressor_ is reg.regressors_[0]
    seeds = [e.random_state for e in reg.embedders_]
    assert len(set(seeds)) == 3 and 0 not in seeds
    # transform: the members' aligned embeddings side by side; predict: the mean of the
    # members' regressors, each on its own block.
    Z = reg.transform(X)
    assert Z.shape == (60, 3 * TINY["embedding_dim"])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)  # one space: all rows
    blocks = np.split(Z, 3, axis=1)
    assert not np.allclose(blocks[0], blocks[1])  # different seeds, different embeddings
    members = [r.predict(b) for r, b in zip(reg.regressors_, blocks, strict=True)]
    np.testing.assert_allclose(reg.predict(X), np.mean(members, axis=0), rtol=1e-6)
    # Each member equals a single-embedder fit with that member's seed.
    alone = TransferRegressor(embedder=clone(embedder).set_params(random_state=seeds[1]),
                              regressor=Ridge(), align="standardize").fit(X, y)
    np.testing.assert_allclose(alone.predict(X), members[1], rtol=1e-5, atol=1e-6)
    # Reproducible, and the first member is seeded as a single embedder would be.
    again = TransferRegressor(embedder=embedder, regressor=Ridge(), n_embedders=3,
                              align="standardize", random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    single = TransferRegressor(random_state=0)._make_embedder("passthrough", 11)
    assert single.random_state == 11
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_ensemble_of_default_subestimators_and_errors(problem):
    X, y = problem
    one = TransferRegressor(embedder=ContrastiveEmbedder(**TINY), random_state=0).fit(X, y)
    two = TransferRegressor(embedder=ContrastiveEmbedder(**TINY), n_embedders=2,
                            random_state=0).fit(X, y)
    # One embedder is seeded as before ensembles existed (the user's own random_state);
    # the first member of an ensemble draws its seed from random_state.
    assert one.embedder_.random_state == TINY["random_state"]
    forests = [r.random_state for r in two.regressors_]
    assert forests[0] == one.regressor_.random_state and forests[0] != forests[1]
    with pytest.raises(ValueError, match="n_embedders=2 needs an embedder"):
        TransferRegressor(embedder="passthrough", n_embedders=2).fit(X.reshape(60, -1), y)


def test_pickles_from_before_ensembles_still_predict(problem):
    X, y = problem
    reg = TransferRegressor(embedder="passthrough", random_state=0).fit(X.reshape(60, -1), y)
    state = reg.__getstate__()
    for name in ("embedders_", "regressors_", "n_embedders", "_widths"):
        state.pop(name)
    old = TransferRegressor.__new__(TransferRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X.reshape(60, -1)), reg.predict(X.reshape(60, -1)))
    assert old.get_params()["n_embedders"] == 1


# ---------------------------------------------------------------- target="rank"
def test_within_space_quantiles():
    y = np.array([3.0, 1.0, 2.0, np.nan, 10.0, 30.0, 20.0, 20.0])
    codes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    q = _within_space_quantiles(y, codes, ~np.isnan(y))
    np.testing.assert_allclose(q[:3], [5 / 6, 1 / 6, 3 / 6])
    assert np.isnan(q[3])
    np.testing.assert_allclose(q[4:], [1 / 8, 7 / 8, 4 / 8, 4 / 8])  # ties share their rank


def test_rank_target_is_invariant_to_monotone_transforms_per_space(problem):
    X, y = problem
    spaces = np.repeat(["nb201", "sss"], 30)
    y_other_scale = np.where(spaces == "sss", 1000 * np.exp(y) + 5, y)  # monotone in one space
    params = {"embedder": ContrastiveEmbedder(**TINY), "target": "rank", "random_state": 0}
    a = TransferRegressor(**params).fit(X, y, spaces=spaces)
    b = TransferRegressor(**params).fit(X, y_other_scale, spaces=spaces)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert ((a.predict(X) >= 0) & (a.predict(X) <= 1)).all()
    # The raw target is not invariant.
    raw = {**params, "target": "raw"}
    assert not np.allclose(TransferRegressor(**raw).fit(X, y).predict(X),
                           TransferRegressor(**raw).fit(X, y_other_scale).predict(X))


def test_standardize_aligns_each_space_with_its_own_statistics(problem):
    X, y = problem
    X = X.reshape(len(X), -1)
    spaces = np.repeat(["nb201", "sss"], 30)
    shifted = X.copy()
    shifted[30:] = 5 * shifted[30:] + 3  # the second space lives elsewhere, at another scale
    y = half_unlabelled(y)  # the "sss" half is unlabelled
    reg = TransferRegressor(embedder="passthrough", regressor=RecordingRegressor(),
                            align="standardize").fit(shifted, y, spaces=spaces)
    flat = shifted.astype(np.float64)
    for space, rows in (("nb201", slice(0, 30)), ("sss", slice(30, 60))):
        mean, scale = reg.alignment_[space]
        np.testing.assert_allclose(mean, flat[rows].mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(scale, flat[rows].std(axis=0), rtol=1e-6)
    embedding = reg.transform(shifted, spaces=spaces)
    # after alignment, each space is centred and scaled: the shift and the scale are gone
    np.testing.assert_allclose(embedding[:30].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(embedding[30:].std(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(reg.regressor_.X_fit_, embedding[:30], rtol=1e-6)
    # an affine change of one space's features leaves its aligned embedding unchanged
    other = TransferRegressor(embedder="passthrough", regressor=RecordingRegressor(),
                              align="standardize").fit(X, y, spaces=spaces)
    np.testing.assert_allclose(other.transform(X, spaces=spaces), embedding, atol=1e-5)


def test_standardize_needs_the_spaces_of_numeric_rows(problem):
    X, y = problem
    X = X.reshape(len(X), -1)
    spaces = np.repeat(["nb201", "sss"], 30)
    reg = TransferRegressor(embedder="passthrough", align="standardize",
                            random_state=0).fit(X, y, spaces=spaces)
    with pytest.raises(ValueError, match="fit saw 2 search spaces and X is numeric: pass spaces"):
        reg.predict(X)
    with pytest.raises(ValueError, match="no architecture of the space 'darts' was seen in fit"):
        reg.predict(X[:2], spaces=["nb201", "darts"])
    assert reg.predict(X[:2], spaces=["sss", "sss"]).shape == (2,)
    # one space: a plain standardisation, no spaces needed
    single = TransferRegressor(embedder="passthrough", align="standardize",
                               random_state=0).fit(X, y)
    assert list(single.alignment_) == [""] and single.predict(X).shape == (60,)


def test_standardize_recognises_the_spaces_of_architecture_strings():
    nb201 = NB201Space().sample(6, random_state=0)
    sss = NATSSizeSpace().sample(6, random_state=0)
    y = np.r_[np.linspace(80, 90, 6), np.full(6, np.nan)]
    reg = TransferRegressor(features=EPDJMTransformer(**TINY_EPDJM), embedder="passthrough",
                            align="standardize", random_state=0).fit(nb201 + sss, y)
    assert set(reg.alignment_) == {"tss", "sss"}
    Xt = reg.transform(sss)
    np.testing.assert_allclose(Xt.mean(axis=0), 0, atol=1e-4)


def test_rank_target_ranks_within_each_space(problem):
    X, y = problem
    spaces = np.tile(["a", "b"], 30)
    y = half_unlabelled(y)
    reg = TransferRegressor(embedder=RecordingEmbedder(), regressor=RecordingRegressor(),
                            target="rank").fit(X, y, spaces=spaces)
    labelled = ~np.isnan(y)
    for space in "ab":
        rows = labelled & (spaces == space)
        expected = (np.argsort(np.argsort(y[rows])) + 0.5) / rows.sum()
        np.testing.assert_allclose(reg.regressor_.y_fit_[rows[labelled]], expected)
    # Without spaces, a numeric X is one group.
    reg.fit(X, y)
    expected = (np.argsort(np.argsort(y[labelled])) + 0.5) / labelled.sum()
    np.testing.assert_allclose(reg.regressor_.y_fit_, expected)


def test_rank_target_needs_known_spaces_for_strings():
    with pytest.raises(ValueError, match="pass spaces="):
        TransferRegressor(target="rank").fit(["not an architecture", "x"], [1.0, 2.0])
    with pytest.raises(ValueError, match="2 labels for 3 rows"):
        TransferRegressor(target="rank", embedder="passthrough").fit(
            np.eye(3), [1.0, 2.0, 3.0], spaces=["a", "b"])


# ---------------------------------------------------------------- architecture strings
def test_mixed_nb201_and_size_space_strings_end_to_end():
    nb201 = NB201Space().sample(6, random_state=0, unique=True)
    sss = NATSSizeSpace().sample(6, random_state=0)
    X = nb201 + sss
    # Accuracies on two scales; the size space unlabelled except two architectures.
    y = np.r_[np.linspace(60, 90, 6), [0.3, 0.5], np.full(4, np.nan)]
    reg = TransferRegressor(
        features=EPDJMTransformer(**TINY_EPDJM, append_log_n_parameters=True),
        embedder=ContrastiveEmbedder(**{**TINY, "batch_size": 4}),
        regressor=RecordingRegressor(), target="rank", random_state=0)
    reg.fit(X, y)
    # The embedder got the layout of the EPDJM rows and the log parameter column.
    assert reg.embedder_.feature_shape == (2, 8, 4)
    assert reg.embedder_.log_n_parameters is True
    assert reg.embedder.feature_shape is None  # the parameter itself is untouched
    assert reg.n_labelled_ == 8
    # Spaces recognised from the notation: NB201 ranks 1..6 of 6, size space 1..2 of 2.
    np.testing.assert_allclose(reg.regressor_.y_fit_,
                               np.r_[(np.arange(6) + 0.5) / 6, [0.25, 0.75]])
    embedding = reg.transform(sss)
    assert embedding.shape == (6, TINY["embedding_dim"])
    np.testing.assert_array_equal(embedding, reg.transform(X)[6:])
    assert not hasattr(reg, "n_features_in_")


def test_default_features_for_strings_and_baseline_embedder():
    X = [*NB201Space().sample(3, random_state=1, unique=True), "8:16:24:32:40"]
    y = [70.0, 80.0, np.nan, np.nan]
    reg = TransferRegressor(embedder=SpectralFeatures(), random_state=0)
    features = reg._make_features(X, 3)
    assert isinstance(features, EPDJMTransformer) and features.random_state == 3
    assert reg._make_features(np.eye(3), 3) == "passthrough"
    # The spectral baseline on EPDJM strings: the layout is filled in for it too.
    reg.set_params(features=EPDJMTransformer(**TINY_EPDJM)).fit(X, y)
    assert reg.embedder_.feature_shape == (2, 8, 4)
    assert reg.predict(X[2:]).shape == (2,)


def test_holds_architectures():
    assert _holds_architectures(["8:8:8:8:8"])
    assert _holds_architectures(np.array(["8:8:8:8:8", "8:16:8:8:8"]))
    assert _holds_architectures([NB201Space().build, "8:8:8:8:8"])
    assert not _holds_architectures(np.eye(3))
    assert not _holds_architectures([[1.0, 2.0], [3.0, 4.0]])
    assert not _holds_architectures([0, 1, 2])  # indices need EPDJMTransformer(space=...)
    assert not _holds_architectures(np.zeros((2, 2, 3, 1)))


def test_tags_follow_the_features():
    assert get_tags(TransferRegressor()).input_tags.two_d_array
    assert get_tags(TransferRegressor()).input_tags.string
    tags = get_tags(TransferRegressor(features=EPDJMTransformer())).input_tags
    assert tags.string and not tags.two_d_array
    assert not get_tags(TransferRegressor(features="passthrough")).input_tags.string


# ---------------------------------------------------------------- model selection
def test_score_skips_unlabelled_rows(problem):
    X, y = problem
    y_nan = half_unlabelled(y)
    reg = TransferRegressor(embedder=ContrastiveEmbedder(**TINY), random_state=0).fit(X, y_nan)
    assert reg.score(X, y_nan) == pytest.approx(r2_score(y[:30], reg.predict(X[:30])))
    with pytest.raises(ValueError, match="no labelled architecture to score"):
        reg.score(X[30:], y_nan[30:])


def test_cross_val_score_with_unlabelled_rows(problem):
    X, y = problem
    y = half_unlabelled(y)
    reg = TransferRegressor(embedder=ContrastiveEmbedder(**TINY), random_state=0)
    scores = cross_val_score(reg, X, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.isfinite(scores).all()
    # spaces reach fit through params, sliced to each training fold.
    spaces = np.repeat(["a", "b"], 30)
    ranked = clone(reg).set_params(target="rank")
    scores = cross_val_score(ranked, X, y, cv=KFold(3, shuffle=True, random_state=0),
                             params={"spaces": spaces})
    assert np.isfinite(scores).all()


def test_spaces_with_metadata_routing(problem):
    X, y = problem
    spaces = np.repeat(["a", "b"], 30)
    with sklearn.config_context(enable_metadata_routing=True):
        reg = TransferRegressor(embedder="passthrough", target="rank", random_state=0)
        reg.set_fit_request(spaces=True).set_score_request(spaces=True)
        scores = cross_val_score(reg, X.reshape(60, -1), y, cv=3, params={"spaces": spaces})
    assert np.isfinite(scores).all()


def test_grid_search_over_regressor_and_embedder(problem):
    X, y = problem
    y = half_unlabelled(y)
    reg = TransferRegressor(embedder=ContrastiveEmbedder(**TINY),
                            regressor=RandomForestRegressor(n_estimators=10, random_state=0),
                            random_state=0)
    grid = {"regressor__max_depth": [2, None], "embedder__max_iter": [1, 3]}
    search = GridSearchCV(reg, grid, cv=KFold(2, shuffle=True, random_state=0)).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.regressor_.max_depth == search.best_params_["regressor__max_depth"]
    assert best.embedder_.n_iter_ == search.best_params_["embedder__max_iter"]
    # spaces as a fit parameter of the search, for target="rank".
    search = GridSearchCV(reg.set_params(target="rank"), {"regressor__max_depth": [2]},
                          cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, y, spaces=np.repeat(["a", "b"], 30))
    assert np.isfinite(search.best_score_)


def test_clone_and_pickle(problem):
    X, y = problem
    reg = TransferRegressor(embedder=ContrastiveEmbedder(**TINY), target="rank",
                            random_state=0)
    cloned = clone(reg)
    assert cloned.get_params()["embedder__max_iter"] == TINY["max_iter"]
    assert cloned.embedder is not reg.embedder
    reg.fit(X, half_unlabelled(y))
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    np.testing.assert_array_equal(restored.transform(X), reg.transform(X))
    assert not hasattr(clone(reg), "regressor_")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("y", "match"),
    [
        ([np.nan, np.nan, np.nan], "all 3 targets are NaN"),
        ([1.0, np.inf, np.nan], "infinity"),
        ([1.0, 2.0], "inconsistent numbers of samples"),
        (None, "requires y to be passed"),
    ],
)
def test_bad_targets(y, match):
    X = np.random.RandomState(0).standard_normal((3, 4))
    with pytest.raises(ValueError, match=match):
        TransferRegressor(embedder="passthrough").fit(X, y)


def test_not_fitted_and_wrong_features(problem):
    X, y = problem
    reg = TransferRegressor(embedder="passthrough")
    for method in (reg.predict, reg.transform):
        with pytest.raises(NotFittedError):
            method(X)
    reg.fit(X.reshape(60, -1), y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X.reshape(60, -1)[:, :5])


def test_param_validation():
    ec.check_param_validation("TransferRegressor", TransferRegressor())


def test_top_level_export():
    import cenas_sklearn

    assert cenas_sklearn.TransferRegressor is TransferRegressor
    assert "TransferRegressor" in cenas_sklearn.__all__
