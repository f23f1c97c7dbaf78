"""Four overlapping classes in six Gaussian features: a task where calibration matters.

make(rng, n, features=6, sharpness=1.0, rotation=0.0)
    -> {"X": float32 (n, features), "y": int64 (n,), classes 0..3}

Every row is drawn from a standard normal in `features` (at least 4) dimensions.
The true class logits are

    f_k(x) = sharpness * (2 <x_01, u_k> + 1.2 x2 x3 s_k)     for the sector classes k = 0, 1, 2
    f_3(x) = sharpness * (1.5 - 0.8 |x_01|^2)                 for the core class 3

where x_01 = (x0, x1), u_k is the unit vector at angle rotation + 2 pi k / 3 and
s = (+1, -1, 0); x4 onwards is noise. The label is drawn from softmax(f), so the
classes overlap: near the origin every class is plausible, far out one sector
dominates. At sharpness 1.0 the true probabilities have a log loss of about 0.6
(a uniform guess: ln 4 = 1.39).

The labels are class indices; the judge scores the (n, 4) probability rows
against them with scikit-learn's log_loss over the four classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def true_logits(X: np.ndarray, sharpness: float = 1.0, rotation: float = 0.0) -> np.ndarray:
    """The (n, 4) true class logits of the rows of X."""
    angles = rotation + 2.0 * np.pi * np.arange(3) / 3.0
    u = np.stack([np.cos(angles), np.sin(angles)], axis=0)  # (2, 3)
    sector = 2.0 * X[:, :2] @ u + 1.2 * (X[:, 2] * X[:, 3])[:, None] * np.array([1.0, -1.0, 0.0])
    core = 1.5 - 0.8 * (X[:, 0] ** 2 + X[:, 1] ** 2)
    return sharpness * np.concatenate([sector, core[:, None]], axis=1)


def make(
    rng: np.random.Generator,
    n: int,
    features: int = 6,
    sharpness: float = 1.0,
    rotation: float = 0.0,
) -> dict[str, Any]:
    """Draw n rows with labels sampled from the softmax of the true logits."""
    X = rng.normal(0.0, 1.0, size=(n, features))
    f = true_logits(X, sharpness, rotation)
    p = np.exp(f - f.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    y = np.minimum(y, 3)
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
