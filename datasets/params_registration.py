"""Hidden calls for params-registration: MLP architectures to count and to build.

make(rng, n, max_small=48, max_large=100_000) -> list of n calls, in shuffled order:

- half `count_parameters(sizes, batchnorm, bias)`, the closed-form count of trainable
  parameters; about two thirds of them on architectures far too large to build (widths
  log-uniform up to max_large, billions of parameters), the rest small; about one in ten
  has no hidden layer at all (sizes of length 2);
- half `registered_counts(sizes, batchnorm, bias)`, the counts read off a built model:
  small widths (1 to max_small) and always at least one hidden layer.

sizes = [in_features, hidden_1, ..., hidden_k, out_features] with k from 0 to 5 hidden
layers. Each function gets the four (batchnorm, bias) combinations equally often, so
every draw holds many calls with BatchNorm, many with bias=False, and many with both.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

COMBINATIONS = list(itertools.product([True, False], repeat=2))  # (batchnorm, bias)
LARGE_SHARE = 2 / 3
NO_HIDDEN_SHARE = 0.1
MAX_HIDDEN = 5


def _small_width(rng: np.random.Generator, max_small: int) -> int:
    return int(rng.integers(1, max_small + 1))


def _large_width(rng: np.random.Generator, max_large: int) -> int:
    return int(np.rint(np.exp(rng.uniform(np.log(2.0), np.log(max_large)))))


def _sizes(rng: np.random.Generator, hidden: int, width: Any) -> list[int]:
    return [width() for _ in range(hidden + 2)]


def _count_call(
    rng: np.random.Generator, batchnorm: bool, bias: bool, max_small: int, max_large: int
) -> dict[str, Any]:
    hidden = 0 if rng.random() < NO_HIDDEN_SHARE else int(rng.integers(1, MAX_HIDDEN + 1))
    if rng.random() < LARGE_SHARE:
        sizes = _sizes(rng, hidden, lambda: _large_width(rng, max_large))
    else:
        sizes = _sizes(rng, hidden, lambda: _small_width(rng, max_small))
    return {"function": "count_parameters", "args": [sizes, batchnorm, bias], "kwargs": {}}


def _registered_call(
    rng: np.random.Generator, batchnorm: bool, bias: bool, max_small: int
) -> dict[str, Any]:
    hidden = int(rng.integers(1, MAX_HIDDEN + 1))
    sizes = _sizes(rng, hidden, lambda: _small_width(rng, max_small))
    return {"function": "registered_counts", "args": [sizes, batchnorm, bias], "kwargs": {}}


def make(
    rng: np.random.Generator, n: int, max_small: int = 48, max_large: int = 100_000
) -> list[dict[str, Any]]:
    """Draw n calls, half of each function, the (batchnorm, bias) combinations in turn."""
    n_count = n // 2
    calls = []
    for i in range(n):
        batchnorm, bias = COMBINATIONS[i % len(COMBINATIONS)]
        if i < n_count:
            calls.append(_count_call(rng, batchnorm, bias, max_small, max_large))
        else:
            calls.append(_registered_call(rng, batchnorm, bias, max_small))
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
