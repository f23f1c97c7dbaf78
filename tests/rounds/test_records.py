"""The VerdictStore protocol: the JSONL store and the in-memory fake keep a round alike.

Every check takes a `VerdictStore`, so `mypy --strict` proves that both stores keep
the protocol (test_the_stores_keep_the_protocol_under_mypy_strict), and running them
proves they behave the same.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from judge.errors import UsageError
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.records import Manifest, Record, VerdictStore
from tests.rounds.helpers import MemoryStore, record


def jsonl_store(folder: Path) -> VerdictStore:
    return JsonlStore(folder / "results")


def memory_store(folder: Path) -> VerdictStore:
    return MemoryStore()


STORES: dict[str, Callable[[Path], VerdictStore]] = {"jsonl": jsonl_store, "memory": memory_store}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VerdictStore:
    return STORES[request.param](tmp_path)


def test_a_record_crosses_a_dict_unchanged() -> None:
    original = record("ana", "threshold", 3, 75.0, public=60.0)
    assert Record.from_dict(original.to_dict()) == original


def test_records_cross_the_store_unchanged_and_the_last_of_a_key_wins(
    store: VerdictStore,
) -> None:
    first = record("ana", "threshold", 3, 10.0, file="threshold.py")
    other = record("bob", "threshold", 4, 50.0, public=40.0)
    latest = record("ana", "threshold", 3, 90.0, file="threshold.py")
    for item in (first, other, latest):
        store.append(item)
    assert store.load() == {latest.key: latest, other.key: other}


def test_an_empty_store_has_no_records_and_no_manifest(store: VerdictStore) -> None:
    assert store.load() == {}
    with pytest.raises(UsageError, match="run `judge round judge` first"):
        store.read_manifest()


def test_the_manifest_crosses_the_store_unchanged_and_is_replaced_whole(
    store: VerdictStore,
) -> None:
    first = Manifest("r", "/subs", ["ana", "bob"], [("bob", "threshold")], ["old"], "fake", "x")
    second = Manifest("r", "/subs", ["ana"], [("ana", "threshold")], ["a notice"], "bwrap", "y")
    store.write_manifest(first)
    store.write_manifest(second)
    assert store.read_manifest() == second


@pytest.mark.slow
def test_the_stores_keep_the_protocol_under_mypy_strict() -> None:
    root = Path(__file__).resolve().parents[2]
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--explicit-package-bases", __file__],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
