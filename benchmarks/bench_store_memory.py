"""Peak memory of computing EPDJMs into an on-disk store, for the whole process tree.

Runs ``cenas epdjm`` in a subprocess and samples the resident memory of it and of its
children (joblib workers) every 0.2 s; prints the peak, the time and the architectures
per second. Memory must stay bounded as the number of architectures grows: the store
writes each chunk to memory-mapped files.

    python benchmarks/bench_store_memory.py --n-archs 2000
    python benchmarks/bench_store_memory.py --n-archs 2000 -- --n-jobs 2
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time

import psutil


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-archs", type=int, default=2000)
    parser.add_argument("--space", default="nb201")
    parser.add_argument("extra", nargs="*", help="more `cenas epdjm` options, after --")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "cenas_sklearn", "epdjm", "--space", args.space,
               "--n-archs", str(args.n_archs), "--out", f"{tmp}/store", "--quiet", *args.extra]
        print(" ".join(cmd[2:]), flush=True)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd)
        ps, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(ps))
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"cenas epdjm failed with status {proc.returncode}")
    print(f"{args.n_archs} architectures in {elapsed:.0f} s ({args.n_archs / elapsed:.2f} "
          f"arch/s); peak resident memory of the process tree {peak / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
