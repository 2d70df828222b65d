"""Architecture search: cost of a Bayesian step, and the baselines on NAS-Bench-201.

1. Cost of one BO step (GP fit with hyperparameter optimisation + expected improvement over
   every unevaluated candidate) at 150 observations, 15,625 candidates of dimension 256
   (random embeddings), with skopt's GP and a Matern kernel. Target: <= 0.5 s.
2. Replays on the NAS-Bench-201 table (objective: the table's test accuracy; score: the best
   accuracy seen so far) of random search, regularised evolution (population 30, sample 10)
   and GP-BO on the one-hot operation encoding, and optionally BO on features given as
   ``NAME=FILE.npy`` aligned with the NB201 indices ((15625, d) or (15625, n_inits, d)):
   the contrastive embeddings of ``cenas embed``, the spectral features..., at 100
   queries, printed beside the reference figures. Each BO-on-features method is then
   compared with the better of REA and one-hot GP-BO at the last query (difference of the
   means and its standard error over the seeds; within two standard errors is a match) and
   with random search at 25 and 50 queries. Curves are written as JSON (and a PNG
   with ``--plot``) under ``--out``.

    python benchmarks/bench_search.py                      # timing + 3 seeds (quick)
    python benchmarks/bench_search.py --seeds 30           # the full comparison
    python benchmarks/bench_search.py --skip-timing --seeds 30 \
        --embeddings "embedding GP-BO=nb201-emb/nb201-cpu.npy" "spectral GP-BO=spectral.npy"
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from cenas_sklearn.benchmarks import fetch_nb201
from cenas_sklearn.search import (
    BayesianArchitectureSearch,
    CandidateOptimizer,
    RandomArchitectureSearch,
    RegularizedEvolution,
    plot_curves,
    simulate,
)
from cenas_sklearn.spaces import NB201Space

# Mean best test accuracy after 100 queries (the reference protocol).
REFERENCE = {
    "cifar10": {"random": 93.88, "REA": 94.22, "one-hot GP-BO": 94.20, "optimum": 94.41},
    "cifar100": {"random": 71.72, "REA": 73.14, "one-hot GP-BO": 73.26, "optimum": 73.66},
}


def shared_data() -> Path:
    env = os.environ.get("CENAS_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def time_bo_step(n_candidates=15625, dim=256, n_obs=150, repeats=5, seed=0):
    """Seconds of one BO step at ``n_obs`` observations: fit (tell) and EI (ask)."""
    rng = np.random.RandomState(seed)
    emb = rng.normal(size=(n_candidates, dim))
    w = rng.normal(size=dim) / np.sqrt(dim)
    values = 70 + 5 * np.tanh(emb @ w) + 0.2 * rng.normal(size=n_candidates)
    opt = CandidateOptimizer(emb, maximize=True, random_state=seed)
    first = rng.choice(n_candidates, n_obs - 1, replace=False)
    opt.tell(list(first), list(values[first]), fit=False)
    opt.ask()  # fits the GP and fills the distance cache (in a search it fills step by step)
    fits, asks = [], []
    for _ in range(repeats):
        x = opt.ask()
        start = time.perf_counter()
        opt.tell(x, values[x])  # GP fit with hyperparameter optimisation
        middle = time.perf_counter()
        opt.ask()  # posterior + EI over all unevaluated candidates
        end = time.perf_counter()
        fits.append(middle - start)
        asks.append(end - middle)
    totals = [f + a for f, a in zip(fits, asks, strict=True)]
    return {"fit": statistics.median(fits), "ei": statistics.median(asks),
            "step": statistics.median(totals), "max_step": max(totals),
            "n_obs": f"{n_obs}-{len(opt.yi)}", "kernel": str(opt.models[-1].kernel_)}


def expected_best_of_random(values, n):
    """Exact expected best of ``n`` values drawn uniformly without replacement."""
    from scipy.special import gammaln

    v = np.sort(values[~np.isnan(values)])
    k = np.arange(1, v.size + 1)

    def log_binom(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    cdf = np.where(k >= n, np.exp(log_binom(k, n) - log_binom(v.size, n)), 0.0)
    return float(np.sum(np.diff(cdf, prepend=0.0) * v))


def compare(curves, rival, n):
    """``(difference of the mean best at n queries, its standard error)``, Welch style."""
    a, b = curves.best_so_far[:, n - 1], rival.best_so_far[:, n - 1]
    se = np.sqrt(np.nanvar(a, ddof=1) / a.size + np.nanvar(b, ddof=1) / b.size)
    return float(np.nanmean(a) - np.nanmean(b)), float(se)


def verdicts(results, names, n_queries):
    """One line per BO-on-features method: against the best baseline at the end, and
    against random search at 25 and 50 queries. Within two standard errors is a match."""
    baselines = [b for b in ("REA", "one-hot GP-BO") if b in results]
    lines = []
    for name in names:
        if name not in results:
            continue
        parts = []
        if baselines:
            best = max(baselines, key=lambda b: results[b].mean[n_queries - 1])
            diff, se = compare(results[name], results[best], n_queries)
            word = "beats" if diff > 2 * se else "matches" if diff >= -2 * se else "is below"
            parts.append(f"{word} {best} @{n_queries}: {diff:+.3f} (SE {se:.3f})")
        if "random" in results:
            for n in (25, 50):
                if n < n_queries:
                    diff, se = compare(results[name], results["random"], n)
                    parts.append(f"vs random @{n}: {diff:+.2f} (SE {se:.2f})")
        lines.append(f"  {name}: " + "; ".join(parts))
    return lines


def methods(embeddings=None):
    """``{name: (unfitted search, X)}``; ``embeddings`` maps more BO names to their X."""
    space = NB201Space()
    out = {
        "random": (RandomArchitectureSearch(), None),
        "REA": (RegularizedEvolution(space=space, population_size=30, sample_size=10), None),
        "one-hot GP-BO": (BayesianArchitectureSearch(), space.onehot(space)),
    }
    for name, X in (embeddings or {}).items():
        out[name] = (BayesianArchitectureSearch(), X)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="runs per method (full: 30)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--datasets", nargs="+", default=["cifar10", "cifar100"])
    parser.add_argument("--data-home", type=Path, default=None,
                        help="folder holding nb201-lighton/ (default: the shared data)")
    parser.add_argument("--embeddings", nargs="+", default=[], metavar="NAME=FILE",
                        help="BO on these features (.npy aligned with the NB201 indices)")
    parser.add_argument("--only", nargs="+", default=None, help="methods to run")
    parser.add_argument("--out", type=Path, default=Path("bench_search_out"))
    parser.add_argument("--n-jobs", type=int, default=None, help="seeds run in parallel")
    parser.add_argument("--plot", action="store_true", help="also write PNG figures")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-comparison", action="store_true")
    args = parser.parse_args(argv)

    if not args.skip_timing:
        cost = time_bo_step()
        verdict = "OK" if cost["step"] <= 0.5 else "OVER the 0.5 s target"
        print(f"BO step at {cost['n_obs']} observations, 15,625 candidates x 256: "
              f"{cost['step']:.3f} s median (GP fit {cost['fit']:.3f} s + EI {cost['ei']:.3f} s;"
              f" worst {cost['max_step']:.3f} s) -> {verdict}")
        print(f"  fitted kernel: {cost['kernel']}")
    if args.skip_comparison:
        return 0

    data_home = args.data_home or shared_data()
    try:
        bench = fetch_nb201(data_home=data_home, download_if_missing=False)
    except FileNotFoundError as exc:
        print(f"no NB201 table: {exc}", file=sys.stderr)
        return 1
    embeddings = {}
    for item in args.embeddings:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = "embedding GP-BO", item
        embeddings[name] = np.load(path, allow_pickle=False)
        if embeddings[name].shape[0] != len(bench.space):
            raise SystemExit(f"{path} has {embeddings[name].shape[0]} rows, expected "
                             f"{len(bench.space)} (one per NB201 index)")
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seeds))
    print(f"\n{args.queries} queries, {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}); "
          "mean best test accuracy (std) [mean regret]; reference: the issue's figures")
    for dataset in args.datasets:
        ref = REFERENCE.get(dataset, {}) if args.queries == 100 else {}  # figures @100
        optimum = bench.optimum(dataset)[1]
        exact = expected_best_of_random(bench.table(dataset), args.queries)
        print(f"\n{dataset}: optimum {optimum:.2f} (reference {ref.get('optimum', '-')}); "
              f"random search's exact expectation {exact:.2f}")
        results = {}
        for name, (search, X) in methods(embeddings).items():
            if args.only and name not in args.only:
                continue
            start = time.perf_counter()
            slug = name.replace(" ", "_").replace("-", "").lower()
            curves = simulate(search, bench, dataset, X=X, n_queries=args.queries, seeds=seeds,
                              method=name, n_jobs=args.n_jobs,
                              path=args.out / f"{dataset}_{slug}.json")
            s = curves.summary()
            results[name] = curves
            reference = ref.get(name)
            early = "  ".join(f"@{n} {curves.mean[n - 1]:6.2f}" for n in (25, 50)
                              if n < args.queries)
            print(f"  {name:18s} {s['mean']:6.2f} ({s['std']:.2f}) [{s['mean_regret']:.2f}]"
                  f"   reference {reference if reference is not None else '-':>6}"
                  f"   {early}   {time.perf_counter() - start:6.1f} s", flush=True)
        for line in verdicts(results, embeddings, args.queries):
            print(line)
        if args.plot and results:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(11, 4))
            plot_curves(results, ax=axes[0])
            axes[0].set_ylim(bottom=np.nanmean(results[next(iter(results))].best_so_far[:, 9]))
            plot_curves(results, regret=True, ax=axes[1], band="quartiles")
            fig.tight_layout()
            fig.savefig(args.out / f"{dataset}.png", dpi=120)
            plt.close(fig)
    print(f"\ncurves written under {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
