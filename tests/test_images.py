import os

import numpy as np
import pytest
import torch
from PIL import Image

from d2lstyle import load_image, save_image
from d2lstyle.files import ImageNotice


def write(tmp_path, name, array):
    path = tmp_path / name
    Image.fromarray(array).save(path)
    return path


def test_rgb_png_loads_exactly(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    img = load_image(write(tmp_path, "rgb.png", array))
    assert img.shape == (1, 3, 5, 7) and img.dtype == torch.float32
    assert torch.allclose(img[0].permute(1, 2, 0), torch.from_numpy(array).float() / 255)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    img = load_image(write(tmp_path, "grey.png", np.full((4, 4), 51, np.uint8)))
    assert img.shape == (1, 3, 4, 4)
    assert torch.allclose(img, torch.full_like(img, 0.2))


def test_transparent_pixels_are_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]  # opaque red
    with pytest.warns(ImageNotice, match="rgba.png: has transparent pixels: composited on white"):
        img = load_image(write(tmp_path, "rgba.png", rgba))  # the other pixels are fully transparent
    assert img[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert img[0, :, 1, 1].tolist() == [1.0, 1.0, 1.0]


def test_palette_image(tmp_path):
    im = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    im.putpalette([0, 0, 255, 0, 255, 0] + [0] * 762)
    im.save(tmp_path / "palette.png")
    img = load_image(tmp_path / "palette.png")
    assert img[0, :, 0, 0].tolist() == [0.0, 0.0, 1.0] and img[0, :, 0, 1].tolist() == [0.0, 1.0, 0.0]


def test_16_bit_grayscale_uses_the_full_range(tmp_path):
    array = np.array([[0, 32768, 65535]], np.uint16)
    Image.fromarray(array).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    img = load_image(tmp_path / "deep.png")
    assert img[0, 0, 0].tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-4)


def test_exif_rotation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.new("RGB", (30, 10), "red").save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == (1, 3, 30, 10)


def test_size_sets_the_shorter_side_or_both(tmp_path):
    path = write(tmp_path, "wide.png", np.zeros((40, 100, 3), np.uint8))
    assert load_image(path, size=20).shape == (1, 3, 20, 50)
    assert load_image(path, size=(33, 17)).shape == (1, 3, 33, 17)


def test_missing_and_broken_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.png: no such file"):
        load_image(tmp_path / "nothere.png")
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(ValueError, match="notes.jpg: not an image file"):
        load_image(tmp_path / "notes.jpg")


def test_save_then_load_round_trip(tmp_path):
    img = torch.rand(1, 3, 6, 9, generator=torch.Generator().manual_seed(0))
    path = save_image(img, tmp_path / "out.png")
    assert (load_image(path) - img).abs().max() <= 0.5 / 255 + 1e-6
    assert os.listdir(tmp_path) == ["out.png"]  # no temporary file left behind


def test_save_refuses_unknown_format_and_missing_folder(tmp_path):
    img = torch.rand(1, 3, 4, 4)
    with pytest.raises(ValueError, match="unknown image format"):
        save_image(img, tmp_path / "out.xyz")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        save_image(img, tmp_path / "missing" / "out.png")


def test_a_failed_save_keeps_the_old_file_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    path = save_image(torch.zeros(1, 3, 4, 4), tmp_path / "keep.png")
    before = path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(torch.ones(1, 3, 4, 4), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.png"]
