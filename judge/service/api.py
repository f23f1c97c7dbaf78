"""The REST API under /api/v1: submit, list and follow submissions (OpenAPI at /docs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, HTTPException, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import select

from judge.service.deps import ApiUser, BankDep, SessionDep, SettingsDep
from judge.service.models import Role, Submission
from judge.service.submissions import Refused, SubmissionOut, accept, view

router = APIRouter(prefix="/api/v1", tags=["submissions"])


@router.post("/submissions", status_code=201, response_model=SubmissionOut)
def submit(
    session: SessionDep,
    user: ApiUser,
    bank: BankDep,
    settings: SettingsDep,
    problem: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """Store a practice submission and queue its run; the same Idempotency-Key, the same one."""
    content = file.file.read(settings.upload_max_bytes + 1)
    try:
        row, created = accept(
            session, user, bank, settings, problem, file.filename or "", content, idempotency_key
        )
    except Refused as exc:
        raise HTTPException(exc.status, exc.message) from None
    return JSONResponse(view(session, row).model_dump(mode="json"), 201 if created else 200)


@router.get("/submissions", response_model=list[SubmissionOut])
def my_submissions(session: SessionDep, user: ApiUser) -> list[SubmissionOut]:
    """List my submissions, newest first."""
    rows = session.scalars(
        select(Submission).where(Submission.user_id == user.id).order_by(Submission.id.desc())
    ).all()
    return [view(session, row) for row in rows]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def submission(session: SessionDep, user: ApiUser, submission_id: int) -> SubmissionOut:
    """One submission: mine, or any for an organiser (others' are 'not found')."""
    row = session.get(Submission, submission_id)
    if row is None or (row.user_id != user.id and user.role != Role.ORGANISER):
        raise HTTPException(404, f"no submission {submission_id}")
    return view(session, row)


# ---- helpers ----------------------------------------------------------------------
