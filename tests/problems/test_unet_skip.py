"""unet-skip's recipe: odd-sized images, ring-wall masks that are never empty, disks left out,
and the size mismatch the problem is about (21 -> 10 -> 20 through pool and transposed conv).

The labelled submissions themselves are judged by `judge validate` (make validate).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.problems.bankfiles import recipe_module


def test_shapes_dtypes_and_every_mask_has_ring_pixels() -> None:
    drawn = recipe_module("unet_skip").make(np.random.default_rng(0), 200)
    X, y = drawn["X"], drawn["y"]
    assert X.shape == (200, 1, 21, 21) and X.dtype == np.float32
    assert y.shape == (200, 21, 21) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert (y.reshape(200, -1).sum(axis=1) > 0).all()
    share = y.mean()
    assert 0.04 < share < 0.2, share  # thin walls: a small share of the pixels


def test_ring_pixels_are_bright_and_one_seed_gives_the_same_rows() -> None:
    make = recipe_module("unet_skip").make
    a = make(np.random.default_rng(1), 100, noise=0.0)
    b = make(np.random.default_rng(1), 100, noise=0.0)
    assert np.array_equal(a["X"], b["X"]) and np.array_equal(a["y"], b["y"])
    image, mask = a["X"][:, 0], a["y"] == 1
    assert image[mask].min() > 0.3  # every wall pixel is inked (0.8-1.2, faint gradient)
    assert np.median(image[~mask]) < 0.1
    # beads: bright pixels outside any wall exist (the distractors the mask leaves out)
    assert ((image > 0.6) & ~mask).sum() > 0.2 * mask.sum()


def test_odd_size_through_pool_and_transposed_conv() -> None:
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 4, 21, 21)
    down = torch.nn.MaxPool2d(2)(x)
    up = torch.nn.ConvTranspose2d(4, 4, 2, stride=2)(down)
    assert down.shape[-1] == 10 and up.shape[-1] == 20
