"""params-registration: the reference's answers agree with torch and with the closed forms.

Every labelled submission is judged by `judge validate` (make validate); these tests check
the reference itself on drawn calls, and that every draw catches each planted mistake.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.problems.bankfiles import BANK, hidden_calls, load_module, reference_module

SECRETS = ("alpha", "bravo", "charlie")


def _torch_sequential(sizes: list[int], batchnorm: bool, bias: bool) -> Any:
    """The architecture of the statement, built independently as one nn.Sequential."""
    nn = pytest.importorskip("torch").nn
    layers: list[Any] = []
    for d_in, d_out in itertools.pairwise(sizes[:-1]):
        layers.append(nn.Linear(d_in, d_out, bias=bias))
        if batchnorm:
            layers.append(nn.BatchNorm1d(d_out))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


@pytest.mark.slow
def test_count_parameters_matches_a_model_built_on_the_meta_device() -> None:
    torch = pytest.importorskip("torch")
    reference = reference_module("params-registration")
    for name in SECRETS:
        for call in hidden_calls("params-registration", name):
            if call["function"] != "count_parameters":
                continue
            with torch.device("meta"):
                model = _torch_sequential(*call["args"])
            expected = sum(p.numel() for p in model.parameters())
            assert reference.count_parameters(*call["args"]) == expected, call


def test_registered_counts_match_the_closed_forms() -> None:
    reference = reference_module("params-registration")
    for name in SECRETS:
        for call in hidden_calls("params-registration", name):
            if call["function"] != "registered_counts":
                continue
            sizes, batchnorm, bias = call["args"]
            hidden = sizes[1:-1]
            params = reference.count_parameters(sizes, batchnorm, bias)
            entries = len(hidden) * (1 + bias + 5 * batchnorm) + 2
            buffers = sum(2 * d + 1 for d in hidden) if batchnorm else 0
            doubles = params + (2 * sum(hidden) if batchnorm else 0)  # num_batches_tracked: int64
            assert reference.registered_counts(*call["args"]) == [
                params,
                entries,
                buffers,
                doubles,
            ], call


@pytest.mark.parametrize(
    "label",
    [
        "starter",
        "wrong_answer/norms_left_in_a_list.py",
        "wrong_answer/running_stats_counted.py",
        "wrong_answer/head_loses_bias_too.py",
    ],
)
def test_every_draw_catches_each_planted_mistake_many_times(label: str) -> None:
    problem = BANK.problem("params-registration")
    reference = reference_module("params-registration")
    path = problem.starter if label == "starter" else problem.reference_folder / label
    wrong = load_module(path)
    for name in SECRETS:
        calls = hidden_calls("params-registration", name)
        differ = sum(
            getattr(wrong, c["function"])(*c["args"])
            != getattr(reference, c["function"])(*c["args"])
            for c in calls
        )
        assert differ >= 10, (label, name, differ)
