"""Several clinic visits per patient; one diagnosis per patient; new patients in the hidden set.

make(rng, n, n_train=2400, features=10, informative=3, separation=3.5, visit_noise=0.25,
     minority=0.2, label_noise=0.15, train_visits=(2, 6), hidden_visits=(1, 3))
    -> {"X": float32 (n, 1 + features), "y": int64 (n,)}

Each patient has a diagnosis y (1, the condition, with probability `minority`) and a
baseline: a standard normal vector in `features` dimensions, shifted by `separation`
along a direction that lives in `informative` of them when y = 1. Each visit of that
patient is the baseline plus N(0, visit_noise^2) noise, so visits of one patient lie
very close together and far from other patients. The measurements are then mixed by a
random rotation and given per-feature units (scales from 0.05 to 50 and offsets), so
they must be standardised before distances mean anything.

Column 0 of X is the patient id (an integer stored as float). The first `n_train` rows
(pass the spec's dataset.n_train) are whole patients with `train_visits` visits each
(the last one cut to fit); with probability `label_noise` a training patient's
diagnosis is recorded wrong (flipped, for all of that patient's visits). The hidden
rows are new patients, registered later (larger ids, none shared with training), with
`hidden_visits` visits each and correct diagnoses. Rows are shuffled within each part.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FIRST_ID = 10_000


def _patients(
    rng: np.random.Generator,
    rows: int,
    visits: tuple[int, int],
    direction: np.ndarray,
    separation: float,
    visit_noise: float,
    minority: float,
    label_noise: float,
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Draw whole patients until `rows` visits; return visits per patient, features, labels."""
    counts, blocks, labels = [], [], []
    drawn = 0
    while drawn < rows:
        m = min(int(rng.integers(visits[0], visits[1] + 1)), rows - drawn)
        sick = int(rng.random() < minority)
        baseline = rng.normal(0.0, 1.0, size=len(direction)) + separation * sick * direction
        blocks.append(baseline + rng.normal(0.0, visit_noise, size=(m, len(direction))))
        recorded = 1 - sick if rng.random() < label_noise else sick
        labels.append(np.full(m, recorded))
        counts.append(m)
        drawn += m
    return counts, np.concatenate(blocks), np.concatenate(labels)


def make(
    rng: np.random.Generator,
    n: int,
    n_train: int = 2400,
    features: int = 10,
    informative: int = 3,
    separation: float = 3.5,
    visit_noise: float = 0.25,
    minority: float = 0.2,
    label_noise: float = 0.15,
    train_visits: tuple[int, int] | list[int] = (2, 6),
    hidden_visits: tuple[int, int] | list[int] = (1, 3),
) -> dict[str, Any]:
    """Draw n visits: n_train of training patients (noisy labels), then new patients."""
    direction = np.zeros(features)
    direction[:informative] = 1.0 / np.sqrt(informative)
    shared = (direction, separation, visit_noise, minority)
    train_counts, train_F, train_y = _patients(
        rng, n_train, (int(train_visits[0]), int(train_visits[1])), *shared, label_noise
    )
    hidden_counts, hidden_F, hidden_y = _patients(
        rng, n - n_train, (int(hidden_visits[0]), int(hidden_visits[1])), *shared, 0.0
    )
    patients = len(train_counts) + len(hidden_counts)
    # Ids in registration order: the hidden (new) patients come after all training ones.
    ids = np.sort(rng.choice(np.arange(FIRST_ID, FIRST_ID + 20 * patients), patients, False))
    train_ids = np.repeat(ids[: len(train_counts)], train_counts)
    hidden_ids = np.repeat(ids[len(train_counts) :], hidden_counts)

    rotation = np.linalg.qr(rng.normal(size=(features, features)))[0]
    scales = np.exp(rng.uniform(np.log(0.05), np.log(50.0), size=features))
    offsets = rng.uniform(-3.0, 3.0, size=features) * scales * 4
    parts = []
    for pid, F, y in ((train_ids, train_F, train_y), (hidden_ids, hidden_F, hidden_y)):
        order = rng.permutation(len(y))
        measured = (F @ rotation) * scales + offsets
        parts.append((np.column_stack([pid, measured])[order], y[order]))
    X = np.concatenate([parts[0][0], parts[1][0]])
    y = np.concatenate([parts[0][1], parts[1][1]])
    return {"X": X.astype(np.float32), "y": y.astype(np.int64)}
