"""Bayesian search at the scale of the NATS size space: a BO step over 32,768 candidates.

The time of one BO step (GP fit with hyperparameter optimisation + expected improvement over
every unevaluated candidate) at 150 observations, 32,768 candidates of dimension 256 (random
embeddings, as many as the NATS size space has architectures), with the default kernel; and
the memory it takes: the process's peak resident set, and the peak of the arrays allocated
during one step (tracemalloc: the posterior's temporaries over every candidate).

    OMP_NUM_THREADS=1 python benchmarks/bench_search_scale.py          # one core
    python benchmarks/bench_search_scale.py --n-candidates 15625      # NB201's size
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

from cenas_sklearn.search import CandidateOptimizer


def rss_mb():
    """Current resident set of this process, in MB (Linux)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KB on Linux


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-candidates", type=int, default=32768)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--n-obs", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=7, help="steps timed (median)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.RandomState(args.seed)
    emb = rng.normal(size=(args.n_candidates, args.dim))
    w = rng.normal(size=args.dim) / np.sqrt(args.dim)
    values = 70 + 5 * np.tanh(emb @ w) + 0.2 * rng.normal(size=args.n_candidates)
    base = rss_mb()
    start = time.perf_counter()
    opt = CandidateOptimizer(emb, maximize=True, random_state=args.seed)
    first = rng.choice(args.n_candidates, args.n_obs - 1, replace=False)
    opt.tell(list(first), list(values[first]), fit=False)
    opt.ask()  # fits the GP and fills the distance cache (a search fills it step by step)
    setup = time.perf_counter() - start

    fits, asks = [], []
    for _ in range(args.repeats):
        x = opt.ask()
        start = time.perf_counter()
        opt.tell(x, values[x])  # GP fit with hyperparameter optimisation
        middle = time.perf_counter()
        opt.ask()  # posterior + EI over all unevaluated candidates
        fits.append(middle - start)
        asks.append(time.perf_counter() - middle)
    steps = [f + a for f, a in zip(fits, asks, strict=True)]
    held = rss_mb() - base

    tracemalloc.start()  # one more step, traced: its transient arrays
    x = opt.ask()
    opt.tell(x, values[x])
    opt.ask()
    step_peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()

    print(f"BO step at {args.n_obs}-{len(opt.yi) - 1} observations, {args.n_candidates:,} "
          f"candidates x {args.dim}: {statistics.median(steps):.3f} s median over "
          f"{args.repeats} steps (GP fit {statistics.median(fits):.3f} s + EI "
          f"{statistics.median(asks):.3f} s; worst {max(steps):.3f} s); setup {setup:.1f} s")
    print(f"memory: embeddings {emb.nbytes / 1e6:.0f} MB; resident growth since then "
          f"{held:.0f} MB (the optimizer's scaled copy and distance cache after "
          f"{len(opt.yi)} observations, and the allocator's free lists); one step's arrays "
          f"peak at {step_peak:.0f} MB; process peak RSS {peak_rss_mb():.0f} MB")
    print(f"fitted kernel: {opt.models[-1].kernel_}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
