"""What ``cenas embed``, ``search``, ``simulate`` and ``transfer`` do (their parsers are in
:mod:`cenas_sklearn.cli`). Heavy imports stay inside the functions, so the CLI starts fast."""

from __future__ import annotations

import time
from pathlib import Path


# ---------------------------------------------------------------------- shared helpers
def load_table(space, data_home, download):
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


def _cli_space(space):
    """The command line's name of a space: ``"nb201"`` for NATS-Bench's ``"tss"``."""
    return "nb201" if space == "tss" else space


def _split_keys(keys, where):
    """The one space and the architectures of ``space:architecture`` keys (a store's
    ``archs``, or the ``.archs.txt`` of ``cenas embed``)."""
    prefixes = {key.split(":", 1)[0] for key in keys}
    if len(prefixes) != 1:
        raise ValueError(f"{where} mixes search spaces ({sorted(prefixes)}); give one "
                         "space at a time")
    return _cli_space(prefixes.pop()), [key.split(":", 1)[1] for key in keys]


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
        key_space, archs = _split_keys(sidecar.read_text().splitlines(), sidecar)
        if key_space != _cli_space(space):
            raise ValueError(f"{sidecar} holds architectures of the {key_space} space, "
                             f"not of the {space} space")
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
def cmd_embed(args):
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
def cmd_search(args):
    import numpy as np

    from .search import BenchmarkObjective

    bench = load_table(args.space, args.data_home, args.download)
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


def cmd_simulate(args):
    import numpy as np

    from .search import plot_curves, simulate

    bench = load_table(args.space, args.data_home, args.download)
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


def cmd_transfer(args):
    import numpy as np
    from scipy.stats import kendalltau, pearsonr
    from sklearn.base import clone

    from .embedding import ContrastiveEmbedder
    from .features import EPDJMStore, SpectralFeatures
    from .transfer import TransferRegressor

    source, target = EPDJMStore(args.source), EPDJMStore(args.target)
    (src_space, src_archs), (tgt_space, tgt_archs) = (
        _split_keys(store.archs, store.path) for store in (source, target))
    spaces = [src_space, tgt_space]
    src_table = load_table(spaces[0], args.data_home, args.download)
    y_src = np.asarray(src_table.accuracy(src_archs, args.source_dataset), dtype=float)
    epdjm = np.concatenate([np.asarray(source.epdjm()), np.asarray(target.epdjm())])
    log_params = np.log(np.maximum(np.concatenate([source.n_parameters(),
                                                   target.n_parameters()]), 1)
                        .astype(np.float64))
    y = np.concatenate([y_src, np.full(len(target), np.nan)])
    labels = np.array([spaces[0]] * len(source) + [spaces[1]] * len(target))
    if args.features == "params":
        X, embedder = log_params[:, None], "passthrough"
    elif args.features == "spectral":
        X = np.column_stack([SpectralFeatures().fit_transform(epdjm), log_params])
        embedder = "passthrough"
    else:  # the embedder reads the EPDJMs and the log parameter count
        X = np.column_stack([epdjm.reshape(len(epdjm), -1), log_params])
        embedder = ContrastiveEmbedder(feature_shape=epdjm.shape[1:], log_n_parameters=True,
                                       max_iter=args.max_iter, device=args.device,
                                       random_state=args.seed)
    reg = TransferRegressor(features="passthrough", embedder=embedder, align=args.align,
                            n_embedders=args.n_embedders if embedder != "passthrough" else 1,
                            random_state=args.seed)
    print(f"fitting on {len(source)} labelled {spaces[0]} architectures "
          f"({src_table.name}, {args.source_dataset or src_table.datasets[0]}) and "
          f"{len(target)} unlabelled {spaces[1]} ones; features: {args.features}"
          + (f" ({reg.n_embedders} embedders)" if reg.n_embedders > 1 else "")
          + f", align: {args.align}", flush=True)
    if args.features == "embedding+params":
        emb = clone(reg).set_params(align="none").fit(X, y).transform(X)
        X = np.column_stack([emb, log_params])
        reg.set_params(embedder="passthrough", n_embedders=1)  # one forest on all of it
    reg.fit(X, y, spaces=labels)
    prediction = reg.predict(X[len(source):], spaces=labels[len(source):])
    lines = ["architecture,prediction"]
    lines += [f"{a},{p:.6g}" for a, p in zip(tgt_archs, prediction, strict=True)]
    message = ""
    try:
        tgt_table = load_table(spaces[1], args.data_home, None)
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
