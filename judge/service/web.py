"""The pages: log in, practise on every bank problem, submit, watch verdicts arrive live.

Server-rendered Jinja2 with a little plain JavaScript (static/live.js) that follows
`/events` (server-sent events) and updates the submissions table without a reload.

Sessions are server-side: the cookie holds a random token, the database its SHA-256;
the cookie is HttpOnly and SameSite=Lax, and a login always makes a new one. Every
form carries the session's CSRF token (synchronizer pattern), and every POST must come
from this site (Origin, else Referer). Failed logins are throttled per name and per
client address.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import markdown
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from judge.bank import Bank
from judge.service.accounts import check_password, token_hash
from judge.service.db import writing
from judge.service.deps import (
    SESSION_COOKIE,
    LoginDep,
    PageUser,
    SessionDep,
    check_csrf,
    get_login,
    get_page_user,
    same_site,
)
from judge.service.models import Event, LoginSession, Run, RunState, Submission, User, utcnow
from judge.service.submissions import Refused, accept, view
from judge.spec import SECTIONS

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC = Path(__file__).parent / "static"
LOGIN_CSRF_COOKIE = "judge_login_csrf"
SESSION_DAYS = 7
# Failed logins allowed per name, and per client address (a club shares one), within
# THROTTLE_WINDOW_S before a 429.
THROTTLE_PER_NAME = 5
THROTTLE_PER_ADDRESS = 30
THROTTLE_WINDOW_S = 300.0
EVENT_POLL_S = 0.3
EVENT_STREAM_S = 300.0  # a stream ends after this; the browser reconnects by itself


class Throttle:
    """Failed logins per name and per address in a sliding window (in the one web process)."""

    def __init__(self, window_s: float = THROTTLE_WINDOW_S) -> None:
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _limit(self, key: tuple[str, str]) -> int:
        return THROTTLE_PER_NAME if key[0] == "name" else THROTTLE_PER_ADDRESS

    def blocked(self, *keys: tuple[str, str]) -> bool:
        now = time.monotonic()
        for key in keys:
            times = self._failures[key]
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self._limit(key):
                return True
        return False

    def failed(self, *keys: tuple[str, str]) -> None:
        for key in keys:
            self._failures[key].append(time.monotonic())


router = APIRouter()


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


# ---- logging in and out --------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str = "") -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = render(request, "login.html", error=error, csrf=csrf, user=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="lax", max_age=3600)
    return response


@router.post("/login", dependencies=[Depends(same_site)])
def login(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        raise HTTPException(403, "the login form is stale: reload the page and try again")
    throttle: Throttle = request.app.state.throttle
    address = request.client.host if request.client else "?"
    keys = (("name", name), ("address", address))
    if throttle.blocked(*keys):
        raise HTTPException(429, "too many failed logins: wait a few minutes and try again")
    user = check_password(session, name, password)
    if user is None:
        throttle.failed(*keys)
        return RedirectResponse("/login?error=wrong+name+or+password", 303)
    token = secrets.token_urlsafe(32)
    old = request.cookies.get(SESSION_COOKIE)
    writing(session)
    if old:  # rotated at login: the old token (if any) stops working
        session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(old)))
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=token_hash(token),
            csrf_token=secrets.token_urlsafe(32),
            expires_at=utcnow() + timedelta(days=SESSION_DAYS),
        )
    )
    session.commit()
    response = RedirectResponse("/", 303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", max_age=SESSION_DAYS * 86400
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", dependencies=[Depends(same_site)])
def logout(
    session: SessionDep, login: LoginDep, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    check_csrf(login, csrf)
    assert login is not None
    writing(session)
    session.execute(delete(LoginSession).where(LoginSession.id == login.id))
    session.commit()
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---- practice -------------------------------------------------------------------------


def _progress(session: Session, user: User) -> dict[str, str]:
    """Return each problem's status for `user`: "solved" (an AC) or "attempted"."""
    rows = session.execute(
        select(Submission.slug, Run.result)
        .join(Run, Run.submission_id == Submission.id)
        .where(Submission.user_id == user.id, Run.state == RunState.DONE)
    ).all()
    status: dict[str, str] = {}
    for slug, result in rows:
        solved = (result or {}).get("verdict") == "AC"
        status[slug] = "solved" if solved or status.get(slug) == "solved" else "attempted"
    tried = session.scalars(select(Submission.slug).where(Submission.user_id == user.id)).all()
    for slug in tried:
        status.setdefault(slug, "attempted")
    return status


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: PageUser, login: LoginDep) -> HTMLResponse:
    bank: Bank = request.app.state.bank
    status = _progress(session, user)
    sections: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for slug in bank.slugs():
        spec = bank.problem(slug).spec
        sections[spec.section].append(
            {
                "slug": slug,
                "title": spec.title,
                "difficulty": spec.difficulty,
                "status": status.get(slug, ""),
            }
        )
    summary = [
        {
            "number": number,
            "name": SECTIONS.get(number, ""),
            "problems": sections[number],
            "solved": sum(p["status"] == "solved" for p in sections[number]),
        }
        for number in sorted(sections)
    ]
    return render(
        request,
        "home.html",
        user=user,
        csrf=login.csrf_token if login else "",
        sections=summary,
        solved=sum(v == "solved" for v in status.values()),
        total=len(bank.slugs()),
    )


@router.get("/problems/{slug}", response_class=HTMLResponse)
def problem_page(
    request: Request, slug: str, user: PageUser, login: LoginDep, error: str = ""
) -> HTMLResponse:
    bank: Bank = request.app.state.bank
    if slug not in bank.slugs():
        raise HTTPException(404, f"no problem {slug!r}")
    problem = bank.problem(slug)
    statement = markdown.markdown(
        problem.statement.read_text(encoding="utf-8"),
        extensions=["fenced_code", "tables", "codehilite"],
        extension_configs={"codehilite": {"guess_lang": False}},
    )
    return render(
        request,
        "problem.html",
        user=user,
        csrf=login.csrf_token if login else "",
        spec=problem.spec,
        statement=statement,
        error=error,
    )


@router.get("/problems/{slug}/starter.py")
def starter(request: Request, slug: str, user: PageUser) -> Response:
    bank: Bank = request.app.state.bank
    if slug not in bank.slugs():
        raise HTTPException(404, f"no problem {slug!r}")
    text = bank.problem(slug).starter.read_bytes()
    return Response(
        text,
        media_type="text/x-python",
        headers={"Content-Disposition": f'attachment; filename="{slug}-starter.py"'},
    )


@router.get("/problems/{slug}/practice.zip")
def practice_zip(request: Request, slug: str, user: PageUser) -> Response:
    bank: Bank = request.app.state.bank
    if slug not in bank.slugs():
        raise HTTPException(404, f"no problem {slug!r}")
    path = request.app.state.practice(slug)
    return Response(
        path.read_bytes(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{slug}.zip"'},
    )


@router.post("/problems/{slug}/submit", dependencies=[Depends(same_site)])
def submit_form(
    request: Request,
    slug: str,
    session: SessionDep,
    user: PageUser,
    login: LoginDep,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=128)] = "",
    key: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(login, csrf)
    settings = request.app.state.settings
    content = file.file.read(settings.upload_max_bytes + 1)
    try:
        accept(
            session,
            user,
            request.app.state.bank,
            settings,
            slug,
            file.filename or "",
            content,
            key or None,
        )
    except Refused as exc:
        page = problem_page(request, slug, user, login, error=exc.message)
        page.status_code = exc.status
        return page
    return RedirectResponse("/submissions", 303)


@router.get("/submissions", response_class=HTMLResponse)
def submissions_page(
    request: Request, session: SessionDep, user: PageUser, login: LoginDep
) -> HTMLResponse:
    rows = session.scalars(
        select(Submission).where(Submission.user_id == user.id).order_by(Submission.id.desc())
    ).all()
    last_event = session.scalars(
        select(Event.id).where(Event.user_id == user.id).order_by(Event.id.desc())
    ).first()
    return render(
        request,
        "submissions.html",
        user=user,
        csrf=login.csrf_token if login else "",
        submissions=[view(session, row) for row in rows],
        last_event=last_event or 0,
    )


# ---- live updates -----------------------------------------------------------------------


@router.get("/events")
async def events(request: Request) -> StreamingResponse:
    """Stream my run events (server-sent events) from Last-Event-ID (or ?after=) on.

    Takes no session dependency: that would hold a database session for the stream's
    whole life. Each poll opens its own.
    """
    start = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    after = int(start) if start.isdigit() else 0
    sessions = request.app.state.sessions

    def who() -> int:
        with sessions() as session:
            return get_page_user(get_login(request, session), session).id

    user_id = await run_in_threadpool(who)

    def newer(since: int) -> list[tuple[int, dict[str, Any], int | None]]:
        with sessions() as session:
            rows = session.scalars(
                select(Event).where(Event.user_id == user_id, Event.id > since).order_by(Event.id)
            ).all()
            return [(e.id, e.payload, e.submission_id) for e in rows]

    async def stream() -> AsyncIterator[str]:
        nonlocal after
        ends = time.monotonic() + EVENT_STREAM_S
        yield "retry: 1000\n\n"
        while time.monotonic() < ends and not await request.is_disconnected():
            for event_id, payload, submission_id in await run_in_threadpool(newer, after):
                after = event_id
                data = {"submission": submission_id, **payload}
                yield f"id: {event_id}\nevent: run\ndata: {_json(data)}\n\n"
            await asyncio.sleep(EVENT_POLL_S)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))
