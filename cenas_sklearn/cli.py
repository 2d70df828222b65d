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

from ._commands import cmd_embed, cmd_search, cmd_simulate, cmd_transfer, load_table

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
    group.add_argument("--probe-images", choices=("natural", "gaussian"), default="natural",
                       help="natural-image crops (default) or standard normal noise")
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
        probe_images=args.probe_images, n_components=args.n_components,
        normalize=args.normalize, precision=args.precision,
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
        benchmark = load_table("nb201", args.benchmark, download=None)
    run_demo(n_archs=args.n_archs, n_evaluations=args.n_evaluations,
             n_initial_points=args.n_initial_points, train_epochs=args.train_epochs,
             embed_epochs=args.embed_epochs, benchmark=benchmark, dataset=args.dataset,
             n_seeds=args.n_seeds, seed=args.seed, out=args.out, n_jobs=args.n_jobs,
             verbose=0 if args.quiet else 1)
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
    embed.set_defaults(func=cmd_embed)

    for name, func, help_, description, epilog in (
        ("search", cmd_search, "run one search on a benchmark table",
         "Search the candidates (the rows of --embeddings, or the whole space) for the best "
         "accuracy of a benchmark table, with one method and one seed; print the best "
         "architecture and write the history as JSON.", _EPILOG_SEARCH),
        ("simulate", cmd_simulate, "replay searches over many seeds (best-so-far curves)",
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
    transfer.add_argument("--max-iter", type=_positive_int, default=10,
                          help="embedder epochs (default: 10; a short training transfers "
                          "better across spaces)")
    transfer.add_argument("--n-embedders", type=_positive_int, default=1,
                          help="train this many embedders from their own seeds and average "
                          "their forests' predictions (default: 1; 5 makes the ranking much "
                          "less dependent on the seed, at 5 times the cost)")
    transfer.add_argument("--align", choices=("standardize", "none"), default="standardize",
                          help="standardise each space's features with its own statistics "
                          "before the forest (default), or not")
    transfer.add_argument("--data-home", default=None,
                          help="folder holding the tables (default: $CENAS_DATA)")
    transfer.add_argument("--download", action="store_true",
                          help="download a missing source table (checksum-verified)")
    transfer.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    transfer.add_argument("--seed", type=int, default=0)
    transfer.add_argument("--out", default="transfer-predictions.csv")
    transfer.set_defaults(func=cmd_transfer)
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
