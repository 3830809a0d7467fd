"""Speed tricks that are not lessons (hand-written): the same numbers as the plain code, computed faster.

`GramProduct` is `X @ X.T` with its gradient written out: one matrix product in the backward pass instead of the
two autograd makes, handed back in the memory layout of X. `gram` (notebook 3) uses it; appendix A1 and
`benchmarks/overhead.py` measure what it saves, `tests/test_losses.py` checks it against autograd.
"""

import torch


class GramProduct(torch.autograd.Function):
    """X X^T of a matrix X (c, n); backward: (g + g^T) X, one product, stored the way X is."""

    @staticmethod
    def forward(ctx, X: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(X)
        return X @ X.T

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (X,) = ctx.saved_tensors
        S = grad + grad.T
        # A channel-last feature map stores X column by column (X.stride(0) == 1). (X^T S)^T, equal to S X because
        # S is symmetric, comes out stored the same way, so the layers below get their gradient without a copy.
        return (X.T @ S).T if X.stride(0) == 1 else S @ X
