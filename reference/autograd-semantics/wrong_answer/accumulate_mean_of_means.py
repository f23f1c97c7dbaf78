"""Wrong: zeroes once per step, but weights every micro-batch by 1 / (number of micro-batches).

The average of the micro-batch means equals the full-batch mean only when all
micro-batches have the same size; the hidden micro-batches never all do. Each
micro-batch must count in proportion to its rows (size / m).
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
    w = _tensor(w).requires_grad_()
    optimizer = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        start = 0
        for size in sizes:
            part = slice(start, start + size)
            loss = _loss(X[part], y[part], w, lam)
            (loss / len(sizes)).backward()
            start += size
        optimizer.step()
    return w.detach().tolist()


def ste_grad(X, y, w):
    X, y = _tensor(X), _tensor(y)
    w = _tensor(w).requires_grad_()
    z = X @ w
    prediction = z + (torch.round(z) - z).detach()
    ((prediction - y) ** 2).mean().backward()
    return w.grad.tolist()
