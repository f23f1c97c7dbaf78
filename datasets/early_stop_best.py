"""Three classes by the angle in two of the features; noisy training labels.

make(rng, n, n_train=1400, features=5, classes=3, twist=0.0, margin=0.3, flip=0.35,
     scale=1.0) -> {"X": float32 (n, features), "y": int64 (n,)}

Rows are X ~ N(0, 1) per feature. Two features a, b chosen at random per call decide
the class: the angle of (x_a, x_b), plus `twist` times its radius (0: straight
sectors), plus a random offset, cut into `classes` equal sectors. Rows whose angle lies
within `margin` radians of a sector boundary are rejected and drawn again, so the true
classes are separated by a clear gap and a model that learns the sectors is nearly
always right. The other features are noise that a big network can use to memorise
labels. The first `n_train` rows (the training rows; pass the spec's dataset.n_train)
have each label replaced, with probability `flip`, by one of the other classes at
random; the hidden rows keep their true labels.

Feature b is then multiplied by `scale`. Below 1 the network learns the part of the
boundary that needs b later than the rest, so the validation accuracy climbs, stalls,
and climbs again before it peaks: a run always has epochs without a new best before
its best epoch, which is what makes a patience counter that never resets stop early.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator,
    n: int,
    n_train: int = 1400,
    features: int = 5,
    classes: int = 3,
    twist: float = 0.0,
    margin: float = 0.3,
    flip: float = 0.35,
    scale: float = 1.0,
) -> dict[str, Any]:
    """Draw n rows: n_train with noisy labels, then hidden rows with clean labels."""
    sector = 2 * np.pi / classes
    if not 0.0 <= margin < sector / 2:
        raise ValueError(f"margin must be in [0, {sector / 2:.3f}) radians")
    a, b = rng.permutation(features)[:2]
    offset = rng.uniform(0.0, 2 * np.pi)
    kept_X, kept_y, count = [], [], 0
    while count < n:
        X = rng.normal(0.0, 1.0, size=(2 * n, features))
        angle = np.arctan2(X[:, b], X[:, a]) + twist * np.hypot(X[:, a], X[:, b])
        position = ((angle + offset) % (2 * np.pi)) / sector  # in [0, classes)
        to_boundary = np.abs(position - np.round(position)) * sector
        keep = to_boundary >= margin
        kept_X.append(X[keep])
        kept_y.append(np.minimum(position[keep].astype(np.int64), classes - 1))
        count += int(keep.sum())
    X, y = np.concatenate(kept_X)[:n], np.concatenate(kept_y)[:n]
    noisy = (np.arange(n) < n_train) & (rng.random(n) < flip)
    y[noisy] = (y[noisy] + rng.integers(1, classes, size=int(noisy.sum()))) % classes
    X[:, b] *= scale
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
