"""Wrong: computes the whole straight-through prediction under torch.no_grad().

no_grad() cuts every path inside the block, including the identity path through
z that the estimator needs: the loss has no graph and backward() raises on every
ste_grad call. Only the rounding correction must be constant (detach it, or
compute just that difference under no_grad).
"""

import torch
import torch.nn.functional as F

DTYPE = torch.float64


def _tensor(values):
    return torch.tensor(values, dtype=DTYPE)


def _loss(X, y, w, lam):
    """Mean logistic loss plus (lam / 2) * ||w||^2."""
    return F.softplus(-y * (X @ w)).mean() + 0.5 * lam * (w * w).sum()


def logistic_grad(X, y, w, lam):
    X, y = _tensor(X), _tensor(y)
    w = _tensor(w).requires_grad_()
    _loss(X, y, w, lam).backward()
    return w.grad.tolist()


def accumulated_sgd(X, y, w, lam, sizes, lr, steps):
    X, y = _tensor(X), _tensor(y)
    m = len(y)
    w = _tensor(w).requires_grad_()
    optimizer = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        start = 0
        for size in sizes:
            part = slice(start, start + size)
            loss = (size / m) * _loss(X[part], y[part], w, lam)
            loss.backward()
            start += size
        optimizer.step()
    return w.detach().tolist()


def ste_grad(X, y, w):
    X, y = _tensor(X), _tensor(y)
    w = _tensor(w).requires_grad_()
    z = X @ w
    with torch.no_grad():  # keep the rounding out of the graph
        prediction = z + (torch.round(z) - z)
    ((prediction - y) ** 2).mean().backward()
    return w.grad.tolist()
