"""The command line's batches (hand-written): every content in every style, every input checked before any work, a
summary of how each picture went (docs/command_line.md)."""

import argparse
import glob
import hashlib
import inspect
import io
import json
import shlex
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from PIL import Image, PngImagePlugin

from d2lstyle import controls, files
from d2lstyle.command import STOP, keep_checkpoint, say
from d2lstyle.fast import load_model, model_path, stylize, stylize_any
from d2lstyle.features import default_device, vgg19
from d2lstyle.images import load_image, match_colors, to_uint8
from d2lstyle.synthesis import StyleObjective, Synthesis, transfer

# the default of each keyword argument of the library's functions, read from their signatures: the options' defaults
DEFAULTS = {name: p.default for f in (vgg19, StyleObjective, controls.ControlledObjective, transfer,
                                     controls.controlled_transfer, stylize_any)
            for name, p in inspect.signature(f).parameters.items() if p.default is not inspect.Parameter.empty}
VGG19_OPTIONS = tuple(inspect.signature(vgg19).parameters)  # the network's: weights, device, precision
DEFAULT_CONTENT, DEFAULT_STYLE = files.data_file("chelsea.png"), files.data_file("starry_night.jpg")
FAST_ONLY = ("fast", "strength", "transform")  # stylize_any's own (--fast, notebook 9)
RUN_ONLY = {"inputs", "styles", "output", "force", "resume", "checkpoint_every"}  # the options a PNG does not record
# options that do not change the picture: a checkpoint made with other values of these can still be resumed
NOT_IN_CHECKPOINT = RUN_ONLY | {"device", "steps", "tol", "scales", "max_size", "model", *FAST_ONLY}
MODEL_OPTIONS = ("model", "size", "preserve_color", "max_size", "device")  # those of a trained network (--model)
FAST_OPTIONS = (*FAST_ONLY, "size", "preserve_color", "max_size", "weights", "precision", "device")  # and --style
EXIT_STATUS = {"interrupted": 130, "failed": 2, "stopped early": 1}  # the first that a batch has is its status
STATUSES = ("done", "skipped", "stopped early", "interrupted", "not started", "failed")  # in the summary's order


@dataclass
class Job:
    """One picture to make: a content image, its style image(s) and where the result goes."""

    content: Path
    styles: list[Path]
    output: Path
    init: str | Path  # --init's choice, or the checkpoint to resume from
    done: int = 0  # steps at full size done before, by the run that left the checkpoint
    replace: bool = False  # may the result replace the file at `output`: --force, or the run's own partial result

    def __str__(self) -> str:
        return f"{self.content.name} in the style of {' + '.join(s.name for s in self.styles)}"

    def outcome(self, status: str, reason: str = "") -> tuple[str, str, str]:  # (status, what, why): a summary line
        return status, f"{self}" + ("" if status == "failed" else f" -> {self.output}"), reason


def gather(items: list[Path], outcomes: list[tuple]) -> list[Path]:
    """The image files that `items` name (files, folders, quoted globs), each once; one that names none fails."""
    found = {}  # resolved path -> the path as given
    for item in items:
        if item.is_dir():
            paths, why = sorted(p for p in item.iterdir() if p.suffix.lower() in Image.registered_extensions()
                                and not p.name.startswith(".") and p.is_file()), "no image files in this folder"
        elif not item.exists() and glob.has_magic(str(item)):
            paths, why = [Path(p) for p in sorted(glob.glob(str(item)))], "no file matches this pattern"
        else:  # a file, or a path that does not exist: load_image says what is wrong
            paths = [item]
        if not paths:
            say("error", f"{item}: {why}")
            outcomes.append(("failed", "", f"{item}: {why}"))
        found.update({path.resolve(): path for path in paths if path.resolve() not in found})
    return list(found.values())


def build_jobs(args: argparse.Namespace, outcomes: list[tuple]) -> list[Job]:
    """Every content in every style (with --style-weights or --mask: all at once), as -o FILE for one picture, else
    FOLDER/CONTENT_STYLE.png (-o FOLDER or here); without --style as `CONTENT STYLE`; --model: the network's file."""
    if args.model is None and args.styles is None and len(args.inputs) > 2:
        raise ValueError("several content images: give the style images with --style")
    contents = gather(args.inputs[:1 if args.model is None and args.styles is None else None] or [DEFAULT_CONTENT],
                      outcomes)
    styles = gather([model_path(args.model)] if args.model is not None else args.styles or args.inputs[1:]
                    or [DEFAULT_STYLE], outcomes)
    if args.style_weights is not None:  # every style in every picture
        try:
            controls.blend_weights(args.style_weights, len(styles))
        except ValueError as err:
            raise ValueError(f"--style-weights: {err}") from None
    together = args.style_weights is not None or args.mask is not None
    pairs = [(c, styles) for c in contents if styles] if together else [(c, [s]) for c in contents for s in styles]
    if len(pairs) == 1 and args.output is not None and not args.output.is_dir():
        return [Job(*pairs[0], args.output, args.init)]
    if pairs and not (folder := args.output or Path(".")).is_dir():
        what = "no such folder: create it first" if not folder.suffix else "names a file: give a folder with -o"
        raise FileNotFoundError(f"{folder}: {what} (there are {len(pairs)} pictures to make)")
    jobs = []
    for content, styles in pairs:  # two contents or styles of one name from two folders: NAME-2.png, NAME-3.png
        stem, n = "_".join([content.stem] + [s.stem for s in styles]), 1
        while (out := folder / f"{stem}{f'-{n}' * (n > 1)}.png") in {job.output for job in jobs}:
            n += 1
        jobs.append(Job(content, styles, out, args.init))
    return jobs


def options_of(job: Job, args: argparse.Namespace) -> dict:
    """What the picture depends on, as JSON values: a checkpoint is resumed only with the same."""
    options = {k: v for k, v in vars(args).items() if k not in NOT_IN_CHECKPOINT}
    options.update(content=job.content.resolve(), styles=[s.resolve() for s in job.styles])
    return json.loads(json.dumps(options, default=str))


def save_checkpoint(job: Job, args: argparse.Namespace, img: torch.Tensor, full_size_steps: int,
                    output_sha256: str | None = None) -> None:
    """The picture so far (float16), its steps at full size, and the output's checksum if the output is that picture."""
    state = {"settings": options_of(job, args), "step": full_size_steps, "output_sha256": output_sha256}
    files.save_checkpoint(files.checkpoint_path(job.output), {**state, "image": img.detach().cpu().half()})


def read_checkpoint(job: Job, args: argparse.Namespace) -> bool:
    """With --resume, start `job` where its checkpoint stopped (made with other options: an error); without, refuse a
    file there that is not a checkpoint. Returns whether the output is the picture that the stopped run saved."""
    path = files.checkpoint_path(job.output)
    try:
        saved = files.load_checkpoint(path, options_of(job, args) if args.resume else {}) if path.is_file() else {}
    except ValueError:
        if args.resume:
            raise
        raise FileExistsError(f"{path}: is not a checkpoint of this run, and this run would replace it: rename it, or "
                              "choose another name with -o") from None
    if not (args.resume and saved):
        return False
    job.done, job.init = saved["step"], path
    return job.output.is_file() and saved.get("output_sha256") == hashlib.sha256(job.output.read_bytes()).hexdigest()


def shown(value: object) -> str:
    """An option's value in the recorded command: files as absolute paths (it runs from any folder), lists a,b."""
    if isinstance(value, Path) or isinstance(value, str) and value.endswith(".pt"):  # .pt: a --model file
        return str(Path(value).resolve())
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def picture_bytes(job: Job, args: argparse.Namespace, img: torch.Tensor) -> bytes:
    """The picture encoded as its output's suffix says; a PNG's text holds the options and the command that made it."""
    used = MODEL_OPTIONS if args.model is not None else FAST_OPTIONS if args.fast else \
        [key for key in vars(args) if key not in RUN_ONLY | set(FAST_ONLY)]
    options = {key: shown(value) for key in used if (value := getattr(args, key)) is not None}
    content, *styles = images_of(job, args)  # with --model, no --style
    words = ["python", "-m", "d2lstyle", shown(content), *[w for s in styles for w in ("--style", shown(s))]]
    flags = {key: (f"--{key.replace('_', '-')}", value)[:1 if value == "True" else 2] for key, value in options.items()}
    words += [word for flag in flags.values() for word in flag]  # a switch (--fast) without its value
    fmt, buffer, info = Image.registered_extensions()[job.output.suffix.lower()], io.BytesIO(), PngImagePlugin.PngInfo()
    for key, value in {"Software": "d2lstyle", "d2lstyle command": shlex.join(words),
                       **{f"d2lstyle {key}": value for key, value in options.items()}}.items():
        # a file name's bytes that are not UTF-8 (surrogates to Python) as \xe9: a PNG's text must be valid UTF-8
        info.add_text(key, value.encode(errors="surrogateescape").decode(errors="backslashreplace"))
    Image.fromarray(to_uint8(img)).save(buffer, format=fmt, pnginfo=info if fmt == "PNG" else None)
    return buffer.getvalue()


def read(path: Path, size: int | None) -> torch.Tensor | Exception:
    """load_image(path, size) as a meta tensor (no pixels: its shape), its notices said; or its error, said."""
    with warnings.catch_warnings(record=True) as notices:
        warnings.simplefilter("always", files.ImageNotice)
        try:
            img = load_image(path, size).to("meta")
        except (OSError, ValueError) as err:
            img = err
            say("error", err)
    for notice in notices:
        say("note", notice.message)
    return img


def images_of(job: Job, args: argparse.Namespace) -> tuple[Path, ...]:
    """The image files a job reads: the content and the styles (with --model, the content only)."""
    return (job.content,) if args.model is not None else (job.content, *job.styles)


def preflight(args: argparse.Namespace) -> tuple[list[Job], list[tuple], dict[Path, int]]:
    """The jobs that can be made (checked before any work, every input read once at its size), the outcomes of the
    others, and the size each input is read at (a content's --size, a style's large enough for --style-scale)."""
    outcomes = []
    jobs = build_jobs(args, outcomes)
    for job in jobs:
        files.image_format(job.output)  # a known format, in a folder that exists and is writable: before any work
    contents, style_size = {job.content for job in jobs}, max(args.size, round(args.size * (args.style_scale or 1)))
    sizes = {p: args.size if p in contents else style_size for job in jobs for p in images_of(job, args)}
    shapes = {path: read(path, size) for path, size in sizes.items()}
    mask = read(args.mask, None) if args.mask is not None and jobs else None  # once, whatever the batch
    inputs = [*sizes, *([args.mask] if args.mask else [])]
    for job in list(jobs):
        bad = next((x for x in [*(shapes[p] for p in images_of(job, args)), mask] if isinstance(x, Exception)), None)
        try:
            status, reason = ("failed", str(bad)) if bad else check_job(job, args, shapes[job.content], inputs)
        except (OSError, ValueError) as err:
            status, reason = "failed", str(err)
            say("error", err)
        if status:
            outcomes.append(job.outcome(status, reason))
            jobs.remove(job)
    return jobs, outcomes, sizes


def check_job(job: Job, args: argparse.Namespace, content: torch.Tensor, inputs: list[Path]) -> tuple[str, str]:
    """Raise why `job` cannot be made: an option its images break, an output or checkpoint path that would lose
    something. Returns ("skipped", why) for a picture made before, with --resume, else ("", "")."""
    out, checkpoint = job.output, files.checkpoint_path(job.output)
    controls.check_size(content, args.max_size)
    files.image_format(out, tuple(content.shape[-2:]))  # a format that holds a picture this large
    if out.exists() and any(p.exists() and out.samefile(p) for p in inputs):
        raise ValueError(f"{out}: the output would overwrite an input image: choose another name with -o")
    # the checkpoint is written on Ctrl-C (and --checkpoint-every), deleted at the end
    if checkpoint.is_dir() or checkpoint.exists() and any(p.exists() and checkpoint.samefile(p) for p in inputs):
        raise ValueError(f"{checkpoint}: is {'a folder' if checkpoint.is_dir() else 'an input image'}, and this run "
                         "would write its checkpoint there: rename it, or choose another name with -o")
    job.replace = read_checkpoint(job, args) or args.force
    if out.exists() and not job.replace and args.resume and not checkpoint.exists():  # finished by the run resumed
        say("note", f"{out}: exists, with no checkpoint to resume: kept it (--force paints it again)")
        return "skipped", "made before, kept (no checkpoint to resume)"
    if out.exists() and not job.replace:
        fix = "add --resume to continue it" if checkpoint.exists() else "choose another name with -o"
        raise FileExistsError(f"{out}: already exists: {fix}, or add --force to overwrite it")
    if checkpoint.exists() and not args.resume:
        say("note", f"{checkpoint}: this picture has a checkpoint: starting again (--resume would continue from it)")
    for stale in [p for path in (out, checkpoint) for p in files.remove_stale_parts(path)]:
        say("note", f"{stale}: deleted, a half-written file of an earlier run that was killed")
    return "", ""


def painter(job: Job, args: argparse.Namespace, sizes: dict[Path, int], bar):
    """`job`'s painting, to call with the network: controlled_transfer (`bar` shows its steps, counts those at full
    size in `bar.full`, checkpoints), or what stands for it. Its images are read again, quietly (notices were said)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", files.ImageNotice)
        content, *styles = [load_image(path, sizes[path]) for path in images_of(job, args)]
        mask = None if args.mask is None else load_image(args.mask)
    init = job.init if isinstance(job.init, str) else torch.nn.functional.interpolate(  # a coarse level's: upsampled
        files.load_checkpoint(job.init, {})["image"].float(), content.shape[-2:], mode="bilinear").clamp(0, 1)
    bar.full = job.done
    if args.model is not None or args.fast:  # in one pass (notebooks 8 and 9); luminance keeps the content's colours
        kept = controls.with_chroma if args.preserve_color == "luminance" else lambda img, content: img
        if args.model is not None:
            return lambda net: Synthesis(kept(stylize(content, net), content).clamp(0, 1), float("nan"), 1, "steps")
        style = match_colors(styles[0], content) if args.preserve_color == "histogram" else styles[0]
        return lambda net: Synthesis(kept(stylize_any(content, style, args.strength, args.transform, net), content)
                                     .clamp(0, 1), float("nan"), 1, "steps")
    if job.done >= args.steps:  # the checkpoint has every step: its picture is the result
        return lambda net: Synthesis(init, float("nan"), 0, "steps")

    def callback(step: int, img: torch.Tensor, losses: dict) -> None:
        bar.full += img.shape[-2:] == content.shape[-2:]  # the pyramid's coarse levels are smaller
        bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
        bar.update()
        if args.checkpoint_every and bar.n % args.checkpoint_every == 0:
            keep_checkpoint(lambda: save_checkpoint(job, args, img, bar.full), bar.n)

    if mask is not None:  # resized by nearest pixel: no new levels
        mask = controls.mask_from_image(torch.nn.functional.interpolate(mask, content.shape[-2:]), len(styles))
    options = {key: value for key, value in vars(args).items()
               if key in DEFAULTS and key not in VGG19_OPTIONS + FAST_ONLY}
    options.update(init=init, masks=mask, steps=args.steps - job.done, style_blend=args.style_weights)
    return partial(controls.controlled_transfer, content, styles, callback=callback, **options)


def finish(job: Job, args: argparse.Namespace, result: Synthesis, bar) -> tuple[str, str, str]:
    """Save one picture (or rescue it: files.save_or_rescue); after Ctrl-C or a numerical fault, the best so far."""
    data = picture_bytes(job, args, result.image)
    # without --force the output did not exist when the run began (or was this run's own): the same must hold now
    out = files.save_or_rescue(job.output, data, job.replace, "picture")
    if result.stopped_by == "interrupt":
        try:
            save_checkpoint(job, args, result.image, bar.full,
                            hashlib.sha256(data).hexdigest() if out == job.output else None)
        except OSError as err:
            say("warning", f"no checkpoint written ({err}): --resume will start again")
        say("interrupted", f"after {bar.n} steps: saved the best image so far to {out}; "
            "to go on, run the same command with --resume")
        return job.outcome("interrupted", f"after {bar.n} steps, best image so far saved")
    if result.stopped_by == "nonfinite":
        say("warning", f"{out}: the loss became nan or inf at step {result.steps}: stopped there; saved it (the best "
            "image so far)")
        return job.outcome("stopped early", f"the loss became nan or inf at step {result.steps}: stopped there")
    if out != job.output:
        return job.outcome("failed", f"could not write it: saved to {out}")
    files.checkpoint_path(job.output).unlink(missing_ok=True)
    print(f"saved {out.resolve()}")
    return job.outcome("done")


def run_batch(args: argparse.Namespace) -> int:
    """Check every job, make every picture that can be made, say how each went, and return the exit status."""
    from tqdm import tqdm

    jobs, outcomes, sizes = preflight(args)
    total = len(jobs) + len(outcomes)
    if jobs:  # once, for every picture
        net = load_model(args.model, device=args.device or default_device()) if args.model is not None else \
            vgg19(args.weights, device=args.device, precision=args.precision)
    for i, job in enumerate(jobs):
        label = "stylizing" if total == 1 else f"{i + 1}/{len(jobs)} {job.output.name}"
        try:
            with tqdm(desc=label, unit="step", disable=args.model is not None or args.fast) as bar:
                result = painter(job, args, sizes, bar)(net=net)
            with STOP.saving():  # a signal now waits until the picture is saved, then stops the batch
                outcomes.append(finish(job, args, result, bar))
        except KeyboardInterrupt:  # outside the optimisation: nothing of this picture was saved
            say("interrupted", f"nothing was saved for {job}")
            outcomes.append(job.outcome("interrupted", "nothing saved"))
        except (OSError, ValueError, RuntimeError) as err:  # e.g. out of memory: the next may fit
            say("error", f"{job}: {err}")
            outcomes.append(job.outcome("failed", str(err)))
        if outcomes[-1][0] == "interrupted" or STOP.signals:
            outcomes += [later.outcome("not started") for later in jobs[i + 1:]]
            break
    if total > 1:
        counts = [f"{n} {status}" for status in STATUSES if (n := sum(o[0] == status for o in outcomes))]
        print("\n".join([f"summary: {', '.join(counts)}"] + [f"  {status:14}{what}{': ' * bool(what and why)}{why}"
                         for status, what, why in sorted(outcomes, key=lambda o: STATUSES.index(o[0]))]))
    return next((code for status, code in EXIT_STATUS.items() if status in {o[0] for o in outcomes}), 0)
