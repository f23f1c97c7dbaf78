"""Calls of softmax on lists of logits, some of them huge.

make(rng, n, max_length=8) -> [{"function": "softmax", "args": [[float, ...]]}, ...]
"""

# TODO(setter): replace with your problem's recipe; draw only from `rng`.
from __future__ import annotations

from typing import Any

import numpy as np


def make(rng: np.random.Generator, n: int, max_length: int = 8) -> list[dict[str, Any]]:
    """Draw n calls; every fourth one has logits of order 1000."""
    calls = []
    for i in range(n):
        scale = 1000.0 if i % 4 == 0 else 3.0
        logits = rng.normal(0.0, scale, size=int(rng.integers(1, max_length, endpoint=True)))
        calls.append({"function": "softmax", "args": [[float(x) for x in logits]]})
    return calls
