"""Problem kinds: a kind registered at runtime is staged, run, scored and validated like a built-in.

The toy kind (tests/fixtures/kinds/toy_kind.py) and its problem (tests/fixtures/kinds/bank)
are unknown to the judge until the `toy` fixture registers the module; nothing in the
runner, the scorer or validation knows of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from judge.bank import Bank
from judge.bundle import fetch_problem
from judge.data import Secret
from judge.errors import SpecError
from judge.kinds import Kind, get_kind, kind_modules, register_module, unregister
from judge.runner import Judge, as_result
from judge.sandbox.base import Mount, RunFacts
from judge.sandbox.fake import FakeSandbox
from judge.scorer import ScorerServer
from judge.validate import ValidateOptions, validate_bank
from judge.verdicts import Result, Verdict
from tests.backends import get_backend

BANK = Bank(Path(__file__).parent / "fixtures" / "kinds" / "bank")
SECRET = Secret(b"kinds-tests", "test")
OK = RunFacts(0, None, 1.0, 0.9, 50.0, False, False, False)
MODULE = "tests.fixtures.kinds.toy_kind"


@pytest.fixture(scope="module")
def toy() -> Iterator[Kind]:
    kind = register_module(MODULE)
    yield kind
    unregister("toy")


def lengths_of_words(mounts: Sequence[Mount], wrong: int = 0) -> None:
    data = next(m.source for m in mounts if m.target.endswith("data"))
    output = next(m.source for m in mounts if m.writable)
    words = json.loads((data / "words.json").read_text())
    lengths = [len(w) + (i < wrong) for i, w in enumerate(words)]
    (output / "lengths.json").write_text(json.dumps(lengths))


def test_the_toy_problem_is_unknown_until_its_kind_is_registered() -> None:
    with pytest.raises(
        SpecError, match="unknown problem kind 'toy'; known: function, quiz, train-p"
    ):
        BANK.problem("word-lengths")
    with pytest.raises(SpecError, match="unknown problem kind 'toy'"):
        get_kind("toy")


def test_a_registered_kind_is_dispatched_and_allowed_to_the_scorer(toy: Kind) -> None:
    assert get_kind("toy") is toy
    assert kind_modules()["toy"].name == MODULE
    assert kind_modules()["toy"].file.endswith("tests/fixtures/kinds/toy_kind.py")
    problem = BANK.problem("word-lengths")
    assert problem.spec.kind == "toy"


def test_a_toy_run_on_the_fake_sandbox_sees_words_but_never_lengths(toy: Kind) -> None:
    problem = BANK.problem("word-lengths")
    sandbox = FakeSandbox(OK, lengths_of_words)  # type: ignore[arg-type]
    with Judge(BANK, sandbox, SECRET) as judge, judge.prepare(problem, problem.starter) as run:
        staged = sorted(p.name for m in run.mounts for p in m.source.rglob("*"))
        assert staged == ["submission.py", "words.json"]
        result = judge.score(run, judge.execute(run))
    assert result.verdict is Verdict.AC and result.score == 100.0


def test_a_toy_run_scores_both_parts_and_wrong_answers(toy: Kind) -> None:
    problem = BANK.problem("word-lengths")
    sandbox = FakeSandbox(OK, lambda mounts: lengths_of_words(mounts, wrong=40))
    outcome = Judge(BANK, sandbox, SECRET).judge(problem, problem.starter)
    assert isinstance(outcome, Result) and outcome.verdict is Verdict.WA
    assert outcome.metric.value == 0.0 and outcome.public_metric == 0.0
    nothing = Judge(BANK, FakeSandbox(OK), SECRET).judge(problem, problem.starter)
    assert isinstance(nothing, Result) and nothing.verdict is Verdict.IO
    assert "lengths.json was not written" in nothing.message


def test_a_toy_problem_is_judged_end_to_end_on_the_process_sandbox(toy: Kind) -> None:
    problem = BANK.problem("word-lengths")
    reference = problem.reference_folder / "accepted" / "solution.py"
    broken = problem.reference_folder / "invalid_output" / "not_json.py"
    with Judge(BANK, get_backend("process"), SECRET) as judge:
        judge.load(problem)
        verdicts = {
            path.name: as_result(judge.judge(problem, path), problem).verdict
            for path in (reference, problem.starter, broken)
        }
    assert verdicts == {
        "solution.py": Verdict.AC,
        "starter.py": Verdict.WA,
        "not_json.py": Verdict.IO,
    }


def test_the_toy_problem_passes_validation(toy: Kind) -> None:
    options = ValidateOptions(draws=2, jobs=1, audit_sandbox=False)
    report = validate_bank(BANK, None, get_backend("process"), SECRET, options)
    (problem,) = report.problems
    assert problem.ok and not problem.findings, problem.findings
    labels = sorted({run.label for run in problem.runs})
    assert labels == ["accepted/solution.py", "invalid_output/not_json.py", "reference", "starter"]


def test_a_toy_practice_folder_holds_practice_words_only(toy: Kind, tmp_path: Path) -> None:
    problem = BANK.problem("word-lengths")
    fetch_problem(problem, BANK, SECRET, tmp_path / "practice")
    assert sorted(p.name for p in (tmp_path / "practice" / "data").iterdir()) == ["words.json"]
    facts = json.loads((tmp_path / "practice" / "problem.json").read_text())
    assert facts["kind"] == "toy"


def test_the_scorer_imports_only_allowed_kinds(toy: Kind, tmp_path: Path) -> None:
    problem = BANK.problem("word-lengths")
    request = {
        "spec": problem.spec.model_dump(mode="json", by_alias=True),
        "output_dir": str(tmp_path),
        "max_bytes": 1 << 20,
        "truth": [3, 1],
        "public": [1],
    }
    (tmp_path / "lengths.json").write_text("[3, 2]")
    server = ScorerServer()
    try:
        scored = {"status": "scored", "metric": 1.0, "public_metric": 0.0, "parts": []}
        assert server.ask(request) == {**scored, "banned": "", "notes": []}
        unregister("toy")  # off the allow-list: the server restarts without it
        answer = server.ask(request)
        assert answer["status"] == "scorer_error"
        assert "unknown problem kind 'toy'" in answer["message"]
    finally:
        server.close()
        register_module(MODULE)
