"""Reference: let autograd do the calculus, and respect how .grad accumulates.

- logistic_grad: the loss written in float64 torch, one backward() call.
- accumulated_sgd: zero the gradient once per optimizer step, before the
  micro-batches; each micro-batch's backward() adds (size / m) of the full-batch
  loss's gradient, so after the last one w.grad is the full-batch gradient.
- ste_grad: the straight-through estimator needs the rounding correction to be a
  constant: z + (round(z) - z).detach() has the value round(z) and gradient 1.
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
    prediction = z + (torch.round(z) - z).detach()
    ((prediction - y) ** 2).mean().backward()
    return w.grad.tolist()
