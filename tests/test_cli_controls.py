"""The control options of the command line (notebook 7): end to end with the real weights, and their errors."""

import shlex

import pytest
import torch
from PIL import Image

from d2lstyle import load_image, save_image
from d2lstyle.cli import main
from tests.conftest import exit_status, smooth_image


@pytest.fixture
def images(tmp_path):
    content = save_image(smooth_image(40, 48, seed=1), tmp_path / "content.png")
    styles = [save_image(smooth_image(36, 44, seed=s), tmp_path / f"style{s}.png") for s in (2, 3)]
    return content, styles


@pytest.mark.slow  # the real weights, loaded for two runs
def test_controls_end_to_end_and_the_png_repeats_the_run(images, tmp_path):
    content, (a, b) = images
    out = tmp_path / "blend.png"
    argv = [str(content), "--style", str(a), "--style", str(b), "--style-weights", "1,3",
            "--preserve-color", "histogram", "--style-scale", "1.5", "--statistic", "meancov",
            "--style-layer-weights", "1,1,1,1,0.5",
            "--init", "noise", "--seed", "3", "--size", "32", "--steps", "2", "-o", str(out)]
    assert main(argv) == 0
    with Image.open(out) as im:
        text = im.text
    assert text["d2lstyle style_weights"] == "1.0,3.0" and text["d2lstyle seed"] == "3"
    words = shlex.split(text["d2lstyle command"])
    assert words[:8] == ["python", "-m", "d2lstyle", str(content), "--style", str(a), "--style", str(b)]
    again = tmp_path / "again.png"
    assert main(words[3:] + ["-o", str(again)]) == 0
    assert torch.equal(load_image(out), load_image(again))  # same options, same seed: the same picture


def test_mask_and_luminance_end_to_end(images, tmp_path):
    content, styles = images
    mask = torch.full((1, 3, 40, 48), 0.5)
    mask[..., 24:] = 1.0
    mask_file = save_image(mask, tmp_path / "mask.png")
    out = tmp_path / "masked.png"
    argv = [str(content), "--style", str(styles[0]), "--style", str(styles[1]), "--mask", str(mask_file),
            "--preserve-color", "luminance",
            "--size", "40", "--steps", "2", "-o", str(out)]
    assert main(argv) == 0
    assert Image.open(out).size == (48, 40)


def test_two_styles_without_weights_or_mask_make_one_picture_each(images, tmp_path, capsys):
    content, (a, b) = images
    out = tmp_path / "out"
    out.mkdir()
    argv = [str(content), "--style", str(a), "--style", str(b), "--preserve-color", "luminance",
            "--size", "32", "--steps", "1", "-o", str(out)]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["content_style2.png", "content_style3.png"]
    assert "2 done" in capsys.readouterr().out
    with Image.open(out / "content_style3.png") as im:
        words = shlex.split(im.text["d2lstyle command"])
    assert words[3:6] == [str(content), "--style", str(b)] and words.count("--style") == 1


def bad_control_cases(content, styles, tmp_path):
    one = [str(content), "--style", str(styles[0])]
    two = one + ["--style", str(styles[1])]
    return {
        "size over max-size": (one + ["--size", "300", "--max-size", "200"], "--size 300 is over --max-size 200"),
        "image over max-size": (one + ["--size", "40", "--max-size", "45"], "40x48 pixels, over the limit of 45"),
        "weights for the wrong count": (two + ["--style-weights", "1"], "--style-weights: 1 blend weights for 2"),
        "weights and mask": (two + ["--style-weights", "1,1", "--mask", str(content)], "do not go together"),
        "layer weights count": (one + ["--style-layer-weights", "1,2"], "--style-layer-weights: 2 style layer"),
        "negative layer weight": (one + ["--style-layer-weights", "1,1,-1,1,1"], "--style-layer-weights: style layer "
                                  "weights [1.0, 1.0, -1.0, 1.0, 1.0]: use finite weights >= 0"),
        "NaN blend weight": (two + ["--style-weights", "1,nan"], "--style-weights: blend weights [1.0, nan]: use"),
        "infinite blend weight": (two + ["--style-weights", "inf,1"], "--style-weights: blend weights [inf, 1.0]"),
        "not numbers": (one + ["--style-weights", "a,b"], "is not a comma-separated list of numbers"),
        "scale not positive": (one + ["--style-scale", "0"], "--style-scale 0.0: give a positive factor"),
        "missing mask": (one + ["--mask", str(tmp_path / "nope.png")], "nope.png: no such file"),
        "unknown statistic": (one + ["--statistic", "median"], "invalid choice: 'median'"),
    }


@pytest.mark.parametrize("case", ["size over max-size", "image over max-size",
                                  "weights for the wrong count", "weights and mask", "layer weights count",
                                  "negative layer weight", "NaN blend weight", "infinite blend weight",
                                  "not numbers", "scale not positive", "missing mask", "unknown statistic"])
def test_bad_control_options_get_one_clear_line_and_write_nothing(case, images, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, message = bad_control_cases(*images, tmp_path)[case]
    before = sorted(tmp_path.iterdir())
    assert exit_status(main, argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("d2lstyle: note: ")]
    assert len(err) == 1 and message in err[0] and err[0].startswith("d2lstyle: error:")
    assert sorted(tmp_path.iterdir()) == before


def test_a_batch_reads_its_mask_once_and_says_its_notices_as_notes(images, tmp_path, capsys):
    content, styles = images
    other = save_image(smooth_image(40, 48, seed=7), tmp_path / "other.png")
    mask = Image.new("RGBA", (12, 10), (255, 255, 255, 255))
    mask.putpixel((0, 0), (0, 0, 0, 0))  # one transparent pixel: load_image says it composites on white
    mask.save(tmp_path / "mask.png")
    out = tmp_path / "out"
    out.mkdir()
    argv = [str(content), str(other), "--style", str(styles[0]), "--style", str(styles[1]), "--mask",
            str(tmp_path / "mask.png"), "-o", str(out), "--size", "32", "--steps", "1"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("d2lstyle: note: ") == 1 and "mask.png" in err and "ImageNotice" not in err
    assert sorted(p.name for p in out.iterdir()) == ["content_style2_style3.png", "other_style2_style3.png"]
