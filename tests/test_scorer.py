"""The scorer process: untrusted outputs are parsed and scored outside the judge's process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from judge import scorer
from judge.bank import Bank
from judge.errors import InvalidOutput, ScorerError, ScorerUnavailable
from judge.scorer import ScorerServer, Scores, score_outputs

BANK = Bank(Path(__file__).parent / "fixtures" / "bank")
SPEC = BANK.problem("threshold").spec
TRUTH = np.array([0, 1, 1, 0])


def test_scores_predictions_in_a_separate_process(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", np.array([0, 1, 0, 0]))
    assert score_outputs(SPEC, tmp_path, TRUTH, [0, 1], 1 << 20) == Scores(0.5, 1.0)


def test_public_and_private_parts_are_scored_apart(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", np.array([1, 1, 1, 0]))
    assert score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20) == Scores(1.0, 0.0)
    assert score_outputs(SPEC, tmp_path, TRUTH, [1, 2, 3], 1 << 20) == Scores(0.0, 1.0)


def test_modules_dropped_in_the_output_folder_are_never_imported(tmp_path: Path) -> None:
    marker = tmp_path.parent / "imported-marker"
    payload = f"open({str(marker)!r}, 'w').write('x')\n"
    for name in ("numpy.py", "sitecustomize.py", "usercustomize.py", "sklearn.py"):
        (tmp_path / name).write_text(payload)
    (tmp_path / "evil.pth").write_text(f"import os; {payload}")
    np.save(tmp_path / "predictions.npy", TRUTH)
    assert score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20) == Scores(1.0, 1.0)
    assert not marker.exists()


def test_invalid_output_crosses_the_process_boundary(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", np.array([0, 1]))
    with pytest.raises(InvalidOutput, match=r"shape \(2,\), expected \(4,\)"):
        score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20)


def test_a_grading_bug_is_a_scorer_error_naming_file_and_line() -> None:
    answer = scorer.answer({"spec": {"id": "broken"}})
    assert answer["status"] == "scorer_error"
    assert "ValidationError" in answer["message"] and ".py:" in answer["message"]


def test_a_silent_scorer_is_a_scorer_error(tmp_path: Path) -> None:
    server = ScorerServer(python="/bin/true")
    with pytest.raises(ScorerError, match="no answer"):
        score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, server)


def test_a_silent_scorer_is_unavailable_infrastructure_not_a_grading_bug(tmp_path: Path) -> None:
    server = ScorerServer(python="/bin/true")
    with pytest.raises(ScorerUnavailable, match="no answer"):
        score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, server)
    with pytest.raises(ScorerUnavailable, match="could not start"):
        score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, ScorerServer(python="/no/python"))


def test_a_killed_scorer_process_is_restarted(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", TRUTH)
    server = ScorerServer()
    try:
        assert score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, server) == Scores(1.0, 1.0)
        assert server._proc is not None
        first = server._proc.pid
        server._proc.kill()
        server._proc.wait()
        assert score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, server) == Scores(1.0, 1.0)
        assert server._proc is not None and server._proc.pid != first
    finally:
        server.close()


def test_a_grading_bug_is_answered_and_the_server_lives_on(
    tmp_path: Path,
) -> None:
    server = ScorerServer()
    try:
        reply = server.ask({"spec": {}})  # a grading bug: answered with where it happened
        assert reply["status"] == "scorer_error" and "ValidationError" in reply["message"]
        np.save(tmp_path / "predictions.npy", TRUTH)
        assert score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, server) == Scores(1.0, 1.0)
    finally:
        server.close()


def test_each_request_is_scored_in_a_fresh_process(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", TRUTH)
    server = ScorerServer()
    try:
        for _ in range(3):
            assert score_outputs(SPEC, tmp_path, TRUTH, [0], 1 << 20, server) == Scores(1.0, 1.0)
        assert server._proc is not None and server._proc.poll() is None
    finally:
        server.close()


def test_a_listed_kind_module_that_fails_to_import_makes_its_requests_scorer_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(scorer, "_BROKEN_KINDS", {})
    listed = {"ghost": {"name": "ghost_kind", "file": str(tmp_path / "missing.py")}}
    scorer._load_kinds(json.dumps(listed))
    answer = scorer.answer({"spec": {"kind": "ghost"}})
    assert answer["status"] == "scorer_error"
    assert "kind ghost: its module failed to import: SpecError" in answer["message"]
