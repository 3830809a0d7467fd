"""Any style in one pass (notebook 9, d2lstyle/universal.py; the decoders and `stylize_any` in d2lstyle/fast.py,
`--fast` on the command line)."""

import pytest
import torch
from PIL import Image

from d2lstyle import cli, fast, files
from d2lstyle.checks import OptionError
from d2lstyle.controls import mean_cov, rgb_to_yiq
from d2lstyle.images import load_image, psnr, save_image
from d2lstyle.universal import DECODERS, LEVELS, adain, decoder, stylize_levels, wct
from tests.conftest import exit_status, smooth_image


def correlated_features(seed: int, c: int = 6, h: int = 9, w: int = 11) -> torch.Tensor:
    """Features (1, c, h, w) whose channels are correlated and have means far from 0."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(c, c, generator=g)
    return (mix @ torch.randn(c, h * w, generator=g) + 5 * torch.rand(c, 1, generator=g)).reshape(1, c, h, w)


def test_wct_gives_the_content_the_style_mean_and_covariance():
    f_c, f_s = correlated_features(0), correlated_features(1, h=7, w=13)
    (mu, cov), (mu_s, cov_s) = mean_cov(wct(f_c, f_s)), mean_cov(f_s)
    assert torch.allclose(mu, mu_s, atol=1e-4)
    relative = lambda m: ((m - cov_s).norm() / cov_s.norm()).item()  # noqa: E731
    assert relative(cov) < 0.01 < 0.5 < relative(mean_cov(f_c)[1])  # the ridge leaves a little; before: far


def test_adain_gives_each_channel_the_style_mean_and_spread_but_keeps_the_content_correlations():
    f_c, f_s = correlated_features(2), correlated_features(3)
    (mu, cov), (mu_s, cov_s), (_, cov_c) = mean_cov(adain(f_c, f_s)), mean_cov(f_s), mean_cov(f_c)
    assert torch.allclose(mu, mu_s, atol=1e-4) and torch.allclose(cov.diagonal(), cov_s.diagonal(), rtol=1e-4)
    correlation = lambda m: m / torch.outer(m.diagonal().sqrt(), m.diagonal().sqrt())  # noqa: E731
    assert torch.allclose(correlation(cov), correlation(cov_c), atol=1e-5)
    assert not torch.allclose(correlation(cov), correlation(cov_s), atol=0.1)  # unlike wct


@pytest.mark.parametrize("level", LEVELS)
def test_a_decoder_turns_its_level_back_into_a_picture_of_the_photo_size(level, random_net):
    photo = smooth_image(64, 48, 0)
    features = random_net(photo, [level])[level]
    assert features.shape[1] == DECODERS[level][0]
    with torch.no_grad():
        assert decoder(level)(features).shape == photo.shape


def test_stylize_levels_keeps_any_size_and_strength_zero_is_the_decoders_alone(random_net):
    torch.manual_seed(0)
    decoders = {level: decoder(level).eval() for level in LEVELS}
    content, style = smooth_image(37, 45, 1), smooth_image(40, 40, 2)  # sides that are not multiples of 8
    with torch.no_grad():
        painted = stylize_levels(random_net, decoders, content, style, 1.0)
        kept = stylize_levels(random_net, decoders, content, style, 0.0)
        by_hand = torch.nn.functional.pad(content, (0, 3, 0, 3), mode="reflect")  # to 40 x 48
        for level in LEVELS:  # decode what was encoded, layer by layer, with no transform
            by_hand = decoders[level](random_net(by_hand, [level])[level]).clamp(0, 1)
    assert painted.shape == kept.shape == content.shape
    assert torch.allclose(kept, by_hand[..., :37, :45], atol=1e-6)
    assert 0 <= painted.min() and painted.max() <= 1
    assert not torch.allclose(painted, kept, atol=1e-3)


def test_the_shipped_decoders_are_small_float16_and_say_how_they_were_trained():
    for level in LEVELS:
        path = fast.DECODER_FOLDER / f"{level}.pt"
        assert path.stat().st_size <= 8e6
        saved = torch.load(path, weights_only=True)
        assert all(v.dtype == torch.float16 for v in saved["state"].values() if v.is_floating_point())
        record = fast.load_decoders()[level].record
        assert record["command"].startswith("python tools/train_decoders.py --photos PHOTOS --level " + level)
        assert len(record["photos_sha256"]) == 64 and record["steps"] > 1000 and record["sessions"][0]["machine"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(strength=1.5), "strength=1.5: give a strength from 0 (the photo) to 1 (the style)"),
    (dict(strength=float("nan")), "strength=nan"),
    (dict(transform="gram"), "transform='gram': give adain"),
    (dict(style=torch.full((1, 3, 40, 40), 255.0)), "style="),
    (dict(style=torch.rand(1, 3, 20, 40)), "style=20x40 pixels: give an image of at least 32 pixels a side"),
    (dict(content=torch.rand(3, 40, 40)), "content="),
])
def test_stylize_any_names_the_bad_argument(kwargs, message):
    args = {"content": torch.rand(1, 3, 40, 40), "style": torch.rand(1, 3, 40, 40), **kwargs}
    with pytest.raises(OptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fast.stylize_any(**args)


@pytest.mark.parametrize("argv, message", [
    (["--fast", "--steps", "5"], "--fast paints with any style image, in one pass, and --steps belong to the "
                                 "optimisation: drop them, or drop --fast"),
    (["--fast", "--model", "mosaic"], "--model paints with a trained network, --fast with any style image: drop one"),
    (["--strength", "0.5"], "--strength go with --fast: add --fast, or drop them"),
    (["--transform", "wct", "--steps", "3"], "--transform go with --fast"),
    (["--fast", "--strength", "-1"], "--strength -1.0: give a strength from 0 (the photo) to 1 (the style)"),
    (["--fast", "--transform", "gram"], "invalid choice: 'gram'"),
])
def test_fast_with_options_it_does_not_take_is_one_error_line(argv, message, capsys):
    assert exit_status(cli.main, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


@pytest.mark.slow
def test_any_style_moves_the_style_and_keeps_the_photo_with_the_real_weights(real_net):
    """Strength 0 gives back the photo (as well as four decoders can); strength 1 lowers the style loss a lot, and
    adain keeps more of the photo than wct; the picture keeps the photo's size."""
    from d2lstyle import StyleObjective, ssim

    photo = load_image(files.data_file("chelsea.png"), 128)
    style = load_image(files.data_file("starry_night.jpg"), 128)
    objective = StyleObjective(photo, style, net=real_net)
    pictures = {(t, s): fast.stylize_any(photo, style, s, t, net=real_net) for t in ("adain", "wct") for s in (0, 1)}
    assert all(p.shape == photo.shape for p in pictures.values())
    assert psnr(pictures["adain", 0], photo) > 20
    with torch.no_grad():
        style_term = {key: objective.parts(p)["style"].item() for key, p in pictures.items()}
    assert style_term["adain", 1] < 0.5 * style_term["adain", 0] and style_term["wct", 1] < 0.5 * style_term["wct", 0]
    assert ssim(photo, pictures["adain", 1]) > ssim(photo, pictures["wct", 1]) + 0.1


@pytest.mark.slow
def test_fast_paints_records_a_command_that_paints_it_again_and_keeps_colour(tmp_path):
    content, style = tmp_path / "cat.png", tmp_path / "painting.png"
    save_image(smooth_image(64, 80, 0), content)
    save_image(smooth_image(72, 72, 5), style)
    out = tmp_path / "out.png"
    assert cli.main([str(content), "--style", str(style), "--fast", "--strength", "0.8", "--size", "64",
                     "-o", str(out)]) == 0
    command = Image.open(out).text["d2lstyle command"].split()
    assert command[:5] == ["python", "-m", "d2lstyle", str(content), "--style"] and "--fast" in command
    again = tmp_path / "again.png"
    assert cli.main([*command[3:], "-o", str(again)]) == 0
    assert torch.equal(load_image(again), load_image(out))
    kept = tmp_path / "kept.png"
    assert cli.main([str(content), "--style", str(style), "--fast", "--preserve-color", "luminance", "--size", "64",
                     "-o", str(kept)]) == 0
    chroma = [rgb_to_yiq(load_image(p))[:, 1:] for p in (kept, content, out)]
    assert (chroma[0] - chroma[1]).abs().mean() < 0.01 < (chroma[2] - chroma[1]).abs().mean()
