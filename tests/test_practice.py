"""Practice at home: `judge fetch` writes a practice draw with its answers (never the hidden
one), and `judge check` scores a file on it, on this machine, labelled as practice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from judge.bank import Bank
from judge.bundle import fetch_problem
from judge.data import Secret, draw_function_calls, draw_train_predict
from judge.kinds.function import reference_answers

FIXTURES = Path(__file__).parent / "fixtures" / "bank"
BANK = Bank(FIXTURES)
SECRET = Secret(b"practice-tests", "test")
ENV = {"JUDGE_BANK": str(FIXTURES), "JUDGE_SECRET": "practice-tests"}


def invoke(*args: str) -> tuple[int, str]:
    from judge.cli import app

    out = CliRunner().invoke(app, list(args), env=ENV)
    return out.exit_code, out.stdout if out.exit_code == 0 else out.output


def test_a_function_folder_has_the_references_answers_to_its_practice_calls(
    tmp_path: Path,
) -> None:
    problem = BANK.problem("add-arrays")
    fetch_problem(problem, BANK, SECRET, tmp_path / "p")
    data = tmp_path / "p" / "data"
    calls = json.loads((data / "calls.json").read_text())
    expected = json.loads((data / "expected.json").read_text())
    assert expected == reference_answers(problem, data / "calls.json")
    assert expected[0] == pytest.approx([a + b for a, b in zip(*calls[0]["args"], strict=True)])
    hidden = draw_function_calls(problem.spec, BANK.datasets_dir, SECRET).calls
    assert not any(call in hidden for call in calls)  # a draw apart from the hidden one


def test_a_train_predict_folder_has_labels_for_its_practice_rows_only(tmp_path: Path) -> None:
    problem = BANK.problem("threshold")
    fetch_problem(problem, BANK, SECRET, tmp_path / "p")
    data = tmp_path / "p" / "data"
    labels, rows = np.load(data / "test_y.npy"), np.load(data / "test_X.npy")
    practice = draw_train_predict(problem.spec, BANK.datasets_dir, SECRET, purpose="practice")
    assert np.array_equal(labels, practice.hidden_y) and len(labels) == len(rows)
    hidden = draw_train_predict(problem.spec, BANK.datasets_dir, SECRET).hidden_X
    assert not {row.tobytes() for row in rows} & {row.tobytes() for row in hidden}


@pytest.mark.parametrize(
    ("slug", "file", "verdict"),
    [
        ("add-arrays", "reference/add-arrays/accepted/solution.py", "AC"),
        ("add-arrays", "problems/add-arrays/starter.py", "WA"),
        ("threshold", "problems/threshold/starter.py", "WA"),
    ],
)
def test_check_scores_a_file_on_the_fetched_folder(
    tmp_path: Path, slug: str, file: str, verdict: str
) -> None:
    folder = tmp_path / slug
    assert invoke("fetch", slug, str(folder))[0] == 0
    code, out = invoke("check", slug, str(FIXTURES / file), "--folder", str(folder), "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["practice"] is True and result["verdict"] == verdict


def test_check_without_a_folder_draws_the_practice_data_itself() -> None:
    code, out = invoke(
        "check", "add-arrays", str(FIXTURES / "reference/add-arrays/accepted/solution.py")
    )
    assert code == 0 and "PRACTICE" in out and "not the hidden split" in out and "AC" in out


def test_check_says_what_a_broken_folder_lacks(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    invoke("fetch", "add-arrays", str(folder))
    (folder / "data" / "expected.json").unlink()
    code, out = invoke("check", "add-arrays", str(folder / "starter.py"), "--folder", str(folder))
    assert code == 2 and "expected.json: missing; fetch the practice folder again" in out


def test_problem_json_carries_the_scaled_points_settings(tmp_path: Path) -> None:
    fetch_problem(BANK.problem("threshold"), BANK, SECRET, tmp_path / "p")
    facts = json.loads((tmp_path / "p" / "problem.json").read_text())
    spec = BANK.problem("threshold").spec
    if spec.scoring.baseline is None:
        assert "baseline" not in facts
    else:
        assert (facts["baseline"], facts["target"]) == (spec.scoring.baseline, spec.scoring.target)


def test_a_practice_check_adds_a_confusion_matrix_the_hidden_run_never_gets(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "threshold"
    invoke("fetch", "threshold", str(folder))
    starter = str(FIXTURES / "problems/threshold/starter.py")
    code, out = invoke("check", "threshold", starter, "--folder", str(folder), "--json")
    notes = json.loads(out)["details"]["notes"]
    labels = np.load(folder / "data" / "test_y.npy")
    assert notes[0] == "confusion matrix (rows: label, columns: your prediction):"
    counts = [int(line.split()[-2]) + int(line.split()[-1]) for line in notes[2:]]
    assert counts == [int((labels == c).sum()) for c in (0, 1)]
    code, out = invoke("run", "threshold", starter, "--sandbox", "process", "--json")
    assert code == 0 and "notes" not in json.loads(out)["details"]


def test_a_regression_practice_check_summarises_the_residuals() -> None:
    from judge.kinds.train_predict import practice_summary

    spec = BANK.problem("threshold").spec.model_copy(
        update={"metric": spec_metric("mse"), "output": None}
    )
    lines = practice_summary(spec, np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 1.0]))
    assert lines == [
        "residuals (prediction - label) over 3 values: mean -0.5, std 1.08, largest |residual| 2"
    ]


def spec_metric(name: str) -> object:
    from judge.spec import MetricSpec

    return MetricSpec(name=name, direction="min")


def test_the_practice_training_rows_come_from_the_practice_draw(tmp_path: Path) -> None:
    """Train and test rows share one draw: a recipe that picks its structure per draw
    (which features matter) would otherwise make practice labels look random."""
    problem = BANK.problem("threshold")
    fetch_problem(problem, BANK, SECRET, tmp_path / "p")
    practice = draw_train_predict(problem.spec, BANK.datasets_dir, SECRET, purpose="practice")
    assert np.array_equal(np.load(tmp_path / "p" / "data" / "train_X.npy"), practice.train_X)
    judged = draw_train_predict(problem.spec, BANK.datasets_dir, SECRET)
    assert not np.array_equal(practice.train_X, judged.train_X)


@pytest.mark.slow
def test_the_bank_reference_is_accepted_on_its_practice_folder(tmp_path: Path) -> None:
    """early-stop-best draws which features decide the class per draw: its reference must
    still be accepted at home, and a loop without the patience reset loses its part."""
    root = Path(__file__).resolve().parents[1]
    env = {"JUDGE_BANK": str(root), "JUDGE_SECRET": "practice-tests"}
    from judge.cli import app

    def run(*args: str) -> dict[str, object]:
        out = CliRunner().invoke(app, list(args), env=env)
        assert out.exit_code == 0, out.output
        return dict(json.loads(out.stdout)) if args[0] == "check" else {}

    folder = tmp_path / "early-stop-best"
    run("fetch", "early-stop-best", str(folder))
    reference = root / "reference" / "early-stop-best"
    accepted = run(
        "check",
        "early-stop-best",
        str(reference / "accepted" / "solution.py"),
        "--folder",
        str(folder),
        "--json",
    )
    assert accepted["verdict"] == "AC", accepted["message"]
    early = run(
        "check",
        "early-stop-best",
        str(reference / "wrong_answer" / "no_patience_reset.py"),
        "--folder",
        str(folder),
        "--json",
    )
    points = {part["id"]: part["points"] for part in early["parts"]}  # type: ignore[union-attr]
    assert points == {"best-weights": 70.0, "stopping": 0.0}
