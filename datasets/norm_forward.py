"""Hidden calls for norm-forward: BatchNorm1d and LayerNorm forward passes and running statistics.

make(rng, n) -> list of n calls, in shuffled order:

- about 35% `batchnorm_forward(x, weight, bias, running_mean, running_var, momentum, eps,
  training)`, half in training mode, half in eval mode;
- about 35% `batchnorm_running_stats(x, running_mean, running_var, momentum, training)`,
  four in five in training mode;
- the rest `layernorm_forward(x, normalized_shape, weight, bias, eps)`.

x is (N, C) or (N, C, L) for BatchNorm1d with N * L >= 2; channels have their own offsets
and scales (some tiny, so eps matters); eps is 1e-5, 1e-3 or 0.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BN_FORWARD_SHARE = 0.35
BN_STATS_SHARE = 0.35


def _r(a: np.ndarray | float, digits: int = 4) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


def _eps(rng: np.random.Generator) -> float:
    return float(rng.choice([1e-5, 1e-5, 1e-3, 0.1]))


def _bn_input(rng: np.random.Generator) -> tuple[list[Any], int]:
    c = int(rng.integers(1, 6))
    three_d = bool(rng.random() < 0.4)
    length = int(rng.integers(1, 6)) if three_d else 1
    n = int(rng.integers(2 if length == 1 else 1, 13))
    scale = np.exp(rng.uniform(np.log(0.05), np.log(4.0), size=c))
    offset = rng.normal(0.0, 2.0, size=c)
    shape = (n, c, length) if three_d else (n, c)
    z = rng.normal(0.0, 1.0, size=shape)
    if three_d:
        x = z * scale[None, :, None] + offset[None, :, None]
    else:
        x = z * scale[None, :] + offset[None, :]
    return _r(x), c


def _running(rng: np.random.Generator, c: int) -> tuple[list[float], list[float]]:
    mean = rng.normal(0.0, 1.0, size=c)
    var = np.exp(rng.uniform(np.log(0.1), np.log(4.0), size=c))
    return _r(mean), _r(var)


def _momentum(rng: np.random.Generator) -> float:
    return float(rng.choice([0.1, 0.1, 0.01, 0.3, 0.5]))


def _bn_forward_call(rng: np.random.Generator, training: bool) -> dict[str, Any]:
    x, c = _bn_input(rng)
    weight = _r(rng.uniform(0.5, 2.0, size=c))
    bias = _r(rng.normal(0.0, 0.5, size=c))
    mean, var = _running(rng, c)
    return {
        "function": "batchnorm_forward",
        "args": [x, weight, bias, mean, var, _momentum(rng), _eps(rng), training],
        "kwargs": {},
    }


def _bn_stats_call(rng: np.random.Generator, training: bool) -> dict[str, Any]:
    x, c = _bn_input(rng)
    mean, var = _running(rng, c)
    return {
        "function": "batchnorm_running_stats",
        "args": [x, mean, var, _momentum(rng), training],
        "kwargs": {},
    }


def _ln_call(rng: np.random.Generator) -> dict[str, Any]:
    k = 1 if rng.random() < 0.6 else 2
    normalized = [int(v) for v in rng.integers(2, 7, size=k)]
    lead = [int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 3)))]
    shape = lead + normalized
    # rows with their own offsets and scales: the statistics differ per row, not per feature
    z = rng.normal(0.0, 1.0, size=shape)
    rows = int(np.prod(lead))
    scale = np.exp(rng.uniform(np.log(0.05), np.log(4.0), size=rows))
    offset = rng.normal(0.0, 2.0, size=rows)
    x = (z.reshape(rows, -1) * scale[:, None] + offset[:, None]).reshape(shape)
    weight = rng.uniform(0.5, 2.0, size=normalized)
    bias = rng.normal(0.0, 0.5, size=normalized)
    return {
        "function": "layernorm_forward",
        "args": [_r(x), normalized, _r(weight), _r(bias), _eps(rng)],
        "kwargs": {},
    }


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n calls mixing the three functions."""
    n_fwd = round(BN_FORWARD_SHARE * n)
    n_stats = round(BN_STATS_SHARE * n)
    n_ln = n - n_fwd - n_stats
    calls = [_bn_forward_call(rng, training=i % 2 == 0) for i in range(n_fwd)]
    calls += [_bn_stats_call(rng, training=i % 5 != 4) for i in range(n_stats)]
    calls += [_ln_call(rng) for _ in range(n_ln)]
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
