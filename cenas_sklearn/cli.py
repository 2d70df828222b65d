"""The ``cenas`` command line: long jobs (EPDJM stores) and a quick demo.

Every command prints ``cenas: error: ...`` and exits with status 1 for a user
error (bad value, missing file, missing data), 2 for a malformed command line
(argparse), and 130 when interrupted; never a traceback for user errors.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

_USER_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError, NotADirectoryError,
                PermissionError, IndexError)

_EPILOG_EPDJM = """examples:
  cenas epdjm --space nb201 --out nb201-epdjm --n-probe 64 --probe-size 16 --n-inits 3 \\
      --n-components 32 --n-jobs 2        # the whole space; rerun the same line to resume
  cenas epdjm --space sss --n-archs 3000 --seed 0 --out sss-3000
"""

_EPILOG_DEMO = """examples:
  cenas demo                                  # train candidates on the digits (~3 minutes)
  cenas demo --benchmark ~/cenas_sklearn_data --n-evaluations 30   # replay on the NB201 table
"""

_EPILOG_EMBED = """examples:
  cenas embed nb201-epdjm --out nb201-emb --n-fit 5000
  cenas embed nb201-3000 sss-3000 --out union-emb   # one embedding space for both spaces
"""

_EPILOG_SEARCH = """examples:
  cenas search --embeddings nb201-emb/nb201-epdjm.npy --dataset cifar100 --seed 3
  cenas search --method rea --space sss --dataset cifar100 --n-iter 50
"""

_EPILOG_SIMULATE = """examples:
  cenas simulate --seeds 30 --plot                                   # the baselines
  cenas simulate --methods bo onehot --embeddings nb201-emb/nb201-epdjm.npy --seeds 30
"""

_EPILOG_TRANSFER = """examples:
  cenas transfer --source nb201-3000 --target sss-3000 --out sss-predicted.csv
  cenas transfer --source sss-3000 --target nb201-3000 --source-dataset cifar100 \\
      --target-dataset cifar100 --features embedding+params
"""

_METHODS = ("bo", "onehot", "random", "rea")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_epdjm_options(parser):
    group = parser.add_argument_group("EPDJM settings")
    group.add_argument("--n-probe", type=_positive_int, default=64,
                       help="probe images (default: 64; the paper uses 256)")
    group.add_argument("--probe-size", type=_positive_int, default=16,
                       help="probe resolution in pixels (default: 16; the paper uses 32)")
    group.add_argument("--n-inits", type=_positive_int, default=3,
                       help="random initialisations per architecture (default: 3; paper: 4)")
    group.add_argument("--n-components", type=_positive_int, default=32,
                       help="singular directions kept (default: 32; paper: 128)")
    group.add_argument("--normalize", action="store_true",
                       help="divide each EPDJM by its top singular value")
    group.add_argument("--precision", choices=("float32", "float64"), default="float32")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    group.add_argument("--n-jobs", type=int, default=None, help="parallel architectures")
    group.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")


def _transformer(args, space):
    from .features import EPDJMTransformer

    return EPDJMTransformer(
        space=space, n_inits=args.n_inits, n_probe=args.n_probe, probe_size=args.probe_size,
        n_components=args.n_components, normalize=args.normalize, precision=args.precision,
        device=args.device, n_jobs=args.n_jobs, random_state=args.seed,
    )


def _cmd_epdjm(args):
    from .features import EPDJMStore, ZeroJacobianWarning
    from .spaces import get_space

    space = get_space(args.space)
    if args.n_archs is None:
        archs = range(len(space))
    else:
        if args.n_archs > len(space):
            raise ValueError(f"--n-archs {args.n_archs} exceeds the {len(space)} architectures "
                             f"of {args.space}")
        archs = sorted(space.sample_indices(args.n_archs, random_state=args.seed))
    store = EPDJMStore.create(args.out, _transformer(args, args.space), archs,
                              chunk_size=args.chunk_size, overwrite=args.overwrite)
    resumed = store.n_done
    if resumed:
        print(f"resuming {store.path}: {resumed}/{len(store)} architectures already done")
    start = time.perf_counter()
    with warnings.catch_warnings():  # one summary line instead of a warning per chunk
        warnings.simplefilter("ignore", ZeroJacobianWarning)
        store.compute(n_jobs=args.n_jobs, device=args.device, verbose=0 if args.quiet else 1)
    elapsed = time.perf_counter() - start
    n_zero = int((~store.singular_values().any(axis=(1, 2))).sum())
    print(f"{store.path}: {len(store)} architectures, features {store.features().shape}, "
          f"{len(store) - resumed} computed in {elapsed:.1f} s")
    if n_zero:
        print(f"{n_zero} architectures have an identically zero data Jacobian (their logits do "
              "not depend on the input); their features are zeros")
    return 0


def _cmd_spaces(args):
    from .spaces import NATSSizeSpace, NB201Space

    rows = []
    for name, space, example in (("nb201 (tss)", NB201Space(), 9930),
                                 ("sss", NATSSizeSpace(), len(NATSSizeSpace()) - 1)):
        start = time.perf_counter()
        n_params = space.n_parameters(example)
        rows.append((name, len(space), len(space.representative_indices()), space[example],
                     n_params, time.perf_counter() - start))
    print(f"{'space':<12} {'archs':>6} {'distinct':>8}  {'params':>9}  {'build s':>7}  example")
    for name, n, distinct, example, n_params, seconds in rows:
        print(f"{name:<12} {n:>6} {distinct:>8}  {n_params:>9,}  {seconds:>7.3f}  {example}")
    return 0


def _cmd_demo(args):
    from ._demo import run_demo

    benchmark = None
    if args.benchmark is not None:
        benchmark = _load_table("nb201", args.benchmark, download=None)
    run_demo(n_archs=args.n_archs, n_evaluations=args.n_evaluations,
             n_initial_points=args.n_initial_points, train_epochs=args.train_epochs,
             embed_epochs=args.embed_epochs, benchmark=benchmark, dataset=args.dataset,
             n_seeds=args.n_seeds, seed=args.seed, out=args.out, n_jobs=args.n_jobs,
             verbose=0 if args.quiet else 1)
    return 0


# ---------------------------------------------------------------------- shared helpers
def _load_table(space, data_home, download):
    """The benchmark table of ``space`` ("nb201"/"tss" or "sss") from ``data_home``."""
    from .benchmarks import fetch_nats_size, fetch_nb201, get_data_home

    fetch, folder = ((fetch_nats_size, "natsss-lighton") if space == "sss"
                     else (fetch_nb201, "nb201-lighton"))
    try:
        return fetch(data_home=data_home, download_if_missing=bool(download))
    except FileNotFoundError:
        where = Path(get_data_home(data_home)) / folder
        raise FileNotFoundError(
            f"no {space} benchmark table in {where}: pass --data-home with a folder holding "
            f"{folder}/, or set CENAS_DATA" + ("" if download is None else
                                               ", or pass --download to fetch it")
        ) from None


def _read_candidates(embeddings_path, space):
    """Embeddings (``.npy``) and the architectures of their rows.

    The rows' architectures come from the sidecar ``<name>.archs.txt`` that ``cenas embed``
    writes (``space:architecture`` per line); without one, the embeddings must have a row
    per architecture of ``space``, in index order.
    """
    import numpy as np

    path = Path(embeddings_path)
    if not path.is_file():
        raise FileNotFoundError(f"no embeddings file {path}")
    embeddings = np.load(path, allow_pickle=False)
    if embeddings.ndim not in (2, 3) or not np.isfinite(embeddings).all():
        raise ValueError(f"{path}: expected finite embeddings of shape (n, d) or "
                         f"(n, n_inits, d), got shape {embeddings.shape}")
    sidecar = path.with_suffix(".archs.txt")
    if sidecar.is_file():
        keys = sidecar.read_text().splitlines()
        prefixes = {key.split(":", 1)[0] for key in keys}
        names = {"tss": "nb201"}
        if {names.get(p, p) for p in prefixes} != {names.get(space, space)}:
            raise ValueError(f"{sidecar} holds architectures of {sorted(prefixes)}, "
                             f"not of the {space} space")
        archs = [key.split(":", 1)[1] for key in keys]
    else:
        from .spaces import get_space

        n = len(get_space(space))
        if embeddings.shape[0] != n:
            raise ValueError(f"{path} has {embeddings.shape[0]} rows but no {sidecar.name} "
                             f"naming their architectures; without one, it needs a row per "
                             f"architecture of the {space} space ({n})")
        archs = list(range(n))
    if len(archs) != embeddings.shape[0]:
        raise ValueError(f"{sidecar} lists {len(archs)} architectures, {path} has "
                         f"{embeddings.shape[0]} rows")
    return embeddings, archs


def _search_methods(names, space, embeddings, archs, args):
    """``{name: (unfitted search, X)}`` of the methods asked for."""
    from .search import BayesianArchitectureSearch, RandomArchitectureSearch, RegularizedEvolution
    from .spaces import get_space

    sp = get_space(space)
    bo = dict(n_initial_points=args.n_initial_points, acq_func=args.acq_func)
    out = {}
    for name in names:
        if name == "bo":
            if embeddings is None:
                raise ValueError("method bo needs --embeddings")
            out[name] = (BayesianArchitectureSearch(**bo), embeddings)
        elif name == "onehot":
            out[name] = (BayesianArchitectureSearch(**bo), sp.onehot(archs))
        elif name == "random":
            out[name] = (RandomArchitectureSearch(), archs)
        else:
            out[name] = (RegularizedEvolution(space=space), archs)
    return out


def _candidates(args):
    from .spaces import get_space

    if args.embeddings is not None:
        return _read_candidates(args.embeddings, args.space)
    return None, list(range(len(get_space(args.space))))


def _write_json(path, payload):
    import json

    from .search._base import write_json_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, json.loads(json.dumps(payload)))


# ---------------------------------------------------------------------- embed
def _cmd_embed(args):
    import joblib
    import numpy as np

    from .embedding import ContrastiveEmbedder
    from .features import EPDJMStore

    stores = [EPDJMStore(path) for path in args.stores]
    names = [store.path.resolve().name for store in stores]
    if len(set(names)) != len(names):
        raise ValueError(f"two stores share a folder name ({names}): their embeddings would "
                         "overwrite each other")
    shapes = {store.epdjm().shape[1:] for store in stores}  # raises if a store is unfinished
    if len(shapes) != 1:
        raise ValueError(f"the stores have different EPDJM shapes {sorted(shapes)}: compute "
                         "them with the same --n-inits, --n-probe and --n-components")
    (feature_shape,) = shapes
    arrays = [store.features(append_log_n_parameters=args.log_n_parameters) for store in stores]
    sizes = [a.shape[0] for a in arrays]
    rng = np.random.RandomState(args.seed)
    fit_rows = [np.sort(rng.choice(n, min(n, args.n_fit), replace=False))
                if args.n_fit is not None else np.arange(n) for n in sizes]
    X_fit = np.concatenate([np.asarray(a[rows]) for a, rows in zip(arrays, fit_rows,
                                                                  strict=True)])
    embedder = ContrastiveEmbedder(
        feature_shape=feature_shape, log_n_parameters=args.log_n_parameters,
        max_iter=args.max_iter, embedding_dim=args.embedding_dim, batch_size=args.batch_size,
        device=args.device, random_state=args.seed, verbose=0 if args.quiet else 1)
    print(f"training the contrastive embedder on {len(X_fit)} architectures of "
          f"{len(stores)} store(s), {args.max_iter} epochs", flush=True)
    start = time.perf_counter()
    embedder.fit(X_fit)
    fit_seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(embedder, out / "embedder.joblib")
    files = []
    for store, name, arr in zip(stores, names, arrays, strict=True):
        emb = np.concatenate([embedder.transform(np.asarray(arr[i:i + 2048]))
                              for i in range(0, arr.shape[0], 2048)])
        np.save(out / f"{name}.npy", emb.astype(np.float32), allow_pickle=False)
        (out / f"{name}.archs.txt").write_text("\n".join(store.archs) + "\n")
        files.append({"store": str(store.path), "embeddings": f"{name}.npy",
                      "architectures": f"{name}.archs.txt", "n_archs": int(arr.shape[0])})
    check = X_fit[rng.choice(len(X_fit), min(len(X_fit), 2000), replace=False)]
    identification = float(embedder.score(check))
    from ._version import __version__

    _write_json(out / "manifest.json", {
        "format": "cenas_sklearn.embeddings", "version": 1, "cenas_sklearn_version": __version__,
        "embedder": "embedder.joblib", "params": {k: v for k, v in embedder.get_params().items()
                                                  if isinstance(v, int | float | str | None)},
        "n_fit": len(X_fit), "fit_seconds": round(fit_seconds, 1),
        "identification_accuracy": identification, "files": files})
    print(f"{out}: embeddings of {sum(sizes)} architectures (dimension "
          f"{args.embedding_dim}), trained in {fit_seconds:.0f} s; identification accuracy "
          f"{identification:.3f} among {len(check)} training architectures")
    return 0


# ---------------------------------------------------------------------- search / simulate
def _cmd_search(args):
    import numpy as np

    from .search import BenchmarkObjective

    bench = _load_table(args.space, args.data_home, args.download)
    embeddings, archs = _candidates(args)
    (name, (search, X)), = _search_methods([args.method], args.space, embeddings, archs,
                                           args).items()
    search.set_params(n_iter=args.n_iter, random_state=args.seed, checkpoint=args.checkpoint,
                      verbose=0 if args.quiet else 1)
    objective = BenchmarkObjective(bench, args.dataset, architectures=archs)
    search.fit(X, objective)
    history = search.history_
    strings = [bench.space.to_string(archs[i]) for i in history["index"]]
    best = strings[list(history["index"]).index(search.best_index_)]
    optimum = float(np.nanmax(objective.values()))
    payload = {"format": "cenas_sklearn.search.history", "version": 1, "method": name,
               "benchmark": bench.name, "dataset": args.dataset or bench.datasets[0],
               "seed": args.seed, "n_iter": int(search.n_iter_),
               "best_architecture": best, "best_value": float(search.best_score_),
               "optimum_among_candidates": optimum,
               "history": [{"architecture": a, "value": None if np.isnan(v) else float(v),
                            "error": e}
                           for a, v, e in zip(strings, history["value"], history["error"],
                                              strict=True)]}
    if args.out is not None:
        _write_json(args.out, payload)
    print(f"{name}: best {search.best_score_:.2f} after {search.n_iter_} evaluations "
          f"(best of the {len(archs)} candidates in the table: {optimum:.2f}): {best}")
    return 0


def _cmd_simulate(args):
    import numpy as np

    from .search import plot_curves, simulate

    bench = _load_table(args.space, args.data_home, args.download)
    embeddings, archs = _candidates(args)
    methods = _search_methods(args.methods, args.space, embeddings, archs, args)
    seeds = list(range(args.seeds))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = args.dataset or bench.datasets[0]
    marks = sorted({n for n in (10, 25, 50, args.n_queries) if n <= args.n_queries})
    print(f"{bench.name} / {dataset}: {len(archs)} candidates, {args.n_queries} queries, "
          f"seeds 0..{seeds[-1]}; mean best value so far (std)")
    print(f"{'method':<8} " + " ".join(f"{'@' + str(n):>14}" for n in marks))
    results = {}
    for name, (search, X) in methods.items():
        curves = simulate(search, bench, dataset, X=X, architectures=archs,
                          n_queries=args.n_queries, seeds=seeds, method=name,
                          n_jobs=args.n_jobs, path=out / f"{dataset}_{name}.json")
        results[name] = curves
        print(f"{name:<8} " + " ".join(
            f"{curves.mean[n - 1]:>7.2f} ({curves.std[n - 1]:4.2f})" for n in marks),
            flush=True)
    print(f"table optimum over the candidates: {next(iter(results.values())).optimum:.2f}; "
          f"curves in {out}/")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        plot_curves(results, ax=axes[0])
        axes[0].set_ylim(bottom=float(np.nanmin([c.mean[min(9, c.n_queries - 1)]
                                                 for c in results.values()])))
        plot_curves(results, regret=True, ax=axes[1], band="quartiles")
        fig.tight_layout()
        fig.savefig(out / f"{dataset}.png", dpi=120)
        plt.close(fig)
        print(f"figure: {out / f'{dataset}.png'}")
    return 0


# ---------------------------------------------------------------------- transfer
def _store_space(store):
    prefixes = {key.split(":", 1)[0] for key in store.archs}
    if len(prefixes) != 1:
        raise ValueError(f"{store.path} mixes search spaces ({sorted(prefixes)}); give one "
                         "store per space")
    prefix = prefixes.pop()
    return "nb201" if prefix == "tss" else prefix


def _cmd_transfer(args):
    import numpy as np
    from scipy.stats import kendalltau, pearsonr

    from .embedding import ContrastiveEmbedder
    from .features import EPDJMStore, SpectralFeatures
    from .transfer import TransferRegressor

    source, target = EPDJMStore(args.source), EPDJMStore(args.target)
    spaces = [_store_space(source), _store_space(target)]
    src_table = _load_table(spaces[0], args.data_home, args.download)
    src_archs = [key.split(":", 1)[1] for key in source.archs]
    tgt_archs = [key.split(":", 1)[1] for key in target.archs]
    y_src = np.asarray(src_table.accuracy(src_archs, args.source_dataset), dtype=float)
    X = np.concatenate([np.asarray(source.epdjm()), np.asarray(target.epdjm())])
    log_params = np.log(np.concatenate([source.n_parameters(), target.n_parameters()])
                        .astype(np.float64))
    y = np.concatenate([y_src, np.full(len(target), np.nan)])
    if args.features == "params":
        X, embedder = log_params[:, None], "passthrough"
    elif args.features == "spectral":
        X = np.column_stack([SpectralFeatures().fit_transform(X), log_params])
        embedder = "passthrough"
    else:
        embedder = ContrastiveEmbedder(max_iter=args.max_iter, device=args.device,
                                       random_state=args.seed)
    reg = TransferRegressor(features="passthrough", embedder=embedder, random_state=args.seed)
    print(f"fitting on {len(source)} labelled {spaces[0]} architectures "
          f"({src_table.name}, {args.source_dataset or src_table.datasets[0]}) and "
          f"{len(target)} unlabelled {spaces[1]} ones; features: {args.features}", flush=True)
    if args.features == "embedding+params":
        emb = reg.fit(X, y).transform(X)
        X = np.column_stack([emb, log_params])
        reg = TransferRegressor(features="passthrough", embedder="passthrough",
                                random_state=args.seed)
    reg.fit(X, y)
    prediction = reg.predict(X[len(source):])
    lines = ["architecture,prediction"]
    lines += [f"{a},{p:.6g}" for a, p in zip(tgt_archs, prediction, strict=True)]
    message = ""
    try:
        tgt_table = _load_table(spaces[1], args.data_home, None)
    except FileNotFoundError:
        tgt_table = None
    if tgt_table is not None:
        truth = np.asarray(tgt_table.accuracy(tgt_archs, args.target_dataset), dtype=float)
        lines = ["architecture,prediction,accuracy"] + [
            f"{a},{p:.6g},{t:.6g}" for a, p, t in zip(tgt_archs, prediction, truth, strict=True)]
        tau, r = kendalltau(prediction, truth).statistic, pearsonr(prediction, truth).statistic
        tau_p = kendalltau(log_params[len(source):], truth).statistic
        message = (f"; against the {tgt_table.name} table "
                   f"({args.target_dataset or tgt_table.datasets[0]}): Kendall tau {tau:.3f}, "
                   f"Pearson r {r:.3f} (the parameter count alone: tau {tau_p:.3f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"{out}: predicted accuracy of {len(target)} {spaces[1]} architectures{message}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cenas",
        description="Contrastive embeddings of neural architectures, and search over them.",
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"cenas_sklearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo", help="the whole method on a CPU in a few minutes (offline)",
        description="Sample NB201 architectures, compute their EPDJMs, train the contrastive "
        "embedder, and search the sample by Bayesian optimisation on the embeddings against "
        "random search with the same budget. The objective trains each candidate on "
        "scikit-learn's digits (offline), or replays a benchmark table with --benchmark. "
        "Writes report.json and demo.png under --out.",
        epilog=_EPILOG_DEMO, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--n-archs", type=_positive_int, default=200,
                      help="NB201 architectures sampled, the candidates (default: 200)")
    demo.add_argument("--n-evaluations", type=_positive_int, default=20,
                      help="evaluations per search (default: 20)")
    demo.add_argument("--n-initial-points", type=int, default=5,
                      help="random evaluations before the GP (default: 5)")
    demo.add_argument("--train-epochs", type=_positive_int, default=None,
                      help="epochs of training per candidate on the digits (default: 1)")
    demo.add_argument("--embed-epochs", type=_positive_int, default=150,
                      help="epochs of contrastive training (default: 150)")
    demo.add_argument("--benchmark", metavar="DATA_HOME", default=None,
                      help="replay on the NB201 table found in DATA_HOME/nb201-lighton/ "
                      "instead of training")
    demo.add_argument("--dataset", default=None,
                      help="the table's dataset with --benchmark (default: cifar10)")
    demo.add_argument("--n-seeds", type=_positive_int, default=None,
                      help="seeds per search with --benchmark (default: 10)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="cenas-demo",
                      help="folder of report.json and demo.png (default: cenas-demo)")
    demo.add_argument("--n-jobs", type=int, default=None, help="parallel architectures")
    demo.add_argument("--quiet", action="store_true", help="no progress")
    demo.set_defaults(func=_cmd_demo)

    spaces = sub.add_parser("spaces", help="list the search spaces",
                            description="List the search spaces with a built network each.")
    spaces.set_defaults(func=_cmd_spaces)

    epdjm = sub.add_parser(
        "epdjm", help="compute EPDJMs of a search space into a resumable store",
        description="Compute the EPDJM features of a whole search space (or a random sample) "
        "into an on-disk store, chunk by chunk. Interrupt at any time; rerunning the same "
        "command resumes from the finished chunks.",
        epilog=_EPILOG_EPDJM, formatter_class=argparse.RawDescriptionHelpFormatter)
    epdjm.add_argument("--space", required=True, choices=("nb201", "tss", "sss"))
    epdjm.add_argument("--out", required=True, help="folder of the store")
    epdjm.add_argument("--n-archs", type=_positive_int, default=None,
                       help="a random sample of this many architectures (default: all)")
    epdjm.add_argument("--chunk-size", type=_positive_int, default=256,
                       help="architectures per chunk, the unit of resumption (default: 256)")
    epdjm.add_argument("--overwrite", action="store_true",
                       help="replace a store with other settings at --out")
    epdjm.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_epdjm_options(epdjm)
    epdjm.set_defaults(func=_cmd_epdjm)

    embed = sub.add_parser(
        "embed", help="train the contrastive embedder on EPDJM stores and embed them",
        description="Train a ContrastiveEmbedder on the EPDJMs of one or more finished "
        "stores (all their architectures, or --n-fit of each) and write, under --out, "
        "embedder.joblib, one <store>.npy of embeddings and <store>.archs.txt per store, "
        "and manifest.json.",
        epilog=_EPILOG_EMBED, formatter_class=argparse.RawDescriptionHelpFormatter)
    embed.add_argument("stores", nargs="+", metavar="STORE", help="folders of EPDJM stores")
    embed.add_argument("--out", required=True, help="output folder")
    embed.add_argument("--n-fit", type=_positive_int, default=None,
                       help="train on a random sample of this many architectures per store "
                       "(default: all); every architecture is embedded")
    embed.add_argument("--max-iter", type=_positive_int, default=150,
                       help="epochs (default: 150)")
    embed.add_argument("--embedding-dim", type=_positive_int, default=256)
    embed.add_argument("--log-n-parameters", action="store_true",
                       help="give the embedder each network's log parameter count too")
    embed.add_argument("--batch-size", type=_positive_int, default=512)
    embed.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    embed.add_argument("--seed", type=int, default=0)
    embed.add_argument("--quiet", action="store_true", help="no per-epoch table")
    embed.set_defaults(func=_cmd_embed)

    for name, func, help_, description, epilog in (
        ("search", _cmd_search, "run one search on a benchmark table",
         "Search the candidates (the rows of --embeddings, or the whole space) for the best "
         "accuracy of a benchmark table, with one method and one seed; print the best "
         "architecture and write the history as JSON.", _EPILOG_SEARCH),
        ("simulate", _cmd_simulate, "replay searches over many seeds (best-so-far curves)",
         "Replay searches on a benchmark table over --seeds seeds per method, print the mean "
         "best accuracy after 10, 25, 50 and --n-queries queries, and write the curves as "
         "JSON (and a PNG with --plot).", _EPILOG_SIMULATE),
    ):
        cmd = sub.add_parser(name, help=help_, description=description, epilog=epilog,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.add_argument("--space", choices=("nb201", "tss", "sss"), default="nb201",
                         help="the search space and its table (default: nb201)")
        cmd.add_argument("--dataset", default=None,
                         help="the table's dataset (default: its first: cifar10 for nb201, "
                         "cifar10-valid for sss)")
        cmd.add_argument("--data-home", default=None,
                         help="folder holding nb201-lighton/ or natsss-lighton/ (default: "
                         "$CENAS_DATA, else ~/cenas_sklearn_data)")
        cmd.add_argument("--download", action="store_true",
                         help="download a missing table (checksum-verified)")
        cmd.add_argument("--embeddings", default=None,
                         help="embeddings .npy from cenas embed (its .archs.txt beside it "
                         "names the candidates); default: every architecture of the space")
        cmd.add_argument("--n-initial-points", type=int, default=10,
                         help="random evaluations before the GP (default: 10)")
        cmd.add_argument("--acq-func", choices=("EI", "PI", "LCB", "gp_hedge"), default="EI")
        if name == "search":
            cmd.add_argument("--method", choices=_METHODS, default="bo",
                             help="bo (on --embeddings), onehot (GP-BO on the one-hot "
                             "encoding), random, rea (default: bo)")
            cmd.add_argument("--n-iter", type=_positive_int, default=100)
            cmd.add_argument("--seed", type=int, default=0)
            cmd.add_argument("--checkpoint", default=None,
                             help="JSON file of the history after each evaluation; resumed "
                             "from if it exists")
            cmd.add_argument("--out", default=None, help="write the history as JSON here")
            cmd.add_argument("--quiet", action="store_true", help="no line per evaluation")
        else:
            cmd.add_argument("--methods", nargs="+", choices=_METHODS,
                             default=["random", "rea", "onehot"],
                             help="methods to replay (default: random rea onehot; add bo "
                             "with --embeddings)")
            cmd.add_argument("--seeds", type=_positive_int, default=30,
                             help="runs per method, seeds 0..N-1 (default: 30)")
            cmd.add_argument("--n-queries", type=_positive_int, default=100)
            cmd.add_argument("--n-jobs", type=int, default=None, help="runs in parallel")
            cmd.add_argument("--out", default="cenas-simulate", help="folder of the curves")
            cmd.add_argument("--plot", action="store_true", help="also write a PNG")
        cmd.set_defaults(func=func)

    transfer = sub.add_parser(
        "transfer", help="rank one search space with the accuracies of another",
        description="Fit a TransferRegressor on the EPDJMs of two stores (one per search "
        "space): the embedder learns from both, a random forest from the --source "
        "architectures' accuracies in their table. Writes the predicted accuracy of every "
        "--target architecture as CSV, and scores it against the target's table when "
        "available, beside the parameter count alone.",
        epilog=_EPILOG_TRANSFER, formatter_class=argparse.RawDescriptionHelpFormatter)
    transfer.add_argument("--source", required=True, help="EPDJM store of the labelled space")
    transfer.add_argument("--target", required=True, help="EPDJM store of the space to rank")
    transfer.add_argument("--source-dataset", default=None,
                          help="dataset of the source table (default: its first)")
    transfer.add_argument("--target-dataset", default=None,
                          help="dataset of the target table, for scoring (default: its first)")
    transfer.add_argument("--features", default="embedding",
                          choices=("embedding", "embedding+params", "spectral", "params"),
                          help="what the forest reads: the contrastive embedding (default), "
                          "with the log parameter count, the spectral features, or the log "
                          "parameter count alone")
    transfer.add_argument("--max-iter", type=_positive_int, default=150,
                          help="embedder epochs (default: 150)")
    transfer.add_argument("--data-home", default=None,
                          help="folder holding the tables (default: $CENAS_DATA)")
    transfer.add_argument("--download", action="store_true",
                          help="download a missing source table (checksum-verified)")
    transfer.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    transfer.add_argument("--seed", type=int, default=0)
    transfer.add_argument("--out", default="transfer-predictions.csv")
    transfer.set_defaults(func=_cmd_transfer)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("cenas: interrupted", file=sys.stderr)
        return 130
    except _USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"cenas: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
