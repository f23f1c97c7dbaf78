"""Publishing returns the scoreboards as text and writes nothing; the CLI writes them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from judge.rounds.judging import boards
from judge.rounds.publish import Published, publish
from judge.rounds.records import Manifest
from judge.rounds.roundfile import Round, load_round
from judge.verdicts import PartResult, Verdict
from tests.rounds.helpers import BANK, fixture_round, record, write_round

CONTESTANTS = ["ana", "bob", "cyd"]
RECORDS = [
    record("ana", "threshold", 10, 90.0, public=60.0),
    record("ana", "add-arrays", 12, 100.0),
    record("bob", "threshold", 5, 100.0, public=100.0),
]
MANIFEST = Manifest("fixture-round", "/subs", CONTESTANTS, [("bob", "add-arrays")])


def published(round_: Round) -> Published:
    private, public = boards(round_, MANIFEST, {r.key: r for r in RECORDS})
    return publish(round_, private, public, RECORDS, MANIFEST)


def test_publishing_returns_the_csv_and_the_page_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scoreboards = published(fixture_round())
    assert scoreboards.csv.splitlines() == [
        "rank,contestant,threshold,add-arrays,total,last_improvement,public_rank,public_total",
        "1,ana,90,50,140,2026-12-05T09:12:00+00:00,1,110",
        "2,bob,100,0,100,2026-12-05T09:05:00+00:00,2,100",
        "3,cyd,0,0,0,,3,0",
    ]
    assert scoreboards.html.startswith("<!DOCTYPE html>")
    assert all(name in scoreboards.html for name in CONTESTANTS)
    assert not list(tmp_path.iterdir())


def test_a_hidden_private_board_is_left_out_of_the_csv(tmp_path: Path) -> None:
    text = (BANK.root / "rounds" / "fixture-round.yaml").read_text()
    text += "leaderboard: {publish_private: false}\n"
    round_ = load_round(BANK, write_round(tmp_path, text, "fixture-round"))
    assert published(round_).csv.splitlines() == [
        "rank,contestant,threshold,add-arrays,total,last_improvement",
        "1,ana,60,50,110,2026-12-05T09:12:00+00:00",
        "2,bob,100,0,100,2026-12-05T09:05:00+00:00",
        "3,cyd,0,0,0,",
    ]


def test_parts_get_columns_of_round_points_on_demand(tmp_path: Path) -> None:
    text = (BANK.root / "rounds" / "fixture-round.yaml").read_text()
    text += "leaderboard: {parts: true}\n"
    round_ = load_round(BANK, write_round(tmp_path, text, "fixture-round"))
    in_parts = replace(
        record("bob", "add-arrays", 7, 15.0, max_score=20.0, verdict=Verdict.WA),
        result=replace(
            record("bob", "add-arrays", 7, 15.0, max_score=20.0).result,
            parts=(
                PartResult("add", "Add", 5.0, 5.0, "all right", 5.0),
                PartResult("scale", "Scale", 10.0, 10.0, "all right", 0.0),
                PartResult("solve", "Solve", 0.0, 5.0, "banned", 0.0),
            ),
        ),
    )
    records = [*RECORDS, in_parts]
    private, public = boards(round_, MANIFEST, {r.key: r for r in records})
    scoreboards = publish(round_, private, public, records, MANIFEST)
    header, *rows = scoreboards.csv.splitlines()
    assert header == (
        "rank,contestant,threshold,add-arrays,add-arrays/add,add-arrays/scale,"
        "add-arrays/solve,total,last_improvement,public_rank,public_total"
    )
    bob = next(row for row in rows if ",bob," in row)
    # the round gives add-arrays 50 points: each part's share of the file's 20
    assert bob.split(",")[2:7] == ["100", "37.5", "12.5", "25", "0"]
    assert '<span class="part" title="scale">25</span>' in scoreboards.html
