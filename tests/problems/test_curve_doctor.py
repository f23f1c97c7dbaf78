"""curve-doctor: the recipe's logs are what they claim, and the reference labels them so."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.problems.bankfiles import ROOT, load_module

RECIPE = load_module(ROOT / "datasets" / "curve_doctor.py")
REFERENCE = load_module(ROOT / "reference" / "curve-doctor" / "accepted" / "solution.py")
WRONG = ROOT / "reference" / "curve-doctor" / "wrong_answer"


@pytest.mark.parametrize("seed", range(30))
def test_the_reference_gives_every_drawn_log_its_intended_label(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for i in range(4 * len(RECIPE.LABELS)):
        label = RECIPE.LABELS[i % len(RECIPE.LABELS)]
        log = RECIPE.draw_log(rng, label, variant=i // len(RECIPE.LABELS))
        assert REFERENCE.diagnose(log) == label


def test_make_draws_equal_shares_of_plain_json_logs() -> None:
    calls = RECIPE.make(np.random.default_rng(7), 160)
    assert len(calls) == 160
    json.dumps(calls, allow_nan=False)
    labels = [REFERENCE.diagnose(*call["args"]) for call in calls]
    assert {label: labels.count(label) for label in RECIPE.LABELS} == dict.fromkeys(
        RECIPE.LABELS, 20
    )
    for call in calls:
        log = call["args"][0]
        lengths = {len(log[key]) for key in log if key != "classes"}
        assert len(lengths) == 1 and 12 <= lengths.pop() <= 40
        assert all(v is not None and math.isfinite(v) for v in log["train_acc"] + log["lr"])


def test_the_nan_logs_include_ones_a_last_epoch_check_misses() -> None:
    rng = np.random.default_rng(3)
    logs = [RECIPE.draw_log(rng, "nan", variant) for variant in range(4)]
    last_finite = [
        log["train_loss"][-1] is not None and log["val_loss"][-1] is not None for log in logs
    ]
    assert sum(last_finite) == 3  # only the diverged variant ends in None
    assert logs[2]["train_loss"].count(None) == 0 and logs[2]["val_loss"].count(None) > 0
    assert logs[3]["grad_norm"].count(None) == 1


def test_the_reference_treats_float_nan_like_none() -> None:
    log = RECIPE.draw_log(np.random.default_rng(0), "healthy", variant=1)
    log["val_loss"][5] = float("nan")
    assert REFERENCE.diagnose(log) == "nan"


@pytest.mark.parametrize(
    ("wrong", "missed"),
    [
        ("benign_before_leak", "leak"),
        ("flat_means_chance_loss", "flat"),
        ("nan_only_in_train_loss", "nan"),
    ],
)
def test_each_wrong_answer_misreads_its_category(wrong: str, missed: str) -> None:
    module = load_module(WRONG / f"{wrong}.py")
    calls = RECIPE.make(np.random.default_rng(11), 160)
    misread = {
        REFERENCE.diagnose(*call["args"])
        for call in calls
        if module.diagnose(*call["args"]) != REFERENCE.diagnose(*call["args"])
    }
    assert missed in misread
