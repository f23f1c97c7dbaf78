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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judge.bank import Bank
from judge.data import (
    FunctionCalls,
    Secret,
    derive_secret,
    draw_function_calls,
    public_indices,
    write_calls,
)
from judge.errors import InvalidSource, SpecError
from judge.kinds import DataCheck, Memo, Note, Staged, practice_public, register, split_parts
from judge.outputs import read_function_results
from judge.sandbox.base import CODE_DIR, DATA_DIR, OUTPUT_DIR
from judge.scoring import PartMeasure, Scores, answers_match
from judge.spec import FUNCTION, PartSpec, Problem, ProblemSpec, all_bans
from judge.text import printable

# How the harness's runtime guard reports a banned call (judge/harness/function_harness.py).
BANNED_PREFIX = "BannedAPI: "
# The reference's answers to a practice folder's calls.json.
PRACTICE_EXPECTED = "expected.json"


SAMPLES_SHOWN = 3  # failed samples a verdict shows in full
SAMPLE_CHARS = 300


def sample_calls(problem: Problem) -> list[dict[str, Any]]:
    """The problem's public sample calls (spec `function.samples`); SpecError if malformed."""
    spec = problem.spec
    if spec.function is None or spec.function.samples is None:
        return []
    path = problem.folder / spec.function.samples
    try:
        calls = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: the sample calls cannot be read: {exc}") from None
    if not isinstance(calls, list) or not calls:
        raise SpecError(f"{path}: give a non-empty list of calls")
    for call in calls:
        if not isinstance(call, dict) or call.get("function") not in spec.function.names:
            raise SpecError(f"{path}: each call needs 'function', one of {spec.function.names}")
        if set(call) - {"function", "args", "kwargs"}:
            raise SpecError(f"{path}: a call has only function, args and kwargs")
    return calls


def describe_call(call: dict[str, Any]) -> str:
    """A call as Python: `conv2d_output_size(5, 5, 3, 1, 0, 1)`."""
    args = [repr(a) for a in call.get("args", [])]
    args += [f"{k}={v!r}" for k, v in call.get("kwargs", {}).items()]
    return f"{call['function']}({', '.join(args)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 3] + "..."


def _harness(problem: Problem, code: Path, data: Path) -> list[str]:
    """Put the harness in `code` (and the runtime guard's banned.json in `data`, if the
    problem bans APIs); return the command that runs it on data/calls.json."""
    shutil.copyfile(HARNESS, code / "harness.py")
    if guarded := [r.model_dump(by_alias=True) for r in all_bans(problem.spec) if r.api]:
        (data / "banned.json").write_text(json.dumps(guarded), encoding="utf-8")
    return [
        "-I",
        f"{CODE_DIR}/harness.py",
        f"{CODE_DIR}/submission.py",
        f"{DATA_DIR}/calls.json",
        f"{OUTPUT_DIR}/results.json",
    ]


def _practice_json(path: Path, kind: type) -> Any:
    """Read one JSON file of a practice folder; InvalidSource says what is missing."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidSource(f"{path}: missing; fetch the practice folder again") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidSource(f"{path}: unreadable: {exc}") from None
    if not isinstance(value, kind):
        raise InvalidSource(f"{path}: expected a JSON {kind.__name__}")
    return value


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
        # A folder of its own: a banned.json beside the run's calls must never guard
        # the reference (which may use what submissions may not).
        calls = Path(tmp) / "calls.json"
        shutil.copyfile(calls_path, calls)
        # -B: importing the reference must not leave __pycache__ in reference/.
        command = [sys.executable, "-I", "-B", str(HARNESS), str(reference), str(calls)]
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


def _failed_samples(
    samples: list[dict[str, Any]],
    expected: list[Any],
    results: list[dict[str, Any]],
    right: list[bool],
) -> list[str]:
    """Input, expected and got of the first failed sample calls (they are public)."""
    notes = []
    failed = [i for i, ok in enumerate(right) if not ok]
    for i in failed[:SAMPLES_SHOWN]:
        got = results[i]
        what = _short(got.get("value")) if got.get("ok") else f"error {got.get('error', '')}"
        notes.append(
            f"sample {i + 1}: {describe_call(samples[i])[:SAMPLE_CHARS]} should return "
            f"{_short(expected[i])}, got {what[:SAMPLE_CHARS]}"
        )
    if len(failed) > SAMPLES_SHOWN:
        notes.append(f"... and {len(failed) - SAMPLES_SHOWN} more of the {len(samples)} samples")
    return notes


def _share(right: list[bool], calls: Sequence[int]) -> float:
    """The share of `calls` answered right (1.0 when there are none to get wrong)."""
    return sum(right[i] for i in calls) / len(calls) if len(calls) else 1.0


def _banned_api(result: dict[str, Any]) -> str:
    """The API the harness's runtime guard caught this call using, or ""."""
    error = result.get("error")
    if result.get("ok") is False and isinstance(error, str) and error.startswith(BANNED_PREFIX):
        return printable(error[len(BANNED_PREFIX) :], keep_newlines=False)[:200]
    return ""


def _measure_part(
    part: PartSpec,
    functions: list[str],
    right: list[bool],
    results: list[dict[str, Any]],
    private: Sequence[int],
    public: Sequence[int],
    which: str,
) -> PartMeasure:
    """Measure one part on its own calls; say how many calls it got wrong (counts only)."""
    names = part.functions
    mine = [i for i, name in enumerate(functions) if name in names]
    private_mine = [i for i in private if functions[i] in names]
    public_mine = [i for i in public if functions[i] in names]
    banned = next((_banned_api(results[i]) for i in mine if _banned_api(results[i])), "")
    if banned:
        message = public_message = f"calls {banned}, which is banned here"
    else:
        message = _wrong_calls(right, mine, which)
        public_message = _wrong_calls(right, public_mine, "public")
    return PartMeasure(
        part.id,
        _share(right, private_mine),
        _share(right, public_mine),
        message,
        public_message,
        banned,
    )


def _wrong_calls(right: list[bool], calls: Sequence[int], which: str) -> str:
    wrong = sum(not right[i] for i in calls)
    if wrong:
        return f"{wrong} of {len(calls)} {which} calls wrong"
    return f"all {len(calls)} {which} calls right"


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
        drawn = draw_function_calls(spec, bank.datasets_dir, secret, contestant=contestant)
        samples = sample_calls(problem)  # public: run after the hidden calls, shown in full
        calls = FunctionCalls(drawn.calls + samples)
        calls_path = write_calls(calls, data)
        command = _harness(problem, code, data)
        expected = expected_answers(problem, calls_path, memo)
        public = public_indices(spec, secret, contestant).tolist()
        truth = {
            "expected": expected,
            "functions": [call["function"] for call in calls.calls],
            "samples": samples,
        }
        return Staged(command, truth, public)

    def score(
        self, spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
    ) -> Scores:
        assert spec.function is not None
        expected, functions = truth["expected"], truth["functions"]
        samples: list[dict[str, Any]] = truth.get("samples", [])
        results = read_function_results(output, len(expected), max_bytes)
        right = [
            got.get("ok") is True and answers_match(got.get("value"), want, spec.function)
            for got, want in zip(results, expected, strict=True)
        ]
        hidden = len(expected) - len(samples)  # the samples come last; they score nothing
        notes = _failed_samples(samples, expected[hidden:], results[hidden:], right[hidden:])
        expected, functions, right = expected[:hidden], functions[:hidden], right[:hidden]
        results = results[:hidden]
        private, public_calls = (list(map(int, p)) for p in split_parts(hidden, public))
        which = str(truth.get("calls", "hidden"))  # a practice check says "practice calls"
        parts = tuple(
            _measure_part(part, functions, right, results, private, public_calls, which)
            for part in spec.parts
        )
        banned = next((_banned_api(r) for r in results if _banned_api(r)), "")
        return Scores(
            _share(right, private),
            _share(right, public_calls),
            parts,
            banned=banned,
            notes=tuple(notes),
        )

    def load(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None, memo: Memo
    ) -> None:
        """Run the reference on this draw's hidden calls once, before any submission."""
        drawn = draw_function_calls(problem.spec, bank.datasets_dir, secret, contestant=contestant)
        calls = FunctionCalls(drawn.calls + sample_calls(problem))  # as stage writes them
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
        """A practice draw of calls (`calls.json`) and the reference's answers to them
        (`expected.json`): a draw apart from the hidden one, so nothing hidden leaks."""
        calls = draw_function_calls(problem.spec, bank.datasets_dir, secret, purpose="practice")
        calls_path = write_calls(calls, folder)
        expected = reference_answers(problem, calls_path)
        (folder / PRACTICE_EXPECTED).write_text(json.dumps(expected), encoding="utf-8")

    def stage_practice(self, problem: Problem, practice: Path, code: Path, data: Path) -> Staged:
        """The practice folder's calls, checked against its expected.json."""
        calls = _practice_json(practice / "calls.json", list)
        expected = _practice_json(practice / PRACTICE_EXPECTED, list)
        names = problem.spec.function.names if problem.spec.function else []
        if len(calls) != len(expected) or not all(
            isinstance(call, dict) and call.get("function") in names for call in calls
        ):
            raise InvalidSource(
                f"{practice}: calls.json and expected.json do not match {problem.id}; "
                "fetch the practice folder again"
            )
        write_calls(FunctionCalls(calls), data)
        command = _harness(problem, code, data)
        functions = [call["function"] for call in calls]
        truth = {"expected": expected, "functions": functions, "calls": "practice"}
        return Staged(command, truth, practice_public(len(calls)))

    def item_count(self, spec: ProblemSpec) -> int | None:
        """No items: the submission is a program."""
        return None

    def statement(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None
    ) -> str:
        """The statement, with the sample calls and what the reference returns on them."""
        text = problem.statement.read_text(encoding="utf-8")
        samples = sample_calls(problem)
        if not samples:
            return text
        with tempfile.TemporaryDirectory(prefix="judge-samples-") as tmp:
            answers = reference_answers(problem, write_calls(FunctionCalls(samples), Path(tmp)))
        rows = [
            f"| `{describe_call(c)}` | `{a!r}` |" for c, a in zip(samples, answers, strict=True)
        ]
        table = "\n".join(["| call | returns |", "|---|---|", *rows])
        return (
            f"{text.rstrip()}\n\n## Samples\n\nThe judge also runs these calls. They score "
            "nothing, but when one fails the verdict shows its input, the value expected "
            f"and what your function returned.\n\n{table}\n"
        )


KIND = register(Function())
