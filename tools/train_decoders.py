"""Train the decoders of universal style transfer (issue 40; Li et al. 2017) on the collected photos.

    python tools/collect_photos.py photos/                            # the training photos, with MANIFEST.tsv
    python tools/train_decoders.py --photos photos/ --level relu3_1 --minutes 45
    python tools/train_decoders.py --photos photos/ --level relu3_1 --minutes 45 --resume   # goes on

A decoder turns VGG19's features at one level (relu1_1 ... relu4_1) back into the picture: VGG19 up to that layer,
mirrored (3x3 convolutions with reflection padding, nearest upsampling where VGG19 pools). It is trained only to
reconstruct photos: the pixels' squared error plus the features' relative squared error, no style image. Every
`--checkpoint-minutes` it writes OUT_DIR/LEVEL.checkpoint.pt (weights, steps, seconds, the loss history, its record);
`--resume` goes on from it (Adam's moments start again: they are not saved, to keep the file small). The record
names the command (relative paths), the photos' checksum, the machine, the wall time and the steps.
Notebook 9 (next) will export `decoder` and `reconstruction_loss`; this tool then imports them from the package.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
from torch import nn

from d2lstyle.fast import fingerprint, machine, photo_files, relative_command
from d2lstyle.features import vgg19
from d2lstyle.feedforward import random_patches
from d2lstyle.files import load_checkpoint, save_checkpoint
from d2lstyle.images import load_image

# The channels after each 3x3 convolution of a decoder, "U" for a 2x nearest upsampling: VGG19's encoder up to the
# level, read backwards (the first number is the level's channels, the input).
DECODERS = {"relu1_1": [64, 3], "relu2_1": [128, 64, "U", 64, 3], "relu3_1": [256, 128, "U", 128, 64, "U", 64, 3],
            "relu4_1": [512, 256, "U", 256, 256, 256, 128, "U", 128, 64, "U", 64, 3]}
# About the root mean square of the features at each level on photos: VGG19's Caffe weights take pixels in 0-255
SCALES = {"relu1_1": 50, "relu2_1": 200, "relu3_1": 300, "relu4_1": 1000}
FEATURE_WEIGHT = 1.0  # of the features' relative error, beside the pixels' squared error (as Li et al.)


class Scale(nn.Module):
    """Multiplies by a fixed factor (a buffer): the features come in near 1, so Adam's steps suit every layer."""

    def __init__(self, factor: float):
        super().__init__()
        self.register_buffer("factor", torch.tensor(float(factor)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def decoder(level: str) -> nn.Sequential:
    """The decoder of VGG19's features at `level` (1, c, h, w) -> a picture (1, 3, H, W), values about [0, 1]."""
    spec, layers = DECODERS[level], [Scale(1 / SCALES[level])]
    channels = spec[0]
    for i, item in enumerate(spec[1:]):
        if item == "U":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            continue
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, item, 3)]
        if i < len(spec) - 2:  # no ReLU after the last convolution: the picture may be dark
            layers.append(nn.ReLU())
        channels = item
    return nn.Sequential(*layers)


def reconstruction_loss(net, level: str, dec: nn.Module, photos: torch.Tensor) -> dict[str, torch.Tensor]:
    """The pixels' mean squared error and the features' relative squared error of decoding a batch (b, 3, H, W)."""
    with torch.no_grad():
        target = net(photos, [level])[level]
    picture = dec(target)
    again = net(picture, [level])[level]
    return {"pixels": ((picture - photos) ** 2).mean(),
            "features": FEATURE_WEIGHT * ((again - target) ** 2).mean() / (target ** 2).mean()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python tools/train_decoders.py", description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=Path, required=True, help="folder of training photos (.jpg, .png)")
    p.add_argument("--level", choices=tuple(DECODERS), required=True)
    p.add_argument("--minutes", type=float, required=True, help="train until this many minutes in all")
    p.add_argument("--out-dir", type=Path, default=Path("benchmarks/results/decoders"))
    p.add_argument("--size", type=int, default=256, help="shorter side of the photos (%(default)s)")
    p.add_argument("--patch", type=int, default=128, help="side of the square patches (%(default)s)")
    p.add_argument("--batch", type=int, default=4, help="patches a step (%(default)s)")
    p.add_argument("--lr", type=float, default=5e-4, help="Adam's learning rate (%(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


def train(args: argparse.Namespace, argv: list[str]) -> None:
    files = photo_files(args.photos)
    photos = [load_image(p, args.size) for p in files]
    settings = {"level": args.level, "photos_sha256": fingerprint(files), "size": args.size, "patch": args.patch,
                "batch": args.batch, "lr": args.lr, "seed": args.seed, "feature_weight": FEATURE_WEIGHT}
    path = args.out_dir / f"{args.level}.checkpoint.pt"
    torch.manual_seed(args.seed)
    dec, generator = decoder(args.level), torch.Generator().manual_seed(args.seed)
    saved = {"step": 0, "seconds": 0.0, "history": [], "record": {"sessions": []}}
    if args.resume:
        saved = load_checkpoint(path, settings)
        dec.load_state_dict(saved["net"])
        generator.manual_seed(args.seed + saved["step"])  # new patches after a resume, the same ones on a rerun
    elif path.exists():
        sys.exit(f"{path}: exists: add --resume to go on, or delete it")
    net, opt = vgg19(precision="auto"), torch.optim.Adam(dec.parameters(), lr=args.lr)
    step, seconds, history, record = saved["step"], saved["seconds"], saved["history"], saved["record"]
    record["sessions"].append({"machine": machine(), "start_step": step, "date": time.strftime("%Y-%m-%d %H:%M")})
    record["command"] = relative_command(argv, args.photos).replace("-m d2lstyle.fast", "tools/train_decoders.py", 1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    start, last_save = time.monotonic() - seconds, time.monotonic()
    while seconds < 60 * args.minutes:
        parts = reconstruction_loss(net, args.level, dec, random_patches(photos, args.batch, args.patch, generator))
        total = sum(parts.values())
        opt.zero_grad()
        total.backward()
        opt.step()
        step, seconds = step + 1, time.monotonic() - start
        history.append([round(v.item(), 6) for v in parts.values()])
        if not math.isfinite(total.item()):
            sys.exit(f"the loss diverged at step {step}: lower --lr")
        if step % 50 == 0:
            recent = history[-50:]
            print(f"{args.level} step {step} {seconds / 60:.1f} min pixels {sum(h[0] for h in recent) / 50:.5f} "
                  f"features {sum(h[1] for h in recent) / 50:.4f}", flush=True)
        if time.monotonic() - last_save > 60 * args.checkpoint_minutes or seconds >= 60 * args.minutes:
            save_checkpoint(path, {"settings": settings, "step": step, "seconds": seconds, "history": history,
                                   "record": record, "net": dec.state_dict()})
            last_save = time.monotonic()
    print(f"{args.level}: {step} steps in {seconds / 60:.1f} min: {path}")


if __name__ == "__main__":
    argv = sys.argv[1:]
    train(parse_args(argv), argv)
