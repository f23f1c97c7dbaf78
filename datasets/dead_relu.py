"""A ring in the first two of several Gaussian features: binary labels.

make(rng, n, features=6, flip=0.03) -> {"X": float32 (n, features), "y": int64 (n,)}

Every row is drawn from a standard normal in `features` dimensions. Its label is 1
when the point lies outside the circle x0^2 + x1^2 = 2 ln 2 in the first two
coordinates (so the classes are balanced), 0 inside; the other coordinates are
pure noise. A share `flip` of the labels is then flipped at random. No linear
rule beats guessing; a small MLP reaches about 1 - flip.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(rng: np.random.Generator, n: int, features: int = 6, flip: float = 0.03) -> dict[str, Any]:
    """Draw n rows: Gaussian features, label = outside the median circle, some flipped."""
    X = rng.normal(0.0, 1.0, size=(n, features))
    radius2 = X[:, 0] ** 2 + X[:, 1] ** 2
    y = (radius2 > 2.0 * np.log(2.0)).astype(np.int64)
    flipped = rng.random(n) < flip
    y[flipped] = 1 - y[flipped]
    return {"X": X.astype(np.float32), "y": y}
