"""Standings are pure: which file counts, the public and private boards, ties and ranks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from judge.rounds.roundfile import load_round
from judge.rounds.standings import compute_standings, rank_changes
from judge.verdicts import Verdict
from tests.rounds.helpers import BANK, START, fixture_round, record, write_round


def test_best_takes_the_highest_points_and_last_the_last_file() -> None:
    records = [
        record("ana", "threshold", 1, 80.0),
        record("ana", "threshold", 2, 40.0, verdict=Verdict.WA),
    ]
    best = compute_standings(fixture_round().spec, ["ana"], records, "private")
    assert best.rows[0].cells["threshold"].points == 80.0
    assert best.rows[0].cells["threshold"].submissions == 2
    spec = fixture_round().spec.model_copy(update={"counts": "last"})
    last = compute_standings(spec, ["ana"], records, "private")
    cell = last.rows[0].cells["threshold"]
    assert (cell.points, cell.verdict) == (40.0, Verdict.WA)


def test_points_are_scaled_to_the_round_points_of_each_problem() -> None:
    records = [record("ana", "add-arrays", 1, 100.0), record("ana", "threshold", 2, 50.0)]
    row = compute_standings(fixture_round().spec, ["ana"], records, "private").rows[0]
    assert row.cells["add-arrays"].points == 50.0  # worth 50 in the round
    assert row.total == 100.0


def test_public_and_private_boards_rank_on_their_own_part() -> None:
    records = [
        record("ana", "threshold", 1, 90.0, public=60.0),
        record("bob", "threshold", 1, 70.0, public=80.0),
    ]
    spec = fixture_round().spec
    private = compute_standings(spec, ["ana", "bob"], records, "private")
    public = compute_standings(spec, ["ana", "bob"], records, "public")
    assert [r.contestant for r in private.rows] == ["ana", "bob"]
    assert [r.contestant for r in public.rows] == ["bob", "ana"]


def test_equal_totals_go_to_the_earlier_last_improvement() -> None:
    records = [
        record("late", "threshold", 5, 50.0),
        record("late", "threshold", 50, 100.0),
        record("early", "threshold", 30, 100.0),
        record("early", "threshold", 40, 20.0),  # a worse file later is no improvement
    ]
    board = compute_standings(fixture_round().spec, ["late", "early"], records, "private")
    assert [r.contestant for r in board.rows] == ["early", "late"]
    assert [r.rank for r in board.rows] == [1, 2]
    assert board.rows[0].last_improvement == START + timedelta(minutes=30)


def test_equal_totals_at_the_same_moment_share_a_rank_and_the_next_rank_skips() -> None:
    records = [
        record("ana", "threshold", 10, 100.0),
        record("bob", "threshold", 10, 100.0),
        record("cyd", "threshold", 5, 10.0),
    ]
    board = compute_standings(
        fixture_round().spec, ["ana", "bob", "cyd", "dan"], records, "private"
    )
    assert [(r.contestant, r.rank) for r in board.rows] == [
        ("ana", 1),
        ("bob", 1),
        ("cyd", 3),
        ("dan", 4),
    ]


def test_a_contestant_without_files_has_no_submission_cells_and_no_points() -> None:
    board = compute_standings(fixture_round().spec, ["dan"], [], "private")
    row = board.rows[0]
    assert row.total == 0 and row.last_improvement is None
    assert {c.verdict for c in row.cells.values()} == {Verdict.NS}


def test_records_of_problems_outside_the_round_are_ignored(tmp_path: Path) -> None:
    text = (BANK.root / "rounds" / "fixture-round.yaml").read_text()
    text = text.replace("name: fixture-round", "name: one").replace(
        "  - {slug: add-arrays, points: 50}\n", ""
    )
    spec = load_round(BANK, write_round(tmp_path, text, "one")).spec
    records = [record("ana", "add-arrays", 1, 100.0)]
    assert compute_standings(spec, ["ana"], records, "private").rows[0].total == 0


def test_rank_changes_list_only_those_who_moved() -> None:
    spec = fixture_round().spec
    before = compute_standings(
        spec,
        ["ana", "bob", "cyd"],
        [record("ana", "threshold", 1, 90.0), record("bob", "threshold", 2, 80.0)],
        "private",
    )
    after = compute_standings(
        spec,
        ["ana", "bob", "cyd"],
        [record("ana", "threshold", 1, 70.0), record("bob", "threshold", 2, 80.0)],
        "private",
    )
    moved = {(c.contestant, c.before, c.after) for c in rank_changes(before, after)}
    assert moved == {("ana", 1, 2), ("bob", 2, 1)}


def test_each_hint_revealed_in_the_round_costs_its_problem_points_never_below_zero() -> None:
    spec = fixture_round().spec.model_copy(
        update={"hints": fixture_round().spec.hints.model_copy(update={"cost": 30.0})}
    )
    records = [
        record("ana", "threshold", 1, 100.0),  # worth 100
        record("ana", "add-arrays", 2, 100.0),  # worth 50
        record("bob", "threshold", 1, 100.0),
    ]
    hints = {("ana", "threshold"): 1, ("ana", "add-arrays"): 2, ("bob", "add-arrays"): 1}
    board = compute_standings(spec, ["ana", "bob"], records, "private", hints)
    ana, bob = (next(r for r in board.rows if r.contestant == n) for n in ("ana", "bob"))
    assert (ana.cells["threshold"].points, ana.cells["threshold"].hints) == (70.0, 1)
    assert ana.cells["add-arrays"].points == 0.0  # 50 - 2 x 30: not below zero
    assert ana.total == 70.0
    assert (bob.cells["add-arrays"].points, bob.cells["add-arrays"].hints) == (0.0, 1)
    assert bob.total == 100.0 and [r.contestant for r in board.rows] == ["bob", "ana"]
    free = compute_standings(fixture_round().spec, ["ana", "bob"], records, "private", hints)
    assert next(r for r in free.rows if r.contestant == "ana").total == 150.0  # cost 0
