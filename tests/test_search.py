"""Architecture search: the skopt ask/tell contract, the estimators, baselines and harness."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor as SKGaussianProcessRegressor
from skopt.learning.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    Matern,
    RationalQuadratic,
    WhiteKernel,
)
from skopt.space import Space
from skopt.utils import OptimizeResult

from cenas_sklearn.benchmarks import TabularBenchmark, fetch_nb201
from cenas_sklearn.search import (
    BayesianArchitectureSearch,
    BenchmarkObjective,
    CandidateOptimizer,
    RandomArchitectureSearch,
    RegularizedEvolution,
    SearchCurves,
    plot_curves,
    simulate,
)
from cenas_sklearn.search._gp import fit_gp, posterior, squared_distances
from cenas_sklearn.spaces import NB201Space

from ._data import require_shared


@pytest.fixture(scope="module")
def smooth():
    """200 candidates in 3-D; the objective is a smooth bump with a unique maximum."""
    X = np.random.RandomState(0).uniform(-1, 1, size=(200, 3))
    y = 90.0 - 10.0 * np.sum((X - 0.3) ** 2, axis=1)
    return X, y


@pytest.fixture(scope="module")
def space():
    return NB201Space()


@pytest.fixture(scope="module")
def toy_bench(space):
    """A table over NB201 whose accuracy grows with the number of 3x3 convolutions."""
    onehot = space.onehot(space)
    noise = np.random.RandomState(1).uniform(0, 1, size=len(space))
    acc = 60 + 5 * onehot[:, 3::5].sum(axis=1) + 2 * onehot[:, 2::5].sum(axis=1) + noise
    return TabularBenchmark(space, {"toy10": acc}, name="toy")


def small_bo(**params):
    defaults = dict(n_iter=15, n_initial_points=4, random_state=0)
    return BayesianArchitectureSearch(**{**defaults, **params})


# ---------------------------------------------------------------------- ask / tell
def test_ask_tell_contract(smooth):
    X, y = smooth
    opt = CandidateOptimizer(X, n_initial_points=3, maximize=True, random_state=0)
    x = opt.ask()
    assert isinstance(x, int) and 0 <= x < len(X)
    assert opt.ask() == x and opt.ask(1) == [x]  # no tell: the same proposal
    assert opt.tell(x, y[x]).x == [x]
    assert opt.ask() != x
    with pytest.raises(ValueError, match="already told"):
        opt.tell(x, 1.0)
    with pytest.raises(IndexError, match="out of range"):
        opt.tell(len(X), 1.0)
    with pytest.raises(TypeError, match="integer index"):
        opt.tell(1.5, 1.0)
    assert not opt.models  # the random phase: no GP yet
    opt.tell([[5], [6]], [y[5], y[6]])  # skopt's one-element points, in a batch
    assert opt.Xi == [x, 5, 6] and opt.yi == list(y[[x, 5, 6]])
    assert len(opt.models) == 1 and opt.models[-1].X_train_.shape == (3, 3)
    nxt = opt.ask()
    opt.tell([nxt], y[nxt], fit=False)
    assert len(opt.models) == 1  # fitted at the next ask instead
    opt.ask()
    assert len(opt.models) == 2 and opt.models[-1].X_train_.shape == (4, 3)
    with pytest.raises(ValueError, match="strategy"):
        opt.ask(2, strategy="cl_median")
    with pytest.raises(ValueError, match="n_points"):
        opt.ask(0)


def test_never_repeats_then_clear_error(smooth):
    X, y = smooth
    opt = CandidateOptimizer(X[:12], n_initial_points=3, random_state=0)
    seen = []
    for _ in range(12):
        x = opt.ask()
        seen.append(x)
        opt.tell(x, y[x])
    assert sorted(seen) == list(range(12))
    assert opt.n_available == 0
    with pytest.raises(RuntimeError, match="only 0 of the 12 candidates are left"):
        opt.ask()


@pytest.mark.parametrize("strategy", ["cl_min", "cl_mean", "cl_max"])
def test_batch_proposals_are_distinct(smooth, strategy):
    X, y = smooth
    opt = CandidateOptimizer(X, n_initial_points=3, random_state=0)
    first = opt.ask(n_points=4, strategy=strategy)  # straddles the random phase
    assert len(set(first)) == 4
    opt.tell(first, list(y[first]))
    batch = opt.ask(n_points=5, strategy=strategy)
    assert len(set(batch)) == 5 and not set(batch) & set(first)
    assert opt.ask(n_points=5, strategy=strategy) == batch  # cached until tell
    assert len(opt.models) == 1  # the lies were told to temporary models only
    with pytest.raises(RuntimeError, match="cannot propose 500"):
        opt.ask(n_points=500)


@pytest.mark.parametrize("acq_func", ["EI", "PI", "LCB", "gp_hedge"])
def test_acquisition_functions_find_the_optimum(smooth, acq_func):
    X, y = smooth
    opt = CandidateOptimizer(X, acq_func=acq_func, n_initial_points=5, maximize=True,
                             random_state=0)
    result = opt.run(lambda i: y[i], n_iter=30)
    assert y[result.x[0]] >= np.sort(y)[-3]  # one of the three best of 200
    assert len(set(opt.Xi)) == 30
    if acq_func == "gp_hedge":
        assert opt.gains_.shape == (3,) and np.any(opt.gains_ != 0)


def test_random_subset_of_candidates(smooth):
    X, y = smooth
    opt = CandidateOptimizer(X, acq_subset_size=20, n_initial_points=3, random_state=0)
    opt.run(lambda i: y[i], n_iter=15)
    assert len(set(opt.Xi)) == 15


# ---------------------------------------------------------------------- the GP's posterior
@pytest.mark.parametrize("kernel", [
    ConstantKernel(2.0) * Matern(length_scale=0.7, nu=2.5) + WhiteKernel(0.1),
    ConstantKernel(1.0) * Matern(length_scale=0.5, nu=1.5),
    ConstantKernel(1.0) * Matern(length_scale=0.5, nu=0.5),
    RBF(length_scale=0.8) + WhiteKernel(0.05),
    RationalQuadratic(length_scale=0.6, alpha=2.0),
    Matern(length_scale=[0.5, 1.0, 2.0], nu=2.5),  # anisotropic: the generic path
])
def test_posterior_equals_skopt_predict(smooth, kernel):
    X, y = smooth
    train, query = X[:30], X[30:]
    gp = fit_gp(kernel, train, y[:30], fit_hyperparameters=True, n_restarts_optimizer=0,
                normalize_y=True, random_state=0)
    sq = squared_distances(query, train, (query ** 2).sum(1), (train ** 2).sum(1))
    mean, var = posterior(gp, query, train, sq)
    # scikit-learn's predict (through the Cholesky factor); skopt's own predict inverts the
    # kernel matrix and is off when it is ill-conditioned, as for the first kernel here.
    expected_mean, expected_std = SKGaussianProcessRegressor.predict(gp, query, return_std=True)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(var), expected_std, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------- the estimator
def test_determinism_per_seed(smooth):
    X, y = smooth
    a = small_bo(random_state=3).fit(X, y).history_["index"]
    b = small_bo(random_state=3).fit(X, y).history_["index"]
    c = small_bo(random_state=4).fit(X, y).history_["index"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_failures_are_recorded_and_skipped(smooth):
    X, y = smooth
    calls = []

    def objective(i):
        calls.append(i)
        if i % 5 == 0:
            raise RuntimeError(f"training of {i} diverged")
        if i % 5 == 1:
            return float("nan")
        return y[i]

    with pytest.warns(UserWarning, match="evaluations failed and were skipped"):
        search = small_bo(n_iter=40).fit(X, objective)
    h = search.history_
    assert len(h["index"]) == 40 and len(set(h["index"])) == 40 == len(calls)
    failed = h["index"] % 5 <= 1
    assert failed.any() and np.isnan(h["value"][failed]).all()
    assert not np.isnan(h["value"][~failed]).any()
    assert all("diverged" in h["error"][k] for k in np.flatnonzero(h["index"] % 5 == 0))
    assert all(h["error"][k] == "returned nan" for k in np.flatnonzero(h["index"] % 5 == 1))
    assert all(e is None for e in np.asarray(h["error"], dtype=object)[~failed])
    assert search.best_score_ == np.max(h["value"][~failed])
    assert search.result_.models[-1].X_train_.shape[0] == (~failed).sum()
    assert len(search.result_.x_iters) == (~failed).sum()

    with pytest.raises(RuntimeError, match="all 15 evaluations failed"):
        small_bo().fit(X, lambda i: 1 / 0)


def test_objective_as_values_and_bad_values(smooth):
    X, y = smooth
    search = small_bo().fit(X, y)
    assert search.best_score_ == y[search.best_index_]
    with pytest.raises(ValueError, match="requires y to be passed"):
        small_bo().fit(X, None)
    with pytest.raises(ValueError, match="one objective value per candidate"):
        small_bo().fit(X, y[:-1])
    with pytest.raises(ValueError, match="3-D array"):
        small_bo().fit(X[:, :, None, None], y)


def test_result_is_a_skopt_result_and_plots(smooth, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from skopt.plots import plot_convergence

    X, y = smooth
    search = small_bo().fit(X, y)
    res = search.result_
    assert isinstance(res, OptimizeResult) and isinstance(res.space, Space)
    assert res.space.dimensions[0].bounds == (0, len(X) - 1)
    assert res.x == [search.best_index_] and res.fun == -search.best_score_
    np.testing.assert_array_equal(res.func_vals, -y[search.history_["index"]])
    assert res.x_iters == [[int(i)] for i in search.history_["index"]]
    assert res.specs["function"] == "BayesianArchitectureSearch.fit"
    assert res.specs["args"]["n_iter"] == 15 and res.random_state is not None
    assert len(res.models) == 1
    ax = plot_convergence(res)
    assert len(ax.lines[0].get_xdata()) == 15
    np.testing.assert_allclose(ax.lines[0].get_ydata()[-1], -search.best_score_)
    plt.close("all")


def test_maximize_semantics(smooth):
    X, y = smooth
    up = small_bo(maximize=True).fit(X, y)
    down = small_bo(maximize=False).fit(X, -y)
    np.testing.assert_array_equal(up.history_["index"], down.history_["index"])
    assert up.best_score_ == -down.best_score_ == np.max(y[up.history_["index"]])
    assert up.result_.fun == down.result_.fun == -up.best_score_


def test_groups_exclude_the_class_of_evaluated_candidates(smooth):
    X, y = smooth
    groups = np.arange(len(X)) // 4  # 50 classes of 4
    search = small_bo(n_iter=60).fit(X, y, groups=groups)
    evaluated = groups[search.history_["index"]]
    assert search.n_iter_ == 50 and len(set(evaluated)) == 50  # one per class, then stop
    opt = CandidateOptimizer(X, groups=groups, n_initial_points=2, random_state=0)
    batch = opt.ask(n_points=10)
    assert len(set(groups[batch])) == 10
    with pytest.raises(ValueError, match="one label per candidate"):
        small_bo().fit(X, y, groups=groups[:-1])


def test_per_init_embeddings(smooth):
    X, y = smooth
    inits = np.stack([X, X + 0.05, X - 0.05], axis=1)  # (200, 3 inits, 3)
    search = small_bo(n_iter=20).fit(inits, y)
    gp = search.result_.models[-1]
    assert gp.X_train_.shape == (3 * 20, 3)  # one GP point per init of each evaluation
    assert search.n_features_in_ == 3
    assert y[search.best_index_] >= np.sort(y)[-5]
    opt = CandidateOptimizer(inits, n_initial_points=3, random_state=0)
    opt.tell([0, 1, 2], list(y[:3]))
    mean, std = opt._posterior(opt.models[-1], opt.Xi, np.arange(10))
    per_row_mean, per_row_std = SKGaussianProcessRegressor.predict(
        opt.models[-1], opt._Z[:30], return_std=True)
    np.testing.assert_allclose(mean, per_row_mean.reshape(10, 3).mean(axis=1))
    np.testing.assert_allclose(std ** 2, (per_row_std ** 2).reshape(10, 3).mean(axis=1),
                               atol=1e-10)
    # per_init=False averages the inits first: the same search as on the mean embedding.
    averaged = small_bo(per_init=False).fit(inits, y).history_["index"]
    np.testing.assert_array_equal(averaged, small_bo().fit(inits.mean(axis=1), y)
                                  .history_["index"])


def test_benchmark_objective_isomorphism_groups_and_verbose(space, toy_bench, capsys):
    archs = [space[i] for i in range(0, len(space), 25)]  # 625 architectures
    groups = [space.isomorphism_key(a) for a in archs]
    objective = BenchmarkObjective(toy_bench, "toy10", architectures=archs)
    search = small_bo(n_iter=12, verbose=1).fit(space.onehot(archs), objective, groups=groups)
    keys = [groups[i] for i in search.history_["index"]]
    assert len(set(keys)) == 12  # never two architectures computing the same function
    assert search.best_score_ == toy_bench.accuracy(archs[search.best_index_], "toy10")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12 and lines[-1].startswith("[BayesianArchitectureSearch] 12/12 ")


def test_batches_evaluated_in_threads(smooth):
    X, y = smooth
    search = small_bo(n_iter=17, batch_size=4, n_jobs=2).fit(X, y)
    assert search.n_iter_ == 17 and len(set(search.history_["index"])) == 17


def test_checkpoint_resume_replays_the_same_search(smooth, tmp_path):
    X, y = smooth
    path = tmp_path / "search.json"
    reference = small_bo(n_iter=12).fit(X, y).history_["index"]

    def interrupted(i, calls=[]):  # noqa: B006 - counts calls across the run
        calls.append(i)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return y[i]

    with pytest.raises(KeyboardInterrupt):
        small_bo(n_iter=12, checkpoint=path).fit(X, interrupted)
    saved = json.loads(path.read_text())
    assert len(saved["history"]["index"]) == 7
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind

    calls = []
    resumed = small_bo(n_iter=12, checkpoint=str(path)).fit(
        X, lambda i: calls.append(i) or y[i])
    np.testing.assert_array_equal(resumed.history_["index"], reference)
    assert calls == list(reference[7:])  # only the missing evaluations were made
    assert len(json.loads(path.read_text())["history"]["index"]) == 12

    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"holds 12 evaluations, more than n_iter=10; resume "
                                         r"with n_iter >= 12"):
        small_bo(n_iter=10, checkpoint=path).fit(X, y)
    assert path.read_bytes() == before  # a smaller n_iter never truncates the record
    more = small_bo(n_iter=14, checkpoint=path).fit(X, y)  # a larger one extends it
    np.testing.assert_array_equal(more.history_["index"][:12], reference)
    assert len(json.loads(path.read_text())["history"]["index"]) == 14

    with pytest.raises(ValueError, match="does not match this search"):
        small_bo(n_iter=14, random_state=1, checkpoint=path).fit(X, y)
    with pytest.raises(ValueError, match="was not written by this search"):
        small_bo(checkpoint=path).fit(X + 1, y)


def test_bo_beats_random_search_on_a_smooth_problem():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 4))
    y = -np.sum((X - 0.2) ** 2, axis=1)
    seeds = range(3)
    bo = [BayesianArchitectureSearch(n_iter=30, n_initial_points=5, random_state=s)
          .fit(X, y).best_score_ for s in seeds]
    rs = [RandomArchitectureSearch(n_iter=30, random_state=s).fit(X, y).best_score_
          for s in seeds]
    regret_bo, regret_rs = y.max() - np.array(bo), y.max() - np.array(rs)
    assert regret_bo.mean() < 0.25 * regret_rs.mean()
    assert np.sum(regret_bo == 0) >= 2  # the optimum of 400, in 30 queries, 2 seeds of 3


# ---------------------------------------------------------------------- baselines
def test_random_search_samples_without_replacement(smooth):
    X, y = smooth
    search = RandomArchitectureSearch(n_iter=len(X) + 10, random_state=0).fit(X, y)
    assert sorted(search.history_["index"]) == list(range(len(X)))  # all, once each
    assert search.best_index_ == np.argmax(y)
    a = RandomArchitectureSearch(n_iter=30, random_state=1).fit(list("abcdefghij" * 4), y[:40])
    assert len(set(a.history_["index"])) == 30
    groups = np.arange(len(X)) % 7
    g = RandomArchitectureSearch(n_iter=20, random_state=0).fit(X, y, groups=groups)
    assert sorted(groups[g.history_["index"]]) == list(range(7))


def test_regularized_evolution_mutates_one_edge(space, toy_bench):
    values = toy_bench.table("toy10")
    rea = RegularizedEvolution(population_size=10, sample_size=3, n_iter=80, random_state=0)
    rea.fit(np.arange(len(space)), values)
    h = rea.history_
    assert len(set(h["index"])) == 80
    assert (h["parent"][:10] == -1).all() and (h["parent"][10:] >= 0).all()
    for child, parent in zip(h["index"][10:], h["parent"][10:], strict=True):
        assert space[child] in space.neighbours(space[parent])
        assert parent in h["index"][:list(h["index"]).index(child)]  # evaluated before
    assert rea.best_score_ > np.sort(values[h["index"][:10]])[-1]  # evolution improved

    strings = [space[i] for i in range(0, len(space), 3)]  # a subset, as strings
    sub = RegularizedEvolution(population_size=5, sample_size=2, n_iter=30, random_state=0)
    sub.fit(strings, lambda i: values[space.index(strings[i])])
    for child, parent in zip(sub.history_["index"], sub.history_["parent"], strict=True):
        if parent >= 0:
            assert strings[child] in space.neighbours(strings[parent])
    with pytest.raises(ValueError, match="more than once"):
        sub.fit(strings + strings[:1], lambda i: 1.0)


def test_regularized_evolution_in_the_size_space():
    from cenas_sklearn.spaces import NATSSizeSpace

    sss = NATSSizeSpace()
    X = np.arange(0, len(sss), 2)  # half of the space
    score = np.array([sum(map(int, sss[i].split(":"))) for i in X], dtype=float)
    rea = RegularizedEvolution(space="sss", population_size=8, sample_size=3, n_iter=30,
                               random_state=0).fit(X, score)
    for child, parent in zip(rea.history_["index"], rea.history_["parent"], strict=True):
        if parent >= 0:
            assert sss[X[child]] in sss.neighbours(sss[X[parent]])


# ---------------------------------------------------------------------- harness
def test_simulate_curves_json_and_plot(space, toy_bench, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    onehot = space.onehot(space)
    path = tmp_path / "bo.json"
    runs = {
        "random": simulate(RandomArchitectureSearch(), toy_bench, n_queries=15, seeds=2),
        "rea": simulate(RegularizedEvolution(population_size=5, sample_size=2), toy_bench,
                        n_queries=15, seeds=[5, 7]),
        "bo": simulate(lambda seed: BayesianArchitectureSearch(n_initial_points=5,
                                                               random_state=seed),
                       toy_bench, X=onehot, n_queries=15, seeds=2, path=path),
    }
    for curves in runs.values():
        assert curves.best_so_far.shape == curves.queried.shape == (2, 15)
        assert (curves.regret >= 0).all() and (np.diff(curves.best_so_far, axis=1) >= 0).all()
        assert curves.optimum == toy_bench.optimum()[1]
        assert curves.mean.shape == curves.std.shape == curves.median.shape == (15,)
        for row, queried in zip(curves.best_so_far, curves.queried, strict=True):
            assert row[-1] == toy_bench.table()[queried].max()
    assert runs["rea"].seeds == (5, 7) and runs["bo"].seeds == (0, 1)
    assert runs["bo"].summary(15)["n_seeds"] == 2

    loaded = SearchCurves.from_json(path)
    assert json.loads(path.read_text())["seeds"] == [0, 1]
    np.testing.assert_array_equal(loaded.best_so_far, runs["bo"].best_so_far)
    np.testing.assert_array_equal(loaded.queried, runs["bo"].queried)
    assert (loaded.method, loaded.dataset, loaded.optimum) == \
        ("BayesianArchitectureSearch", "toy10", runs["bo"].optimum)

    ax = plot_curves(runs)
    assert len(ax.get_lines()) == 4  # three means and the optimum
    ax = plot_curves(list(runs.values()), regret=True, ax=plt.figure().gca(), band="quartiles")
    assert ax.get_yscale() == "log" and ax.get_ylabel().startswith("median regret")
    plt.close("all")


def test_simulate_counts_failures_and_exhaustion(space):
    acc = np.full(len(space), np.nan)
    acc[:6] = [50, 70, 60, 90, 80, 40]
    bench = TabularBenchmark(space, {"c": acc}, name="sparse")
    archs = list(range(10))  # 4 of them without a value
    with pytest.warns(UserWarning, match="failed"):
        curves = simulate(RandomArchitectureSearch(), bench, architectures=archs,
                          n_queries=12, seeds=3)
    assert curves.optimum == 90 and curves.optimum_index == 3
    np.testing.assert_array_equal(curves.best_so_far[:, -1], 90)  # all 10 tried
    assert (curves.queried[:, 10:] == -1).all()
    assert BenchmarkObjective(bench, "c", architectures=[3, 7])(0) == 90
    with pytest.raises(KeyError, match="no c accuracy"):
        BenchmarkObjective(bench, "c", architectures=[3, 7])(1)


def test_simulate_on_the_real_nb201_table():
    folder = require_shared("nb201-lighton")
    bench = fetch_nb201(data_home=folder.parent, download_if_missing=False)
    curves = simulate(RandomArchitectureSearch(), bench, "cifar10", n_queries=20, seeds=3)
    assert (curves.optimum_index, curves.optimum) == bench.optimum("cifar10")
    assert curves.optimum == pytest.approx(94.41, abs=0.01)
    assert (curves.regret >= 0).all() and curves.best_so_far.shape == (3, 20)
    assert 85 < curves.mean[-1] <= 94.41
