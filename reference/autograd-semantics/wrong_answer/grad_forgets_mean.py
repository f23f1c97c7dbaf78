"""Wrong: the hand-derived logistic gradient fixes the sigmoid's sign but drops the 1/m.

The data term of L is a mean over the m rows, so its gradient is divided by m;
this one returns the gradient of the sum. The other two functions are right.
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
    X, y, w = _tensor(X), _tensor(y), _tensor(w)
    z = y * (X @ w)
    coefficient = -torch.sigmoid(-z) * y  # d/dz log(1 + exp(-z)) = -sigmoid(-z)
    return (X.T @ coefficient + lam * w).tolist()


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
    prediction = z + (torch.round(z) - z).detach()
    ((prediction - y) ** 2).mean().backward()
    return w.grad.tolist()
