"""Command line: `python -m d2lstyle`. Hand-written (not generated from a notebook).

    python -m d2lstyle                                    the cat in the style of Starry Night
    python -m d2lstyle CONTENT STYLE -o OUT.png           one picture
    python -m d2lstyle photos/ 'trip/*.jpg' a.png --style starry.jpg --style waves.jpg -o results/
                                                          every content image in every style, then a summary
    python -m d2lstyle CONTENT --style A --style B --style-weights 0.7,0.3 -o OUT.png
                                                          one picture in a blend of the styles (or --mask: regions)

A problem with the whole command (an option, the output folder, the weights) stops it before any optimisation,
with one line and exit status 2. A bad image fails only the pictures that need it: the others are made, and a
summary at the end lists each failure with its reason. Exit status: 0 when every picture was made, 2 when some
input was bad, 1 when a run stopped early on a numerical fault, 130 on Ctrl-C (the best image so far is saved).
"""

from __future__ import annotations

import argparse
import glob
import json
import shlex
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

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
from d2lstyle.files import write_text_whole
from d2lstyle.images import ImageNotice, image_format, load_image, save_image
from d2lstyle.transfer import CONTENT_LAYERS, INITS, PRECISIONS, STYLE_LAYERS, StoppedEarly, transfer, with_precision

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CONTENT, DEFAULT_STYLE = DATA / "chelsea.png", DATA / "starry_night.jpg"
# options that do not change the picture: a checkpoint made with other values of these can still be resumed
NOT_IN_CHECKPOINT = {"inputs", "styles", "output", "force", "resume", "checkpoint_every", "device", "steps",
                     "tol", "scales", "max_size"}


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


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def nonnegative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def number_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = [float("nan")]
    if any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, like 0.7,0.3")
    return values


def scale_list(text: str) -> list[float]:
    values = number_list(text)
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each level is a fraction of the size, over 0 and at most 1, "
                                         "like 0.25,0.5,1")
    return values


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line, without the usage text, like every other error of this command."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog="d2lstyle", description="Paint CONTENT in the style of STYLE (Gatys et al. 2016). With no "
               "arguments: the cat in the style of Starry Night. `d2lstyle CONTENT STYLE` also works.")
    for add_options in (add_image_options, add_objective_options, add_optimisation_options, add_file_options,
                        add_control_options):
        add_options(p)
    return p.parse_args(argv)


def add_image_options(p: argparse.ArgumentParser) -> None:
    io = p.add_argument_group("images")
    io.add_argument("inputs", nargs="*", type=Path, metavar="CONTENT",
                    help="content images, folders of images or quoted globs (default: the cat)")
    io.add_argument("-s", "--style", dest="styles", action="append", type=Path, metavar="STYLE",
                    help="style image, folder or glob; repeat for several (default: Starry Night)")
    io.add_argument("-o", "--output", type=Path, help="the output image for one picture, a folder for several "
                    "(named CONTENT_STYLE.png; default: the current folder)")
    io.add_argument("--size", type=positive_int, default=256, help="shorter side of the result in pixels (256)")


def add_objective_options(p: argparse.ArgumentParser) -> None:
    loss = p.add_argument_group("the objective")
    loss.add_argument("--content-weight", type=nonnegative_float, default=1.0)
    loss.add_argument("--style-weight", type=nonnegative_float, default=2.0)
    loss.add_argument("--tv-weight", type=nonnegative_float, default=1.0)
    loss.add_argument("--content-layers", type=layer_list, default=list(CONTENT_LAYERS), help="comma-separated")
    loss.add_argument("--style-layers", type=layer_list, default=list(STYLE_LAYERS), help="comma-separated")
    loss.add_argument("--weights", choices=("caffe", "torchvision"), default="caffe",
                      help="VGG19 weights: caffe (original, offline) or torchvision (downloads once)")


def add_optimisation_options(p: argparse.ArgumentParser) -> None:
    opt = p.add_argument_group("the optimisation")
    opt.add_argument("--steps", type=positive_int, default=200,
                     help="most optimisation steps per pyramid level; it stops sooner once the loss stalls (200)")
    opt.add_argument("--tol", type=nonnegative_float, default=1e-3,
                     help="stop a level once the loss falls by less than this fraction over 10 steps: larger is "
                     "sooner and rougher, 0 runs every step (0.001)")
    opt.add_argument("--scales", type=scale_list, default=[1.0],
                     help="levels of a coarse-to-fine pyramid as fractions of the size, e.g. 0.25,0.5,1 for large "
                     "pictures; levels under 64 pixels are skipped (1: full size only)")
    opt.add_argument("--init", choices=INITS, default="colors",
                     help="starting image: the content in the style's colours, the content, or noise (colors)")
    opt.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    opt.add_argument("--lr", type=positive_float, help="learning rate (Adam: 0.02, L-BFGS: 1)")
    opt.add_argument("--precision", choices=PRECISIONS, default="auto",
                     help="of the network's passes: auto is bfloat16 where the processor has it, else float32 (auto)")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--device", help="cpu, cuda, ... (default: the GPU when there is one)")


def add_file_options(p: argparse.ArgumentParser) -> None:
    run = p.add_argument_group("files and interruptions")
    run.add_argument("--force", action="store_true", help="overwrite outputs that exist")
    run.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                     help="every N steps save the picture so far as OUT.checkpoint.png (and .json)")
    run.add_argument("--resume", action="store_true", help="continue from OUT.checkpoint.png where there is one")


def add_control_options(p: argparse.ArgumentParser) -> None:
    """The controls of notebook 7 (module `controls`), as one group of options."""
    g = p.add_argument_group("controls", "colour, several styles in one picture, masks, stroke size, layers "
                             "(notebook 7)")
    g.add_argument("--style-weights", type=number_list, help="blend all the --style images into one picture per "
                   "content with these weights, one per style, e.g. 0.7,0.3")
    g.add_argument("--mask", type=Path, help="mask image over the content whose grey level picks the style (all the "
                   "--style images, one picture per content): black none; one style: white; two styles: mid-grey "
                   "the first, white the second")
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


def combines_styles(args: argparse.Namespace) -> bool:
    """With --style-weights or --mask all the styles go into one picture per content; else one picture per style."""
    return args.style_weights is not None or args.mask is not None


def check_controls(args: argparse.Namespace) -> None:
    """The control options that can be checked from the command alone, before anything is read."""
    if args.style_weights is not None and args.mask is not None:
        raise ValueError("--style-weights and --mask do not go together (the mask places the styles): drop one")
    checked("--style-layer-weights", check_layer_weights, args.style_layer_weights, args.style_layers)
    if args.size > args.max_size:  # before loading: an image that large may not even fit in memory
        raise ValueError(f"--size {args.size} is over --max-size {args.max_size}: use a smaller --size, "
                         "or raise --max-size if the machine has the memory")


def control_options(args: argparse.Namespace, content: torch.Tensor, n_styles: int, mask: torch.Tensor | None) -> dict:
    """controlled_transfer's keyword arguments for one job's content and style count, checked before any work.
    mask: the --mask image at its own size; each content gets it resized to its own (nearest pixel: no new greys)."""
    checked("--max-size", check_size, content, args.max_size)
    if args.style_weights is not None:
        checked("--style-weights", blend_weights, args.style_weights, n_styles)
    masks = None if mask is None else mask_from_image(F.interpolate(mask, content.shape[-2:], mode="nearest"), n_styles)
    return dict(style_blend=args.style_weights, masks=masks, preserve_color=args.preserve_color,
                style_scale=args.style_scale, style_layer_weights=args.style_layer_weights,
                statistic=args.statistic, max_size=args.max_size)


@dataclass
class Job:
    """One picture to make: a content image, its style image(s) and where the result goes."""

    content: Path
    styles: list[Path]
    output: Path
    init: str | torch.Tensor  # --init's choice, or the image of a checkpoint when resuming
    done: int = 0  # steps at full size done before, by the run that left the checkpoint
    controls: dict = field(default_factory=dict)  # controlled_transfer's keyword arguments, set by preflight

    def __str__(self) -> str:
        return f"{self.content.name} in the style of {' + '.join(s.name for s in self.styles)}"


@dataclass
class Outcome:
    job: Job | None
    status: str  # one of STATUSES
    reason: str = ""


def expand(item: Path) -> tuple[list[Path], str]:
    """The image files an argument names (a file, a folder, a glob), and why there are none when there are none."""
    if item.is_dir():
        known = Image.registered_extensions()
        found = sorted(p for p in item.iterdir() if p.suffix.lower() in known and not p.name.startswith(".")
                       and p.is_file() and not p.name.endswith(".checkpoint.png"))
        return found, f"{item}: no image files in this folder"
    if not item.exists() and glob.has_magic(str(item)):
        return [Path(p) for p in sorted(glob.glob(str(item)))], f"{item}: no file matches this pattern"
    return [item], ""  # a file, or a path that does not exist: load_image says what is wrong


def gather(items: list[Path], failures: list[Outcome]) -> list[Path]:
    """The image files of all `items`, each once, in order; an item that names none is added to `failures`."""
    files, seen = [], set()
    for item in items:
        found, why_none = expand(item)
        if not found:
            failures.append(Outcome(None, "failed", why_none))
            say("error", why_none)
        for path in found:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                files.append(path)
    return files


def contents_and_styles(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """The content and style arguments; without --style, `CONTENT STYLE` is read as it always was."""
    if args.styles is not None:
        return args.inputs or [DEFAULT_CONTENT], args.styles
    if len(args.inputs) > 2:
        raise ValueError("several content images: give the style images with --style")
    return args.inputs[:1] or [DEFAULT_CONTENT], args.inputs[1:] or [DEFAULT_STYLE]


def output_names(args: argparse.Namespace, pairs: list[tuple[Path, list[Path]]]) -> list[Path]:
    """-o FILE for one picture; for several, FOLDER/CONTENT_STYLE.png (-o FOLDER or here), never the same twice."""
    if len(pairs) == 1 and args.output is not None and not args.output.is_dir():
        return [args.output]
    folder = args.output or Path(".")
    if not folder.is_dir():
        what = "no such folder: create it first" if not folder.suffix else "names a file: give a folder with -o"
        raise FileNotFoundError(f"{folder}: {what} (there are {len(pairs)} pictures to make)")
    names, taken = [], set()
    for content, styles in pairs:
        stem = "_".join([content.stem] + [s.stem for s in styles])
        name, n = f"{stem}.png", 1
        while name in taken:  # two contents or styles with the same name from different folders
            n += 1
            name = f"{stem}-{n}.png"
        taken.add(name)
        names.append(folder / name)
    return names


def build_jobs(args: argparse.Namespace, failures: list[Outcome]) -> list[Job]:
    """Every content image in every style (or, combining the styles, in all of them at once), with its output path;
    inputs that name no file go to `failures`."""
    content_items, style_items = contents_and_styles(args)
    contents, styles = gather(content_items, failures), gather(style_items, failures)
    if combines_styles(args):
        pairs = [(content, styles) for content in contents] if styles else []
    else:
        pairs = [(content, [style]) for content in contents for style in styles]
    if not pairs:
        return []
    return [Job(c, s, out, args.init) for (c, s), out in zip(pairs, output_names(args, pairs), strict=True)]


def checkpoint_files(output: Path) -> tuple[Path, Path]:
    """OUT.checkpoint.png (the picture so far, lossless) and OUT.checkpoint.json (steps done, options)."""
    stem = output.with_suffix("")
    return stem.with_name(stem.name + ".checkpoint.png"), stem.with_name(stem.name + ".checkpoint.json")


def options_of(job: Job, args: argparse.Namespace) -> dict:
    """What the picture depends on, as JSON values: a checkpoint is resumed only with the same."""
    options = {k: v for k, v in vars(args).items() if k not in NOT_IN_CHECKPOINT}
    options.update(content=job.content.resolve(), styles=[s.resolve() for s in job.styles])
    return json.loads(json.dumps(options, default=str))


def save_checkpoint(job: Job, args: argparse.Namespace, img: torch.Tensor, full_size_steps: int) -> None:
    """The picture and the steps done at full size, each file written whole (temporary file, then rename)."""
    picture, record = checkpoint_files(job.output)
    save_image(img, picture)
    write_text_whole(record, json.dumps({"full_size_steps": full_size_steps, "steps": args.steps,
                                         "options": options_of(job, args)}))


def resume_from(job: Job, args: argparse.Namespace, size: tuple[int, int]) -> bool:
    """With --resume and a checkpoint of `job`'s output, start where it stopped (True); a mismatch is an error."""
    picture, record = checkpoint_files(job.output)
    if not (args.resume and record.exists()):
        return False
    try:
        saved = json.loads(record.read_text())
        saved["full_size_steps"] = int(saved["full_size_steps"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{record}: damaged checkpoint: delete it (and {picture.name}) to start again") from None
    if saved.get("options") != options_of(job, args):
        differ = sorted(k for k, v in options_of(job, args).items() if saved.get("options", {}).get(k) != v)
        raise ValueError(f"{record}: made with other values of {', '.join(differ)}: give the same options, "
                         "or delete it to start again")
    job.init, job.done = load_image(picture, size), saved["full_size_steps"]
    return True


def run_metadata(args: argparse.Namespace, job: Job) -> dict[str, str]:
    """The text a PNG result carries: each option used, and the command that makes the same picture again."""
    def text(value) -> str:
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    skip = {"inputs", "styles", "output", "force", "resume", "checkpoint_every"}
    options = {key: text(value) for key, value in vars(args).items() if key not in skip and value is not None}
    words = ["python", "-m", "d2lstyle", str(job.content)]
    for style in job.styles:
        words += ["--style", str(style)]
    for key, value in options.items():
        words += [f"--{key.replace('_', '-')}", value]
    return {"Software": "d2lstyle", "d2lstyle command": shlex.join(words),
            **{f"d2lstyle {key}": value for key, value in options.items()}}


def say(kind: str, message: object) -> None:
    print(f"d2lstyle: {kind}: {message}", file=sys.stderr)


def load_said(path: Path, size: int | None) -> torch.Tensor | Exception:
    """load_image(path, size), its notices said as notes; a file that cannot be used gives its error, said too."""
    with warnings.catch_warnings(record=True) as notices:
        warnings.simplefilter("always", ImageNotice)
        try:
            img = load_image(path, size)
        except (OSError, ValueError) as err:
            img = err
            say("error", err)
    for notice in notices:
        say("note", notice.message)
    return img


def load_inputs(jobs: list[Job], args: argparse.Namespace) -> dict[Path, torch.Tensor | Exception]:
    """Each input image loaded once; a file that cannot be used maps to its error, said here once. Styles are
    loaded large enough for --style-scale (controlled_transfer resizes them to it)."""
    contents = {job.content for job in jobs}
    style_size = max(args.size, round(args.size * args.style_scale))
    return {path: load_said(path, args.size if path in contents else style_size)
            for path in dict.fromkeys(p for job in jobs for p in (job.content, *job.styles))}


def check_output(job: Job, args: argparse.Namespace, content: torch.Tensor, mask: torch.Tensor | None,
                 inputs: list[Path]) -> None:
    """What can be checked about one job (its output, its controls) before any optimisation; raises with the reason.
    Sets `job.controls`."""
    out = job.output
    job.controls = control_options(args, content, len(job.styles), mask)
    if out.exists() and any(p.exists() and out.samefile(p) for p in inputs):
        raise ValueError(f"{out}: the output would overwrite an input image: choose another name with -o")
    resuming = resume_from(job, args, tuple(content.shape[2:]))
    record = checkpoint_files(out)[1]
    if out.exists() and not args.force and not resuming:
        fix = "add --resume to continue it" if record.exists() else "choose another name with -o"
        raise FileExistsError(f"{out}: already exists: {fix}, or add --force to overwrite it")
    if record.exists() and not args.resume:
        say("note", f"{record}: this picture has a checkpoint: starting again (--resume would continue from it)")


def preflight(jobs: list[Job], args: argparse.Namespace, failures: list[Outcome]) -> dict[Path, torch.Tensor]:
    """Load every image once and check every job; the jobs that cannot run move from `jobs` to `failures`."""
    images = load_inputs(jobs, args)
    mask = load_said(args.mask, None) if args.mask is not None and jobs else None  # once, whatever the batch
    for job in list(jobs):
        needed = [images[p] for p in (job.content, *job.styles)] + [mask]
        reason = next((str(x) for x in needed if isinstance(x, Exception)), "")
        if not reason:
            try:
                check_output(job, args, images[job.content], mask, [*images, *([args.mask] if args.mask else [])])
            except (OSError, ValueError) as err:
                reason = str(err)
                say("error", err)
        if reason:
            failures.append(Outcome(job, "failed", reason))
            jobs.remove(job)
    return images


class CtrlC:
    """Notes that Ctrl-C was pressed, then raises KeyboardInterrupt as usual (`transfer` turns it into a warning)."""

    def __enter__(self) -> CtrlC:
        self.pressed, self.previous = False, None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        self.pressed = True
        raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def method(job: Job) -> tuple:
    """controlled_transfer and the job's controls; plain `transfer` (the same objective, one network pass less for
    the targets) when the job uses none of them."""
    c = job.controls
    plain = len(job.styles) == 1 and c.get("style_scale", 1.0) == 1.0 and c.get("statistic", "gram") == "gram" and all(
        c.get(k) is None for k in ("style_blend", "masks", "preserve_color", "style_layer_weights"))
    return (transfer, {}) if plain else (controlled_transfer, c)


def optimise(job: Job, args: argparse.Namespace, net, images: dict, label: str) -> tuple[torch.Tensor, dict, list]:
    """Run one job's optimisation: (best image, {"all": steps of all levels, "full": steps at full size},
    StoppedEarly warnings). With a checkpoint it goes on at full size for the full-size steps that are left."""
    from tqdm import tqdm

    content, styles = images[job.content], [images[s] for s in job.styles]
    count, left = {"all": 0, "full": job.done}, max(args.steps - job.done, 0)
    with tqdm(desc=label, unit="step", file=sys.stderr) as bar, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StoppedEarly)

        def progress(step: int, img: torch.Tensor, losses: dict) -> None:
            count["all"] += 1
            count["full"] += img.shape[-2:] == content.shape[-2:]  # the pyramid's coarse levels are smaller
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
            bar.update()
            if args.checkpoint_every and count["all"] % args.checkpoint_every == 0:
                save_checkpoint(job, args, img, count["full"])

        run, controls = method(job)
        result = job.init if left == 0 else run(
            content, styles[0] if run is transfer else styles, steps=left, optimizer=args.optimizer, init=job.init,
            seed=args.seed, lr=args.lr, tol=args.tol, scales=args.scales, precision=args.precision, callback=progress,
            net=net, content_layers=args.content_layers, style_layers=args.style_layers,
            content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight, **controls)
    stopped = [w for w in caught if issubclass(w.category, StoppedEarly)]
    for w in caught:
        if w not in stopped:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return result, count, stopped


def run_job(job: Job, args: argparse.Namespace, net, images: dict, label: str, ctrl_c: CtrlC) -> Outcome:
    """Make one picture and save it; after Ctrl-C or a numerical fault save the best image so far and say so."""
    result, count, stopped = optimise(job, args, net, images, label)
    metadata = run_metadata(args, job) if image_format(job.output) == "PNG" else None
    out = save_image(result, job.output, metadata=metadata)
    picture, record = checkpoint_files(job.output)
    if ctrl_c.pressed:
        save_checkpoint(job, args, result, count["full"])
        say("interrupted", f"after {count['all']} steps: saved the best image so far to {out}; "
            "to go on, run the same command with --resume")
        return Outcome(job, "interrupted", f"after {count['all']} steps, best image so far saved")
    if stopped:
        say("warning", f"{out}: {stopped[0].message}; saved it")
        return Outcome(job, "stopped early", str(stopped[0].message))
    picture.unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    print(f"saved {out.resolve()}")
    return Outcome(job, "done")


STATUSES = ("done", "stopped early", "interrupted", "not started", "failed")


def summary(outcomes: list[Outcome]) -> str:
    """One line of counts, then one line per picture: what was made where, or why not."""
    counts = [f"{n} {status}" for status in STATUSES if (n := sum(o.status == status for o in outcomes))]
    lines = ["summary: " + ", ".join(counts)]
    for o in sorted(outcomes, key=lambda o: STATUSES.index(o.status)):
        what = f"{o.job}" + (f" -> {o.job.output}" if o.status != "failed" else "") if o.job else ""
        lines.append(f"  {o.status:14}{what}{': ' if what and o.reason else ''}{o.reason}")
    return "\n".join(lines)


def exit_status(outcomes: list[Outcome]) -> int:
    statuses = {o.status for o in outcomes}
    return 130 if "interrupted" in statuses else 2 if "failed" in statuses else 1 if "stopped early" in statuses else 0


def run_batch(args: argparse.Namespace) -> int:
    """Check everything, make every picture that can be made, and return the exit status."""
    if args.size < MIN_SIDE:
        raise ValueError(f"--size {args.size} is too small: VGG19 needs at least {MIN_SIDE} pixels on each side")
    check_controls(args)
    failures: list[Outcome] = []
    jobs = build_jobs(args, failures)
    for job in jobs:
        image_format(job.output)  # a known format, in a folder that exists and is writable: before any work
    total = len(jobs) + len(failures)
    images = preflight(jobs, args, failures)
    outcomes = list(failures)
    if jobs:
        net = with_precision(vgg19(args.weights, device=args.device), args.precision)  # set up once, for every picture
        with CtrlC() as ctrl_c:
            for i, job in enumerate(jobs):
                label = "stylizing" if total == 1 else f"{i + 1}/{len(jobs)} {job.output.name}"
                try:
                    outcome = run_job(job, args, net, images, label, ctrl_c)
                except KeyboardInterrupt:  # outside the optimisation: nothing of this picture was saved
                    say("interrupted", f"nothing was saved for {job}")
                    outcome = Outcome(job, "interrupted", "nothing saved")
                except (OSError, ValueError, RuntimeError) as err:  # e.g. out of memory: the next may fit
                    say("error", f"{job}: {err}")
                    outcome = Outcome(job, "failed", str(err))
                outcomes.append(outcome)
                if outcome.status == "interrupted":
                    outcomes += [Outcome(j, "not started") for j in jobs[i + 1:]]
                    break
    if total > 1:
        print(summary(outcomes))
    return exit_status(outcomes)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_batch(args)
    except (OSError, ValueError, RuntimeError) as err:
        say("error", err)
        return 2
    except KeyboardInterrupt:
        print("d2lstyle: interrupted, nothing was written", file=sys.stderr)
        return 130
