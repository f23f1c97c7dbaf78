"""Accepting a submission (shared by the API and the pages) and how one is shown."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judge.bank import Bank
from judge.errors import InvalidSource
from judge.runner import read_source
from judge.service import queue
from judge.service.config import ServiceSettings
from judge.service.db import writing
from judge.service.models import Run, RunState, Submission, User

SUFFIXES = (".py", ".ipynb")
JUDGING_FAILED = "judging failed; this is not your fault and is not charged"


class Refused(Exception):
    """A submission the service will not take: the HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SubmissionOut(BaseModel):
    """A submission and the state of its current run (the Result once judged)."""

    id: int
    problem: str
    filename: str
    sha256: str
    submitted_at: datetime
    state: str
    tries: int
    result: dict[str, Any] | None = None
    error: str | None = None


def accept(
    session: Session,
    user: User,
    bank: Bank,
    settings: ServiceSettings,
    problem: str,
    filename: str,
    content: bytes,
    key: str | None = None,
) -> tuple[Submission, bool]:
    """Store a practice submission and queue its run, in one transaction.

    Returns the submission and whether it is new: an Idempotency-Key seen before gives
    the earlier one. Raises Refused (nothing stored) for a file the judge cannot take.
    """
    if problem not in bank.slugs():
        raise Refused(404, f"no problem {problem!r} in the bank")
    name = Path(filename).name
    if Path(name).suffix not in SUFFIXES:
        raise Refused(415, f"{name or 'the file'}: submit a .py file or a .ipynb notebook")
    if len(content) > settings.upload_max_bytes:
        raise Refused(413, f"{name}: over the {settings.upload_max_bytes} byte cap")
    _check_source(name, content)
    writing(session)  # the key check, the quota and the insert see one state
    if key and (earlier := _by_key(session, user, key)) is not None:
        session.commit()
        return earlier, False
    row = Submission(
        user_id=user.id,
        slug=problem,
        filename=name,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        idempotency_key=key,
    )
    try:
        session.add(row)
        session.flush()
        queue.enqueue(session, row)
        session.commit()
    except IntegrityError:  # the same key, sent twice at once: the other one won
        session.rollback()
        earlier = _by_key(session, user, key) if key else None
        if earlier is None:
            raise
        return earlier, False
    return row, True


def view(session: Session, row: Submission) -> SubmissionOut:
    """Return a submission with its current run's state and, once judged, its Result."""
    run = session.scalars(
        select(Run)
        .where(Run.submission_id == row.id, Run.state != RunState.SUPERSEDED)
        .order_by(Run.id.desc())
    ).first()
    return SubmissionOut(
        id=row.id,
        problem=row.slug,
        filename=row.filename,
        sha256=row.sha256,
        submitted_at=row.created_at,
        state=run.state if run else RunState.QUEUED,
        tries=run.tries if run else 0,
        result=run.result if run and run.state == RunState.DONE else None,
        error=JUDGING_FAILED if run and run.state == RunState.ERROR else None,
    )


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
