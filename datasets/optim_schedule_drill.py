"""Hidden calls for optim-schedule-drill: optimizer trajectories and a learning-rate schedule.

make(rng, n) -> list of n calls, in shuffled order:

- about 30% `sgd_trajectory(w0, h, c, lr, momentum, weight_decay, nesterov, steps)`;
  momentum in [0.5, 0.95] (a few 0.0), weight decay 0 or in [0.05, 0.5], a third nesterov;
- about 40% `adam_trajectory(w0, h, c, lr, beta1, beta2, eps, weight_decay, decoupled,
  steps)`; half of them decoupled (AdamW), weight decay in [0.1, 1.0] (a few 0.0);
- the rest `warmup_cosine(base_lr, min_lr, warmup_steps, total_steps)`.

The loss is the quadratic 0.5 * sum(h * (w - c)**2); w0, h, c are lists of 2 to 6 floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SGD_SHARE = 0.3
ADAM_SHARE = 0.4


def _r(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


def _problem(rng: np.random.Generator) -> tuple[list[float], list[float], list[float]]:
    d = int(rng.integers(2, 7))
    w0 = [_r(v) for v in rng.normal(0.0, 1.5, size=d)]
    h = [_r(v) for v in np.exp(rng.uniform(np.log(0.2), np.log(5.0), size=d))]
    c = [_r(v) for v in rng.normal(0.0, 1.0, size=d)]
    return w0, h, c


def _sgd_call(rng: np.random.Generator) -> dict[str, Any]:
    w0, h, c = _problem(rng)
    momentum = 0.0 if rng.random() < 0.1 else _r(rng.uniform(0.5, 0.95), 3)
    nesterov = bool(momentum > 0 and rng.random() < 0.35)
    weight_decay = 0.0 if rng.random() < 0.25 else _r(rng.uniform(0.05, 0.5), 3)
    lr = _r(rng.uniform(0.01, 0.15 / max(h)), 5)
    steps = int(rng.integers(5, 31))
    return {
        "function": "sgd_trajectory",
        "args": [w0, h, c, lr, momentum, weight_decay, nesterov, steps],
        "kwargs": {},
    }


def _adam_call(rng: np.random.Generator, decoupled: bool) -> dict[str, Any]:
    w0, h, c = _problem(rng)
    lr = _r(rng.uniform(0.01, 0.2), 4)
    beta1 = _r(rng.choice([0.8, 0.9, 0.9, 0.95]), 3)
    beta2 = _r(rng.choice([0.99, 0.999, 0.999, 0.98]), 4)
    eps = float(rng.choice([1e-8, 1e-6, 1e-3]))
    weight_decay = 0.0 if rng.random() < 0.1 else _r(rng.uniform(0.1, 1.0), 3)
    steps = int(rng.integers(5, 31))
    return {
        "function": "adam_trajectory",
        "args": [w0, h, c, lr, beta1, beta2, eps, weight_decay, decoupled, steps],
        "kwargs": {},
    }


def _schedule_call(rng: np.random.Generator) -> dict[str, Any]:
    base_lr = _r(10 ** rng.uniform(-4, -1), 6)
    min_lr = 0.0 if rng.random() < 0.5 else _r(base_lr * rng.uniform(0.01, 0.2), 8)
    warmup = int(rng.integers(1, 11))
    total = warmup + int(rng.integers(3, 60))
    return {
        "function": "warmup_cosine",
        "args": [base_lr, min_lr, warmup, total],
        "kwargs": {},
    }


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n calls mixing the three functions."""
    n_sgd = round(SGD_SHARE * n)
    n_adam = round(ADAM_SHARE * n)
    n_sched = n - n_sgd - n_adam
    calls = [_sgd_call(rng) for _ in range(n_sgd)]
    calls += [_adam_call(rng, decoupled=i % 2 == 0) for i in range(n_adam)]
    calls += [_schedule_call(rng) for _ in range(n_sched)]
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
