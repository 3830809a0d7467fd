"""Fast style transfer (notebook 8, d2lstyle/fast.py): training, the shipped networks, `stylize` and `--model`."""

import io
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from d2lstyle import PerceptualLoss, TransformNet, cli, fast, files, random_patches, ssim, train_step
from d2lstyle.controls import rgb_to_yiq
from d2lstyle.images import load_image, save_image
from tests.conftest import exit_status, smooth_image


@pytest.fixture
def photo_folder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in range(3):
        save_image(smooth_image(56, 64, seed), folder / f"photo{seed}.png")
    return folder


def test_a_tiny_network_learns_a_style_its_loss_falls(random_net):
    torch.manual_seed(0)
    photos, style = [smooth_image(48, 56, s) for s in range(3)], smooth_image(40, 40, 9)
    net, generator = TransformNet(width=4, blocks=1), torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    loss = PerceptualLoss(style, random_net)
    fixed = random_patches(photos, 4, 32, torch.Generator().manual_seed(1))  # the same batch before and after
    with torch.no_grad():
        before = sum(loss.parts(fixed, net(fixed)).values()).item()
    for _ in range(30):
        train_step(net, opt, loss, random_patches(photos, 4, 32, generator))
    with torch.no_grad():
        after = sum(loss.parts(fixed, net(fixed)).values()).item()
    assert after < 0.5 * before


def test_patches_come_from_the_seed():
    photos = [smooth_image(40, 60, 0), smooth_image(50, 44, 1)]
    a, b = (random_patches(photos, 5, 24, torch.Generator().manual_seed(3)) for _ in range(2))
    assert a.shape == (5, 3, 24, 24) and torch.equal(a, b)
    assert not torch.equal(a, random_patches(photos, 5, 24, torch.Generator().manual_seed(4)))


def train(folder, out, *extra):
    return fast.main(["train", "--style", str(folder / "photo0.png"), "--photos", str(folder), "--out", str(out),
                      "--size", "48", "--patch", "32", "--batch", "2", "--width", "4", "--blocks", "1",
                      "--precision", "float32", *extra])


def test_an_interrupted_run_resumed_gives_the_network_of_an_uninterrupted_one(photo_folder, tmp_path, monkeypatch,
                                                                           random_net, capsys):
    monkeypatch.setattr("d2lstyle.features.vgg19", lambda **options: random_net)
    assert train(photo_folder, tmp_path / "whole", "--steps", "6") == 0
    calls, real_step = [], fast.train_step

    def ctrl_c_at_step_4(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(fast, "train_step", ctrl_c_at_step_4)
    assert train(photo_folder, tmp_path / "cut", "--steps", "6", "--checkpoint-minutes", "1e-9") == 130
    checkpoint = tmp_path / "cut.checkpoint.pt"
    assert torch.load(checkpoint, weights_only=True)["step"] == 3
    assert "at step 3; the checkpoint" in capsys.readouterr().err
    monkeypatch.setattr(fast, "train_step", real_step)
    assert train(photo_folder, tmp_path / "cut", "--steps", "6", "--resume") == 0
    assert not checkpoint.exists()
    whole, resumed = fast.load_model(tmp_path / "whole.pt"), fast.load_model(tmp_path / "cut.pt")
    pairs = zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    assert whole.record["steps"] == resumed.record["steps"] == 6
    assert whole.record["photos_sha256"] == fast.fingerprint(fast.photo_files(photo_folder))
    assert (whole.record["content_weight"], whole.record["style_weight"]) == (2.0, 2.0)  # PerceptualLoss's defaults
    assert whole.record["content_layers"] == ["relu2_2"] and "cwd" not in whole.record


def test_resume_refuses_a_checkpoint_of_other_settings(photo_folder, tmp_path, monkeypatch, random_net, capsys):
    monkeypatch.setattr("d2lstyle.features.vgg19", lambda **options: random_net)
    monkeypatch.setattr(fast, "train_step", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
    torch.save({"settings": {"size": 1}, "step": 1}, tmp_path / "net.checkpoint.pt")  # as a run at --size 1 saves
    assert train(photo_folder, tmp_path / "net", "--steps", "2", "--resume") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "net.checkpoint.pt: made with other values of" in err[0] and "delete it" in err[0]


@pytest.mark.parametrize("argv, message", [
    (["--photos", "nowhere"], "--photos nowhere: not a folder"),
    (["--patch", "64"], "--patch 64 is larger than --size 48"),
    (["--steps", "0"], "--steps 0: give a whole number of steps, 1 or more"),
    (["--style-weight", "-1"], "--style-weight -1.0: give a weight, 0 or more"),
    (["--lr", "nan"], "--lr nan: give a positive learning rate"),
    (["--resume"], "--resume: there is no checkpoint"),
    (["--out", "taken.pt"], "already exists: choose another name, or add --force"),
    (["--out", "stopped"], "stopped.checkpoint.pt: a run stopped here: add --resume to continue it"),
])
def test_the_training_command_says_what_is_wrong_in_one_line(photo_folder, tmp_path, argv, message, capsys):
    (tmp_path / "taken.pt").write_bytes(b"a network trained before")
    (tmp_path / "stopped.checkpoint.pt").write_bytes(b"a checkpoint")
    argv = [str(tmp_path / w) if w in ("nowhere", "taken.pt", "stopped") else w for w in argv]
    assert exit_status(lambda a: train(photo_folder, tmp_path / "net", *a), argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message.replace("nowhere", str(tmp_path / "nowhere")) in err[0]
    assert (tmp_path / "taken.pt").read_bytes() == b"a network trained before"


def test_the_shipped_networks_are_small_and_say_how_they_were_trained():
    assert fast.model_names() == ["mosaic", "starry_night"]
    for name in fast.model_names():
        path = fast.model_path(name)
        assert path.stat().st_size <= 8_000_000
        record = fast.load_model(name).record
        assert record["command"].startswith("python -m d2lstyle.fast train --style ")
        assert len(record["photos_sha256"]) == 64 and len(record["manifest_sha256"]) == 64
        assert record["steps"] >= 1000 and record["seconds"] <= 180 * 60 and record["final_loss"] > 0
        assert "/" not in record["command"].split("--photos ")[1].split()[0]  # PHOTOS, not this machine's folder
        assert not any(word.startswith("/") for word in record["command"].split())


def test_the_record_names_paths_relative_to_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    photos, outside = tmp_path / "photos", tmp_path.parent / "elsewhere" / "painting.jpg"
    argv = ["train", "--style", str(tmp_path / "data" / "style.jpg"), "--photos", str(photos), "--out",
            str(outside), "--lr", "1e-3", "--resume"]
    assert fast.relative_command(argv, Path("photos")) == (
        "python -m d2lstyle.fast train --style data/style.jpg --photos PHOTOS --out painting.jpg --lr 1e-3")


def test_ssim_is_scikit_images_structural_similarity_of_the_luminance():
    metrics = pytest.importorskip("skimage.metrics")
    photo = smooth_image(60, 90, 0)
    picture = (photo + 0.2 * torch.rand(photo.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    luminance = [torch.nn.functional.interpolate((x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(
        1, keepdim=True), size=(40, 60), mode="area")[0, 0].double().numpy() for x in (photo, picture)]
    expected = metrics.structural_similarity(*luminance, data_range=1)
    assert ssim(photo, picture, side=40) == pytest.approx(expected, abs=1e-5)
    assert ssim(photo, photo) == pytest.approx(1.0) and ssim(photo, picture) < 0.9


def test_stylize_paints_any_size_in_range_and_refuses_a_wrong_shape():
    content = smooth_image(37, 50, 0)
    out = fast.stylize(content, "starry_night")
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    assert (out - content).abs().mean() > 0.05  # it painted something
    with pytest.raises(ValueError, match=r"content=\(3, 37, 50\): give an RGB image tensor \(1, 3, H, W\)"):
        fast.stylize(content[0])


@pytest.mark.parametrize("content, said", [
    ((torch.rand(1, 3, 32, 32) * 255).to(torch.uint8), r"content=torch.uint8: give float32 values in \[0, 1\]"),
    (torch.rand(1, 3, 32, 32) * 255, r"content=values from .* to .*: give values in \[0, 1\]"),
    (torch.full((1, 3, 32, 32), float("nan")), r"content=values from nan to nan: give values in \[0, 1\]")])
def test_stylize_refuses_what_transfer_refuses(content, said):
    """Issue 38, defect 13: uint8, 0-255 and NaN content were painted without a word."""
    with pytest.raises(ValueError, match=said):
        fast.stylize(content, "starry_night")


def test_load_model_names_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="model 'nope': no such trained network: give one of .*starry_night"):
        fast.load_model("nope")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a network")
    with pytest.raises(ValueError, match="is not a network written by"):
        fast.load_model(broken)


def test_the_command_line_paints_with_a_trained_network(tmp_path, capsys):
    content = tmp_path / "cat.png"
    save_image(smooth_image(64, 80, 0), content)
    assert cli.main([str(content), "--model", "starry_night", "--size", "64", "-o", str(tmp_path)]) == 0
    out = tmp_path / "cat_starry_night.png"
    assert capsys.readouterr().out == f"saved {out}\n"
    with Image.open(out) as im:
        assert im.size == (80, 64)
        assert im.text["d2lstyle model"] == "starry_night"
        assert im.text["d2lstyle command"] == f"python -m d2lstyle {content} --model starry_night --size 64 " \
                                              "--max-size 2048"
    assert torch.allclose(load_image(out), fast.stylize(load_image(content)), atol=1 / 255)


def test_preserve_color_luminance_keeps_the_content_colours_with_a_network(tmp_path):
    content = tmp_path / "cat.png"
    save_image(smooth_image(64, 80, 0), content)
    out = tmp_path / "out.png"
    assert cli.main([str(content), "--model", "starry_night", "--preserve-color", "luminance", "--size", "64",
                     "-o", str(out)]) == 0
    chroma = [rgb_to_yiq(load_image(p))[:, 1:] for p in (out, content)]
    assert (chroma[0] - chroma[1]).abs().mean() < 0.01


@pytest.mark.parametrize("argv, message", [
    (["--steps", "5"], "--model paints with a trained network, and --steps belong to the optimisation"),
    (["--style", "x.png", "--style-weight", "3"], "and --style, --style-weight belong to the optimisation"),
    (["--preserve-color", "histogram"], "--preserve-color histogram needs the style image"),
    (["--model", "nope"], "model 'nope': no such trained network"),
])
def test_model_with_options_of_the_optimisation_is_one_error_line(argv, message, capsys):
    assert exit_status(cli.main, ["--model", "starry_night", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_list_models_lists_the_shipped_networks(capsys):
    assert exit_status(cli.main, ["--list-models"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == fast.model_names()


def test_a_network_that_cannot_be_written_is_saved_elsewhere_and_checkpoints_only_warn(photo_folder, tmp_path,
                                                                                       monkeypatch, random_net,
                                                                                       capsys):
    """Issue 25: a full disk must not throw away an hour of training, nor stop it at a checkpoint."""
    monkeypatch.setattr("d2lstyle.features.vgg19", lambda **options: random_net)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    real_write = files.write_whole

    def full_disk(path, *args, **kwargs):
        if path.parent == tmp_path:
            raise OSError(28, "No space left on device")
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(files, "write_whole", full_disk)  # the network's save and the checkpoints'
    assert train(photo_folder, tmp_path / "net", "--steps", "3", "--checkpoint-minutes", "1e-9") == 2
    err = capsys.readouterr().err
    assert err.count("warning: no checkpoint written at step") == 3
    rescued = list((tmp_path / "tmp").glob("d2lstyle-*"))  # (torch may put folders of its own there)
    assert len(rescued) == 1 and f"net.pt: cannot be written (No space left on device): saved the network to " \
        f"{rescued[0]}" in err
    assert fast.load_model(rescued[0]).record["steps"] == 3 and not (tmp_path / "net.pt").exists()


def tiny_model(path, change=None, config=None):
    """A trained network's file of a tiny TransformNet, its state changed by `change`, its config replaced."""
    net = TransformNet(width=4, blocks=1)
    with torch.no_grad():
        (change or (lambda state: None))(net.state_dict())
    saved = torch.load(io.BytesIO(fast.model_bytes(net, {"steps": 1})), weights_only=True)
    torch.save({**saved, "config": config or saved["config"]}, path)
    return path


def test_a_network_with_nan_weights_is_refused_in_one_line_not_painted_black(tmp_path, capsys):
    """Issue 38, defect 10: a NaN network painted an all-black picture, exit status 0."""
    model = tiny_model(tmp_path / "nan.pt", lambda state: state["layers.0.0.1.weight"].fill_(math.nan))
    with pytest.raises(ValueError, match=r"nan.pt holds weights that are NaN or infinite: .*train it again"):
        fast.load_model(model)
    content = tmp_path / "cat.png"
    save_image(smooth_image(40, 48, 0), content)
    assert exit_status(cli.main, [str(content), "--model", str(model), "--size", "40", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NaN or infinite" in err[0] and not (tmp_path / "cat_nan.png").exists()


def test_a_diverging_training_stops_naming_lr_and_saves_no_network(photo_folder, tmp_path, monkeypatch, random_net,
                                                                  capsys):
    """Issue 38, defect 10: `--lr 1e12` saved a network of NaN weights as a success ("final loss nan")."""
    monkeypatch.setattr("d2lstyle.features.vgg19", lambda **options: random_net)
    assert train(photo_folder, tmp_path / "net", "--steps", "4", "--lr", "1e12") == 1
    err = capsys.readouterr().err
    assert "the loss diverged (nan) at step 2" in err and "smaller --lr than 1e+12" in err and "fast: saved" not in err
    assert not (tmp_path / "net.pt").exists()


def test_a_model_file_is_checked_against_its_config_before_the_network_is_built(tmp_path, monkeypatch):
    """Issue 38, defect 17: a 1.3 KB file whose config says width 1200 allocated 9.3 GB before any check."""
    model = tiny_model(tmp_path / "huge.pt", config={"width": 1200, "blocks": 5})
    real = fast.TransformNet

    def built(*args, **kwargs):
        if torch.get_default_device().type != "meta" and kwargs.get("width", args[0] if args else 16) > 100:
            pytest.fail("a network of width 1200 was allocated")
        return real(*args, **kwargs)

    monkeypatch.setattr(fast, "TransformNet", built)
    with pytest.raises(ValueError, match=r"huge.pt: its weights are not those of the network its config describes"):
        fast.load_model(model)


def test_a_network_of_another_shape_is_one_line_not_seventy(tmp_path, capsys):
    """Issue 38, weak case: a network of another shape printed 70 lines of `size mismatch`."""
    model = tiny_model(tmp_path / "other.pt", config={"width": 8, "blocks": 2})
    with pytest.raises(ValueError) as raised:
        fast.load_model(model)
    assert len(str(raised.value).splitlines()) == 1 and "other.pt" in str(raised.value)
    content = tmp_path / "cat.png"
    save_image(smooth_image(40, 48, 0), content)
    assert exit_status(cli.main, [str(content), "--model", str(model), "--size", "40", "-o", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_stylize_refuses_an_image_too_small_for_the_network_naming_content():
    """Issue 38, weak case: `stylize` at 1x1 failed inside torch's padding."""
    with pytest.raises(ValueError, match=r"content=1x1 pixels: give an image of at least 5 pixels a side"):
        fast.stylize(torch.rand(1, 3, 1, 1))
    assert fast.stylize(torch.rand(1, 3, 5, 7)).shape == (1, 3, 5, 7)
