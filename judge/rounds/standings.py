"""From verdict records to rankings: pure, no I/O.

Each problem is worth its round points; a submission earns
`points * score / max_score` of them, on the private part of the hidden split (the
final board) or on the public part (the board shown during the round). Which
submission counts is the round's `counts`: `best` takes, per board, the highest
points a contestant reached (the earliest such file), `last` the last file handed
in. Ties on the total go to the earlier last improvement: the moment after which
the contestant's total no longer changed. Equal totals at equal moments share a rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from judge.rounds.records import Record
from judge.rounds.roundfile import RoundSpec
from judge.verdicts import Verdict

Board = Literal["private", "public"]
DIGITS = 6


@dataclass(frozen=True)
class Cell:
    """One contestant's standing on one problem."""

    problem: str
    points: float
    verdict: Verdict
    submissions: int
    counted_file: str | None = None
    at: datetime | None = None
    hints: int = 0  # hints revealed on the problem during the round (each may cost points)
    # Round points per part of the counted file (problems in parts), before any hint cost.
    parts: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One contestant's line of a board."""

    rank: int
    contestant: str
    total: float
    cells: dict[str, Cell]
    last_improvement: datetime | None


@dataclass(frozen=True)
class Standings:
    """A ranked board."""

    board: Board
    rows: list[Row]

    def ranks(self) -> dict[str, int]:
        return {row.contestant: row.rank for row in self.rows}


def record_points(spec: RoundSpec, record: Record, board: Board) -> float:
    """The round points a record earns on a board."""
    result = record.result
    score = result.score if board == "private" else (result.public_score or 0.0)
    if result.max_score <= 0:
        return 0.0
    worth = spec.problem(record.problem).points
    return round(worth * max(0.0, min(score, result.max_score)) / result.max_score, DIGITS)


def part_points(spec: RoundSpec, record: Record, board: Board) -> dict[str, float]:
    """The round points each part of a record earns on a board (scaled like the record's)."""
    result = record.result
    if result.max_score <= 0:
        return {}
    worth = spec.problem(record.problem).points
    return {
        part.id: round(
            worth * (part.points if board == "private" else part.public_points) / result.max_score,
            DIGITS,
        )
        for part in result.parts
    }


def _in_order(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (r.submitted_at, r.file))


def _counted(spec: RoundSpec, records: list[Record], board: Board) -> Record | None:
    if not records:
        return None
    if spec.counts == "last":
        return records[-1]
    best = records[0]
    for record in records[1:]:
        if record_points(spec, record, board) > record_points(spec, best, board):
            best = record
    return best


def _last_improvement(spec: RoundSpec, records: list[Record], board: Board) -> datetime | None:
    """When the contestant's total last changed, replaying their files in time order."""
    so_far: dict[str, list[Record]] = {}
    total, changed_at = 0.0, None
    for record in _in_order(records):
        so_far.setdefault(record.problem, []).append(record)
        new_total = 0.0
        for items in so_far.values():
            counted = _counted(spec, items, board)
            new_total += record_points(spec, counted, board) if counted else 0.0
        if round(new_total, DIGITS) != round(total, DIGITS):
            total, changed_at = new_total, record.submitted_at
    return changed_at


def compute_standings(
    spec: RoundSpec,
    contestants: Iterable[str],
    records: Iterable[Record],
    board: Board,
    hints: Mapping[tuple[str, str], int] | None = None,
) -> Standings:
    """Rank every contestant on one board (contestants without any record score 0).

    hints: how many hints each (contestant, problem) revealed during the round; each
    takes the round's `hints.cost` off that problem's points, never below 0. (The
    tie-break still replays the files alone.)
    """
    used = hints or {}
    by_contestant: dict[str, list[Record]] = {name: [] for name in contestants}
    for record in records:
        if record.problem in {p.slug for p in spec.problems}:
            by_contestant.setdefault(record.contestant, []).append(record)
    unranked = []
    for contestant, own in by_contestant.items():
        cells = {}
        for item in spec.problems:
            files = _in_order(r for r in own if r.problem == item.slug)
            counted = _counted(spec, files, board)
            revealed = used.get((contestant, item.slug), 0)
            if counted is None:
                cells[item.slug] = Cell(item.slug, 0.0, Verdict.NS, 0, hints=revealed)
            else:
                earned = record_points(spec, counted, board) - spec.hints.cost * revealed
                cells[item.slug] = Cell(
                    item.slug,
                    round(max(0.0, earned), DIGITS),
                    counted.result.verdict,
                    len(files),
                    counted.file,
                    counted.submitted_at,
                    revealed,
                    part_points(spec, counted, board),
                )
        total = round(sum(cell.points for cell in cells.values()), DIGITS)
        unranked.append((contestant, total, cells, _last_improvement(spec, own, board)))
    never = datetime.max.replace(tzinfo=UTC)
    unranked.sort(key=lambda u: (-u[1], u[3] or never, u[0]))
    rows: list[Row] = []
    for position, (contestant, total, cells, improved) in enumerate(unranked, start=1):
        tied = rows and rows[-1].total == total and rows[-1].last_improvement == improved
        rank = rows[-1].rank if tied else position
        rows.append(Row(rank, contestant, total, cells, improved))
    return Standings(board, rows)


@dataclass(frozen=True)
class RankChange:
    """A contestant whose rank on a board moved."""

    contestant: str
    before: int | None
    after: int


def rank_changes(before: Standings | Mapping[str, int], after: Standings) -> list[RankChange]:
    """The contestants whose rank differs between two boards, best new rank first.

    before: the earlier board, or only its ranks (contestant -> rank).
    """
    old = before.ranks() if isinstance(before, Standings) else before
    return [
        RankChange(row.contestant, old.get(row.contestant), row.rank)
        for row in after.rows
        if old.get(row.contestant) != row.rank
    ]
