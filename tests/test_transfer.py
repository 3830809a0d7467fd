import copy
import math
from types import SimpleNamespace

import pytest
import torch

import d2lstyle.synthesis as synthesis
from d2lstyle import (
    StyleObjective,
    bfloat16_is_fast,
    lecture_recipe,
    load_image,
    pass_flops,
    synthesize,
    transfer,
    vgg19,
)
from d2lstyle.batch import DEFAULT_CONTENT, DEFAULT_STYLE
from d2lstyle.images import color_stats, match_colors
from d2lstyle.synthesis import converged, pyramid_sizes, stalled, start_image, stop_rule
from tests.conftest import Net, smooth_image


def test_objective_parts_sum_to_the_total(random_net, tiny_pair):
    content, style = tiny_pair
    objective = StyleObjective(content, style, net=random_net)
    img = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    parts = objective.parts(img)
    assert list(parts) == ["content", "style", "tv"]
    assert objective(img).item() == pytest.approx(sum(p.item() for p in parts.values()), rel=1e-6)
    assert objective.parts(content)["content"].item() == 0


def test_weights_scale_their_part(random_net, tiny_pair):
    content, style = tiny_pair
    img = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    base = StyleObjective(content, style, net=random_net).parts(img)
    heavy = StyleObjective(content, style, net=random_net, style_weight=20.0, tv_weight=0.0).parts(img)
    assert heavy["style"].item() == pytest.approx(10 * base["style"].item(), rel=1e-5)
    assert heavy["tv"].item() == 0 and heavy["content"].item() == pytest.approx(base["content"].item())


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("init", ["colors", "content", "noise"])
def test_transfer_lowers_the_objective(random_net, tiny_pair, optimizer, init):
    content, style = tiny_pair
    objective = StyleObjective(content, style, net=random_net)
    start = start_image(init, content, style, seed=0)
    result = transfer(content, style, steps=15, optimizer=optimizer, init=init, net=random_net).image
    assert result.shape == content.shape and 0 <= result.min() and result.max() <= 1
    assert objective(result) < 0.9 * objective(start)


def test_the_default_start_is_the_content_in_the_styles_colours(random_net, tiny_pair):
    content, style = tiny_pair
    objective = StyleObjective(content, style, net=random_net)
    first = []
    transfer(content, style, steps=1, net=random_net,
             callback=lambda step, img, losses: first.append(losses["total"]))
    recoloured = match_colors(content, style)
    assert first[0] == pytest.approx(objective(recoloured).item(), rel=1e-5)
    assert abs(first[0] - objective(content).item()) > 1e-3 * first[0]  # not the content's own colours
    (mu_s, cov_s), (mu_r, cov_r) = color_stats(style), color_stats(recoloured)
    assert (mu_r - mu_s).abs().max() < 0.01 and (cov_r - cov_s).abs().max() < 0.05 * cov_s.abs().max()


def test_the_colours_of_several_styles_are_pooled():
    content = 0.2 + 0.6 * smooth_image(24, 28, seed=1)
    red, blue = 0.1 + 0.2 * smooth_image(20, 20, seed=2), 0.1 + 0.2 * smooth_image(20, 20, seed=3)
    red[:, 0] += 0.3
    blue[:, 2] += 0.3
    one = start_image("colors", content, red, seed=0)
    assert torch.allclose(start_image("colors", content, [red, red.flip(-1)], seed=0), one, atol=1e-6)
    both = start_image("colors", content, [red, blue], seed=0)
    expected = (color_stats(red)[0] + color_stats(blue)[0]) / 2
    assert (color_stats(both)[0] - expected).abs().max() < 0.01 < (color_stats(one)[0] - expected).abs().max()


def test_grey_images_give_a_grey_start():
    grey_content = smooth_image(24, 28, seed=1)[:, :1].expand(1, 3, 24, 28)
    grey_style = (0.2 + 0.5 * smooth_image(20, 30, seed=2))[:, :1].expand(1, 3, 20, 30)
    start = start_image("colors", grey_content, grey_style, seed=0)
    assert (start - start[:, :1]).abs().max() < 1e-5
    assert start.mean().item() == pytest.approx(grey_style.mean().item(), abs=0.01)


def test_same_seed_same_result_other_seed_other_result(random_net, tiny_pair):
    content, style = tiny_pair
    runs = [transfer(content, style, steps=3, init="noise", seed=s, net=random_net).image for s in (0, 0, 1)]
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_callback_sees_every_step_with_named_losses(random_net, tiny_pair):
    seen = []
    transfer(*tiny_pair, steps=4, net=random_net, callback=lambda step, img, losses: seen.append((step, losses)))
    assert [step for step, _ in seen] == [1, 2, 3, 4]
    assert set(seen[0][1]) == {"content", "style", "tv", "total"}


def test_synthesize_returns_the_best_image_and_stops_on_nan():
    target = torch.full((1, 3, 4, 4), 0.25)
    calls = []

    def loss(img):
        calls.append(1)
        value = ((img - target) ** 2).mean()
        return value * float("nan") if len(calls) > 5 else value

    stopped = synthesize(loss, torch.zeros(1, 3, 4, 4), steps=20, optimizer="adam", lr=0.05)
    assert (stopped.stopped_by, stopped.steps) == ("nonfinite", 6) and math.isfinite(stopped.loss)
    result = stopped.image
    assert len(calls) == 6
    assert torch.isfinite(result).all() and ((result - target) ** 2).mean() < ((0 - target) ** 2).mean()


def test_unknown_optimizer_and_init_are_refused(random_net, tiny_pair):
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        transfer(*tiny_pair, steps=1, optimizer="sgd", net=random_net)
    with pytest.raises(ValueError, match="unknown init 'style': use one of colors, content, noise or an image tensor"):
        transfer(*tiny_pair, steps=1, init="style", net=random_net)


@pytest.mark.slow  # real weights at full size: about 2 minutes on an AVX2-only CPU
def test_end_to_end_with_the_real_weights_and_images(real_net):
    content = load_image(DEFAULT_CONTENT, size=64)
    style = load_image(DEFAULT_STYLE, size=64)
    objective = StyleObjective(content, style, net=real_net)
    result = transfer(content, style, steps=40, net=real_net).image  # 20 steps are mid-way: content not yet settled
    before, after = objective.parts(content), objective.parts(result)
    assert objective(result) < objective(content) / 3
    assert after["style"] < before["style"] / 3  # it took on the style ...
    stretched_style = load_image(DEFAULT_STYLE, size=tuple(content.shape[-2:]))
    assert after["content"] < objective.parts(stretched_style)["content"] / 2  # ... and kept the content


def quadratic(target):
    return lambda img: ((img - target) ** 2).mean()


def test_converged_compares_the_loss_patience_steps_ago():
    assert not converged([10, 9, 8.99], tol=0.01, patience=2)  # fell by 10 % over two steps
    assert converged([10, 9, 8.99, 8.985], tol=0.01, patience=2)  # 0.1 % over the last two
    assert not converged([10, 10, 10], tol=0, patience=1)  # tol=0: never
    assert not converged([10], tol=0.5, patience=1)  # too short to tell


def test_synthesize_stops_once_the_loss_stalls():
    target, calls = torch.full((1, 3, 8, 8), 0.3), []

    def loss(img):
        calls.append(1)
        return quadratic(target)(img)

    result = synthesize(loss, torch.zeros(1, 3, 8, 8), steps=200, stop=stop_rule(tol=1e-3, patience=5))
    assert 5 < len(calls) < 200 and (result.stopped_by, result.steps) == ("tol", len(calls))
    assert len(result.history) == result.steps and result.history == sorted(result.history, reverse=True)


def test_synthesize_stops_when_its_rule_names_a_reason():
    seen = []
    result = synthesize(quadratic(torch.full((1, 3, 8, 8), 0.3)), torch.zeros(1, 3, 8, 8), steps=50,
                        stop=lambda history: seen.append(list(history)) or ("enough" if len(history) == 7 else None))
    assert (result.stopped_by, result.steps) == ("enough", 7) and seen[-1] == result.history
    assert [len(h) for h in seen] == list(range(1, 8))  # called after every step with the best losses so far


def bounded_quadratic():
    """A loss whose minimum lies outside [0, 1] for about a third of the pixels, with curvatures from 1 to 100:
    the clamp matters, and L-BFGS needs its memory. Over [0, 1] its minimum is at target.clamp(0, 1)."""
    shape = (1, 3, 16, 16)
    target = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.3
    curvature = torch.logspace(0, 2, target.numel()).reshape(shape)
    return lambda img: 0.5 * (curvature * (img - target) ** 2).sum(), target.clamp(0, 1)


def test_stalled_means_no_new_best_for_patience_steps():
    assert stalled([5, 4, 4, 4], patience=2) and not stalled([5, 4, 4, 3.9], patience=2)
    assert not stalled([5, 5], patience=2)  # too short to tell


def test_a_restart_goes_on_from_the_best_image_with_a_fresh_optimizer():
    """Issue 38: one loop, one step counter. Up to its first restart the run is plain L-BFGS; after it, the same
    as a fresh `synthesize` from the best image so far (the second segment is shorter than a stall: no restart)."""
    loss, _ = bounded_quadratic()
    start = torch.full((1, 3, 16, 16), 0.5)
    first = synthesize(loss, start, steps=100, stop=lambda history: "pause" if stalled(history, 10) else None)
    assert first.stopped_by == "pause" and first.steps < 90  # this bowl does stall plain L-BFGS
    second = synthesize(loss, first.image, steps=8)
    steps, calls = first.steps + 8, []
    result = synthesize(loss, start, steps=steps, stop=stop_rule(restart=10),
                        callback=lambda step, *_: calls.append(step))
    assert torch.equal(result.image, second.image) and result.loss == second.loss
    assert calls == list(range(1, steps + 1)) and result.steps == steps == len(result.history)
    assert result.history == first.history + [min(first.loss, h) for h in second.history]
    assert result.stopped_by == "steps"


def test_restarts_let_lbfgs_get_closer_to_a_bounded_minimum():
    loss, argmin = bounded_quadratic()
    optimum, start = loss(argmin).item(), torch.full((1, 3, 16, 16), 0.5)
    plain = synthesize(loss, start, steps=100).loss
    restarted = synthesize(loss, start, steps=100, stop=stop_rule(restart=10)).loss
    assert plain > 1.5 * optimum  # measured: 174.7 against 101.7
    assert restarted < plain - 0.2 * (plain - optimum)  # measured: 156.5
    never = synthesize(loss, start, steps=100, stop=stop_rule(restart=0))
    assert never.loss == plain and never.stopped_by == "steps"


def test_transfer_passes_restart_on(random_net):
    loss, _ = bounded_quadratic()
    start = torch.full((1, 3, 16, 16), 0.5)

    def run(**options):  # transfer with the quadratic as its objective, from `start`
        return transfer(start, start, steps=100, tol=0, init="content", net=random_net,
                        objective=lambda content, style, **_: SimpleNamespace(parts=loss), **options).image

    plain, restarted = run(restart=0), run()
    assert torch.equal(plain, synthesize(loss, start, steps=100).image)
    assert torch.equal(restarted, synthesize(loss, start, steps=100, stop=stop_rule(restart=10)).image)
    adam = dict(optimizer="adam", lr=0.01)  # restarts are L-BFGS's: transfer runs Adam as plain synthesize does
    assert torch.equal(run(**adam), synthesize(loss, start, steps=100, **adam).image)
    assert loss(restarted) < loss(plain)  # as in the test above: 156.5 against 174.7


def interrupt_at(k, seen):
    """A callback that records each step and presses Ctrl-C at step k."""
    def callback(step, img, losses):
        seen.append(step)
        if step == k:
            raise KeyboardInterrupt
    return callback


def test_ctrl_c_returns_the_best_image_so_far():
    target = torch.full((1, 3, 8, 8), 0.3)
    seen = []
    interrupt = interrupt_at(3, seen)
    stopped = synthesize(quadratic(target), torch.zeros(1, 3, 8, 8), steps=50, optimizer="adam", lr=0.01,
                         callback=interrupt)
    assert (stopped.stopped_by, stopped.steps) == ("interrupt", 3)
    result = stopped.image
    assert seen == [1, 2, 3]
    assert quadratic(target)(result) < quadratic(target)(torch.zeros(1, 3, 8, 8))


def test_transfer_works_at_full_size_only_by_default(random_net):
    seen = []
    transfer(smooth_image(256, 256, seed=1), smooth_image(256, 256, seed=2), steps=2, tol=0, net=random_net,
             callback=lambda step, img, losses: seen.append(tuple(img.shape[-2:])))
    assert seen == [(256, 256), (256, 256)]


def test_pyramid_sizes_halve_and_skip_levels_that_are_too_small():
    assert pyramid_sizes(300, 450, (0.5, 1)) == [(150, 225), (300, 450)]
    assert pyramid_sizes(300, 450, (1, 0.125, 0.5)) == [(150, 225), (300, 450)]  # 38 px: too small for relu5_1
    assert pyramid_sizes(100, 150, (0.5, 1)) == [(100, 150)]
    assert pyramid_sizes(200, 300, (1,)) == [(200, 300)]


def test_transfer_goes_coarse_to_fine_numbering_steps_across_levels(random_net, monkeypatch):
    monkeypatch.setattr(synthesis, "COARSE_MIN_SIDE", 32)
    content, style = smooth_image(64, 80, seed=1), smooth_image(72, 96, seed=2)
    built, seen = [], []

    def objective(content_img, style_img, **options):
        built.append((tuple(content_img.shape[-2:]), tuple(style_img.shape[-2:])))
        return StyleObjective(content_img, style_img, **options)

    result = transfer(content, style, steps=3, tol=0, scales=(0.5, 1), net=random_net, objective=objective,
                      callback=lambda step, img, losses: seen.append((step, tuple(img.shape[-2:]))))
    assert (result.steps, result.stopped_by) == (6, "steps")  # the steps of both levels
    result = result.image
    assert built == [((32, 40), (36, 48)), ((64, 80), (72, 96))]  # the style shrinks by the same factor
    assert seen == [(1, (32, 40)), (2, (32, 40)), (3, (32, 40)), (4, (64, 80)), (5, (64, 80)), (6, (64, 80))]
    assert result.shape == content.shape


def test_transfer_resizes_each_style_of_a_list(random_net, monkeypatch):
    monkeypatch.setattr(synthesis, "COARSE_MIN_SIDE", 32)
    styles = [smooth_image(80, 80, seed=2), smooth_image(64, 96, seed=3)]
    sizes = []

    def objective(content_img, style_imgs, **options):
        sizes.append([tuple(s.shape[-2:]) for s in style_imgs])
        return StyleObjective(content_img, style_imgs[0], **options)

    transfer(smooth_image(64, 64, seed=1), styles, steps=1, scales=(0.5, 1), net=random_net, objective=objective)
    assert sizes == [[(40, 40), (32, 48)], [(80, 80), (64, 96)]]


def test_an_interrupted_pyramid_stops_and_still_returns_a_full_size_image(random_net, monkeypatch):
    monkeypatch.setattr(synthesis, "COARSE_MIN_SIDE", 32)
    content, style = smooth_image(64, 80, seed=1), smooth_image(64, 80, seed=2)
    seen = []
    interrupt = interrupt_at(2, seen)
    result = transfer(content, style, steps=5, tol=0, scales=(0.5, 1), net=random_net, callback=interrupt)
    assert (result.stopped_by, result.steps) == ("interrupt", 2)
    assert seen == [1, 2] and result.image.shape == content.shape


def test_transfer_continues_from_an_image_at_full_size(random_net, monkeypatch):
    monkeypatch.setattr(synthesis, "COARSE_MIN_SIDE", 32)
    content, style = smooth_image(64, 80, seed=1), smooth_image(64, 80, seed=2)
    start = smooth_image(64, 80, seed=3)
    seen = []
    transfer(content, style, steps=2, tol=0, init=start, net=random_net,
             callback=lambda step, img, losses: seen.append(tuple(img.shape[-2:])))
    assert seen == [(64, 80), (64, 80)]


def test_lecture_recipe_lowers_the_loss_with_one_pass_per_step():
    target, calls = torch.full((1, 3, 8, 8), 0.3), []

    def loss(img):
        calls.append(1)
        return quadratic(target)(img)

    steps = []
    result = lecture_recipe(loss, torch.zeros(1, 3, 8, 8), steps=60, callback=lambda s, img, losses: steps.append(s))
    assert len(calls) == 60 and steps == list(range(1, 61))
    assert quadratic(target)(result) < 0.01 * quadratic(target)(torch.zeros(1, 3, 8, 8))


def test_pass_flops_counts_each_convolution(random_net):
    img = torch.zeros(1, 3, 32, 48)
    conv1_1 = 32 * 48 * 3 * 64 * 9
    conv1_2 = 32 * 48 * 64 * 64 * 9
    assert pass_flops(random_net, img, ["relu1_1"]) == 4 * conv1_1
    assert pass_flops(random_net, img, ["relu1_2"]) == 4 * (conv1_1 + conv1_2)
    assert pass_flops(random_net, torch.zeros(1, 3, 64, 96), ["relu1_1"]) == 4 * 4 * conv1_1  # pixels x 4


def with_settings(net, dtype, memory_format):
    """A copy of `net` with the same weights, its layers in `dtype` and stored in `memory_format`."""
    new = copy.deepcopy(net).to(memory_format=memory_format)
    new.dtype, new.memory_format = dtype, memory_format
    return new


def test_bfloat16_features_are_float32_and_close_to_the_float32_ones(random_net, tiny_pair):
    content, _ = tiny_pair
    layers = ["relu1_1", "relu3_1", "relu5_1"]
    half_net = with_settings(random_net, torch.bfloat16, random_net.memory_format)
    exact, half = random_net(content, layers), half_net(content, layers)
    assert list(half) == layers and half["relu1_1"].dtype == torch.float32
    for name in layers:
        assert half[name].shape == exact[name].shape
        assert (half[name] - exact[name]).norm() < 0.05 * exact[name].norm()  # bfloat16 keeps ~3 digits
        assert not torch.equal(half[name], exact[name])  # it did run in bfloat16


def test_channels_last_gives_the_same_features_and_gradients(random_net, tiny_pair):
    content, _ = tiny_pair
    layers = ["relu1_1", "relu3_1", "relu5_1"]
    nchw = with_settings(random_net, torch.float32, torch.contiguous_format)
    assert random_net.layers.conv1_2.weight.is_contiguous(memory_format=torch.channels_last)  # vgg19 on a CPU
    assert nchw.layers.conv1_2.weight.is_contiguous()
    grads = []
    for net in (nchw, random_net):
        x = content.clone().requires_grad_(True)
        features = net(x, layers)
        sum(f.square().mean() for f in features.values()).backward()
        grads.append((features, x.grad))
    (plain, plain_grad), (reordered, reordered_grad) = grads
    assert list(reordered) == layers
    for name in layers:
        assert reordered[name].shape == plain[name].shape
        torch.testing.assert_close(reordered[name], plain[name], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(reordered_grad, plain_grad, rtol=1e-3, atol=1e-6)


def test_vgg19_stores_the_network_channel_last_and_runs_bfloat16_when_asked_or_fast():
    nets = {p: vgg19(weights=None, device="cpu", precision=p) for p in ("float32", "bfloat16", "auto")}
    assert all(n.memory_format == torch.channels_last for n in nets.values())  # on a CPU
    assert nets["float32"].dtype == torch.float32 and nets["bfloat16"].dtype == torch.bfloat16
    assert nets["auto"].dtype == (torch.bfloat16 if bfloat16_is_fast("cpu") else torch.float32)
    with pytest.raises(ValueError, match="unknown precision 'half': use one of auto, float32, bfloat16"):
        vgg19(weights=None, device="cpu", precision="half")


def test_transfer_uses_a_feature_extractor_of_the_callers_own_as_it_is(random_net, tiny_pair):
    """A network of the caller's own (here a plain wrapper that counts its calls) is called as it is."""
    mine = Net(random_net)
    transfer(*tiny_pair, steps=3, tol=0, net=mine)
    assert mine.calls == 2 + 3  # the targets, then one pass per step


@pytest.mark.slow  # bfloat16 is emulated, and slow, where the CPU lacks it
def test_transfer_in_bfloat16_reaches_the_objective_of_float32(random_net, tiny_pair):
    """Scored in float32, 30 steps with bfloat16 passes end within 2 % of 30 steps in float32."""
    content, style = tiny_pair
    objective = StyleObjective(content, style, net=random_net)
    half_net = with_settings(random_net, torch.bfloat16, random_net.memory_format)
    exact, half = (objective(transfer(content, style, steps=30, tol=0, scales=(1,), net=net).image).item()
                   for net in (random_net, half_net))
    assert objective(content).item() > 2 * exact  # both really optimised
    assert half == pytest.approx(exact, rel=0.02)
