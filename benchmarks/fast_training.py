"""Which change to the fast network's training lowers its objective on the test photos (issue 24)?

A benchmark script (not a test; CI does not run it). Each variant trains a fresh network for the same number of
steps with the training command's defaults (batch 4 of 128 px patches cut from the photos at 256 px, Adam 1e-3,
seed 0) and only its own change; every `--every` steps the network paints the six test photos at 256 px and each
picture is scored with the objective of benchmarks/fast.py (`StyleObjective`, default weights, float32 VGG19).

    python tools/collect_photos.py /tmp/photos
    python benchmarks/fast_training.py --photos /tmp/photos --variant baseline --steps 800 --threads 1 &
    python benchmarks/fast_training.py --photos /tmp/photos --variant skip --steps 800 --threads 1 &

Variants:
  baseline    the network and loss of notebook 8 as they are
  skip        the network changes the photo instead of drawing a new picture: out = sigmoid(logit(photo) + f(photo)),
              with f's last convolution starting at zero, so the untrained network returns the photo (content 0)
  content3    the training loss weighs content 3 times (the score keeps weight 1)
Results: results/fast_training_VARIANT.json (the curve of the mean objective and of its parts).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from fast import STYLE, TEST_PHOTOS  # benchmarks/fast.py
from speed import machine

from d2lstyle import StyleObjective, load_image, vgg19
from d2lstyle.fast import photo_files
from d2lstyle.feedforward import PerceptualLoss, TransformNet, random_patches, train_step
from d2lstyle.files import data_file

RESULTS = Path(__file__).parent / "results"


class SkipNet(TransformNet):
    """TransformNet whose output is the photo changed by f: sigmoid(logit(x) + f(x)); f starts at zero."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        last = self.layers[-1][-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        return torch.sigmoid(torch.logit(x, eps=1e-3) + self.layers(x)[..., :h, :w])


def score(net: torch.nn.Module, tests: list[tuple[torch.Tensor, StyleObjective]]) -> dict:
    """The mean objective and parts of the network's pictures of the test photos."""
    rows = []
    with torch.no_grad():
        net.eval()
        for photo, objective in tests:
            rows.append({k: v.item() for k, v in objective.parts(net(photo)).items()})
        net.train()
    mean = {k: round(statistics.mean(r[k] for r in rows), 4) for k in rows[0]}
    return {**mean, "objective": round(sum(mean.values()), 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--variant", choices=("baseline", "skip", "content3"), required=True)
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    photos = [load_image(f, 256) for f in photo_files(args.photos)]
    style, scorer = load_image(data_file(STYLE), 256), vgg19(precision="float32")
    tests = [(photo, StyleObjective(photo, style, net=scorer))
             for photo in (load_image(data_file(n), 256) for n in TEST_PHOTOS)]
    torch.manual_seed(0)
    net = SkipNet() if args.variant == "skip" else TransformNet()
    loss = PerceptualLoss(style, vgg19(), content_weight=3.0 if args.variant == "content3" else 1.0)
    opt, generator = torch.optim.Adam(net.parameters(), lr=1e-3), torch.Generator().manual_seed(0)
    result = {"variant": args.variant, "steps": args.steps, "machine": machine(), "threads": torch.get_num_threads(),
              "date": time.strftime("%Y-%m-%d"), "curve": [{"step": 0, **score(net, tests)}]}
    seconds, out = 0.0, RESULTS / f"fast_training_{args.variant}.json"
    print(result["curve"][-1], flush=True)
    for step in range(1, args.steps + 1):
        start = time.perf_counter()
        train_step(net, opt, loss, random_patches(photos, 4, 128, generator))
        seconds += time.perf_counter() - start
        if step % args.every == 0:  # written at every point, so a run stopped early keeps its curve
            result["curve"].append({"step": step, "train_seconds": round(seconds), **score(net, tests)})
            out.write_text(json.dumps(result, indent=1) + "\n")
            print(result["curve"][-1], flush=True)


if __name__ == "__main__":
    main()
