"""Do L-BFGS's restarts pay in a long run? A benchmark script (not a test; CI does not run it).

`transfer` at the lecture's 300x450 with the default images and objective, 500 steps without the stopping rule
(`tol=0`), once per value of `restart` (steps without a new best before L-BFGS starts again from the best image;
0: never). Prints and writes (JSON) the best objective every 50 steps, the restarts' count and the time.

    python benchmarks/restarts.py --out benchmarks/results/avx2/restarts.json    # about 30 minutes on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from d2lstyle import bfloat16_is_fast, load_image, transfer, vgg19
from d2lstyle.files import data_file


def run(net: torch.nn.Module, content: torch.Tensor, style: torch.Tensor, restart: int, steps: int) -> dict:
    """One long transfer; the best objective every 50 steps and the steps at which L-BFGS restarted."""
    seen, start = [], time.perf_counter()
    result = transfer(content, style, net=net, steps=steps, tol=0, restart=restart,
                      callback=lambda step, img, losses: seen.append(losses["total"]))
    best = result.history
    restarts = [k + 1 for k in range(1, len(seen)) if seen[k] == best[k - 1] and seen[k] != seen[k - 1]]
    return {"restart": restart, "seconds": round(time.perf_counter() - start, 1), "final": best[-1],
            "best_every_50": {k: best[k - 1] for k in range(50, len(best) + 1, 50)}, "restarted_at": restarts,
            "bfloat16": bfloat16_is_fast(net.device)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--restarts", default="0,10,5", help="values of `restart` to compare (default 0,10,5)")
    p.add_argument("--size", type=int, nargs=2, default=(300, 450))
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args()
    torch.manual_seed(0)
    results = {"machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
               "torch": torch.__version__, "size": args.size, "steps": args.steps, "runs": []}
    net = vgg19()  # loaded once: the runs share the network and the images
    content = load_image(data_file("chelsea.png"), size=tuple(args.size))
    style = load_image(data_file("starry_night.jpg"), size=tuple(args.size))
    for restart in (int(r) for r in args.restarts.split(",")):
        results["runs"].append(r := run(net, content, style, restart, args.steps))
        print(f"restart={restart}: objective {r['final']:.4f} after {args.steps} steps, {r['seconds']:.0f} s, "
              f"restarts at {r['restarted_at']}", flush=True)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
