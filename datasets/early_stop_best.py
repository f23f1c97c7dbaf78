"""Three classes on a twisted pinwheel in two of the features; noisy training labels.

make(rng, n, n_train=800, features=5, classes=3, twist=0.4, flip=0.3)
    -> {"X": float32 (n, features), "y": int64 (n,)}

Rows are X ~ N(0, 1) per feature. Two features a, b chosen at random per call decide
the class: the angle of (x_a, x_b), plus `twist` times its radius, plus a random
offset, cut into `classes` equal sectors. The first `n_train` rows (the training rows;
pass the spec's dataset.n_train) have each label replaced, with probability `flip`, by
one of the other classes at random; the hidden rows keep their true labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator,
    n: int,
    n_train: int = 800,
    features: int = 5,
    classes: int = 3,
    twist: float = 0.4,
    flip: float = 0.3,
) -> dict[str, Any]:
    """Draw n rows: n_train with noisy labels, then hidden rows with clean labels."""
    X = rng.normal(0.0, 1.0, size=(n, features))
    a, b = rng.permutation(features)[:2]
    angle = np.arctan2(X[:, b], X[:, a]) + twist * np.hypot(X[:, a], X[:, b])
    angle = (angle + rng.uniform(0.0, 2 * np.pi)) % (2 * np.pi)
    y = np.minimum((angle / (2 * np.pi) * classes).astype(np.int64), classes - 1)
    noisy = (np.arange(n) < n_train) & (rng.random(n) < flip)
    y[noisy] = (y[noisy] + rng.integers(1, classes, size=int(noisy.sum()))) % classes
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
