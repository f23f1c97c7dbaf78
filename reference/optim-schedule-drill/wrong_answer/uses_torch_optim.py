"""Wrong: every value is PyTorch's own, but it calls torch.optim, which the problem bans.

The static check gives 0 points to every part and names the lines; this is the
reference (reference/optim-schedule-drill/reference.py) handed in as it is.
"""

from __future__ import annotations

import math

import torch

torch.set_num_threads(1)


def _run(make_optimizer, w0, h, c, steps):
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    h_t = torch.tensor(h, dtype=torch.float64)
    c_t = torch.tensor(c, dtype=torch.float64)
    optimizer = make_optimizer([w])
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = 0.5 * (h_t * (w - c_t) ** 2).sum()
        loss.backward()
        optimizer.step()
        trajectory.append(w.detach().tolist())
    return trajectory


def sgd_trajectory(w0, h, c, lr, momentum, weight_decay, nesterov, steps):
    return _run(
        lambda p: torch.optim.SGD(
            p, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov
        ),
        w0, h, c, steps,
    )


def adam_trajectory(w0, h, c, lr, beta1, beta2, eps, weight_decay, decoupled, steps):
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    return _run(
        lambda p: kind(p, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay),
        w0, h, c, steps,
    )


def warmup_cosine(base_lr, min_lr, warmup_steps, total_steps):
    def factor(t):
        if t < warmup_steps:
            return (t + 1) / warmup_steps
        progress = (t - warmup_steps) / (total_steps - warmup_steps)
        lr = min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
        return lr / base_lr

    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    lrs = []
    for _ in range(total_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs
