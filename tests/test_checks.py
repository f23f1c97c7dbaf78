"""A train-predict part scored by a setter's check of what the run wrote beside its
predictions: early-stop-best's training log, replayed against the stopping rule.

The check itself is unit-tested with golden logs and fuzzed with arbitrary JSON (it
must answer, never crash); the kind is tested end to end on the process sandbox with
small programs that write crafted logs, on the real early-stop-best and on a copy of
the fixture bank whose checks are broken on purpose.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judge.bank import Bank
from judge.data import Secret
from judge.errors import InvalidOutput, SpecError
from judge.kinds import get_kind
from judge.runner import run_submission
from judge.sandbox.process import ProcessSandbox
from judge.spec import load_spec
from judge.verdicts import Result, Verdict

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "bank"
SECRET = Secret(b"checks-tests", "test")
LOG = "early_stopping.json"


def _load_checks() -> ModuleType:
    path = ROOT / "reference" / "early-stop-best" / "checks.py"
    module_spec = importlib.util.spec_from_file_location("early_stop_checks", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


CHECKS = _load_checks()


def curve_with_stall(stop_early_by: int = 0) -> tuple[list[float], int]:
    """Climb, stall for 5 epochs, climb to the best at epoch 12, then 200 epochs lower."""
    climb = [0.40 + 0.02 * i for i in range(6)]  # epochs 0-5, best 0.50
    stall = [0.49, 0.50, 0.48, 0.50, 0.47]  # epochs 6-10: no new best
    peak = [0.55, 0.60]  # epochs 11-12
    after = [0.58 - 0.0001 * (i % 7) for i in range(200 - stop_early_by)]
    return climb + stall + peak + after, 12


def check(tmp_path: Path, log: Any) -> str | None:
    (tmp_path / LOG).write_text(json.dumps(log))
    message: str | None = CHECKS.stops_as_described(tmp_path)
    return message


# -- the setter's check, golden logs ------------------------------------------------------


def test_a_log_that_stops_where_the_rule_says_holds(tmp_path: Path) -> None:
    curve, best = curve_with_stall()
    assert len(curve) == best + 200 + 1
    assert check(tmp_path, {"val_accuracy": curve, "best_epoch": best}) is None


def test_a_counter_that_never_resets_stops_early_and_is_told_so(tmp_path: Path) -> None:
    curve, best = curve_with_stall(stop_early_by=5)  # the 5 stalled epochs counted too
    message = check(tmp_path, {"val_accuracy": curve, "best_epoch": best})
    assert message is not None
    assert "only 195 epochs after the best epoch 12" in message
    assert "after epoch 212" in message


def test_a_loop_that_runs_past_its_stop_is_told_where_it_should_have_stopped(
    tmp_path: Path,
) -> None:
    curve, best = curve_with_stall()
    message = check(tmp_path, {"val_accuracy": [*curve, 0.3, 0.3], "best_epoch": best})
    assert message is not None and "should have stopped there" in message
    assert "after epoch 212" in message


def test_a_wrong_best_epoch_is_named(tmp_path: Path) -> None:
    curve, _ = curve_with_stall()
    message = check(tmp_path, {"val_accuracy": curve, "best_epoch": 11})
    assert message == "best_epoch is 11, but the best validation accuracy came at epoch 12"


def test_a_tie_is_not_a_new_best(tmp_path: Path) -> None:
    curve = [0.5, 0.6, *([0.6] * 200)]  # the tie at epoch 2 starts the 200 epochs
    assert check(tmp_path, {"val_accuracy": curve, "best_epoch": 1}) is None


def test_a_run_to_max_epochs_holds(tmp_path: Path) -> None:
    curve = [i / 2000 for i in range(1000)]  # a new best every epoch: never stops early
    assert check(tmp_path, {"val_accuracy": curve, "best_epoch": 999}) is None


@pytest.mark.parametrize(
    ("log", "error"),
    [
        ([0.5], "must hold an object"),
        ({"best_epoch": 0}, "has no 'val_accuracy'"),
        ({"val_accuracy": [0.5]}, "has no 'best_epoch'"),
        ({"val_accuracy": [], "best_epoch": 0}, "must list 1 to 1000 numbers"),
        ({"val_accuracy": [0.5] * 1001, "best_epoch": 0}, "must list 1 to 1000 numbers"),
        ({"val_accuracy": [0.5, "0.6"], "best_epoch": 0}, "val_accuracy[1] is not a number"),
        ({"val_accuracy": [True], "best_epoch": 0}, "val_accuracy[0] is not a number"),
        ({"val_accuracy": [1.5], "best_epoch": 0}, "val_accuracy[0] = 1.5 is not in [0, 1]"),
        ({"val_accuracy": [0.5], "best_epoch": 0.0}, "best_epoch must be an integer"),
    ],
)
def test_a_malformed_log_is_invalid_output_naming_what(
    tmp_path: Path, log: Any, error: str
) -> None:
    with pytest.raises(InvalidOutput, match=error.replace("[", r"\[").replace("]", r"\]")):
        check(tmp_path, log)


def test_a_missing_or_non_json_log_is_invalid_output(tmp_path: Path) -> None:
    with pytest.raises(InvalidOutput, match="was not written"):
        CHECKS.stops_as_described(tmp_path)
    (tmp_path / LOG).write_text('{"val_accuracy": [0.5], NaN')
    with pytest.raises(InvalidOutput, match="not valid JSON"):
        CHECKS.stops_as_described(tmp_path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    log=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"val_accuracy": st.lists(st.floats(0, 1) | JSON, max_size=30), "best_epoch": JSON}
        ),
    )
)
def test_the_check_answers_any_json_without_crashing(log: Any) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / LOG
        path.write_text(json.dumps(log))
        try:
            answer = CHECKS.stops_as_described(Path(folder))
        except InvalidOutput:
            return
        assert answer is None or isinstance(answer, str)


# -- the kind, end to end on the process sandbox --------------------------------------------

PROGRAM = """\
import json, os
import numpy as np
out = os.environ["OUTPUT_DIR"]
n = len(np.load(os.path.join(os.environ["DATA_DIR"], "test_X.npy")))
np.save(os.path.join(out, "predictions.npy"), np.zeros(n, dtype=np.int64))
LOG = {log}
if LOG is not None:
    with open(os.path.join(out, "early_stopping.json"), "w") as f:
        json.dump(LOG, f)
"""


def judge_program(bank: Bank, slug: str, log: Any, tmp_path: Path) -> Result:
    source = tmp_path / "submission.py"
    source.write_text(PROGRAM.format(log=repr(log)))
    return run_submission(bank.problem(slug), source, ProcessSandbox(), SECRET, bank)


def by_id(result: Result) -> dict[str, tuple[float, str]]:
    return {part.id: (part.points, part.message) for part in result.parts}


def test_a_right_log_earns_the_stopping_part_beside_a_failed_metric(tmp_path: Path) -> None:
    curve, best = curve_with_stall()
    result = judge_program(
        Bank(ROOT), "early-stop-best", {"val_accuracy": curve, "best_epoch": best}, tmp_path
    )
    assert result.verdict is Verdict.WA
    parts = by_id(result)
    assert parts["stopping"] == (30.0, "holds")
    assert parts["best-weights"][0] == 0.0 and parts["best-weights"][1].startswith("accuracy = ")
    assert result.score == 30.0


def test_an_early_stop_costs_the_stopping_part_with_the_reason(tmp_path: Path) -> None:
    curve, best = curve_with_stall(stop_early_by=5)
    result = judge_program(
        Bank(ROOT), "early-stop-best", {"val_accuracy": curve, "best_epoch": best}, tmp_path
    )
    points, message = by_id(result)["stopping"]
    assert points == 0.0 and "only 195 epochs after the best epoch 12" in message
    assert "part stopping: 0/30" in result.message


def test_a_missing_log_costs_only_its_part(tmp_path: Path) -> None:
    result = judge_program(Bank(ROOT), "early-stop-best", None, tmp_path)
    assert result.verdict is Verdict.WA  # the predictions were scored: not IO
    assert by_id(result)["stopping"] == (0.0, "early_stopping.json was not written")


CHECK_SPEC = """
parts:
  - {id: accuracy, title: Accuracy, points: 6, metric: true}
  - {id: log, title: Writes its log, points: 4, check: CHECK}
"""


@pytest.fixture
def checked_bank(tmp_path: Path) -> Bank:
    root = tmp_path / "bank"
    shutil.copytree(FIXTURES, root)
    spec = root / "problems" / "threshold" / "spec.yaml"
    text = spec.read_text().replace("  baseline: 0.5\n  target: 0.9\n", "")
    spec.write_text(text + CHECK_SPEC)
    return Bank(root)


def _with_check(bank: Bank, name: str, body: str) -> None:
    spec = bank.root / "problems" / "threshold" / "spec.yaml"
    spec.write_text(spec.read_text().replace("CHECK", name))
    (bank.reference_dir / "threshold" / "checks.py").write_text(body)


def test_a_check_that_crashes_is_the_judges_error_not_the_contestants(
    checked_bank: Bank, tmp_path: Path
) -> None:
    _with_check(checked_bank, "broken", "def broken(output):\n    return 1 / 0\n")
    result = judge_program(checked_bank, "threshold", None, tmp_path)
    assert result.verdict is Verdict.IE
    assert "ZeroDivisionError" in result.message


def test_a_check_the_module_lacks_is_a_spec_error_at_staging_and_in_validate(
    checked_bank: Bank, tmp_path: Path
) -> None:
    _with_check(checked_bank, "missing", "def other(output):\n    return None\n")
    problem = checked_bank.problem("threshold")
    (tmp_path / "solution.py").write_text("print('never run')\n")
    with pytest.raises(SpecError, match=r"no check function missing\(\)"):
        run_submission(problem, tmp_path / "solution.py", ProcessSandbox(), SECRET, checked_bank)
    kind = get_kind("train-predict")
    notes = kind.check_data(problem, checked_bank, SECRET).notes
    assert any("no check function missing()" in note.message for note in notes)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("  - {id: x, title: X, points: 1, check: log, metric: true}\n", "exactly one of"),
        ("  - {id: x, title: X, points: 1, check: log, partial: proportional}\n", "all-or-nothing"),
        ("  - {id: x, title: X, points: 1, check: not-a-name}\n", "check"),
    ],
)
def test_a_broken_check_part_is_a_spec_error(tmp_path: Path, change: str, error: str) -> None:
    text = (FIXTURES / "problems" / "threshold" / "spec.yaml").read_text()
    text = text.replace("  baseline: 0.5\n  target: 0.9\n", "") + "parts:\n" + change
    (tmp_path / "spec.yaml").write_text(text)
    with pytest.raises(SpecError, match=error):
        load_spec(tmp_path / "spec.yaml")


def test_only_a_train_predict_part_runs_a_check(tmp_path: Path) -> None:
    text = (FIXTURES / "problems" / "add-arrays" / "spec.yaml").read_text()
    (tmp_path / "spec.yaml").write_text(
        text + "parts:\n  - {id: a, title: A, points: 1, functions: [add]}\n"
        "  - {id: x, title: X, points: 1, check: log}\n"
    )
    with pytest.raises(SpecError, match="only a train-predict part runs a setter's check"):
        load_spec(tmp_path / "spec.yaml")
