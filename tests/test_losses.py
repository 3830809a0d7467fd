import pytest
import torch

from d2lstyle import content_loss, gram, relative_weights, style_loss, tv_loss
from d2lstyle.losses import GramProduct


def test_content_loss_by_hand():
    Y = torch.zeros(1, 1, 2, 2)
    Y_hat = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    assert content_loss(Y_hat, Y).item() == pytest.approx(0.5)


def test_content_loss_does_not_differentiate_the_target():
    Y = torch.rand(1, 3, 4, 4, requires_grad=True)
    Y_hat = torch.rand(1, 3, 4, 4, requires_grad=True)
    content_loss(Y_hat, Y).backward()
    assert Y.grad is None and Y_hat.grad is not None


def test_gram_by_hand():
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # c = 2 channels, n = 2 positions
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 4  # X X^T / (c n)
    assert torch.allclose(gram(X), expected)


def test_gram_is_symmetric_positive_semidefinite_and_ignores_positions():
    X = torch.randn(1, 8, 5, 6, generator=torch.Generator().manual_seed(0))
    G = gram(X)
    assert torch.allclose(G, G.T)
    assert torch.linalg.eigvalsh(G.double()).min() > -1e-9
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(1))
    shuffled = X.flatten(2)[:, :, perm].reshape(X.shape)
    assert torch.allclose(gram(shuffled), G, atol=1e-6)
    assert not torch.allclose(shuffled, X)


def test_style_loss_by_hand():
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    # gram(X) = [[1.25, 2.75], [2.75, 6.25]]; against a zero target the mean square is
    # (1.5625 + 2 * 7.5625 + 39.0625) / 4
    assert style_loss(X, torch.zeros(2, 2)).item() == pytest.approx(13.9375)
    assert style_loss(X, gram(X)).item() == 0


def test_tv_loss_by_hand():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    # vertical steps are 2 and 2, horizontal steps 1 and 1: 0.5 * (2 + 1)
    assert tv_loss(x).item() == pytest.approx(1.5)
    assert tv_loss(torch.full((1, 3, 5, 5), 0.7)).item() == 0


def test_relative_weights_make_a_scaled_target_weigh_the_same():
    target = torch.rand(4, 4) + 0.1
    w = relative_weights({"a": target, "b": 10 * target})
    assert w["a"] == pytest.approx(1 / target.pow(2).mean().item())
    X = torch.rand(1, 4, 3, 3)  # sqrt(10) X has 10 times X's Gram matrix: against 10 x target, the same error
    assert (w["b"] * style_loss(10 ** 0.5 * X, 10 * target)).item() == pytest.approx(
        (w["a"] * style_loss(X, target)).item(), rel=1e-5)
    assert w["a"] == pytest.approx(100 * w["b"])


@pytest.mark.parametrize("loss", ["content", "style", "tv"])
def test_gradients_match_finite_differences(loss):
    g = torch.Generator().manual_seed(0)
    Y_hat = torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    Y = torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64)
    fn = {"content": lambda x: content_loss(x, Y), "style": lambda x: style_loss(x, gram(Y)), "tv": tv_loss}[loss]
    assert torch.autograd.gradcheck(fn, (Y_hat,))


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_style_gradient_matches_finite_differences_in_either_memory_layout(layout):
    g = torch.Generator().manual_seed(1)
    Y_hat = torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64).contiguous(memory_format=layout)
    target = gram(torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda x: style_loss(x, target), (Y_hat.requires_grad_(True),))


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_gram_gradient_is_stored_like_the_feature_map(layout):
    leaf = torch.rand(1, 16, 6, 7).contiguous(memory_format=layout).requires_grad_(True)
    X = leaf.relu()  # a feature map inside the graph: a leaf's .grad is copied to the leaf's layout anyway
    seen = []
    X.register_hook(lambda grad: seen.append(grad.is_contiguous(memory_format=layout)))
    style_loss(X, torch.rand(16, 16)).backward()
    assert seen == [True]


def test_gram_product_gradient_equals_autograds_for_any_upstream_gradient():
    g = torch.Generator().manual_seed(2)
    X = torch.rand(5, 9, generator=g, dtype=torch.float64)
    W = torch.rand(5, 5, generator=g, dtype=torch.float64)  # not symmetric: the upstream gradient is W
    by_hand, by_autograd = X.clone().requires_grad_(True), X.clone().requires_grad_(True)
    (GramProduct.apply(by_hand) * W).sum().backward()
    ((by_autograd @ by_autograd.T) * W).sum().backward()
    assert torch.allclose(by_hand.grad, by_autograd.grad, rtol=1e-12, atol=0)
