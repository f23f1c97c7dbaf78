"""Two Gaussian clouds, one per class, `separation` apart along a random direction.

make(rng, n, dims=4, separation=2.6) -> {"X": float32 (n, dims), "y": int64 (n,)}
"""

# TODO(setter): replace with your problem's recipe; draw only from `rng`.
from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator, n: int, dims: int = 4, separation: float = 2.6
) -> dict[str, Any]:
    """Draw n labelled points from two clouds."""
    direction = rng.normal(size=dims)
    direction /= np.linalg.norm(direction)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, dims)) + np.outer(y - 0.5, direction) * separation
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
