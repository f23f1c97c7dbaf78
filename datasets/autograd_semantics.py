"""Hidden calls for autograd-semantics: gradients, accumulation, straight-through.

make(rng, n) -> list of n calls, in shuffled order, about a third of each:

- `logistic_grad(X, y, w, lam)`: X an (m, d) list of lists, y a list of m labels
  in {-1, +1} (both classes present), w a list of d floats, lam >= 0 (a fifth of
  the calls have lam = 0);
- `accumulated_sgd(X, y, w, lam, sizes, lr, steps)`: as above plus `sizes`, 2 to
  4 positive micro-batch sizes summing to m, never all equal; lr in [0.05, 1];
  steps 1 to 5;
- `ste_grad(X, y, w)`: X (m, d), y a list of m real targets, w of d floats, scaled
  so that X @ w spans several integers. No value of X @ w lies within 1e-6 of a
  rounding tie (k + 1/2), so rounding is unambiguous.

m is 6 to 30 and d is 1 to 5. All numbers are plain floats (ints for sizes and
steps), drawn only from the given generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _floats(a: np.ndarray) -> list[Any]:
    return np.round(a.astype(np.float64), 6).tolist()


def _labels(rng: np.random.Generator, m: int) -> list[float]:
    while True:
        y = rng.choice([-1.0, 1.0], size=m)
        if len(set(y.tolist())) == 2:
            return y.tolist()


def _logistic_inputs(rng: np.random.Generator) -> tuple[list[Any], ...]:
    m = int(rng.integers(6, 31))
    d = int(rng.integers(1, 6))
    X = rng.normal(0.0, 1.0, size=(m, d)) * rng.uniform(0.5, 2.0)
    w = rng.normal(0.0, 1.0, size=d)
    lam = 0.0 if rng.random() < 0.2 else float(np.round(rng.uniform(0.01, 0.5), 4))
    return _floats(X), _labels(rng, m), _floats(w), lam


def _sizes(rng: np.random.Generator, m: int) -> list[int]:
    while True:
        k = int(rng.integers(2, 5))
        cuts = np.sort(rng.choice(np.arange(1, m), size=k - 1, replace=False))
        sizes = np.diff(np.concatenate([[0], cuts, [m]])).tolist()
        if len(set(sizes)) > 1:
            return [int(s) for s in sizes]


def _ste_call(rng: np.random.Generator) -> dict[str, Any]:
    m = int(rng.integers(6, 31))
    d = int(rng.integers(1, 6))
    while True:
        X = np.round(rng.normal(0.0, 1.0, size=(m, d)), 6)
        w = np.round(rng.normal(0.0, 2.0, size=d), 6)
        z = X @ w
        if np.min(np.abs(z - np.floor(z) - 0.5)) > 1e-6:
            break
    y = np.round(rng.normal(0.0, 2.0, size=m), 6)
    return {"function": "ste_grad", "args": [X.tolist(), y.tolist(), w.tolist()], "kwargs": {}}


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n calls mixing the three functions."""
    calls: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            X, y, w, lam = _logistic_inputs(rng)
            calls.append({"function": "logistic_grad", "args": [X, y, w, lam], "kwargs": {}})
        elif kind == 1:
            X, y, w, lam = _logistic_inputs(rng)
            sizes = _sizes(rng, len(y))
            lr = float(np.round(rng.uniform(0.05, 1.0), 4))
            steps = int(rng.integers(1, 6))
            calls.append(
                {
                    "function": "accumulated_sgd",
                    "args": [X, y, w, lam, sizes, lr, steps],
                    "kwargs": {},
                }
            )
        else:
            calls.append(_ste_call(rng))
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
