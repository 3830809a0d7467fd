import pytest
import torch

from d2lstyle import StyleObjective, load_image, synthesize, transfer
from d2lstyle.cli import DEFAULT_CONTENT, DEFAULT_STYLE


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
@pytest.mark.parametrize("init", ["content", "noise"])
def test_transfer_lowers_the_objective(random_net, tiny_pair, optimizer, init):
    content, style = tiny_pair
    objective = StyleObjective(content, style, net=random_net)
    start = content if init == "content" else torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    result = transfer(content, style, steps=15, optimizer=optimizer, init=init, net=random_net)
    assert result.shape == content.shape and 0 <= result.min() and result.max() <= 1
    assert objective(result) < 0.9 * objective(start)


def test_same_seed_same_result_other_seed_other_result(random_net, tiny_pair):
    content, style = tiny_pair
    runs = [transfer(content, style, steps=3, init="noise", seed=s, net=random_net) for s in (0, 0, 1)]
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

    with pytest.warns(UserWarning, match="the loss became nan"):
        result = synthesize(loss, torch.zeros(1, 3, 4, 4), steps=20, optimizer="adam", lr=0.05)
    assert len(calls) == 6
    assert torch.isfinite(result).all() and ((result - target) ** 2).mean() < ((0 - target) ** 2).mean()


def test_unknown_optimizer_and_init_are_refused(random_net, tiny_pair):
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        transfer(*tiny_pair, steps=1, optimizer="sgd", net=random_net)
    with pytest.raises(ValueError, match="unknown init 'style'"):
        transfer(*tiny_pair, steps=1, init="style", net=random_net)


def test_end_to_end_with_the_real_weights_and_images(real_net):
    content = load_image(DEFAULT_CONTENT, size=64)
    style = load_image(DEFAULT_STYLE, size=64)
    objective = StyleObjective(content, style, net=real_net)
    result = transfer(content, style, steps=20, net=real_net)
    before, after = objective.parts(content), objective.parts(result)
    assert objective(result) < objective(content) / 3
    assert after["style"] < before["style"] / 3  # it took on the style ...
    stretched_style = load_image(DEFAULT_STYLE, size=tuple(content.shape[-2:]))
    assert after["content"] < objective.parts(stretched_style)["content"] / 2  # ... and kept the content
