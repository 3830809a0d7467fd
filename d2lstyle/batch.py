"""The command line's batches (hand-written): every content image in every style, each checked before any work.

A bad image fails only the pictures that need it; a summary lists each failure. Exit status: 0 when every picture
was made, 2 when some input was bad, 1 on a numerical fault, 130 on Ctrl-C (the best image so far is saved; the
command line turns it into 143 for SIGTERM).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import io
import json
import math
import shlex
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from d2lstyle.command import STOP, keep_checkpoint, say
from d2lstyle.controls import blend_weights, check_size, controlled_transfer, mask_from_image, with_chroma
from d2lstyle.fast import load_model, model_path
from d2lstyle.features import default_device, vgg19
from d2lstyle.files import (
    ImageNotice,
    checkpoint_path,
    data_file,
    image_format,
    remove_stale_parts,
    same_settings,
    save_or_rescue,
    write_text_whole,
)
from d2lstyle.images import load_image, save_image, to_uint8
from d2lstyle.synthesis import Synthesis

DEFAULT_CONTENT, DEFAULT_STYLE = data_file("chelsea.png"), data_file("starry_night.jpg")
# options that do not change the picture: a checkpoint made with other values of these can still be resumed
NOT_IN_CHECKPOINT = {"inputs", "styles", "output", "force", "resume", "checkpoint_every", "device", "steps",
                     "tol", "scales", "max_size", "model"}
# the options that a trained network (--model) takes; the others belong to the optimisation
MODEL_OPTIONS = ("model", "size", "preserve_color", "max_size", "device")
STATUSES = ("done", "stopped early", "interrupted", "not started", "failed")


@dataclass
class Job:
    """One picture to make: a content image, its style image(s) and where the result goes."""

    content: Path
    styles: list[Path]
    output: Path
    init: str | torch.Tensor  # --init's choice, or the image of a checkpoint when resuming
    done: int = 0  # steps at full size done before, by the run that left the checkpoint
    replace: bool = False  # may the result replace the file at `output`: --force, or the run's own partial result
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
    files = {}  # resolved path -> the path as given
    for item in items:
        found, why_none = expand(item)
        if not found:
            failures.append(Outcome(None, "failed", why_none))
            say("error", why_none)
        for path in found:
            files.setdefault(path.resolve(), path)
    return list(files.values())


def contents_and_styles(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """The content and style arguments; without --style, `CONTENT STYLE` is read as it always was. With --model
    every argument is a content image and the "style" is the trained network's file."""
    if args.model is not None:
        return args.inputs or [DEFAULT_CONTENT], [model_path(args.model)]
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
    """Every content image in every style (with --style-weights or --mask: in all of them at once), with its output
    path; inputs that name no file go to `failures`."""
    content_items, style_items = contents_and_styles(args)
    contents, styles = gather(content_items, failures), gather(style_items, failures)
    if args.style_weights is not None or args.mask is not None:
        pairs = [(content, styles) for content in contents] if styles else []
    else:
        pairs = [(content, [style]) for content in contents for style in styles]
    if not pairs:
        return []
    return [Job(c, s, out, args.init) for (c, s), out in zip(pairs, output_names(args, pairs), strict=True)]


def checkpoint_files(output: Path) -> tuple[Path, Path]:
    """OUT.checkpoint.png (the picture so far, lossless) and OUT.checkpoint.json (steps done, options)."""
    return checkpoint_path(output, ".png"), checkpoint_path(output, ".json")


def options_of(job: Job, args: argparse.Namespace) -> dict:
    """What the picture depends on, as JSON values: a checkpoint is resumed only with the same."""
    options = {k: v for k, v in vars(args).items() if k not in NOT_IN_CHECKPOINT}
    options.update(content=job.content.resolve(), styles=[s.resolve() for s in job.styles])
    return json.loads(json.dumps(options, default=str))


def save_checkpoint(job: Job, args: argparse.Namespace, img: torch.Tensor, full_size_steps: int,
                    output_sha256: str | None = None) -> None:
    """The picture and the steps done at full size, each file written whole (temporary file, then rename), and the
    checksum of the best image so far where it was saved to the output: --resume may replace that one only."""
    picture, record = checkpoint_files(job.output)
    save_image(img, picture)
    write_text_whole(record, json.dumps({"full_size_steps": full_size_steps, "steps": args.steps,
                                         "options": options_of(job, args), "output_sha256": output_sha256}))


def resume_from(job: Job, args: argparse.Namespace, size: tuple[int, int]) -> dict | None:
    """With --resume and a checkpoint of `job`'s output, start where it stopped (its record); a mismatch is an
    error."""
    picture, record = checkpoint_files(job.output)
    if not (args.resume and record.exists()):
        return None
    try:
        saved = json.loads(record.read_text())
        saved["full_size_steps"] = int(saved["full_size_steps"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{record}: damaged checkpoint: delete it (and {picture.name}) to start again") from None
    if not picture.is_file():
        raise ValueError(f"{record}: its picture {picture.name} is missing: delete {record.name} to start again")
    same_settings(record, saved.get("options"), options_of(job, args))
    job.init, job.done = load_image(picture, size), saved["full_size_steps"]
    return saved


def shown(value: object) -> str:
    """An option's value as the recorded command gives it: files as absolute paths, so that it runs from any
    folder; lists comma-separated."""
    if isinstance(value, Path) or isinstance(value, str) and value.endswith(".pt"):  # .pt: a --model file
        return str(Path(value).resolve())
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def run_metadata(args: argparse.Namespace, job: Job) -> dict[str, str]:
    """The text a PNG result carries: each option used, and the command that makes the same picture again."""
    skip = {"inputs", "styles", "output", "force", "resume", "checkpoint_every"}
    used = MODEL_OPTIONS if args.model is not None else [key for key in vars(args) if key not in skip]
    options = {key: shown(value) for key in used if (value := getattr(args, key)) is not None}
    styles = [] if args.model is not None else job.styles
    words = ["python", "-m", "d2lstyle", shown(job.content), *[w for s in styles for w in ("--style", shown(s))]]
    words += [word for key, value in options.items() for word in (f"--{key.replace('_', '-')}", value)]
    text = {"Software": "d2lstyle", "d2lstyle command": shlex.join(words),
            **{f"d2lstyle {key}": value for key, value in options.items()}}
    # a file name's bytes that are not UTF-8 (surrogates to Python) as \xe9: a PNG's text must be valid UTF-8
    return {k: v.encode(errors="surrogateescape").decode(errors="backslashreplace") for k, v in text.items()}


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


def images_of(job: Job, args: argparse.Namespace) -> tuple[Path, ...]:
    """The image files a job reads: the content and the styles (with --model, the content only)."""
    return (job.content,) if args.model is not None else (job.content, *job.styles)


def load_inputs(jobs: list[Job], args: argparse.Namespace) -> dict[Path, torch.Tensor | Exception]:
    """Each input image loaded once (styles large enough for --style-scale), a bad one mapped to its error."""
    contents = {job.content for job in jobs}
    style_size = max(args.size, round(args.size * (args.style_scale or 1)))
    return {path: load_said(path, args.size if path in contents else style_size)
            for path in dict.fromkeys(p for job in jobs for p in images_of(job, args))}


def checked(option: str, check, *values) -> None:
    """Run one of the checks that Python callers get too; its error is named by the option."""
    try:
        check(*values)
    except ValueError as err:
        raise ValueError(f"{option}: {err}") from None


def control_options(args: argparse.Namespace, content: torch.Tensor, n_styles: int, mask: torch.Tensor | None) -> dict:
    """controlled_transfer's keyword arguments for one job, checked. mask: the --mask image at its own size, resized
    to each content by nearest pixel (no new greys)."""
    checked("--max-size", check_size, content, args.max_size)
    if args.style_weights is not None:
        checked("--style-weights", blend_weights, args.style_weights, n_styles)
    masks = None if mask is None else mask_from_image(F.interpolate(mask, content.shape[-2:], mode="nearest"), n_styles)
    return dict(style_blend=args.style_weights, masks=masks, preserve_color=args.preserve_color,
                style_scale=args.style_scale, style_layer_weights=args.style_layer_weights,
                statistic=args.statistic, max_size=args.max_size)


def check_output(job: Job, args: argparse.Namespace, content: torch.Tensor, mask: torch.Tensor | None,
                 inputs: list[Path]) -> None:
    """Check one job's output and controls before any optimisation (raises with the reason); set `job.controls`."""
    out = job.output
    job.controls = control_options(args, content, len(job.styles), mask)
    if out.exists() and any(p.exists() and out.samefile(p) for p in inputs):
        raise ValueError(f"{out}: the output would overwrite an input image: choose another name with -o")
    picture, record = checkpoint_files(out)
    for path in (picture, record):  # the checkpoint is written on Ctrl-C (and --checkpoint-every), deleted at the end
        if path.is_dir() or path.exists() and any(p.exists() and path.samefile(p) for p in inputs):
            raise ValueError(f"{path}: is {'a folder' if path.is_dir() else 'an input image'}, and this run would "
                             "write its checkpoint there: rename it, or choose another name with -o")
    if picture.exists() and not record.exists():
        raise FileExistsError(f"{picture}: is not a checkpoint of this run (it has no {record.name}), and this run "
                              "would replace it: rename it, or choose another name with -o")
    image_format(out, tuple(content.shape[-2:]))  # a format that holds a picture this large
    resumed = resume_from(job, args, tuple(content.shape[2:]))
    own = resumed is not None and out.is_file() and resumed.get("output_sha256") == sha256(out.read_bytes())
    job.replace = args.force or own
    if out.exists() and not job.replace:
        fix = "add --resume to continue it" if record.exists() else "choose another name with -o"
        raise FileExistsError(f"{out}: already exists: {fix}, or add --force to overwrite it")
    if record.exists() and not args.resume:
        say("note", f"{record}: this picture has a checkpoint: starting again (--resume would continue from it)")
    for stale in [p for path in (out, picture, record) for p in remove_stale_parts(path)]:
        say("note", f"{stale}: deleted, a half-written file of an earlier run that was killed")


def preflight(jobs: list[Job], args: argparse.Namespace, failures: list[Outcome]) -> dict[Path, torch.Tensor]:
    """Load every image once and check every job; the jobs that cannot run move from `jobs` to `failures`."""
    images = load_inputs(jobs, args)
    mask = load_said(args.mask, None) if args.mask is not None and jobs else None  # once, whatever the batch
    for job in list(jobs):
        needed = [images[p] for p in images_of(job, args)] + [mask]
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


def paint(job: Job, args: argparse.Namespace, net, images: dict, label: str) -> tuple[Synthesis, dict]:
    """One job's optimisation with a progress bar: its Synthesis and {"all": steps of all levels, "full": steps at
    full size}; from a checkpoint, the full-size steps that are left."""
    from tqdm import tqdm

    content, styles = images[job.content], [images[s] for s in job.styles]
    count, left = {"all": 0, "full": job.done}, max(args.steps - job.done, 0)
    if left == 0:
        return Synthesis(job.init, math.nan, 0, "steps"), count
    with tqdm(desc=label, unit="step", file=sys.stderr) as bar:

        def progress(step: int, img: torch.Tensor, losses: dict) -> None:
            count["all"] += 1
            count["full"] += img.shape[-2:] == content.shape[-2:]  # the pyramid's coarse levels are smaller
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
            bar.update()
            if args.checkpoint_every and count["all"] % args.checkpoint_every == 0:
                keep_checkpoint(lambda: save_checkpoint(job, args, img, count["full"]), count["all"])

        result = controlled_transfer(
            content, styles, steps=left, optimizer=args.optimizer, init=job.init, seed=args.seed, lr=args.lr,
            tol=args.tol, scales=args.scales, callback=progress, net=net, content_layers=args.content_layers,
            style_layers=args.style_layers, content_weight=args.content_weight, style_weight=args.style_weight,
            tv_weight=args.tv_weight, **job.controls)
    return result, count


def paint_with_model(job: Job, args: argparse.Namespace, net, images: dict) -> tuple[Synthesis, dict]:
    """One job with a trained network (notebook 8): one pass; --preserve-color luminance keeps the content's
    colours. Returns what `paint` returns, so that `finish` saves it the same way."""
    content = images[job.content]
    device = next(net.parameters()).device
    with torch.no_grad():
        img = net(content.to(device)).cpu()
    if args.preserve_color == "luminance":
        img = with_chroma(img, content).clamp(0, 1)
    return Synthesis(img, math.nan, 1, "steps"), {"all": 1, "full": 1}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def picture_bytes(job: Job, args: argparse.Namespace, img: torch.Tensor) -> bytes:
    """The picture (1, 3, H, W) in [0, 1] encoded as its output's suffix says; a PNG carries run_metadata."""
    fmt, buffer = Image.registered_extensions()[job.output.suffix.lower()], io.BytesIO()  # checked before the work
    info = PngInfo() if fmt == "PNG" else None
    for key, value in (run_metadata(args, job) if info else {}).items():
        info.add_text(key, value)
    Image.fromarray(to_uint8(img)).save(buffer, format=fmt, pnginfo=info)
    return buffer.getvalue()


def finish(job: Job, args: argparse.Namespace, result: Synthesis, count: dict) -> Outcome:
    """Save one picture; after Ctrl-C or a numerical fault it is the best image so far, and we say so. Where the
    output cannot be written, the picture goes to the temporary folder (files.save_or_rescue)."""
    data = picture_bytes(job, args, result.image)
    # without --force the output did not exist when the run began (or was this run's own): the same must hold now
    out = save_or_rescue(job.output, data, job.replace, "picture")
    picture, record = checkpoint_files(job.output)
    if result.stopped_by == "interrupt":
        try:
            save_checkpoint(job, args, result.image, count["full"], sha256(data) if out == job.output else None)
        except OSError as err:
            say("warning", f"no checkpoint written ({err}): --resume will start again")
        say("interrupted", f"after {count['all']} steps: saved the best image so far to {out}; "
            "to go on, run the same command with --resume")
        return Outcome(job, "interrupted", f"after {count['all']} steps, best image so far saved")
    if result.stopped_by == "nonfinite":
        reason = f"the loss became nan or inf at step {result.steps}: stopped there"
        say("warning", f"{out}: {reason}; saved it (the best image so far)")
        return Outcome(job, "stopped early", reason)
    if out != job.output:
        return Outcome(job, "failed", f"could not write it: saved to {out}")
    picture.unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    print(f"saved {out.resolve()}")
    return Outcome(job, "done")


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
    """Check every job, make every picture that can be made, and return the exit status."""
    failures: list[Outcome] = []
    jobs = build_jobs(args, failures)
    for job in jobs:
        image_format(job.output)  # a known format, in a folder that exists and is writable: before any work
    total = len(jobs) + len(failures)
    images = preflight(jobs, args, failures)
    outcomes = list(failures)
    if jobs:
        if args.model is not None:  # once, for every picture
            net = load_model(args.model, device=args.device or default_device())
        else:
            net = vgg19(args.weights, device=args.device, precision=args.precision)
        for i, job in enumerate(jobs):
            label = "stylizing" if total == 1 else f"{i + 1}/{len(jobs)} {job.output.name}"
            try:
                painted = paint_with_model(job, args, net, images) if args.model is not None else \
                    paint(job, args, net, images, label)
                with STOP.saving():  # a signal now waits until the picture is saved, then stops the batch
                    outcome = finish(job, args, *painted)
            except KeyboardInterrupt:  # outside the optimisation: nothing of this picture was saved
                say("interrupted", f"nothing was saved for {job}")
                outcome = Outcome(job, "interrupted", "nothing saved")
            except (OSError, ValueError, RuntimeError) as err:  # e.g. out of memory: the next may fit
                say("error", f"{job}: {err}")
                outcome = Outcome(job, "failed", str(err))
            outcomes.append(outcome)
            if outcome.status == "interrupted" or STOP.signals:
                outcomes += [Outcome(j, "not started") for j in jobs[i + 1:]]
                break
    if total > 1:
        print(summary(outcomes))
    return exit_status(outcomes)
