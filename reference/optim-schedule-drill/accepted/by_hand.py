"""Accepted: the starter with AdamW's weight decay decoupled from the gradient.
"""

import math

import torch


def _gradient(w, h, c):
    return h * (w - c)


def _tensors(w0, h, c):
    as64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return as64(w0), as64(h), as64(c)


def sgd_trajectory(w0, h, c, lr, momentum, weight_decay, nesterov, steps):
    """Like torch.optim.SGD(lr, momentum, weight_decay, nesterov); dampening 0."""
    w, h, c = _tensors(w0, h, c)
    buf = None
    trajectory = []
    for _ in range(steps):
        g = _gradient(w, h, c) + weight_decay * w  # L2 penalty, folded into the gradient
        if momentum != 0:
            buf = g.clone() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
        trajectory.append(w.tolist())
    return trajectory


def adam_trajectory(w0, h, c, lr, beta1, beta2, eps, weight_decay, decoupled, steps):
    """torch.optim.Adam (decoupled=False) or torch.optim.AdamW (decoupled=True)."""
    w, h, c = _tensors(w0, h, c)
    m = torch.zeros_like(w)
    v = torch.zeros_like(w)
    trajectory = []
    for t in range(1, steps + 1):
        g = _gradient(w, h, c)
        if decoupled:
            w = w * (1 - lr * weight_decay)  # AdamW: decay the weights directly
        else:
            g = g + weight_decay * w  # Adam: L2 penalty folded into the gradient
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (v_hat.sqrt() + eps)
        trajectory.append(w.tolist())
    return trajectory


def warmup_cosine(base_lr, min_lr, warmup_steps, total_steps):
    """The learning rate used at each step t = 0 .. total_steps - 1 (see the statement)."""
    lrs = []
    for t in range(total_steps):
        if t < warmup_steps:
            lr = base_lr * (t + 1) / warmup_steps
        else:
            progress = (t - warmup_steps) / (total_steps - warmup_steps)
            lr = min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
        lrs.append(lr)
    return lrs
