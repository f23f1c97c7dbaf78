"""Interleaved noisy spirals in the plane: one arm per class.

make(rng, n, classes=3, turns=1.0, noise=0.08) -> {"X": float32 (n, 2), "y": int64 (n,)}

Each row picks a class c and a position t in [0, 1) along arm c; the point is
t * (cos, sin)(2*pi*(turns * t + c / classes)) plus Gaussian noise of scale `noise`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator, n: int, classes: int = 3, turns: float = 1.0, noise: float = 0.08
) -> dict[str, Any]:
    """Draw n labelled points on `classes` interleaved spiral arms."""
    y = rng.integers(0, classes, size=n)
    t = np.sqrt(rng.uniform(0.02, 1.0, size=n))  # denser toward the rim, where arms are longer
    angle = 2 * np.pi * (turns * t + y / classes)
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    X += rng.normal(0.0, noise, size=X.shape)
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
