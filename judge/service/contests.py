"""Rounds in the service: created from a round file, run live by an organiser (start,
extend, freeze, end, publish), with the submission window and quota enforced when a
file is submitted, and scoreboards built by the same code as `judge round report`.

Every contestant takes part in every round. The public board is what contestants see
during the round; while the round is frozen it counts only files submitted before the
freeze. The private (final) board is the organiser's until it is published.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judge.bank import Bank, problem_digest
from judge.errors import SpecError
from judge.rounds.publish import Published, publish
from judge.rounds.records import Manifest, Record
from judge.rounds.roundfile import ROUND_NAME, Round, load_round
from judge.rounds.standings import Board, Standings, compute_standings, rank_changes
from judge.service import queue
from judge.service.db import writing
from judge.service.errors import Refused
from judge.service.models import (
    Event,
    HintUse,
    Role,
    Run,
    RunState,
    Submission,
    User,
    utcnow,
)
from judge.service.models import Round as RoundRow
from judge.service.models import RoundProblem as RoundProblemRow
from judge.verdicts import Result

ROUNDS = "rounds"
T = TypeVar("T")


class RoundFiles:
    """The round files the service was given, kept in data_dir/rounds and loaded once."""

    def __init__(self, bank: Bank, data_dir: Path) -> None:
        self.bank = bank
        self.folder = data_dir / ROUNDS
        self._loaded: dict[str, Round] = {}
        self._kept: dict[Hashable, tuple[Hashable, Any]] = {}
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def digest(self, slug: str) -> str:
        """The problem's digest in this bank (judge.bank.problem_digest), which a worker's
        copy must match before it judges a run of it."""
        return problem_digest(self.bank.problem(slug), self.bank)

    def resource(self, slug: str) -> str:
        """What judging a run of the problem needs: "cpu", or "gpu" (its queue)."""
        return self.bank.problem(slug).spec.resource

    def load(self, name: str) -> Round:
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_round(self.bank, self.folder / f"{name}.yaml")
            return self._loaded[name]

    def check(self, name: str, source: str) -> Round:
        """Validate a round file's text (SpecError says what is wrong) without keeping it."""
        staging = self.folder / ".staging" / f"{name}.yaml"
        staging.parent.mkdir(parents=True, exist_ok=True)
        staging.write_text(source, encoding="utf-8")
        try:
            return load_round(self.bank, staging)
        finally:
            staging.unlink(missing_ok=True)

    def remember(self, slot: Hashable, key: Hashable, compute: Callable[[], T]) -> T:
        """The value last computed for `slot` if it was computed for `key`; else compute
        it now and keep it (one value per slot: the newest). Callers that ask for the
        same slot meanwhile wait for that one computation instead of repeating it."""
        with self._lock:
            guard = self._computing.setdefault(slot, threading.Lock())
        with guard:
            kept = self._kept.get(slot)
            if kept is not None and kept[0] == key:
                value: T = kept[1]
                return value
            value = compute()
            self._kept[slot] = (key, value)
            return value

    def keep(self, name: str, source: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{name}.yaml").write_text(source, encoding="utf-8")


def create_round(
    session: Session, files: RoundFiles, source: str, freeze_minutes: int = 0
) -> RoundRow:
    """Add a round from a round file's text; Refused if it is invalid or its name is taken."""
    try:
        name = str((yaml.safe_load(source) or {}).get("name", ""))
    except (yaml.YAMLError, AttributeError):
        raise Refused(422, "the round file is not a YAML mapping") from None
    if not re.fullmatch(ROUND_NAME, name):  # it names a file: nothing else may pass
        raise Refused(422, f"the round file: name: {name!r} must match {ROUND_NAME}")
    try:
        round_ = files.check(name, source)
    except SpecError as exc:
        message = str(exc).split(": ", 1)[-1] if ".staging" in str(exc) else str(exc)
        raise Refused(422, f"the round file: {message}") from None
    spec = round_.spec
    writing(session)
    row = RoundRow(
        name=spec.name,
        title=spec.title,
        source=source,
        starts_at=spec.start,
        ends_at=spec.end,
        freeze_minutes=freeze_minutes,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Refused(409, f"a round named {spec.name!r} exists already") from None
    for position, item in enumerate(spec.problems):
        session.add(
            RoundProblemRow(round_id=row.id, slug=item.slug, points=item.points, position=position)
        )
    files.keep(spec.name, source)
    session.commit()
    return row


def round_row(session: Session, name: str) -> RoundRow:
    row = session.scalars(select(RoundRow).where(RoundRow.name == name)).first()
    if row is None:
        raise Refused(404, f"no round {name!r}")
    return row


# ---- the organiser's controls ---------------------------------------------------------


def start(session: Session, files: RoundFiles, row: RoundRow) -> None:
    """Start the round now; it lasts the round file's duration."""
    if row.starts_at is not None and row.starts_at <= utcnow():
        raise Refused(409, f"{row.name} started at {row.starts_at:%H:%M} UTC already")
    now = utcnow()
    writing(session)
    row.starts_at = now
    row.ends_at = now + timedelta(minutes=files.load(row.name).spec.duration_minutes)
    session.commit()


def extend(session: Session, row: RoundRow, minutes: int) -> None:
    """Move the end later by `minutes` (a round that ended opens again)."""
    if row.ends_at is None:
        raise Refused(409, f"{row.name} has not started")
    writing(session)
    row.ends_at = max(row.ends_at, utcnow()) + timedelta(minutes=minutes)
    session.commit()


def end(session: Session, row: RoundRow) -> None:
    """End the round now."""
    if row.starts_at is None or row.starts_at > utcnow():
        raise Refused(409, f"{row.name} has not started")
    writing(session)
    row.ends_at = min(row.ends_at or utcnow(), utcnow())
    session.commit()


def freeze(session: Session, row: RoundRow, frozen: bool = True) -> None:
    """Freeze the public board now (files submitted after it stay off it), or thaw it."""
    writing(session)
    row.frozen_at = utcnow() if frozen else None
    row.freeze_minutes = row.freeze_minutes if frozen else 0
    session.commit()


def publish_private(session: Session, row: RoundRow) -> None:
    """Show the private (final) board to contestants; only after the round ended."""
    if row.ends_at is None or row.ends_at > utcnow():
        raise Refused(409, f"{row.name} has not ended: end it first")
    writing(session)
    row.published_at = utcnow()
    session.commit()


# ---- the window and the quota ----------------------------------------------------------


def running_round_with(session: Session, slug: str) -> RoundRow | None:
    """The round running now that has problem `slug`, if any: while it runs the problem
    is the round's only (no practice files, hints or editorial outside what it allows)."""
    now = utcnow()
    return session.scalars(
        select(RoundRow)
        .join(RoundProblemRow, RoundProblemRow.round_id == RoundRow.id)
        .where(
            RoundProblemRow.slug == slug,
            RoundRow.starts_at <= now,
            RoundRow.ends_at > now,
        )
        .order_by(RoundRow.ends_at)
    ).first()


def editorial_lock(session: Session, files: RoundFiles, slug: str) -> RoundRow | None:
    """The round that keeps `slug`'s editorial closed to contestants now, if any: one that
    runs, or one that ended but releases editorials with the final board (its
    `editorials: after_publish`) and is not published yet."""
    if running := running_round_with(session, slug):
        return running
    waiting = session.scalars(
        select(RoundRow)
        .join(RoundProblemRow, RoundProblemRow.round_id == RoundRow.id)
        .where(RoundProblemRow.slug == slug, RoundRow.published_at.is_(None))
        .where(RoundRow.ends_at <= utcnow())
    ).all()
    return next(
        (row for row in waiting if files.load(row.name).spec.editorials == "after_publish"),
        None,
    )


def check_can_submit(
    session: Session, files: RoundFiles, row: RoundRow, user: User, slug: str
) -> None:
    """Refuse (403) a file outside the round's window, for a problem not in it, or over
    the problem's submission limit; call inside the write transaction of the insert."""
    now = utcnow()
    if row.starts_at is None or now < row.starts_at:
        raise Refused(403, f"{row.name} has not started yet")
    if row.ends_at is not None and now >= row.ends_at:
        raise Refused(403, f"{row.name} ended at {row.ends_at:%Y-%m-%d %H:%M} UTC")
    round_ = files.load(row.name)
    if slug not in round_.slugs:
        raise Refused(404, f"{slug!r} is not a problem of {row.name}")
    limit = round_.spec.limit_for(slug)
    charged = charged_submissions(session, row, user, slug)
    if limit and charged >= limit:
        raise Refused(429, f"{slug}: the limit of {limit} submission(s) in {row.name} is used")


def charged_submissions(session: Session, row: RoundRow, user: User, slug: str) -> int:
    """Files of `user` for `slug` in the round that count against the limit: every one
    whose judging did not fail (a run in state ERROR is not charged)."""
    failed = select(Run.submission_id).where(Run.state == RunState.ERROR).scalar_subquery()
    return int(
        session.scalar(
            select(func.count(Submission.id)).where(
                Submission.round_id == row.id,
                Submission.user_id == user.id,
                Submission.slug == slug,
                Submission.id.not_in(failed),
            )
        )
        or 0
    )


# ---- boards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Boards:
    """What one viewer may see of a round's boards."""

    public: Standings
    private: Standings | None  # None: not published and not an organiser
    frozen_at: datetime | None


def freeze_moment(row: RoundRow) -> datetime | None:
    """When the public board stopped counting new files (a manual freeze, or the last
    freeze_minutes of the round), if it has."""
    moments = [row.frozen_at] if row.frozen_at else []
    if row.freeze_minutes and row.ends_at is not None:
        moments.append(row.ends_at - timedelta(minutes=row.freeze_minutes))
    moment = min(moments, default=None)
    return moment if moment is not None and moment <= utcnow() else None


def records(session: Session, row: RoundRow, before: datetime | None = None) -> list[Record]:
    """The round's judged files as the rounds module's Records (the current run of each)."""
    query = (
        select(Submission, Run, User.name)
        .join(Run, Run.submission_id == Submission.id)
        .join(User, User.id == Submission.user_id)
        .where(Submission.round_id == row.id, Run.state == RunState.DONE)
    )
    if before is not None:
        query = query.where(Submission.created_at < before)
    found = []
    for submission, run, name in session.execute(query).all():
        assert run.result is not None and run.finished_at is not None
        found.append(
            Record(
                key=f"{name}/{submission.slug}/{submission.id}",
                contestant=name,
                problem=submission.slug,
                file=submission.filename,
                sha256=submission.sha256,
                submitted_at=submission.created_at,
                judged_at=run.finished_at,
                result=Result.from_dict(run.result),
            )
        )
    return found


def hints_used(session: Session, row: RoundRow) -> dict[tuple[str, str], int]:
    """How many hints each contestant revealed on each problem during the round."""
    found = session.execute(
        select(User.name, HintUse.slug, func.count(HintUse.id))
        .join(User, User.id == HintUse.user_id)
        .where(HintUse.round_id == row.id)
        .group_by(User.name, HintUse.slug)
    ).all()
    return {(name, slug): int(count) for name, slug, count in found}


def contestants(session: Session) -> list[str]:
    return list(session.scalars(select(User.name).where(User.role == Role.CONTESTANT)))


def boards(session: Session, files: RoundFiles, row: RoundRow, viewer: User) -> Boards:
    """The boards `viewer` may see now: the public one (frozen for contestants), and the
    private one for an organiser or once published.

    Computed once per change: every change of a run or a submission writes an event, so
    the newest event id (with the newest user and hint, the freeze and the publication)
    says whether the boards kept from the last call still hold. Contestants share theirs.
    """
    organiser = viewer.role == Role.ORGANISER
    frozen = freeze_moment(row)
    key = (
        session.scalar(select(func.max(Event.id))),
        session.scalar(select(func.max(User.id))),
        session.scalar(select(func.max(HintUse.id))),
        frozen,
        row.published_at,
    )

    def compute() -> Boards:
        spec = files.load(row.name).spec
        names = contestants(session)
        hints = hints_used(session, row)
        shown_public = records(session, row, None if organiser else frozen)
        public = compute_standings(spec, names, shown_public, "public", hints)
        private = None
        if organiser or row.published_at is not None:
            private = compute_standings(spec, names, records(session, row), "private", hints)
        return Boards(public, private, frozen)

    return files.remember(("boards", row.id, organiser), key, compute)


def published(session: Session, files: RoundFiles, row: RoundRow) -> Published:
    """The standalone scoreboard (CSV and HTML) of the round, as `judge round report`."""
    round_ = files.load(row.name)
    found = records(session, row)
    names = contestants(session)
    manifest = Manifest(
        round=row.name, submissions_dir="(the live service)", contestants=names, missing=[]
    )
    hints = hints_used(session, row)
    private = compute_standings(round_.spec, names, found, "private", hints)
    public = compute_standings(round_.spec, names, found, "public", hints)
    return publish(round_, private, public, found, manifest)


def standings_json(standings: Standings, board: Board) -> dict[str, Any]:
    return {
        "board": board,
        "rows": [
            {
                "rank": row.rank,
                "contestant": row.contestant,
                "total": row.total,
                "cells": {
                    slug: {
                        "points": cell.points,
                        "verdict": str(cell.verdict),
                        "submissions": cell.submissions,
                        "hints": cell.hints,
                        "parts": cell.parts,
                    }
                    for slug, cell in row.cells.items()
                },
            }
            for row in standings.rows
        ],
    }


REJUDGE_EVENT = "rejudge"


def rejudge(
    session: Session,
    files: RoundFiles,
    row: RoundRow | None,
    found: list[Submission],
    by: User,
    what: str,
) -> list[int]:
    """Queue `found` again (old runs superseded) and commit; return the new run ids.

    In a round, the ranks of both boards as they stand now are kept with the rejudge (an
    event of its own, sent to no one's stream), so that `rejudges` can show the ranks
    that changed once the new runs are judged.
    """
    slugs = {item.slug for item in found}  # hashed before the write lock is taken
    digests = {slug: files.digest(slug) for slug in slugs}
    resources = {slug: files.resource(slug) for slug in slugs}
    writing(session)
    before: dict[str, dict[str, int]] = {}
    if row is not None:  # the ranks before the old runs are superseded
        shown = boards(session, files, row, by)
        before["public"] = shown.public.ranks()
        if shown.private is not None:
            before["private"] = shown.private.ranks()
    runs = [
        queue.rejudge(session, item, digests[item.slug], resources[item.slug]).id for item in found
    ]
    if row is not None:
        session.add(
            Event(
                kind=REJUDGE_EVENT,
                round_id=row.id,
                payload={"what": what, "by": by.name, "runs": runs, "before": before},
            )
        )
    session.commit()
    return runs


def rejudge_problem(
    session: Session, files: RoundFiles, row: RoundRow, slug: str, by: User
) -> list[int]:
    """Judge every file of one problem of the round again; see `rejudge`."""
    if slug not in files.load(row.name).slugs:
        raise Refused(404, f"{slug!r} is not a problem of {row.name}")
    found = session.scalars(
        select(Submission).where(Submission.round_id == row.id, Submission.slug == slug)
    ).all()
    return rejudge(session, files, row, list(found), by, slug)


def rejudge_submission(
    session: Session, files: RoundFiles, submission: Submission, by: User
) -> list[int]:
    """Judge one file again; see `rejudge`."""
    row = session.get(RoundRow, submission.round_id) if submission.round_id else None
    return rejudge(session, files, row, [submission], by, f"submission {submission.id}")


def rejudges(
    session: Session, files: RoundFiles, row: RoundRow, viewer: User, last: int = 5
) -> list[dict[str, Any]]:
    """The round's latest rejudges: how many runs still wait and, once none does, the
    contestants whose rank moved on each board (before -> after)."""
    events = session.scalars(
        select(Event)
        .where(Event.round_id == row.id, Event.kind == REJUDGE_EVENT)
        .order_by(Event.id.desc())
        .limit(last)
    ).all()
    if not events:
        return []
    shown = boards(session, files, row, viewer)
    found = []
    for event in events:
        runs = event.payload["runs"]
        pending = session.scalar(
            select(func.count())
            .select_from(Run)
            .where(Run.id.in_(runs), Run.state.in_((RunState.QUEUED, RunState.RUNNING)))
        )
        moved: dict[str, list[dict[str, Any]]] = {}
        if not pending:
            for board, now in (("public", shown.public), ("private", shown.private)):
                if now is None or board not in event.payload["before"]:
                    continue
                moved[board] = [
                    {"contestant": c.contestant, "before": c.before, "after": c.after}
                    for c in rank_changes(event.payload["before"][board], now)
                ]
        found.append(
            {
                "id": event.id,
                "at": event.created_at,
                "what": event.payload["what"],
                "by": event.payload["by"],
                "runs": len(runs),
                "pending": pending,
                "moved": moved,
            }
        )
    return found
