"""The library's arguments are checked before any work, each bad value named with what to give instead."""

import contextlib
import io
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d2lstyle import StyleObjective, cli, fast, transfer
from d2lstyle.checks import OptionError, check_device, devices
from tests.conftest import exit_status


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
    result = transfer(*tiny_pair, net=random_net, steps=1, scales=[1], tol=0, lr=0.5, restart=0)
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


# Property-based (issue 25): every numeric argument, with values generated to break its rule, is refused with one
# error that names it, before any work; never a traceback from deeper down, never a silent result.
NOT_NUMBERS = st.one_of(st.booleans(), st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
BAD_VALUES = {
    "steps": st.one_of(st.integers(max_value=0), st.floats(), NOT_NUMBERS.filter(lambda v: v is not None)),
    "patience": st.one_of(st.integers(max_value=0), st.floats(), st.booleans()),
    "seed": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64), st.floats(), st.text(max_size=2),
                      st.booleans()),
    "tol": st.one_of(st.floats(max_value=-1e-300), NON_FINITE, NOT_NUMBERS),
    "restart": st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(max_size=2)),
    "lr": st.one_of(st.floats(max_value=0), NON_FINITE, st.booleans(), st.text(max_size=2)),
    "scales": st.one_of(st.just([]), st.lists(st.one_of(st.floats(max_value=0), st.floats(min_value=1.0001),
                                                      NON_FINITE), min_size=1, max_size=3)),
    **{f"{part}_weight": st.one_of(st.floats(max_value=-1e-300), NON_FINITE, NOT_NUMBERS)
       for part in ("content", "style", "tv")},
}


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bad_value_of_any_numeric_argument_is_one_error_naming_it(data, tiny_pair):
    name = data.draw(st.sampled_from(sorted(BAD_VALUES)), label="argument")
    value = data.draw(BAD_VALUES[name], label="value")

    def net(img, layers):  # must not run
        raise AssertionError("the network ran")

    net.device = torch.device("cpu")
    with pytest.raises(OptionError) as raised:
        transfer(*tiny_pair, net=net, **{name: value})
    message = str(raised.value)
    assert raised.value.name == name and message.startswith(f"{name}=") and "\n" not in message
    assert ": give " in message  # what to give instead


CLI_NUMBERS = {"--steps": "int", "--seed": "int", "--size": "int", "--checkpoint-every": "int", "--max-size": "int",
               "--tol": "float", "--lr": "float", "--style-scale": "float", "--content-weight": "float",
               "--style-weight": "float", "--tv-weight": "float"}


@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_any_bad_number_on_the_command_line_is_one_line_naming_the_option(data):
    option = data.draw(st.sampled_from(sorted(CLI_NUMBERS)), label="option")
    bad = st.one_of(st.integers(max_value=-1), st.sampled_from(["nan", "-inf", "x", "1e400", "", "--"]))
    if CLI_NUMBERS[option] == "int":  # a fraction, or a number too large for its use (seeds: 2**64 and up)
        bad = st.one_of(bad, st.integers(min_value=2**64),
                        st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != int(v)))
    value = str(data.draw(bad, label="value"))
    if option in ("--steps", "--size", "--max-size", "--checkpoint-every") and value.lstrip("-").isdigit() and \
            int(value) > 0:
        value = "0"  # a large whole number of steps or pixels is allowed by these (up to --max-size for --size)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = exit_status(cli.main, ["missing.png", "--style", "missing.jpg", f"{option}={value}"])
    lines = err.getvalue().strip().splitlines()
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith("d2lstyle: error: ") and (option in lines[0] or "argument" in lines[0]), lines


@pytest.mark.parametrize("argv", [["x.png", "--style=--"], ["x.png", "--scales=--"],
                                  ["fast", "train", "--style", "s", "--photos", "p", "--out", "o", "--steps=--"]])
def test_an_option_whose_value_is_two_dashes_is_one_line_not_a_traceback(argv, capsys):
    """Found by the property test above: Python 3.11's argparse gives such an option the value [], and the run
    went on to fail deep inside (a TypeError or an AttributeError)."""
    main = fast.main if argv[0] == "fast" else cli.main
    assert exit_status(main, argv[1:] if argv[0] == "fast" else argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("expected one value, not '--'"), err


@pytest.mark.parametrize("change, message", [
    (lambda content, style: (content[..., :0, :0], style), r"content_img=\(1, 3, 0, 0\): give an RGB image tensor"),
    (lambda content, style: (content, "data/starry_night.jpg"),
     r"style_img='data/starry_night.jpg': give an RGB image tensor \(1, 3, H, W\), as load_image returns"),
    (lambda content, style: (content, [style, "data/starry_night.jpg"]), "style_img='data/starry_night.jpg'"),
], ids=["empty tensor", "a path as the style", "a path among the styles"])
def test_an_empty_tensor_or_a_path_given_as_an_image_is_one_error_naming_the_argument(change, message, tiny_pair):
    """Issue 38, weak cases: an empty tensor failed inside torch's min(), a path given as the style inside reshape."""
    with pytest.raises(OptionError, match=message):
        transfer(*change(*tiny_pair), steps=1, net=lambda img, layers: pytest.fail("the network ran"))
