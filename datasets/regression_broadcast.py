"""Smooth nonlinear regression on a few standard-normal features.

make(rng, n, features=6, noise=0.4) -> {"X": float32 (n, features), "y": float32 (n,)}

X is standard normal. With a, b, c, d, e the first five columns,

    y = 10 + 2 sin(1.5 a) + b c + 0.5 d^2 + e + noise * N(0, 1)

The signal's variance is about 4.5, so with noise 0.4 the best possible R^2 is
about 0.97; predicting the mean everywhere gets R^2 = 0. Columns past the fifth
are pure noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INFORMATIVE = 5


def make(rng: np.random.Generator, n: int, features: int = 6, noise: float = 0.4) -> dict[str, Any]:
    """Draw n rows of features and a real-valued target."""
    if features < INFORMATIVE:
        raise ValueError(f"features must be at least {INFORMATIVE}")
    X = rng.normal(size=(n, features))
    a, b, c, d, e = (X[:, i] for i in range(INFORMATIVE))
    y = 10.0 + 2.0 * np.sin(1.5 * a) + b * c + 0.5 * d**2 + e + noise * rng.normal(size=n)
    return {"X": X.astype(np.float32), "y": y.astype(np.float32)}
