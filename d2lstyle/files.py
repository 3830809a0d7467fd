"""Files (hand-written): whole writes, checkpoints, reading real image files, the images the package ships."""

import errno
import glob
import hashlib
import importlib.resources
import itertools
import os
import stat
import struct
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from d2lstyle.command import STOP, say


def data_file(name: str) -> Path:
    """The path of one of the images in `data/` (the package `d2lstyle.data` of a wheel), e.g. "chelsea.png"."""
    return Path(str(importlib.resources.files("d2lstyle.data") / name))


NAME_MAX = 255  # bytes in a file name, on every common file system
_PARTS = itertools.count()


def fitted(name: str, room: int) -> str:
    """`name`, its end but the suffix replaced by a hash of the whole where needed, so that `room` more bytes still
    fit in a file name: the same name always gives the same result."""
    raw = os.fsencode(name)
    if len(raw) + room <= NAME_MAX:
        return name
    suffix = os.fsencode(Path(name).suffix)[:16]
    digest = hashlib.sha256(raw).hexdigest()[:8].encode()
    return os.fsdecode(raw[:NAME_MAX - room - len(suffix) - 9] + b"~" + digest + suffix)


def _part_prefix(path: Path) -> str:  # the start of write_whole's temporary names: room for ".", "-PID-N.part"
    return f".{fitted(path.name, 24)}-"


def write_whole(path: str | os.PathLike, write: Callable[[BinaryIO], object], replace: bool = True) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then move it to `path`: over a file there only with
    `replace` (keeping its permissions), else FileExistsError, even if another program creates `path` meanwhile. On
    any error `path` keeps what it held. Signals wait until it is done (d2lstyle/command.py). Returns the path."""
    path = Path(path)
    # the writer's process id in the name tells a later run which leftovers are stale (remove_stale_parts)
    tmp = path.with_name(f"{_part_prefix(path)}{os.getpid()}-{next(_PARTS)}.part")
    with STOP.saving():
        try:
            with open(tmp, "xb") as f:  # 0666 less the umask, as any new file
                if replace and path.is_file():
                    os.fchmod(f.fileno(), path.stat().st_mode & 0o777)
                write(f)
            if replace:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # unlike a rename, a link never replaces
                except OSError as err:  # or a file system without links (FAT, some network shares): check, rename
                    if isinstance(err, FileExistsError) or path.exists():
                        raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
                    os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


def write_text_whole(path: str | os.PathLike, text: str) -> Path:
    """`write_whole` for a text (UTF-8)."""
    return write_whole(path, lambda f: f.write(text.encode("utf-8")))


def save_or_rescue(path: Path, data: bytes, replace: bool, what: str) -> Path:
    """Write `data` whole to `path` (replacing a file there only with `replace`); where that fails, to the system's
    temporary folder with one error line saying where, so that finished work (`what`) is not lost. Returns where."""
    try:
        return write_whole(path, lambda f: f.write(data), replace)
    except OSError as err:
        rescue = Path(tempfile.gettempdir()) / f"d2lstyle-{os.getpid()}-{fitted(path.name, 20)}"
        write_whole(rescue, lambda f: f.write(data), replace=False)
        why = "another run created it meanwhile" if isinstance(err, FileExistsError) else err.strerror or err
        say("error", f"{path}: cannot be written ({why}): saved the {what} to {rescue}")
        return rescue


def checkpoint_path(output: Path) -> Path:
    """OUT.checkpoint.pt beside the output OUT.EXT (a picture or a network), its name fitted for the temporary names."""
    return output.with_name(fitted(output.stem, 24 + len(".checkpoint.pt")) + ".checkpoint.pt")


def save_checkpoint(path: Path, state: dict) -> None:
    """`state` (tensors, plain data, its "settings" and "step") whole to `path`: painting's and training's format."""
    write_whole(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path, now: dict) -> dict:
    """The checkpoint at `path` (tensors on the CPU); one error where it is damaged, or made with other than `now`."""
    try:  # weights_only: a file is decoded as tensors and plain data, never as code
        saved = torch.load(path, map_location="cpu", weights_only=True)
        differ, _ = sorted(k for k, v in now.items() if saved["settings"].get(k) != v), int(saved["step"])
    except Exception:  # noqa: BLE001  (any failure to decode it means the same to the user)
        raise ValueError(f"{path}: damaged checkpoint: delete it to start again") from None
    if differ:
        raise ValueError(f"{path}: made with other values of {', '.join(differ)}: give the same options, or delete it "
                         "to start again")
    return saved


def remove_stale_parts(path: str | os.PathLike) -> list[Path]:
    """Delete (and return) the files write_whole left beside `path` in a process that has ended (killed mid-write)."""
    path, stale = Path(path), []
    prefix = _part_prefix(path)
    for part in path.parent.glob(f"{glob.escape(prefix)}*-*.part"):
        pid = part.name[len(prefix):].split("-")[0]
        if pid.isdigit() and os.name != "nt" and not _running(int(pid)):  # on Windows os.kill ends the process
            part.unlink(missing_ok=True)
            stale.append(part)
    return stale


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except OSError as err:  # PermissionError: it exists, and is another user's
        return not isinstance(err, ProcessLookupError)
    return True


# Formats Pillow has a writer for that refuse an RGB picture (tried with a 1x1 image: one-bit or palette formats,
# and those whose writer needs a plugin installed apart)
NO_COLOUR_WRITERS = {"BLP", "BUFR", "GRIB", "HDF5", "MSP", "PALM", "WMF", "XBM"}
# the longest side a picture of these formats may have (their writers refuse more, once the work is done)
LONGEST = {"WEBP": 16383, "JPEG": 65500, "GIF": 65535}


def image_format(path: str | os.PathLike, shape: tuple[int, int] | None = None) -> str:
    """The format an image saved to `path` gets ("PNG", "JPEG", ...); one clear error if it cannot be written, or
    not at `shape` (height, width) in pixels, or the folder is missing or not writable."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image format {path.suffix!r}: end the name with .png or .jpg")
    if fmt not in Image.SAVE or fmt in NO_COLOUR_WRITERS:  # Pillow reads more formats than it writes
        raise ValueError(f"{path}: Pillow cannot write a colour picture as {fmt}: end the name with .png or .jpg")
    if shape is not None and max(shape) > LONGEST.get(fmt, max(shape)):
        raise ValueError(f"{path}: a {fmt} picture has at most {LONGEST[fmt]} pixels a side, and this one would be "
                         f"{shape[0]}x{shape[1]}: end the name with .png")
    check_folder(path)
    return fmt


def check_folder(path: Path) -> None:
    """One clear error where the folder `path` would be written in does not exist or is not writable."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent}: no such folder: create it first")
    if not os.access(path.parent, os.W_OK):
        raise PermissionError(f"{path.parent}: folder is not writable: save somewhere else")


class ImageNotice(UserWarning):
    """Something `load_image` changed in a file that its owner should know about (said once per file)."""


def _notice(path: Path, message: str) -> None:
    warnings.warn(f"{path}: {message}", ImageNotice, stacklevel=4)


def _too_many(path: Path, what: str) -> ValueError:
    return ValueError(f"{path}: {what}, more than the {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels read here (a "
                      "guard against decompression bombs): make the image smaller first")


# The kinds of file Pillow may open. Others are refused by name: Pillow hands PostScript and EPS to Ghostscript, a
# program that runs whatever the file says, for as long as it says.
READS = ("PNG", "JPEG", "WEBP", "AVIF", "TIFF", "BMP", "DIB", "GIF", "PPM", "TGA", "ICO", "PCX", "SGI", "PSD", "QOI")
DAMAGED = (OSError, SyntaxError, EOFError, ValueError, IndexError, struct.error)  # what Pillow raises on bad bytes


def read_rgb(path: Path) -> np.ndarray:
    """The image in `path` as an (H, W, 3) float32 array in [0, 1], EXIF rotation applied; any failure: one error."""
    _check_regular_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, with the size named
            im = Image.open(path, formats=READS)
    except UnidentifiedImageError:
        raise ValueError(f"{path}: {_unreadable(path)}") from None
    except PermissionError:
        raise PermissionError(f"{path}: permission denied: make the file readable") from None
    except Image.DecompressionBombError:
        raise _too_many(path, f"the image has over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels") from None
    except DAMAGED as err:  # a header cut short: "Truncated File Read"
        raise _damaged(path, err) from None
    with im:
        width, height = im.size
        if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
            raise _too_many(path, f"the image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels)")
        if getattr(im, "n_frames", 1) > 1:
            _notice(path, f"has {im.n_frames} frames (an animation): using the first")
        try:  # phones store pictures sideways with an "Orientation" tag
            return _rgb_array(ImageOps.exif_transpose(im), path)
        except DAMAGED as err:
            raise _damaged(path, err) from None


def _damaged(path: Path, err: Exception) -> ValueError:
    return ValueError(f"{path}: cannot decode the image ({err}): the file is damaged, truncated or of an unusual kind: "
                      "save it again as PNG or JPEG")


def _unreadable(path: Path) -> str:
    """Why Pillow could not open `path` with READS, in words."""
    with open(path, "rb") as f:
        if f.read(4) in (b"II*\0", b"MM\0*"):
            return ("a TIFF whose samples Pillow cannot read (floating-point or signed colour, grey with alpha above 8 "
                    "bits): save it as 8- or 16-bit RGB")
    try:
        with Image.open(path) as im:  # only to name the kind: opening reads the header, it runs nothing
            return f"the file holds {im.format}, a kind d2lstyle does not read: save it as PNG, JPEG, TIFF or WebP"
    except Exception:  # noqa: BLE001  (any failure means: not an image Pillow knows)
        return "not an image file, or of a kind Pillow cannot read: give a PNG, JPEG, TIFF or WebP file"


def _check_regular_file(path: Path) -> None:
    """Missing, a folder, a link loop, a pipe, a device, empty: one clear error where `path` is not a file to read."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: " + ("a symbolic link to a file that does not exist: fix the link"
                                               if path.is_symlink() else "no such file: check the path")) from None
    except OSError as err:  # a loop of symbolic links, a name too long, ...
        raise OSError(f"{path}: cannot be opened ({err.strerror}): check the path") from None
    if stat.S_ISDIR(mode := status.st_mode):
        raise IsADirectoryError(f"{path}: is a folder, not an image file: give the path of an image in it")
    if not stat.S_ISREG(mode):  # reading a pipe or /dev/zero would never end
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise ValueError(f"{path}: is {kind}, not an image file: save the image to a file and give its path")
    if status.st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes): copy or download it again")


def _rgb_array(im: Image.Image, path: Path) -> np.ndarray:
    """Any PIL image as an (H, W, 3) float32 array in [0, 1]."""
    if im.mode.startswith("I"):  # 16- or 32-bit integer grey, as in 16-bit PNG and TIFF files
        arr = np.asarray(im, dtype=np.float64)
        low, high = arr.min(), arr.max()
        if wide := low < 0 or high > 65535:  # 32-bit values beyond 16 bits' range: stretched, as a viewer does
            _notice(path, f"has 32-bit integer values from {low:.0f} to {high:.0f}: stretched to [0, 1]")
        arr = ((arr - low) / max(high - low, 1.0) if wide else arr / 65535.0).astype(np.float32)
    elif im.mode == "F":  # floating-point grey, as in float TIFF files: meant to be in [0, 1]
        arr = np.asarray(im, dtype=np.float32)
        if not (np.isfinite(arr).all() and 0 <= arr.min() and arr.max() <= 1):
            _notice(path, f"has values from {arr.min():g} to {arr.max():g}: clipped to [0, 1]")
            arr = np.nan_to_num(arr, nan=0.0)
    elif im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = (im.convert("LA") if im.mode == "La" else im).convert("RGBA")  # Pillow has no La -> RGBA
        if rgba.getchannel("A").getextrema()[0] < 255:
            _notice(path, "has transparent pixels: composited on white")
        arr = np.asarray(Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB"),
                         dtype=np.float32) / 255.0
    else:  # 1-bit, grey, palette, RGB, CMYK (Adobe's inverted CMYK JPEGs too), YCbCr, LAB, HSV
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return np.clip(np.repeat(arr[:, :, None], 3, axis=2) if arr.ndim == 2 else arr, 0.0, 1.0)


def resized_shape(path: Path, height: int, width: int, size: int | tuple[int, int]) -> tuple[int, int]:
    """(height, width) after resizing to `size`; refused if huge, said if it enlarges the picture more than 2x."""
    if min((size,) if isinstance(size, int) else size) < 1:
        raise ValueError(f"{path}: size {size} is not positive: give a number of pixels")
    if isinstance(size, int):
        short = min(height, width)  # side * size / short, not side * (size / short): 62.5 must not be 62.50000000000001
        shape = max(1, round(height * size / short)), max(1, round(width * size / short))
    else:
        shape = int(size[0]), int(size[1])
    if Image.MAX_IMAGE_PIXELS and shape[0] * shape[1] > Image.MAX_IMAGE_PIXELS:
        raise _too_many(path, f"at size {size} it would be {shape[0]}x{shape[1]} pixels")
    if min(shape[0] / height, shape[1] / width) > 2:
        _notice(path, f"is only {height}x{width} pixels: upscaled to {shape[0]}x{shape[1]}, expect a blurry result")
    return shape
