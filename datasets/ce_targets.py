"""Hidden calls for ce-targets: class codes to encode and decode, and cross-entropy targets.

make(rng, n) -> list of n calls, in shuffled order:

- about 18% `encode_targets(labels, classes)`: raw integer class codes to 0-based indices;
- about 12% `decode_predictions(logits, classes)`: logits (N, C) to predicted class codes;
- the rest `cross_entropy(logits, targets, target_format)`, the formats in equal shares
  except "index" (half a share): "index" (0-based ints), "one_based" (1-based ints),
  "float" (0-based indices as float32 values within 1e-4 of a whole number, every call
  with at least one a hair below its whole number), "one_hot" ((N, C) ints 0/1) and "soft"
  ((N, C) probability rows: Dirichlet draws, label smoothing or mixup of two classes).

The class lists (2 to 8 codes) are of four kinds: 1..C in order, 0..C-1 in order, sparse
ids in increasing order, and a shuffled (never sorted) order of 1..C or of sparse ids;
label batches may miss some classes. Logits are rounded to 4 decimals, N is 1 to 16.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FORMATS = ["one_based", "float", "one_hot", "soft"]
ENCODE_SHARE = 0.18
DECODE_SHARE = 0.12
CLASS_KINDS = ["one_based", "zero_based", "sparse", "shuffled"]


def _r(a: Any, digits: int = 4) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


def _classes(rng: np.random.Generator, kind: str) -> list[int]:
    c = int(rng.integers(2, 9))
    if kind == "one_based":
        return list(range(1, c + 1))
    if kind == "zero_based":
        return list(range(c))
    sparse = np.sort(rng.choice(np.arange(1, 100), size=c, replace=False)).tolist()
    if kind == "sparse":
        return sparse
    codes = list(range(1, c + 1)) if rng.random() < 0.5 else sparse
    while True:
        order = [codes[i] for i in rng.permutation(c)]
        if order != sorted(order):
            return order


def _logits(rng: np.random.Generator, n: int, c: int) -> list[list[float]]:
    scale = float(rng.choice([0.5, 1.0, 2.0, 5.0]))
    while True:
        z = np.round(rng.normal(0.0, scale, size=(n, c)), 4)
        if all(len(set(row)) == c for row in z.tolist()):  # no ties: one argmax per row
            return z.tolist()


def _labels(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """n class indices; sometimes from a subset of the classes only."""
    if c > 2 and rng.random() < 0.4:
        present = rng.choice(c, size=int(rng.integers(1, c)), replace=False)
        return rng.choice(present, size=n)
    return rng.integers(0, c, size=n)


def _encode_call(rng: np.random.Generator, kind: str) -> dict[str, Any]:
    classes = _classes(rng, kind)
    n = int(rng.integers(1, 17))
    labels = [classes[i] for i in _labels(rng, n, len(classes))]
    return {"function": "encode_targets", "args": [labels, classes], "kwargs": {}}


def _decode_call(rng: np.random.Generator, kind: str) -> dict[str, Any]:
    classes = _classes(rng, kind)
    n = int(rng.integers(1, 17))
    logits = _logits(rng, n, len(classes))
    return {"function": "decode_predictions", "args": [logits, classes], "kwargs": {}}


def _soft_rows(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    style = rng.integers(0, 3)
    hard = np.eye(c)[rng.integers(0, c, size=n)]
    if style == 0:  # Dirichlet
        return rng.dirichlet(np.full(c, rng.uniform(0.3, 2.0)), size=n)
    if style == 1:  # label smoothing
        eps = float(rng.choice([0.05, 0.1, 0.2, 0.3]))
        return (1.0 - eps) * hard + eps / c
    lam = rng.uniform(0.1, 0.9, size=(n, 1))  # mixup of two classes
    other = np.eye(c)[rng.integers(0, c, size=n)]
    return lam * hard + (1.0 - lam) * other


def _float_labels(rng: np.random.Generator, idx: np.ndarray, c: int) -> list[float]:
    idx = idx.copy()
    if not (idx >= 1).any():
        idx[int(rng.integers(0, len(idx)))] = int(rng.integers(1, c))
    size = 10.0 ** rng.uniform(-6, -4, size=len(idx))  # several float32 steps, even near 7
    sign = rng.choice([-1.0, 1.0], size=len(idx))
    noisy = rng.random(len(idx)) < 0.5
    values = idx + np.where(noisy, sign * size, 0.0)
    below = int(rng.choice(np.flatnonzero(idx >= 1)))  # truncation would drop this one a class
    values[below] = idx[below] - size[below]
    return values.astype(np.float32).astype(np.float64).tolist()  # stored as float32


def _ce_call(rng: np.random.Generator, target_format: str) -> dict[str, Any]:
    c = int(rng.integers(2, 9))
    n = int(rng.integers(1, 17))
    logits = _logits(rng, n, c)
    idx = _labels(rng, n, c)
    targets: Any
    if target_format == "index":
        targets = idx.tolist()
    elif target_format == "one_based":
        targets = (idx + 1).tolist()
    elif target_format == "float":
        targets = _float_labels(rng, idx, c)
    elif target_format == "one_hot":
        targets = np.eye(c, dtype=np.int64)[idx].tolist()
    else:
        targets = _soft_rows(rng, n, c).tolist()
    return {"function": "cross_entropy", "args": [logits, targets, target_format], "kwargs": {}}


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n calls: encode, decode and every cross-entropy target format in fixed shares."""
    n_encode = round(ENCODE_SHARE * n)
    n_decode = round(DECODE_SHARE * n)
    n_ce = n - n_encode - n_decode
    calls = [_encode_call(rng, CLASS_KINDS[i % 4]) for i in range(n_encode)]
    calls += [_decode_call(rng, CLASS_KINDS[i % 4]) for i in range(n_decode)]
    cycle = ["index", *FORMATS, *FORMATS]  # "index" gets half a share
    calls += [_ce_call(rng, cycle[i % len(cycle)]) for i in range(n_ce)]
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
