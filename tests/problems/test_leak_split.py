"""leak-split: the recipe's patients are whole, the hidden ones new, and the leak is real."""

from __future__ import annotations

import numpy as np

from tests.problems.bankfiles import recipe_module

N_TRAIN, N_HIDDEN = 2400, 4000


RECIPE = recipe_module("leak_split")


def _draw(seed: int) -> dict[str, np.ndarray]:
    return RECIPE.make(np.random.default_rng(seed), N_TRAIN + N_HIDDEN, n_train=N_TRAIN)


def test_shapes_dtypes_and_whole_patients() -> None:
    data = _draw(0)
    X, y = data["X"], data["y"]
    assert X.shape == (N_TRAIN + N_HIDDEN, 11) and X.dtype == np.float32
    assert y.shape == (N_TRAIN + N_HIDDEN,) and set(np.unique(y)) == {0, 1}
    ids = X[:, 0]
    assert np.array_equal(ids, np.round(ids))  # whole numbers, exact in float32
    for pid in np.unique(ids):
        rows = ids == pid
        assert len(np.unique(y[rows])) == 1  # one diagnosis per patient
    train_ids, hidden_ids = set(ids[:N_TRAIN]), set(ids[N_TRAIN:])
    assert not train_ids & hidden_ids  # hidden patients are new
    assert min(hidden_ids) > max(train_ids)  # registered later
    counts = np.unique(ids[:N_TRAIN], return_counts=True)[1]
    assert counts.max() <= 6 and np.median(counts) >= 3


def test_the_condition_is_the_minority_and_training_labels_are_noisier() -> None:
    y = _draw(1)["y"]
    assert 0.12 < y[N_TRAIN:].mean() < 0.28  # clean hidden labels: about one in five
    assert y[:N_TRAIN].mean() > y[N_TRAIN:].mean() + 0.05  # flips add false positives


def test_visits_of_one_patient_are_each_others_nearest_neighbours() -> None:
    X = _draw(2)["X"][:N_TRAIN]
    F = X[:, 1:]
    F = (F - F.mean(0)) / F.std(0)
    dist = ((F[:200, None, :] - F[None]) ** 2).sum(-1)
    dist[np.arange(200), np.arange(200)] = np.inf
    nearest = dist.argmin(1)
    same = X[nearest, 0] == X[:200, 0]
    assert same.mean() > 0.95  # the leak a random row split opens


def test_one_secret_one_draw() -> None:
    a, b, c = _draw(3), _draw(3), _draw(4)
    assert np.array_equal(a["X"], b["X"]) and np.array_equal(a["y"], b["y"])
    assert not np.array_equal(a["X"], c["X"])
