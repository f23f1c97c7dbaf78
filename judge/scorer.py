"""The scorer process: read a run's untrusted outputs and compute its metric, out of the judge.

Parsing files a submission wrote is the judge's widest attack surface, so it happens
in a separate, short-lived process started as `python -I -B -m judge.scorer`, with a
clean environment (no secret), `/` as its working folder (never the output folder,
so nothing the submission dropped there can be imported), and resource limits. The
judge sends the request (spec, output folder, truth) on stdin and reads one JSON
answer from stdout:

    {"status": "scored", "metric": 0.93}
    {"status": "invalid_output", "message": "predictions.npy has shape (3,), expected (500,)"}
    {"status": "scorer_error", "message": "... (scoring.py:57)"}
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import traceback
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


def score_outputs(spec: ProblemSpec, output: Path, truth: Any, max_bytes: int) -> float:
    """Score the outputs in `output` against `truth` in a scorer process; return the metric.

    truth: hidden labels (array) for train-predict, expected values (list) for function.
    Raises InvalidOutput (the submission's fault) or ScorerError (the judge's).
    """
    request = {
        "spec": spec.model_dump(mode="json", by_alias=True),
        "output_dir": str(output),
        "max_bytes": max_bytes,
        "truth": np.asarray(truth).tolist() if spec.kind == "train-predict" else truth,
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
        return float(answer["metric"])
    if status == "invalid_output":
        raise InvalidOutput(str(answer["message"]))
    raise ScorerError(str(answer.get("message", "unknown scorer failure")))


def _score(request: dict[str, Any]) -> float:
    spec = ProblemSpec.model_validate(request["spec"])
    output = Path(request["output_dir"])
    max_bytes = int(request["max_bytes"])
    if spec.kind == "train-predict":
        assert spec.output is not None
        truth = np.asarray(request["truth"])
        predictions = read_predictions(output, spec.output, len(truth), max_bytes)
        return compute_metric(spec.metric.name, truth, predictions)
    assert spec.function is not None
    expected = request["truth"]
    results = read_function_results(output, len(expected), max_bytes)
    return cases_passed(results, expected, spec.function)


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
        metric = _score(json.loads(sys.stdin.read()))
        answer: dict[str, Any] = {"status": "scored", "metric": metric}
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
