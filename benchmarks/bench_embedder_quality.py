"""Quality of the contrastive embedding on real NAS-Bench-201 data, against the baselines.

Reads the EPDJMs of NB201 architectures from a store made by ``cenas epdjm`` (the first
``--n-archs`` architectures of the store: the NB201 index order is itself a random shuffle)
and the accuracy tables of ``../shared/data/nb201-lighton`` (or ``$CENAS_SHARED_DATA``).
For each split seed, in one run:

- the embedder is trained on 80% of the architectures (plus, with ``--extra-train``, more
  architectures of the store beyond the first ``--n-archs``, none of them isomorphic to a
  held-out one); identification accuracy across
  initialisations is measured on the 20% it never saw (chance: 1 / n_held_out), and among
  random pools of ``--pool`` of them (chance: 1 / pool);
- identification among *distinct functions*: the held-out architectures reduced to one per
  NAS-Bench-201 isomorphism class, without the networks whose output ignores their input
  (zero data Jacobian). Isomorphic cells compute the same function, so no feature of what a
  network computes can tell them apart: about a third of 640 random held-out cells have an
  isomorphic twin among them, which caps the plain score near 0.8. Beside it, the same
  nearest-neighbour identification (cosine) on the raw log singular values of each
  initialisation (no training): how identifiable the architectures are from their spectrum
  alone;
- the effective rank of the embeddings (exp of the entropy of the normalised singular values);
- 500 labelled architectures, a regressor (random forest; GP) on each feature set, Spearman's
  rho on all the others, CIFAR-10 and CIFAR-100: one-hot operations (30), spectral features
  (log singular values + log parameter count), the embedding, the embedding + log parameter count.

    python benchmarks/bench_embedder_quality.py --store nb201-epdjm --n-archs 3000
    python benchmarks/bench_embedder_quality.py --store nb201-epdjm --param max_iter=300
    python benchmarks/bench_embedder_quality.py --store nb201-k64 --n-components 32
    python benchmarks/bench_embedder_quality.py --store nb201-epdjm --n-archs 3200 \
        --extra-train 12425     # train on the rest of the space too
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.ensemble import RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cenas_sklearn.embedding import ContrastiveEmbedder, identification_accuracy
from cenas_sklearn.features import EPDJMStore, SpectralFeatures
from cenas_sklearn.spaces import NB201Space


def shared_data() -> Path:
    env = os.environ.get("CENAS_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def effective_rank(emb) -> float:
    s = np.linalg.svd(emb - emb.mean(axis=0), compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def distinct_functions(rows, classes, zero):
    """``rows`` without zero-Jacobian networks, keeping the first of each isomorphism class."""
    seen, keep = set(), []
    for row in rows:
        if not zero[row] and classes[row] not in seen:
            seen.add(classes[row])
            keep.append(row)
    return np.array(keep)


def training_rows(train, held_out, classes, n, n_all):
    """``train`` and the rows ``n..n_all-1`` whose isomorphism class is not held out."""
    unseen = set(classes[held_out])
    extra = [i for i in range(n, n_all) if classes[i] not in unseen]
    return np.concatenate([train, np.asarray(extra, dtype=np.intp)])


def regressors(seed):
    kernel = ConstantKernel() * Matern(nu=2.5) + WhiteKernel()
    return {
        "rf": lambda: RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1),
        "gp": lambda: make_pipeline(StandardScaler(), GaussianProcessRegressor(
            kernel, normalize_y=True, random_state=seed)),
    }


def parse_param(text):
    key, _, value = text.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="an NB201 EPDJM store")
    parser.add_argument("--n-archs", type=int, default=3000)
    parser.add_argument("--n-components", type=int, default=None,
                        help="keep the first k components of the store's EPDJMs (the top "
                             "singular directions: the same as computing them with k)")
    parser.add_argument("--n-labels", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--param", action="append", default=[], type=parse_param,
                        help="ContrastiveEmbedder parameter, e.g. --param max_iter=200")
    parser.add_argument("--pool", type=int, default=200,
                        help="also report identification among random pools of this many "
                             "held-out architectures (mean over 20 pools)")
    parser.add_argument("--extra-train", type=int, default=0,
                        help="also train the embedder on up to this many more architectures "
                             "of the store (after the first --n-archs), leaving out those "
                             "isomorphic to a held-out one")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    store = EPDJMStore(args.store)
    n = min(args.n_archs, store.n_done)
    n_held_out = n - int(0.8 * n)
    if not 0 < args.n_labels <= n - 2:
        parser.error(f"--n-labels must be between 1 and {n - 2} ({n} architectures used)")
    if not 1 <= args.pool <= n_held_out:
        parser.error(f"--pool must be between 1 and the {n_held_out} held-out architectures")
    if args.extra_train < 0:
        parser.error("--extra-train must be at least 0")
    if store.n_done < len(store) and n == store.n_done:
        print(f"note: the store is incomplete; using its {n} finished architectures")
    n_all = min(n + args.extra_train, store.n_done)
    X = np.asarray(store.epdjm(allow_incomplete=True)[:n_all])
    if args.n_components is not None:
        if not 1 <= args.n_components <= X.shape[-1]:
            parser.error(f"--n-components must be between 1 and {X.shape[-1]}")
        X = np.ascontiguousarray(X[..., :args.n_components])
    log_params = np.log(store.n_parameters(allow_incomplete=True)[:n_all].astype(np.float64))
    keys = [k.split(":", 1)[1] for k in store.archs[:n_all]]
    space = NB201Space()
    idx = space.indices(keys)
    X2_all = np.concatenate([X.reshape(n_all, -1), log_params[:, None]], axis=1)
    classes_all = np.array([space.canonical(i) for i in idx])
    X, log_params, keys, idx = X[:n], log_params[:n], keys[:n], idx[:n]
    data = shared_data() / "nb201-lighton"
    accs = {name: np.load(data / f"{name}_test_accs.npy")[idx] for name in ("cifar10", "cifar100")}
    X2, classes = X2_all[:n], classes_all[:n]
    zero = ~X.reshape(n, -1).any(axis=1)
    log_sv = np.log(np.linalg.norm(X, axis=2) + 1e-12)  # (n, n_inits, k): per-init spectrum
    params = dict(args.param)
    print(f"{n} architectures, EPDJM sets {X.shape[1:]}, embedder params {params}", flush=True)
    if n_all > n:
        print(f"up to {n_all - n} more architectures for training", flush=True)

    results = []
    for seed in args.seeds:
        rng = np.random.RandomState(seed)
        perm = rng.permutation(n)
        train, held_out = perm[: int(0.8 * n)], perm[int(0.8 * n):]
        emb = ContrastiveEmbedder(feature_shape=X.shape[1:], log_n_parameters=True,
                                  random_state=seed, **params)
        # the extra rows never compute a held-out function (the 80% may, as without them)
        fit_rows = training_rows(train, held_out, classes_all, n, n_all)
        start = time.perf_counter()
        emb.fit(X2_all[fit_rows])
        fit_s = time.perf_counter() - start
        inits = emb.transform_inits(X2)
        embedding = inits.mean(axis=1)
        distinct = distinct_functions(held_out, classes, zero)
        row = {
            "seed": seed, "fit_s": fit_s, "epochs": emb.n_iter_, "n_train": len(fit_rows),
            "identification_held_out": identification_accuracy(inits[held_out]),
            "identification_train": identification_accuracy(inits[train[: len(held_out)]]),
            "chance": 1 / len(held_out),
            f"identification_pool{args.pool}": float(np.mean([
                identification_accuracy(inits[rng.choice(held_out, args.pool, replace=False)])
                for _ in range(20)])),
            "effective_rank": effective_rank(embedding),
            "n_distinct_held_out": len(distinct),
            "identification_distinct": identification_accuracy(inits[distinct]),
            "identification_distinct_spectrum": identification_accuracy(log_sv[distinct]),
        }
        spectral = SpectralFeatures(feature_shape=X.shape[1:], log_n_parameters=True) \
            .fit_transform(X2)
        features = {
            "onehot": space.onehot(keys),
            "spectral": spectral,
            "embedding": embedding,
            "embedding+logp": np.c_[embedding, log_params],
        }
        labelled = rng.permutation(n)[: args.n_labels]
        rest = np.setdiff1d(np.arange(n), labelled)
        for reg_name, make in regressors(seed).items():
            for feat_name, F in features.items():
                for dataset, y in accs.items():
                    pred = make().fit(F[labelled], y[labelled]).predict(F[rest])
                    row[f"{reg_name}/{feat_name}/{dataset}"] = spearmanr(pred, y[rest]).statistic
        results.append(row)
        print(f"seed {seed}: fit on {len(fit_rows)} in {fit_s:.0f} s ({emb.n_iter_} epochs), "
              f"identification held-out "
              f"{row['identification_held_out']:.3f} (train {row['identification_train']:.3f}, "
              f"chance {row['chance']:.4f}); among {args.pool}: "
              f"{row[f'identification_pool{args.pool}']:.3f}; effective rank "
              f"{row['effective_rank']:.1f}\n  among the {len(distinct)} distinct functions "
              f"held out: {row['identification_distinct']:.3f} (log singular values alone: "
              f"{row['identification_distinct_spectrum']:.3f}, chance {1 / len(distinct):.4f})",
              flush=True)

    print(f"\nSpearman's rho, {args.n_labels} labels, median over seeds {args.seeds}:")
    print(f"{'regressor':<4} {'features':<16} {'cifar10':>8} {'cifar100':>8}")
    for reg_name in ("rf", "gp"):
        for feat_name in ("onehot", "spectral", "embedding", "embedding+logp"):
            vals = [np.median([r[f"{reg_name}/{feat_name}/{d}"] for r in results])
                    for d in ("cifar10", "cifar100")]
            print(f"{reg_name:<4} {feat_name:<16} {vals[0]:>8.3f} {vals[1]:>8.3f}")
    if args.json:
        args.json.write_text(json.dumps(
            {"params": params, "n_archs": n, "n_components": X.shape[-1],
             "extra_train": args.extra_train, "n_labels": args.n_labels, "results": results},
            indent=1, default=float))


if __name__ == "__main__":
    sys.exit(main())
