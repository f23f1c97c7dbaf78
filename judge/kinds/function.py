"""The function kind: the judge calls the submission's functions on hidden inputs.

The sandbox sees `calls.json` (the hidden calls' arguments) and the harness
(judge/harness/function_harness.py), which imports the submission, makes each call
and writes what came back; the expected answers, computed by the trusted reference
outside the sandbox, stay in the judge. The scorer compares answer by answer.

The expected answers of a draw cost a reference run: they are memoized by the hash
of the calls and the reference, computed by `load` when the judge loads the problem
(judge.runner.Judge.load) and else by the draw's first run. A practice folder holds a
separate practice draw of calls.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from judge.bank import Bank
from judge.data import Secret, derive_secret, draw_function_calls, public_indices, write_calls
from judge.errors import SpecError
from judge.kinds import DataCheck, Memo, Note, Staged, register, split_parts
from judge.outputs import read_function_results
from judge.sandbox.base import CODE_DIR, DATA_DIR, OUTPUT_DIR
from judge.scoring import cases_passed
from judge.spec import FUNCTION, Problem, ProblemSpec

HARNESS = Path(__file__).resolve().parent.parent / "harness" / "function_harness.py"
REFERENCE_TIMEOUT_S = 120
ERROR_CHARS = 2000


def reference_answers(problem: Problem, calls_path: Path) -> list[Any]:
    """Run the (trusted) reference on the hidden calls, outside the sandbox; return its answers.

    Raises SpecError when the reference is missing, slow, fails or raises on a call.
    """
    assert problem.spec.function is not None
    reference = problem.reference_folder / problem.spec.function.reference
    if not reference.is_file():
        raise SpecError(f"{reference}: reference solution missing")
    with tempfile.TemporaryDirectory(prefix="judge-reference-") as tmp:
        out = Path(tmp) / "expected.json"
        # -B: importing the reference must not leave __pycache__ in reference/.
        command = [sys.executable, "-I", "-B", str(HARNESS), str(reference), str(calls_path)]
        command.append(str(out))
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, timeout=REFERENCE_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise SpecError(f"{reference}: reference took over {REFERENCE_TIMEOUT_S}s") from None
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-20:])[-ERROR_CHARS:]
            raise SpecError(f"{reference}: reference failed: {tail}")
        results = json.loads(out.read_text(encoding="utf-8"))
    failed = [r["error"] for r in results if not r["ok"]]
    if failed:
        raise SpecError(f"{reference}: reference raised on a hidden call: {failed[0]}")
    return [r["value"] for r in results]


def expected_answers(problem: Problem, calls_path: Path, memo: Memo) -> list[Any]:
    """Return the reference's answers to the calls in `calls_path`, memoized by content."""
    assert problem.spec.function is not None
    reference = problem.reference_folder / problem.spec.function.reference
    key = hashlib.sha256(
        calls_path.read_bytes() + (reference.read_bytes() if reference.is_file() else b"")
    ).hexdigest()
    answers: list[Any] = memo(f"function:{key}", lambda: reference_answers(problem, calls_path))
    return answers


class Function:
    """Draw, write, score and check a function problem."""

    name = "function"
    rules = FUNCTION

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
        calls = draw_function_calls(spec, bank.datasets_dir, secret, contestant=contestant)
        calls_path = write_calls(calls, data)
        shutil.copyfile(HARNESS, code / "harness.py")
        command = [
            "-I",
            f"{CODE_DIR}/harness.py",
            f"{CODE_DIR}/submission.py",
            f"{DATA_DIR}/calls.json",
            f"{OUTPUT_DIR}/results.json",
        ]
        expected = expected_answers(problem, calls_path, memo)
        public = public_indices(spec, secret, contestant).tolist()
        return Staged(command, expected, public)

    def score(
        self, spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
    ) -> tuple[float, float]:
        assert spec.function is not None
        results = read_function_results(output, len(truth), max_bytes)
        parts = []
        for calls in split_parts(len(truth), public):
            answers, wanted = [results[i] for i in calls], [truth[i] for i in calls]
            parts.append(cases_passed(answers, wanted, spec.function))
        return parts[0], parts[1]

    def load(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None, memo: Memo
    ) -> None:
        """Run the reference on this draw's hidden calls once, before any submission."""
        calls = draw_function_calls(problem.spec, bank.datasets_dir, secret, contestant=contestant)
        with tempfile.TemporaryDirectory(prefix="judge-load-") as tmp:
            expected_answers(problem, write_calls(calls, Path(tmp)), memo)

    def check_data(self, problem: Problem, bank: Bank, secret: Secret) -> DataCheck:
        """One secret must give the same calls; another secret should give other calls."""
        spec = problem.spec
        recipe = bank.datasets_dir / f"{spec.dataset.recipe}.py"
        other = derive_secret(secret, "draw-1")
        calls = json.dumps(draw_function_calls(spec, bank.datasets_dir, secret).calls)
        again = json.dumps(draw_function_calls(spec, bank.datasets_dir, secret).calls)
        changed = json.dumps(draw_function_calls(spec, bank.datasets_dir, other).calls)
        notes = []
        if calls != again:
            notes.append(
                Note(
                    "error",
                    "determinism",
                    f"{recipe}: one secret gave two different call lists; "
                    "draw only from the rng passed to make()",
                )
            )
        if calls == changed:
            notes.append(
                Note("warning", "data", f"{recipe}: the hidden calls do not depend on the secret")
            )
        return DataCheck(notes)

    def write_practice(self, problem: Problem, bank: Bank, secret: Secret, folder: Path) -> None:
        """A practice draw of calls (`calls.json`), without expected answers."""
        calls = draw_function_calls(problem.spec, bank.datasets_dir, secret, purpose="practice")
        write_calls(calls, folder)


KIND = register(Function())
