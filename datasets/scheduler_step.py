"""A wavy height map over the square [-1, 1]^2: smooth nonlinear regression.

make(rng, n, noise=0.1, scale=0.6) -> {"X": float32 (n, 2), "y": float32 (n,)}

Each row is a point (u, v) drawn uniformly in the square. The surface itself is
drawn from rng once per call (so the training and hidden rows, drawn in one call,
share it): frequencies w1, w2, w3 in [2.5, 3.5] and phases p1, p2, p3 in [0, 2 pi),

    f = sin(w1 u + p1) cos(w2 v + p2) + 0.5 sin(w3 (u + v) + p3),
    y = scale * f / std(f) + noise * N(0, 1),

where std(f) is taken over the n drawn rows: the two waves can partly cancel, and
rescaling keeps the signal's standard deviation at `scale` on every draw, so the
best possible R^2, scale^2 / (scale^2 + noise^2), depends on the noise only (0.94
for noise 0.15 and scale 0.6). The surface has about one bump per unit along each
axis, so no linear or barely trained model fits it (R^2 around 0.3 or less), while
a small MLP that trains for a few hundred steps comes close to the best R^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator, n: int, noise: float = 0.1, scale: float = 0.6
) -> dict[str, Any]:
    """Draw one random wavy surface and n noisy samples of it."""
    w1, w2, w3 = rng.uniform(2.5, 3.5, size=3)
    p1, p2, p3 = rng.uniform(0.0, 2.0 * np.pi, size=3)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    u, v = X[:, 0], X[:, 1]
    f = np.sin(w1 * u + p1) * np.cos(w2 * v + p2) + 0.5 * np.sin(w3 * (u + v) + p3)
    y = scale * f / f.std() + noise * rng.normal(size=n)
    return {"X": X.astype(np.float32), "y": y.astype(np.float32)}
