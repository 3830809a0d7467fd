"""Could int8 multiplications make the convolutions cheaper? A benchmark script (not a test; CI does not run it).

`floor.py` bounds a pass by the cores' bfloat16 peak. Processors with AVX-512 VNNI also have int8 dot products
(vpdpbusd), which do twice as many multiplications an instruction; `peak.c` measures their peak too. PyTorch's
quantized engine runs convolutions on them: weights quantized to int8 per output channel, activations to uint8
per tensor, sums in int32. This script times such a convolution (the default engine, "x86" on a CPU) against the
bfloat16 direct one that `transfer()` runs, channel-last, on the four kinds of 3x3 layer of VGG19 at 300x450,
forward and backward to the input as in a pass. The quantized engine has no autograd, but the backward to the
input of a stride-1 3x3 convolution with padding 1 is itself such a convolution, of the output's gradient, with the
kernels flipped and their in and out channels swapped; that is what the int8 backward runs.

It times the int8 convolutions alone (input already quantized, output left quantized: as if the whole pass kept
its tensors in int8 for free), and with the float input quantized and the output dequantized, as a pass that keeps
float tensors between layers must. It gives each one's error against float32, beside bfloat16's. Last, it scales
each convolution of `floor.py`'s committed bfloat16 run (`--floor`) by the int8 gain on the layer with as many
output channels, to bound what a pass would save. Each time is the least of `--repeats`, as in `floor.py`.

Speed is half the question: int8 passes must also lead the optimisation as far. So the script last runs
`synthesize` (L-BFGS, from the recoloured content) at `--size` for `--steps` steps twice, in float32: with the exact
network, and with int8's rounding simulated in every convolution (weights per output channel, each convolution's
input and the gradient of its output per tensor, as above), and scores both images with the exact network.

PyTorch 2.14 warns that its quantized tensors are deprecated: fine for a measurement, not for `transfer()`.

    python benchmarks/int8.py                 # about 4 minutes; writes results/int8.{json,md}
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch
import torch.ao.nn.quantized as nnq
import torch.nn.functional as F
from floor import convolutions_faster, least_seconds, pass_with, peak_gflops, save_report
from speed import ROOT, machine
from torch import nn
from winograd import LAYERS, forward_backward, relative_error

from d2lstyle import StyleObjective, load_image, vgg19
from d2lstyle.synthesis import start_image, synthesize


def int8_conv(weight: torch.Tensor, bias: torch.Tensor | None, out_scale: float) -> nnq.Conv2d:
    """A quantized 3x3 convolution with padding 1: `weight` (K, C, 3, 3) in int8 per output channel; its output
    in uint8 with step `out_scale`, zero at 128 (a gradient has both signs)."""
    k, c = weight.shape[:2]
    scales = weight.abs().amax((1, 2, 3)).clamp_min(1e-12) / 127
    qweight = torch.quantize_per_channel(weight, scales, torch.zeros(k, dtype=torch.long), 0, torch.qint8)
    conv = nnq.Conv2d(c, k, 3, padding=1)
    conv.set_weight_bias(qweight, bias)
    conv.scale, conv.zero_point = out_scale, 128
    return conv


def quantize(x: torch.Tensor, signed: bool) -> torch.Tensor:
    """x in uint8, one step for the whole tensor, the finest that holds its largest value: zero at 0 for a ReLU's
    output, at 128 where x has both signs."""
    top = x.abs().max().item()
    return torch.quantize_per_tensor(x, top / 127, 128, torch.quint8) if signed else \
        torch.quantize_per_tensor(x, top / 255, 0, torch.quint8)


def measure(c: int, k: int, h: int, w: int, repeats: int) -> dict:
    conv = torch.nn.Conv2d(c, k, 3, padding=1).requires_grad_(False)
    x = torch.relu(torch.randn(1, c, h, w)).contiguous(memory_format=torch.channels_last)  # a ReLU's output
    grad = torch.randn(1, k, h, w).contiguous(memory_format=torch.channels_last)
    exact, exact_grad = conv(x), F.conv_transpose2d(grad, conv.weight, padding=1)  # float32
    flipped = conv.weight.flip(2, 3).transpose(0, 1)  # the backward to the input as a convolution
    forward = int8_conv(conv.weight, conv.bias, exact.abs().max().item() / 127)
    backward = int8_conv(flipped, None, exact_grad.abs().max().item() / 127)
    qx, qgrad = quantize(x, signed=False), quantize(grad, signed=True)
    xb, gradb = x.bfloat16().requires_grad_(True), grad.bfloat16()
    weight, bias = conv.weight.bfloat16().contiguous(memory_format=torch.channels_last), conv.bias.bfloat16()

    def int8():
        forward(qx), backward(qgrad)

    def int8_dequantized():
        return forward(quantize(x, signed=False)).dequantize(), backward(quantize(grad, signed=True)).dequantize()

    out, grad_in = int8_dequantized()
    bfloat16 = forward_backward(lambda z: F.conv2d(z, weight, bias, padding=1), xb, gradb)
    bfloat16()
    return {"in": c, "out": k, "hw": [h, w], "bfloat16_s": least_seconds(bfloat16, repeats),
            "int8_s": least_seconds(int8, repeats),
            "int8_quantizing_s": least_seconds(int8_dequantized, repeats),
            "error_int8": [relative_error(out, exact), relative_error(grad_in, exact_grad)],
            "error_bfloat16": [relative_error(F.conv2d(xb, weight, bias, padding=1), exact),
                               relative_error(xb.grad, exact_grad)]}


def pass_bound(rows: list[dict], floor: dict) -> dict:
    """`floor.py`'s bfloat16 pass with its convolutions at the int8 speed where it is faster, the rest as it is."""
    convs = convolutions_faster(floor, {r["out"]: r["bfloat16_s"] / r["int8_s"] for r in rows})
    pass_s, sooner = pass_with(floor, convs)
    return {"convolutions_s": floor["convolutions_alone_s"], "convolutions_int8_s": convs, "pass_s": floor["pass_s"],
            "pass_int8_s": pass_s, "passes": floor["speed_run"]["passes_to_recipe_objective"],
            "recipe_s": floor["speed_run"]["recipe_s"], "at_most_times_sooner": sooner}


def rounded(x: torch.Tensor, levels: int, dims: tuple[int, ...] | None = None) -> torch.Tensor:
    """x on a grid of `levels` steps up to its largest magnitude (over `dims`, one grid for each slice of the
    others; None: the whole tensor), in float: what int8 storage keeps of it."""
    step = x.abs().amax(dim=dims, keepdim=True).clamp_min(1e-12) / levels
    return torch.round(x / step) * step


class Int8Rounding(torch.autograd.Function):
    """A 3x3 convolution with padding 1 whose input and output gradient are rounded as `quantize` stores them."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(weight)
        signed = bool(x.min() < 0)  # the first convolution's input, the normalised image, has both signs
        return F.conv2d(rounded(x, 127 if signed else 255), weight, bias, padding=1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (weight,) = ctx.saved_tensors
        return F.conv_transpose2d(rounded(grad, 127), weight, padding=1), None, None


class Int8Conv2d(nn.Module):
    """`conv` with int8's rounding: weights per output channel, input and output gradient per tensor."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.weight, self.bias = rounded(conv.weight, 127, dims=(1, 2, 3)), conv.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Int8Rounding.apply(x, self.weight, self.bias)


def scored_every_10(objective: StyleObjective, score: StyleObjective, init: torch.Tensor, steps: int) -> dict:
    """{step: score(image)} every 10 steps of `synthesize(objective.parts, init)`."""
    curve = {}

    def every_10(step: int, img: torch.Tensor, losses: dict) -> None:
        if step % 10 == 0:
            with torch.no_grad():
                curve[step] = score(img).item()

    synthesize(objective.parts, init, steps=steps, callback=every_10)
    return curve


def convergence(size: tuple[int, int], steps: int) -> dict:
    """L-BFGS's objective every 10 steps, scored with the exact network, without and with int8's rounding."""
    content = load_image(ROOT / "data" / "chelsea.png", size=size)
    style = load_image(ROOT / "data" / "starry_night.jpg", size=size)
    exact = vgg19(device="cpu", precision="float32").to(memory_format=torch.contiguous_format)  # the default layout
    exact.memory_format = torch.contiguous_format
    rounding = copy.deepcopy(exact)
    for name, layer in list(rounding.layers.named_children()):
        if isinstance(layer, nn.Conv2d):
            setattr(rounding.layers, name, Int8Conv2d(layer))
    score, init = StyleObjective(content, style, net=exact), start_image("colors", content, style, 0)
    curves = {label: scored_every_10(StyleObjective(content, style, net=net), score, init, steps)  # own targets
              for label, net in (("float32", exact), ("int8 rounding", rounding))}
    return {"size": list(size), "steps": steps, "objective_every_10_steps": curves}


def report(result: dict) -> list[str]:
    peak = result["peak_gops"] or {}
    lines = [f"machine: {result['machine']}", f"quantized engine: {result['engine']}",
             f"the cores' peak (peak.c): bfloat16 {peak.get('bfloat16')} GFLOP/s, int8 {peak.get('int8')} GOP/s",
             "| convolution | input h x w | bfloat16 | int8 alone | int8, quantizing and dequantizing | "
             "error, forward / backward: int8 | bfloat16 |", "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['in']} -> {r['out']} | {r['hw'][0]} x {r['hw'][1]} | {r['bfloat16_s']:.4f} s | "
              f"{r['int8_s']:.4f} s ({r['bfloat16_s'] / r['int8_s']:.2f}x) | {r['int8_quantizing_s']:.4f} s "
              f"({r['bfloat16_s'] / r['int8_quantizing_s']:.2f}x) | {r['error_int8'][0]:.4f} / "
              f"{r['error_int8'][1]:.4f} | {r['error_bfloat16'][0]:.4f} / {r['error_bfloat16'][1]:.4f} |"
              for r in result["layers"]]
    bound = result["pass_bound"]
    if bound:
        lines.append(f"floor.py's pass with its convolutions in int8 where faster, tensors kept in int8 for free: "
                     f"its convolutions {bound['convolutions_s']:.3f} s -> {bound['convolutions_int8_s']:.3f} s, the "
                     f"pass {bound['pass_s']:.3f} s -> {bound['pass_int8_s']:.3f} s; {bound['passes']} passes: at "
                     f"most {bound['at_most_times_sooner']:.1f}x sooner than the recipe's {bound['recipe_s']:.0f} s")
    else:
        lines.append("no floor.py run in bfloat16 with a speed run: no bound on a whole pass")
    run = result["convergence"]
    lines += [f"L-BFGS at {run['size'][0]}x{run['size'][1]}, objective scored with the exact network:",
              "| steps | " + " | ".join(run["objective_every_10_steps"]) + " |", "| --- | --- | --- |"]
    exact, rounding = run["objective_every_10_steps"].values()
    lines += [f"| {step} | {exact[step]:.4f} | {rounding[step]:.4f} |" for step in exact if step % 50 == 0]
    last = rounding[max(rounding)]
    as_far = next((step for step in exact if exact[step] <= last), None)
    lines.append(f"the exact network's run reached the int8 run's last {last:.4f} after {as_far} of its "
                 f"{max(rounding)} steps" if as_far else "the exact network's run never reached the int8 run's last")
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=7, help="timings of each; the least counts (7)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "int8.json")
    p.add_argument("--size", type=int, nargs=2, default=(150, 225), metavar=("H", "W"),
                   help="of the two L-BFGS runs (150 225)")
    p.add_argument("--steps", type=int, default=300, help="of each L-BFGS run (300)")
    p.add_argument("--floor", type=Path, default=ROOT / "benchmarks" / "results" / "floor.json",
                   help="a floor.py run in bfloat16 from this kind of machine, to bound a whole pass")
    args = p.parse_args(argv)
    peak = peak_gflops(torch.get_num_threads())  # first, as in floor.py: torch's idle threads spin for a while
    torch.manual_seed(0)
    rows = [measure(*layer, args.repeats) for layer in LAYERS]
    floor = json.loads(args.floor.read_text()) if args.floor.exists() else None
    usable = floor and floor["precision"] == "bfloat16" and floor["speed_run"]["passes_to_recipe_objective"]
    result = {"machine": machine(), "engine": torch.backends.quantized.engine, "peak_gops": peak, "layers": rows,
              "pass_bound": pass_bound(rows, floor) if usable else None,
              "convergence": convergence(tuple(args.size), args.steps)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    save_report("\n".join(report(result)), args.out)


if __name__ == "__main__":
    main()
