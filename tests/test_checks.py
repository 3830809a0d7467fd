"""The library's arguments are checked before any work, each bad value named with what to give instead."""

import math

import pytest
import torch

from d2lstyle import StyleObjective, transfer
from d2lstyle.checks import OptionError, check_device, devices


@pytest.mark.parametrize("options, message", [
    (dict(steps=0), "steps=0: give a whole number of steps, 1 or more"),
    (dict(steps=2.5), "steps=2.5: give a whole number"),
    (dict(scales=[0]), r"scales=\[0\]: give fractions of the size"),
    (dict(scales=[]), r"scales=\[\]: give fractions of the size"),
    (dict(tol=math.nan), "tol=nan: give a fraction, 0 or more"),
    (dict(tol=-0.1), "tol=-0.1: give a fraction"),
    (dict(lr=0), "lr=0: give a positive learning rate"),
    (dict(patience=0), "patience=0: give a whole number"),
    (dict(seed=-1), "seed=-1: give a whole number from 0 to 2\\*\\*64 - 1"),
    (dict(seed=2**64), "seed=18446744073709551616: give a whole number from 0"),
    (dict(style_weight=-1), "style_weight=-1: give a weight, 0 or more"),
    (dict(tv_weight=math.inf), "tv_weight=inf: give a weight"),
    (dict(style_layers=[]), r"style_layers=\[\]: unknown layer \(none given\): choose from conv1_1"),
    (dict(content_layers="relu4_2"), "content_layers='relu4_2': give a list of layer names"),
    (dict(style_layers=["relu1_1", "relu9_9"]), "unknown layer relu9_9: choose from"),
])
def test_transfer_names_the_bad_argument_before_any_pass(options, message, tiny_pair):
    calls = []

    def net(img, layers):  # a feature extractor that must not be called
        calls.append(1)
        raise AssertionError("the network ran")

    net.device = torch.device("cpu")
    with pytest.raises(OptionError, match=message) as raised:
        transfer(*tiny_pair, net=net, **options)
    assert raised.value.name == next(iter(options)) and calls == []


def test_good_values_pass(random_net, tiny_pair):
    objective = StyleObjective(*tiny_pair, net=random_net, content_weight=0, style_layers=("relu1_1",))
    assert objective.style_layers == ["relu1_1"] and objective.weights["content"] == 0
    result = transfer(*tiny_pair, net=random_net, steps=1, scales=[1], tol=0, lr=0.5, restart=math.inf)
    assert result.steps == 1


@pytest.mark.parametrize("change, message", [
    (lambda img: img[0], r"content_img=\(3, 40, 48\): give an RGB image tensor \(1, 3, H, W\)"),
    (lambda img: img[:, :1], r"content_img=\(1, 1, 40, 48\): give an RGB image tensor"),
    (lambda img: (img * 255).to(torch.uint8), "content_img=torch.uint8: give float32 values in"),
    (lambda img: img.double(), "content_img=torch.float64: give float32 values"),
    (lambda img: img * 255, r"content_img=values from \d.* to 2\d\d: give values in \[0, 1\]"),
    (lambda img: img * math.nan, r"content_img=values from nan to nan: give values in \[0, 1\]"),
])
def test_transfer_refuses_what_is_not_an_image(change, message, random_net, tiny_pair):
    content, style = tiny_pair
    with pytest.raises(OptionError, match=message):
        transfer(change(content), style, net=random_net, steps=1)


def test_each_style_of_a_list_is_checked_and_save_image_checks_its_image_too(random_net, tiny_pair, tmp_path):
    from d2lstyle import save_image

    content, style = tiny_pair
    with pytest.raises(OptionError, match=r"style_img=\(2, 3, 36, 44\): give an RGB image tensor"):
        transfer(content, [style, style.expand(2, -1, -1, -1)], net=random_net, steps=1)
    with pytest.raises(OptionError, match=r"img=\(1, 4, 8, 8\): give an RGB image tensor"):
        save_image(torch.rand(1, 4, 8, 8), tmp_path / "rgba.png")
    with pytest.raises(OptionError, match="img=torch.uint8: give float32"):
        save_image(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), tmp_path / "bytes.png")
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert save_image(content * 1.5, tmp_path / "bright.png").exists()  # values over 1 are clamped when saved


@pytest.mark.parametrize("device, message", [
    ("nonsense", "device='nonsense': not a device name: choose from cpu"),
    (3.5, "device=3.5: not a device name"),
    (f"cuda:{torch.cuda.device_count()}", "this machine has no such device: choose from cpu"),
])
def test_a_device_torch_does_not_know_or_this_machine_lacks_is_named_with_those_there_are(device, message):
    with pytest.raises(OptionError, match=message):
        check_device("device", device)


def test_the_devices_this_machine_has_pass():
    for device in [None, "cpu", torch.device("cpu"), *devices()]:
        check_device("device", device)
