"""What do the Gram matrix's written-out gradient and keeping freed memory save per pass? (CI does not run it.)

One forward+backward pass of the default `StyleObjective` at 300x450, with the network `vgg19()`, as `transfer()`
builds it (channel-last, bfloat16 where the processor has the instructions), in four configurations:

- gram: `autograd` (the Gram matrix differentiated by autograd as `X @ X.T`, what `gram` did before) or `product`
  (`gram` as it is: `GramProduct`, one product);
- malloc: `default` (glibc's own settings) or `keep` (`keep_freed_memory()` below: no fresh pages each pass).

`keep_freed_memory` changes the whole process and cannot be undone, so each configuration runs in a process of its
own, and the configurations take turns for `--rounds` rounds, so that other work on the machine slows them alike.
Each process reports the median of `--repeats` passes after one warm-up, and the minor page faults per pass.

    python benchmarks/overhead.py                   # about 3 minutes on 2 CPU cores
    python benchmarks/overhead.py --size 150 225 --rounds 1 --repeats 3   # a smoke run
"""

from __future__ import annotations

import argparse
import ctypes
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from speed import machine  # benchmarks/speed.py: python puts this script's folder first on the path

import d2lstyle.losses
from d2lstyle import StyleObjective, bfloat16_is_fast, load_image, vgg19

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [("autograd", "default"), ("product", "default"), ("autograd", "keep"), ("product", "keep")]


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for the next pass: no mmap for large blocks (M_MMAP_MAX = 0), the heap
    trimmed only above 1 GiB free (M_TRIM_THRESHOLD). Without it every pass takes fresh pages, which the system
    zeroes at their first touch (page faults). Process-wide and for good; Linux with glibc only."""
    mallopt = ctypes.CDLL("libc.so.6").mallopt
    return bool(mallopt(-4, 0)) and bool(mallopt(-1, 2**30))  # -4: M_MMAP_MAX, -1: M_TRIM_THRESHOLD (malloc.h)


def gram_by_autograd(X: torch.Tensor) -> torch.Tensor:
    """`gram` as autograd alone differentiates it: two products and their sum in the backward."""
    c, n = X.shape[1], X.numel() // X.shape[1]
    X = X.reshape(c, n)
    return X @ X.T / (c * n)


def measure(gram: str, malloc: str, size: tuple[int, int], repeats: int) -> dict:
    """Median seconds and minor page faults of one pass in this process, set up as asked."""
    if gram == "autograd":
        d2lstyle.losses.gram = gram_by_autograd  # style_loss looks `gram` up in its module at each call
    kept = keep_freed_memory() if malloc == "keep" else False
    torch.manual_seed(0)
    net = vgg19(device="cpu")
    content = load_image(ROOT / "data" / "chelsea.png", size=size)
    style = load_image(ROOT / "data" / "starry_night.jpg", size=size)
    objective = StyleObjective(content, style, net=net)
    seconds, faults = [], []
    for rep in range(repeats + 1):
        x = content.clone().requires_grad_(True)
        flt, start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
        objective(x).backward()
        if rep:  # the first pass warms up
            seconds.append(time.perf_counter() - start)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - flt)
    median = len(seconds) // 2
    return {"pass_s": sorted(seconds)[median], "page_faults": sorted(faults)[median], "kept": kept,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, nargs=2, default=(300, 450), metavar=("H", "W"))
    p.add_argument("--rounds", type=int, default=3, help="turns each configuration takes (3)")
    p.add_argument("--repeats", type=int, default=7, help="timed passes per process (7)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # "gram,malloc": measure in this process, print JSON
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "overhead.json")
    args = p.parse_args(argv)
    size = tuple(args.size)
    if args.one:
        print(json.dumps(measure(*args.one.split(","), size, args.repeats)))
        return
    runs = {f"{g},{m}": [] for g, m in CONFIGS}
    for _ in range(args.rounds):
        for name in runs:
            out = subprocess.run([sys.executable, __file__, "--one", name, "--size", *map(str, size),
                                  "--repeats", str(args.repeats)], check=True, capture_output=True, text=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(name, runs[name][-1], flush=True)
    summary = {name: {"pass_s": sorted(r["pass_s"] for r in rs)[len(rs) // 2],
                      "page_faults": sorted(r["page_faults"] for r in rs)[len(rs) // 2],
                      "peak_rss_gb": max(r["peak_rss_gb"] for r in rs)} for name, rs in runs.items()}
    precision = "bfloat16" if bfloat16_is_fast("cpu") else "float32"  # what vgg19(device="cpu") runs in
    result = {"size": list(size), "precision": precision, "rounds": args.rounds,
              "repeats": args.repeats, "median_of_rounds": summary, "runs": runs, "machine": machine()}
    for name, s in summary.items():
        print(f"{name:>18}: {s['pass_s']:.3f} s a pass, {s['page_faults']} page faults, peak {s['peak_rss_gb']:.2f} GB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
