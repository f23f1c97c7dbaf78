"""Multi-label tagging: each row carries any subset of `labels` tags.

make(rng, n, features=12, labels=6, noise=0.5, shared=2.5)
    -> {"X": float32 (n, features), "y": int64 (n, labels)}

X is standard normal. Tag j is on when a score, linear in X plus a small
nonlinear term, beats a threshold:

    s_j = shared * X v + X w_j + 0.7 tanh(2 X u_j) + noise * N(0, 1),   y_j = [s_j > t_j]

with v, w_j, u_j random unit directions drawn with the data (|w_j| = 1.5) and t_j
chosen so that tag j is on in a share p_j of the rows, p_j uniform in
[0.3, 0.55]. The term shared by all tags makes the number of tags on a row vary a
lot: many rows have none, many have all or nearly all. A row has about 2.5 tags
on average.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator, n: int, features: int = 12, labels: int = 6, noise: float = 0.5,
    shared: float = 2.5,
) -> dict[str, Any]:
    """Draw n rows of features and their 0/1 tag matrix."""
    X = rng.normal(size=(n, features))
    W = rng.normal(size=(features, labels))
    W *= 1.5 / np.linalg.norm(W, axis=0, keepdims=True)
    v = rng.normal(size=(features, 1))
    v /= np.linalg.norm(v)
    U = rng.normal(size=(features, labels))
    U *= 1.0 / np.linalg.norm(U, axis=0, keepdims=True)
    scores = shared * (X @ v) + X @ W + 0.7 * np.tanh(2.0 * (X @ U))
    scores += noise * rng.normal(size=(n, labels))
    shares = rng.uniform(0.3, 0.55, size=labels)
    thresholds = np.quantile(scores, 1.0 - shares, axis=0).diagonal()
    y = (scores > thresholds).astype(np.int64)
    return {"X": X.astype(np.float32), "y": y}
