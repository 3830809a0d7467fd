"""Train the decoders of universal style transfer (issue 40; Li et al. 2017) on the collected photos.

    python tools/collect_photos.py photos/                            # the training photos, with MANIFEST.tsv
    python tools/train_decoders.py --photos photos/ --level relu3_1 --minutes 45
    python tools/train_decoders.py --photos photos/ --level relu3_1 --minutes 45 --resume   # goes on

A decoder turns VGG19's features at one level (relu1_1 ... relu4_1) back into the picture: VGG19 up to that layer,
mirrored (3x3 convolutions with reflection padding, nearest upsampling where VGG19 pools). It is trained only to
reconstruct photos: the pixels' squared error plus the features' relative squared error, no style image. Every
`--checkpoint-minutes` it writes OUT_DIR/LEVEL.checkpoint.pt (weights, steps, seconds, the loss history, its record);
`--resume` goes on from it. Adam's moments are not saved, to keep the file small, so over the first 200 steps of a
resumed run the learning rate rises from 0 while they are estimated again: 42 steps without this warm-up made
relu4_1's decoder worse (the style term of notebook 9's pictures rose from 2.30 to 2.45), and were thrown away. The
record names the command (relative paths), the photos' checksum, the machines, the wall time and the steps.
`decoder` and `reconstruction_loss` are notebook 9's.

    python tools/train_decoders.py --ship    # each checkpoint -> d2lstyle/models/decoders/LEVEL.pt (float16)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from d2lstyle.fast import DECODER_FOLDER, fingerprint, machine, photo_files, relative_command
from d2lstyle.features import vgg19
from d2lstyle.feedforward import random_patches
from d2lstyle.files import load_checkpoint, save_checkpoint, write_whole
from d2lstyle.images import load_image
from d2lstyle.universal import DECODERS, FEATURE_WEIGHT, decoder, reconstruction_loss


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python tools/train_decoders.py", description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=Path, help="folder of training photos (.jpg, .png)")
    p.add_argument("--level", choices=tuple(DECODERS))
    p.add_argument("--minutes", type=float, help="train until this many minutes in all")
    p.add_argument("--out-dir", type=Path, default=Path("benchmarks/results/decoders"))
    p.add_argument("--size", type=int, default=256, help="shorter side of the photos (%(default)s)")
    p.add_argument("--patch", type=int, default=128, help="side of the square patches (%(default)s)")
    p.add_argument("--batch", type=int, default=4, help="patches a step (%(default)s)")
    p.add_argument("--lr", type=float, default=5e-4, help="Adam's learning rate (%(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--ship", action="store_true", help="write the package's decoders from the checkpoints, and exit")
    args = p.parse_args(argv)
    if not args.ship and None in (args.photos, args.level, args.minutes):
        p.error("give --photos, --level and --minutes (or --ship)")
    return args


WARM_UP = 200  # steps of a resumed run over which the learning rate rises from 0 to --lr


def ship(out_dir: Path) -> None:
    """Each level's checkpoint as the package's decoder: float16 weights and the training record (about half)."""
    for level in DECODERS:
        saved = torch.load(out_dir / f"{level}.checkpoint.pt", map_location="cpu", weights_only=True)
        state = {k: v.half() if v.is_floating_point() else v for k, v in saved["net"].items()}
        record = {**saved["record"], "photos_sha256": saved["settings"]["photos_sha256"], "steps": saved["step"],
                  "seconds": round(saved["seconds"])}
        saved = {"level": level, "state": state, "record": record}
        path = write_whole(DECODER_FOLDER / f"{level}.pt", lambda f, s=saved: torch.save(s, f))
        print(f"{level}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


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
    first = saved["step"]
    warm_up = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / WARM_UP) if first else 1.0)
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
        warm_up.step()
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
    args = parse_args(argv)
    ship(args.out_dir) if args.ship else train(args, argv)
