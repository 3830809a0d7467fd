"""The controls of notebook 7: each test checks the property that defines a control."""

import pytest
import torch
from PIL import Image

from d2lstyle import StyleObjective, gram, save_image, synthesize, vgg19
from d2lstyle.controls import (
    ControlledObjective,
    check_size,
    controlled_transfer,
    layer_mask,
    luminance,
    mask_from_image,
    match_luminance,
    mean_cov,
    rgb_to_yiq,
    scale_style,
    weighted_gram,
    with_chroma,
    yiq_to_rgb,
)
from d2lstyle.images import color_stats, match_colors
from tests.conftest import smooth_image


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return (((a - b) ** 2).mean() / (b**2).mean()).item()


def chroma(img: torch.Tensor) -> torch.Tensor:
    return rgb_to_yiq(img)[:, 1:]


# --- colour


def test_yiq_round_trip_and_grey_has_no_chroma():
    img = smooth_image(16, 16, seed=3)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(img)), img, atol=1e-5)
    grey = luminance(img)
    assert grey.shape == img.shape and chroma(grey).abs().max() < 1e-5


def test_with_chroma_takes_luminance_from_one_image_and_colour_from_the_other():
    content = 0.25 + 0.5 * smooth_image(16, 16, seed=1)  # well inside the RGB cube: nothing is clipped
    shade = 0.4 + 0.2 * smooth_image(16, 16, seed=2)
    mixed = with_chroma(shade, content)
    assert torch.allclose(chroma(mixed), chroma(content), atol=1e-5)
    assert torch.allclose(rgb_to_yiq(mixed)[:, :1], rgb_to_yiq(shade)[:, :1], atol=1e-5)


def test_match_luminance_gives_the_contents_mean_and_spread():
    content, style = 0.2 + 0.6 * smooth_image(32, 32, seed=1), 0.1 + 0.3 * smooth_image(24, 40, seed=2)
    y = match_luminance(style, content)[:, 0]
    target = luminance(content)[:, 0]
    assert y.mean().item() == pytest.approx(target.mean().item(), abs=1e-3)
    assert y.std().item() == pytest.approx(target.std().item(), rel=1e-2)


def test_histogram_matching_gives_the_contents_mean_and_covariance():
    content = 0.3 + 0.4 * smooth_image(40, 48, seed=1)
    style = 0.1 + 0.3 * smooth_image(36, 44, seed=2)[:, [2, 0, 1]]
    mu_c, cov_c = color_stats(content)
    mu_m, cov_m = color_stats(match_colors(style, content))
    mu_s, cov_s = color_stats(style)
    assert (mu_m - mu_c).abs().max() < 2e-3 < (mu_s - mu_c).abs().max()
    assert (cov_m - cov_c).abs().max() < 0.05 * cov_c.abs().max() < (cov_s - cov_c).abs().max()


def test_luminance_only_transfer_keeps_the_contents_chroma(random_net):
    content, style = 0.25 + 0.5 * smooth_image(40, 48, seed=1), smooth_image(36, 44, seed=2)
    result = controlled_transfer(content, style, preserve_color="luminance", net=random_net, steps=5).image
    assert (chroma(result) - chroma(content)).abs().mean() < 0.01
    assert (luminance(result) - luminance(content)).abs().max() > 0.01  # and it did change the picture


# --- several styles, layers, statistics


def test_blend_weight_one_is_exactly_the_single_style(random_net, tiny_pair):
    content, style = tiny_pair
    other = smooth_image(40, 40, seed=3)
    img = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    single = StyleObjective(content, style, net=random_net).parts(img)
    default = ControlledObjective(content, style, net=random_net).parts(img)
    for weights, styles in (([1, 0], [style, other]), ([0, 5], [other, style])):
        blended = ControlledObjective(content, styles, net=random_net, style_blend=weights).parts(img)
        assert all(torch.equal(single[k], blended[k]) and torch.equal(single[k], default[k]) for k in single)


def test_blend_targets_are_the_weighted_mix_of_gram_matrices(random_net, tiny_pair):
    content, a = tiny_pair
    b = smooth_image(40, 40, seed=3)
    objective = ControlledObjective(content, [a, b], net=random_net, style_blend=[1, 3])
    (targets, _, _), = objective.regions
    fa, fb = random_net(a, ["relu2_1"])["relu2_1"], random_net(b, ["relu2_1"])["relu2_1"]
    assert torch.allclose(targets["relu2_1"][0], 0.25 * gram(fa) + 0.75 * gram(fb), rtol=1e-5, atol=1e-7)


def test_style_layer_weights_scale_each_layers_term(random_net, tiny_pair):
    content, style = tiny_pair
    img = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    layers = ["relu1_1", "relu3_1"]
    weighted = ControlledObjective(content, style, net=random_net, style_layers=layers, style_layer_weights=[3, 0])
    alone = StyleObjective(content, style, net=random_net, style_layers=layers[:1])
    assert weighted.parts(img)["style"].item() == pytest.approx(3 * alone.parts(img)["style"].item(), rel=1e-5)


def test_weighted_statistics_are_the_statistics_of_the_region():
    X = torch.randn(1, 5, 6, 7, generator=torch.Generator().manual_seed(0))
    w = torch.zeros(1, 1, 6, 7)
    w[..., 2:5, 1:4] = 1
    region = X[..., 2:5, 1:4]
    assert torch.allclose(weighted_gram(X, w)[0], gram(region), atol=1e-6)
    assert torch.allclose(weighted_gram(X, torch.ones(1, 1, 6, 7))[0], gram(X), atol=1e-6)
    mu, cov = mean_cov(X, w)
    flat = region.reshape(5, -1)
    assert torch.allclose(mu, flat.mean(dim=1), atol=1e-6)
    assert torch.allclose(cov, torch.cov(flat, correction=0), atol=1e-5)


def test_meancov_statistic_is_zero_at_the_target_only(random_net):
    content, style = smooth_image(40, 48, seed=1), smooth_image(40, 48, seed=2)
    objective = ControlledObjective(content, style, net=random_net, statistic="meancov")
    assert objective.parts(style)["style"].item() < 1e-9
    assert objective.parts(content)["style"].item() > 1e-3


# --- masks


@pytest.mark.parametrize("channels_last", [False, True])
def test_the_weighted_gram_matrix_has_the_gradient_of_its_formula(channels_last):
    X = torch.randn(1, 5, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    if channels_last:
        X = X.contiguous(memory_format=torch.channels_last)
    w = torch.rand(1, 1, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    w[..., :2, :] = 0  # outside the region
    X.requires_grad_(True)
    target = torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ((weighted_gram(X, w)[0] - target) ** 2).sum().backward()
    ours, X.grad = X.grad, None
    flat, weights = X.reshape(5, -1), w.reshape(1, -1)
    formula = (flat * weights) @ flat.T / (5 * weights.sum())  # sum_p w_p x_p x_p^T / (c sum_p w_p), by autograd
    ((formula - target) ** 2).sum().backward()
    assert torch.allclose(ours, X.grad, atol=1e-12)


def test_mask_from_image_reads_grey_levels_as_styles():
    grey = torch.tensor([0.0, 0.5, 1.0, 0.45]).reshape(1, 1, 1, 4).expand(1, 3, 1, 4)
    masks = mask_from_image(grey, n_styles=2)
    assert masks.shape == (1, 2, 1, 4)
    assert masks[0, 0, 0].tolist() == [0, 1, 0, 1] and masks[0, 1, 0].tolist() == [0, 0, 1, 0]


def test_layer_mask_is_each_features_share_of_the_region():
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :, :3] = 1
    assert layer_mask(mask, (4, 4))[0, 0, 0].tolist() == [1.0, 0.5, 0.0, 0.0]


def test_each_masked_region_takes_its_own_styles_statistics(random_net):
    content = smooth_image(40, 64, seed=1)
    smooth, noisy = smooth_image(40, 40, seed=2), torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(5))
    masks = torch.zeros(1, 2, 40, 64)
    masks[:, 0, :, :32], masks[:, 1, :, 32:] = 1, 1
    objective = ControlledObjective(content, [smooth, noisy], net=random_net, masks=masks, content_weight=0)
    result = synthesize(objective.parts, content, steps=15).image
    layer = "relu2_1"
    feature = random_net(result, [layer])[layer]
    targets = [gram(random_net(s, [layer])[layer]) for s in (smooth, noisy)]
    for k in range(2):
        G = weighted_gram(feature, layer_mask(masks[:, k:k + 1], feature.shape[-2:]))[0]
        own, other = relative_error(G, targets[k]), relative_error(G, targets[1 - k])
        assert own < 0.2 * other


def test_no_mask_no_style_loss(random_net, tiny_pair):
    content, style = tiny_pair
    objective = ControlledObjective(content, style, net=random_net, masks=torch.zeros(1, 1, 8, 8))
    assert objective.parts(content)["style"].item() == 0


# --- images, size, reproducibility


def test_style_scale_sets_the_styles_shorter_side():
    content, style = torch.rand(1, 3, 100, 150), torch.rand(1, 3, 300, 200)
    assert scale_style(style, content, 0.5).shape[-2:] == (75, 50)
    assert scale_style(style, content, 2.0).shape[-2:] == (300, 200)


def test_same_seed_same_bits_other_seed_other_bits(random_net, tiny_pair):
    content, style = tiny_pair
    runs = [controlled_transfer(content, [style, style.flip(-1)], style_blend=[1, 1], init="noise", seed=s,
                                net=random_net, steps=3).image for s in (4, 4, 5)]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])


def test_save_image_writes_png_text_chunks(tmp_path):
    img = smooth_image(8, 8, seed=1)
    path = save_image(img, tmp_path / "x.png", metadata={"seed": "7", "command": "python -m d2lstyle --seed 7"})
    with Image.open(path) as im:
        assert im.text == {"seed": "7", "command": "python -m d2lstyle --seed 7"}
    with pytest.raises(ValueError, match="only PNG files can hold the metadata"):
        save_image(img, tmp_path / "x.jpg", metadata={"seed": "7"})
    assert not (tmp_path / "x.jpg").exists()


@pytest.mark.parametrize(("options", "message"), [
    (dict(style_blend=[1]), "1 blend weights for 2 style images"),
    (dict(style_blend=[1, -1]), "use finite weights >= 0"),
    (dict(style_layer_weights=[1, 2]), "2 style layer weights for 5 style layers"),
    (dict(style_blend=[1, float("nan")]), "use finite weights >= 0"),  # issue 38, defect 15
    (dict(style_blend=[1, float("inf")]), "use finite weights >= 0"),
    (dict(style_layer_weights=[1, 1, -1, 1, 1]), "use finite weights >= 0"),
    (dict(style_layer_weights=[1, float("nan"), 1, 1, 1]), "use finite weights >= 0"),
    (dict(style_layer_weights=[1, 1, 1, 1, float("inf")]), "use finite weights >= 0"),
    (dict(statistic="median"), "unknown statistic 'median'"),
    (dict(masks=torch.ones(1, 3, 8, 8)), "for 2 style images"),
    (dict(masks=torch.ones(1, 2, 8, 8), style_blend=[1, 1]), "do not go together"),
    (dict(masks=torch.full((1, 2, 8, 8), 255.0)), r"masks from 255 to 255: use values in \[0, 1\]"),
    (dict(masks=-torch.ones(1, 2, 8, 8)), r"masks from -1 to -1: use values in \[0, 1\]"),
    (dict(masks=torch.full((1, 2, 8, 8), float("nan"))), r"use values in \[0, 1\]"),
])
def test_bad_objective_options_say_what_to_fix(random_net, tiny_pair, options, message):
    content, style = tiny_pair
    with pytest.raises(ValueError, match=message):
        ControlledObjective(content, [style, style], net=random_net, **options)


def test_bad_image_options_say_what_to_fix(random_net, tiny_pair):
    content, style = tiny_pair
    with pytest.raises(ValueError, match="over the limit of 32 on its longer side"):
        check_size(content, 32)
    with pytest.raises(ValueError, match="unknown preserve_color 'sepia'"):
        controlled_transfer(content, style, preserve_color="sepia", net=random_net, steps=1)
    with pytest.raises(ValueError, match="style_scale=0: give a positive factor"):
        controlled_transfer(content, style, style_scale=0, net=random_net, steps=1)



def test_a_style_made_too_large_by_style_scale_or_a_bad_scale_is_refused_before_any_work(random_net, tiny_pair):
    """Issue 38, defect 17 and a weak case: max_size bounds the styles as style_scale resizes them, and style_scale=nan
    is one error naming the argument (it was a torch error about converting NaN to an integer)."""
    content, style = tiny_pair
    with pytest.raises(ValueError, match="over the limit of 64 on its longer side"):
        controlled_transfer(content, style, style_scale=60, max_size=64, net=random_net, steps=1)
    for bad in (float("nan"), float("inf"), -1):
        with pytest.raises(ValueError, match="style_scale="):
            controlled_transfer(content, style, style_scale=bad, net=random_net, steps=1)


def test_vgg19_names_a_device_it_does_not_know():
    with pytest.raises(ValueError, match="device='nonsense'"):
        vgg19(device="nonsense")
