"""Reliability, bullet 3: persistence.

- Every public estimator (found by walking the package, as ``tests/test_common.py`` does,
  so a new one is covered without editing this file) inherits ``VersionedPickleMixin`` and,
  fitted, round-trips through pickle and joblib with bitwise-identical outputs;
  ``CandidateOptimizer`` pickled mid-search goes on proposing the same candidates.
- Pickles record the cenas_sklearn version; loading one of another ``major.minor`` version,
  older or newer, or one without a version, is an ``IncompatibleVersionError`` naming both
  versions, raised before the estimator's class and state are looked up.
- A model fitted on CUDA loads on a CPU-only machine: ``EPDJMTransformer`` here (mocked, or
  for real where CUDA exists); ``ContrastiveEmbedder`` in
  ``tests/test_embedding.py::test_cuda_model_loads_on_a_cpu_only_machine`` and
  ``test_cuda_fit_transform_and_pickle``, which also check its loss curve and device after
  a round trip.
"""

from __future__ import annotations

import pickle
import re
import sys
import types
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, clone
from skorch.exceptions import DeviceWarning

import cenas_sklearn
from cenas_sklearn import IncompatibleVersionError, _persistence
from cenas_sklearn._persistence import VersionedPickleMixin
from cenas_sklearn.features import EPDJMTransformer, SpectralFeatures
from cenas_sklearn.search import CandidateOptimizer
from cenas_sklearn.spaces import NB201Space

from .test_common import ESTIMATORS

SMALL_NB201 = NB201Space(C=4, N=1)


def _problem(estimator):
    """``(fit arguments, outputs)``: how to fit a tiny copy of ``estimator`` and what a
    fitted one computes, for every public estimator."""
    rng = np.random.RandomState(0)
    name = type(estimator).__name__
    if name == "EPDJMTransformer":
        estimator.set_params(space=SMALL_NB201)
        archs = [0, 9930, 3731]
        return (archs,), lambda est: {"X": est.transform(archs), "seed": est.seed_,
                                      "probes": est.probe_images_}
    if name in ("SpectralFeatures", "ContrastiveEmbedder"):
        X = rng.standard_normal((24, 2, 6, 3)).astype(np.float32)
        estimator.set_params(feature_shape=None)
        return (X,), lambda est: {"X": est.transform(X),
                                  "names": est.get_feature_names_out()}
    if name.endswith(("ArchitectureSearch", "Evolution")):
        X = np.arange(0, 15625, 25) if name == "RegularizedEvolution" \
            else rng.normal(size=(200, 3))
        values = rng.uniform(10.0, 90.0, size=len(X))
        estimator.set_params(n_iter=12, random_state=0)
        return (X, values), lambda est: {
            "history": est.history_, "best": (est.best_index_, est.best_score_),
            "x_iters": est.result_.x_iters, "func_vals": est.result_.func_vals}
    # A new estimator: numeric X and y, as sklearn's checks feed it.
    X, y = rng.normal(size=(40, 4)), rng.uniform(size=40)
    method = next(m for m in ("predict", "transform") if hasattr(estimator, m))
    return (X, y), lambda est: {method: getattr(est, method)(X)}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_every_public_estimator_records_its_version(estimator):
    mro = type(estimator).mro()
    assert VersionedPickleMixin in mro, (
        f"{type(estimator).__name__} must inherit cenas_sklearn._persistence."
        "VersionedPickleMixin, first among its bases")
    assert mro.index(VersionedPickleMixin) < mro.index(BaseEstimator)
    blob = pickle.dumps(estimator)
    assert _persistence.VERSION_KEY.encode() in blob
    assert cenas_sklearn.__version__.encode() in blob


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fitted_estimator_round_trips_with_identical_outputs(estimator, tmp_path):
    estimator = clone(estimator)
    args, outputs = _problem(estimator)
    estimator.fit(*args)
    expected = outputs(estimator)
    path = tmp_path / "estimator.joblib"
    joblib.dump(estimator, path)
    for loaded in (pickle.loads(pickle.dumps(estimator)), joblib.load(path),
                   joblib.load(path, mmap_mode="r")):
        assert type(loaded) is type(estimator)
        assert loaded.get_params().keys() == estimator.get_params().keys()
        assert _persistence.VERSION_KEY not in vars(loaded)
        np.testing.assert_equal(outputs(loaded), expected)  # bitwise; NaN equals NaN


def test_candidate_optimizer_pickled_mid_search_goes_on_identically():
    rng = np.random.RandomState(0)
    emb = rng.normal(size=(300, 3))
    values = -np.sum((emb - 0.2) ** 2, axis=1)
    opt = CandidateOptimizer(emb, n_initial_points=4, acq_func="gp_hedge", random_state=0)
    opt.run(lambda i: values[i], n_iter=7)
    copy = pickle.loads(pickle.dumps(opt))
    for step in range(6):
        n_points = 2 if step % 2 else None  # single proposals and constant-liar batches
        x = opt.ask(n_points)
        assert copy.ask(n_points) == x
        y = [values[i] for i in x] if n_points else values[x]
        opt.tell(x, y)
        copy.tell(x, y)
    assert opt.Xi == copy.Xi and opt.yi == copy.yi
    np.testing.assert_array_equal(opt.gains_, copy.gains_)


# ---------------------------------------------------------------------- versions
def _pickled_by(version, estimator, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(_persistence, "__version__", version)
        return pickle.dumps(estimator)


@pytest.mark.parametrize("version", ["0.0.9", "0.2.0", "0.10.0.dev0", "1.1.0", "2.0", "99.0.0"])
def test_other_major_minor_version_is_refused(version, monkeypatch, tmp_path):
    est = SpectralFeatures().fit(np.ones((3, 2, 4, 2)))
    blob = _pickled_by(version, est, monkeypatch)
    with pytest.raises(IncompatibleVersionError) as info:
        pickle.loads(blob)
    message = str(info.value)
    assert "SpectralFeatures" in message and version in message
    assert cenas_sklearn.__version__ in message and "Refit" in message
    assert (info.value.pickled_version, info.value.installed_version) == \
        (version, cenas_sklearn.__version__)
    assert isinstance(info.value, ValueError)
    path = tmp_path / "est.joblib"
    path.write_bytes(blob)
    with pytest.raises(IncompatibleVersionError, match=re.escape(version)):
        joblib.load(path)


@pytest.mark.parametrize("version", ["0.1.0", "0.1.7", "0.1.0rc1", "0.1.2.post3"])
def test_same_major_minor_version_loads(version, monkeypatch):
    est = SpectralFeatures().fit(np.ones((3, 2, 4, 2)))
    loaded = pickle.loads(_pickled_by(version, est, monkeypatch))
    np.testing.assert_array_equal(loaded.transform(np.ones((2, 2, 4, 2))),
                                  est.transform(np.ones((2, 2, 4, 2))))


def test_pickle_without_a_version_is_refused():
    est = SpectralFeatures().fit(np.ones((3, 2, 4, 2)))
    state = est.__getstate__()
    del state[_persistence.VERSION_KEY]
    with pytest.raises(IncompatibleVersionError, match="records no cenas_sklearn version"):
        SpectralFeatures.__new__(SpectralFeatures).__setstate__(state)


def test_the_version_is_checked_before_the_class_is_looked_up(monkeypatch):
    """A later version may move or remove classes: the version error still comes first."""
    module = types.ModuleType("cenas_moved_module")

    class Moved(SpectralFeatures):
        pass

    Moved.__module__ = module.__name__
    Moved.__qualname__ = "Moved"
    module.Moved = Moved
    monkeypatch.setitem(sys.modules, module.__name__, module)
    blob = _pickled_by("0.9.0", Moved(), monkeypatch)
    assert type(pickle.loads(_pickled_by(cenas_sklearn.__version__, Moved(), monkeypatch))) \
        is Moved
    monkeypatch.delitem(sys.modules, module.__name__)
    with pytest.raises(IncompatibleVersionError, match=r"0\.9\.0"):
        pickle.loads(blob)


def test_scikit_learn_pickling_runs_underneath(monkeypatch):
    """The mixin wraps ``BaseEstimator.__getstate__`` / ``__setstate__`` (super())."""
    calls = []
    get, set_ = BaseEstimator.__getstate__, BaseEstimator.__setstate__

    def getstate(self):
        calls.append("get")
        return get(self)

    def setstate(self, state):
        calls.append("set")
        assert _persistence.VERSION_KEY not in state
        return set_(self, state)

    monkeypatch.setattr(BaseEstimator, "__getstate__", getstate)
    monkeypatch.setattr(BaseEstimator, "__setstate__", setstate)
    pickle.loads(pickle.dumps(SpectralFeatures()))
    assert calls == ["get", "set"]


def test_incompatible_version_error_pickles():
    """It crosses process boundaries (joblib workers) intact."""
    error = IncompatibleVersionError("ContrastiveEmbedder", "0.3.1", "0.1.0")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.pickled_version == "0.3.1"


# ---------------------------------------------------------------------- CUDA -> CPU
def _tiny_epdjm(device):
    return EPDJMTransformer(space=SMALL_NB201, n_inits=2, n_probe=8, probe_size=8,
                            n_components=4, device=device, random_state=0).fit()


def test_epdjm_fitted_on_cuda_loads_on_a_cpu_only_machine(monkeypatch):
    est = _tiny_epdjm("cpu")
    expected = est.transform([0, 9930])
    est.set_params(device="cuda:0")  # as fitted on a GPU
    est.device_ = "cuda:0"
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match=r"fitted on 'cuda:0', but no CUDA device"):
        loaded = pickle.loads(blob)
    assert loaded.device_ == "cpu" and loaded.device == "cuda:0"  # the parameter is kept
    np.testing.assert_array_equal(loaded.transform([0, 9930]), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_epdjm_really_fitted_on_cuda_loads_without_it(monkeypatch):
    est = _tiny_epdjm("cuda")
    on_gpu = est.transform([0, 9930])
    blob = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pickle.loads(blob).device_ == "cuda"  # with CUDA: stays on it
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning):
        loaded = pickle.loads(blob)
    np.testing.assert_allclose(loaded.transform([0, 9930]), on_gpu, rtol=1e-3, atol=1e-5)
