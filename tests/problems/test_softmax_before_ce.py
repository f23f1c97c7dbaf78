"""softmax-before-ce: the recipe and the facts its statement and references rely on.

The labelled submissions themselves are judged by `judge validate`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.problems.bankfiles import recipe_module


@pytest.mark.parametrize("sharpness", [1.0, 1.2])
def test_class_labels_and_the_true_probabilities_log_loss(sharpness: float) -> None:
    recipe = recipe_module("softmax_before_ce")
    data = recipe.make(np.random.default_rng(1), 20_000, sharpness=sharpness, rotation=2.0)
    X, y = data["X"], data["y"]
    assert X.shape == (20_000, 6) and X.dtype == np.float32
    assert y.shape == (20_000,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2, 3} and np.bincount(y).min() > 0.15 * len(y)
    f = recipe.true_logits(X.astype(np.float64), sharpness, 2.0)
    log_p = f - f.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    bayes = -log_p[np.arange(len(y)), y].mean()
    assert 0.58 < bayes < 0.76  # the statement says about 0.62 to 0.72


def test_cross_entropy_on_probabilities_cannot_go_below_its_floor() -> None:
    torch = pytest.importorskip("torch")
    perfect = torch.eye(4)  # a model that is always right and completely sure
    loss = torch.nn.functional.cross_entropy(perfect, torch.arange(4))
    assert loss.item() == pytest.approx(-math.log(math.e / (math.e + 3)), rel=1e-6)
    assert loss.item() == pytest.approx(0.7437, abs=1e-4)


def test_log_softmax_is_idempotent_so_the_log_softmax_head_is_accepted() -> None:
    torch = pytest.importorskip("torch")
    logits = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)) * 5
    once = torch.log_softmax(logits, dim=1)
    assert torch.allclose(torch.log_softmax(once, dim=1), once, atol=1e-6)
    targets = torch.randint(0, 4, (64,), generator=torch.Generator().manual_seed(1))
    ce = torch.nn.functional.cross_entropy(once, targets)
    assert torch.allclose(ce, torch.nn.functional.cross_entropy(logits, targets), atol=1e-6)


def test_softmax_twice_caps_every_probability() -> None:
    torch = pytest.importorskip("torch")
    logits = torch.tensor([[50.0, -50.0, -50.0, -50.0]])
    twice = torch.softmax(torch.softmax(logits, dim=1), dim=1)
    assert twice.max().item() == pytest.approx(math.e / (math.e + 3), rel=1e-6)
