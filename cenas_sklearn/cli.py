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

_USER_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError, NotADirectoryError,
                PermissionError, IndexError)

_EPILOG_EPDJM = """examples:
  cenas epdjm --space nb201 --out nb201-epdjm --n-probe 64 --probe-size 16 --n-inits 3 \\
      --n-components 32 --n-jobs 2        # the whole space; rerun the same line to resume
  cenas epdjm --space sss --n-archs 3000 --seed 0 --out sss-3000
"""


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
    import numpy as np

    from .features import EPDJMTransformer
    from .spaces import NATSSizeSpace, NB201Space

    nb201, sss = NB201Space(), NATSSizeSpace()
    archs = nb201.sample(args.n_archs, random_state=args.seed) + \
        sss.sample(args.n_archs, random_state=args.seed)
    epdjm = EPDJMTransformer(n_inits=2, n_probe=32, probe_size=16, n_components=16,
                             random_state=args.seed, verbose=1)
    start = time.perf_counter()
    out = epdjm.fit().compute(archs)
    elapsed = time.perf_counter() - start
    print(f"\nEPDJMs of {len(archs)} untrained networks (2 inits, 32 probes of 16x16, k=16) "
          f"in {elapsed:.1f} s\n")
    print(f"{'space':<6} {'params':>9}  {'top sigma':>9}  {'eff. rank':>9}  architecture")
    for arch, n_params, sigma in zip(archs, out.n_parameters, out.singular_values, strict=True):
        s = sigma.mean(axis=0)
        p = s / s.sum() if s.sum() > 0 else s
        eff_rank = float(np.exp(-(p[p > 0] * np.log(p[p > 0])).sum())) if s.sum() > 0 else 0.0
        name = "nb201" if "|" in arch else "sss"
        print(f"{name:<6} {n_params:>9,}  {s[0]:>9.3f}  {eff_rank:>9.1f}  {arch}")
    print("\n(The full demo -- contrastive embedding and Bayesian search -- is being built;"
          " see the README.)")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cenas",
        description="Contrastive embeddings of neural architectures, and search over them.",
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"cenas_sklearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="run the method on a few architectures (offline, CPU)",
                          description="Compute EPDJMs of a few NB201 and size-space networks "
                          "and print their spectra.")
    demo.add_argument("--n-archs", type=_positive_int, default=8,
                      help="architectures per space (default: 8)")
    demo.add_argument("--seed", type=int, default=0)
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
