import hashlib
import urllib.error

import pytest
import torch

from d2lstyle import caffe_state_dict, vgg19
from d2lstyle.features import LAYERS, MIN_SIDE

# sha256 of the decoded weights (every tensor of the state dict, float32, in LAYERS order): changes if decoding does
DECODED_SHA256 = "0f7b5cfccc0260344e463aa697e3cf3f7c8b0b4e6d20abdad2ad54050985a5fc"


def test_layer_names_follow_the_literature():
    assert len(LAYERS) == 16 * 2 + 5
    assert LAYERS[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert LAYERS[-1] == "pool5" and "conv4_2" in LAYERS and "relu5_4" in LAYERS


def test_shapes_of_requested_layers(random_net):
    features = random_net(torch.rand(1, 3, 64, 96), ["relu1_1", "conv3_2", "relu5_1", "pool5"])
    assert list(features) == ["relu1_1", "conv3_2", "relu5_1", "pool5"]
    assert features["relu1_1"].shape == (1, 64, 64, 96)
    assert features["conv3_2"].shape == (1, 256, 16, 24)
    assert features["relu5_1"].shape == (1, 512, 4, 6)
    assert features["pool5"].shape == (1, 512, 2, 3)


def test_network_is_frozen(random_net):
    assert not random_net.training
    assert all(not p.requires_grad for p in random_net.parameters())
    img = torch.rand(1, 3, 32, 32, requires_grad=True)
    random_net(img, ["relu2_1"])["relu2_1"].sum().backward()
    assert img.grad is not None and all(p.grad is None for p in random_net.parameters())


def test_runs_only_up_to_the_deepest_requested_layer(random_net):
    ran = []
    hooks = [m.register_forward_hook(lambda m, i, o, name=n: ran.append(name))
             for n, m in random_net.layers.named_children()]
    try:
        random_net(torch.rand(1, 3, 32, 32), ["relu2_1", "conv1_1"])
    finally:
        for h in hooks:
            h.remove()
    assert ran == LAYERS[: LAYERS.index("relu2_1") + 1]


def test_unknown_layer_and_too_small_image_are_refused(random_net):
    with pytest.raises(ValueError, match="unknown layer conv9_9: choose from conv1_1"):
        random_net(torch.rand(1, 3, 32, 32), ["conv9_9"])
    with pytest.raises(ValueError, match=f"needs {MIN_SIDE} or more"):
        random_net(torch.rand(1, 3, 31, 64), ["relu1_1"])


def test_caffe_input_convention(real_net):
    pixel = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1)  # R, G, B
    x = real_net.normalize(pixel).flatten().tolist()
    assert x == pytest.approx([0 - 103.939, 127.5 - 116.779, 255 - 123.68], abs=1e-3)  # B, G, R minus the mean


def test_decoded_weights_checksum():
    state = caffe_state_dict()
    assert list(state)[:2] == ["conv1_1.weight", "conv1_1.bias"] and len(state) == 32
    digest = hashlib.sha256()
    for tensor in state.values():
        digest.update(tensor.float().contiguous().numpy().tobytes())
    assert digest.hexdigest() == DECODED_SHA256


def test_a_corrupted_weights_file_is_named(damaged_weights):
    with pytest.raises(RuntimeError, match="weights.bin: checksum mismatch"):
        caffe_state_dict(damaged_weights)


def test_torchvision_weights_offline_name_the_default(monkeypatch):
    import torchvision.models._api as api

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    with pytest.raises(RuntimeError, match="use weights='caffe', the default, which works offline"):
        vgg19(weights="torchvision")


def test_torchvision_weights_are_mapped_to_our_layer_names(monkeypatch):
    import torchvision
    import torchvision.models._api as api

    torch.manual_seed(0)
    reference = torchvision.models.vgg19(weights=None)  # same keys as the download, random values
    monkeypatch.setattr(api, "load_state_dict_from_url", lambda *args, **kwargs: reference.state_dict())
    net = vgg19(weights="torchvision", device="cpu", precision="float32")
    assert torch.equal(net.layers.conv1_1.weight, reference.features[0].weight)
    assert torch.equal(net.layers.conv5_4.bias, reference.features[34].bias)
    img = torch.rand(1, 3, 32, 32)
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    normalized = (img - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)  # torchvision's RGB convention
    assert torch.allclose(net(img, ["relu3_1"])["relu3_1"], reference.features[:12](normalized), atol=1e-5)


def test_unknown_weights_are_refused():
    with pytest.raises(ValueError, match="unknown weights 'imagenet'"):
        vgg19(weights="imagenet")
