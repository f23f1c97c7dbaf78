"""Metrics, pass/fail and scaled points: arrays in, numbers out. Pure; no I/O.

Metrics are scikit-learn's. Function-kind answers are compared exactly or with
numpy.allclose on nested lists of numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from judge.errors import InvalidOutput, ScorerError
from judge.spec import FunctionSpec, ScoringSpec

Metric = Callable[[NDArray[Any], NDArray[Any]], float]


class _LazyMetrics:
    """sklearn.metrics, imported on first use: function problems never pay its ~1 s import."""

    def __getattr__(self, name: str) -> Any:
        from sklearn import metrics

        return getattr(metrics, name)


skm = _LazyMetrics()


def _probabilities(y_pred: NDArray[Any]) -> NDArray[Any]:
    if np.any(y_pred < 0) or np.any(y_pred > 1):
        raise InvalidOutput("probabilities must lie in [0, 1]")
    return y_pred


# How far a row of class probabilities may sum from 1 (float32 softmax rounding is ~1e-7).
ROW_SUM_TOLERANCE = 1e-4


def _log_loss(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    """Log loss of probabilities: (n,) of the positive class, or (n, k) rows over k classes.

    Rows of class probabilities must sum to 1: unnormalised rows (all ones) would
    otherwise score a perfect loss. Labels of (n, k) rows are class indices (n,).
    """
    probabilities = _probabilities(y_pred)
    clipped = np.clip(probabilities, 1e-15, 1 - 1e-15)
    if probabilities.ndim != 2:
        return float(skm.log_loss(y_true, clipped))
    sums = probabilities.sum(axis=1)
    bad = np.flatnonzero(~(np.abs(sums - 1.0) <= ROW_SUM_TOLERANCE))
    if bad.size:
        raise InvalidOutput(
            f"each row of class probabilities must sum to 1; row {bad[0]} sums to "
            f"{sums[bad[0]]:.6g} ({bad.size} rows are off)"
        )
    rows = clipped / clipped.sum(axis=1, keepdims=True)
    return float(skm.log_loss(y_true, rows, labels=np.arange(probabilities.shape[1])))


def _dice(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    """Dice: binary F1 of the positive class (1) over every element of the masks.

    Predicting no positive at all scores 0; hidden masks with no positive make Dice
    undefined, which is the problem's fault.
    """
    if not np.any(y_true == 1):
        raise ScorerError("dice is undefined: the hidden masks hold no positive element")
    return float(skm.f1_score(y_true, y_pred, average="binary", pos_label=1, zero_division=0))


METRICS: dict[str, Metric] = {
    "accuracy": lambda t, p: float(skm.accuracy_score(t, p)),
    "balanced_accuracy": lambda t, p: float(skm.balanced_accuracy_score(t, p)),
    "macro_f1": lambda t, p: float(skm.f1_score(t, p, average="macro", zero_division=0)),
    "micro_f1": lambda t, p: float(skm.f1_score(t, p, average="micro", zero_division=0)),
    "dice": lambda t, p: _dice(t, p),
    "roc_auc": lambda t, p: float(skm.roc_auc_score(t, _probabilities(p))),
    "r2": lambda t, p: float(skm.r2_score(t, p)),
    "mse": lambda t, p: float(skm.mean_squared_error(t, p)),
    "mae": lambda t, p: float(skm.mean_absolute_error(t, p)),
    "log_loss": lambda t, p: _log_loss(t, p),
}


def compute_metric(name: str, y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    """Compute a named metric; bad predictions raise InvalidOutput, metric bugs ScorerError.

    Outputs with two or more dimensions per row (masks, images) are scored per element.
    """
    try:
        metric = METRICS[name]
    except KeyError:
        raise ScorerError(f"unknown metric {name!r}") from None
    if y_true.ndim >= 3:  # images and volumes are scored per element (pixel accuracy, F1)
        y_true, y_pred = y_true.ravel(), y_pred.ravel()
    from sklearn.exceptions import UndefinedMetricWarning

    try:
        with warnings.catch_warnings():
            # An ill-defined metric (one class in the hidden labels, one sample) is the
            # problem's fault, not the contestant's: never let it pass as a number.
            warnings.simplefilter("error", UndefinedMetricWarning)
            value = metric(y_true, y_pred)
    except InvalidOutput:
        raise
    except UndefinedMetricWarning as exc:
        raise ScorerError(f"{name} is undefined on this hidden split: {exc}") from None
    except ValueError as exc:  # sklearn's complaint about the predictions' values
        raise InvalidOutput(f"predictions cannot be scored with {name}: {exc}") from None
    if not math.isfinite(value):
        raise InvalidOutput(f"{name} of the predictions is not finite")
    return value


def perfect_prediction(y_true: NDArray[Any], class_count: int | None) -> NDArray[Any]:
    """The prediction that matches the labels exactly: one-hot rows for class probabilities."""
    if class_count is None:
        return y_true
    one_hot: NDArray[Any] = np.eye(class_count)[y_true]
    return one_hot


def passes(value: float, threshold: float, direction: str) -> bool:
    """Whether a metric value meets the pass threshold in its direction."""
    return value >= threshold if direction == "max" else value <= threshold


def scaled_points(value: float, accepted: bool, scoring: ScoringSpec) -> float:
    """IOAI-style points: max_points * clip((m - baseline) / (target - baseline), 0, 1)."""
    if scoring.baseline is None or scoring.target is None:
        return scoring.max_points if accepted else 0.0
    share = (value - scoring.baseline) / (scoring.target - scoring.baseline)
    return round(scoring.max_points * min(1.0, max(0.0, share)), 6)


def _as_numbers(value: Any) -> NDArray[np.float64] | None:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return array


def _exactly_equal(got: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return got == expected
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(
            _exactly_equal(g, e) for g, e in zip(got, expected, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(
            _exactly_equal(got[k], expected[k]) for k in expected
        )
    return type(got) is type(expected) and bool(got == expected)


def answers_match(got: Any, expected: Any, spec: FunctionSpec) -> bool:
    """Compare one returned value with the expected one, exactly or with tolerances.

    Exact: equal numbers match whatever their type (5 and 5.0), booleans only booleans.
    """
    if spec.compare == "exact":
        return _exactly_equal(got, expected)
    a, b = _as_numbers(got), _as_numbers(expected)
    if a is None or b is None or a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=spec.rtol, atol=spec.atol, equal_nan=False))


def cases_passed(results: list[dict[str, Any]], expected: list[Any], spec: FunctionSpec) -> float:
    """Share of calls whose returned value matches the expected one."""
    if len(results) != len(expected):
        raise ScorerError("results and expected values differ in length")
    good = sum(
        1
        for got, want in zip(results, expected, strict=True)
        if got.get("ok") is True and answers_match(got.get("value"), want, spec)
    )
    return good / len(expected)
