"""Wall time per epoch: ContrastiveEmbedder's skorch training vs a plain PyTorch loop.

Same module, data, pairs dataset, batch size, optimizer and number of epochs; the two
run alternately ``--repeats`` times in one process and the script prints the median time
per epoch of each and their ratio (target: skorch costs at most 10% more).

    python benchmarks/bench_embedder_overhead.py
    python benchmarks/bench_embedder_overhead.py --n-archs 3000 --epochs 5 --repeats 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from cenas_sklearn.embedding import ContrastiveEmbedder
from cenas_sklearn.embedding._loss import NTXentLoss
from cenas_sklearn.embedding._training import PairDataset


def plain_loop(est, X, epochs):
    """Train a fresh copy of the embedder's module with a hand-written loop."""
    sets = X
    rows, extra = est._inputs(sets, None)
    rows, extra = est._standardize(rows, extra)
    torch.manual_seed(0)
    module = type(est.net_.module_)(
        type(est.net_.module_.encoder)(rows.shape[-1], n_extra=extra.shape[-1],
                                       hidden_size=est.hidden_layer_size,
                                       n_layers=est.n_layers, embedding_dim=est.embedding_dim),
        est.embedding_dim, est.projection_dim)
    optimizer = torch.optim.Adam(module.parameters(), lr=est.learning_rate_init)
    loss_fn = NTXentLoss(est.temperature)
    n_rows = max(1, round(est.row_subsample * rows.shape[2]))
    loader = torch.utils.data.DataLoader(PairDataset(rows, extra, n_rows),
                                         batch_size=est.batch_size, shuffle=True)
    start = time.perf_counter()
    for _ in range(epochs):
        module.train()
        for batch, _ in loader:
            optimizer.zero_grad()
            loss = loss_fn(module(**batch))
            loss.backward()
            optimizer.step()
    return (time.perf_counter() - start) / epochs


def skorch_fit(X, epochs, params):
    est = ContrastiveEmbedder(max_iter=epochs, validation_fraction=0.0, random_state=0, **params)
    est.fit(X)
    return est, float(np.mean([row["dur"] for row in est.history_]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-archs", type=int, default=2000)
    parser.add_argument("--n-inits", type=int, default=3)
    parser.add_argument("--n-probe", type=int, default=64)
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    X = rng.standard_normal((args.n_archs, args.n_inits, args.n_probe, args.n_components))
    X = X.astype(np.float32)
    params = {"batch_size": args.batch_size}
    print(f"threads={torch.get_num_threads()} X={X.shape} epochs={args.epochs} "
          f"repeats={args.repeats}", flush=True)
    skorch_times, plain_times = [], []
    est = None
    for r in range(args.repeats):
        order = ("skorch", "plain") if r % 2 == 0 else ("plain", "skorch")
        for which in order:
            if which == "skorch":
                est, t = skorch_fit(X, args.epochs, params)
                skorch_times.append(t)
            else:
                if est is None:
                    est, _ = skorch_fit(X, 1, params)
                plain_times.append(plain_loop(est, X, args.epochs))
        print(f"repeat {r}: skorch {skorch_times[-1]:.3f} s/epoch, plain "
              f"{plain_times[-1]:.3f} s/epoch", flush=True)
    s, p = np.median(skorch_times), np.median(plain_times)
    print(f"median s/epoch: skorch {s:.3f}, plain PyTorch {p:.3f}, "
          f"skorch overhead {100 * (s / p - 1):+.1f}%")


if __name__ == "__main__":
    main()
