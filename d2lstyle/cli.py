"""Command line: `python -m d2lstyle CONTENT STYLE -o OUT.png`. Hand-written (not generated from a notebook).

With no arguments it paints the default content image (the cat) in the default style (Starry Night).
Every problem with the user's input is reported in one line, before any optimisation starts, with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from d2lstyle.features import LAYERS, MIN_SIDE, vgg19
from d2lstyle.images import image_format, load_image, save_image
from d2lstyle.transfer import CONTENT_LAYERS, STYLE_LAYERS, transfer

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CONTENT, DEFAULT_STYLE = DATA / "chelsea.png", DATA / "starry_night.jpg"


def layer_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LAYERS]
    if unknown or not names:
        named = ", ".join(unknown) or repr(text)
        raise argparse.ArgumentTypeError(f"unknown layer {named}: choose from {', '.join(LAYERS)}")
    return names


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line, without the usage text, like every other error of this command."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog="d2lstyle", description="Paint CONTENT in the style of STYLE "
                                "(Gatys et al. 2016). With no arguments: the cat in the style of Starry Night.")
    p.add_argument("content", nargs="?", type=Path, default=DEFAULT_CONTENT, help="content image (default: the cat)")
    p.add_argument("style", nargs="?", type=Path, default=DEFAULT_STYLE, help="style image (default: Starry Night)")
    p.add_argument("-o", "--output", type=Path, help="output image (default: CONTENT_STYLE.png here)")
    p.add_argument("--size", type=positive_int, default=256, help="shorter side of the result in pixels (256)")
    p.add_argument("--steps", type=positive_int, default=200,
                   help="most optimisation steps per pyramid level; it stops sooner once the loss stalls (200)")
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=2.0)
    p.add_argument("--tv-weight", type=float, default=1.0)
    p.add_argument("--content-layers", type=layer_list, default=list(CONTENT_LAYERS), help="comma-separated names")
    p.add_argument("--style-layers", type=layer_list, default=list(STYLE_LAYERS), help="comma-separated names")
    p.add_argument("--init", choices=("content", "noise"), default="content", help="starting image (content)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    p.add_argument("--lr", type=float, help="learning rate (Adam: 0.02, L-BFGS: 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", choices=("caffe", "torchvision"), default="caffe",
                   help="VGG19 weights: caffe (original, offline) or torchvision (downloads once)")
    p.add_argument("--device", help="cpu, cuda, ... (default: the GPU when there is one)")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    return p.parse_args(argv)


def output_path(args: argparse.Namespace) -> Path:
    """The output path, checked before any work: a known format, a writable folder, no file of the user's lost."""
    out = args.output or Path(f"{args.content.stem}_{args.style.stem}.png")
    image_format(out)
    if any(out.exists() and p.exists() and out.samefile(p) for p in (args.content, args.style)):
        raise ValueError(f"{out}: the output would overwrite an input image: choose another name with -o")
    if out.exists() and not args.force:
        raise FileExistsError(f"{out}: already exists: choose another name with -o, or add --force to overwrite it")
    return out


def run(args: argparse.Namespace) -> Path:
    from tqdm import tqdm

    out = output_path(args)
    if args.size < MIN_SIDE:
        raise ValueError(f"--size {args.size} is too small: VGG19 needs at least {MIN_SIDE} pixels on each side")
    content = load_image(args.content, args.size)
    style = load_image(args.style, args.size)
    net = vgg19(args.weights, device=args.device)
    with tqdm(desc="stylizing", unit="step", file=sys.stderr) as bar:  # no total: it stops when the loss stalls
        def progress(step: int, img: torch.Tensor, losses: dict) -> None:
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
            bar.update()

        result = transfer(content, style, steps=args.steps, optimizer=args.optimizer, init=args.init,
                          seed=args.seed, lr=args.lr, callback=progress, net=net,
                          content_layers=args.content_layers, style_layers=args.style_layers,
                          content_weight=args.content_weight, style_weight=args.style_weight,
                          tv_weight=args.tv_weight)
    return save_image(result, out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        out = run(args)
    except (OSError, ValueError, RuntimeError) as err:
        print(f"d2lstyle: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("d2lstyle: interrupted, nothing was written", file=sys.stderr)
        return 130
    print(f"saved {out.resolve()}")
    return 0
