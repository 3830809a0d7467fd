"""Which levers could make `transfer()` reach the recipe's objective sooner? A screening script (CI does not run it).

Two parts, at one size (300x450 by default), on the default images, weights and `StyleObjective`:

1. The cost of one forward+backward pass (median of `--repeats`, the variants interleaved so that other work on
   the machine slows them alike): float32 and bfloat16 (autocast, as `VGG19Features` runs with `dtype`
   torch.bfloat16), each with the default memory layout and with `channels_last` (the network's weights and the
   input stored channel-last, its `memory_format`).
2. The objective each optimiser reaches after the same number of objective evaluations (`--evals`, 200 = the step
   cap of `transfer()`), all passes in bfloat16, every result scored in float32 after clamping to [0, 1]. Counting
   evaluations, not seconds, makes this part independent of the machine's load:
   - `lbfgs`: `synthesize(..., optimizer="lbfgs")`, what `transfer()` runs (pixels clamped after each step);
   - `lbfgs-b`: SciPy's L-BFGS-B, which keeps the pixels in [0, 1] as box bounds instead of clamping after the
     step (clamping corrupts L-BFGS's curvature pairs); needs `pip install scipy`;
   - `pyramid-param`: L-BFGS on a sum of 5 images of halving size, each upsampled to full size (a Laplacian-pyramid
     parameterisation, which lets coarse changes move in one step), clamped inside the objective (`-noclamp`: not
     clamped, so pixels leave [0, 1] and the clamped result is scored);
   - `smooth-tv`: L-BFGS on the objective with a smooth TV term, sqrt(d^2 + eps^2) - eps with eps = 0.01, since
     the L1 kink may slow a quasi-Newton method (the result is scored with the true objective);
   - `adam-fast`: the recipe's Adam (lr 0.136, its best rate) with its whole learning-rate decay (x0.8 nine times)
     squeezed into the evaluations.

    python benchmarks/levers.py                     # about 25 minutes on 2 CPU cores
    python benchmarks/levers.py --size 150 225 --evals 50 --methods lbfgs,adam-fast   # a smoke run
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from speed import machine  # benchmarks/speed.py: python puts this script's folder first on the path

from d2lstyle import StyleObjective, VGG19Features, load_image, synthesize, vgg19

ROOT = Path(__file__).resolve().parent.parent
RECIPE_BEST_LR = 0.1356  # benchmarks/results/speed.md: the best of the recipe's three rates


def with_settings(net: VGG19Features, dtype: torch.dtype, memory_format: torch.memory_format) -> VGG19Features:
    """A copy of `net` whose layers run in `dtype` (autocast) with weights and input stored in `memory_format`."""
    net = copy.deepcopy(net).to(memory_format=memory_format)
    net.dtype, net.memory_format = dtype, memory_format
    return net


def pass_seconds(objectives: dict, img: torch.Tensor, repeats: int) -> dict:
    """Median seconds of objective(img).backward() for each objective, interleaved, after one warm-up each."""
    times = {name: [] for name in objectives}
    for rep in range(repeats + 1):
        for name, objective in objectives.items():
            x = img.clone().requires_grad_(True)
            start = time.perf_counter()
            objective(x).backward()
            if rep:
                times[name].append(time.perf_counter() - start)
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


class SmoothTV(StyleObjective):
    """StyleObjective whose TV term is smooth: sqrt(d^2 + eps^2) - eps instead of |d|."""

    eps = 0.01

    def parts(self, img: torch.Tensor) -> dict[str, torch.Tensor]:
        parts = super().parts(img)
        steps = (img[:, :, 1:, :] - img[:, :, :-1, :], img[:, :, :, 1:] - img[:, :, :, :-1])
        smooth = sum(((d * d + self.eps**2).sqrt() - self.eps).mean() for d in steps)
        return parts | {"tv": self.weights["tv"] * 0.5 * smooth}


def run_lbfgs(objective, content, evals):
    return synthesize(objective.parts, content, steps=evals, optimizer="lbfgs").image


def run_lbfgs_b(objective, content, evals):
    import numpy as np
    from scipy.optimize import minimize

    best = {"loss": math.inf}

    def loss_and_grad(z):
        x = torch.from_numpy(z.astype(np.float32)).reshape(content.shape).requires_grad_(True)
        loss = objective(x)
        loss.backward()
        if loss.item() < best["loss"]:
            best.update(loss=loss.item(), img=x.detach().clone())
        return loss.item(), x.grad.numpy().ravel().astype(np.float64)

    bounds = np.tile([0.0, 1.0], (content.numel(), 1))
    minimize(loss_and_grad, content.numpy().ravel().astype(np.float64), jac=True, method="L-BFGS-B", bounds=bounds,
             options={"maxcor": 50, "maxfun": evals, "maxiter": 10 * evals, "ftol": 0, "gtol": 0})
    return best["img"]


def run_pyramid(objective, content, evals, clamp=True, levels=5):
    h, w = content.shape[-2:]
    params = [content.clone().requires_grad_(True)] + [
        torch.zeros(1, 3, math.ceil(h / 2**k), math.ceil(w / 2**k), requires_grad=True) for k in range(1, levels)]

    def image():
        img = params[0] + sum(F.interpolate(p, size=(h, w), mode="bilinear", align_corners=False) for p in params[1:])
        return img.clamp(0, 1) if clamp else img

    opt = torch.optim.LBFGS(params, lr=1, max_iter=1, history_size=50)
    best = {"loss": math.inf}

    def closure():
        opt.zero_grad()
        img = image()
        loss = objective(img)
        loss.backward()
        if loss.item() < best["loss"]:
            best.update(loss=loss.item(), img=img.detach().clone())
        return loss

    for _ in range(evals):
        opt.step(closure)
    return best["img"]


def run_adam_fast(objective, content, evals):
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=RECIPE_BEST_LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.8 ** (9 * step / evals))
    for _ in range(evals):
        opt.zero_grad()
        objective(x).backward()
        opt.step()
        schedule.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    return x.detach()


METHODS = {
    "lbfgs": run_lbfgs,
    "lbfgs-b": run_lbfgs_b,
    "pyramid-param": run_pyramid,
    "pyramid-param-noclamp": lambda objective, content, evals: run_pyramid(objective, content, evals, clamp=False),
    "smooth-tv": run_lbfgs,  # with the SmoothTV objective, see main
    "adam-fast": run_adam_fast,
}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, nargs=2, default=(300, 450), metavar=("H", "W"))
    p.add_argument("--evals", type=int, default=200, help="objective evaluations per optimiser (200)")
    p.add_argument("--repeats", type=int, default=9, help="timed passes per variant (9)")
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated, from: " + ", ".join(METHODS))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "levers")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    net = vgg19(device="cpu", precision="float32")
    content = load_image(ROOT / "data" / "chelsea.png", size=tuple(args.size))
    style = load_image(ROOT / "data" / "starry_night.jpg", size=tuple(args.size))
    fp32, bf16, default, last = torch.float32, torch.bfloat16, torch.contiguous_format, torch.channels_last
    nets = {"float32": with_settings(net, fp32, default), "float32 channels_last": with_settings(net, fp32, last),
            "bfloat16": with_settings(net, bf16, default), "bfloat16 channels_last": with_settings(net, bf16, last)}
    score = StyleObjective(content, style, net=nets["float32"])
    objectives = {name: StyleObjective(content, style, net=n) for name, n in nets.items()}
    result = {"size": list(args.size), "evals": args.evals, "torch": torch.__version__,
              "pass_seconds": pass_seconds(objectives, content, args.repeats), "objective": {}}
    print(json.dumps(result["pass_seconds"], indent=1), flush=True)
    for name in args.methods.split(","):
        objective_class = SmoothTV if name == "smooth-tv" else StyleObjective
        objective = objective_class(content, style, net=nets["bfloat16"])
        start = time.perf_counter()
        img = METHODS[name](objective, content, args.evals)
        with torch.no_grad():
            parts = {k: v.item() for k, v in score.parts(img.clamp(0, 1)).items()}
        result["objective"][name] = {"total": sum(parts.values()), **parts, "seconds": time.perf_counter() - start}
        print(name, json.dumps(result["objective"][name]), flush=True)
    result["machine"] = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
