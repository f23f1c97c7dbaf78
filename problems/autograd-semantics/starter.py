"""Three small autograd utilities from a training library, each with a test failing.

The judge imports this file and calls logistic_grad, accumulated_sgd and ste_grad
on hidden inputs (plain Python lists and floats) and compares what they return
with the right values. Keep the names and signatures; helpers are allowed.
"""

import torch

DTYPE = torch.float64


def _tensor(values):
    return torch.tensor(values, dtype=DTYPE)


def logistic_grad(X, y, w, lam):
    """Gradient of L(w) = mean_i log(1 + exp(-y_i * x_i . w)) + (lam / 2) * ||w||^2.

    Derived by hand: d/dz log(1 + exp(-z)) = -sigmoid(z), and z_i = y_i * x_i . w.
    """
    X, y, w = _tensor(X), _tensor(y), _tensor(w)
    z = y * (X @ w)
    coefficient = -torch.sigmoid(z) * y
    return (X.T @ coefficient / len(y) + lam * w).tolist()


def _loss(X, y, w, lam):
    return torch.log1p(torch.exp(-y * (X @ w))).mean() + 0.5 * lam * (w * w).sum()


def accumulated_sgd(X, y, w, lam, sizes, lr, steps):
    """`steps` SGD steps on L, each step's gradient accumulated over micro-batches.

    The rows are cut into consecutive micro-batches of the given sizes; each one's
    loss is weighted by its share of the rows so that the accumulated gradient is
    the full-batch gradient of L. Returns the final w.
    """
    X, y = _tensor(X), _tensor(y)
    m = len(y)
    w = _tensor(w).requires_grad_()
    optimizer = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):
        start = 0
        for size in sizes:
            optimizer.zero_grad()
            part = slice(start, start + size)
            loss = (size / m) * _loss(X[part], y[part], w, lam)
            loss.backward()
            start += size
        optimizer.step()
    return w.detach().tolist()


def ste_grad(X, y, w):
    """Gradient of mean_i (round_ste(x_i . w) - y_i)^2 with a straight-through rounding.

    Forward: the prediction is x_i . w rounded to the nearest integer.
    Backward: the rounding is treated as the identity.
    """
    X, y = _tensor(X), _tensor(y)
    w = _tensor(w).requires_grad_()
    z = X @ w
    prediction = z + (torch.round(z) - z)  # value round(z), gradient of z
    ((prediction - y) ** 2).mean().backward()
    return w.grad.tolist()
