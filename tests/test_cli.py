import inspect
import shlex
import subprocess
import sys

import pytest
import torch
from PIL import Image

from d2lstyle import (
    ControlledObjective,
    StyleObjective,
    controlled_transfer,
    features,
    load_image,
    save_image,
    transfer,
    vgg19,
)
from d2lstyle.cli import main, parse_args
from tests.conftest import dead_pid, smooth_image


@pytest.fixture
def images(tmp_path):
    content = save_image(smooth_image(40, 48, seed=1), tmp_path / "content.png")
    style = save_image(smooth_image(36, 44, seed=2), tmp_path / "style.jpg")
    return content, style


@pytest.mark.slow  # the real weights through the command line
def test_command_line_end_to_end(images, tmp_path):
    content, style = images
    out = tmp_path / "result.png"
    stale = tmp_path / f".result.png-{dead_pid()}-abc.part"  # as a run killed mid-write leaves it
    stale.write_bytes(b"half a picture")
    proc = subprocess.run([sys.executable, "-m", "d2lstyle", str(content), str(style), "-o", str(out),
                           "--size", "40", "--steps", "3"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and f"{stale}: deleted, a half-written file" in proc.stderr
    assert proc.stdout.strip() == f"saved {out.resolve()}"
    assert "stylizing" in proc.stderr  # the progress bar
    assert Image.open(out).size == (48, 40)


def test_default_output_name_goes_to_the_current_folder(images, tmp_path, monkeypatch, capsys):
    content, style = images
    monkeypatch.chdir(tmp_path)
    assert main([str(content), str(style), "--size", "32", "--steps", "1"]) == 0
    assert (tmp_path / "content_style.png").exists()
    assert capsys.readouterr().out.strip() == f"saved {tmp_path / 'content_style.png'}"


@pytest.mark.slow  # the real weights, loaded for two runs
def test_the_recorded_command_runs_again_from_any_folder(images, tmp_path, monkeypatch):
    """Relative paths on the command line; the PNG's command has absolute ones (issue 25: it held relative ones)."""
    monkeypatch.chdir(tmp_path)
    assert main(["content.png", "--style", "style.jpg", "--size", "32", "--steps", "2", "-o", "out.png"]) == 0
    with Image.open(tmp_path / "out.png") as im:
        words = shlex.split(im.text["d2lstyle command"])
    assert words[3:6] == [str(tmp_path / "content.png"), "--style", str(tmp_path / "style.jpg")]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(words[3:] + ["-o", "again.png"]) == 0
    assert torch.equal(load_image(tmp_path / "out.png"), load_image(elsewhere / "again.png"))


def bad_input_cases(tmp_path, content, style):
    (tmp_path / "text.jpg").write_text("hello")
    taken = save_image(load_image(content), tmp_path / "taken.png")
    return {
        "missing file": ([str(tmp_path / "nope.png"), str(style)], "nope.png: no such file"),
        "not an image": ([str(tmp_path / "text.jpg"), str(style)], "text.jpg: not an image file"),
        "unknown layer": ([str(content), str(style), "--style-layers", "relu1_1,conv9_9"], "unknown layer conv9_9"),
        "too small": ([str(content), str(style), "--size", "16"], "VGG19 needs at least 32 pixels"),
        "existing output": ([str(content), str(style), "-o", str(taken)], "already exists: choose another name"),
        "output is input": ([str(content), str(style), "-o", str(content), "--force"], "would overwrite an input"),
        "no such folder": ([str(content), str(style), "-o", str(tmp_path / "no" / "x.png")], "no such folder"),
        "unknown format": ([str(content), str(style), "-o", str(tmp_path / "x.doc")], "unknown image format"),
        "unwritable format": ([str(content), str(style), "-o", str(tmp_path / "x.psd")], "cannot write a colour"),
        "bad steps": ([str(content), str(style), "--steps", "-3"], "--steps -3: give a whole number of steps"),
        "negative tol": ([str(content), str(style), "--tol", "-0.1"], "--tol -0.1: give a fraction, 0 or more"),
        "bad scales": ([str(content), str(style), "--scales", "0,1"], "--scales 0.0,1.0: give fractions of the size"),
        "zero lr": ([str(content), str(style), "--lr", "0"], "--lr 0.0: give a positive learning rate"),
        "negative weight": ([str(content), str(style), "--tv-weight", "-5"], "--tv-weight -5.0: give a weight, 0 or"),
        "huge seed": ([str(content), str(style), "--seed", str(10**23)], f"--seed {10**23}: give a whole number"),
        "no such device": ([str(content), str(style), "--device", "nonsense"], "not a device name: choose from cpu"),
        "absent device": ([str(content), str(style), "--device", "cuda:7"], "no such device: choose from cpu"),
    }


@pytest.mark.parametrize("case", ["missing file", "not an image", "unknown layer", "too small", "existing output",
                                  "output is input", "no such folder", "unknown format", "unwritable format",
                                  "bad steps", "negative tol", "bad scales", "zero lr", "negative weight",
                                  "huge seed", "no such device", "absent device"])
def test_bad_input_gets_one_clear_line_and_writes_nothing(case, images, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if case.endswith("device") or case == "huge seed":  # refused before the network loads
        monkeypatch.setattr("d2lstyle.batch.vgg19", lambda *a, **k: pytest.fail("the network was loaded"))
    argv, message = bad_input_cases(tmp_path, *images)[case]
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("d2lstyle: note: ")]
    assert status == 2
    assert len(err) == 1 and message in err[0] and err[0].startswith("d2lstyle: error: ")
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before  # nothing written or changed


def test_force_overwrites_an_existing_output(images, tmp_path, capsys):
    content, style = images
    out = save_image(load_image(content)[..., :32, :32], tmp_path / "old.png")
    assert main([str(content), str(style), "-o", str(out), "--size", "32", "--steps", "1", "--force"]) == 0
    assert Image.open(out).size == (38, 32)


def test_the_defaults_are_the_librarys():
    """Each option that sets a keyword argument of the library starts at that argument's default."""
    args = vars(parse_args([]))
    del args["max_size"]  # the command line's own guard (2048 pixels); in Python there is no limit by default
    options = {"style_weights": "style_blend"}  # the option's name -> the argument's, where they differ
    for function in (vgg19, StyleObjective, ControlledObjective, transfer, controlled_transfer):
        for name, parameter in inspect.signature(function).parameters.items():
            option = next((o for o, n in options.items() if n == name), name)
            if option in args and parameter.default is not inspect.Parameter.empty:
                default = parameter.default
                assert args[option] == (list(default) if isinstance(default, tuple) else default), option
    assert {"steps", "tol", "scales", "precision", "content_weight", "style_layers", "statistic"} <= set(args)


def test_damaged_weights_stop_the_command_with_one_line_before_any_optimisation(images, tmp_path, capsys,
                                                                               monkeypatch, damaged_weights):
    content, style = images
    monkeypatch.setattr(features, "caffe_weights_path", lambda: damaged_weights)
    assert main([str(content), str(style), "-o", str(tmp_path / "out.png"), "--size", "40"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "weights.bin: checksum mismatch" in err[0] and err[0].startswith("d2lstyle: error: ")
    assert not (tmp_path / "out.png").exists()


def test_from_the_command_line_to_vgg19_is_at_most_eight_calls(images, tmp_path, monkeypatch, random_net):
    """The frames of d2lstyle's own functions between `main` and VGG19Features.forward during an optimisation step
    (PyTorch's own frames, the optimiser's step and nn.Module's call, are not counted): the batch calls the library's
    controlled_transfer itself, and from `main` to StyleObjective.parts there are at most eight (issue 38)."""
    import traceback
    from pathlib import Path

    import d2lstyle.batch as batch
    from d2lstyle.features import VGG19Features

    chains, forward, package = [], VGG19Features.forward, Path(batch.__file__).parent

    def recorded(self, img, layers):
        if img.requires_grad and not chains:
            chains.append([f.name for f in traceback.extract_stack()[:-1] if Path(f.filename).parent == package])
        return forward(self, img, layers)

    monkeypatch.setattr(VGG19Features, "forward", recorded)
    monkeypatch.setattr(batch, "vgg19", lambda *args, **kwargs: random_net)
    assert main([*map(str, images), "-o", str(tmp_path / "r.png"), "--size", "32", "--steps", "1"]) == 0
    chain = chains[0]
    assert chain[:chain.index("controlled_transfer") + 1] == ["main", "run_batch", "controlled_transfer"], chain
    assert chain[-1] == "parts" and len(chain) <= 8, chain  # then forward
