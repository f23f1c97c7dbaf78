"""The scorer process: read a run's untrusted outputs and compute its metric, out of the judge.

Parsing files a submission wrote is the judge's widest attack surface, so it happens
in a separate, short-lived process started as `python -I -B -m judge.scorer`, with a
clean environment (no secret), `/` as its working folder (never the output folder,
so nothing the submission dropped there can be imported), and resource limits. The
judge sends the request (spec, output folder, truth, public indices) on stdin and
reads one JSON answer from stdout, with the metric of the private part (the final
score) and of the public part (the leaderboard during a round):

    {"status": "scored", "metric": 0.93, "public_metric": 0.95}
    {"status": "invalid_output", "message": "predictions.npy has shape (3,), expected (500,)"}
    {"status": "scorer_error", "message": "... (scoring.py:57)"}
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from judge.errors import InvalidOutput, ScorerError
from judge.outputs import read_function_results, read_predictions
from judge.scoring import cases_passed, compute_metric
from judge.spec import ProblemSpec

SCORER_TIMEOUT_S = 120
SCORER_CPU_S = 100
SCORER_MEMORY_BYTES = 6 << 30
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Scores:
    """The metric on the private part of the hidden split (final) and on the public part."""

    private: float
    public: float


def score_outputs(
    spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
) -> Scores:
    """Score the outputs in `output` against `truth` in a scorer process.

    truth: hidden labels (array) for train-predict, expected values (list) for function.
    public: indices of the hidden rows or calls in the public part; the rest are private.
    Raises InvalidOutput (the submission's fault) or ScorerError (the judge's).
    """
    request = {
        "spec": spec.model_dump(mode="json", by_alias=True),
        "output_dir": str(output),
        "max_bytes": max_bytes,
        "truth": np.asarray(truth).tolist() if spec.kind == "train-predict" else truth,
        "public": [int(i) for i in public],
    }
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **{name: "1" for name in THREAD_VARS}}
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-B", "-m", "judge.scorer"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd="/",
            env=env,
            timeout=SCORER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ScorerError(f"the scorer took over {SCORER_TIMEOUT_S} s") from None
    try:
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
        status = answer["status"]
    except (IndexError, ValueError, KeyError, TypeError):
        tail = " ".join(proc.stderr.strip().splitlines()[-1:]) or f"exit {proc.returncode}"
        raise ScorerError(f"the scorer process gave no answer ({tail})") from None
    if status == "scored":
        return Scores(float(answer["metric"]), float(answer["public_metric"]))
    if status == "invalid_output":
        raise InvalidOutput(str(answer["message"]))
    raise ScorerError(str(answer.get("message", "unknown scorer failure")))


def _parts(n: int, public: list[int]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    in_public = np.zeros(n, dtype=bool)
    in_public[np.asarray(public, dtype=np.int64)] = True
    return np.flatnonzero(~in_public), np.flatnonzero(in_public)


def _score(request: dict[str, Any]) -> tuple[float, float]:
    spec = ProblemSpec.model_validate(request["spec"])
    output = Path(request["output_dir"])
    max_bytes = int(request["max_bytes"])
    if spec.kind == "train-predict":
        assert spec.output is not None
        truth = np.asarray(request["truth"])
        predictions = read_predictions(output, spec.output, len(truth), max_bytes)
        private, public = _parts(len(truth), request["public"])
        return (
            compute_metric(spec.metric.name, truth[private], predictions[private]),
            compute_metric(spec.metric.name, truth[public], predictions[public]),
        )
    assert spec.function is not None
    expected = request["truth"]
    results = read_function_results(output, len(expected), max_bytes)
    private, public = _parts(len(expected), request["public"])
    return (
        cases_passed([results[i] for i in private], [expected[i] for i in private], spec.function),
        cases_passed([results[i] for i in public], [expected[i] for i in public], spec.function),
    )


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def main() -> int:
    """Answer one scoring request from stdin on stdout."""
    resource.setrlimit(resource.RLIMIT_CPU, (SCORER_CPU_S, SCORER_CPU_S))
    resource.setrlimit(resource.RLIMIT_DATA, (SCORER_MEMORY_BYTES, SCORER_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        private, public = _score(json.loads(sys.stdin.read()))
        answer: dict[str, Any] = {"status": "scored", "metric": private, "public_metric": public}
    except InvalidOutput as exc:
        answer = {"status": "invalid_output", "message": str(exc)}
    except MemoryError:
        answer = {"status": "invalid_output", "message": "the output is too large to score"}
    except Exception as exc:  # a grading bug: report where, never blame the contestant
        answer = {
            "status": "scorer_error",
            "message": f"{type(exc).__name__}: {exc} ({_where(exc)})",
        }
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
