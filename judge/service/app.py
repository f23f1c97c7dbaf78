"""The FastAPI application: the REST API under /api/v1 (pages come next).

Dependencies are types (the FastAPI full-stack template's deps.py): a route takes a
`SessionDep` and a `CurrentUser` and stays a few lines. Every error is a JSON object
`{"error": "..."}` with a 4xx status; nothing a client sends becomes a 500.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from judge.bank import Bank, find_bank
from judge.errors import InvalidSource, SpecError
from judge.runner import read_source
from judge.service import queue
from judge.service.accounts import user_for_token
from judge.service.config import ServiceSettings
from judge.service.db import make_engine, session_factory
from judge.service.models import Role, Run, RunState, Submission, User

SUFFIXES = (".py", ".ipynb")


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


def create_app(settings: ServiceSettings) -> FastAPI:
    """Return the service's application for `settings` (its engine opens at startup)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.url())
        app.state.sessions = session_factory(engine)
        yield
        engine.dispose()

    app = FastAPI(title="olympiad judge", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.bank = Bank(settings.bank_dir) if settings.bank_dir else find_bank(Path.cwd())
    _errors_as_json(app)
    app.get("/healthz")(healthz)
    app.post("/api/v1/submissions", status_code=201, response_model=SubmissionOut)(submit)
    app.get("/api/v1/submissions", response_model=list[SubmissionOut])(my_submissions)
    app.get("/api/v1/submissions/{submission_id}", response_model=SubmissionOut)(submission)
    return app


# ---- dependencies ---------------------------------------------------------------


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> User:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "log in, or send an API token as 'Authorization: Bearer ...'")
    user = user_for_token(session, token.strip())
    if user is None:
        raise HTTPException(401, "unknown API token")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_bank(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


BankDep = Annotated[Bank, Depends(get_bank)]


def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


# ---- routes -----------------------------------------------------------------------


def healthz() -> dict[str, bool]:
    """Answer 200 once the service accepts submissions."""
    return {"ok": True}


def submit(
    session: SessionDep,
    user: CurrentUser,
    bank: BankDep,
    settings: SettingsDep,
    problem: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """Store a practice submission and queue its run; the same Idempotency-Key, the same one."""
    if idempotency_key:
        earlier = session.scalars(
            select(Submission).where(
                Submission.user_id == user.id, Submission.idempotency_key == idempotency_key
            )
        ).first()
        if earlier is not None:
            return JSONResponse(_out(session, earlier).model_dump(mode="json"), 200)
    if problem not in bank.slugs():
        raise HTTPException(404, f"no problem {problem!r} in the bank")
    filename = Path(file.filename or "").name
    if Path(filename).suffix not in SUFFIXES:
        raise HTTPException(
            415, f"{filename or 'the file'}: submit a .py file or a .ipynb notebook"
        )
    content = file.file.read(settings.upload_max_bytes + 1)
    if len(content) > settings.upload_max_bytes:
        raise HTTPException(413, f"{filename}: over the {settings.upload_max_bytes} byte cap")
    _check_source(filename, content)
    row = Submission(
        user_id=user.id,
        slug=problem,
        filename=filename,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        idempotency_key=idempotency_key,
    )
    try:
        session.add(row)
        session.flush()
        queue.enqueue(session, row)
        session.commit()
    except IntegrityError:  # the same key, sent twice at once: the other one won
        session.rollback()
        earlier = session.scalars(
            select(Submission).where(
                Submission.user_id == user.id, Submission.idempotency_key == idempotency_key
            )
        ).one()
        return JSONResponse(_out(session, earlier).model_dump(mode="json"), 200)
    return JSONResponse(_out(session, row).model_dump(mode="json"), 201)


def my_submissions(session: SessionDep, user: CurrentUser) -> list[SubmissionOut]:
    """List my submissions, newest first."""
    rows = session.scalars(
        select(Submission).where(Submission.user_id == user.id).order_by(Submission.id.desc())
    ).all()
    return [_out(session, row) for row in rows]


def submission(session: SessionDep, user: CurrentUser, submission_id: int) -> SubmissionOut:
    """One submission: mine, or any for an organiser (others' are 'not found')."""
    row = session.get(Submission, submission_id)
    if row is None or (row.user_id != user.id and user.role != Role.ORGANISER):
        raise HTTPException(404, f"no submission {submission_id}")
    return _out(session, row)


# ---- helpers ----------------------------------------------------------------------


def _check_source(filename: str, content: bytes) -> None:
    """Refuse a file the judge could not run (empty, binary, notebook magics): 422."""
    with tempfile.TemporaryDirectory(prefix="judge-upload-") as folder:
        path = Path(folder) / filename  # a base name: messages name the file as sent
        path.write_bytes(content)
        try:
            read_source(path)
        except InvalidSource as exc:
            raise HTTPException(422, str(exc).replace(str(path), filename)) from None


def _out(session: Session, row: Submission) -> SubmissionOut:
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
        error="judging failed; this is not your fault and is not charged"
        if run and run.state == RunState.ERROR
        else None,
    )


def _errors_as_json(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid request')}"}, 422)

    @app.exception_handler(SpecError)
    async def broken_problem(request: Request, exc: SpecError) -> JSONResponse:
        return JSONResponse({"error": f"the problem is broken: {exc}"}, 503)
