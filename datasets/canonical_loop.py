"""Hidden calls for canonical-loop: seeds and hyperparameters of a small training run.

make(rng, n) -> n calls `fit(seed, epochs, lr, max_grad_norm, dropout)`:
seed an int below 2**31, epochs 10 to 20, lr 0.02 to 0.1, max_grad_norm 0.2 to 1.0
(small enough that clipping is active), dropout 0.1 to 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n training configurations."""
    calls = []
    for _ in range(n):
        calls.append(
            {
                "function": "fit",
                "args": [
                    int(rng.integers(0, 2**31 - 1)),
                    int(rng.integers(10, 21)),
                    float(round(rng.uniform(0.02, 0.1), 4)),
                    float(round(rng.uniform(0.2, 1.0), 3)),
                    float(round(rng.uniform(0.1, 0.5), 2)),
                ],
                "kwargs": {},
            }
        )
    return calls
