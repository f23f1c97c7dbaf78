"""Valid Conv2d / MaxPool2d configurations and conv stacks, as hidden calls.

make(rng, n, max_size=64) -> list of n calls, in shuffled order:

- about 40% `conv2d_output_size(h, w, kernel_size, stride, padding, dilation)`;
  a third of them with dilation > 1, about a third with [height, width] pairs;
- about 40% `maxpool2d_output_size(h, w, kernel_size, stride, padding, dilation,
  ceil_mode)`; padding at most kernel_size // 2 and every output at least 1, as
  PyTorch requires; stride sometimes None (meaning kernel_size); a quarter are
  ceil_mode cases where PyTorch drops a last window that would start in the
  right padding;
- the rest `receptive_field(layers)`, stacks of 1 to 6 layers
  {"kernel_size", "stride", "dilation"}.

Every configuration is one torch accepts, so each call has one right answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

CONV_SHARE = 0.4
POOL_SHARE = 0.4


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """An int in [low, high], inclusive."""
    return int(rng.integers(low, high + 1))


def _maybe_pair(pair: bool, draw: Callable[[], int]) -> int | list[int]:
    """One drawn int, or a [height, width] pair of them."""
    return [draw(), draw()] if pair else draw()


def _axes(value: int | list[int] | None) -> tuple[int, int] | None:
    if value is None:
        return None
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _conv_call(rng: np.random.Generator, max_size: int, dilated: bool) -> dict[str, Any]:
    pair = bool(rng.random() < 0.35)
    kernel = _maybe_pair(pair, lambda: _int(rng, 2 if dilated else 1, 7))
    stride = _maybe_pair(pair, lambda: _int(rng, 1, 4))
    padding = _maybe_pair(pair, lambda: _int(rng, 0, 3))
    dilation = _maybe_pair(pair, lambda: _int(rng, 2, 4)) if dilated else 1
    k, p, d = _axes(kernel), _axes(padding), _axes(dilation)
    assert k is not None and p is not None and d is not None
    sizes = []
    for i in range(2):
        smallest = max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i])  # output of at least 1
        sizes.append(_int(rng, smallest, max(smallest, max_size)))
    return {
        "function": "conv2d_output_size",
        "args": [sizes[0], sizes[1], kernel, stride, padding, dilation],
        "kwargs": {},
    }


def _pool_length(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> tuple[int, bool]:
    """PyTorch's pooled length, and whether the last-window rule removed a window."""
    room = size + 2 * p - (d * (k - 1) + 1)
    if not ceil_mode:
        return room // s + 1, False
    length = -(-room // s) + 1
    if (length - 1) * s >= size + p:
        return length - 1, True
    return length, False


def _pool_call(
    rng: np.random.Generator, max_size: int, ceil_mode: bool
) -> tuple[dict[str, Any], bool]:
    """A valid pooling call, and whether the last-window rule fires on some axis."""
    pair = bool(rng.random() < 0.25)
    kernel = _maybe_pair(pair, lambda: _int(rng, 2, 6))
    stride = None if rng.random() < 0.15 else _maybe_pair(pair, lambda: _int(rng, 1, 4))
    k = _axes(kernel)
    assert k is not None
    s = _axes(stride) or k
    if pair:
        padding: int | list[int] = [_int(rng, 0, k[0] // 2), _int(rng, 0, k[1] // 2)]
    else:
        padding = _int(rng, 0, k[0] // 2)
    dilation = 1 if rng.random() < 0.5 else _maybe_pair(pair, lambda: _int(rng, 2, 3))
    p, d = _axes(padding), _axes(dilation)
    assert p is not None and d is not None
    sizes, fired = [], False
    for i in range(2):
        # At least one full window fits, so the output is at least 1 even in ceil mode.
        smallest = max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i])
        largest = max_size // 4 if rng.random() < 0.5 else max_size  # small sizes: more edges
        size = _int(rng, smallest, max(smallest, largest))
        sizes.append(size)
        fired |= _pool_length(size, k[i], s[i], p[i], d[i], ceil_mode)[1]
    call = {
        "function": "maxpool2d_output_size",
        "args": [sizes[0], sizes[1], kernel, stride, padding, dilation, ceil_mode],
        "kwargs": {},
    }
    return call, fired


def _rf_call(rng: np.random.Generator) -> dict[str, Any]:
    layers = []
    for _ in range(_int(rng, 1, 6)):
        layers.append(
            {
                "kernel_size": _int(rng, 1, 7),
                "stride": _int(rng, 1, 3),
                "dilation": 1 if rng.random() < 0.6 else _int(rng, 2, 4),
            }
        )
    return {"function": "receptive_field", "args": [layers], "kwargs": {}}


def make(rng: np.random.Generator, n: int, max_size: int = 64) -> list[dict[str, Any]]:
    """Draw n valid calls mixing the three functions, edge cases guaranteed."""
    n_conv = round(CONV_SHARE * n)
    n_pool = round(POOL_SHARE * n)
    n_rf = n - n_conv - n_pool
    calls = [_conv_call(rng, max_size, dilated=i % 3 == 0) for i in range(n_conv)]
    n_last_window = max(1, n_pool // 4) if n_pool else 0
    found = 0
    while found < n_last_window:  # fires often enough that this ends in a few dozen draws
        call, fired = _pool_call(rng, max_size, ceil_mode=True)
        if fired:
            calls.append(call)
            found += 1
    for _ in range(n_pool - n_last_window):
        calls.append(_pool_call(rng, max_size, ceil_mode=bool(rng.random() < 0.5))[0])
    calls.extend(_rf_call(rng) for _ in range(n_rf))
    order = rng.permutation(len(calls))
    return [calls[i] for i in order]
