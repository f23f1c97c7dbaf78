"""Optimizers and a learning-rate schedule written by hand, in plain tensor arithmetic.

The judge imports this file and calls the three functions below; you may add
helpers, but keep the names and signatures. Every computation is in float64.

The loss being minimised is the quadratic  L(w) = 0.5 * sum(h * (w - c)**2),
whose gradient is  h * (w - c). Each trajectory function starts at w0, takes
`steps` optimizer steps and returns the parameters after every step.

Something here does not match what torch.optim does. Find it.
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
        g = _gradient(w, h, c) + weight_decay * w  # weight decay
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
