"""The command line, `python -m d2lstyle` (hand-written): its options, with the library's defaults (batch.DEFAULTS) and
checks; a problem with the whole command is one line and exit status 2, before any image is read. batch.py runs it."""

import argparse
from pathlib import Path

from d2lstyle.batch import DEFAULTS, FAST_ONLY, FAST_OPTIONS, MODEL_OPTIONS, run_batch
from d2lstyle.checks import RULES, Parser, check_device, check_layers, check_options
from d2lstyle.command import Command
from d2lstyle.controls import PRESERVE_COLOR, STATISTICS, check_layer_weights
from d2lstyle.fast import load_model, model_names
from d2lstyle.features import PRECISIONS
from d2lstyle.synthesis import INITS
from d2lstyle.universal import TRANSFORMS


def number(text: str) -> float:  # the network computes in float32 (or less): a larger number overflows there
    if 3.4028234663852886e38 < abs(value := float(text)) < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is over 3.4e+38, the largest float32 number")
    return value


def number_list(text: str) -> list[float]:
    try:
        return [number(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, like 0.7,0.3") from None


def name_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


# The options, by group (its description, then each option's flags, help and argparse keywords). An option whose name
# is a keyword argument of the library (batch.DEFAULTS) gets its default from there; "(%(default)s)" in a help shows it.
OPTIONS = {
    "images": (None, [
        ("inputs", "content images, folders of images or quoted globs (default: the cat)",
         dict(nargs="*", type=Path, metavar="CONTENT")),
        ("-s --style", "style image, folder or glob; repeat for several (default: Starry Night)",
         dict(dest="styles", action="append", type=Path, metavar="STYLE")),
        ("-o --output", "the output image for one picture, a folder for several (named CONTENT_STYLE.png; default: the "
         "current folder)", dict(type=Path)),
        ("--size", "shorter side of the result in pixels (256)", dict(type=int, default=256))]),
    "in one pass": ("paint in one pass, with a network trained for one style (--model, notebook 8: only --size, -o, "
                    "--force, --preserve-color luminance, --max-size and --device apply) or with any style image "
                    "(--fast, notebook 9: also --style, --preserve-color, --weights and --precision)", [
        ("--model", "a network the package ships (see --list-models) or the path of one made by `python -m "
         "d2lstyle.fast train`", dict(metavar="NAME")),
        ("--list-models", "list the trained networks and exit", dict(action="store_true")),
        ("--fast", "any style in one pass: whitening and coloring with the package's decoders, about a second a "
         "picture", dict(action="store_true")),
        ("--strength", "with --fast: 0 the photo, 1 the style's statistics (%(default)s)", dict(type=number)),
        ("--transform", "with --fast: adain keeps more of the photo, wct moves more of the style (%(default)s)",
         dict(choices=tuple(TRANSFORMS)))]),
    "the objective": (None, [
        *[(f"--{part}-weight", "(%(default)s)", dict(type=number)) for part in ("content", "style", "tv")],
        *[(f"--{part}-layers", "comma-separated (%(default)s)", dict(type=name_list)) for part in ("content", "style")],
        ("--weights", "VGG19 weights: caffe (original, offline) or torchvision (downloads once) (%(default)s)",
         dict(choices=("caffe", "torchvision")))]),
    "the optimisation": (None, [
        ("--steps", "most optimisation steps per pyramid level; it stops sooner once the loss stalls (%(default)s)",
         dict(type=int)),
        ("--tol", "stop a level once the loss falls by less than this fraction over 10 steps: larger is sooner and "
         "rougher, 0 runs every step (%(default)s)", dict(type=number)),
        ("--scales", "levels of a coarse-to-fine pyramid as fractions of the size, e.g. 0.25,0.5,1 for large "
         "pictures; levels under 64 pixels are skipped (%(default)s: full size only)", dict(type=number_list)),
        ("--init", "starting image: the content in the style's colours, the content, or noise (%(default)s)",
         dict(choices=INITS)),
        ("--optimizer", None, dict(choices=("lbfgs", "adam"))),
        ("--lr", "learning rate (Adam: 0.02, L-BFGS: 1)", dict(type=number)),
        ("--precision", "of the network's passes: auto is bfloat16 where the processor has it, else float32 "
         "(%(default)s)", dict(choices=PRECISIONS)),
        ("--seed", None, dict(type=int)),
        ("--device", "cpu, cuda, ... (default: the GPU when there is one)", {})]),
    "files and interruptions": (None, [
        ("--force", "overwrite outputs that exist", dict(action="store_true")),
        ("--checkpoint-every", "every N steps save the picture so far as OUT.checkpoint.pt",
         dict(type=int, metavar="N")),
        ("--resume", "continue from OUT.checkpoint.pt where there is one", dict(action="store_true"))]),
    "controls": ("colour, several styles in one picture, masks, stroke size, layers (notebook 7)", [
        ("--style-weights", "blend all the --style images into one picture per content with these weights, one per "
         "style, e.g. 0.7,0.3", dict(type=number_list)),
        ("--mask", "mask image over the content whose grey level picks the style (all the --style images, one "
         "picture per content): black none; one style: white; two styles: mid-grey the first, white the second",
         dict(type=Path)),
        ("--preserve-color", "keep the content's colours: transfer the luminance only, or match the style's colour "
         "histogram to the content's first", dict(choices=PRESERVE_COLOR)),
        ("--style-scale", "style image's shorter side as a multiple of the result's: larger, larger strokes (1)",
         dict(type=number)),
        ("--style-layer-weights", "one weight per style layer, e.g. 1,1,1,0.5,0.5", dict(type=number_list)),
        ("--statistic", "style statistic: Gram matrix, or mean and covariance of the features (%(default)s)",
         dict(choices=tuple(STATISTICS))),
        ("--max-size", "refuse results whose longer side is over this many pixels (2048)",
         dict(type=int, default=2048))]),
}


def parser() -> Parser:
    """The command's parser, made from OPTIONS."""
    p = Parser(prog="d2lstyle", description="Paint CONTENT in the style of STYLE (Gatys et al. 2016). With no "
               "arguments: the cat in the style of Starry Night. `d2lstyle CONTENT STYLE` also works.")
    for title, (description, options) in OPTIONS.items():
        group = p.add_argument_group(title, description)
        for flags, text, keywords in options:
            if (name := flags.split("--")[-1].replace("-", "_")) in DEFAULTS:  # a tuple as a list: shown, recorded a,b
                keywords = {"default": list(d) if isinstance(d := DEFAULTS[name], tuple) else d, **keywords}
            group.add_argument(*flags.split(), help=text, **keywords)
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    args = (p := parser()).parse_args(argv)
    if vars(args).pop("list_models"):  # the trained networks' names, with the style and the training of each
        for name in model_names():
            record = load_model(name).record
            print(f"{name:14} {record.get('steps', '?')} steps on {record.get('photos', '?')} photos "
                  f"({record.get('command', 'no record')})")
        p.exit()
    one_pass = "--model" if args.model is not None else "--fast" if args.fast else None
    if args.model is not None and args.fast:
        p.error("--model paints with a trained network, --fast with any style image: drop one")
    changed = [name for name in vars(args) if getattr(args, name) != p.get_default(name)]
    if one_pass is None and (given := [n for n in changed if n in FAST_ONLY]):
        p.error(f"{' and '.join('--' + n for n in given)} go with --fast: add --fast, or drop them")
    allowed = (*{"--model": MODEL_OPTIONS, "--fast": (*FAST_OPTIONS, "styles")}.get(one_pass, changed), "inputs",
               "output", "force")
    if given := [name for name in changed if name not in allowed]:  # one pass: no steps or weights to choose
        options = ", ".join("--style" if n == "styles" else f"--{n.replace('_', '-')}" for n in given)
        what = "a trained network" if one_pass == "--model" else "any style image, in one pass"
        p.error(f"{one_pass} paints with {what}, and {options} belong to the optimisation: drop them, or drop "
                f"{one_pass}")
    if args.model is not None and args.preserve_color not in (None, "luminance"):
        p.error(f"--preserve-color {args.preserve_color} needs the style image: with --model, use luminance")
    return args


def check_args(args: argparse.Namespace) -> None:
    """Every check that the command alone allows, before anything is read: the library's, then the command's own."""
    check_options(**{name: getattr(args, name) for name in RULES if name in vars(args)})  # steps, size, ...
    check_device("device", args.device)  # before the network loads
    for name in ("content_layers", "style_layers"):
        check_layers(name, getattr(args, name))
    if args.style_weights is not None and args.mask is not None:
        raise ValueError("--style-weights and --mask do not go together (the mask places the styles): drop one")
    try:
        check_layer_weights(args.style_layer_weights, args.style_layers)
    except ValueError as err:
        raise ValueError(f"--style-layer-weights: {err}") from None
    if args.size > args.max_size:  # before loading: an image that large may not even fit in memory
        raise ValueError(f"--size {args.size} is over --max-size {args.max_size}: use a smaller --size, "
                         "or raise --max-size if the machine has the memory")
    if args.size * (args.style_scale or 1) > args.max_size:  # the style's shorter side, resized for --style-scale
        raise ValueError(f"--style-scale {args.style_scale}: the style would be {args.size * args.style_scale:.0f} "
                         f"pixels on its shorter side, over --max-size {args.max_size}: use a smaller --style-scale, "
                         "or raise --max-size if the machine has the memory")


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (130, 143 after Ctrl-C, SIGTERM: d2lstyle/command.py's signal rule)."""
    with Command("d2lstyle", program=argv is None) as done:
        args = parse_args(argv)
        check_args(args)
        done.status = run_batch(args)
    return done.exit_status()
