"""Accepting a submission (shared by the API and the pages) and how one is shown."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judge.errors import InvalidSource
from judge.runner import read_source
from judge.service import queue
from judge.service.config import ServiceSettings
from judge.service.contests import RoundFiles, check_can_submit, round_row, running_round_with
from judge.service.db import writing
from judge.service.errors import Refused
from judge.service.models import Role, Run, RunState, Submission, User
from judge.service.models import Round as RoundRow

JUDGING_FAILED = "judging failed; this is not your fault and is not charged"


class SubmissionOut(BaseModel):
    """A submission and the state of its current run (the Result once judged)."""

    id: int
    problem: str
    round: str | None = None
    filename: str
    sha256: str
    submitted_at: datetime
    state: str
    tries: int
    queue_place: int | None = None  # 1: judged next; set while queued
    result: dict[str, Any] | None = None
    error: str | None = None


def accept(
    session: Session,
    user: User,
    files: RoundFiles,
    settings: ServiceSettings,
    problem: str,
    filename: str,
    content: bytes,
    key: str | None = None,
    round_name: str | None = None,
) -> tuple[Submission, bool]:
    """Store a submission (practice, or in the round named) and queue its run, in one
    transaction.

    Returns the submission and whether it is new: an Idempotency-Key seen before gives
    the earlier one. Raises Refused (nothing stored) for a file the judge cannot take,
    or one outside the round's window or over its limit (checked in the transaction of
    the insert, so N+1 files sent at once against a limit of N store exactly N).
    """
    if problem not in files.bank.slugs():
        raise Refused(404, f"no problem {problem!r} in the bank")
    name = Path(filename).name
    suffixes = files.bank.problem(problem).spec.suffixes
    if Path(name).suffix not in suffixes:
        what = " or ".join(suffixes)
        raise Refused(415, f"{name or 'the file'}: submit a {what} file for {problem}")
    if len(content) > settings.upload_max_bytes:
        raise Refused(413, f"{name}: over the {settings.upload_max_bytes} byte cap")
    _check_source(name, content)
    digest, resource = files.digest(problem), files.resource(problem)  # before the lock
    writing(session)  # the key check, the quota and the insert see one state
    if key and (earlier := _by_key(session, user, key)) is not None:
        session.commit()
        return earlier, False
    round_id = None
    if round_name:
        contest = round_row(session, round_name)
        check_can_submit(session, files, contest, user, problem)
        round_id = contest.id
    elif user.role != Role.ORGANISER and (running := running_round_with(session, problem)):
        # A practice verdict is the full verdict on the same hidden data: during the
        # round it would let anyone probe the private part past the round's limit.
        raise Refused(
            403,
            f"{problem} is a problem of {running.name}, running until "
            f"{running.ends_at:%H:%M} UTC: submit it there; practice reopens after",
        )
    row = Submission(
        user_id=user.id,
        round_id=round_id,
        slug=problem,
        filename=name,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        idempotency_key=key,
    )
    try:
        session.add(row)
        session.flush()
        queue.enqueue(session, row, digest, resource)
        session.commit()
    except IntegrityError:  # the same key, sent twice at once: the other one won
        session.rollback()
        earlier = _by_key(session, user, key) if key else None
        if earlier is None:
            raise
        return earlier, False
    return row, True


def view(session: Session, row: Submission, viewer: User) -> SubmissionOut:
    """Return a submission with its current run's state and, once judged, its Result as
    `viewer` may see it: in a round whose final board is not published, a contestant
    sees the public part only (redacted). While it waits, its place in the queue."""
    return views(session, [row], viewer)[0]


def views(session: Session, rows: Sequence[Submission], viewer: User) -> list[SubmissionOut]:
    """`view` for many submissions, in a fixed number of queries."""
    current: dict[int, Run] = {}
    for run in session.scalars(
        select(Run)
        .where(Run.submission_id.in_([row.id for row in rows]), Run.state != RunState.SUPERSEDED)
        .order_by(Run.id)
    ):
        current[run.submission_id] = run  # the latest run wins
    rounds = {
        contest.id: contest
        for contest in session.scalars(
            select(RoundRow).where(RoundRow.id.in_({row.round_id for row in rows}))
        )
    }
    waiting = any(run.state == RunState.QUEUED for run in current.values())
    places = queue.queue_places(session) if waiting else {}
    return [_view(row, current.get(row.id), rounds, places, viewer) for row in rows]


def _view(
    row: Submission,
    run: Run | None,
    rounds: dict[int, RoundRow],
    places: dict[int, int],
    viewer: User,
) -> SubmissionOut:
    contest = rounds.get(row.round_id) if row.round_id is not None else None
    result = run.result if run and run.state == RunState.DONE else None
    hidden = contest is not None and contest.published_at is None
    if result is not None and hidden and viewer.role != Role.ORGANISER:
        result = public_part(result)
    return SubmissionOut(
        id=row.id,
        problem=row.slug,
        round=contest.name if contest else None,
        filename=row.filename,
        sha256=row.sha256,
        submitted_at=row.created_at,
        state=run.state if run else RunState.QUEUED,
        tries=run.tries if run else 0,
        queue_place=places.get(run.id) if run else None,
        result=result,
        error=JUDGING_FAILED if run and run.state == RunState.ERROR else None,
    )


# Verdicts that say nothing about the hidden private part: shown during a round.
RUN_VERDICTS = {"RE", "TLE", "MLE", "OLE", "IO", "CE", "IE"}


def public_part(result: dict[str, Any]) -> dict[str, Any]:
    """Return what a contestant sees of a Result during a round: the public part only.

    AC and WA are decided on the private part, so they become "scored"; the private
    score and metric are left out; the message says the public metric.
    """
    verdict = result.get("verdict")
    metric = dict(result.get("metric") or {})
    shown = {
        key: result.get(key)
        for key in (
            "problem",
            "max_score",
            "public_score",
            "public_metric",
            "sandbox",
            "wall_s",
            "cpu_s",
            "peak_mb",
        )
    }
    if verdict in RUN_VERDICTS:
        return {
            **shown,
            "verdict": verdict,
            "message": result.get("message", ""),
            "score": 0.0,
            "metric": {"name": metric.get("name"), "value": None},
        }
    public = result.get("public_metric")
    text = f"{metric.get('name')} = {public:.4f} on the public part" if public is not None else ""
    parts = [
        {
            "id": part.get("id"),
            "title": part.get("title"),
            "points": part.get("public_points", 0.0),
            "max_points": part.get("max_points"),
            "message": part.get("public_message", ""),
        }
        for part in result.get("parts") or []
    ]
    return {
        **shown,
        "parts": parts,
        "notes": list((result.get("details") or {}).get("notes", [])),  # public: samples
        "verdict": "scored",
        "score": result.get("public_score", 0.0),
        "metric": {"name": metric.get("name"), "value": public},
        "message": f"Scored on the public part: {text}. The final (private) score is shown "
        "when the organiser publishes the final board.",
    }


def _by_key(session: Session, user: User, key: str) -> Submission | None:
    return session.scalars(
        select(Submission).where(Submission.user_id == user.id, Submission.idempotency_key == key)
    ).first()


def _check_source(name: str, content: bytes) -> None:
    """Refuse a file the judge could not run (empty, binary, notebook magics): 422."""
    with tempfile.TemporaryDirectory(prefix="judge-upload-") as folder:
        path = Path(folder) / name  # a base name: messages name the file as sent
        path.write_bytes(content)
        try:
            read_source(path)
        except InvalidSource as exc:
            raise Refused(422, str(exc).replace(str(path), name)) from None
