"""Reliability, bullet 1: bad input everywhere public gives a clear error, never a silently
wrong result.

Every test feeds generated input (hypothesis) to a public entry point and checks that it
either returns a verifiably correct result or raises the documented exception type
(``ValueError`` / ``TypeError`` / ``IndexError`` / ``KeyError``) with a useful message,
never an exception leaking from numpy or torch:

1-3. architecture strings and indices of the spaces;
4-5. EPDJM arrays given to the embedder and the spectral features (wrong ndim, empty axes,
     NaN/inf, float32 overflow), and probe batches;
6.   benchmark look-ups;
7.   the search's candidates (embeddings of wrong shape, type or values), told values and
     objective arrays, leaving the optimizer's state untouched on error;
8.   files: search checkpoints truncated, damaged byte by byte or edited (refused, naming the
     file, never silently restarted), search curves truncated, missing files.

Elsewhere: parameters out of range, for every public estimator, by sklearn's
``check_param_validation`` (``tests/test_common.py``); EPDJM stores truncated, corrupted
(wrong checksum) or of the wrong shape (``tests/test_store.py``, "corruption"); benchmark
tables misaligned, of the wrong shape or needing unpickling (``tests/test_benchmarks.py``);
the CLI's one-line user errors (``tests/test_cli.py``).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cenas_sklearn.benchmarks import TabularBenchmark
from cenas_sklearn.embedding import ContrastiveEmbedder
from cenas_sklearn.features import EPDJMTransformer, SpectralFeatures
from cenas_sklearn.search import (
    BayesianArchitectureSearch,
    CandidateOptimizer,
    RandomArchitectureSearch,
    SearchCurves,
)
from cenas_sklearn.spaces import NATS_SIZE_CHANNELS, NB201_OPERATIONS, NATSSizeSpace, NB201Space

NB201 = NB201Space()
SSS = NATSSizeSpace()
SPACES = {"nb201": NB201, "sss": SSS}

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

space_names = st.sampled_from(sorted(SPACES))


def _check_parse_outcome(space, text):
    """``text`` parses into a consistent architecture, or is refused with a ValueError."""
    try:
        parsed = space.parse(text)
        index = space.index(text)
    except ValueError as exc:
        assert str(exc)  # a message saying what is wrong
        return None
    official = space.to_string(text)
    assert space.format(parsed) == official
    assert space[index] == official
    assert space.index(official) == index
    assert space.parse(official) == parsed
    return index


# ====================================================================== 1. parsing
@FAST
@given(st.text())
def test_nb201_parse_arbitrary_text(text):
    _check_parse_outcome(NB201, text)


@FAST
@given(st.text())
def test_size_parse_arbitrary_text(text):
    _check_parse_outcome(SSS, text)


_OP_NAMES = st.sampled_from(
    [*NB201_OPERATIONS, "", "conv", "none ", "NONE", "skip", "nor_conv_5x5", "avg_pool_3x3~0",
     "|", "+", "max_pool_3x3"])
_SEPARATORS = st.sampled_from(["~", "", "-", "~~", " ~", "~ "])


@st.composite
def near_nb201(draw):
    """Strings close to the NB201 grammar: mostly valid parts, some broken ones."""
    n_nodes = draw(st.integers(0, 5))
    nodes = []
    for j in range(1, n_nodes + 1):
        n_edges = draw(st.integers(0, 4)) if draw(st.booleans()) else j
        srcs = (draw(st.lists(st.integers(0, 4), min_size=n_edges, max_size=n_edges))
                if draw(st.booleans()) else list(range(n_edges)))
        edges = [f"{draw(_OP_NAMES)}{draw(_SEPARATORS)}{s}" for s in srcs]
        edges = draw(st.permutations(edges)) if edges else edges
        inner = draw(st.sampled_from(["|", "||", "/"])).join(edges)
        left, right = draw(st.sampled_from([("|", "|"), ("|", "|"), ("", "|"), ("|", ""), ("", "")]))
        nodes.append(f"{left}{inner}{right}")
    plus = draw(st.sampled_from(["+", "+", "++", " + ", ","]))
    pad = draw(st.sampled_from(["", " ", "\n", "\t "]))
    return pad + plus.join(nodes) + pad


@st.composite
def valid_nb201_permuted(draw):
    """A valid architecture with each node's edges written in a random order."""
    index = draw(st.integers(0, len(NB201) - 1))
    genotype = NB201.parse(index)
    nodes = ["|" + "|".join(f"{op}~{src}" for op, src in draw(st.permutations(node))) + "|"
             for node in genotype]
    return index, "+".join(nodes)


@FAST
@given(near_nb201())
def test_nb201_parse_near_valid(text):
    _check_parse_outcome(NB201, text)


@FAST
@given(valid_nb201_permuted())
def test_nb201_edges_in_any_order(case):
    index, text = case
    assert _check_parse_outcome(NB201, text) == index


@FAST
@given(st.lists(st.integers(-100, 200) | st.sampled_from(NATS_SIZE_CHANNELS), min_size=0,
                max_size=7),
       st.sampled_from([":", ":", " : ", "::", ","]))
def test_size_parse_joined_integers(widths, sep):
    text = sep.join(map(str, widths))
    expected_valid = (sep.strip() == ":" and len(widths) == 5
                      and all(w in NATS_SIZE_CHANNELS for w in widths))
    index = _check_parse_outcome(SSS, text)
    assert (index is not None) == expected_valid, text
    if expected_valid:
        assert SSS.parse(text) == tuple(widths)


# ====================================================================== 2. indices
@FAST
@given(space_names, st.integers())
def test_integer_indices(name, i):
    space = SPACES[name]
    n = len(space)
    if 0 <= i < n:
        assert space.index(i) == i
        assert space.index(space[i]) == i
        assert space.index(space.to_string(i)) == i
        assert space[i - n] == space[i]  # Python's negative indexing for __getitem__
        assert space.index(np.int64(i)) == i
        assert i in space
    else:
        for call in (space.index, space.to_string, space.parse, space.canonical):
            with pytest.raises(IndexError, match="out of range"):
                call(i)
        assert i not in space
        if not -n <= i < n:
            with pytest.raises(IndexError, match="out of range"):
                space[i]


_NOT_INDICES = st.one_of(
    st.booleans(), st.floats(allow_nan=True), st.none(),
    st.lists(st.integers(0, 10), max_size=3), st.tuples(st.integers(0, 10)),
    st.builds(np.bool_, st.booleans()), st.builds(np.float64, st.floats()),
    st.binary(max_size=5), st.complex_numbers(),
)


@FAST
@given(space_names, _NOT_INDICES)
def test_non_integer_indices_are_type_errors(name, value):
    space = SPACES[name]
    for call in (space.index, space.to_string, space.parse, space.canonical):
        with pytest.raises(TypeError):
            call(value)
    if not isinstance(value, list):
        with pytest.raises(TypeError):
            space[value]
    assert value not in space


# ====================================================================== 3. structure
@FAST
@given(space_names, st.data())
def test_canonical_is_idempotent_and_keeps_the_class(name, data):
    space = SPACES[name]
    i = data.draw(st.integers(0, len(space) - 1))
    arch = space[i]
    canon = space.canonical(arch)
    assert space.canonical(i) == canon
    assert space.canonical(canon) == canon
    assert space.isomorphism_key(canon) == space.isomorphism_key(arch)
    assert space.index(canon) <= i  # the smallest index of the class


@FAST
@given(space_names, st.data())
def test_neighbours_are_valid_distinct_single_edits(name, data):
    space = SPACES[name]
    i = data.draw(st.integers(0, len(space) - 1))
    arch = space[i]
    neigh = space.neighbours(arch)
    assert neigh == space.neighbours(i)
    expected = 24 if name == "nb201" else 35
    assert len(neigh) == expected
    assert len(set(neigh)) == len(neigh)
    assert arch not in neigh
    idx = space.indices(neigh)
    assert i not in set(idx.tolist())
    for s, j in zip(neigh, idx, strict=True):
        assert space[j] == s  # already official strings
    dist = np.abs(space.onehot(neigh) - space.onehot(arch)).sum(axis=1)
    np.testing.assert_array_equal(dist, 2.0)


# ====================================================================== 4. embedders' inputs
def _tiny_embedder(**kw):
    return ContrastiveEmbedder(hidden_layer_size=4, embedding_dim=2, projection_dim=2,
                               max_iter=1, batch_size=4, n_layers=1, device="cpu",
                               validation_fraction=0.0, random_state=0, **kw)


ESTIMATORS = {
    "embedder": _tiny_embedder,
    "spectral": SpectralFeatures,
}
estimator_names = st.sampled_from(sorted(ESTIMATORS))
_finite = st.floats(-10, 10, allow_nan=False, width=32)


@FEW
@given(estimator_names,
       hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=0, max_side=8),
                  elements=_finite))
def test_one_dimensional_x_is_refused(name, X):
    with pytest.raises(ValueError, match=r"(?i)2D|1D|0 sample|empty"):
        ESTIMATORS[name]().fit(X)


@FEW
@given(estimator_names,
       hnp.arrays(np.float64, hnp.array_shapes(min_dims=5, max_dims=5, min_side=1, max_side=3),
                  elements=_finite))
def test_five_dimensional_x_is_refused(name, X):
    with pytest.raises(ValueError, match="5-D"):
        ESTIMATORS[name]().fit(X)


@FEW
@given(estimator_names, st.data(), st.sampled_from([np.nan, np.inf, -np.inf]),
       st.sampled_from([np.float32, np.float64]))
def test_non_finite_x_is_refused(name, data, bad, dtype):
    X = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=4, max_dims=4, min_side=2,
                                                     max_side=3), elements=_finite))
    where = data.draw(st.tuples(*(st.integers(0, s - 1) for s in X.shape)))
    X[where] = bad
    with pytest.raises(ValueError, match=r"(?i)NaN|infinity"):
        ESTIMATORS[name]().fit(X)
    # The same for a 2-D X with feature_shape.
    with pytest.raises(ValueError, match=r"(?i)NaN|infinity"):
        ESTIMATORS[name](feature_shape=X.shape[1:]).fit(X.reshape(len(X), -1))


@FEW
@given(estimator_names, st.integers(2, 4))
def test_x_without_samples_is_refused(name, ndim):
    shape = (0,) + (2,) * (ndim - 1)
    with pytest.raises(ValueError, match="0 sample"):
        ESTIMATORS[name](feature_shape=(2, 2, -1) if ndim < 4 else None).fit(np.zeros(shape))


@pytest.mark.parametrize("name, axis", [
    ("spectral", 1),
    ("spectral", 2),
    ("spectral", 3),
    ("embedder", 1),
    ("embedder", 2),
    ("embedder", 3),
])
@settings(max_examples=10, deadline=None)
@given(shape=st.tuples(st.integers(2, 4), st.integers(2, 3), st.integers(1, 3),
                       st.integers(1, 3)))
def test_x_with_an_empty_axis_is_refused(name, axis, shape):
    """A 4-D X with no initialisation, probe or component is not a valid set of EPDJMs."""
    shape = list(shape)
    shape[axis] = 0
    X = np.ones(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            ESTIMATORS[name]().fit(X)
        except ValueError as exc:
            assert str(exc)
            return
    pytest.fail(f"{name} accepted an EPDJM array of shape {X.shape}")


@FEW
@given(hnp.arrays(np.float64, (3, 2, 3, 2), elements=st.one_of(
    st.floats(-1e300, -4e38), st.floats(4e38, 1e300))))
def test_embedder_refuses_values_overflowing_float32(X):
    """Finite float64 values beyond float32's range must not turn into inf inside fit."""
    try:
        est = _tiny_embedder().fit(X)
    except ValueError:
        return
    out = est.transform(X)
    assert np.isfinite(out).all(), "finite input gave non-finite embeddings"


# ====================================================================== 5. EPDJM probe batch
_BAD_KINDS = st.sampled_from([np.complex128, np.str_, object])


@FAST
@given(hnp.array_shapes(min_dims=0, max_dims=6, min_side=0, max_side=3).filter(
    lambda s: len(s) != 4))
def test_probe_images_of_wrong_ndim(shape):
    est = EPDJMTransformer(probe_images=np.zeros(shape, np.float32), n_components=1,
                           device="cpu")
    with pytest.raises(ValueError, match="probe_images"):
        est.fit()


@FAST
@given(hnp.array_shapes(min_dims=4, max_dims=4, min_side=0, max_side=3).filter(
    lambda s: 0 in s))
def test_empty_probe_images(shape):
    est = EPDJMTransformer(probe_images=np.zeros(shape, np.float32), n_components=1,
                           device="cpu")
    with pytest.raises(ValueError, match="empty"):
        est.fit()


@FAST
@given(_BAD_KINDS, hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=2))
def test_probe_images_of_wrong_dtype(dtype, shape):
    est = EPDJMTransformer(probe_images=np.zeros(shape, dtype=dtype), n_components=1,
                           device="cpu")
    with pytest.raises(TypeError, match="real numbers"):
        est.fit()


@FAST
@given(st.data(), st.sampled_from([np.nan, np.inf, -np.inf]),
       st.sampled_from([np.float16, np.float32, np.float64]))
def test_probe_images_with_non_finite_values(data, bad, dtype):
    probes = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=4, max_dims=4, min_side=1,
                                                          max_side=3),
                                  elements=st.floats(-3, 3, width=16)))
    where = data.draw(st.tuples(*(st.integers(0, s - 1) for s in probes.shape)))
    probes[where] = bad
    est = EPDJMTransformer(probe_images=probes, n_components=1, device="cpu")
    with pytest.raises(ValueError, match="NaN or infinity"):
        est.fit()


@FEW
@given(hnp.arrays(np.float64, (2, 1, 2, 2), elements=st.floats(4e38, 1e300)))
def test_probe_images_overflowing_float32(probes):
    """Finite float64 probes too large for float32 must not become inf probes."""
    est = EPDJMTransformer(probe_images=probes, n_components=1, device="cpu")
    try:
        est.fit()
    except ValueError:
        return
    assert np.isfinite(est.probe_images_).all(), "finite probes were cast to inf"


@FAST
@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 3), st.integers(0, 20))
def test_n_components_larger_than_n_probe(n_probe, channels, size, extra):
    probes = np.ones((n_probe, channels, size, size), np.float32)
    n_pixels = channels * size * size
    n_components = min(n_probe, n_pixels) + 1 + extra
    est = EPDJMTransformer(probe_images=probes, n_components=n_components, device="cpu")
    with pytest.raises(ValueError, match="n_components"):
        est.fit()
    ok = EPDJMTransformer(probe_images=probes, n_components=min(n_probe, n_pixels),
                          device="cpu").fit()
    assert ok.feature_shape_ == (4, n_probe, min(n_probe, n_pixels))


@FEW
@given(st.integers(1, 8), st.integers(0, 8))
def test_generated_probes_n_components_larger_than_n_probe(n_probe, extra):
    est = EPDJMTransformer(probe_images="gaussian", n_probe=n_probe, probe_size=4,
                           n_components=n_probe + 1 + extra, device="cpu")
    with pytest.raises(ValueError, match="n_components"):
        est.fit()


# ====================================================================== 6. TabularBenchmark
_TOY_TABLE = np.full(len(NB201), np.nan)
_TOY_TABLE[::3] = np.linspace(10.0, 90.0, len(_TOY_TABLE[::3]))
TOY = TabularBenchmark(NB201, {"cifar10": _TOY_TABLE}, name="toy")

_ARCH_INPUTS = st.one_of(
    st.text(max_size=30), near_nb201(), valid_nb201_permuted().map(lambda c: c[1]),
    st.integers(), st.integers(-20, len(NB201) + 20), st.sampled_from(list(NB201[:50])),
)


def _expected(arch):
    """The table entry for ``arch``, or None where a KeyError is due."""
    try:
        value = _TOY_TABLE[NB201.index(arch)]
    except (ValueError, IndexError):
        return None
    return None if np.isnan(value) else float(value)


@FAST
@given(_ARCH_INPUTS)
def test_tabular_lookup_single(arch):
    expected = _expected(arch)
    if expected is None:
        with pytest.raises(KeyError):
            TOY.accuracy(arch)
    else:
        got = TOY.accuracy(arch)
        assert isinstance(got, float) and got == expected


@FAST
@given(st.lists(_ARCH_INPUTS, max_size=5))
def test_tabular_lookup_many(archs):
    expected = [_expected(a) for a in archs]
    if any(e is None for e in expected):
        with pytest.raises(KeyError):
            TOY.accuracy(archs)
    else:
        got = TOY.accuracy(archs)
        assert got.shape == (len(archs),) and got.dtype == np.float64
        np.testing.assert_array_equal(got, np.array(expected, dtype=np.float64))


@FAST
@given(st.one_of(st.floats(), st.none(), st.booleans(), st.complex_numbers()))
def test_tabular_lookup_of_non_architecture_objects(arch):
    with pytest.raises((TypeError, KeyError)):
        TOY.accuracy(arch)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=4))
def test_tabular_lookup_of_bytes_is_refused(arch):
    with pytest.raises((TypeError, KeyError)):
        TOY.accuracy(arch)


@FAST
@given(st.one_of(st.text(max_size=10), st.integers(), st.lists(st.integers())))
def test_tabular_unknown_dataset(dataset):
    with pytest.raises(KeyError, match="unknown dataset"):
        TOY.accuracy(0, dataset=dataset if dataset != "cifar10" else "cifar-10")


# ====================================================================== 7. search inputs
def _embeddings_of_wrong_shape():
    shapes = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=3).filter(
        lambda s: len(s) not in (2, 3) or 0 in s)
    return hnp.arrays(np.float64, shapes, elements=_finite)


@FAST
@given(_embeddings_of_wrong_shape())
def test_optimizer_embeddings_of_wrong_shape(Z):
    with pytest.raises(ValueError, match="embeddings"):
        CandidateOptimizer(Z)


@FAST
@given(st.data(), st.sampled_from([np.nan, np.inf, -np.inf]), st.integers(2, 3))
def test_optimizer_non_finite_embeddings(data, bad, ndim):
    Z = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=ndim, max_dims=ndim,
                                                          min_side=1, max_side=4),
                             elements=_finite))
    Z[data.draw(st.tuples(*(st.integers(0, s - 1) for s in Z.shape)))] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        CandidateOptimizer(Z)


@FAST
@given(st.one_of(
    hnp.arrays(st.sampled_from([np.complex128, np.str_, object]), (3, 2)),
    st.just([[1.0, 2.0], [3.0]]),  # ragged
))
def test_optimizer_embeddings_that_are_not_real_numbers(Z):
    with pytest.raises((TypeError, ValueError), match="embeddings"):
        CandidateOptimizer(Z)


_NOT_VALUES = st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.complex_numbers(),
                        st.builds(object), st.binary(max_size=3))


@FAST
@given(st.integers(0, 9), _NOT_VALUES)
def test_optimizer_tell_refuses_non_numbers_and_keeps_its_state(index, value):
    opt = CandidateOptimizer(np.arange(20.0).reshape(10, 2), n_initial_points=2)
    with pytest.raises(TypeError, match=f"value of candidate {index}"):
        opt.tell(index, value)
    with pytest.raises(TypeError, match=f"value of candidate {index}"):
        opt.tell([(index + 1) % 10, index], [1.0, value])
    assert opt.n_available == 10 and opt.Xi == [] and opt.failed == []  # nothing half-told
    opt.tell(index, 1.5)
    assert opt.Xi == [index] and opt.yi == [1.5]


@FAST
@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=3),
                 st.tuples(st.integers(0, 9), st.integers(0, 9))))
def test_optimizer_tell_of_a_non_candidate(x):
    opt = CandidateOptimizer(np.arange(20.0).reshape(10, 2))
    valid = isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 10
    if valid:
        opt.tell(x, 1.0)
        assert opt.Xi == [x]
    else:
        with pytest.raises((TypeError, IndexError, ValueError)):
            opt.tell(x, 1.0)
        assert opt.Xi == [] and opt.n_available == 10


_SEARCHES = {
    "bayes": lambda: BayesianArchitectureSearch(n_iter=5, n_initial_points=2, random_state=0),
    "random": lambda: RandomArchitectureSearch(n_iter=3, random_state=0),
}


@FEW
@given(st.sampled_from(sorted(_SEARCHES)),
       hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=12),
                  elements=st.floats(allow_nan=True, allow_infinity=True)))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow, for values near 1e308
def test_search_objective_arrays(name, y):
    """``y`` as values: one finite-or-NaN float per candidate, else a ValueError."""
    X = np.arange(20.0).reshape(10, 2)
    valid = y.shape == (10,) and not np.isinf(y).any() and not np.isnan(y).all()
    if not valid:
        with pytest.raises((ValueError, RuntimeError)) as info:
            _SEARCHES[name]().fit(X, y)
        assert "y" in str(info.value) or "evaluations failed" in str(info.value)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # some failed evaluations
        try:
            search = _SEARCHES[name]().fit(X, y)
        except RuntimeError as exc:  # the drawn candidates all have NaN values
            assert "evaluations failed" in str(exc)
            return
        except ValueError as exc:  # values near float64's limits: the GP cannot fit them
            assert "rescale the objective" in str(exc) and np.nanmax(np.abs(y)) > 1e100
            return
    np.testing.assert_array_equal(search.history_["value"], y[search.history_["index"]])
    assert search.best_score_ == np.nanmax(y[search.history_["index"]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_objective_values_the_gp_cannot_fit_are_named():
    """Finite values near float64's limits overflow the GP's standardisation: a clear error,
    not a proposal drawn from a NaN posterior."""
    X = np.random.RandomState(0).normal(size=(50, 2))
    y = np.random.RandomState(1).uniform(-1, 1, 50) * 1e200
    with pytest.raises(ValueError, match=r"posterior is not finite: .*rescale the objective"):
        BayesianArchitectureSearch(n_iter=10, n_initial_points=3, random_state=0).fit(X, y)
    search = BayesianArchitectureSearch(n_iter=10, n_initial_points=3, random_state=0)
    assert search.fit(X, y / 1e198).n_iter_ == 10


# ====================================================================== 8. files
def _checkpointed_search(path):
    return RandomArchitectureSearch(n_iter=8, checkpoint=path, random_state=0)


_CANDIDATES = np.arange(40)
_VALUES = np.linspace(50.0, 90.0, 40)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoint") / "search.json"
    # Interrupt after 5 evaluations, as a kill would.
    calls = []

    def interrupted(i):
        calls.append(i)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return _VALUES[i]

    with pytest.raises(KeyboardInterrupt):
        _checkpointed_search(path).fit(_CANDIDATES, interrupted)
    reference = _checkpointed_search(None).fit(_CANDIDATES, _VALUES).history_["index"]
    return path.read_bytes(), reference


def _resume_from(raw, tmp_path):
    path = tmp_path / "search.json"
    path.write_bytes(raw)
    return _checkpointed_search(path).fit(_CANDIDATES, _VALUES), path


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_corrupted_checkpoint_is_refused_or_harmless(checkpoint_bytes, tmp_path, data):
    """A damaged checkpoint is a ValueError naming the file; never a silent restart, never
    a different search."""
    raw, reference = checkpoint_bytes
    how = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        cut = data.draw(st.integers(0, len(raw) - 1))
        damaged = raw[:cut]
    elif how == "flip":
        at = data.draw(st.integers(0, len(raw) - 1))
        damaged = raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1:]
    else:
        at = data.draw(st.integers(0, len(raw)))
        damaged = raw[:at] + data.draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    try:
        search, _ = _resume_from(damaged, tmp_path)
    except ValueError as exc:
        assert "search.json" in str(exc) and "checkpoint" in str(exc)
        return
    np.testing.assert_array_equal(search.history_["index"], reference)


@pytest.mark.parametrize("edit, match", [
    (lambda c: c["history"]["value"].__setitem__(2, 12.5), "does not match its checksum"),
    (lambda c: c.pop("history"), 'no "history"'),
    (lambda c: c["history"]["index"].pop(), "does not match its checksum"),
    (lambda c: c.update(version=99), "format version 99"),
    (lambda c: c.update(format="something else"), "is not a search checkpoint"),
    (lambda c: c.update(n_candidates=41), "not written by this search"),
])
def test_checkpoint_edits_are_named(checkpoint_bytes, tmp_path, edit, match):
    content = json.loads(checkpoint_bytes[0])
    edit(content)
    with pytest.raises(ValueError, match=match):
        _resume_from(json.dumps(content).encode(), tmp_path)


def test_checkpoint_of_format_1_without_checksum_is_still_checked(checkpoint_bytes, tmp_path):
    content = json.loads(checkpoint_bytes[0])
    content["version"] = 1
    del content["history_sha256"]
    search, _ = _resume_from(json.dumps(content).encode(), tmp_path)
    np.testing.assert_array_equal(search.history_["index"], checkpoint_bytes[1])
    content["history"]["error"].pop()
    with pytest.raises(ValueError, match="different lengths"):
        _resume_from(json.dumps(content).encode(), tmp_path)
    content["history"]["error"].append(None)
    content["history"]["index"][0] = 40
    with pytest.raises(ValueError, match=r"candidate 40, not an index in 0\.\.39"):
        _resume_from(json.dumps(content).encode(), tmp_path)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_search_curves_file_truncated(tmp_path, data):
    curves = SearchCurves(method="m", benchmark="b", dataset=None, seeds=(0, 1),
                          best_so_far=np.array([[1.0, 2.0], [np.nan, 3.0]]),
                          queried=np.array([[3, 4], [5, 6]]), optimum=3.0, optimum_index=6)
    path = tmp_path / "curves.json"
    curves.to_json(path)
    raw = path.read_bytes()
    path.write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1))])
    with pytest.raises(ValueError, match=r"curves\.json"):
        SearchCurves.from_json(path)


def test_missing_files_are_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        SearchCurves.from_json(tmp_path / "nope.json")
    # A missing checkpoint starts a search (it is where the search will write).
    search = _checkpointed_search(tmp_path / "new.json").fit(_CANDIDATES, _VALUES)
    assert (tmp_path / "new.json").exists() and search.n_iter_ == 8
