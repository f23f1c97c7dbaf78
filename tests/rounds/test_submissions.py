"""Finding a round's submissions on disk: odd names, copies and late files are notices."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from judge.errors import UsageError
from judge.rounds.roundfile import load_round
from judge.rounds.submissions import discover, parse_stamp
from tests.rounds.helpers import (
    BANK,
    HONEST_ADD,
    HONEST_THRESHOLD,
    START,
    fixture_round,
    hand_in,
    write_round,
)


def test_stamps_in_file_names_are_utc_times() -> None:
    moment = datetime(2026, 12, 5, 10, 15, tzinfo=UTC)
    assert parse_stamp("20261205T101500Z") == moment
    assert parse_stamp("2026-12-05T10-15-00") == moment


def test_every_contestant_folder_and_file_is_found_in_time_order(tmp_path: Path) -> None:
    hand_in(tmp_path, "ana", "threshold.20261205T093000Z.py", HONEST_THRESHOLD)
    hand_in(tmp_path, "ana", "threshold.20261205T091500Z.py", "print('first')")
    hand_in(tmp_path, "ana", "add-arrays.ipynb", "{}", minute=3)
    found = discover(fixture_round(), tmp_path)
    assert found.folder == tmp_path and found.contestants == ["ana"]
    keys = [s.key for s in found.submissions]
    assert keys == [
        "ana/threshold.20261205T091500Z.py",
        "ana/threshold.20261205T093000Z.py",
        "ana/add-arrays.ipynb",
    ]
    assert found.submissions[2].submitted_at == START.replace(minute=3)
    assert not found.missing and not found.notices


def test_odd_folders_and_files_become_notices_and_the_rest_is_found(tmp_path: Path) -> None:
    hand_in(tmp_path, "bad name!", "threshold.py", HONEST_THRESHOLD)
    hand_in(tmp_path, "ana", "threshold.py", HONEST_THRESHOLD)
    hand_in(tmp_path, "ana", "Threshold (1).py", HONEST_THRESHOLD)
    hand_in(tmp_path, "ana", "unknown-problem.py", HONEST_THRESHOLD)
    hand_in(tmp_path, "ana", "threshold.20261399T000000.py", HONEST_THRESHOLD)
    (tmp_path / "stray.txt").write_text("x")
    (tmp_path / "ana" / ".ipynb_checkpoints").mkdir()
    found = discover(fixture_round(), tmp_path)
    assert [s.key for s in found.submissions] == ["ana/threshold.py"]
    text = "\n".join(found.notices)
    assert "'bad name!': contestant folder names may hold only" in text
    assert "ana/Threshold (1).py: not named <problem>" in text
    assert "'unknown-problem' is not a problem of this round (threshold, add-arrays)" in text
    assert "the time stamp is not a date" in text
    assert "stray.txt: not a contestant folder" in text
    assert ".ipynb_checkpoints" not in text
    assert found.missing == [("ana", "add-arrays")]


def test_a_copy_of_an_earlier_file_is_judged_once(tmp_path: Path) -> None:
    hand_in(tmp_path, "ana", "add-arrays.py", HONEST_ADD, minute=1)
    hand_in(tmp_path, "ana", "add-arrays.ipynb", HONEST_ADD, minute=2)  # same bytes
    found = discover(fixture_round(), tmp_path)
    assert [s.key for s in found.submissions] == ["ana/add-arrays.py"]
    assert "ana/add-arrays.ipynb: the same bytes as add-arrays.py" in found.notices[0]


def test_files_over_the_submission_limit_are_not_judged(tmp_path: Path) -> None:
    for minute in range(5):  # the fixture round allows 3
        hand_in(tmp_path, "ana", f"threshold.20261205T09{minute:02d}00.py", f"# {minute}")
    found = discover(fixture_round(), tmp_path)
    assert len(found.submissions) == 3
    assert [s.path.name[-9:-3] for s in found.submissions] == ["090000", "090100", "090200"]
    assert sum("over the limit of 3" in n for n in found.notices) == 2


def test_files_outside_a_timed_round_are_late(tmp_path: Path) -> None:
    text = (BANK.root / "rounds" / "fixture-round.yaml").read_text()
    text = text.replace("name: fixture-round", "name: timed") + "start: 2026-12-05T09:00:00Z\n"
    round_ = load_round(BANK, write_round(tmp_path, text, "timed"))
    subs = tmp_path / "subs"
    hand_in(subs, "ana", "threshold.20261205T085959Z.py", "# early")
    hand_in(subs, "ana", "threshold.20261205T093000Z.py", "# in time")
    hand_in(subs, "ana", "threshold.20261205T100001Z.py", "# late")
    found = discover(round_, subs)
    assert [s.path.name for s in found.submissions] == ["threshold.20261205T093000Z.py"]
    assert any("before the round started" in n for n in found.notices)
    assert any("after the round ended" in n for n in found.notices)


def test_a_missing_submissions_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such submissions folder"):
        discover(fixture_round(), tmp_path / "nowhere")
