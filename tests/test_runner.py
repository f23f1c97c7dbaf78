"""Runner logic on a fake sandbox: facts become verdicts; bad files never reach a sandbox."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judge.bank import Bank
from judge.data import Secret, draw_train_predict
from judge.errors import InvalidSource, SandboxError, SpecError
from judge.kinds import function as function_kind
from judge.kinds import get_kind
from judge.runner import Judge, as_result, read_source, run_submission
from judge.sandbox.base import DATA_DIR, OUTPUT_DIR, Limits, Mount, RunFacts
from judge.sandbox.fake import FakeSandbox
from judge.scorer import ScorerServer
from judge.verdicts import Result, Retry, Verdict

BANK = Bank(Path(__file__).parent / "fixtures" / "bank")
PROBLEM = BANK.problem("threshold")
SECRET = Secret(b"runner-tests", "test")
OK = RunFacts(0, None, 1.0, 0.9, 50.0, False, False, False)


def hidden_labels() -> np.ndarray:
    return draw_train_predict(PROBLEM.spec, BANK.datasets_dir, SECRET).hidden_y


def writes(array: np.ndarray) -> object:
    def write(mounts: Sequence[Mount]) -> None:
        output = next(m.source for m in mounts if m.writable)
        np.save(output / "predictions.npy", array)

    return write


def judge_with(sandbox: FakeSandbox) -> Result:
    return run_submission(PROBLEM, PROBLEM.starter, sandbox, SECRET, BANK)


def test_perfect_predictions_are_accepted_with_full_points() -> None:
    result = judge_with(FakeSandbox(OK, writes(hidden_labels())))  # type: ignore[arg-type]
    assert result.verdict is Verdict.AC and result.score == 100.0
    assert result.metric.value == 1.0 and result.wall_s == 1.0


def test_weak_predictions_get_wrong_answer_with_scaled_points() -> None:
    labels = hidden_labels().copy()
    labels[: len(labels) // 5] ^= 1
    result = judge_with(FakeSandbox(OK, writes(labels)))  # type: ignore[arg-type]
    assert result.verdict is Verdict.WA
    assert result.score == pytest.approx(100 * (result.metric.value - 0.5) / 0.4)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({"timed_out": True, "exit_code": None, "signal": 9}, Verdict.TLE),
        ({"oom": True, "exit_code": None, "signal": 9}, Verdict.MLE),
        ({"output_truncated": True}, Verdict.OLE),
        ({"exit_code": 1, "stderr_tail": "Traceback\nValueError: bad"}, Verdict.RE),
        ({"exit_code": None, "signal": 11}, Verdict.RE),
    ],
)
def test_facts_decide_the_verdict_before_outputs(
    changes: dict[str, object], verdict: Verdict
) -> None:
    facts = RunFacts(**{**OK.to_dict(), **changes})  # type: ignore[arg-type]
    result = judge_with(FakeSandbox(facts, writes(hidden_labels())))  # type: ignore[arg-type]
    assert result.verdict is verdict
    assert result.score == 0.0


def test_runtime_error_message_keeps_the_last_stderr_lines() -> None:
    stderr = "\n".join(f"line {i}" for i in range(1000)) + "\nValueError: the cause"
    facts = RunFacts(**{**OK.to_dict(), "exit_code": 1, "stderr_tail": stderr})  # type: ignore[arg-type]
    result = judge_with(FakeSandbox(facts))
    assert "ValueError: the cause" in result.message
    assert "line 1\n" not in result.message and len(result.message) < 2500


def test_missing_output_is_invalid_output() -> None:
    assert judge_with(FakeSandbox(OK)).verdict is Verdict.IO


def test_sandbox_failure_is_internal_error_not_the_contestants() -> None:
    class Broken(FakeSandbox):
        def run(self, *args: object, **kwargs: object) -> RunFacts:
            raise SandboxError("engine went away")

    result = judge_with(Broken(OK))
    assert result.verdict is Verdict.IE and "engine went away" in result.message


def test_sandbox_sees_paths_and_env_but_never_labels() -> None:
    sandbox = FakeSandbox(OK, writes(hidden_labels()))  # type: ignore[arg-type]
    judge_with(sandbox)
    command, env = sandbox.calls[0]
    assert env == {"DATA_DIR": DATA_DIR, "OUTPUT_DIR": OUTPUT_DIR}
    assert command[-1].endswith("submission.py")


def test_data_mount_holds_inputs_only() -> None:
    seen: list[str] = []
    hidden = hidden_labels().tobytes()

    def inspect(mounts: Sequence[Mount]) -> None:
        for mount in mounts:
            for path in mount.source.rglob("*"):
                seen.append(path.name)
                assert hidden not in path.read_bytes()

    judge_with(FakeSandbox(OK, inspect))
    assert sorted(seen) == ["submission.py", "test_X.npy", "train_X.npy", "train_y.npy"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"print('x')\x00", "NUL"),
        (b"print('\xff\xfe')", "not UTF-8"),
    ],
)
def test_unrunnable_sources_raise_invalid_source(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "s.py"
    path.write_bytes(content)
    with pytest.raises(InvalidSource, match=reason):
        read_source(path)


def test_missing_directory_and_symlink_sources(tmp_path: Path) -> None:
    with pytest.raises(InvalidSource, match="no such file"):
        read_source(tmp_path / "absent.py")
    with pytest.raises(InvalidSource, match="not a regular file"):
        read_source(tmp_path)
    (tmp_path / "real.py").write_text("x = 1")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    with pytest.raises(InvalidSource, match="symlink"):
        read_source(tmp_path / "link.py")


def test_limits_come_from_the_spec() -> None:
    captured: list[Limits] = []

    class Recording(FakeSandbox):
        def run(self, command, mounts, limits, env):  # type: ignore[no-untyped-def]
            captured.append(limits)
            return super().run(command, mounts, limits, env)

    run_submission(PROBLEM, PROBLEM.starter, Recording(OK), SECRET, BANK, cpuset=(1,))
    assert captured[0].wall_s == 8 and captured[0].memory_mb == 256 and captured[0].cpuset == (1,)


class ExplodingSandbox(FakeSandbox):
    """A backend that fails with an exception no one planned for."""

    def run(self, *args: object, **kwargs: object) -> RunFacts:
        raise RecursionError("maximum recursion depth exceeded")


def test_an_unexpected_exception_becomes_an_internal_error_with_the_files_digest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = judge_with(ExplodingSandbox(OK))
    assert result.verdict is Verdict.IE
    assert "RecursionError while judging; submission sha256" in result.message
    digest = hashlib.sha256(PROBLEM.starter.read_bytes()).hexdigest()
    assert digest in caplog.text and digest[:16] in result.message


def test_escape_codes_in_stderr_never_reach_the_message() -> None:
    stderr = "Traceback\n\x1b[2J\x1b[H\x1b]0;title\x07\x1b]52;c;ZXZpbA==\x07\x1b[32mAC 100/100\n"
    facts = replace(OK, exit_code=1, stderr_tail=stderr)
    result = judge_with(FakeSandbox(facts))
    assert result.verdict is Verdict.RE
    assert "\x1b" not in result.message and "\x07" not in result.message
    assert result.message.endswith("Traceback\nAC 100/100")


def test_output_limit_says_which_cap_was_reached() -> None:
    facts = replace(OK, output_truncated=True, output_reason="the output folder is nested deep")
    result = judge_with(FakeSandbox(facts))
    assert result.verdict is Verdict.OLE
    assert result.message.endswith("(the output folder is nested deep)")


def test_a_lone_surrogate_in_a_notebook_is_an_invalid_source(tmp_path: Path) -> None:
    notebook = tmp_path / "s.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    cell["source"] = "x = '\\ud800'\n"
    doc = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    notebook.write_text(json.dumps(doc).replace("\\\\ud800", "\\ud800"), encoding="utf-8")
    with pytest.raises(InvalidSource, match=r"cell 1|surrogate"):
        read_source(notebook)


class FlakySandbox(FakeSandbox):
    """Fails like a restarted engine on the first run, then works."""

    failures: int = 1

    def run(self, *args: object, **kwargs: object) -> RunFacts:
        if self.failures:
            self.failures -= 1
            raise SandboxError("the engine restarted")
        return super().run(*args, **kwargs)  # type: ignore[arg-type]


def test_an_infrastructure_failure_is_a_retry_then_a_result() -> None:
    judge = Judge(BANK, FlakySandbox(OK, writes(hidden_labels())), SECRET)  # type: ignore[arg-type]
    first = judge.judge(PROBLEM, PROBLEM.starter)
    assert isinstance(first, Retry) and "the engine restarted" in first.reason
    assert as_result(first, PROBLEM).verdict is Verdict.IE
    second = judge.judge(PROBLEM, PROBLEM.starter)
    assert isinstance(second, Result) and second.verdict is Verdict.AC


class DyingScorer(ScorerServer):
    """A scorer server whose process is killed as soon as it starts, `deaths` times."""

    def __init__(self, deaths: int) -> None:
        super().__init__()
        self.deaths = deaths

    def _start(self, *args: object, **kwargs: object) -> subprocess.Popen[str]:
        proc = super()._start(*args, **kwargs)  # type: ignore[arg-type]
        if self.deaths:
            self.deaths -= 1
            proc.kill()
            proc.wait()
        return proc


def test_a_dead_scorer_process_is_a_retry_then_a_result() -> None:
    sandbox = FakeSandbox(OK, writes(hidden_labels()))  # type: ignore[arg-type]
    with Judge(BANK, sandbox, SECRET, scorer=DyingScorer(deaths=2)) as judge:
        first = judge.judge(PROBLEM, PROBLEM.starter)  # dies, restarted once, dies again
        assert isinstance(first, Retry) and "the scorer process gave no answer" in first.reason
        assert as_result(first, PROBLEM).details == {"retryable": True}
        second = judge.judge(PROBLEM, PROBLEM.starter)
        assert isinstance(second, Result) and second.verdict is Verdict.AC


def test_a_scorer_process_that_dies_once_is_restarted_within_the_run() -> None:
    sandbox = FakeSandbox(OK, writes(hidden_labels()))  # type: ignore[arg-type]
    with Judge(BANK, sandbox, SECRET, scorer=DyingScorer(deaths=1)) as judge:
        outcome = judge.judge(PROBLEM, PROBLEM.starter)
    assert isinstance(outcome, Result) and outcome.verdict is Verdict.AC


def test_a_grading_bug_stays_an_internal_error() -> None:
    class BuggyScorer(ScorerServer):
        def ask(self, request: dict[str, Any]) -> dict[str, Any]:
            return {"status": "scorer_error", "message": "ZeroDivisionError: x (scoring.py:9)"}

    sandbox = FakeSandbox(OK, writes(hidden_labels()))  # type: ignore[arg-type]
    outcome = Judge(BANK, sandbox, SECRET, scorer=BuggyScorer()).judge(PROBLEM, PROBLEM.starter)
    assert isinstance(outcome, Result) and outcome.verdict is Verdict.IE
    assert "ZeroDivisionError: x (scoring.py:9)" in outcome.message


def test_the_three_steps_chain_to_the_same_result_as_judge() -> None:
    sandbox = FakeSandbox(OK, writes(hidden_labels()))  # type: ignore[arg-type]
    judge = Judge(BANK, sandbox, SECRET)
    with judge.prepare(PROBLEM, PROBLEM.starter) as prepared:
        assert prepared.command[0] == sandbox.python
        assert all(prepared.truth != m.source for m in prepared.mounts)
        result = judge.score(prepared, judge.execute(prepared))
    assert not prepared.output.exists()  # closed: the run's folders are gone
    assert result == judge.judge(PROBLEM, PROBLEM.starter)


def test_a_function_problem_runs_its_reference_once_per_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = BANK.problem("add-arrays")
    calls: list[Path] = []
    real = function_kind.reference_answers

    def counted(problem: object, calls_path: Path) -> list[object]:
        calls.append(calls_path)
        return real(problem, calls_path)  # type: ignore[arg-type]

    monkeypatch.setattr(function_kind, "reference_answers", counted)
    judge = Judge(BANK, FakeSandbox(OK), SECRET)
    for _ in range(3):
        assert as_result(judge.judge(problem, problem.starter), problem).verdict is Verdict.IO
    assert len(calls) == 1
    Judge(BANK, FakeSandbox(OK), Secret(b"another draw", "test")).judge(problem, problem.starter)
    assert len(calls) == 2


def counting_references(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = function_kind.reference_answers

    def counted(problem: object, calls_path: Path) -> list[object]:
        calls.append(calls_path)
        return real(problem, calls_path)  # type: ignore[arg-type]

    monkeypatch.setattr(function_kind, "reference_answers", counted)
    return calls


def test_loading_a_function_problem_computes_its_answers_before_any_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = BANK.problem("add-arrays")
    calls = counting_references(monkeypatch)
    seen_at_run: list[int] = []
    sandbox = FakeSandbox(OK, lambda mounts: seen_at_run.append(len(calls)))
    judge = Judge(BANK, sandbox, SECRET)
    judge.load(problem)
    assert len(calls) == 1
    judge.load(problem)  # memoized: loading twice runs the reference once
    for _ in range(2):
        assert as_result(judge.judge(problem, problem.starter), problem).verdict is Verdict.IO
    assert seen_at_run == [1, 1] and len(calls) == 1


def test_a_problem_drawn_per_contestant_loads_each_contestants_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = BANK.problem("add-arrays")
    dataset = base.spec.dataset.model_copy(update={"per_contestant": True})
    problem = replace(base, spec=base.spec.model_copy(update={"dataset_section": dataset}))
    calls = counting_references(monkeypatch)
    judge = Judge(BANK, FakeSandbox(OK), SECRET)
    judge.load(problem, ["ana", "bo", "ana"])
    assert len(calls) == 2
    judge.judge(problem, problem.starter, contestant="bo")
    assert len(calls) == 2
    judge.judge(problem, problem.starter, contestant="cy")  # not loaded: computed on its run
    assert len(calls) == 3


def test_an_unknown_kind_is_a_broken_problem() -> None:
    with pytest.raises(SpecError, match="unknown problem kind 'essay'"):
        get_kind("essay")
    assert get_kind("function").name == "function"


def test_results_carry_the_problem_digest_the_sandbox_and_the_judge_version(
    tmp_path: Path,
) -> None:
    shutil.copytree(BANK.root, tmp_path / "bank")
    bank = Bank(tmp_path / "bank")
    problem = bank.problem("threshold")
    sandbox = FakeSandbox(OK, writes(hidden_labels()))  # type: ignore[arg-type]
    before = as_result(Judge(bank, sandbox, SECRET).judge(problem, problem.starter), problem)
    assert before.provenance["sandbox"] == "fake" and before.provenance["judge"]
    assert Result.from_dict(before.to_dict()) == before
    statement = problem.statement
    statement.write_text(statement.read_text() + "\nA clarification.\n")
    after = as_result(Judge(bank, sandbox, SECRET).judge(problem, problem.starter), problem)
    assert after.provenance["problem_sha256"] != before.provenance["problem_sha256"]
    assert after.verdict is before.verdict
