"""The JSONL store: appended and synced line by line; old lines load, torn lines are skipped.

What every store must do is tested once for all of them in test_records.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.errors import UsageError
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.records import Manifest, Record
from judge.verdicts import Verdict
from tests.rounds.helpers import record

# A line as the store wrote it before Record moved to judge/rounds/records.py.
CURRENT_LINE = (
    '{"key": "ana/threshold.py", "contestant": "ana", "problem": "threshold", '
    '"file": "threshold.py", "sha256": "ab12", "submitted_at": "2026-12-05T10:15:00+00:00", '
    '"judged_at": "2026-12-05T10:20:05+00:00", "result": {"problem": "threshold", '
    '"verdict": "WA", "score": 12.5, "max_score": 100.0, "metric": {"name": "accuracy", '
    '"value": 0.625}, "message": "Wrong answer", "sandbox": "bwrap", "wall_s": 1.5, '
    '"cpu_s": 1.25, "peak_mb": 48.0, "public_score": 10.0, "public_metric": 0.6, '
    '"details": {}, "provenance": {"judge": "0.1"}, "parts": []}, "rejudge": 1, '
    '"ie_tries": 0}'
)
# A line from before the IE retry cap and provenance: no ie_tries, no provenance.
OLDEST_LINE = (
    '{"key": "bob/threshold.py", "contestant": "bob", "problem": "threshold", '
    '"file": "threshold.py", "sha256": "cd34", "submitted_at": "2026-12-05T10:16:00+00:00", '
    '"judged_at": "2026-12-05T10:21:00+00:00", "result": {"problem": "threshold", '
    '"verdict": "AC", "score": 100.0, "max_score": 100.0, "metric": {"name": "accuracy", '
    '"value": 1.0}, "message": "Accepted", "sandbox": "bwrap", "wall_s": 1.0, '
    '"cpu_s": 1.0, "peak_mb": 40.0, "public_score": 100.0, "public_metric": 1.0, '
    '"details": {}}, "rejudge": 0}'
)


def test_records_cross_the_file_unchanged(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path / "results")
    original = record("ana", "threshold", 3, 75.0, public=60.0)
    store.append(original)
    assert store.load() == {original.key: original}
    assert Record.from_dict(original.to_dict()) == original


def test_lines_written_before_load_and_are_written_back_byte_for_byte(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    store.path.write_text(CURRENT_LINE + "\n" + OLDEST_LINE + "\n", encoding="utf-8")
    loaded = store.load()
    assert store.torn_lines == 0
    current, oldest = loaded["ana/threshold.py"], loaded["bob/threshold.py"]
    assert current.result.verdict is Verdict.WA and current.rejudge == 1
    assert oldest.result.verdict is Verdict.AC and oldest.ie_tries == 0
    assert oldest.result.provenance == {}
    again = JsonlStore(tmp_path / "again")
    again.append(current)
    assert again.path.read_text(encoding="utf-8") == CURRENT_LINE + "\n"
    assert json.loads(CURRENT_LINE) == current.to_dict()


def test_the_last_record_of_a_key_wins(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    store.append(record("ana", "threshold", 3, 10.0, file="threshold.py"))
    store.append(record("ana", "threshold", 3, 90.0, file="threshold.py"))
    (latest,) = store.load().values()
    assert latest.result.score == 90.0


def test_a_torn_last_line_is_skipped_and_the_next_append_starts_a_fresh_line(
    tmp_path: Path,
) -> None:
    store = JsonlStore(tmp_path)
    store.append(record("ana", "threshold", 1, 10.0))
    with store.path.open("a") as handle:
        handle.write('{"key": "bob/threshold.py", "contest')  # a crash mid-write
    assert len(store.load()) == 1 and store.torn_lines == 1
    store.append(record("cyd", "threshold", 2, 20.0))
    assert sorted(store.load()) == ["ana/threshold.0001.py", "cyd/threshold.0002.py"]
    assert store.torn_lines == 1


def test_the_manifest_is_replaced_whole(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    manifest = Manifest("r", "/subs", ["ana"], [("ana", "threshold")], ["a notice"], "fake", "x")
    store.write_manifest(manifest)
    assert store.read_manifest() == manifest
    assert not list(tmp_path.glob(".*.tmp"))


def test_reading_a_manifest_that_was_never_written_says_to_judge_first(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="run `judge round judge` first"):
        JsonlStore(tmp_path).read_manifest()
