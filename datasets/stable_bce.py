"""Hidden calls for stable-bce: log-sigmoid and binary cross-entropy on logits near and far.

make(rng, n) -> list of n calls, in shuffled order, half of each:

- `log_sigmoid(z)`: z a list of 1 to 12 logits;
- `bce_with_logits(logits, targets)`: logits as above, targets of the same length, either
  hard labels (0.0 or 1.0) or soft ones in [0, 1] (three decimals).

Each call's logits come from one of three ranges, in fixed shares:

- "moderate" (40%): every |z| <= 12, where the textbook formulas are exact in float64;
- "confident" (30%): at least one |z| in [30, 60], where sigmoid(z) rounds to exactly 1
  (or the product 0 * log 0 turns into NaN);
- "extreme" (30%): at least one |z| in [100, 5000], past float32's and float64's exp range.

Non-moderate calls also hold moderate logits, and hard-label calls put the wrong label
under at least one far logit, so both directions of the overflow are drawn. Values are
rounded to four decimals, as JSON carries them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SHARES = {"moderate": 0.4, "confident": 0.3, "extreme": 0.3}
FAR = {"confident": (30.0, 60.0), "extreme": (100.0, 5000.0)}


def _logits(rng: np.random.Generator, kind: str) -> np.ndarray:
    """1 to 12 logits; non-moderate kinds put 1 to 3 far ones among moderate ones."""
    size = int(rng.integers(1, 13))
    z = rng.uniform(-12.0, 12.0, size=size)
    if kind != "moderate":
        low, high = FAR[kind]
        far = rng.choice(size, size=min(size, int(rng.integers(1, 4))), replace=False)
        magnitude = np.exp(rng.uniform(np.log(low), np.log(high), size=far.size))
        z[far] = magnitude * rng.choice([-1.0, 1.0], size=far.size)
    return np.round(z, 4)


def _targets(rng: np.random.Generator, z: np.ndarray) -> np.ndarray:
    """Hard labels (half the calls, the far logits confidently wrong once) or soft ones."""
    if rng.random() < 0.5:
        return np.round(rng.uniform(0.0, 1.0, size=z.size), 3)
    t = rng.integers(0, 2, size=z.size).astype(np.float64)
    far = np.flatnonzero(np.abs(z) > 12.0)
    if far.size:  # a sure, wrong prediction: the loss is about |z|
        first = far[0]
        t[first] = 0.0 if z[first] > 0 else 1.0
    return t


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n calls, half log_sigmoid and half bce_with_logits, in shuffled order."""
    kinds = list(SHARES)
    counts = [round(SHARES[k] * n) for k in kinds[:-1]]
    counts.append(n - sum(counts))
    drawn = [kind for kind, count in zip(kinds, counts, strict=True) for _ in range(count)]
    calls: list[dict[str, Any]] = []
    for i, kind in enumerate(drawn):
        z = _logits(rng, kind)
        if i % 2 == 0:
            calls.append({"function": "log_sigmoid", "args": [z.tolist()], "kwargs": {}})
        else:
            args = [z.tolist(), _targets(rng, z).tolist()]
            calls.append({"function": "bce_with_logits", "args": args, "kwargs": {}})
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
