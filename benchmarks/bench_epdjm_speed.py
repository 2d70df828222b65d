"""EPDJMTransformer vs the straightforward reference, timed side by side in one run.

Paper settings by default (256 probes of 32x32, 4 initialisations, 128 components) on the
all-``nor_conv_3x3`` NB201 cell and 20 random NB201 cells. For every architecture the two
implementations run back to back (order alternating) with the same seeds; the script prints
each time, the median ratio, the total ratio and the max relative difference of the outputs
(max |ours - ref| / max |ref|, per architecture). It also times the *floor*: the forward pass
and the input gradient alone, on networks built beforehand (no construction, no
decomposition, nothing else), whatever the implementation around them. ``ref / floor`` is the
largest speed-up any implementation can reach while running the same networks with the same
kernels (and so the same rounding). Where the difference exceeds 1e-4, it also compares
both with a float64 SVD of the same Jacobians, to tell whose rounding it is (contiguous
layout only). ``--memory-format channels_last`` times ours in that layout, whose kernels
round differently; ``--jacobian-error`` then says how far each layout's float32 Jacobian is
from the float64 network's. On CUDA it also
prints architectures per second and the projected time for the whole 15,625-architecture
space.

    python benchmarks/bench_epdjm_speed.py                 # paper settings, CPU
    python benchmarks/bench_epdjm_speed.py --n-random 5 --n-probe 64 --probe-size 16
    python benchmarks/bench_epdjm_speed.py --device cuda --skip-reference
    python benchmarks/bench_epdjm_speed.py --memory-format channels_last
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epdjm_reference import reference_epdjm

from cenas_sklearn._device import resolve_device
from cenas_sklearn.features._jacobian import (
    build_module,
    compute_epdjm,
    init_seed,
    input_jacobian,
)
from cenas_sklearn.features._probes import natural_probe_images
from cenas_sklearn.spaces import NB201Space

ALL_CONV = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
            "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")


def float64_truth(factory, probes, seeds, n_components):
    """U_k Σ_k from a float64 SVD of the same float32 Jacobians (same sign convention)."""
    out = []
    for seed in seeds:
        jac = input_jacobian(build_module(factory, seed), probes).double()
        u, s, _ = torch.linalg.svd(jac, full_matrices=False)
        u = u[:, :n_components]
        u = u * torch.sign(u[u.abs().argmax(dim=0), torch.arange(u.shape[1])])
        out.append((u * s[:n_components]).numpy())
    return np.stack(out)


def jacobian_errors(factory, probes, seed, memory_format):
    """max |J32 - J64| / max |J64| of the float32 Jacobian in ours' layout and in the
    contiguous one, J64 being the Jacobian of the same network in float64."""
    truth = input_jacobian(build_module(factory, seed).double(), probes.double())
    scale = truth.abs().max().clamp_min(torch.finfo(torch.float64).tiny)

    def error(layout):
        jac = input_jacobian(build_module(factory, seed), probes, memory_format=layout)
        return float((jac.double() - truth).abs().max() / scale)

    return {"jacobian_error": error(memory_format),
            "contiguous_jacobian_error": error(torch.contiguous_format)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-random", type=int, default=20)
    parser.add_argument("--n-probe", type=int, default=256)
    parser.add_argument("--probe-size", type=int, default=32)
    parser.add_argument("--n-inits", type=int, default=4)
    parser.add_argument("--n-components", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory-format", choices=("contiguous", "channels_last"),
                        default="contiguous",
                        help="ours (and the floor) in this layout; the reference stays "
                             "contiguous")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--jacobian-error", action="store_true",
                        help="also compare the float32 Jacobians with float64 networks (slow)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    memory_format = {"contiguous": torch.contiguous_format,
                     "channels_last": torch.channels_last}[args.memory_format]
    space = NB201Space()
    archs = [ALL_CONV, *space.sample(args.n_random, random_state=args.seed)]
    probes = torch.from_numpy(natural_probe_images(args.n_probe, args.probe_size))
    seeds = [init_seed(args.seed, i) for i in range(args.n_inits)]
    print(f"device={device} memory_format={args.memory_format} "
          f"threads={torch.get_num_threads()} n_probe={args.n_probe} "
          f"size={args.probe_size} n_inits={args.n_inits} k={args.n_components} "
          f"archs={len(archs)}", flush=True)

    def ours(factory):
        out = compute_epdjm(factory, probes, seeds, args.n_components, device=device,
                            memory_format=memory_format)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return out["epdjm"]

    def ref(factory):
        return reference_epdjm(factory, probes, seeds, args.n_components)

    def floor(factory):
        """Seconds of the forward passes and input gradients alone, networks prebuilt."""
        nets = [build_module(factory, seed).to(device, memory_format=memory_format).train()
                for seed in seeds]
        for net in nets:
            net.requires_grad_(False)
        x = probes.to(device).contiguous(memory_format=memory_format)
        start = time.perf_counter()
        for net in nets:
            xi = x.clone().requires_grad_(True)
            torch.autograd.grad(net(xi).sum(), xi)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    ours(partial(space.build, archs[1]))  # warm-up: oneDNN / cuDNN primitive creation
    rows = []
    for i, arch in enumerate(archs):
        factory = partial(space.build, arch)
        order = [("ours", ours), ("ref", ref)] if i % 2 == 0 else [("ref", ref), ("ours", ours)]
        times, outs = {}, {}
        for name, fn in order:
            if name == "ref" and args.skip_reference:
                continue
            start = time.perf_counter()
            outs[name] = fn(factory)
            times[name] = time.perf_counter() - start
        row = {"arch": arch, "ours_s": times["ours"], "floor_s": floor(factory)}
        if "ref" in times:
            scale = np.abs(outs["ref"]).max()
            row["ref_s"] = times["ref"]
            row["ratio"] = times["ref"] / times["ours"]
            row["floor_ratio"] = times["ref"] / row["floor_s"]
            row["max_rel_diff"] = float(np.abs(outs["ours"] - outs["ref"]).max() / scale) \
                if scale > 0 else float(np.abs(outs["ours"]).max())
        if args.jacobian_error:
            row.update(jacobian_errors(factory, probes, seeds[0], memory_format))
        if row.get("max_rel_diff", 0) > 1e-4 and memory_format is torch.contiguous_format:
            truth = float64_truth(factory, probes, seeds, args.n_components)
            scale = np.abs(truth).max()
            row["ours_vs_float64"] = float(np.abs(outs["ours"] - truth).max() / scale)
            row["ref_vs_float64"] = float(np.abs(outs["ref"] - truth).max() / scale)
        rows.append(row)
        print(f"[{i:2d}] ours {row['ours_s']:7.2f}s  floor {row['floor_s']:7.2f}s" + (
            f"  ref {row['ref_s']:7.2f}s  ratio {row['ratio']:5.2f} (ceiling "
            f"{row['floor_ratio']:4.2f})  "
            f"max rel diff {row['max_rel_diff']:.1e}" if "ref_s" in row else ""
        ) + ("  (all-conv)" if i == 0 else ""), flush=True)
        if "jacobian_error" in row:
            print(f"     float32 Jacobian vs the float64 network (first init): ours "
                  f"{row['jacobian_error']:.1e}, contiguous {row['contiguous_jacobian_error']:.1e}")
        if "ours_vs_float64" in row:
            print(f"     vs a float64 SVD of the same Jacobians: ours "
                  f"{row['ours_vs_float64']:.1e}, reference {row['ref_vs_float64']:.1e}")

    ours_total = sum(r["ours_s"] for r in rows)
    summary = {"device": device, "memory_format": args.memory_format, "n_archs": len(rows),
               "ours_total_s": ours_total,
               "archs_per_s": len(rows) / ours_total,
               "projected_nb201_s": len(space) * ours_total / len(rows)}
    if not args.skip_reference:
        summary.update(
            all_conv_ratio=rows[0]["ratio"],
            all_conv_ceiling=rows[0]["floor_ratio"],
            median_ceiling=float(np.median([r["floor_ratio"] for r in rows])),
            total_ceiling=sum(r["ref_s"] for r in rows) / sum(r["floor_s"] for r in rows),
            median_ratio=float(np.median([r["ratio"] for r in rows])),
            total_ratio=sum(r["ref_s"] for r in rows) / ours_total,
            max_rel_diff=max(r["max_rel_diff"] for r in rows),
        )
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
