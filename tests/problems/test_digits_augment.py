"""digits-augment's recipe: training digits centred and clean, hidden digits moved and noisy.

The labelled submissions themselves are judged by `judge validate` (make validate).
"""

from __future__ import annotations

import numpy as np

from tests.problems.bankfiles import recipe_module


def _centres(images: np.ndarray) -> np.ndarray:
    """Centre of mass (row, column) of each image, in pixel-centre coordinates + 0.5."""
    size = images.shape[-1]
    grid = np.arange(size) + 0.5
    total = images.sum(axis=(1, 2))
    rows = (images.sum(axis=2) * grid).sum(axis=1) / total
    cols = (images.sum(axis=1) * grid).sum(axis=1) / total
    return np.stack([rows, cols], axis=1)


def test_shapes_values_and_all_ten_digits() -> None:
    drawn = recipe_module("digits_augment").make(np.random.default_rng(0), 400, n_train=200)
    X, y = drawn["X"], drawn["y"]
    assert X.shape == (400, 16, 16) and X.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    assert X.min() >= 0.0 and X.max() <= 1.0


def test_training_rows_are_centred_and_hidden_rows_move() -> None:
    drawn = recipe_module("digits_augment").make(
        np.random.default_rng(1), 2000, n_train=1000, shift=3.0, noise=0.0
    )
    centres, y = _centres(drawn["X"]), drawn["y"]
    for digit in range(10):
        train = centres[:1000][y[:1000] == digit].std(axis=0)
        hidden = centres[1000:][y[1000:] == digit].std(axis=0)
        # a uniform shift in [-3, 3] adds a spread of sqrt(3) px to each axis
        assert (hidden > train + 0.8).all(), (digit, train, hidden)


def test_hidden_rows_are_noisier() -> None:
    drawn = recipe_module("digits_augment").make(
        np.random.default_rng(2), 400, n_train=200, noise=0.3
    )
    background = drawn["X"][:, :2, :].reshape(400, -1)  # the top rows are mostly paper
    assert background[:200].mean() < 0.05 < 0.08 < background[200:].mean()
