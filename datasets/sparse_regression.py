"""Noisy regression where only a few of the features matter.

make(rng, n, features=10, noise=2.0) -> {"X": float32 (n, features), "y": float32 (n,)}

X is standard normal. Only the first five columns carry signal, then the columns
are shuffled by a random permutation, so which ones matter changes with the draw:

    y = a - 0.8 b + 0.8 tanh(2 c) + 0.8 d e + noise * N(0, 1)

The signal's variance is about 2.7, so with noise 2.0 the best possible R^2 is
about 0.40 (0.54 with noise 1.5); a model that memorises the noise of a few
hundred rows does far worse, often below 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INFORMATIVE = 5


def make(
    rng: np.random.Generator, n: int, features: int = 10, noise: float = 2.0
) -> dict[str, Any]:
    """Draw n rows; the informative columns sit at random positions."""
    if features < INFORMATIVE:
        raise ValueError(f"features must be at least {INFORMATIVE}")
    Z = rng.normal(size=(n, features))
    a, b, c, d, e = (Z[:, i] for i in range(INFORMATIVE))
    signal = a - 0.8 * b + 0.8 * np.tanh(2 * c) + 0.8 * d * e
    y = signal + noise * rng.normal(size=n)
    X = Z[:, rng.permutation(features)]
    return {"X": X.astype(np.float32), "y": y.astype(np.float32)}
