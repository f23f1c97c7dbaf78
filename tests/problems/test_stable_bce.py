"""stable-bce: the recipe draws the ranges the statement promises, and the example is right.

The labelled submissions themselves are judged by `judge validate`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.problems.bankfiles import hidden_calls, reference_module


def _logits_range(call: dict[str, object]) -> float:
    args = call["args"]
    assert isinstance(args, list)
    return float(np.abs(args[0]).max())


def test_the_calls_mix_both_functions_and_all_three_ranges_of_logits() -> None:
    calls = hidden_calls("stable-bce", "stable-bce-test")
    assert len(calls) == 60
    names = [c["function"] for c in calls]
    assert names.count("log_sigmoid") == names.count("bce_with_logits") == 30
    ranges = [_logits_range(c) for c in calls]
    assert sum(r <= 12 for r in ranges) == 24
    assert sum(30 <= r <= 60 for r in ranges) == 18
    assert sum(100 <= r <= 5000 for r in ranges) == 18
    for call in calls:
        if call["function"] == "bce_with_logits":
            logits, targets = call["args"]
            assert len(logits) == len(targets) and all(0.0 <= t <= 1.0 for t in targets)


def test_hard_labels_put_a_sure_wrong_prediction_under_a_far_logit() -> None:
    calls = hidden_calls("stable-bce", "stable-bce-test")
    hard = [
        c["args"]
        for c in calls
        if c["function"] == "bce_with_logits"
        and set(c["args"][1]) <= {0.0, 1.0}
        and _logits_range(c) > 12
    ]
    assert hard
    for logits, targets in hard:
        assert any(
            abs(z) > 12 and (z > 0) != (t == 1.0) for z, t in zip(logits, targets, strict=True)
        )


def test_the_statement_examples_are_what_the_reference_returns() -> None:
    reference = reference_module("stable-bce")
    values = reference.log_sigmoid([0.0, 2.0, -1000.0]).tolist()
    assert values == pytest.approx([-math.log(2), -math.log1p(math.exp(-2)), -1000.0])
    mean = reference.bce_with_logits([1000.0, -3.0], [0.0, 0.0]).item()
    assert mean == pytest.approx((1000 + math.log1p(math.exp(-3))) / 2) and f"{mean:.6f}" == (
        "500.024294"
    )


def test_bce_loss_on_probabilities_caps_a_sure_wrong_prediction_at_100() -> None:
    torch = pytest.importorskip("torch")
    p = torch.sigmoid(torch.tensor([1000.0], dtype=torch.float64))
    capped = torch.nn.functional.binary_cross_entropy(p, torch.zeros(1, dtype=torch.float64))
    assert capped.item() == 100.0
    exact = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([1000.0], dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    )
    assert exact.item() == 1000.0
