"""Hidden calls for grad-accumulation: one accumulated training run each.

make(rng, n) -> n calls `accumulate(seed, batch_size, k, steps, lr, weight_decay, reduction)`:
batch_size 6 to 40, k 2 to 6 micro-batches (about half the calls with batch_size not a
multiple of k), steps 1 to 3 optimizer steps (mostly 2 or 3), reduction "mean" (two
thirds) or "sum", lr scaled to the reduction, weight_decay 0 or 0.01 to 0.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n accumulation configurations."""
    calls = []
    for i in range(n):
        k = int(rng.integers(2, 7))
        if i % 2 == 0:  # a multiple of k: equal micro-batches
            batch_size = k * int(rng.integers(max(2, -(-6 // k)), 40 // k + 1))
        else:
            batch_size = int(rng.integers(max(6, k + 1), 41))
            if batch_size % k == 0:
                batch_size += 1
        reduction = "sum" if rng.random() < 1 / 3 else "mean"
        lr = rng.uniform(0.05, 0.5) if reduction == "mean" else rng.uniform(0.05, 0.5) / batch_size
        weight_decay = 0.0 if rng.random() < 0.3 else rng.uniform(0.01, 0.1)
        steps = 1 if rng.random() < 0.15 else int(rng.integers(2, 4))
        calls.append(
            {
                "function": "accumulate",
                "args": [
                    int(rng.integers(0, 2**31 - 1)),
                    batch_size,
                    k,
                    steps,
                    float(round(lr, 6)),
                    float(round(weight_decay, 4)),
                    reduction,
                ],
                "kwargs": {},
            }
        )
    return calls
