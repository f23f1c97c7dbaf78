"""Noisy binary labels from a smooth nonlinear logit: a task where calibration matters.

make(rng, n, features=8, scale=1.0) -> {"X": float32 (n, features), "y": int64 (n,)}

Every row is drawn from a standard normal in `features` (at least 4) dimensions.
The true log-odds of class 1 are

    f(x) = scale * (2 x0 + 1.5 x1 x2 - x3^2 + 1)

(x0..x3 matter, the rest are noise) and the label is drawn as Bernoulli(sigmoid(f)),
so labels overlap: at scale 1.0 even the true probabilities have a log loss of
about 0.38 (a constant 0.5 has 0.69).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(rng: np.random.Generator, n: int, features: int = 8, scale: float = 1.0) -> dict[str, Any]:
    """Draw n rows with labels sampled from the logistic of a nonlinear logit."""
    X = rng.normal(0.0, 1.0, size=(n, features))
    logit = scale * (2.0 * X[:, 0] + 1.5 * X[:, 1] * X[:, 2] - X[:, 3] ** 2 + 1.0)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return {"X": X.astype(np.float32), "y": y}
