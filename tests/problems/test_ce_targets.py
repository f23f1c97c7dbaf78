"""ce-targets: the reference agrees with nn.CrossEntropyLoss and a hand computation.

Every labelled submission is judged by `judge validate` (make validate); these tests check
the reference itself on drawn calls, and that every draw catches each planted mistake.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from tests.problems.bankfiles import BANK, hidden_calls, load_module, reference_module

SECRETS = ("alpha", "bravo", "charlie")


def _by_definition(call: dict[str, Any]) -> Any:
    """The answer from the statement's definitions, one sample at a time, in plain Python."""
    args = call["args"]
    if call["function"] == "encode_targets":
        labels, classes = args
        return [classes.index(label) for label in labels]
    if call["function"] == "decode_predictions":
        logits, classes = args
        return [classes[row.index(max(row))] for row in logits]
    logits, targets, target_format = args
    total = 0.0
    for row, target in zip(logits, targets, strict=True):
        top = max(row)
        log_z = top + math.log(sum(math.exp(v - top) for v in row))
        if target_format in ("one_hot", "soft"):
            total -= sum(p * (v - log_z) for p, v in zip(target, row, strict=True))
        else:
            k = round(target) - (1 if target_format == "one_based" else 0)
            assert abs(target - round(target)) <= 1e-4 and 0 <= k < len(row)
            total -= row[k] - log_z
    return total / len(logits)


@pytest.mark.slow
def test_reference_matches_the_definitions_and_torch_on_drawn_calls() -> None:
    torch = pytest.importorskip("torch")
    reference = reference_module("ce-targets")
    for name in SECRETS:
        for call in hidden_calls("ce-targets", name):
            got = getattr(reference, call["function"])(*call["args"])
            assert np.allclose(got, _by_definition(call), rtol=1e-12, atol=1e-12), call
            if call["function"] == "cross_entropy" and call["args"][2] == "one_hot":
                logits, targets, _ = call["args"]
                index = torch.tensor(targets).argmax(dim=1)
                loss = torch.nn.CrossEntropyLoss()(torch.tensor(logits, dtype=torch.float64), index)
                assert math.isclose(got, loss.item(), rel_tol=1e-12), call


def _answers_right(module: ModuleType, reference: ModuleType, call: dict[str, Any]) -> bool:
    try:
        got = getattr(module, call["function"])(*call["args"])
    except Exception:
        return False
    want = getattr(reference, call["function"])(*call["args"])
    a, b = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


@pytest.mark.parametrize(
    "label",
    [
        "starter",
        "wrong_answer/float_truncated.py",
        "wrong_answer/label_encoder_per_batch.py",
        "wrong_answer/soft_targets_argmaxed.py",
        "wrong_answer/softmax_before_loss.py",
    ],
)
def test_every_draw_catches_each_planted_mistake_many_times(label: str) -> None:
    problem = BANK.problem("ce-targets")
    reference = reference_module("ce-targets")
    path = problem.starter if label == "starter" else problem.reference_folder / label
    wrong = load_module(path)
    for name in SECRETS:
        wrong_calls = sum(
            not _answers_right(wrong, reference, c) for c in hidden_calls("ce-targets", name)
        )
        assert wrong_calls >= 6, (label, name, wrong_calls)
