"""Which training recipe gives the fast network the best pictures in the same minutes of a 2-core CPU (issue 36)?

A benchmark script (not a test; CI does not run it). Each variant trains a fresh network for the same *training
time* (not the same steps: a change that makes a step dearer must pay for it) from the recipe below with one change.
Every `--score-minutes` of training the network paints the six test photos at 256 px, and each picture is scored by
`StyleObjective`'s parts (default weights, float32 VGG19, as benchmarks/fast.py) and by `ssim` (how much of the
photo survives). The scoring time is not counted. Run two variants side by side, one thread each:

    python tools/collect_photos.py /work/photos
    python benchmarks/fast_training.py --photos /work/photos --variant old --minutes 12 --threads 1 &
    python benchmarks/fast_training.py --photos /work/photos --variant relu2_2 --minutes 12 --threads 1 &

Results: results/fast_training/VARIANT.json (the curve: minutes, steps, content, style, tv, total, ssim) and
VARIANT.jpg (its pictures of the six test photos at the end), written at every point.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch
from fast import STYLE, TEST_PHOTOS  # benchmarks/fast.py
from speed import machine

from d2lstyle import StyleObjective, load_image, vgg19
from d2lstyle.fast import photo_files
from d2lstyle.feedforward import PerceptualLoss, TransformNet, random_patches, ssim, train_step
from d2lstyle.files import data_file

RESULTS = Path(__file__).parent / "results" / "fast_training"
# the recipe of the shipped networks before issue 36, and each variant's change to it
OLD = dict(content_layers=("relu4_2",), style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
           content_weight=1.0, style_weight=2.0, width=16, lr=1e-3, schedule="constant", warm=0, patch=128, batch=4)
VARIANTS = {
    "old": {},
    "relu2_2": dict(content_layers=("relu2_2",)),
    "relu2_2+4_2": dict(content_layers=("relu2_2", "relu4_2")),
    "relu2_2,to4_1": dict(content_layers=("relu2_2",), style_layers=OLD["style_layers"][:4]),
}


def variant(name: str) -> dict:
    """A variant's settings: OLD updated by the changes named in `name`, joined by '/' (e.g. 'relu2_2/warm')."""
    settings = dict(OLD)
    for part in name.split("/"):
        settings.update(VARIANTS[part] if part in VARIANTS else EXTRA[part])
    return settings


EXTRA = {
    "warm": dict(warm=2.0),  # minutes of learning to reproduce photos first (pixel loss), counted in the time
    "width32": dict(width=32),
    "cosine": dict(lr=3e-3, schedule="cosine"),
    "more_photos": {},  # a label: run with --photos of the 38 photos (the others ran with the first 24)
    "content2": dict(content_weight=2.0),
    "content4": dict(content_weight=4.0),
    "p256b1": dict(patch=256, batch=1),  # the same pixels a step as 4 patches of 128 px
    "p192b2": dict(patch=192, batch=2),
    "content0.5": dict(content_weight=0.5),
}


def score(net: torch.nn.Module, tests: list[tuple[torch.Tensor, StyleObjective]]) -> tuple[dict, list]:
    """The mean parts, total and SSIM of the network's pictures of the test photos, and the pictures."""
    rows, pictures = [], []
    net.eval()
    with torch.no_grad():
        for photo, objective in tests:
            picture = net(photo)
            parts = {k: v.item() for k, v in objective.parts(picture).items()}
            rows.append({**parts, "total": sum(parts.values()), "ssim": ssim(photo, picture)})
            pictures.append(picture)
    net.train()
    mean = {k: round(statistics.mean(r[k] for r in rows), 4) for k in rows[0]}
    return {**mean, "ssim_min": round(min(r["ssim"] for r in rows), 4)}, pictures


def strip(pictures: list[torch.Tensor], path: Path) -> None:
    """The pictures side by side, each 128 px high, as a JPEG."""
    from PIL import Image

    from d2lstyle.images import to_uint8

    small = [torch.nn.functional.interpolate(p, size=(128, round(128 * p.shape[-1] / p.shape[-2])), mode="area")
             for p in pictures]
    Image.fromarray(to_uint8(torch.cat(small, dim=-1))).save(path, quality=90)


def learn_identity(net: TransformNet, photos: list[torch.Tensor], seconds: float, generator) -> int:
    """Train `net` to return its input (mean absolute error of the pixels) for `seconds`; returns the steps."""
    opt, steps, start = torch.optim.Adam(net.parameters(), lr=3e-3), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        x = random_patches(photos, 4, 128, generator)
        opt.zero_grad()
        (net(x) - x).abs().mean().backward()
        opt.step()
        steps += 1
    return steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=Path, required=True, help="folder of training photos (collect_photos.py)")
    p.add_argument("--variant", required=True, help="names from VARIANTS and EXTRA joined by '/'")
    p.add_argument("--minutes", type=float, default=12, help="training time of the variant")
    p.add_argument("--score-minutes", type=float, default=3)
    p.add_argument("--style", default=STYLE)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    s = variant(args.variant)
    files = photo_files(args.photos)
    photos = [load_image(f, 256) for f in files]
    style, scorer = load_image(data_file(args.style), 256), vgg19(precision="float32")
    tests = [(photo, StyleObjective(photo, style, net=scorer))
             for photo in (load_image(data_file(n), 256) for n in TEST_PHOTOS)]
    torch.manual_seed(0)
    net, generator = TransformNet(width=s["width"]), torch.Generator().manual_seed(0)
    loss = PerceptualLoss(style, vgg19(), content_weight=s["content_weight"], style_weight=s["style_weight"],
                          content_layers=s["content_layers"], style_layers=s["style_layers"])
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"])
    name = args.variant.replace("/", "+") + ("" if args.style == STYLE else "_" + Path(args.style).stem)
    result = {"variant": args.variant, "settings": s, "photos": len(files), "minutes": args.minutes,
              "machine": machine(), "threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d"),
              "curve": []}
    seconds, steps, budget = 0.0, 0, 60 * args.minutes
    if s["warm"]:
        steps_identity = learn_identity(net, photos, 60 * s["warm"], generator)
        seconds, result["identity_steps"] = 60 * s["warm"], steps_identity
    RESULTS.mkdir(parents=True, exist_ok=True)
    next_score = 0.0
    while True:
        if seconds >= next_score or seconds >= budget:  # written at every point: a run stopped early keeps its curve
            values, pictures = score(net, tests)
            result["curve"].append({"minutes": round(seconds / 60, 2), "steps": steps, **values})
            (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
            strip(pictures, RESULTS / f"{name}.jpg")
            print(result["curve"][-1], flush=True)
            next_score += 60 * args.score_minutes
            if seconds >= budget:
                break
        if s["schedule"] == "cosine":
            for group in opt.param_groups:
                group["lr"] = s["lr"] * 0.5 * (1 + math.cos(math.pi * min(seconds / budget, 1)))
        start = time.perf_counter()
        train_step(net, opt, loss, random_patches(photos, s["batch"], s["patch"], generator))
        seconds, steps = seconds + time.perf_counter() - start, steps + 1


if __name__ == "__main__":
    main()
