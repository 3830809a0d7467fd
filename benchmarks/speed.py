"""How much sooner does `transfer` reach the lecture's result? A benchmark script (not a test; CI does not run it).

It optimises the project's own `StyleObjective` (default images, weights and loss weights) at one size in two ways:

(a) the lecture's recipe: Adam, learning rate 0.3 on the normalised image, x0.8 every 50 steps, 500 steps, from the
    content image. Our image lives in [0, 1], i.e. the normalised image times the ImageNet std (~0.226), so the
    recipe's 0.3 is 0.3 * 0.226 = 0.068 here; to be fair the recipe is run at a few learning rates from that up (at
    half of it the recipe did worse, twice was best in earlier runs) and the best one (lowest final objective) is
    the one compared. Pixels are clamped to [0, 1] after each step, as in `synthesize`.
(b) the project's default: `transfer(content, style)` with its defaults (on a processor with bfloat16 instructions
    its passes run in bfloat16, and on a CPU the network is stored channel-last; the objective it reaches is
    scored in float32, like the recipe's); then, since its stopping rule ends it early, the same run on for
    `--long-steps` steps (500) without that rule, once as `transfer` runs it and once without its restarts of
    L-BFGS (`restart=0`), to show what they are for.

It prints and writes (JSON, CSV of the objective against wall time) the objective each reaches at the output size,
the wall time each of (b) needs to reach (a)'s final value, the ratio, seconds per step against the bare
forward+backward pass of VGG19 (in the precision each method runs), the achieved GFLOP/s, and the peak memory. It
also prints how soon the default comes within 1 % and 3 % of (a)'s final value.

    python benchmarks/speed.py                      # 300x450, as in the lecture (about 50 minutes on 2 CPU cores)
    python benchmarks/speed.py --lrs 0.0678,0.1356  # the two best rates so far (about 40 minutes)
    python benchmarks/speed.py --quick              # 150x225, 100 recipe steps, one learning rate: a smoke run
    python benchmarks/speed.py --lrs 0.068 --out benchmarks/results/run
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import time
from pathlib import Path

import torch

from d2lstyle import (
    StyleObjective,
    bfloat16_is_fast,
    lecture_recipe,
    load_image,
    pass_flops,
    save_image,
    transfer,
    vgg19,
)
from d2lstyle.synthesis import LECTURE_LR

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bare_pass_seconds(objective: StyleObjective, img: torch.Tensor, repeats: int = 5) -> float:
    """Median time of objective(img).backward(): the floor one optimisation step cannot go below."""
    x = img.clone().requires_grad_(True)
    objective(x).backward()  # warm-up
    times = []
    for _ in range(repeats):
        sync(x.device)
        start = time.perf_counter()
        x.grad = None
        objective(x).backward()
        sync(x.device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def recipe(objective: StyleObjective, content: torch.Tensor, lr: float, steps: int) -> dict:
    """(a): the lecture's recipe. Returns the final image, its trace (seconds, objective) and timing."""
    trace, start = [], time.perf_counter()

    def record(step: int, img: torch.Tensor, losses: dict) -> None:
        trace.append((time.perf_counter() - start, losses["total"]))  # the objective of the image before this step

    img = lecture_recipe(objective, content, steps=steps, lr=lr, callback=record)
    sync(img.device)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        final = objective(img).item()
    trace.append((seconds, final))
    return {"img": img, "trace": trace, "seconds": seconds, "steps": {"adam": steps}, "objective": final}


def project_run(objective: StyleObjective, content: torch.Tensor, optimise) -> dict:
    """(b) and its variants: `optimise(callback)` returns `transfer`'s `Synthesis`. The trace holds the objective at
    the output size, which the callback sees for free during the last (full-size) level of a pyramid."""
    trace, levels, start = [], {}, time.perf_counter()

    def record(step: int, img: torch.Tensor, losses: dict) -> None:
        size = tuple(img.shape[-2:])
        levels[size] = levels.get(size, 0) + 1
        if size == tuple(content.shape[-2:]):
            trace.append((time.perf_counter() - start, losses["total"]))

    result = optimise(record).image
    sync(result.device)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        final = objective(result).item()
    trace.append((seconds, final))
    steps = {f"{h}x{w}": n for (h, w), n in levels.items()}
    return {"img": result, "trace": trace, "seconds": seconds, "steps": steps, "objective": final}


def project_runs(objective: StyleObjective, content: torch.Tensor, style: torch.Tensor, net, long_steps: int,
                 without_restarts: bool = True) -> dict:
    """(b) `transfer()` with its defaults; then, unless long_steps is 0, the same run on for `long_steps` steps
    without the stopping rule, as `transfer` runs it and, if `without_restarts`, once more without L-BFGS's
    restarts (`restart=0`)."""
    runs = {"transfer()": lambda cb: transfer(content, style, net=net, callback=cb)}
    if long_steps:
        runs[f"transfer(steps={long_steps}, tol=0)"] = lambda cb: transfer(content, style, net=net, callback=cb,
                                                                            steps=long_steps, tol=0)
    if long_steps and without_restarts:
        runs["the same without restarts"] = lambda cb: transfer(content, style, net=net, callback=cb,
                                                                 steps=long_steps, tol=0, restart=0)
    results = {}
    for name, optimise in runs.items():
        results[name] = project_run(objective, content, optimise)
        print(f"{name}: objective {results[name]['objective']:.4g} in {results[name]['seconds']:.1f} s "
              f"{results[name]['steps']}", flush=True)
    return results


def time_to_reach(trace: list[tuple[float, float]], value: float) -> float | None:
    """The first time at which the trace's objective is at or below `value` (None: never)."""
    return next((t for t, v in trace if v <= value), None)


def within(recipes: dict, ours: dict, target: float, margin: float) -> dict:
    """Seconds each method needs to come within `margin` (0.01: 1 %) of `target`, and the ratio."""
    value = target * (1 + margin)
    first = min(filter(None, (time_to_reach(r["trace"], value) for r in recipes.values())), default=None)
    mine = time_to_reach(ours["trace"], value)
    return {"recipe_s": first, "ours_s": mine, "speedup": first / mine if first and mine else None}


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "system": platform.platform()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    else:  # the vector instructions PyTorch's kernels use: AVX-512 with bfloat16 doubles the rate of a pass
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["bfloat16_fast"] = bfloat16_is_fast("cpu")
    info["load_average_1_5_15min"] = [round(v, 2) for v in os.getloadavg()]  # other work on the machine skews times
    return info


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, nargs=2, default=(300, 450), metavar=("H", "W"), help="(300 450)")
    p.add_argument("--steps", type=int, default=500, help="steps of the lecture's recipe (500)")
    p.add_argument("--lrs", type=lambda s: [float(v) for v in s.split(",")],
                   default=[LECTURE_LR, LECTURE_LR * 2, LECTURE_LR * 4],
                   help="recipe learning rates to try (the lecture's, twice and four times it)")
    p.add_argument("--long-steps", type=int, default=500,
                   help="also run transfer() on for this many steps without its stopping rule, with and without "
                        "L-BFGS's restarts (500; 0: skip)")
    p.add_argument("--no-restartless", action="store_true",
                   help="skip the long run without L-BFGS's restarts (a third less time)")
    p.add_argument("--quick", action="store_true", help="150x225, 100 recipe and long steps, the lecture's rate only")
    p.add_argument("--device", help="default: the GPU when there is one")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed",
                   help="prefix of the .json, .csv and .png files written")
    args = p.parse_args(argv)
    if args.quick:
        args.size, args.steps, args.lrs, args.long_steps = (150, 225), 100, [LECTURE_LR], 100
    return args


def step_seconds(run: dict) -> float:
    """Median seconds between consecutive full-size steps of a run (the last trace entry is the final check)."""
    times = [t for t, _ in run["trace"][:-1]]
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    return gaps[len(gaps) // 2]


def run_row(run: dict, target: float, recipe_s: float | None, bare: float, gflop: float) -> dict:
    """One method's figures: its objective and time, when it reaches `target` and how much sooner than recipe_s
    (None: the recipe's own row)."""
    reach, step = time_to_reach(run["trace"], target), step_seconds(run)
    return {"objective": run["objective"], "seconds": run["seconds"], "steps": run["steps"], "step_s": step,
            "outside_pass": max(0.0, 1 - bare / step), "gflops": gflop / step, "reach_s": reach,
            "speedup": recipe_s / reach if reach and recipe_s else None}


def summarize(args, recipes: dict, ours: dict, bare: dict, gflop: float) -> dict:
    lr, best = min(recipes.items(), key=lambda item: item[1]["objective"])
    target, default = best["objective"], ours["transfer()"]
    return {"size": f"{args.size[0]}x{args.size[1]}", "bare_pass_s": bare, "pass_gflop": gflop, "recipe_lr": lr,
            "recipe_objective_by_lr": {f"{k:.4g}": r["objective"] for k, r in recipes.items()},
            "recipe": run_row(best, target, None, bare["recipe"], gflop),
            "ours": {name: run_row(run, target, best["seconds"], bare["ours"], gflop) for name, run in ours.items()},
            "within": {f"{m:.0%}": within(recipes, default, target, m) for m in (0.01, 0.03)}}


def report(row: dict) -> str:
    lines = [
        f"size {row['size']}: one forward+backward pass {row['pass_gflop']:.0f} GFLOP, float32 "
        f"{row['bare_pass_s']['recipe']:.2f} s; transfer() runs its passes in {row['precision']}"
        f"{', channel-last' if row['device'] == 'cpu' else ''}: "
        f"{row['bare_pass_s']['ours']:.2f} s",
        "recipe objective after its steps, by learning rate: "
        + ", ".join(f"{lr}: {v:.4g}" for lr, v in row["recipe_objective_by_lr"].items()),
        "| method | objective | wall time | steps | s/step | outside the pass | GFLOP/s "
        "| reaches the recipe's objective |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    named = {f"lecture recipe (Adam, lr {row['recipe_lr']:.3g})": row["recipe"], **row["ours"]}
    for name, r in named.items():
        reach = f"after {r['reach_s']:.1f} s" if r["reach_s"] else "never"
        speedup = f", {r['speedup']:.1f}x sooner" if r["speedup"] else ""
        lines.append(f"| {name} | {r['objective']:.4g} | {r['seconds']:.1f} s | {sum(r['steps'].values())} | "
                     f"{r['step_s']:.2f} | {r['outside_pass']:.0%} | {r['gflops']:.0f} | {reach}{speedup} |")
    for margin, w in row["within"].items():
        times = [f"{t:.1f} s" if t else "never" for t in (w["recipe_s"], w["ours_s"])]
        lines.append(f"within {margin} of the recipe's final objective: recipe after {times[0]}, transfer() after "
                     f"{times[1]}" + (f": {w['speedup']:.1f}x sooner" if w["speedup"] else ""))
    lines.append(f"transfer() steps per level: {row['ours']['transfer()']['steps']}; peak RSS: "
                 + ", ".join(f"{who} {gb:.2f} GB" for who, gb in row["peak_rss_gb"].items()))
    return "\n".join(lines)


def plot(path: Path, recipes: dict, ours: dict, row: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from d2lstyle.images import to_uint8

    best = recipes[row["recipe_lr"]]
    shown = {"recipe": (best, row["recipe"])} | {name: (ours[name], row["ours"][name]) for name in ours}
    fig = plt.figure(figsize=(4 * len(shown), 7))
    grid = fig.add_gridspec(2, 2 * len(shown))
    curves = [fig.add_subplot(grid[0, :len(shown)]), fig.add_subplot(grid[0, len(shown):])]
    target = row["recipe"]["objective"]
    for ax, zoom in zip(curves, (False, True), strict=True):
        for lr, run in recipes.items():
            t, v = zip(*run["trace"], strict=True)
            ax.plot(t, v, label=f"lecture recipe, Adam lr {lr:.3g}", alpha=1 if run is best else 0.4)
        for (name, run), style in zip(ours.items(), ("k-", "k--", "r:"), strict=False):
            t, v = zip(*run["trace"], strict=True)
            ax.plot(t, v, style, lw=2 if name == "transfer()" else 1, label=name)
        ax.axhline(target, color="gray", ls=":", lw=1)
        ax.set(xlabel="wall time (s)", ylabel="objective at the output size")
        if zoom:
            ax.set(ylim=(0.99 * target, 1.08 * target), title="the last per cent (the dotted line: the recipe's end)")
        else:
            ax.set(yscale="log", title=f"{row['size']}, {machine()['cpu']}")
            ax.legend(fontsize=8)
    for k, (name, (run, r)) in enumerate(shown.items()):
        axis = fig.add_subplot(grid[1, 2 * k:2 * k + 2])
        axis.imshow(to_uint8(run["img"]))
        axis.set_title(f"{name}: {r['objective']:.4g}, {r['seconds']:.0f} s", fontsize=9)
        axis.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.manual_seed(0)
    fast = vgg19(device=args.device)  # what transfer() runs by default
    precision = "bfloat16" if fast.dtype == torch.bfloat16 else "float32"
    net = copy.deepcopy(fast).to(memory_format=torch.contiguous_format)  # the recipe's: float32, default layout
    net.dtype, net.memory_format = torch.float32, torch.contiguous_format
    content = load_image(ROOT / "data" / "chelsea.png", size=tuple(args.size)).to(net.device)
    style = load_image(ROOT / "data" / "starry_night.jpg", size=tuple(args.size)).to(net.device)
    objective = StyleObjective(content, style, net=net)
    layers = objective.content_layers + objective.style_layers
    bare = {"recipe": bare_pass_seconds(objective, content),
            "ours": bare_pass_seconds(StyleObjective(content, style, net=fast), content)}
    gflop = pass_flops(net, content, layers) / 1e9
    row = {"machine_at_start": machine()}
    print(f"machine: {row['machine_at_start']}", flush=True)
    ours = project_runs(objective, content, style, fast, args.long_steps, not args.no_restartless)
    peak = {"ours": peak_rss_gb()}
    recipes = {}
    for lr in args.lrs:
        recipes[lr] = recipe(objective, content, lr, args.steps)
        print(f"recipe lr {lr:.4g}: objective {recipes[lr]['objective']:.4g} in {recipes[lr]['seconds']:.1f} s",
              flush=True)
    peak["recipe"] = peak_rss_gb()
    row |= summarize(args, recipes, ours, bare, gflop) | {"precision": precision, "device": net.device.type}
    row["peak_rss_gb"], row["machine"] = peak, machine()
    text = report(row)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(row, indent=2) + "\n")
    load = (row["machine_at_start"]["load_average_1_5_15min"], row["machine"]["load_average_1_5_15min"])
    args.out.with_suffix(".md").write_text(f"machine: {row['machine']}\nload average (1, 5, 15 min) at start and end: "
                                           f"{load[0]}, {load[1]}\n\n{text}\n")
    with open(args.out.with_suffix(".csv"), "w") as f:
        f.write("method,lr,seconds,objective\n")
        for lr, run in recipes.items():
            f.writelines(f"recipe,{lr:.4g},{t:.3f},{v:.6g}\n" for t, v in run["trace"])
        for name, run in ours.items():
            f.writelines(f'"{name}",,{t:.3f},{v:.6g}\n' for t, v in run["trace"])
    plot(args.out.with_suffix(".png"), recipes, ours, row)
    save_image(ours["transfer()"]["img"], args.out.parent / f"{args.out.name}_transfer.png")
    save_image(recipes[row["recipe_lr"]]["img"], args.out.parent / f"{args.out.name}_recipe.png")


if __name__ == "__main__":
    main()
