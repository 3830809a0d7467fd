"""How cheap could one pass get on this machine? A benchmark script (not a test; CI does not run it).

A forward+backward pass of VGG19 to relu5_1 is almost all convolutions. This script times each of the pass's
convolutions on its own (forward, and backward to its input only, as in a pass: the weights are frozen), with the
network `vgg19()`, as `transfer()` builds it (bfloat16 where the processor has it, channel-last on a CPU), and adds
the least times up (of 7 each): a pass that did nothing but its convolutions, each at the best rate it reaches
alone. It compares that with the whole pass (timed the same way), and with what issue 3's goal asks: the recipe's
objective in a fifth of the recipe's time, both taken from the committed `results/speed.{json,csv}` (the passes
`transfer(steps=500, tol=0)` needed; `--speed` names another run, such as one from a processor without
AVX512-BF16, whose passes run in float32). On a CPU it also compiles and runs `peak.c` (a C compiler with OpenMP
needed; without one it says so and goes on): the most FLOP/s the cores' vector units can do at all, against which
the convolutions' rates, and the best a pass could ever cost, are measured.

    python benchmarks/floor.py                # 300x450, about 20 s
    python benchmarks/floor.py --size 150 225 --out /tmp/floor.json
    python benchmarks/floor.py --report benchmarks/results/avx2/floor.json   # its .md again, timing nothing

The floor counts a direct convolution's multiplications. Winograd's algorithms compute a 3x3 convolution with
fewer (F(2x2,3x3) 2.25 times, F(4x4,3x3) 4 times fewer) at the price of transforming its input and output; the
report bounds them too, counting their transforms as free and the rest of the pass as it is.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from speed import ROOT, machine, sync
from torch import nn

from d2lstyle import StyleObjective, conv_calls, conv_flops, load_image, pass_flops, vgg19


def least_seconds(fn, repeats: int) -> float:
    """The least time of `repeats` calls of fn() after a warm-up: a floor, so the best the machine did counts."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def conv_seconds(conv: nn.Conv2d, x: torch.Tensor, precision: str, repeats: int) -> float:
    """The least time of one convolution's forward and its backward to the input, as in a pass."""
    x = x.clone().requires_grad_(True)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        grad = torch.randn_like(conv(x))

    def pass_():
        x.grad = None
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            out = conv(x)
        out.backward(grad)
        sync(x.device)

    return least_seconds(pass_, repeats)


def peak_gflops(threads: int) -> dict | None:
    """The cores' arithmetic peak, {"threads", "float32", "bfloat16", "int8"} in GFLOP/s (int8: GOP/s; None for
    instructions the processor lacks), from `peak.c` compiled here and run on `threads` threads; None without a
    compiler."""
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "peak"
        command = ["cc", "-O2", "-march=native", "-fopenmp", str(Path(__file__).with_name("peak.c")), "-o", str(exe)]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"peak.c was not compiled ({error}): the cores' peak is not measured")
            return None
        env = os.environ | {"OMP_NUM_THREADS": str(threads)}
        return json.loads(subprocess.run([str(exe)], env=env, check=True, capture_output=True, text=True).stdout)


def passes_to_reach(speed: Path, method: str, size: tuple[int, int],
                    precision: str) -> tuple[int | None, float | None, float | None]:
    """From a committed speed run (`speed`.json and .csv): the steps `method` took to reach the recipe's final
    objective, that objective and the recipe's wall time. The steps are None where it never did, or where the run
    was at another size than `size`, or ran its passes in another precision than `precision` (another machine)."""
    if not speed.with_suffix(".json").exists():
        print(f"no speed run {speed}.json: no comparison with the goal (run speed.py with --out {speed})")
        return None, None, None
    summary = json.loads(speed.with_suffix(".json").read_text())
    target, recipe_s = summary["recipe"]["objective"], summary["recipe"]["seconds"]
    if (summary["size"], summary["precision"]) != (f"{size[0]}x{size[1]}", precision):
        print(f"the speed run {speed}.json is at {summary['size']} in {summary['precision']}, this one at "
              f"{size[0]}x{size[1]} in {precision}: no comparison with the goal (run speed.py here, pass --speed)")
        return None, target, recipe_s
    rows = [r for r in csv.DictReader(speed.with_suffix(".csv").open()) if r["method"] == method]
    step = next((k for k, r in enumerate(rows, 1) if float(r["objective"]) <= target), None)
    return step, target, recipe_s


def time_pass(size: tuple[int, int], repeats: int) -> dict:
    """Each convolution of a pass at `size` on its own, and the whole pass, with `vgg19()` as `transfer` builds it."""
    torch.manual_seed(0)
    content = load_image(ROOT / "data" / "chelsea.png", size=size)
    style = load_image(ROOT / "data" / "starry_night.jpg", size=size)
    net = vgg19()
    precision = "bfloat16" if net.dtype == torch.bfloat16 else "float32"
    objective = StyleObjective(content, style, net=net)
    layers = list(objective.content_layers + objective.style_layers)
    img = content.to(net.device)

    convs = [(conv, x, conv_flops(conv, output), conv_seconds(conv, x, precision, repeats))
             for conv, x, output in conv_calls(net, img, layers)]
    x = img.clone().requires_grad_(True)

    def whole_pass():
        x.grad = None
        objective(x).backward()
        sync(x.device)

    return {"precision": precision, "pass_gflop": pass_flops(net, img, layers) / 1e9,
            "pass_s": least_seconds(whole_pass, repeats), "convolutions_alone_s": sum(s for *_, s in convs),
            "convolutions": [{"in": c.in_channels, "out": c.out_channels, "hw": list(x.shape[-2:]), "seconds": s,
                              "gflops": f / s / 1e9} for c, x, f, s in convs]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, nargs=2, default=(300, 450), metavar=("H", "W"), help="(300 450)")
    p.add_argument("--repeats", type=int, default=7, help="timings of each; the least counts (7)")
    p.add_argument("--method", default="transfer(steps=500, tol=0)", help="the speed run's method whose passes count")
    p.add_argument("--speed", type=Path, default=ROOT / "benchmarks" / "results" / "speed",
                   help="prefix of the speed run (speed.py --out) to compare with, from this kind of machine")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "floor.json")
    p.add_argument("--report", type=Path, metavar="JSON", help="write the report of an earlier run again; no timing")
    args = p.parse_args(argv)
    if args.report:
        save_report(report(json.loads(args.report.read_text())), args.report)
        return
    # first: once torch has worked, its idle threads spin for a while and would share the cores with peak.c
    peak = peak_gflops(torch.get_num_threads()) if not torch.cuda.is_available() else None
    timed = time_pass(tuple(args.size), args.repeats)
    steps, target, recipe_s = passes_to_reach(args.speed, args.method, args.size, timed["precision"])
    result = {"machine": machine(), "size": list(args.size), **timed, "peak_gflops": peak,
              "speed_run": {"method": args.method, "passes_to_recipe_objective": steps, "recipe_objective": target,
                            "recipe_s": recipe_s}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    save_report(report(result), args.out)


def save_report(text: str, json_path: Path) -> None:
    """Print a run's report `text` and write it beside the run's JSON, as .md."""
    json_path.with_suffix(".md").write_text(text + "\n")
    print(text)


def pass_with(r: dict, convolutions_s: float) -> tuple[float, float]:
    """Run `r`'s pass with its convolutions taking `convolutions_s` in all and the rest as it is, in seconds, and
    how many times sooner than the recipe its speed run's passes would then finish."""
    pass_s = r["pass_s"] - r["convolutions_alone_s"] + convolutions_s
    run = r["speed_run"]
    return pass_s, run["recipe_s"] / (run["passes_to_recipe_objective"] * pass_s)


def convolutions_faster(r: dict, gain: dict[int, float]) -> float:
    """Run `r`'s convolutions, in seconds, with each one `gain[its output channels]` times faster where that is
    above 1 (and as it is where another method is slower)."""
    return sum(c["seconds"] / max(gain[c["out"]], 1.0) for c in r["convolutions"])


def report(r: dict) -> str:
    run = r["speed_run"]
    goal = run["recipe_s"] / 5 if run["recipe_s"] else None
    n, pass_rate = run["passes_to_recipe_objective"], r["pass_gflop"] / r["pass_s"]
    lines = [f"machine: {r['machine']}",
             f"size {r['size'][0]}x{r['size'][1]}, {r['precision']}: one pass {r['pass_gflop']:.0f} GFLOP in "
             f"{r['pass_s']:.3f} s ({pass_rate:.0f} GFLOP/s)",
             "| convolution | input h x w | seconds (forward + backward to the input) | GFLOP/s |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {c['in']} -> {c['out']} | {c['hw'][0]} x {c['hw'][1]} | {c['seconds']:.4f} | {c['gflops']:.0f} |"
              for c in r["convolutions"]]
    lines.append(f"the convolutions alone: {r['convolutions_alone_s']:.3f} s, "
                 f"{r['convolutions_alone_s'] / r['pass_s']:.0%} of the pass")
    if n:
        lines.append(f"{run['method']} needed {n} passes to the recipe's {run['recipe_objective']:.4g}; a fifth of "
                     f"the recipe's {run['recipe_s']:.0f} s is {goal:.0f} s: {goal / n:.3f} s a pass, "
                     f"{r['convolutions_alone_s'] / (goal / n):.1f}x less than the convolutions alone take")
        lines.append(f"with passes of the convolutions alone, {n} passes take {n * r['convolutions_alone_s']:.0f} s: "
                     f"at most {run['recipe_s'] / (n * r['convolutions_alone_s']):.1f}x sooner than the recipe")
    peak = (r.get("peak_gflops") or {}).get(r["precision"])
    if peak:
        rates = [c["gflops"] for c in r["convolutions"]]
        lines.append(f"the cores' peak ({r['peak_gflops']['threads']} threads, peak.c): {peak:.0f} GFLOP/s in "
                     f"{r['precision']}; the convolutions reach {min(rates[1:]) / peak:.0%}-{max(rates) / peak:.0%} "
                     f"of it (the first {rates[0] / peak:.0%}), the whole pass {pass_rate / peak:.0%}")
    if peak and goal:
        at_peak = r["pass_gflop"] / peak
        reach = (f"{n} passes take {n * at_peak:.0f} s: at most {run['recipe_s'] / (n * at_peak):.1f}x sooner than "
                 "the recipe; " if n else "")
        lines.append(f"a pass at the peak, with nothing but its FLOPs: {at_peak:.3f} s; {reach}"
                     f"a fifth of the recipe's time holds at most {goal / at_peak:.0f} such passes")
    if n:
        rest = r["pass_s"] - r["convolutions_alone_s"]
        for name, fewer in (("F(2x2,3x3)", 2.25), ("F(4x4,3x3)", 4.0)):
            pass_s, sooner = pass_with(r, r["convolutions_alone_s"] / fewer)
            lines.append(f"with Winograd's {name} ({fewer:g}x fewer multiplications, its transforms free) and the "
                         f"rest of the pass as it is ({rest:.3f} s): {n} passes take {n * pass_s:.0f} s: at most "
                         f"{sooner:.1f}x sooner than the recipe")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
