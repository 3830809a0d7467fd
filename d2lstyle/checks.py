"""Checks of the library's arguments (hand-written): `transfer` and `StyleObjective` call them first, the command
line before it reads any image, so that a bad value is one error that names the argument and the fix."""

import argparse
import math
import os
from collections.abc import Iterable

import torch

from d2lstyle.features import LAYERS, MIN_SIDE


class Parser(argparse.ArgumentParser):
    """The commands' argument parser: an error is one line, without the usage text, like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")

    def _get_values(self, action, strings):  # Python 3.11 gives `--option=--` the value [] instead of refusing it
        if strings == ["--"] and action.option_strings and action.nargs is None:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one value, not '--'")
        return super()._get_values(action, strings)


class OptionError(ValueError):
    """A bad value of the argument `name`: the message is "name=value: what to give instead" (`shown` for value)."""

    def __init__(self, name: str, value: object, fix: str, shown: str | None = None):
        super().__init__(f"{name}={repr(value) if shown is None else shown}: {fix}")
        self.name, self.value, self.fix = name, value, fix

    def option(self) -> str:
        """The error as a command line says it: `--steps -3: give ...`."""
        value = ",".join(map(str, self.value)) if isinstance(self.value, (list, tuple)) else self.value
        return f"--{self.name.replace('_', '-')} {value}: {self.fix}"


def _number(value: object, low: float = 0, high: float = math.inf) -> bool:
    """A real number (not a bool, not NaN) from `low` to below `high`."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value < high


def _whole(value: object, low: int = 1, high: float = math.inf) -> bool:
    return isinstance(value, int) and _number(value, low, high)  # True is an int to Python, not to a user


def _positive(value: object) -> bool:
    return _number(value) and value > 0


# name -> (is the value good?, what to give instead)
RULES = {
    **{name: (_whole, "give a whole number of steps, 1 or more") for name in ("steps", "patience")},
    **{name: (lambda v: _whole(v, MIN_SIDE), f"give a whole number of pixels, {MIN_SIDE} or more (VGG19 needs at "
              f"least {MIN_SIDE} pixels on each side)") for name in ("size", "patch")},
    **{name: (_whole, "give a whole number, 1 or more") for name in ("batch", "width", "blocks", "max_size")},
    "checkpoint_every": (lambda v: v is None or _whole(v), "give a whole number of steps, 1 or more"),
    "checkpoint_minutes": (_positive, "give a positive number of minutes"),
    "seed": (lambda v: _whole(v, 0, 2**64), "give a whole number from 0 to 2**64 - 1"),
    "tol": (_number, "give a fraction, 0 or more (0: run every step)"),
    "restart": (lambda v: _whole(v, 0), "give a whole number of steps, 0 or more (0: never restart)"),
    "lr": (lambda v: v is None or _positive(v), "give a positive learning rate, or None"),
    "style_scale": (lambda v: v is None or _positive(v), "give a positive factor, or None"),
    "scales": (lambda v: len(v) > 0 and all(_positive(s) and s <= 1 for s in v),
               "give fractions of the size, over 0 and at most 1, like (0.25, 0.5, 1)"),
    **{f"{part}_weight": (_number, "give a weight, 0 or more") for part in ("content", "style", "tv")},
    "strength": (lambda v: _number(v, 0, 1) or v == 1, "give a strength from 0 (the photo) to 1 (the style)"),
    "transform": (lambda v: v in ("adain", "wct"), "give adain (keeps more of the photo) or wct (more of the style)"),
}


def check_options(**options: object) -> None:
    """Raise an OptionError for the first argument whose value breaks its rule in RULES."""
    for name, value in options.items():
        good, fix = RULES[name]
        if not good(value):
            raise OptionError(name, value, fix)


def check_layers(name: str, layers: Iterable[str]) -> list[str]:
    """The layer names as a list; an OptionError when there are none, or one is not a layer of VGG19."""
    names = [layers] if isinstance(layers, str) else list(layers)
    if isinstance(layers, str) or not all(isinstance(n, str) for n in names):
        raise OptionError(name, layers, "give a list of layer names, like ['relu4_2']")
    unknown = [n for n in names if n not in LAYERS]
    if unknown or not names:
        raise OptionError(name, layers, f"unknown layer {', '.join(unknown) or '(none given)'}: choose from "
                          f"{', '.join(LAYERS)}")
    return names


def check_images(values: bool = True, **images: object) -> None:
    """Raise an OptionError for the first image argument that is not a float32 tensor (1, 3, H, W), H and W over 0,
    with `values` in [0, 1] (an argument may be a list of images; `init` may be a string, as `transfer`'s is)."""
    for name, given in images.items():
        for img in given if isinstance(given, (list, tuple)) else [given]:
            if name == "init" and isinstance(img, str):
                continue
            if not isinstance(img, torch.Tensor) or img.dim() != 4 or tuple(img.shape[:2]) != (1, 3) or not img.numel():
                shown = str(tuple(img.shape)) if isinstance(img, torch.Tensor) else repr(str(img)) if \
                    isinstance(img, (str, os.PathLike)) else type(img).__name__  # a path: load_image(path) first
                raise OptionError(name, img, "give an RGB image tensor (1, 3, H, W), as load_image returns", shown)
            if img.dtype != torch.float32:
                raise OptionError(name, img, "give float32 values in [0, 1] (from uint8 pixels: img.float() / 255)",
                                  str(img.dtype))
            if values and not (img.min() >= -1e-3 and img.max() <= 1 + 1e-3):  # rounding passes; NaN does not
                raise OptionError(name, img, "give values in [0, 1]",
                                  f"values from {img.min().item():.3g} to {img.max().item():.3g}")


def devices() -> list[str]:
    """The devices torch can use here: "cpu", and "cuda:0" ... or "mps" where there are such."""
    found = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return found + (["mps"] if torch.backends.mps.is_available() else [])


def check_device(name: str, device: str | torch.device | None) -> None:
    """An OptionError when `device` is not a device name torch knows, or names one this machine does not have."""
    try:
        device = torch.device("cpu" if device is None else device)
    except (RuntimeError, ValueError, TypeError):
        raise OptionError(name, device, f"not a device name: choose from {', '.join(devices())}") from None
    if not {device.type, str(device), f"{device}:0"} & set(devices()):  # cpu, mps, cuda:N, or cuda as cuda:0
        raise OptionError(name, str(device), f"this machine has no such device: choose from {', '.join(devices())}")
