"""Scoring is pure: metrics, pass thresholds, scaled points, answer comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.bank import Bank
from judge.errors import InvalidOutput, ScorerError
from judge.kinds import get_kind
from judge.scoring import (
    answers_match,
    compute_metric,
    passes,
    perfect_prediction,
    scaled_points,
)
from judge.spec import FunctionSpec, ScoringSpec

SCALED = ScoringSpec.model_validate({"pass": 0.8, "baseline": 0.5, "target": 0.9})
MSE_SCALED = ScoringSpec.model_validate({"pass": 0.3, "baseline": 1.0, "target": 0.2})


def test_accuracy_matches_hand_count() -> None:
    assert compute_metric("accuracy", np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])) == 0.75


def test_dice_counts_overlap_of_the_positive_class_over_every_mask_element() -> None:
    truth = np.array([[[1, 1], [0, 0]], [[0, 1], [0, 0]]])
    guess = np.array([[[1, 0], [0, 0]], [[0, 1], [1, 0]]])
    # tp 2, fp 1, fn 1: 2 * 2 / (2 * 2 + 1 + 1)
    assert compute_metric("dice", truth, guess) == pytest.approx(4 / 6)


def test_dice_of_an_empty_prediction_is_zero_not_an_error() -> None:
    truth = np.array([[[1, 0], [0, 0]]] * 2)
    assert compute_metric("dice", truth, np.zeros_like(truth)) == 0.0


def test_dice_on_hidden_masks_without_positives_is_the_problems_fault() -> None:
    empty = np.zeros((2, 2, 2), dtype=int)
    with pytest.raises(ScorerError, match="no positive"):
        compute_metric("dice", empty, empty)


def test_dice_with_a_third_class_is_invalid_output() -> None:
    truth = np.array([[[1, 0], [0, 0]]] * 2)
    with pytest.raises(InvalidOutput):
        compute_metric("dice", truth, np.full_like(truth, 2))


def test_minimised_metric_passes_below_threshold() -> None:
    assert passes(0.1, 0.3, "min") and not passes(0.4, 0.3, "min")
    assert passes(0.8, 0.8, "max") and not passes(0.79, 0.8, "max")


def test_scaled_points_follow_the_ioai_formula() -> None:
    assert scaled_points(0.7, False, SCALED, 100.0) == pytest.approx(50.0)
    assert scaled_points(0.95, True, SCALED, 100.0) == 100.0
    assert scaled_points(0.1, False, SCALED, 100.0) == 0.0
    assert scaled_points(0.6, False, MSE_SCALED, 100.0) == pytest.approx(50.0)


def test_without_baseline_only_accepted_scores() -> None:
    plain = ScoringSpec.model_validate({"pass": 0.9, "max_points": 7})
    assert (
        scaled_points(0.95, True, plain, 7.0) == 7 and scaled_points(0.85, False, plain, 7.0) == 0
    )


@given(st.floats(-1e6, 1e6), st.booleans())
def test_points_stay_within_bounds(value: float, accepted: bool) -> None:
    assert 0.0 <= scaled_points(value, accepted, SCALED, 100.0) <= (100.0)


def test_probabilities_outside_unit_interval_are_invalid_output() -> None:
    with pytest.raises(InvalidOutput):
        compute_metric("roc_auc", np.array([0, 1]), np.array([0.2, 1.7]))


def test_log_loss_of_class_rows_takes_class_indices_and_every_class() -> None:
    rows = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    # class 2 is never a label, yet the rows' three columns are the three classes
    expected = -(np.log(0.7) + np.log(0.8)) / 2
    assert compute_metric("log_loss", np.array([0, 1]), rows) == pytest.approx(expected)


def test_the_perfect_prediction_of_class_labels_is_their_one_hot_rows() -> None:
    labels = np.array([2, 0, 1, 2])
    perfect = perfect_prediction(labels, 3)
    assert perfect.shape == (4, 3) and compute_metric("log_loss", labels, perfect) < 1e-12
    assert perfect_prediction(labels, None) is labels


@pytest.mark.parametrize(
    "rows",
    [np.ones((2, 3)), np.array([[0.5, 0.2, 0.1], [0.1, 0.8, 0.1]]), np.full((2, 3), np.nan)],
)
def test_class_rows_that_do_not_sum_to_one_are_invalid_output(rows: np.ndarray) -> None:
    # all-ones rows would otherwise score a perfect log loss
    with pytest.raises(InvalidOutput, match="must sum to 1"):
        compute_metric("log_loss", np.array([0, 1]), rows)


def test_exact_comparison_treats_5_and_5_0_alike_but_not_bools() -> None:
    exact = FunctionSpec(names=["f"])
    assert answers_match([5, 6], [5.0, 6], exact)
    assert not answers_match([True], [1], exact)
    assert not answers_match([5, 6], [5, 7], exact)
    assert not answers_match({"a": 1}, [1], exact)


def test_allclose_uses_declared_tolerances() -> None:
    close = FunctionSpec(names=["f"], compare="allclose", rtol=1e-6)
    assert answers_match([1.0, 2.0], [1.0 + 1e-9, 2.0], close)
    assert not answers_match([1.0, 2.1], [1.0, 2.0], close)
    assert not answers_match("text", [1.0], close)
    assert not answers_match([1.0], [[1.0]], close)


def test_a_function_problem_counts_only_calls_that_returned_the_right_value(
    tmp_path: Path,
) -> None:
    spec = Bank(Path(__file__).parent / "fixtures" / "bank").problem("add-arrays").spec
    results = [{"ok": True, "value": 1}, {"ok": False, "error": "x"}, {"ok": True, "value": 3}]
    (tmp_path / "results.json").write_text(json.dumps(results))
    truth = {"expected": [1, 2, 4], "functions": ["add"] * 3}
    scores = get_kind("function").score(spec, tmp_path, truth, [2], 1 << 20)
    assert scores.private == 0.5 and scores.public == 0.0 and scores.parts == ()


def test_a_metric_undefined_on_the_hidden_labels_is_the_judges_fault() -> None:
    with pytest.raises(ScorerError, match="undefined on this hidden split"):
        compute_metric("roc_auc", np.array([1, 1, 1]), np.array([0.2, 0.5, 0.9]))
