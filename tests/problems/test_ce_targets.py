"""ce-targets: the reference agrees with nn.CrossEntropyLoss and a hand computation.

Every labelled submission is judged by `judge validate` (make validate); these tests check
the reference itself on drawn calls, and that every draw catches each planted mistake.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from judge.bank import Bank
from judge.data import draw_function_calls, resolve_secret

ROOT = Path(__file__).resolve().parents[2]
BANK = Bank(ROOT)
SECRETS = ("alpha", "bravo", "charlie")


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_ce_targets_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(name: str) -> list[dict[str, Any]]:
    problem = BANK.problem("ce-targets")
    return draw_function_calls(problem.spec, BANK.datasets_dir, resolve_secret(name, None)).calls


def _reference() -> ModuleType:
    problem = BANK.problem("ce-targets")
    assert problem.spec.function is not None
    return _load(problem.reference_folder / problem.spec.function.reference)


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
    reference = _reference()
    for name in SECRETS:
        for call in _calls(name):
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
    reference = _reference()
    path = problem.starter if label == "starter" else problem.reference_folder / label
    wrong = _load(path)
    for name in SECRETS:
        wrong_calls = sum(not _answers_right(wrong, reference, c) for c in _calls(name))
        assert wrong_calls >= 6, (label, name, wrong_calls)
