"""The train-predict kind: train on public rows, write predictions for the hidden inputs.

The sandbox sees `train_X.npy`, `train_y.npy` and `test_X.npy` (the hidden split's
inputs) and runs the submission as a script; the hidden labels stay in the judge.
The scorer reads the predictions file the output contract names and computes the
problem's metric on each part of the hidden split. A practice folder holds a draw
apart from the judge's: training rows, test inputs and their labels (`test_y.npy`,
never the hidden ones); a practice check (`judge check`) adds a confusion matrix or a
residual summary, which the hidden data never gets.

A part may name a setter's check instead of the metric: a function of the trusted
`reference/<slug>/checks.py` that reads the run's output folder (a training log the
statement asks for, say) and returns None when what it checks holds, else a one-line
message; it reads the submission's files with judge.outputs (InvalidOutput when one
is missing or malformed, which fails that part only). The scorer process imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from judge.bank import Bank
from judge.data import (
    Secret,
    TrainPredictData,
    derive_secret,
    draw_train_predict,
    public_indices,
    write_public_train_predict,
)
from judge.errors import InvalidOutput, InvalidSource, JudgeError, ScorerError, SpecError
from judge.kinds import (
    DataCheck,
    Memo,
    Note,
    Staged,
    import_setter_module,
    practice_public,
    register,
    split_parts,
)
from judge.outputs import read_predictions
from judge.sandbox.base import CODE_DIR
from judge.scoring import PartMeasure, Scores, compute_metric, perfect_prediction
from judge.spec import TRAIN_PREDICT, Problem, ProblemSpec

# The labels of a practice folder's test_X.npy (a practice draw, never the hidden one).
PRACTICE_LABELS = "test_y.npy"
# The setter's checks of a run's other outputs, in the problem's reference folder.
CHECKS_MODULE = "checks.py"


def checks_file(problem: Problem) -> str | None:
    """The path of the problem's checks module when a part runs a check, else None.

    SpecError when a part names a check the module does not define.
    """
    names = [part.check for part in problem.spec.parts if part.check]
    if not names:
        return None
    path = problem.reference_folder / CHECKS_MODULE
    module = _import_checks(str(path), problem.id)
    for name in names:
        if not callable(getattr(module, name, None)):
            raise SpecError(f"{path}: no check function {name}() for a part of {problem.id}")
    return str(path)


def _import_checks(path: str, slug: str) -> Any:
    """Import a checks module by path; SpecError if it is missing or fails to import."""
    return import_setter_module(Path(path), f"_judge_checks_{slug}", "the problem's checks")


def run_check(path: str, slug: str, name: str, output: Path) -> str | None:
    """Run one setter's check on a run's output folder: None if it holds, else why not.

    A file the check reads that is missing or malformed fails the check with its
    message; the check's own failure is a ScorerError (the setter's bug, not the run's).
    """
    try:
        module = _import_checks(path, slug)
    except SpecError as exc:
        raise ScorerError(str(exc)) from None
    try:
        message = getattr(module, name)(output)
    except InvalidOutput as exc:
        return str(exc)
    if message is not None and not isinstance(message, str):
        raise ScorerError(f"{path}: {name}() returned {type(message).__name__}, not str or None")
    return message


CONFUSION_CLASSES = 10  # larger confusion matrices are not shown


def practice_summary(
    spec: ProblemSpec, labels: NDArray[Any], predictions: NDArray[Any]
) -> list[str]:
    """What a practice check adds to the metric: a confusion matrix of class predictions,
    or a summary of the residuals of numbers (never computed on hidden data)."""
    if spec.metric.name in ("r2", "mse", "mae"):
        residuals = (predictions.astype(np.float64) - labels.astype(np.float64)).ravel()
        return [
            f"residuals (prediction - label) over {residuals.size} values: mean "
            f"{residuals.mean():.4g}, std {residuals.std():.4g}, largest |residual| "
            f"{np.abs(residuals).max():.4g}"
        ]
    if spec.class_count is not None or spec.output is None or spec.output.dtype != "int":
        return []
    truth, guess = labels.ravel().astype(np.int64), predictions.ravel().astype(np.int64)
    classes = np.union1d(truth, guess)
    if classes.size > CONFUSION_CLASSES:
        return []
    index = {int(c): i for i, c in enumerate(classes)}
    matrix = np.zeros((classes.size, classes.size), dtype=np.int64)
    np.add.at(matrix, ([index[int(t)] for t in truth], [index[int(g)] for g in guess]), 1)
    width = max(len(str(matrix.max())), max(len(str(int(c))) for c in classes), 4)
    lines = ["confusion matrix (rows: label, columns: your prediction):"]
    lines.append(" " * 8 + "".join(f"{int(c):>{width + 1}}" for c in classes))
    for c, row in zip(classes, matrix, strict=True):
        lines.append(f"label {int(c):>2}" + "".join(f"{v:>{width + 1}}" for v in row))
    return lines


def _same_bytes(first: TrainPredictData, second: TrainPredictData) -> bool:
    parts = ("train_X", "train_y", "hidden_X", "hidden_y")
    for part in parts:
        a, b = (
            np.ascontiguousarray(getattr(first, part)),
            np.ascontiguousarray(getattr(second, part)),
        )
        if (a.dtype.str, a.shape) != (b.dtype.str, b.shape) or a.tobytes() != b.tobytes():
            return False
    return True


def _metric_undefined(problem: Problem, data: TrainPredictData, secret: Secret) -> list[Note]:
    """The metric must be defined on both parts of the hidden split (a perfect prediction)."""
    spec = problem.spec
    public = public_indices(spec, secret)
    private = np.setdiff1d(np.arange(spec.dataset.n_hidden), public)
    notes = []
    for name, rows in (("public", public), ("private", private)):
        truth = data.hidden_y[rows]
        try:
            compute_metric(spec.metric.name, truth, perfect_prediction(truth, spec.class_count))
        except (ScorerError, InvalidOutput) as exc:
            notes.append(
                Note(
                    "error",
                    "data",
                    f"{spec.metric.name} is undefined on the {name} part of the hidden split "
                    f"({len(rows)} rows): {exc}; draw more hidden rows or change the metric",
                )
            )
    return notes


class TrainPredict:
    """Draw, write, score and check a train-predict problem."""

    name = "train-predict"
    rules = TRAIN_PREDICT

    def stage(
        self,
        problem: Problem,
        bank: Bank,
        secret: Secret,
        contestant: str | None,
        code: Path,
        data: Path,
        memo: Memo,
    ) -> Staged:
        spec = problem.spec
        drawn = draw_train_predict(spec, bank.datasets_dir, secret, contestant=contestant)
        write_public_train_predict(drawn, data, include_test=True)
        public = public_indices(spec, secret, contestant).tolist()
        labels = drawn.hidden_y.tolist()
        checks = checks_file(problem)
        truth = labels if checks is None else {"labels": labels, "checks": checks}
        return Staged(["-I", f"{CODE_DIR}/submission.py"], truth, public)

    def score(
        self, spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
    ) -> Scores:
        assert spec.output is not None
        given = truth if isinstance(truth, dict) else {"labels": truth}
        practice = bool(given.get("practice"))  # a practice check: its folder's own labels
        labels = np.asarray(given["labels"])
        predictions = read_predictions(output, spec.output, len(labels), max_bytes)
        private_rows, public_rows = split_parts(len(labels), public)
        name = spec.metric.name
        private = compute_metric(name, labels[private_rows], predictions[private_rows])
        public_value = compute_metric(name, labels[public_rows], predictions[public_rows])
        parts = []
        for part in spec.parts:
            if part.check:
                why = run_check(str(given["checks"]), spec.id, part.check, output)
                message = why or "holds"
                value = 1.0 if why is None else 0.0
                parts.append(PartMeasure(part.id, value, value, message, message))
                continue
            parts.append(
                PartMeasure(
                    part.id,
                    private,
                    public_value,
                    f"{name} = {private:.4f}",
                    f"{name} = {public_value:.4f} on the public part",
                )
            )
        notes = practice_summary(spec, labels, predictions) if practice else []
        return Scores(private, public_value, tuple(parts), notes=tuple(notes))

    def load(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None, memo: Memo
    ) -> None:
        """Nothing to compute ahead: the labels are drawn with the rows, cheaply, per run."""

    def check_data(self, problem: Problem, bank: Bank, secret: Secret) -> DataCheck:
        """Draw twice with one secret and once with another; practice rows for the leak checks."""
        spec = problem.spec
        recipe = bank.datasets_dir / f"{spec.dataset.recipe}.py"
        data = draw_train_predict(spec, bank.datasets_dir, secret)
        again = draw_train_predict(spec, bank.datasets_dir, secret)
        changed = draw_train_predict(spec, bank.datasets_dir, derive_secret(secret, "draw-1"))
        notes = []
        if not _same_bytes(data, again):
            notes.append(
                Note(
                    "error",
                    "determinism",
                    f"{recipe}: one secret gave different data bytes; "
                    "draw only from the rng passed to make()",
                )
            )
        if np.array_equal(data.hidden_X, changed.hidden_X):
            notes.append(
                Note("error", "leaks", f"{recipe}: the hidden rows do not depend on the secret")
            )
        notes += _metric_undefined(problem, data, secret)
        try:
            checks_file(problem)
        except SpecError as exc:
            notes.append(Note("error", "spec", str(exc)))
        public_rows = {"public training rows": data.train_X}
        try:
            practice = draw_train_predict(spec, bank.datasets_dir, secret, purpose="practice")
            public_rows["practice data"] = np.concatenate([practice.train_X, practice.hidden_X])
        except JudgeError as exc:
            notes.append(Note("error", "data", str(exc)))
        return DataCheck(notes, data.hidden_X, public_rows)

    def write_practice(self, problem: Problem, bank: Bank, secret: Secret, folder: Path) -> None:
        """A practice draw, apart from the judge's: its training rows, its test inputs
        (`test_X.npy`) and their labels (`test_y.npy`). Train and test come from one draw,
        so they share what the recipe picks per draw (which features matter, how), and
        nothing of the judge's draw leaves it."""
        spec = problem.spec
        practice = draw_train_predict(spec, bank.datasets_dir, secret, purpose="practice")
        write_public_train_predict(practice, folder, include_test=False)
        np.save(folder / "test_X.npy", practice.hidden_X, allow_pickle=False)
        np.save(folder / PRACTICE_LABELS, practice.hidden_y, allow_pickle=False)

    def stage_practice(self, problem: Problem, practice: Path, code: Path, data: Path) -> Staged:
        """The practice folder's rows, scored against its test_y.npy."""
        arrays = {}
        for name in ("train_X.npy", "train_y.npy", "test_X.npy", PRACTICE_LABELS):
            try:
                arrays[name] = np.load(practice / name, allow_pickle=False)
            except FileNotFoundError:
                raise InvalidSource(f"{practice / name}: missing; fetch the folder again") from None
            except (OSError, ValueError) as exc:
                raise InvalidSource(f"{practice / name}: unreadable: {exc}") from None
        labels = arrays.pop(PRACTICE_LABELS)
        if len(labels) != len(arrays["test_X.npy"]):
            raise InvalidSource(f"{practice}: test_X.npy and {PRACTICE_LABELS} differ in rows")
        for name, array in arrays.items():
            np.save(data / name, array, allow_pickle=False)
        command = ["-I", f"{CODE_DIR}/submission.py"]
        truth = {"labels": labels.tolist(), "practice": True, "checks": checks_file(problem)}
        return Staged(command, truth, practice_public(len(labels)))

    def item_count(self, spec: ProblemSpec) -> int | None:
        """No items: the submission is a program."""
        return None

    def statement(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None
    ) -> str:
        """The statement as the setter wrote it: the same for everyone."""
        return problem.statement.read_text(encoding="utf-8")


KIND = register(TrainPredict())
