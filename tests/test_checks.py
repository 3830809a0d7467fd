"""The library's arguments are checked before any work, each bad value named with what to give instead."""

import math

import pytest
import torch

from d2lstyle import StyleObjective, transfer
from d2lstyle.checks import OptionError


@pytest.mark.parametrize("options, message", [
    (dict(steps=0), "steps=0: give a whole number of steps, 1 or more"),
    (dict(steps=2.5), "steps=2.5: give a whole number"),
    (dict(scales=[0]), r"scales=\[0\]: give fractions of the size"),
    (dict(scales=[]), r"scales=\[\]: give fractions of the size"),
    (dict(tol=math.nan), "tol=nan: give a fraction, 0 or more"),
    (dict(tol=-0.1), "tol=-0.1: give a fraction"),
    (dict(lr=0), "lr=0: give a positive learning rate"),
    (dict(patience=0), "patience=0: give a whole number"),
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
