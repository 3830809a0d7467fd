"""Command line: `python -m d2lstyle CONTENT STYLE -o OUT.png`. Hand-written (not generated from a notebook).

With no arguments it paints the default content image (the cat) in the default style (Starry Night).
Every problem with the user's input is reported in one line, before any optimisation starts, with exit status 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from d2lstyle.controls import (
    PRESERVE_COLOR,
    STATISTICS,
    blend_weights,
    check_layer_weights,
    check_size,
    controlled_transfer,
    mask_from_image,
)
from d2lstyle.features import LAYERS, MIN_SIDE, vgg19
from d2lstyle.images import image_format, load_image, save_image
from d2lstyle.transfer import CONTENT_LAYERS, STYLE_LAYERS

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


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def number_list(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, like 0.7,0.3") from None


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line, without the usage text, like every other error of this command."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog="d2lstyle", description="Paint CONTENT in the style of STYLE "
                                "(Gatys et al. 2016). With no arguments: the cat in the style of Starry Night.")
    p.add_argument("content", nargs="?", type=Path, default=DEFAULT_CONTENT, help="content image (default: the cat)")
    p.add_argument("style", nargs="*", type=Path, default=[DEFAULT_STYLE],
                   help="style image (default: Starry Night); several are combined with --style-weights or --mask")
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
    add_control_options(p)
    return p.parse_args(argv)


def add_control_options(p: argparse.ArgumentParser) -> None:
    """The controls of notebook 7 (module `controls`), as one group of options."""
    g = p.add_argument_group("controls", "colour, several styles, masks, stroke size, layers (notebook 7)")
    g.add_argument("--style-weights", type=number_list, help="blend the style images into one result with "
                   "these weights, one per style, e.g. 0.7,0.3")
    g.add_argument("--mask", type=Path, help="mask image over the content whose grey level picks the style: black "
                   "none; one style: white; two styles: mid-grey the first, white the second")
    g.add_argument("--preserve-color", choices=PRESERVE_COLOR, help="keep the content's colours: transfer the "
                   "luminance only, or match the style's colour histogram to the content's first")
    g.add_argument("--style-scale", type=positive_float, default=1.0,
                   help="style image's shorter side as a multiple of the result's: larger, larger strokes (1)")
    g.add_argument("--style-layer-weights", type=number_list, help="one weight per style layer, e.g. 1,1,1,0.5,0.5")
    g.add_argument("--statistic", choices=tuple(STATISTICS), default="gram",
                   help="style statistic: Gram matrix, or mean and covariance of the features (gram)")
    g.add_argument("--max-size", type=positive_int, default=2048,
                   help="refuse results whose longer side is over this many pixels (2048)")


def checked(option: str, check, *values) -> None:
    """Run one of the checks that Python callers get too; its error is named by the option."""
    try:
        check(*values)
    except ValueError as err:
        raise ValueError(f"{option}: {err}") from None


def control_options(args: argparse.Namespace, content: torch.Tensor) -> dict:
    """controlled_transfer's keyword arguments from the control options, all checked before any work."""
    n_styles = len(args.style)
    if n_styles > 1 and args.style_weights is None and args.mask is None:
        raise ValueError(f"{n_styles} style images: give --style-weights to blend them, or --mask to place them")
    if args.style_weights is not None and args.mask is not None:
        raise ValueError("--style-weights and --mask do not go together (the mask places the styles): drop one")
    if args.style_weights is not None:
        checked("--style-weights", blend_weights, args.style_weights, n_styles)
    checked("--style-layer-weights", check_layer_weights, args.style_layer_weights, args.style_layers)
    masks = None if args.mask is None else mask_from_image(load_image(args.mask, tuple(content.shape[-2:])), n_styles)
    return dict(style_blend=args.style_weights, masks=masks, preserve_color=args.preserve_color,
                style_scale=args.style_scale, style_layer_weights=args.style_layer_weights,
                statistic=args.statistic, max_size=args.max_size)


def run_metadata(args: argparse.Namespace) -> dict[str, str]:
    """The text a PNG result carries: each option used, and the command that makes the same image again."""
    def text(value) -> str:
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    skip = {"content", "style", "output", "force"}
    options = {key: text(value) for key, value in vars(args).items() if key not in skip and value is not None}
    words = ["python", "-m", "d2lstyle", str(args.content), *map(str, args.style)]
    for key, value in options.items():
        words += [f"--{key.replace('_', '-')}", value]
    return {"Software": "d2lstyle", "d2lstyle command": shlex.join(words),
            **{f"d2lstyle {key}": value for key, value in options.items()}}


def output_path(args: argparse.Namespace) -> Path:
    """The output path, checked before any work: a known format, a writable folder, no file of the user's lost."""
    out = args.output or Path(f"{args.content.stem}_{'_'.join(p.stem for p in args.style)}.png")
    image_format(out)
    if any(out.exists() and p.exists() and out.samefile(p) for p in (args.content, args.mask, *args.style) if p):
        raise ValueError(f"{out}: the output would overwrite an input image: choose another name with -o")
    if out.exists() and not args.force:
        raise FileExistsError(f"{out}: already exists: choose another name with -o, or add --force to overwrite it")
    return out


def run(args: argparse.Namespace) -> Path:
    from tqdm import tqdm

    out = output_path(args)
    if args.size < MIN_SIDE:
        raise ValueError(f"--size {args.size} is too small: VGG19 needs at least {MIN_SIDE} pixels on each side")
    if args.size > args.max_size:  # before loading: an image that large may not even fit in memory
        raise ValueError(f"--size {args.size} is over --max-size {args.max_size}: use a smaller --size, "
                         "or raise --max-size if the machine has the memory")
    content = load_image(args.content, args.size)
    check_size(content, args.max_size)
    styles = [load_image(path) for path in args.style]  # controlled_transfer resizes them (--style-scale)
    controls = control_options(args, content)
    net = vgg19(args.weights, device=args.device)
    with tqdm(desc="stylizing", unit="step", file=sys.stderr) as bar:  # no total: it stops when the loss stalls
        def progress(step: int, img: torch.Tensor, losses: dict) -> None:
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
            bar.update()

        result = controlled_transfer(content, styles, steps=args.steps, optimizer=args.optimizer, init=args.init,
                                     seed=args.seed, lr=args.lr, callback=progress, net=net,
                                     content_layers=args.content_layers, style_layers=args.style_layers,
                                     content_weight=args.content_weight, style_weight=args.style_weight,
                                     tv_weight=args.tv_weight, **controls)
    return save_image(result, out, metadata=run_metadata(args) if image_format(out) == "PNG" else None)


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
