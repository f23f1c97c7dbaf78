"""The verdict store: appended and synced line by line; the last record of a key wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.errors import UsageError
from judge.rounds.store import Manifest, Record, VerdictStore
from tests.rounds.helpers import record


def test_records_cross_the_file_unchanged(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path / "results")
    original = record("ana", "threshold", 3, 75.0, public=60.0)
    store.append(original)
    assert store.load() == {original.key: original}
    assert Record.from_dict(original.to_dict()) == original


def test_the_last_record_of_a_key_wins(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path)
    store.append(record("ana", "threshold", 3, 10.0, file="threshold.py"))
    store.append(record("ana", "threshold", 3, 90.0, file="threshold.py"))
    (latest,) = store.load().values()
    assert latest.result.score == 90.0


def test_a_torn_last_line_is_skipped_and_the_next_append_starts_a_fresh_line(
    tmp_path: Path,
) -> None:
    store = VerdictStore(tmp_path)
    store.append(record("ana", "threshold", 1, 10.0))
    with store.path.open("a") as handle:
        handle.write('{"key": "bob/threshold.py", "contest')  # a crash mid-write
    assert len(store.load()) == 1 and store.torn_lines == 1
    store.append(record("cyd", "threshold", 2, 20.0))
    assert sorted(store.load()) == ["ana/threshold.0001.py", "cyd/threshold.0002.py"]
    assert store.torn_lines == 1


def test_the_manifest_is_replaced_whole(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path)
    manifest = Manifest("r", "/subs", ["ana"], [("ana", "threshold")], ["a notice"], "fake", "x")
    store.write_manifest(manifest)
    assert store.read_manifest() == manifest
    assert not list(tmp_path.glob(".*.tmp"))


def test_reading_a_manifest_that_was_never_written_says_to_judge_first(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="run `judge round judge` first"):
        VerdictStore(tmp_path).read_manifest()
