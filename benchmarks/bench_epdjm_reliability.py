"""How much of an EPDJM is the architecture, and how much the initialisation?

A contrastive embedder can only recognise an architecture across initialisations through
features that change less from one initialisation to the next than from one architecture
to the next. This script measures that directly, with no training. For ``--n-archs`` NB201
cells computing distinct functions (one per isomorphism class; those whose output ignores the
input, with an all-zero Jacobian, are then left out), it computes EPDJMs under ``--n-inits``
initialisations for each ``--setting``. For each family of features that do not depend on the
singular basis or its signs, it then reports:

- the intraclass correlation (ICC) of each feature: the share of its variance that lies
  between architectures rather than between the initialisations of one architecture
  (1: the initialisation does not matter; 0: pure initialisation noise). The median and
  the 90th percentile over the features of the family;
- the identification accuracy of the family, standardised, by nearest neighbour (cosine)
  across initialisations (chance: 1 / number of cells); not for the one-number ``scale``,
  whose cosine similarity is only its sign.

The families are ``gram``, the probe-by-probe cosine similarities of the Jacobian rows in
the top-k subspace (what ``ContrastiveEmbedder(representation="gram")`` reads); ``row-norms``,
each probe's log Jacobian-row norm minus the set's mean; ``scale``, that mean; ``spectrum``,
the log singular values; ``shape``, the log singular values minus the largest.

A setting is ``C,N,n_probe,probe_size,k`` (NB201 width and cells per stage, probe batch,
components). ``--probes shifted`` uses a quarter of the natural crops and three copies of them
circularly shifted by one or two pixels, so that related probes are compared.

    python benchmarks/bench_epdjm_reliability.py
    python benchmarks/bench_epdjm_reliability.py --setting 16,5,64,16,32 --probes gaussian
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from cenas_sklearn.embedding import identification_accuracy
from cenas_sklearn.embedding._inputs import set_extras, set_rows
from cenas_sklearn.features import EPDJMTransformer, gaussian_probe_images, natural_probe_images
from cenas_sklearn.spaces import NB201Space

FAMILIES = ("gram", "row-norms", "scale", "spectrum", "shape")
DEFAULT_SETTINGS = ["16,5,64,16,32", "16,5,64,16,64", "16,5,64,32,64", "64,1,64,16,32",
                    "32,2,64,16,32"]


def distinct_cells(n, random_state):
    """``n`` random NB201 indices, one per isomorphism class."""
    space = NB201Space()
    seen, keep = set(), []
    for i in np.random.RandomState(random_state).permutation(len(space)):
        key = space.canonical(int(i))
        if key not in seen:
            seen.add(key)
            keep.append(int(i))
            if len(keep) == n:
                break
    return keep


def probe_batch(kind, n_probe, size):
    if kind == "natural":
        return natural_probe_images(n_probe, size)
    if kind == "gaussian":
        return gaussian_probe_images(n_probe, size)
    if n_probe % 4:
        raise SystemExit(f"--probes shifted needs n_probe divisible by 4, got {n_probe}")
    base = natural_probe_images(n_probe // 4, size)
    shifts = [(0, 0), (0, 1), (1, 0), (2, 2)]
    return np.concatenate([np.roll(base, (dy, dx), axis=(2, 3)) for dy, dx in shifts])


def intraclass_correlation(values):
    """Per-feature ICC(1) of ``values`` of shape (n_archs, n_inits, n_features)."""
    n_inits = values.shape[1]
    within = values.var(axis=1, ddof=1).mean(axis=0)
    between = values.mean(axis=1).var(axis=0, ddof=1) - within / n_inits
    total = between + within
    return np.where(total > 0, between / np.where(total > 0, total, 1.0), 0.0)


def families(epdjm):
    """Basis- and sign-free features of EPDJM sets (n_archs, n_inits, n_probe, k)."""
    n_probe = epdjm.shape[2]
    rows = set_rows(epdjm, "gram")
    upper = np.triu_indices(n_probe, 1)
    log_norms = rows[..., n_probe]
    scale = log_norms.mean(axis=-1, keepdims=True)
    spectrum = set_extras(epdjm, None, spectrum=True)  # what spectrum=True feeds the encoder
    return {
        "gram": rows[..., :n_probe][:, :, upper[0], upper[1]],
        "row-norms": log_norms - scale,
        "scale": scale,
        "spectrum": spectrum,
        "shape": spectrum[..., 1:] - spectrum[..., :1],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", nargs="+", default=DEFAULT_SETTINGS,
                        help="C,N,n_probe,probe_size,k (default: %(default)s)")
    parser.add_argument("--probes", choices=["natural", "gaussian", "shifted"],
                        default="natural")
    parser.add_argument("--n-archs", type=int, default=150)
    parser.add_argument("--n-inits", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.n_inits < 2:
        parser.error("--n-inits must be at least 2")

    cells = distinct_cells(args.n_archs, args.random_state)
    print(f"{len(cells)} NB201 cells with distinct functions, {args.n_inits} initialisations, "
          f"{args.probes} probes")
    print(f"{'setting':<16} {'s/arch':>6}  " + "  ".join(
        f"{name + ' ICC med/p90 id':>26}" for name in FAMILIES))
    results = []
    for setting in args.setting:
        C, N, n_probe, size, k = (int(v) for v in setting.split(","))
        transformer = EPDJMTransformer(
            space=NB201Space(C=C, N=N), n_inits=args.n_inits,
            probe_images=probe_batch(args.probes, n_probe, size), n_components=k,
            device="cpu", n_jobs=args.n_jobs, random_state=0).fit(cells[:1])
        start = time.perf_counter()
        X = transformer.transform(cells)
        seconds = (time.perf_counter() - start) / len(cells)
        epdjm = X.reshape(len(cells), *transformer.feature_shape_).astype(np.float64)
        epdjm = epdjm[epdjm.reshape(len(cells), -1).any(axis=1)]
        row = {"setting": setting, "probes": args.probes, "seconds_per_arch": seconds,
               "n_archs": len(epdjm)}
        cols = []
        for name, values in families(epdjm).items():
            icc = intraclass_correlation(values)
            flat = values.reshape(-1, values.shape[-1])
            z = (values - flat.mean(axis=0)) / (flat.std(axis=0) + 1e-12)
            ident = identification_accuracy(z) if values.shape[-1] > 1 else None
            row[name] = {"icc_median": float(np.median(icc)),
                         "icc_p90": float(np.quantile(icc, 0.9)), "identification": ident}
            cols.append(f"{row[name]['icc_median']:>9.2f} {row[name]['icc_p90']:>5.2f} "
                        + (f"{ident:>10.3f}" if ident is not None else f"{'-':>10}"))
        results.append(row)
        print(f"{setting:<16} {seconds:>6.2f}  " + "  ".join(cols)
              + f"  (chance {1 / len(epdjm):.4f})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
