"""The REST API under /api/v1: submit, list and follow submissions (OpenAPI at /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from judge.service import contests, queue
from judge.service.deps import ApiUser, BankDep, Organiser, RowId, SessionDep, SettingsDep
from judge.service.models import Role, Submission, WorkerBeat
from judge.service.models import Round as RoundRow
from judge.service.models import RoundProblem as RoundProblemRow
from judge.service.submissions import SubmissionOut, accept, view, views

router = APIRouter(prefix="/api/v1", tags=["submissions"])


@router.post("/submissions", status_code=201, response_model=SubmissionOut)
def submit(
    session: SessionDep,
    user: ApiUser,
    request: Request,
    settings: SettingsDep,
    problem: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
    round: Annotated[str | None, Form(max_length=64)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """Store a practice submission and queue its run; the same Idempotency-Key, the same one."""
    content = file.file.read(settings.upload_max_bytes + 1)
    row, created = accept(
        session,
        user,
        request.app.state.rounds,
        settings,
        problem,
        file.filename or "",
        content,
        idempotency_key,
        round or None,
    )
    return JSONResponse(view(session, row, user).model_dump(mode="json"), 201 if created else 200)


@router.get("/submissions", response_model=list[SubmissionOut])
def my_submissions(session: SessionDep, user: ApiUser) -> list[SubmissionOut]:
    """List my submissions, newest first."""
    rows = session.scalars(
        select(Submission).where(Submission.user_id == user.id).order_by(Submission.id.desc())
    ).all()
    return views(session, rows, user)


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def submission(session: SessionDep, user: ApiUser, submission_id: RowId) -> SubmissionOut:
    """One submission: mine, or any for an organiser (others' are 'not found')."""
    row = session.get(Submission, submission_id)
    if row is None or (row.user_id != user.id and user.role != Role.ORGANISER):
        raise HTTPException(404, f"no submission {submission_id}")
    return view(session, row, user)


# ---- helpers ----------------------------------------------------------------------


# ---- rounds ------------------------------------------------------------------------------


class RoundIn(BaseModel):
    """A new round: a round file's text, or the name of one in the bank's rounds/."""

    source: str | None = Field(None, max_length=100_000)
    bank_round: str | None = Field(None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    freeze_minutes: int = Field(0, ge=0, le=10_080)


class RoundOut(BaseModel):
    name: str
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    frozen_since: datetime | None
    published: bool
    problems: list[dict[str, Any]]


def _round_out(session: Session, row: RoundRow) -> RoundOut:
    problems = session.scalars(
        select(RoundProblemRow)
        .where(RoundProblemRow.round_id == row.id)
        .order_by(RoundProblemRow.position)
    ).all()
    return RoundOut(
        name=row.name,
        title=row.title,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        frozen_since=contests.freeze_moment(row),
        published=row.published_at is not None,
        problems=[{"slug": p.slug, "points": p.points} for p in problems],
    )


@router.post("/rounds", status_code=201, response_model=RoundOut, tags=["rounds"])
def create_round(
    session: SessionDep, user: Organiser, bank: BankDep, request: Request, body: RoundIn
) -> RoundOut:
    """Add a round from a round file (its text, or one of the bank's rounds/ by name)."""
    if (body.source is None) == (body.bank_round is None):
        raise HTTPException(422, "give either source (a round file's text) or bank_round")
    source = body.source
    if body.bank_round is not None:
        path = bank.root / "rounds" / f"{body.bank_round}.yaml"
        if not path.is_file():
            raise HTTPException(404, f"no round file {body.bank_round!r} in the bank")
        source = path.read_text(encoding="utf-8")
    assert source is not None
    files = request.app.state.rounds
    row = contests.create_round(session, files, source, body.freeze_minutes)
    return _round_out(session, row)


@router.get("/rounds", response_model=list[RoundOut], tags=["rounds"])
def list_rounds(session: SessionDep, user: ApiUser) -> list[RoundOut]:
    """Every round, newest first."""
    rows = session.scalars(select(RoundRow).order_by(RoundRow.id.desc())).all()
    return [_round_out(session, row) for row in rows]


@router.get("/rounds/{name}", response_model=RoundOut, tags=["rounds"])
def get_round(session: SessionDep, user: ApiUser, name: str) -> RoundOut:
    return _round_out(session, contests.round_row(session, name))


class RejudgeIn(BaseModel):
    problem: str = Field(max_length=64)


# Before "/rounds/{name}/{action}", which would take "rejudge" for an action.
@router.post("/rounds/{name}/rejudge", tags=["rounds"])
def rejudge_problem(
    session: SessionDep, user: Organiser, request: Request, name: str, body: RejudgeIn
) -> dict[str, int]:
    """Judge every file of one problem of the round again (old runs superseded); the
    ranks that change show in `GET /rounds/{name}/rejudges` once they are judged."""
    row = contests.round_row(session, name)
    runs = contests.rejudge_problem(session, request.app.state.rounds, row, body.problem, user)
    return {"queued": len(runs)}


class ExtendIn(BaseModel):
    minutes: int = Field(ge=1, le=10_080)


@router.post("/rounds/{name}/{action}", response_model=RoundOut, tags=["rounds"])
def control_round(
    session: SessionDep,
    user: Organiser,
    request: Request,
    name: str,
    action: Literal["start", "end", "freeze", "thaw", "publish", "extend"],
    body: ExtendIn | None = None,
) -> RoundOut:
    """Start, end, freeze or thaw the public board, publish the final board, or extend."""
    row = contests.round_row(session, name)
    files = request.app.state.rounds
    steps: dict[str, Any] = {
        "start": lambda: contests.start(session, files, row),
        "end": lambda: contests.end(session, row),
        "freeze": lambda: contests.freeze(session, row, True),
        "thaw": lambda: contests.freeze(session, row, False),
        "publish": lambda: contests.publish_private(session, row),
        "extend": lambda: contests.extend(session, row, body.minutes if body else 0),
    }
    if action == "extend" and body is None:
        raise HTTPException(422, 'extend needs {"minutes": N}')
    steps[action]()
    return _round_out(session, row)


@router.get("/rounds/{name}/scoreboard", tags=["rounds"])
def scoreboard(session: SessionDep, user: ApiUser, request: Request, name: str) -> dict[str, Any]:
    """The boards the caller may see: public (frozen for contestants), private once published."""
    row = contests.round_row(session, name)
    shown = contests.boards(session, request.app.state.rounds, row, user)
    return {
        "round": name,
        "frozen_since": shown.frozen_at,
        "public": contests.standings_json(shown.public, "public"),
        "private": contests.standings_json(shown.private, "private") if shown.private else None,
    }


@router.get("/rounds/{name}/rejudges", tags=["rounds"])
def round_rejudges(
    session: SessionDep, user: Organiser, request: Request, name: str
) -> list[dict[str, Any]]:
    """The round's latest rejudges: runs still pending, then the ranks that moved."""
    row = contests.round_row(session, name)
    return contests.rejudges(session, request.app.state.rounds, row, user)


@router.post("/submissions/{submission_id}/rejudge", response_model=SubmissionOut)
def rejudge_submission(
    session: SessionDep, user: Organiser, request: Request, submission_id: RowId
) -> SubmissionOut:
    """Judge one submission again (its old run superseded)."""
    row = session.get(Submission, submission_id)
    if row is None:
        raise HTTPException(404, f"no submission {submission_id}")
    contests.rejudge_submission(session, request.app.state.rounds, row, user)
    return view(session, row, user)


@router.get("/queue", tags=["organiser"])
def queue_page(session: SessionDep, user: Organiser) -> dict[str, Any]:
    """How many runs wait and run, the oldest wait, and each worker's last heartbeat."""
    workers = session.scalars(select(WorkerBeat).order_by(WorkerBeat.name)).all()
    return {
        **queue.queue_stats(session),
        "workers": [
            {"name": w.name, "pid": w.pid, "state": w.state, "run": w.run_id, "beat_at": w.beat_at}
            for w in workers
        ],
    }
