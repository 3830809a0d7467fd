"""Could Winograd's algorithm make the convolutions cheaper? A benchmark script (not a test; CI does not run it).

`floor.py` counts a direct convolution's multiplications. Winograd's F(2x2,3x3) computes each 2x2 block of a 3x3
convolution's output from the 4x4 block of input around it with 16 multiplications per pair of channels instead
of 36, 2.25 times fewer, at the price of transforming every input block (B^T d B), the weights once (G g G^T)
and every output block (A^T m A): additions only. This script writes it in plain PyTorch (autograd derives the
backward pass) and times it, forward and backward to the input as in a pass, against PyTorch's own convolution
(oneDNN on a CPU) on the four kinds of 3x3 layer of VGG19 at 300x450, channel-last and in the precision
`transfer()` picks (bfloat16 where the processor has it). It also times its 16 matrix products alone: the
algorithm's cost if its transforms were free. Each figure is the least of `--repeats` timings, as in `floor.py`.
Last, it scales each convolution of `floor.py`'s committed run (`--floor`, same precision) by the products' gain
on the layer with as many output channels, where they are faster, to bound what such a pass would save.

    python benchmarks/winograd.py                 # about 1 minute; writes results/winograd.json
    python benchmarks/winograd.py --precision float32
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from floor import convolutions_faster, least_seconds, pass_with, save_report
from speed import ROOT, machine

from d2lstyle import bfloat16_is_fast

# the layers of a pass at 300x450: (in channels, out channels, height, width); each kind occurs 1 to 4 times
LAYERS = ((64, 64, 300, 450), (128, 128, 150, 225), (256, 256, 75, 112), (512, 512, 37, 56))
G = torch.tensor([[1.0, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def winograd_weights(w: torch.Tensor) -> torch.Tensor:
    """(K, C, 3, 3) kernels -> (4, 4, C, K): G g G^T for each pair, indexed [column, row] like the input blocks."""
    return torch.einsum("ij,kcjl,ml->mick", G, w, G).contiguous()


def input_transform(z: torch.Tensor, dim: int, n: int) -> torch.Tensor:
    """B^T along `dim` on the n blocks of 4 that overlap by 2: a new leading axis of 4."""
    d = [z[(slice(None),) * dim + (slice(j, j + 2 * n - 1, 2),)] for j in range(4)]
    return torch.stack([d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]])


def output_transform(m: torch.Tensor, dim: int) -> torch.Tensor:
    """A^T along `dim` (of size 4): 2 outputs, stacked on that axis."""
    m0, m1, m2, m3 = m.unbind(dim)
    return torch.stack([m0 + m1 + m2, m1 - m2 - m3], dim)


def output_blocks(h: int, w: int) -> tuple[int, int]:
    """How many 2x2 output blocks cover an h x w map, down and across."""
    return (h + 1) // 2, (w + 1) // 2


def winograd_conv(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A 3x3 convolution with padding 1 of x (1, C, H, W), weights u from `winograd_weights`: (1, K, H, W)."""
    _, _, h, w = x.shape
    th, tw = output_blocks(h, w)
    xp = F.pad(x, (1, 2 * tw + 1 - w, 1, 2 * th + 1 - h))[0].permute(1, 2, 0)  # (H + pad, W + pad, C)
    v = input_transform(input_transform(xp, 0, th), 2, tw)  # (4 columns, 4 rows, th, tw, C)
    m = torch.matmul(v.flatten(2, 3), u).unflatten(2, (th, tw))  # 16 products (th tw, C) @ (C, K)
    y = output_transform(output_transform(m, 0), 1)  # (2 columns, 2 rows, th, tw, K)
    y = y.permute(2, 1, 3, 0, 4).reshape(2 * th, 2 * tw, -1)[:h, :w] + bias
    return y.permute(2, 0, 1).unsqueeze(0)


def relative_error(x: torch.Tensor, exact: torch.Tensor) -> float:
    """|x - exact| / |exact| (Euclidean norms), in float32."""
    return ((x.float() - exact).norm() / exact.norm()).item()


def forward_backward(fn, x: torch.Tensor, grad: torch.Tensor):
    """A timed call: fn(x) and its backward to x, as in a pass (the weights are frozen)."""
    def call():
        x.grad = None
        fn(x).backward(grad)
    return call


def measure(c: int, k: int, h: int, w: int, dtype: torch.dtype, repeats: int) -> dict:
    conv = torch.nn.Conv2d(c, k, 3, padding=1).requires_grad_(False)
    x = torch.randn(1, c, h, w)
    u = winograd_weights(conv.weight)
    exact = conv(x)
    error = relative_error(winograd_conv(x, u, conv.bias), exact)
    x = x.to(dtype).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    weight = conv.weight.to(dtype).contiguous(memory_format=torch.channels_last)
    bias, u = conv.bias.to(dtype), u.to(dtype)
    grad = torch.randn_like(exact).to(dtype).contiguous(memory_format=torch.channels_last)
    blocks = math.prod(output_blocks(h, w))
    v = torch.randn(4, 4, blocks, c, dtype=dtype, requires_grad=True)
    direct = least_seconds(forward_backward(lambda z: F.conv2d(z, weight, bias, padding=1), x, grad), repeats)
    winograd = least_seconds(forward_backward(lambda z: winograd_conv(z, u, bias), x, grad), repeats)
    products = least_seconds(forward_backward(lambda z: z @ u, v, torch.randn(4, 4, blocks, k, dtype=dtype)), repeats)
    return {"in": c, "out": k, "hw": [h, w], "direct_s": direct, "winograd_s": winograd, "products_alone_s": products,
            "relative_error_float32": error}


def pass_bound(rows: list[dict], floor: dict) -> dict:
    """What `floor.py`'s pass would cost with Winograd's transforms free, and what that buys against the recipe."""
    convs = convolutions_faster(floor, {r["out"]: r["direct_s"] / r["products_alone_s"] for r in rows})
    pass_s, sooner = pass_with(floor, convs)
    run = floor["speed_run"]
    return {"convolutions_s": floor["convolutions_alone_s"], "convolutions_free_transforms_s": convs,
            "pass_s": floor["pass_s"], "pass_free_transforms_s": pass_s, "passes": run["passes_to_recipe_objective"],
            "recipe_s": run["recipe_s"], "at_most_times_sooner": sooner}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto")
    p.add_argument("--repeats", type=int, default=7, help="timings of each; the least counts (7)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "winograd.json")
    p.add_argument("--floor", type=Path, default=ROOT / "benchmarks" / "results" / "floor.json",
                   help="a floor.py run from this kind of machine, to bound a whole pass")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    precision = args.precision  # "auto": bfloat16 where the processor has it, as vgg19(device="cpu") picks
    if precision == "auto":
        precision = "bfloat16" if bfloat16_is_fast("cpu") else "float32"
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    rows = [measure(*layer, dtype, args.repeats) for layer in LAYERS]
    lines = [f"machine: {machine()}", f"precision: {precision}",
             "| convolution | input h x w | direct | Winograd F(2x2,3x3) | its 16 products alone | error (float32) |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['in']} -> {r['out']} | {r['hw'][0]} x {r['hw'][1]} | {r['direct_s']:.4f} s | "
              f"{r['winograd_s']:.4f} s ({r['direct_s'] / r['winograd_s']:.2f}x) | {r['products_alone_s']:.4f} s "
              f"({r['direct_s'] / r['products_alone_s']:.2f}x) | {r['relative_error_float32']:.1e} |" for r in rows]
    floor = json.loads(args.floor.read_text()) if args.floor.exists() else None
    bound = None
    if floor and floor["precision"] == precision and floor["speed_run"]["passes_to_recipe_objective"]:
        bound = pass_bound(rows, floor)
        lines.append(f"floor.py's pass with Winograd's products where they are faster and its transforms free: its "
                     f"convolutions {bound['convolutions_s']:.3f} s -> {bound['convolutions_free_transforms_s']:.3f} "
                     f"s, the pass {bound['pass_s']:.3f} s -> {bound['pass_free_transforms_s']:.3f} s; "
                     f"{bound['passes']} passes: at most {bound['at_most_times_sooner']:.1f}x sooner than the "
                     f"recipe's {bound['recipe_s']:.0f} s")
    else:
        lines.append(f"no floor.py run in {precision} at {args.floor}: no bound on a whole pass")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"machine": machine(), "precision": precision, "layers": rows, "pass_bound": bound}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    save_report("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
