"""Shared fixtures: tiny images and a small random network keep the unit tests fast; some tests use the real weights."""

import subprocess
import sys

import pytest
import torch

from d2lstyle import caffe_weights_path, vgg19


@pytest.fixture(scope="session")
def random_net():
    """VGG19 with random (seeded) weights on the CPU, in float32: real architecture, no pretrained weights to
    decode, the same digits on every processor."""
    torch.manual_seed(0)
    return vgg19(weights=None, device="cpu", precision="float32")


@pytest.fixture(scope="session")
def real_net():
    """The real weights, set up as a user gets them (precision "auto")."""
    return vgg19(device="cpu")


@pytest.fixture
def damaged_weights(tmp_path):
    """A copy of the real weights file, weights.bin, with one byte flipped: its checksum no longer matches."""
    copy = tmp_path / "weights.bin"
    data = bytearray(caffe_weights_path().read_bytes())
    data[1000] ^= 0xFF
    copy.write_bytes(bytes(data))
    return copy


def smooth_image(height: int, width: int, seed: int) -> torch.Tensor:
    """A random but smooth (1, 3, H, W) image in [0, 1]: noise upsampled from a coarse grid."""
    coarse = torch.rand(1, 3, height // 8 + 1, width // 8 + 1, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)


@pytest.fixture
def tiny_pair():
    return smooth_image(40, 48, seed=1), smooth_image(36, 44, seed=2)


def exit_status(main, argv: list[str]) -> int:
    """The exit status of the command line's `main(argv)`, argparse's own exits (SystemExit) included."""
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


class Net:
    """A feature extractor of the caller's own, not an nn.Module: it counts its calls to `net` and, from the k-th
    call on (`at_call`; in a transfer the targets take the first two), hands the features to `action`."""

    def __init__(self, net, at_call=None, action=None):
        self.net, self.at_call, self.action, self.calls = net, at_call, action, 0
        self.device = net.device

    def __call__(self, img, layers):
        self.calls += 1
        features = self.net(img, layers)
        if self.at_call is not None and self.calls >= self.at_call:
            features = self.action(self.calls, features)
        return features


def dead_pid() -> int:
    """The id of a process that has just ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)
