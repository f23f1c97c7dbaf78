"""Judging a round: every file gets a verdict, a second call judges nothing twice.

The logic runs on a scripted FakeSandbox, and on the in-memory store where the
verdict file itself is not under test; the end-to-end round runs on the real
isolating backends (tests/rounds/test_round_end_to_end.py drives the command line).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from judge.data import Secret
from judge.errors import SandboxError
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.judging import judge_round, rejudge_problem
from judge.rounds.submissions import discover
from judge.sandbox.base import Mount, RunFacts, Sandbox
from judge.sandbox.fake import FakeSandbox
from judge.verdicts import Verdict
from tests.rounds.helpers import (
    BANK,
    MemoryStore,
    five_contestants,
    fixture_round,
    hand_in,
    lines,
)

SECRET = Secret(b"round-judging-tests", "test")
OK = RunFacts(0, None, 0.5, 0.4, 40.0, False, False, False)


def write_weak_outputs(mounts: Sequence[Mount]) -> None:
    """Predict zeros (threshold) or fail every call (add-arrays): a WA on either problem."""
    data = next(m.source for m in mounts if m.target.endswith("data"))
    output = next(m.source for m in mounts if m.writable)
    if (data / "test_X.npy").exists():
        rows = len(np.load(data / "test_X.npy"))
        np.save(output / "predictions.npy", np.zeros(rows, dtype=np.int64))
    else:
        calls = json.loads((data / "calls.json").read_text())
        answers = [{"ok": False, "error": "no"}] * len(calls)
        (output / "results.json").write_text(json.dumps(answers))


def fake() -> FakeSandbox:
    return FakeSandbox(OK, write_weak_outputs)


def test_every_file_gets_a_verdict_and_a_broken_one_never_stops_the_batch(
    tmp_path: Path,
) -> None:
    round_ = fixture_round()
    store = MemoryStore()
    subs = five_contestants(tmp_path / "subs")
    summary = judge_round(round_, BANK, discover(round_, subs), store, fake(), SECRET)
    verdicts = {key: r.result.verdict for key, r in summary.records.items()}
    assert verdicts["crashing/add-arrays.py"] is Verdict.CE  # the empty file
    assert "the file is empty" in summary.records["crashing/add-arrays.py"].result.message
    assert Counter(verdicts.values()) == {Verdict.WA: 7, Verdict.CE: 1}
    assert sorted(summary.discovery.missing) == [
        ("missing", "threshold"),
        ("notebook", "add-arrays"),
    ]
    assert summary.judged == 8 and summary.already == 0


def test_judging_takes_only_what_was_discovered_and_the_manifest_says_where(
    tmp_path: Path,
) -> None:
    round_ = fixture_round()
    store = MemoryStore()
    subs = five_contestants(tmp_path / "subs")
    found = discover(round_, subs)
    found.submissions = [item for item in found.submissions if item.contestant == "honest"]
    sandbox = fake()
    summary = judge_round(round_, BANK, found, store, sandbox, SECRET)
    assert sorted(summary.records) == ["honest/add-arrays.py", "honest/threshold.py"]
    assert summary.judged == 2 and len(sandbox.calls) == 2
    manifest = store.read_manifest()
    assert manifest.submissions_dir == str(subs.resolve())
    assert manifest.contestants == found.contestants and manifest.missing == found.missing


def test_a_second_call_judges_nothing_again(tmp_path: Path) -> None:
    round_ = fixture_round()
    store = JsonlStore(tmp_path / "results")
    subs = five_contestants(tmp_path / "subs")
    judge_round(round_, BANK, discover(round_, subs), store, fake(), SECRET)
    sandbox = fake()
    again = judge_round(round_, BANK, discover(round_, subs), store, sandbox, SECRET)
    assert again.judged == 0 and again.already == 8 and not sandbox.calls
    assert len(lines(store.path)) == 8


def test_an_interrupted_batch_loses_nothing_and_the_next_call_judges_only_the_rest(
    tmp_path: Path,
) -> None:
    round_ = fixture_round()
    store = JsonlStore(tmp_path / "results")
    subs = five_contestants(tmp_path / "subs")

    def interrupt_after_three(done: int, total: int, label: str) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        judge_round(
            round_,
            BANK,
            discover(round_, subs),
            store,
            fake(),
            SECRET,
            progress=interrupt_after_three,
        )
    assert len(lines(store.path)) == 3
    resumed = judge_round(round_, BANK, discover(round_, subs), store, fake(), SECRET)
    assert resumed.judged == 5 and resumed.already == 3
    keys = [line["key"] for line in lines(store.path)]
    assert len(keys) == len(set(keys)) == 8


def test_a_changed_file_and_an_internal_error_are_judged_again(tmp_path: Path) -> None:
    round_ = fixture_round()
    store = JsonlStore(tmp_path / "results")
    subs = five_contestants(tmp_path / "subs")

    class Broken:
        name, isolates, python = "broken", False, "python3"

        def run(self, *args: object) -> RunFacts:
            from judge.errors import SandboxError

            raise SandboxError("the engine went away")

    first = judge_round(round_, BANK, discover(round_, subs), store, Broken(), SECRET)  # type: ignore[arg-type]
    assert Counter(r.result.verdict for r in first.records.values())[Verdict.IE] == 7
    hand_in(subs, "crashing", "add-arrays.py", "def add(a, b):\n    return a\n")
    second = judge_round(round_, BANK, discover(round_, subs), store, fake(), SECRET)
    assert second.judged == 8  # seven IE retried, one changed file
    assert any("changed since it was judged" in n for n in second.notices)
    assert Verdict.IE not in {r.result.verdict for r in second.records.values()}


def test_rejudging_a_problem_reports_whose_rank_moved(tmp_path: Path) -> None:
    round_ = fixture_round()
    store = JsonlStore(tmp_path / "results")
    subs = tmp_path / "subs"
    hand_in(subs, "ana", "threshold.py", "# ana", minute=1)
    hand_in(subs, "bob", "threshold.py", "# bob", minute=2)
    scripted = {"ana": 1.0, "bob": 0.0}  # share of correct predictions per contestant

    def by_contestant(mounts: Sequence[Mount]) -> None:
        code = next(m.source for m in mounts if m.target.endswith("code"))
        who = (code / "submission.py").read_text().strip("# \n")
        data = next(m.source for m in mounts if m.target.endswith("data"))
        rows = len(np.load(data / "test_X.npy"))
        truth = hidden_truth()
        guess = truth.copy() if scripted[who] == 1.0 else 1 - truth
        output = next(m.source for m in mounts if m.writable)
        np.save(output / "predictions.npy", guess[:rows])

    judge_round(round_, BANK, discover(round_, subs), store, FakeSandbox(OK, by_contestant), SECRET)
    scripted.update(ana=0.0, bob=1.0)  # "after a fix of the problem"
    outcome = rejudge_problem(
        round_,
        "threshold",
        BANK,
        discover(round_, subs),
        store,
        FakeSandbox(OK, by_contestant),
        SECRET,
    )
    assert outcome.judged == 2
    assert {(c.contestant, c.before, c.after) for c in outcome.private} == {
        ("ana", 1, 2),
        ("bob", 2, 1),
    }
    assert [line["rejudge"] for line in lines(store.path)] == [0, 0, 1, 1]


def hidden_truth() -> np.ndarray:
    from judge.data import draw_train_predict

    spec = BANK.problem("threshold").spec
    return draw_train_predict(spec, BANK.datasets_dir, SECRET).hidden_y


def test_run_pinning_gives_each_run_its_own_core(tmp_path: Path) -> None:
    round_ = fixture_round()
    seen: list[tuple[int, ...]] = []

    class Recording(FakeSandbox):
        def run(self, command, mounts, limits, env):  # type: ignore[no-untyped-def]
            seen.append(limits.cpuset)
            return super().run(command, mounts, limits, env)

    store = JsonlStore(tmp_path / "results")
    subs = five_contestants(tmp_path / "subs")
    sandbox: Sandbox = Recording(OK, write_weak_outputs)
    judge_round(round_, BANK, discover(round_, subs), store, sandbox, SECRET, jobs=2)
    assert seen and all(len(cpus) == 1 for cpus in seen)
    assert {cpus for cpus in seen} <= {(0,), (1,)}


class FailingSandbox(FakeSandbox):
    """Infrastructure that fails on every run: every verdict is IE."""

    def run(self, *args: object, **kwargs: object) -> RunFacts:
        raise RuntimeError("the engine went away")


def test_an_internal_error_on_the_same_bytes_is_retried_twice_then_left_to_the_organiser(
    tmp_path: Path,
) -> None:
    round_ = fixture_round()
    store = MemoryStore()
    subs = tmp_path / "subs"
    hand_in(subs, "ann", "threshold.py", "print('hi')\n")
    failing = FailingSandbox(OK)
    for attempt in (1, 2, 3):
        summary = judge_round(round_, BANK, discover(round_, subs), store, failing, SECRET)
        record = summary.records["ann/threshold.py"]
        assert summary.judged == 1 and record.result.verdict is Verdict.IE
        assert record.ie_tries == attempt
    summary = judge_round(round_, BANK, discover(round_, subs), store, failing, SECRET)
    assert summary.judged == 0 and len(failing.calls) == 0
    assert any("failed on this file 3 times" in n for n in summary.notices)
    assert store.read_manifest().notices == summary.notices
    # The organiser's explicit rejudge still judges it; a working judge clears the count.
    outcome = rejudge_problem(
        round_, "threshold", BANK, discover(round_, subs), store, fake(), SECRET
    )
    assert outcome.judged == 1
    record = store.load()["ann/threshold.py"]
    assert record.result.verdict is Verdict.WA and record.ie_tries == 0


def test_a_changed_file_after_internal_errors_is_judged_afresh(tmp_path: Path) -> None:
    round_ = fixture_round()
    store = JsonlStore(tmp_path / "results")
    subs = tmp_path / "subs"
    hand_in(subs, "ann", "threshold.py", "print('hi')\n")
    for _ in range(3):
        judge_round(round_, BANK, discover(round_, subs), store, FailingSandbox(OK), SECRET)
    hand_in(subs, "ann", "threshold.py", "print('fixed')\n")
    summary = judge_round(round_, BANK, discover(round_, subs), store, fake(), SECRET)
    assert summary.judged == 1 and summary.records["ann/threshold.py"].ie_tries == 0


class FlakySandbox(FakeSandbox):
    """Fails like a restarted engine on its first run only."""

    failed = False

    def run(self, *args: object, **kwargs: object) -> RunFacts:
        if not self.failed:
            self.failed = True
            raise SandboxError("the engine restarted")
        return super().run(*args, **kwargs)  # type: ignore[arg-type]


def test_an_infrastructure_failure_is_judged_again_at_once_not_recorded(tmp_path: Path) -> None:
    round_ = fixture_round()
    store = MemoryStore()
    subs = tmp_path / "subs"
    hand_in(subs, "ann", "threshold.py", "print('hi')\n")
    sandbox = FlakySandbox(OK, write_weak_outputs)
    summary = judge_round(round_, BANK, discover(round_, subs), store, sandbox, SECRET)
    record = summary.records["ann/threshold.py"]
    assert record.result.verdict is Verdict.WA and record.ie_tries == 0
    assert len(sandbox.calls) == 1 and sandbox.failed


def test_a_round_computes_expected_answers_before_any_file_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from judge.kinds import function as function_kind

    references: list[Path] = []
    real = function_kind.reference_answers

    def counted(problem: object, calls_path: Path) -> list[object]:
        references.append(calls_path)
        return real(problem, calls_path)  # type: ignore[arg-type]

    monkeypatch.setattr(function_kind, "reference_answers", counted)
    seen_at_run: list[int] = []

    def write(mounts: Sequence[Mount]) -> None:
        seen_at_run.append(len(references))
        write_weak_outputs(mounts)

    round_ = fixture_round()
    subs = five_contestants(tmp_path / "subs")
    judge_round(round_, BANK, discover(round_, subs), MemoryStore(), FakeSandbox(OK, write), SECRET)
    assert len(references) == 1  # add-arrays is one shared draw
    assert seen_at_run and set(seen_at_run) == {1}
