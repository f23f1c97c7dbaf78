"""Three interleaved spiral arms hidden in two of many noisy sensor channels.

make(rng, n, channels=16, turns=0.75, noise=0.06, scale=1.0, clutter=1.0)
-> {"X": float32 (n, channels), "y": int64 (n,)}

Each row picks a class c in {0, 1, 2} and a position t along arm c; channels 0
and 1 hold scale * t * (cos, sin)(2*pi*(turns * t + c / 3)) plus Gaussian noise
of scale `noise` * scale. The other channels are independent Gaussian clutter of
standard deviation `clutter`, carrying no information about the class.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator,
    n: int,
    channels: int = 16,
    turns: float = 0.75,
    noise: float = 0.06,
    scale: float = 1.0,
    clutter: float = 1.0,
) -> dict[str, Any]:
    """Draw n labelled rows."""
    y = rng.integers(0, 3, size=n)
    t = np.sqrt(rng.uniform(0.03, 1.0, size=n))
    angle = 2 * np.pi * (turns * t + y / 3)
    arms = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    arms += rng.normal(0.0, noise, size=arms.shape)
    X = np.empty((n, channels))
    X[:, :2] = scale * arms
    X[:, 2:] = rng.normal(0.0, clutter, size=(n, channels - 2))
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
