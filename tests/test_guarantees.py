"""Issue 38: one signal rule and one whole-file save, kept alike by `d2lstyle` and `python -m d2lstyle.fast train`.

Each test names the defect of the third hostile round it pins; each failed on the code before the fix.
"""

import io
import os
import signal
import sys

import pytest
import torch
from PIL import Image

import d2lstyle.batch as batch
import d2lstyle.cli as cli
from d2lstyle import fast, files
from d2lstyle.images import load_image, save_image
from tests.conftest import Net, exit_status, smooth_image

FAST = ["--size", "32", "--steps", "2", "--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1"]


@pytest.fixture
def painting(tmp_path, monkeypatch, random_net):
    """A content and a style image in tmp_path, the command line on a random network; returns run(argv) ->
    (status, out, err) and the folder."""
    save_image(smooth_image(36, 40, seed=1), tmp_path / "a.png")
    save_image(smooth_image(40, 40, seed=2), tmp_path / "s.png")
    (tmp_path / "out").mkdir()
    monkeypatch.setattr(batch, "vgg19", lambda *args, **kwargs: Net(random_net))
    return tmp_path


def paint(capsys, *argv):
    status = exit_status(cli.main, [str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def training(tmp_path, monkeypatch, random_net):
    """Three photos in tmp_path/photos and VGG19 replaced by a random network; returns train(out, *argv)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(3):
        save_image(smooth_image(56, 64, seed), photos / f"photo{seed}.png")
    monkeypatch.setattr("d2lstyle.features.vgg19", lambda **options: random_net)

    def train(out, *extra):
        argv = ["train", "--style", str(photos / "photo0.png"), "--photos", str(photos), "--out", str(out), "--size",
                "48", "--patch", "32", "--batch", "2", "--width", "4", "--blocks", "1", "--precision", "float32",
                "--steps", "3", *extra]
        try:
            return exit_status(fast.main, argv)
        except KeyboardInterrupt:  # the old code let it through: a traceback for the user
            return "KeyboardInterrupt"
    return train


def signal_on_first_call(monkeypatch, owner, name, signum=signal.SIGINT):
    """Make the first call of owner.name send `signum` to this process, as a Ctrl-C in the middle of it would."""
    real, calls = getattr(owner, name), []

    def sending(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            signal.raise_signal(signum)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, sending)
    return calls


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_first_signal_during_the_final_save_of_a_picture_waits_for_it(painting, capsys, monkeypatch, signum,
                                                                        status):
    """Defect 1: the first Ctrl-C or SIGTERM while the finished picture was encoded lost it ("nothing was saved")."""
    out = painting / "out/r.png"
    calls = signal_on_first_call(monkeypatch, Image.Image, "save", signum)
    code, stdout, err = paint(capsys, painting / "a.png", painting / "s.png", "-o", out, *FAST)
    assert calls and code == status and stdout == f"saved {out}\n", err
    assert load_image(out).shape == (1, 3, 32, 36) and os.listdir(painting / "out") == ["r.png"]


def test_a_first_signal_during_the_final_save_of_a_network_waits_for_it(training, tmp_path, monkeypatch, capsys):
    """Defect 1: the first Ctrl-C while the trained network was written gave a traceback, and no network."""
    calls = signal_on_first_call(monkeypatch, torch, "save")
    assert training(tmp_path / "net") == 130 and calls
    assert fast.load_model(tmp_path / "net.pt").record["steps"] == 3
    assert "saved" in capsys.readouterr().err and sorted(os.listdir(tmp_path)) == ["net.pt", "photos"]


def test_an_input_name_with_a_byte_that_is_not_utf8_still_gives_its_picture(painting, capsys):
    """Defect 2: the PNG text chunk that records the command failed to encode after the run; the picture was lost."""
    content = painting / os.fsdecode(b"caf\xe9.png")
    (painting / "a.png").rename(content)
    code, _, err = paint(capsys, content, painting / "s.png", "-o", painting / "out", *FAST)
    made = painting / "out" / os.fsdecode(b"caf\xe9_s.png")
    assert code == 0 and os.listdir(painting / "out") == [made.name], err
    with Image.open(made) as im:
        assert "caf\\xe9.png" in im.text["d2lstyle command"]


@pytest.mark.parametrize("length", [220, 240, 255])
def test_an_output_name_of_up_to_255_bytes_is_written_with_its_checkpoints(painting, capsys, length):
    """Defect 3: the temporary and rescue names were longer than the file system allows; the picture was lost."""
    out = painting / "out" / ("é" * ((length - 4) // 2) + "x" * ((length - 4) % 2) + ".png")
    assert len(os.fsencode(out.name)) == length
    code, stdout, err = paint(capsys, painting / "a.png", painting / "s.png", "-o", out, *FAST,
                              "--checkpoint-every", "1")
    assert code == 0 and stdout == f"saved {out}\n" and "warning" not in err, err
    assert os.listdir(painting / "out") == [out.name]


def test_write_whole_and_its_rescue_keep_names_within_255_bytes(tmp_path, monkeypatch, capsys):
    """Defect 3, below the command line: the rescue of a 255-byte name in the temporary folder."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    name = "n" * 251 + ".png"
    assert files.write_whole(tmp_path / name, lambda f: f.write(b"x")).read_bytes() == b"x"
    rescued = files.save_or_rescue(tmp_path / "missing" / name, b"picture", replace=False, what="picture")
    assert rescued.parent == tmp_path and rescued.read_bytes() == b"picture" and rescued.suffix == ".png"
    assert f"saved the picture to {rescued}" in capsys.readouterr().err


class BrokenStream(io.TextIOBase):
    """A standard stream whose reader has gone: every write fails, as with a closed pipe."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        raise io.UnsupportedOperation("no descriptor")


def test_training_with_a_broken_stderr_goes_quiet_and_saves_the_network(training, tmp_path, monkeypatch):
    """Defect 4: `fast train` with stderr closed or read by no one ended with exit 1 and saved nothing."""
    monkeypatch.setattr(sys, "stderr", BrokenStream())
    assert training(tmp_path / "net") == 0
    assert fast.load_model(tmp_path / "net.pt").record["steps"] == 3


def test_a_network_another_run_saved_meanwhile_is_not_replaced(training, tmp_path, monkeypatch, capsys):
    """Defect 6: two training runs with one --out both said "saved"; one network silently replaced the other."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    real_step, out = fast.train_step, tmp_path / "net.pt"

    def other_run_saves(*args):
        out.write_bytes(b"the other run's network")
        return real_step(*args)

    monkeypatch.setattr(fast, "train_step", other_run_saves)
    assert training(tmp_path / "net") == 2
    rescued = list((tmp_path / "tmp").glob("d2lstyle-*"))
    assert out.read_bytes() == b"the other run's network" and len(rescued) == 1
    assert f"{out}: cannot be written (another run created it meanwhile): saved the network to {rescued[0]}" in \
        capsys.readouterr().err
    assert fast.load_model(rescued[0]).record["steps"] == 3


def test_resume_does_not_replace_a_picture_that_is_not_the_runs_own(painting, capsys, monkeypatch, random_net):
    """Defect 8: --resume replaced the user's own picture at the output path without --force."""
    out = painting / "out/r.png"
    monkeypatch.setattr(batch, "vgg19", lambda *a, **k: Net(random_net, 3, lambda n, f: signal.raise_signal(2) or f))
    assert paint(capsys, painting / "a.png", painting / "s.png", "-o", out, *FAST)[0] == 130
    assert (painting / "out/r.checkpoint.pt").exists()
    mine = save_image(smooth_image(20, 20, seed=5), out).read_bytes()  # the user puts a picture of theirs there
    monkeypatch.setattr(batch, "vgg19", lambda *args, **kwargs: Net(random_net))
    code, _, err = paint(capsys, painting / "a.png", painting / "s.png", "-o", out, *FAST, "--resume")
    assert code == 2 and out.read_bytes() == mine and f"{out}: already exists" in err and "--force" in err


def test_resume_replaces_the_picture_its_own_interrupted_run_saved(painting, capsys, monkeypatch, random_net):
    """Defect 8's other half: the picture an interrupted run saved is its own; --resume goes on and replaces it."""
    out = painting / "out/r.png"
    monkeypatch.setattr(batch, "vgg19", lambda *a, **k: Net(random_net, 3, lambda n, f: signal.raise_signal(2) or f))
    assert paint(capsys, painting / "a.png", painting / "s.png", "-o", out, *FAST)[0] == 130
    monkeypatch.setattr(batch, "vgg19", lambda *args, **kwargs: Net(random_net))
    code, stdout, err = paint(capsys, painting / "a.png", painting / "s.png", "-o", out, *FAST, "--resume")
    assert code == 0 and stdout == f"saved {out}\n" and os.listdir(painting / "out") == ["r.png"], err


@pytest.mark.parametrize("suffix, side, limit", [(".webp", 16400, "16383"), (".jpg", 65536, "65500")])
def test_a_picture_too_large_for_its_format_is_refused_before_any_work(tmp_path, monkeypatch, capsys, suffix, side,
                                                                        limit):
    """Defect 11: WebP's and JPEG's largest sides were found after the optimisation; the picture was lost."""
    Image.new("RGB", (side, 32), "grey").save(tmp_path / "long.png")
    save_image(smooth_image(40, 40, seed=2), tmp_path / "s.png")
    monkeypatch.setattr(batch, "vgg19", lambda *a, **k: pytest.fail("the network was built"))
    code, _, err = paint(capsys, tmp_path / "long.png", tmp_path / "s.png", "-o", tmp_path / f"r{suffix}",
                         "--size", "32", "--max-size", "70000")
    assert code == 2 and err.count("\n") == 1 and f"at most {limit} pixels" in err, err
    assert not (tmp_path / f"r{suffix}").exists()


def test_training_checks_its_output_folder_before_any_work(training, tmp_path, monkeypatch, capsys):
    """Defect 16: an --out in a folder that does not exist was found after the whole training."""
    monkeypatch.setattr(fast, "train_step", lambda *args: pytest.fail("the training began"))
    assert training(tmp_path / "nowhere/net") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{tmp_path / 'nowhere'}: no such folder: create it first" in err[0]


def damage(path):
    path.write_bytes(b"PK\x03\x04 not a checkpoint")
    return ()


@pytest.mark.parametrize("case, message", [
    (lambda out, mp: damage(out.parent / "net.checkpoint.pt") + ("--resume",),
     "net.checkpoint.pt: damaged checkpoint: delete it to start again"),
    (lambda out, mp: mp.setattr(fast, "load_image", lambda *a: signal.raise_signal(signal.SIGINT)) or (),
     "interrupted while starting: nothing was computed"),
    (lambda out, mp: ("--patch", "3"), "--patch 3: give a whole number of pixels, 32 or more"),
    (lambda out, mp: ("--out", ""), "--out '': give a file name, like starry_night"),
], ids=["damaged checkpoint", "Ctrl-C while starting", "patch 3", "empty out"])
def test_training_says_what_is_wrong_in_one_line_without_a_traceback(training, tmp_path, monkeypatch, capsys, case,
                                                                      message):
    """The weak cases of the third round: each gave a traceback."""
    out = tmp_path / "net"
    status = training(out, *case(out, monkeypatch))
    err = capsys.readouterr().err.strip().splitlines()
    assert status in (2, 130) and len(err) == 1 and message in err[0], err
