"""Fast style transfer (hand-written): the trained networks the package ships (d2lstyle/models/NAME.pt), `stylize`,
and `python -m d2lstyle.fast train` (docs/command_line.md), the network and its loss being notebook 8's; the decoders
of notebook 9 (d2lstyle/models/decoders/LEVEL.pt, made by tools/train_decoders.py) and `stylize_any`."""

import argparse
import functools
import hashlib
import importlib.resources
import inspect
import io
import math
import os
import platform
import re
import shlex
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # `python -m d2lstyle.fast`: under the signal rule before torch loads (a second or two)
    from d2lstyle.__main__ import main

    sys.exit(main("d2lstyle.fast"))

import torch

from d2lstyle.checks import OptionError, Parser, check_images, check_options
from d2lstyle.command import STOP, Command, keep_checkpoint, say
from d2lstyle.features import MIN_SIDE, PRECISIONS, vgg19
from d2lstyle.feedforward import PerceptualLoss, TransformNet, random_patches, train_step
from d2lstyle.files import check_folder, checkpoint_path, load_checkpoint, save_checkpoint, save_or_rescue
from d2lstyle.images import load_image
from d2lstyle.universal import LEVELS, TRANSFORMS, decoder, stylize_levels

MODELS = importlib.resources.files("d2lstyle.models")
DECODER_FOLDER = Path(str(MODELS / "decoders"))


def model_names() -> list[str]:
    """The names of the trained networks the package ships, e.g. ["starry_night"]."""
    return sorted(p.name[:-3] for p in MODELS.iterdir() if p.name.endswith(".pt"))


def model_path(model: str | os.PathLike) -> Path:
    """The file of a trained network: a name from `model_names()`, or the path of a file `train` wrote."""
    if str(model) in model_names():
        return Path(str(MODELS / f"{model}.pt"))
    path = Path(model)
    if not path.is_file():
        raise ValueError(f"model {str(model)!r}: no such trained network: give one of {', '.join(model_names())} "
                         "or the path of a .pt file written by `python -m d2lstyle.fast train`")
    return path


def load_model(model: str | os.PathLike = "starry_night", device: str | torch.device = "cpu") -> TransformNet:
    """A trained TransformNet (float32, in eval mode) by name or path; its training record is `net.record`. The
    file's tensors are checked against the network its config describes before that is built, and must be finite."""
    path = model_path(model)
    try:  # weights_only: a file is decoded as tensors and plain data, never as code
        saved = torch.load(path, map_location="cpu", weights_only=True)
        state, record = {k: v.float() for k, v in saved["state"].items()}, saved.get("record", {})
        with torch.device("meta"):  # shapes, no memory: the config may say anything
            shapes = {k: v.shape for k, v in TransformNet(**saved["config"]).state_dict().items()}
    except Exception as err:
        raise ValueError(f"model {str(model)!r}: {path} is not a network written by `python -m d2lstyle.fast "
                         f"train` ({type(err).__name__}: {err})") from None
    if {k: v.shape for k, v in state.items()} != shapes:
        raise ValueError(f"model {str(model)!r}: {path}: its weights are not those of the network its config "
                         f"describes ({saved['config']}): train it again, or give another file")
    if not finite(state.values()):
        raise ValueError(f"model {str(model)!r}: {path} holds weights that are NaN or infinite: the file is damaged "
                         "or its training diverged: train it again")
    net = TransformNet(**saved["config"])
    net.load_state_dict(state)
    net.record = record
    return net.to(device).eval().requires_grad_(False)


def finite(tensors) -> bool:
    return all(t.isfinite().all() for t in tensors)


def stylize(content: torch.Tensor, model: str | os.PathLike | TransformNet = "starry_night") -> torch.Tensor:
    """Paint `content` (1, 3, H, W) in [0, 1] in one pass of a trained network (a name, a path or a TransformNet);
    returns (1, 3, H, W) in [0, 1] on content's device."""
    check_images(content=content)  # the same rule as transfer's: float32 (1, 3, H, W) in [0, 1], no NaN
    if min(content.shape[-2:]) < 5:  # the network's first layer pads 4 pixels by reflection
        raise OptionError("content", content, "give an image of at least 5 pixels a side",
                          "x".join(map(str, content.shape[-2:])) + " pixels")
    net = model if isinstance(model, TransformNet) else load_model(model)
    device = next(net.parameters()).device
    with torch.no_grad():
        return net(content.float().to(device)).to(content.device)


@functools.cache
def load_decoders(device: str | torch.device = "cpu") -> dict[str, torch.nn.Sequential]:
    """The package's decoders of notebook 9 by level (float32, eval mode), each with its training record in
    `.record`; loaded once per device."""
    decoders = {level: decoder(level) for level in LEVELS}
    for level, dec in decoders.items():
        saved = torch.load(DECODER_FOLDER / f"{level}.pt", map_location="cpu", weights_only=True)
        dec.load_state_dict({k: v.float() for k, v in saved["state"].items()})
        dec.record = saved["record"]
        dec.to(device).eval().requires_grad_(False)
    return decoders


def stylize_any(content: torch.Tensor, style: torch.Tensor, strength: float = 1.0, transform: str = "adain",
                net: torch.nn.Module | None = None) -> torch.Tensor:
    """Paint `content` in the style of any `style` image in one pass (notebook 9): both (1, 3, H, W) in [0, 1], at
    least 32 pixels a side. strength: 0 (the photo) to 1 (the style's statistics); transform: "adain" (keeps more of
    the photo) or "wct" (more of the style). net: a `vgg19()` to reuse. Returns (1, 3, H, W) on content's device."""
    check_images(content=content, style=style)
    check_options(strength=strength, transform=transform)
    for name, img in (("content", content), ("style", style)):
        if min(img.shape[-2:]) < MIN_SIDE:
            raise OptionError(name, img, f"give an image of at least {MIN_SIDE} pixels a side (VGG19 needs them)",
                              "x".join(map(str, img.shape[-2:])) + " pixels")
    net = net if net is not None else vgg19(device=content.device)
    decoders = load_decoders(net.device)
    with torch.no_grad():
        return stylize_levels(net, decoders, content.to(net.device), style.to(net.device), strength,
                              TRANSFORMS[transform]).to(content.device)


def model_bytes(net: TransformNet, record: dict) -> bytes:
    """The file of a network: float16 weights (half the size, no visible change), its config and training record."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save({"config": net.config, "state": state, "record": record}, buffer := io.BytesIO())
    return buffer.getvalue()


def photo_files(folder: Path) -> list[Path]:
    """The photos (.jpg, .jpeg, .png) directly in `folder`, sorted by name."""
    if not folder.is_dir():
        raise ValueError(f"--photos {folder}: not a folder: give the folder of training photos "
                         "(e.g. made by `python tools/collect_photos.py DIR`)")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise ValueError(f"--photos {folder}: no .jpg or .png photos in it")
    return files


def relative_command(argv: list[str], photos: Path) -> str:
    """The command that makes the network from scratch, for the record: no folder of this machine (paths relative to
    the working folder, the photos' folder as PHOTOS), no --resume (a resumed run gives an uninterrupted one's)."""

    def relative(word: str) -> str:
        path = Path(word)
        if not word.startswith("-") and path.resolve() == photos.resolve():
            return "PHOTOS"
        return (os.path.relpath(path) if path.is_relative_to(Path.cwd()) else path.name) if path.is_absolute() else word

    return shlex.join(["python", "-m", "d2lstyle.fast", *(relative(str(w)) for w in argv if str(w) != "--resume")])


def fingerprint(files: list[Path]) -> str:
    """sha256 over the names and contents of the training photos: the same photos give the same value."""
    return hashlib.sha256(b"".join(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest()
                                   for p in files)).hexdigest()


# what makes one training run: a checkpoint resumes only with the same values
SETTINGS = ("style", "photos_sha256", "content_layers", "style_layers", "size", "patch", "batch", "lr", "width",
             "blocks", "seed", "precision", "content_weight", "style_weight", "tv_weight")
# the loss weights' defaults are PerceptualLoss's (notebook 8), so the command and the lesson cannot drift apart
LOSS_DEFAULTS = {name: p.default for name, p in inspect.signature(PerceptualLoss).parameters.items()}
WEIGHTS = {name: value for name, value in LOSS_DEFAULTS.items() if name.endswith("_weight")}


# the training's numbers: name -> (type, default, help); parse_args checks them with the library's RULES
NUMBERS = {"steps": (int, 6000, "steps of Adam"), "size": (int, 256, "shorter side of the photos and the style"),
           "patch": (int, 256, "side of the square training patches"), "batch": (int, 1, "patches a step"),
           "lr": (float, 1e-3, "Adam's learning rate"), "width": (int, 16, "channels of the network's first layer"),
           "blocks": (int, 5, "residual blocks"), "seed": (int, 0, "of the weights and the patches"),
           **{k: (float, v, f"weight of the {k[:-7]} loss: the strength, fixed at training")
              for k, v in WEIGHTS.items()},
           "checkpoint_minutes": (float, 5.0, "minutes between checkpoints")}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The `train` command's arguments, checked (d2lstyle/checks.py's rules, then its own); OUT gets its .pt."""
    p = Parser(prog="python -m d2lstyle.fast", description=__doc__.split("\n")[0])
    t = p.add_subparsers(dest="command", required=True).add_parser(
        "train", help="train a network for one style on a folder of photos")
    t.add_argument("--style", type=Path, required=True, help="the style image")
    t.add_argument("--photos", type=Path, required=True, help="folder of training photos (.jpg, .png)")
    t.add_argument("--out", required=True, help="the network's file, NAME or NAME.pt")
    for name, (kind, default, text) in NUMBERS.items():
        t.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default, help=f"{text} (%(default)s)")
    t.add_argument("--precision", choices=PRECISIONS, default="auto", help="of VGG19's passes (%(default)s)")
    t.add_argument("--resume", action="store_true", help="continue from OUT.checkpoint.pt")
    t.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = p.parse_args(argv)
    check_options(**{name: getattr(args, name) for name in NUMBERS})
    if args.patch > args.size:
        raise ValueError(f"--patch {args.patch} is larger than --size {args.size}: patches are cut from the photos")
    if not Path(args.out).name:
        raise ValueError(f"--out {args.out!r}: give a file name, like starry_night")
    args.out = Path(args.out if args.out.endswith(".pt") else args.out + ".pt")
    return args


def machine() -> str:
    """The processor's name and the number of threads torch uses, for the training record."""
    cpu = Path("/proc/cpuinfo")
    name = re.search(r"^model name\s*:\s*(.*)$", cpu.read_text() if cpu.is_file() else "", re.MULTILINE)
    return f"{name[1] if name else platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, " \
           f"torch {torch.__version__}"


class Run:
    """One training run: its photos, loss, network, Adam, the patches' random generator, and the steps done so far.
    Made, it has passed every check that needs no work: a problem is found before an hour of training, not after."""

    def __init__(self, args: argparse.Namespace):
        self.args, self.checkpoint = args, checkpoint_path(args.out)
        check_folder(args.out)
        if args.out.exists() and not args.force:
            raise ValueError(f"--out {args.out}: already exists: choose another name, or add --force to replace it")
        if args.resume and not self.checkpoint.is_file():
            raise ValueError(f"--resume: there is no checkpoint {self.checkpoint}: run without --resume to start "
                             "afresh")
        if self.checkpoint.exists() and not args.resume:
            raise ValueError(f"{self.checkpoint}: a run stopped here: add --resume to continue it, or delete it to "
                             "start afresh")
        files = photo_files(args.photos)
        self.photos, style = [load_image(p, args.size) for p in files], load_image(args.style, args.size)
        self.settings = {"style": hashlib.sha256(args.style.read_bytes()).hexdigest(),
                         "photos_sha256": fingerprint(files), **{k: list(LOSS_DEFAULTS[k]) for k in SETTINGS[2:4]},
                         **{k: getattr(args, k) for k in SETTINGS[4:]}}
        torch.manual_seed(args.seed)
        self.net = TransformNet(args.width, args.blocks)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=args.lr)
        self.generator = torch.Generator().manual_seed(args.seed)
        saved = {"step": 0, "seconds": 0.0, "history": []}
        if args.resume:  # made with other settings: one error naming them
            saved = load_checkpoint(self.checkpoint, self.settings)
            self.net.load_state_dict(saved["net"])
            self.opt.load_state_dict(saved["opt"])
            self.generator.set_state(saved["generator"])
        self.step, self.seconds, self.history = saved["step"], saved["seconds"], saved["history"]
        from d2lstyle.features import vgg19  # looked up when called: a test hands in a random network

        self.loss = PerceptualLoss(style, vgg19(precision=args.precision), **{k: getattr(args, k) for k in WEIGHTS})

    def save(self) -> None:
        save_checkpoint(self.checkpoint, {"settings": self.settings, "step": self.step, "seconds": self.seconds,
                                          "history": self.history, "net": self.net.state_dict(),
                                          "opt": self.opt.state_dict(), "generator": self.generator.get_state()})

    def steps(self) -> bool:
        """Adam up to --steps, checkpointed every --checkpoint-minutes; False once the loss or a weight isn't finite."""
        from tqdm import tqdm

        args, last_save, start_time = self.args, time.monotonic(), time.monotonic() - self.seconds
        with tqdm(total=args.steps, initial=self.step, unit="step", file=sys.stderr) as bar:
            while self.step < args.steps:
                patches = random_patches(self.photos, args.batch, args.patch, self.generator)
                losses = train_step(self.net, self.opt, self.loss, patches)
                self.step, self.seconds = self.step + 1, time.monotonic() - start_time
                self.history.append(round(losses["total"], 5))
                bar.update()
                bar.set_postfix(loss=f"{sum(self.history[-50:]) / len(self.history[-50:]):.3f}")
                if not (math.isfinite(losses["total"]) and finite(self.net.parameters())):
                    return False
                if time.monotonic() - last_save > 60 * args.checkpoint_minutes:
                    keep_checkpoint(self.save, self.step)
                    last_save = time.monotonic()
        return True


def train(args: argparse.Namespace) -> int:
    """The `train` command: returns the exit status (0 done, 130 after Ctrl-C, the last checkpoint kept; 1 where the
    loss diverged; 2 where the network could only be saved in the temporary folder)."""
    run = Run(args)
    try:
        if not run.steps():
            say("error", f"the loss diverged ({run.history[-1]}) at step {run.step}: the network is not saved: "
                f"train again with a smaller --lr than {args.lr:g}")
            return 1
    except KeyboardInterrupt:
        kept = f"the checkpoint {run.checkpoint} is kept: add --resume to continue" if run.checkpoint.is_file() \
            else "no checkpoint was written yet"
        say("interrupted", f"at step {run.step}; {kept}")
        return 130
    last, manifest = run.history[-100:], args.photos / "MANIFEST.tsv"
    record = {"command": relative_command(args.argv, args.photos), "photos": len(run.photos),
              "manifest_sha256": hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None,
              **run.settings, "steps": run.step, "seconds": round(run.seconds),
              "final_loss": round(sum(last) / len(last), 4), "machine": machine(), "date": time.strftime("%Y-%m-%d")}
    with STOP.saving():  # a signal now waits until the network is saved
        if save_or_rescue(args.out, model_bytes(run.net, record), args.force, "network") != args.out:
            return 2
        run.checkpoint.unlink(missing_ok=True)
        say("saved", f"{args.out} ({run.step} steps in {run.seconds / 60:.0f} min, final loss {record['final_loss']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m d2lstyle.fast train ...`: the exit status, under the signal rule of d2lstyle/command.py."""
    with Command("d2lstyle.fast", program=argv is None) as done:
        args = parse_args(argv)
        args.argv = sys.argv[1:] if argv is None else argv
        done.status = train(args)
    return done.exit_status()
