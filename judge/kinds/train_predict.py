"""The train-predict kind: train on public rows, write predictions for the hidden inputs.

The sandbox sees `train_X.npy`, `train_y.npy` and `test_X.npy` (the hidden split's
inputs) and runs the submission as a script; the hidden labels stay in the judge.
The scorer reads the predictions file the output contract names and computes the
problem's metric on each part of the hidden split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from judge.bank import Bank
from judge.data import Secret, draw_train_predict, public_indices, write_public_train_predict
from judge.kinds import Memo, Staged, register, split_parts
from judge.outputs import read_predictions
from judge.sandbox.base import CODE_DIR
from judge.scoring import compute_metric
from judge.spec import Problem, ProblemSpec


class TrainPredict:
    """Draw, write and score a train-predict problem."""

    name = "train-predict"

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
        return Staged(["-I", f"{CODE_DIR}/submission.py"], drawn.hidden_y.tolist(), public)

    def score(
        self, spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
    ) -> tuple[float, float]:
        assert spec.output is not None
        labels = np.asarray(truth)
        predictions = read_predictions(output, spec.output, len(labels), max_bytes)
        private_rows, public_rows = split_parts(len(labels), public)
        return (
            compute_metric(spec.metric.name, labels[private_rows], predictions[private_rows]),
            compute_metric(spec.metric.name, labels[public_rows], predictions[public_rows]),
        )


KIND = register(TrainPredict())
