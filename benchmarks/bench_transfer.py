"""Transfer between search spaces: NAS-Bench-201 topologies (tss) <-> NATS sizes (sss).

Reads the EPDJMs of two stores made by ``cenas epdjm`` with the same settings (by default
the CPU scale: 64 probes of 16x16, 3 initialisations, 32 components), one per space, and the
accuracy tables of ``../shared/data`` (or ``$CENAS_SHARED_DATA``): NB201 test accuracies
(``cifar10``, ``cifar100``) and size-space validation accuracies (``cifar10-valid``,
``cifar100``). ``--n-archs`` architectures are drawn from each store (seeded).

For each seed, a :class:`TransferRegressor` is fitted on the union of both spaces with the
NB201 CIFAR-10 labels (the size space unlabelled): its :class:`ContrastiveEmbedder` learns
from all architectures, without labels (``--max-iter`` epochs: transfer wants a short
training, see the user guide). The embedding does not depend on which labels are given, so
this one embedding serves the four transfers (tss->sss and sss->tss on CIFAR-10 and
CIFAR-100); each fits the same regressor (a random forest) on the source space's labels,
through ``TransferRegressor(embedder="passthrough", align=...)``, and ranks the target
space. Every feature set is read as it is (``align="none"``) and standardised per space
(``align="standardize"``, the statistics of all rows of each space). Scores on the target
space: Kendall's tau and Pearson's r. In the same run, the same regressor on

- log(parameter count) alone: the baseline any user could build (reference figures of the
  issue, random forest, CIFAR-10: tss->sss tau 0.28, sss->tss tau 0.54);
- the spectral features (mean log singular values + log parameter count);
- the embedding + log(parameter count).

With ``--n-embedders K`` the embedding is a seed ensemble (``TransferRegressor(n_embedders=K)``):
K embedders from their own seeds, one forest per embedder, predictions averaged.

    python benchmarks/bench_transfer.py --tss-store nb201-epdjm --sss-store sss-3000
    python benchmarks/bench_transfer.py ... --seeds 0 1 2 --json transfer.json
    python benchmarks/bench_transfer.py ... --n-embedders 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, pearsonr
from sklearn.ensemble import RandomForestRegressor

from cenas_sklearn.benchmarks import fetch_nats_size, fetch_nb201
from cenas_sklearn.embedding import ContrastiveEmbedder
from cenas_sklearn.features import EPDJMStore, SpectralFeatures
from cenas_sklearn.transfer import TransferRegressor

# Target accuracy tables per dataset: (tss dataset, sss dataset).
DATASETS = {"CIFAR-10": ("cifar10", "cifar10-valid"), "CIFAR-100": ("cifar100", "cifar100")}
REFERENCE_LOGPARAM_TAU = {("tss->sss", "CIFAR-10"): 0.28, ("sss->tss", "CIFAR-10"): 0.54}


def shared_data() -> Path:
    env = os.environ.get("CENAS_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def load_space(store_path, n_archs, seed):
    """EPDJMs (n, n_inits, n_probe, k), log parameter counts and architecture strings of
    ``n_archs`` finished rows of a store, drawn at random."""
    store = EPDJMStore(store_path)
    done = np.zeros(len(store), dtype=bool)
    for chunk in store.manifest["done"]:
        start, stop = store._chunk_bounds(int(chunk))
        done[start:stop] = True
    rows = np.flatnonzero(done)
    if rows.size < n_archs:
        raise SystemExit(f"{store_path} has {rows.size} finished architectures, fewer than "
                         f"--n-archs {n_archs}")
    rows = np.sort(np.random.RandomState(seed).choice(rows, n_archs, replace=False))
    epdjm = np.asarray(store.epdjm(allow_incomplete=True)[rows])
    log_params = np.log(store.n_parameters(allow_incomplete=True)[rows].astype(np.float64))
    archs = [store.archs[i].split(":", 1)[1] for i in rows]
    return epdjm, log_params, archs


def rf(seed):
    return RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=seed,
                                 n_jobs=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tss-store", type=Path, required=True)
    parser.add_argument("--sss-store", type=Path, required=True)
    parser.add_argument("--n-archs", type=int, default=3000, help="per space")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=10, help="embedder epochs")
    parser.add_argument("--n-embedders", type=int, default=1,
                        help="a seed ensemble of this many embedders (TransferRegressor's "
                             "n_embedders): the embedding rows average their forests' "
                             "predictions, standardised only, without embedding+log(params)")
    parser.add_argument("--data-home", type=Path, default=None,
                        help="folder holding nb201-lighton/ and natsss-lighton/")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    args = parser.parse_args(argv)

    home = args.data_home or shared_data()
    tables = {"tss": fetch_nb201(data_home=home, download_if_missing=False),
              "sss": fetch_nats_size(data_home=home, download_if_missing=False)}
    rows = []
    print(f"{args.n_archs} architectures per space, seeds {args.seeds}, embedder "
          f"{args.max_iter} epochs; Kendall tau (Pearson r) on the target space")
    for seed in args.seeds:
        data = {}
        for space, path in (("tss", args.tss_store), ("sss", args.sss_store)):
            data[space] = load_space(path, args.n_archs, seed)
        shapes = {data[s][0].shape[1:] for s in data}
        if len(shapes) != 1:
            raise SystemExit(f"the stores have different EPDJM shapes {shapes}")
        X = np.concatenate([data["tss"][0], data["sss"][0]])
        n_tss = len(data["tss"][2])
        log_params = np.concatenate([data["tss"][1], data["sss"][1]])
        spaces = np.array(["tss"] * n_tss + ["sss"] * (len(X) - n_tss))

        # The full method once: embedder on both spaces (no labels), forest on tss CIFAR-10.
        start = time.perf_counter()
        y = np.full(len(X), np.nan)
        y[:n_tss] = tables["tss"].accuracy(data["tss"][2], "cifar10")
        # the embedder reads each network's log parameter count too (the method's later version)
        X_full = np.concatenate([X.reshape(len(X), -1), log_params[:, None]], axis=1)
        embedder = ContrastiveEmbedder(feature_shape=X.shape[1:], log_n_parameters=True,
                                       max_iter=args.max_iter, random_state=seed)
        full = TransferRegressor(features="passthrough", embedder=embedder,
                                 regressor=rf(seed), n_embedders=args.n_embedders,
                                 random_state=seed).fit(X_full, y)
        fit_seconds = time.perf_counter() - start
        embedding = full.transform(X_full)  # align="none": the embedders' outputs side by side
        spectral = SpectralFeatures().fit_transform(X)
        # Each feature set is a list of blocks; the prediction is the mean of one forest per
        # block, as TransferRegressor(n_embedders=K).predict averages one per embedder.
        members = np.split(embedding, args.n_embedders, axis=1)
        feature_sets = {
            "log(params)": [log_params[:, None]],
            "spectral+log(params)": [np.column_stack([spectral, log_params])],
            "embedding": members,
        }
        if args.n_embedders == 1:
            feature_sets["embedding+log(params)"] = [np.column_stack([embedding, log_params])]
        print(f"\nseed {seed}: {args.n_embedders} embedder(s) trained on {len(X)} "
              f"architectures in {fit_seconds:.0f} s ({full.embedder_.n_iter_} epochs each)")
        for name, (tss_set, sss_set) in DATASETS.items():
            acc = {"tss": np.asarray(tables["tss"].accuracy(data["tss"][2], tss_set)),
                   "sss": np.asarray(tables["sss"].accuracy(data["sss"][2], sss_set))}
            for source, target in (("tss", "sss"), ("sss", "tss")):
                src, tgt = spaces == source, spaces == target
                line = []
                for feature_name, blocks in feature_sets.items():
                    for align in ("none", "standardize"):
                        if len(blocks) > 1 and align == "none":
                            continue
                        y = np.full(len(X), np.nan)
                        y[src] = acc[source]
                        preds = [
                            TransferRegressor(features="passthrough", embedder="passthrough",
                                              regressor=rf(seed), align=align)
                            .fit(F, y, spaces=spaces).predict(F[tgt], spaces=spaces[tgt])
                            for F in blocks]
                        pred = np.mean(preds, axis=0)
                        tau = kendalltau(pred, acc[target]).statistic
                        r = pearsonr(pred, acc[target]).statistic
                        rows.append({"seed": seed, "dataset": name,
                                     "direction": f"{source}->{target}",
                                     "features": feature_name, "align": align,
                                     "tau": float(tau), "r": float(r)})
                        line.append(f"{feature_name}/{align[0]} {tau:.3f}")
                        if len(preds) > 1:  # each embedder of the ensemble alone
                            member_taus = [float(kendalltau(p, acc[target]).statistic)
                                           for p in preds]
                            rows[-1]["member_taus"] = member_taus
                            line[-1] += " [" + " ".join(f"{t:.2f}" for t in member_taus) + "]"
                print(f"  {name:9s} {source}->{target}: " + "; ".join(line), flush=True)

    print("\nmedian over seeds: Kendall tau (Pearson r) on the target space; /n: align='none', "
          "/s: align='standardize'")
    groups = {}
    for row in rows:
        key = (row["direction"], row["dataset"], row["features"], row["align"])
        groups.setdefault(key, []).append(row)

    def median(direction, dataset, features, align):
        g = groups.get((direction, dataset, features, align))
        if not g:
            return (float("nan"), float("nan"))
        return (statistics.median(x["tau"] for x in g), statistics.median(x["r"] for x in g))

    verdicts = []
    for direction in ("tss->sss", "sss->tss"):
        for dataset in DATASETS:
            base = median(direction, dataset, "log(params)", "none")[0]
            ref = REFERENCE_LOGPARAM_TAU.get((direction, dataset))
            print(f"  {direction} {dataset}  [issue's reference for log(params)/n: "
                  f"{ref if ref is not None else '-'}]")
            for feature_name in feature_sets:
                cells = [median(direction, dataset, feature_name, a)
                         for a in ("none", "standardize")]
                print(f"    {feature_name:22s} /n {cells[0][0]:6.3f} ({cells[0][1]:6.3f})   "
                      f"/s {cells[1][0]:6.3f} ({cells[1][1]:6.3f})")
            emb = median(direction, dataset, "embedding", "standardize")[0]
            verdicts.append(emb > base)
            print(f"    embedding/s vs log(params)/n: tau {emb:.3f} vs {base:.3f} "
                  f"(ratio {emb / base:.2f})")
    print(f"\nembedding (align='standardize') beats log(params) in {sum(verdicts)}/"
          f"{len(verdicts)} transfers")
    if args.json is not None:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
