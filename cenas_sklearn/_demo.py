"""The demo of ``cenas demo``: the whole method, offline, on a CPU, in a few minutes.

1. sample architectures of NAS-Bench-201 (one per isomorphism class);
2. compute their EPDJMs at a small CPU setting;
3. train the contrastive embedder on them;
4. search the sample for the most accurate architecture: Bayesian optimisation on the
   embeddings against random search with the same budget, the objective being either real
   training on scikit-learn's digits (default) or a benchmark table (``benchmark=``);
5. write a JSON report and a PNG figure (search curves; the embedding map).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

#: The EPDJM setting of the demo: small enough for a CPU, large enough to tell networks apart.
DEMO_EPDJM = dict(n_inits=3, n_probe=32, probe_size=16, n_components=16)
#: The candidate networks trained by the demo's objective (NB201 cells, 3 stages of one cell).
DEMO_TRAINING = dict(C=8, N=1, max_iter=1, batch_size=64)

REPORT_FORMAT = "cenas_sklearn.demo.report"


class _Progress:
    """One line per stage, with the time it took."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.start = time.perf_counter()
        self.timings = {}

    def say(self, message):
        if self.verbose:
            print(message, flush=True)

    def stage(self, name, seconds):
        self.timings[name] = round(seconds, 2)


def _best_so_far(values):
    values = np.asarray(values, dtype=float)
    clean = np.where(np.isnan(values), -np.inf, values)
    best = np.maximum.accumulate(clean)
    return np.where(np.isinf(best), np.nan, best)


def _nan_to_none(values):
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v)
            for v in values]


def run_demo(*, n_archs=200, n_evaluations=20, n_initial_points=5, train_epochs=None,
             embed_epochs=150, benchmark=None, dataset=None, n_seeds=None, seed=0,
             out="cenas-demo", n_jobs=None, verbose=1):
    """Run the method end to end and write ``report.json`` and ``demo.png`` under ``out``.

    Parameters
    ----------
    n_archs : int, default=200
        NB201 architectures sampled (the candidates of the search), one per isomorphism class.
    n_evaluations : int, default=20
        Evaluations of the objective per search.
    n_initial_points : int, default=5
        Random evaluations before the Gaussian process is used.
    train_epochs : int, default=None
        Epochs of training per candidate (objective on the digits); default:
        ``DEMO_TRAINING["max_iter"]``.
    embed_epochs : int, default=150
        Epochs of contrastive training.
    benchmark : TabularBenchmark, default=None
        Replay the searches on this table (NB201) instead of training on the digits; each
        search then runs over ``n_seeds`` seeds.
    dataset : str, default=None
        The benchmark's dataset; default: its first.
    n_seeds : int, default=None
        Seeds per search on a benchmark (default: 10); on the digits, one.
    seed : int, default=0
        Seeds the sample, the features, the embedder and the searches.
    out : str or path-like, default="cenas-demo"
        Folder of the report and the figure.
    n_jobs : int, default=None
        Parallel architectures for the EPDJMs.
    verbose : int, default=1
        Print progress.

    Returns
    -------
    report : dict
        What ``report.json`` holds.
    """
    from .embedding import ContrastiveEmbedder
    from .features import EPDJMTransformer, ZeroJacobianWarning
    from .search import (
        BayesianArchitectureSearch,
        BenchmarkObjective,
        RandomArchitectureSearch,
        simulate,
    )
    from .spaces import NB201Space

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = _Progress(verbose)
    space = NB201Space()
    if n_archs > len(space.representative_indices()):
        raise ValueError(f"n_archs={n_archs} exceeds the "
                         f"{len(space.representative_indices())} distinct NB201 architectures")
    if n_evaluations > n_archs:
        raise ValueError(f"n_evaluations={n_evaluations} exceeds n_archs={n_archs}")
    archs = space.sample(n_archs, random_state=seed, unique=True)

    # 1-2. EPDJMs -------------------------------------------------------------------------
    epdjm = EPDJMTransformer(space="nb201", **DEMO_EPDJM, n_jobs=n_jobs, random_state=seed,
                             verbose=verbose)
    log.say(f"[1/4] EPDJMs of {n_archs} NB201 architectures ({DEMO_EPDJM['n_inits']} inits, "
            f"{DEMO_EPDJM['n_probe']} probes of {DEMO_EPDJM['probe_size']}x"
            f"{DEMO_EPDJM['probe_size']}, k={DEMO_EPDJM['n_components']})")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ZeroJacobianWarning)
        features = epdjm.fit_transform(archs)
    n_zero = sum(issubclass(w.category, ZeroJacobianWarning) for w in caught)
    log.stage("epdjm", time.perf_counter() - start)
    log.say(f"      done in {log.timings['epdjm']:.1f} s"
            + (f" ({n_zero} networks ignore their input: zero features)" if n_zero else ""))

    # 3. contrastive embedding ----------------------------------------------------------
    log.say(f"[2/4] contrastive embedder, {embed_epochs} epochs")
    start = time.perf_counter()
    embedder = ContrastiveEmbedder(feature_shape=epdjm.feature_shape_, max_iter=embed_epochs,
                                   random_state=seed)
    embeddings = embedder.fit_transform(features)
    identification = float(embedder.score(features))
    log.stage("embedding", time.perf_counter() - start)
    log.say(f"      done in {log.timings['embedding']:.1f} s; identification accuracy "
            f"{identification:.2f} (an architecture recognised among {n_archs} from another "
            "initialisation)")

    # 4. searches -------------------------------------------------------------------------
    bo = BayesianArchitectureSearch(n_iter=n_evaluations, n_initial_points=n_initial_points,
                                    random_state=seed)
    rs = RandomArchitectureSearch(n_iter=n_evaluations, random_state=seed)
    methods = {"BO on embeddings": (bo, embeddings), "random search": (rs, None)}
    runs = {}
    start = time.perf_counter()
    if benchmark is not None:
        dataset = dataset if dataset is not None else benchmark.datasets[0]
        objective_name = f"{benchmark.name} table, {dataset}"
        seeds = list(range(seed, seed + (10 if n_seeds is None else n_seeds)))
        log.say(f"[3/4] searches replayed on the {objective_name} table: {n_evaluations} "
                f"evaluations, {len(seeds)} seeds each")
        values = BenchmarkObjective(benchmark, dataset, architectures=archs).values()
        for name, (search, X) in methods.items():
            curves = simulate(search, benchmark, dataset, X=X, architectures=archs,
                              n_queries=n_evaluations, seeds=seeds, method=name)
            runs[name] = {"best_so_far": curves.best_so_far, "queried": curves.queried}
    else:
        from .benchmarks import TrainingObjective, load_digits_images

        epochs = DEMO_TRAINING["max_iter"] if train_epochs is None else train_epochs
        X_img, y_img = load_digits_images(size=DEMO_EPDJM["probe_size"])
        objective = TrainingObjective(
            X_img, y_img, space=space, architectures=archs, C=DEMO_TRAINING["C"],
            N=DEMO_TRAINING["N"], max_iter=epochs, batch_size=DEMO_TRAINING["batch_size"],
            random_state=seed)
        objective_name = (f"validation accuracy on scikit-learn's digits after {epochs} "
                          f"epoch{'s' if epochs > 1 else ''} of training")
        seeds = [seed]
        log.say(f"[3/4] searches training each candidate on the digits: {n_evaluations} "
                "evaluations each")
        for name, (search, X) in methods.items():
            log.say(f"      {name}")
            search.set_params(verbose=verbose)
            search.fit(archs if X is None else X, objective)
            values = search.history_["value"]
            runs[name] = {"best_so_far": _best_so_far(values)[None, :],
                          "queried": search.history_["index"][None, :],
                          "values": values}
        values = np.full(n_archs, np.nan)
        for run in runs.values():
            values[run["queried"][0]] = run["values"]
    log.stage("search", time.perf_counter() - start)

    # 5. report and figure -----------------------------------------------------------------
    report = _report(archs, runs, values, objective_name, seeds, identification, n_zero,
                     n_evaluations, log, embedder, epdjm)
    figure = _figure(runs, embeddings, values, objective_name, out / "demo.png")
    report["figure"] = str(figure) if figure is not None else None
    log.stage("total", time.perf_counter() - log.start)
    report["timings_s"] = log.timings
    (out / "report.json").write_text(json.dumps(report, indent=1))
    _print_table(report, log)
    log.say(f"[4/4] report: {out / 'report.json'}"
            + (f"; figure: {figure}" if figure is not None else
               " (no figure: install the [plot] extra for matplotlib)"))
    return report


def _report(archs, runs, values, objective_name, seeds, identification, n_zero, n_evaluations,
            log, embedder, epdjm):
    from ._version import __version__

    methods = {}
    for name, run in runs.items():
        best = run["best_so_far"]
        finals = best[:, -1]
        checkpoints = {str(n): float(np.nanmean(best[:, n - 1]))
                       for n in sorted({max(1, n_evaluations // 4), n_evaluations // 2,
                                        n_evaluations}) if n >= 1}
        first = run["queried"][0]
        top = int(first[np.nanargmax(np.where(np.isnan(values[first]), -np.inf,
                                              values[first]))])
        methods[name] = {
            "mean_best": float(np.nanmean(finals)), "std_best": float(np.nanstd(finals)),
            "mean_best_after": checkpoints,
            "first_seed": {"best_architecture": archs[top], "best_value": float(values[top]),
                           "queried": [archs[i] for i in first],
                           "values": _nan_to_none(values[first])},
        }
    return {
        "format": REPORT_FORMAT, "version": 1, "cenas_sklearn_version": __version__,
        "objective": objective_name, "n_architectures": len(archs),
        "n_evaluations": n_evaluations, "seeds": seeds,
        "epdjm": {k: getattr(epdjm, k) for k in DEMO_EPDJM},
        "embedder": {"epochs": int(embedder.n_iter_), "embedding_dim": embedder.embedding_dim,
                     "identification_accuracy": identification,
                     "final_loss": float(embedder.loss_curve_[-1])},
        "zero_jacobian_architectures": n_zero,
        "best_among_evaluated": (float(np.nanmax(values)) if np.isfinite(values).any()
                                 else None),
        "methods": methods,
    }


def _print_table(report, log):
    log.say("")
    log.say(f"objective: {report['objective']}")
    log.say(f"{'method':<18} {'mean best':>9} {'(std)':>7}   best so far after n evaluations")
    for name, m in report["methods"].items():
        after = "  ".join(f"n={n}: {v:.2f}" for n, v in m["mean_best_after"].items())
        log.say(f"{name:<18} {m['mean_best']:>9.2f} ({m['std_best']:>5.2f})   {after}")
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in report["timings_s"].items() if k != "total")
    log.say(f"total time {report['timings_s']['total']:.0f} s ({stages})")


def _figure(runs, embeddings, values, objective_name, path):
    """Search curves and the embedding map; None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, run in runs.items():
        best = run["best_so_far"]
        n = np.arange(1, best.shape[1] + 1)
        mean = np.nanmean(best, axis=0)
        seeds = f"{best.shape[0]} seed" + ("s" if best.shape[0] > 1 else "")
        (line,) = left.plot(n, mean, marker="o", markersize=3, label=f"{name} ({seeds})")
        if best.shape[0] > 1:
            std = np.nanstd(best, axis=0)
            left.fill_between(n, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    left.xaxis.get_major_locator().set_params(integer=True)
    left.set_xlabel("number of evaluations")
    left.set_ylabel("best accuracy so far (%)")
    left.set_title("search", fontsize=10)
    left.legend()

    coords = PCA(n_components=2, random_state=0).fit_transform(embeddings)
    known = np.isfinite(values)
    right.scatter(coords[~known, 0], coords[~known, 1], c="lightgrey", s=12,
                  label="not evaluated")
    points = right.scatter(coords[known, 0], coords[known, 1], c=values[known], cmap="viridis",
                           s=40, edgecolors="k", linewidths=0.5, label="evaluated")
    fig.colorbar(points, ax=right, label="accuracy (%)")
    right.set_xlabel("PCA 1")
    right.set_ylabel("PCA 2")
    right.set_title("contrastive embedding of the candidates", fontsize=10)
    right.legend(loc="best", fontsize=8)
    fig.suptitle(objective_name, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
