"""scheduler-step: the recipe's surface and the schedules the labelled submissions run.

Every labelled submission is judged by `judge validate`; these fast tests check the
recipe's contract and the learning-rate arithmetic the statement and the
submissions' docstrings rely on, without training anything.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.problems.bankfiles import recipe_module


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_recipe_shapes_and_signal_scale(seed: int) -> None:
    make = recipe_module("scheduler_step").make
    drawn = make(np.random.default_rng(seed), 2800, noise=0.0, scale=0.6)
    X, y = drawn["X"], drawn["y"]
    assert X.shape == (2800, 2) and X.dtype == np.float32
    assert y.shape == (2800,) and y.dtype == np.float32
    assert np.all(np.abs(X) <= 1.0)
    assert abs(float(y.std()) - 0.6) < 1e-4  # the signal's spread is fixed on every draw


def test_recipe_is_deterministic_and_seed_dependent() -> None:
    make = recipe_module("scheduler_step").make
    a = make(np.random.default_rng(7), 100, noise=0.1)
    b = make(np.random.default_rng(7), 100, noise=0.1)
    c = make(np.random.default_rng(8), 100, noise=0.1)
    assert np.array_equal(a["y"], b["y"]) and not np.array_equal(a["y"], c["y"])


def _rates(scheduler_factory, epochs: int, per_epoch: int, step_every_batch: bool) -> list[float]:
    """The learning rate at the start of every epoch."""
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=0.01)
    scheduler = scheduler_factory(optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        for _ in range(per_epoch):
            optimizer.step()
            if step_every_batch:
                scheduler.step()
        if not step_every_batch:
            scheduler.step()
    return rates


def test_per_epoch_and_in_steps_schedules_agree_and_per_batch_collapses() -> None:
    per_epoch = 25  # 800 rows in batches of 32

    def step_lr(opt):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)

    def step_lr_in_steps(opt):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=10 * per_epoch, gamma=0.5)

    intended = _rates(step_lr, 40, per_epoch, step_every_batch=False)
    in_steps = _rates(step_lr_in_steps, 40, per_epoch, step_every_batch=True)
    per_batch = _rates(step_lr, 40, per_epoch, step_every_batch=True)
    assert intended[::10] == pytest.approx([0.01, 0.005, 0.0025, 0.00125])
    assert in_steps == pytest.approx(intended)
    assert per_batch[2] == pytest.approx(0.01 / 2**5)
    assert per_batch[4] < 1.1e-5
