"""Metrics, pass/fail and scaled points: arrays in, numbers out. Pure; no I/O.

Metrics are scikit-learn's. Function-kind answers are compared exactly or with
numpy.allclose on nested lists of numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from judge.errors import InvalidOutput, ScorerError
from judge.spec import FunctionSpec, PartSpec, ScoringSpec

Metric = Callable[[NDArray[Any], NDArray[Any]], float]


@dataclass(frozen=True)
class PartMeasure:
    """What a kind measured for one part, on the private and the public part of the split.

    private, public: the share of the part's calls or items answered right, or, for a
        metric part, the metric.
    message: what went wrong, for the contestant ("2 of 14 hidden calls wrong");
        never a hidden value. public_message: the same of the public part alone, what a
        contestant sees while a round hides its private part.
    banned: the banned API the run was caught using (the runtime guard), or "".
    """

    id: str
    private: float
    public: float
    message: str = ""
    public_message: str = ""
    banned: str = ""
    explanation: str = ""  # the setter's, for practice once judged (a quiz item's)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scores:
    """A run's metric on the private (final) and the public part of the hidden split.

    parts: what each of the problem's parts measured (empty for a one-part problem).
    """

    private: float
    public: float
    parts: tuple[PartMeasure, ...] = ()
    banned: str = ""  # a banned API the runtime guard caught the run using
    notes: tuple[str, ...] = ()  # for the contestant: what of the hand-in was not scored

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.private,
            "public_metric": self.public,
            "parts": [part.to_dict() for part in self.parts],
            "banned": self.banned,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scores:
        parts = tuple(PartMeasure(**part) for part in data.get("parts", []))
        return cls(
            float(data["metric"]),
            float(data["public_metric"]),
            parts,
            str(data.get("banned", "")),
            tuple(str(note) for note in data.get("notes", ())),
        )


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


def scaled_points(value: float, accepted: bool, scoring: ScoringSpec, max_points: float) -> float:
    """IOAI-style points: max_points * clip((m - baseline) / (target - baseline), 0, 1)."""
    if scoring.baseline is None or scoring.target is None:
        return max_points if accepted else 0.0
    share = (value - scoring.baseline) / (scoring.target - scoring.baseline)
    return round(max_points * min(1.0, max(0.0, share)), 6)


def part_points(part: PartSpec, value: float, scoring: ScoringSpec, direction: str) -> float:
    """The points `part` earns for what was measured on it (PartMeasure.private or .public).

    A calls or items part: all its points when every one is right, else none, or a
    proportional share with `partial: proportional`. A metric part: scaled between the
    part's baseline and target (else scoring's), or all-or-nothing on the pass threshold.
    """
    if not part.metric:
        if part.partial == "proportional":
            return round(part.points * min(1.0, max(0.0, value)), 6)
        return part.points if value >= 1.0 else 0.0
    baseline = part.baseline if part.baseline is not None else scoring.baseline
    target = part.target if part.baseline is not None else scoring.target
    if baseline is None or target is None:
        return part.points if passes(value, scoring.pass_, direction) else 0.0
    share = (value - baseline) / (target - baseline)
    return round(part.points * min(1.0, max(0.0, share)), 6)


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
