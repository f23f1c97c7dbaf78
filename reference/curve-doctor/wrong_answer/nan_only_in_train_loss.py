"""Wrong: looks for missing values in train_loss only.

A NaN that shows up only in val_loss (an overflow at evaluation) or only in grad_norm
(an inf gradient) is missed, and the log gets whatever the other rules say.
"""

from __future__ import annotations

import math


def _all_finite(values: list[float | None]) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def diagnose(log: dict) -> str:
    """Return the first label whose rule applies to the training log."""
    tl, vl, g = log["train_loss"], log["val_loss"], log["grad_norm"]
    if not _all_finite(tl):
        return "nan"
    # A None elsewhere is "just a logging glitch" here: drop those epochs and go on.
    keep = [i for i in range(len(tl)) if _all_finite([vl[i], g[i]])]
    tl, vl, g = [tl[i] for i in keep], [vl[i] for i in keep], [g[i] for i in keep]
    ta, va = log["train_acc"], log["val_acc"]
    chance_loss = math.log(log["classes"])  # cross-entropy of a uniform guess over K classes

    if max(tl) >= 2 * tl[0] or max(g) >= 10 * g[0]:
        return "exploding"
    if all(abs(x - tl[0]) <= 0.02 * tl[0] for x in tl):
        return "flat"
    if all(va[e] >= 0.97 and va[e] - ta[e] >= 0.10 for e in range(3)):
        return "leak"
    if vl[-1] >= 1.2 * min(vl):
        return "overfit"
    if tl[-1] >= 0.5 * chance_loss:
        return "underfit"
    if _mean(vl[-3:]) < _mean(tl[-3:]):
        return "benign_val_above_train"
    return "healthy"
