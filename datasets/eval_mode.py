"""Four classes, each a pair of Gaussian clusters in 6-D; the hidden rows have a skewed class mix.

make(rng, n, n_train=800, dims=6, spread=3.0, noise=1.0, dominant=0.85)
    -> {"X": float32 (n, dims), "y": int64 (n,)}

The first `n_train` rows (the training rows; pass the spec's dataset.n_train) have
balanced classes. The remaining rows (the hidden rows) come from one secret dominant
class with probability `dominant` and from the other three evenly otherwise. Each
class owns two cluster centres drawn once per call (N(0, spread^2) per coordinate);
a row is a centre plus N(0, noise^2) noise, so p(x | class) is the same for training
and hidden rows and only the class proportions differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CLASSES = 4
CLUSTERS = 2


def make(
    rng: np.random.Generator,
    n: int,
    n_train: int = 800,
    dims: int = 6,
    spread: float = 3.0,
    noise: float = 1.0,
    dominant: float = 0.85,
) -> dict[str, Any]:
    """Draw n rows: n_train balanced training rows, then hidden rows with a skewed class mix."""
    centres = rng.normal(0.0, spread, size=(CLASSES, CLUSTERS, dims))
    n_train = min(n_train, n)
    n_hidden = n - n_train
    y_train = rng.integers(0, CLASSES, size=n_train)
    top = rng.integers(0, CLASSES)
    prior = np.full(CLASSES, (1.0 - dominant) / (CLASSES - 1))
    prior[top] = dominant
    y_hidden = rng.choice(CLASSES, size=n_hidden, p=prior)
    y = np.concatenate([y_train, y_hidden])
    cluster = rng.integers(0, CLUSTERS, size=n)
    X = centres[y, cluster] + rng.normal(0.0, noise, size=(n, dims))
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
