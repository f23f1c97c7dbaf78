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
import io
import json
import secrets
import threading
import time
import zipfile
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import markdown
import yaml
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from judge.bank import Bank, editorial_file, hint_files
from judge.data import Secret
from judge.errors import UsageError
from judge.kinds import get_kind
from judge.service import contests, queue
from judge.service.accounts import check_password, import_users, token_hash
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
from judge.service.errors import Refused
from judge.service.events import EventHub, Update
from judge.service.models import (
    Event,
    HintUse,
    LoginSession,
    Role,
    Run,
    RunState,
    Submission,
    User,
    WorkerBeat,
    utcnow,
)
from judge.service.models import Round as RoundRow
from judge.service.submissions import accept, views
from judge.spec import SECTIONS, QuizItem, quiz_items

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
            times = self._failures.get(key)
            if times is None:
                continue
            while times and now - times[0] > self.window_s:
                times.popleft()
            if not times:
                del self._failures[key]  # forget names and addresses that stopped failing
            elif len(times) >= self._limit(key):
                return True
        return False

    def failed(self, *keys: tuple[str, str]) -> None:
        for key in keys:
            self._failures[key].append(time.monotonic())


router = APIRouter()


class Catalogue:
    """The bank's problems as the pages show them, loaded once (specs parse slowly: a page
    must not load 26 of them per request). Restart the service after changing the bank."""

    def __init__(self, bank: Bank, secret: Secret) -> None:
        self.bank = bank
        self.secret = secret
        self.problems = {slug: bank.problem(slug) for slug in bank.slugs()}
        self._statements: dict[str, str] = {}
        self._lock = threading.Lock()

    def statement(self, slug: str, viewer: str) -> str:
        """Return the problem's statement as `viewer` reads it, as HTML: a quiz's items are
        drawn for them (the draw `judge` checks their answers against)."""
        problem = self.problems[slug]
        kind = get_kind(problem.spec.kind)
        if not problem.spec.runs:  # drawn per viewer: never cached
            return _markdown(kind.statement(problem, self.bank, self.secret, viewer))
        key = f"statement:{slug}"  # the same for everyone (a function's samples run once)
        with self._lock:
            if key not in self._statements:
                text = kind.statement(problem, self.bank, self.secret, None)
                self._statements[key] = _markdown(text)
            return self._statements[key]

    def items(self, slug: str) -> list[QuizItem]:
        """A quiz's items (the answer form's fields); none for a problem that runs."""
        spec = self.problems[slug].spec
        return [] if spec.runs else quiz_items(spec)

    def html(self, path: Path) -> str:
        """Return a Markdown file of the bank (a statement, a hint, an editorial) as HTML."""
        key = str(path)
        with self._lock:
            if key not in self._statements:
                self._statements[key] = _markdown(path.read_text(encoding="utf-8"))
            return self._statements[key]


def _markdown(text: str) -> str:
    return markdown.markdown(
        text,
        extensions=["fenced_code", "tables", "codehilite"],
        extension_configs={"codehilite": {"guess_lang": False}},
    )


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def page(
    request: Request, name: str, user: User, login: LoginSession | None, **context: Any
) -> HTMLResponse:
    """A logged-in user's page: the template gets the user and the session's form token."""
    return render(request, name, user=user, csrf=login.csrf_token if login else "", **context)


# ---- logging in and out --------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str = "") -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = render(request, "login.html", error=error, csrf=csrf, user=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="lax", max_age=3600, secure=_tls(request)
    )
    return response


def _tls(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: then cookies are sent over HTTPS only.

    Behind a TLS proxy on this machine, uvicorn takes the scheme from its
    X-Forwarded-Proto (it trusts that header from 127.0.0.1 only).
    """
    return request.url.scheme == "https"


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
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=SESSION_DAYS * 86400,
        secure=_tls(request),
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
    catalogue: Catalogue = request.app.state.catalogue
    status = _progress(session, user)
    sections: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for slug, problem in catalogue.problems.items():
        spec = problem.spec
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
    return page(
        request,
        "home.html",
        user,
        login,
        sections=summary,
        solved=sum(v == "solved" for v in status.values()),
        total=len(catalogue.problems),
    )


@router.get("/problems/{slug}", response_class=HTMLResponse)
def problem_page(
    request: Request,
    session: SessionDep,
    slug: str,
    user: PageUser,
    login: LoginDep,
    error: str = "",
) -> HTMLResponse:
    catalogue: Catalogue = request.app.state.catalogue
    if slug not in catalogue.problems:
        raise HTTPException(404, f"no problem {slug!r}")
    problem = catalogue.problems[slug]
    statement = catalogue.statement(slug, user.name)
    hints = hint_files(problem)
    scope = _hint_scope(request, session, user, slug)
    shown = _hints_revealed(session, user, slug, scope.round) if scope.open else 0
    closed = _editorial_lock(session, request.app.state.rounds, user, slug)
    return page(
        request,
        "problem.html",
        user,
        login,
        spec=problem.spec,
        statement=statement,
        items=catalogue.items(slug),
        starter_name=problem.starter.name,
        error=error,
        key=secrets.token_urlsafe(16),  # one submission however often the form is sent
        locked=scope.round,
        hints_open=scope.open,
        hint_cost=scope.cost,
        hints=[catalogue.html(path) for path in hints[:shown]],
        hints_total=len(hints),
        has_editorial=editorial_file(problem).is_file(),
        editorial_opens=_opens(request, closed) if closed else None,
    )


@dataclass(frozen=True)
class HintScope:
    """Where `user`'s hints of a problem count now: practice (round None) or a running
    round that has the problem; open: whether hints can be revealed there."""

    round: RoundRow | None
    open: bool
    cost: float = 0.0


def _hint_scope(request: Request, session: Session, user: User, slug: str) -> HintScope:
    running = None if user.role == Role.ORGANISER else contests.running_round_with(session, slug)
    if running is None:
        return HintScope(None, True)
    policy = request.app.state.rounds.load(running.name).spec.hints
    return HintScope(running, policy.allowed, policy.cost)


def _editorial_lock(
    session: Session, files: contests.RoundFiles, user: User, slug: str
) -> RoundRow | None:
    if user.role == Role.ORGANISER:
        return None
    return contests.editorial_lock(session, files, slug)


def _hints_revealed(session: Session, user: User, slug: str, contest: RoundRow | None) -> int:
    where = HintUse.round_id.is_(None) if contest is None else HintUse.round_id == contest.id
    return int(
        session.scalar(
            select(func.count(HintUse.id)).where(
                HintUse.user_id == user.id, HintUse.slug == slug, where
            )
        )
        or 0
    )


@router.post("/problems/{slug}/hint", dependencies=[Depends(same_site)])
def reveal_hint(
    request: Request,
    session: SessionDep,
    slug: str,
    user: PageUser,
    login: LoginDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Reveal the next hint of a practice problem; the database remembers it."""
    check_csrf(login, csrf)
    problem = request.app.state.catalogue.problems.get(slug)
    if problem is None:
        raise HTTPException(404, f"no problem {slug!r}")
    writing(session)  # two clicks at once reveal one hint each, in order
    scope = _hint_scope(request, session, user, slug)
    if not scope.open:
        assert scope.round is not None
        raise Refused(403, f"the hints of {slug} open when {scope.round.name} ends")
    shown = _hints_revealed(session, user, slug, scope.round)
    if shown < len(hint_files(problem)):
        round_id = scope.round.id if scope.round else None
        session.add(HintUse(user_id=user.id, slug=slug, round_id=round_id, number=shown + 1))
    session.commit()
    return RedirectResponse(f"/problems/{slug}#hints", 303)


def _opens(request: Request, closed: RoundRow) -> str:
    if request.app.state.rounds.load(closed.name).spec.editorials == "after_publish":
        return f"when the final board of {closed.name} is published"
    return f"when {closed.name} ends"


@router.get("/problems/{slug}/editorial", response_class=HTMLResponse)
def editorial_page(
    request: Request, session: SessionDep, slug: str, user: PageUser, login: LoginDep
) -> HTMLResponse:
    catalogue: Catalogue = request.app.state.catalogue
    if slug not in catalogue.problems:
        raise HTTPException(404, f"no problem {slug!r}")
    if closed := _editorial_lock(session, request.app.state.rounds, user, slug):
        raise Refused(403, f"the editorial of {slug} opens {_opens(request, closed)}")
    path = editorial_file(catalogue.problems[slug])
    if not path.is_file():
        raise HTTPException(404, f"{slug} has no editorial yet")
    return page(
        request,
        "editorial.html",
        user,
        login,
        spec=catalogue.problems[slug].spec,
        editorial=catalogue.html(path),
    )


@router.get("/problems/{slug}/starter.py")
@router.get("/problems/{slug}/answers.yaml")
def starter(request: Request, slug: str, user: PageUser) -> Response:
    """The starter: a program, or a quiz's blank answers file."""
    bank: Bank = request.app.state.bank
    if slug not in bank.slugs():
        raise HTTPException(404, f"no problem {slug!r}")
    path = bank.problem(slug).starter
    if not request.url.path.endswith("/" + path.name):
        raise HTTPException(404, f"{slug} has no {request.url.path.rsplit('/', 1)[-1]}")
    kind = "text/x-python" if path.suffix == ".py" else "application/yaml"
    return Response(
        path.read_bytes(),
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{slug}-{path.name}"'},
    )


@router.get("/problems/{slug}/practice.zip")
def practice_zip(request: Request, slug: str, user: PageUser) -> Response:
    bank: Bank = request.app.state.bank
    if slug not in bank.slugs():
        raise HTTPException(404, f"no problem {slug!r}")
    path = request.app.state.practice(slug, user.name)
    return Response(
        path.read_bytes(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{slug}.zip"'},
    )


def _accept_upload(
    request: Request,
    session: Session,
    user: User,
    file: UploadFile,
    problem: str,
    key: str,
    round_name: str | None = None,
) -> Refused | None:
    """Store a file sent from a page's form; return why it was refused, if it was."""
    settings = request.app.state.settings
    content = file.file.read(settings.upload_max_bytes + 1)
    try:
        accept(
            session,
            user,
            request.app.state.rounds,
            settings,
            problem,
            file.filename or "",
            content,
            key or None,
            round_name,
        )
    except Refused as exc:
        session.rollback()
        return exc
    return None


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
    refused = _accept_upload(request, session, user, file, slug, key)
    if refused is not None:
        shown = problem_page(request, session, slug, user, login, error=refused.message)
        shown.status_code = refused.status
        return shown
    return RedirectResponse("/submissions", 303)


ANSWER_FIELD_CHARS = 200


def answers_from_form(items: list[QuizItem], form: Mapping[str, Any]) -> bytes:
    """The answers file a quiz's form stands for: each filled field `item:<id>`, read as a
    YAML value ("[32, 10]", "7850", "b", "a, c" for a multiple item), as JSON."""
    answers: dict[str, Any] = {}
    for item in items:
        raw = form.get(f"item:{item.id}")
        text = raw.strip()[:ANSWER_FIELD_CHARS] if isinstance(raw, str) else ""
        if not text:
            continue
        if item.type == "multiple" and not text.startswith("["):
            text = f"[{text}]"
        try:
            answers[item.id] = yaml.safe_load(text)
        except yaml.YAMLError:
            answers[item.id] = text  # checked as what it is: text, so a wrong type, named
    return json.dumps(answers).encode("utf-8")


@router.post("/problems/{slug}/answers", dependencies=[Depends(same_site)])
async def answers_form(
    request: Request, slug: str, session: SessionDep, user: PageUser, login: LoginDep
) -> Response:
    """A quiz answered in the page's form: stored as an answers file, like an upload.

    Its fields are named after the items (`item:<id>`), so the form is read here; the
    rest runs in a worker thread, as the other routes that touch the database do.
    """
    catalogue: Catalogue = request.app.state.catalogue
    if slug not in catalogue.problems or not catalogue.items(slug):
        raise HTTPException(404, f"no quiz {slug!r}")
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}

    def store() -> Response:
        check_csrf(login, fields.get("csrf", ""))
        content = answers_from_form(catalogue.items(slug), fields)
        try:
            accept(
                session,
                user,
                request.app.state.rounds,
                request.app.state.settings,
                slug,
                "answers.json",
                content,
                fields.get("key", "")[:128] or None,
                fields.get("round") or None,
            )
        except Refused as exc:
            session.rollback()
            shown = problem_page(request, session, slug, user, login, error=exc.message)
            shown.status_code = exc.status
            return shown
        return RedirectResponse("/submissions", 303)

    return await run_in_threadpool(store)


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
    return page(
        request,
        "submissions.html",
        user,
        login,
        submissions=views(session, rows, user),
        last_event=last_event or 0,
    )


# ---- live updates -----------------------------------------------------------------------


@router.get("/events")
async def events(request: Request) -> StreamingResponse:
    """Stream my run events (server-sent events) from Last-Event-ID (or ?after=) on.

    Takes no session dependency: that would hold a database session for the stream's
    whole life. The events come from the app's EventHub, one reader for all streams.
    """
    start = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    after = int(start) if start.isdigit() else 0
    sessions = request.app.state.sessions

    def who() -> int:
        with sessions() as session:
            return get_page_user(get_login(request, session), session).id

    user_id = await run_in_threadpool(who)
    hub: EventHub = request.app.state.events

    async def stream() -> AsyncIterator[str]:
        ends = time.monotonic() + EVENT_STREAM_S
        yield "retry: 1000\n\n"
        async with hub.follow(user_id, after) as updates:
            waiting: asyncio.Task[Update] | None = None
            try:
                while time.monotonic() < ends and not await request.is_disconnected():
                    waiting = waiting or asyncio.ensure_future(anext(updates))
                    done, _ = await asyncio.wait({waiting}, timeout=EVENT_POLL_S)
                    if not done:
                        continue  # nothing new: look whether the browser is still there
                    update, waiting = waiting.result(), None
                    data = {"submission": update.submission, "state": update.state}
                    yield f"id: {update.id}\nevent: run\ndata: {_json(data)}\n\n"
            finally:
                if waiting is not None:
                    waiting.cancel()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


# ---- rounds ------------------------------------------------------------------------------


def _round_context(session: Session, request: Request, name: str, user: User) -> dict[str, Any]:
    row = contests.round_row(session, name)
    files: contests.RoundFiles = request.app.state.rounds
    spec = files.load(row.name).spec
    mine = session.scalars(
        select(Submission)
        .where(Submission.round_id == row.id, Submission.user_id == user.id)
        .order_by(Submission.id)
    ).all()
    best: dict[str, float] = {}
    last: dict[str, str] = {}
    used: dict[str, int] = defaultdict(int)
    for item, shown in zip(mine, views(session, mine, user), strict=True):
        used[item.slug] += shown.error is None
        if shown.result is not None:
            best[item.slug] = max(best.get(item.slug, 0.0), float(shown.result["score"]))
            last[item.slug] = str(shown.result["verdict"])
        elif shown.error:
            last[item.slug] = "failed"
    problems = [
        {
            "slug": item.slug,
            "title": request.app.state.catalogue.problems[item.slug].spec.title,
            "suffixes": request.app.state.catalogue.problems[item.slug].spec.suffixes,
            "quiz": bool(request.app.state.catalogue.items(item.slug)),
            "points": item.points,
            "best": best.get(item.slug),
            "last": last.get(item.slug, ""),
            "used": used[item.slug],
            "limit": spec.limit_for(item.slug),
        }
        for item in spec.problems
    ]
    now = utcnow()
    state = (
        "not started"
        if row.starts_at is None or now < row.starts_at
        else "ended"
        if row.ends_at is not None and now >= row.ends_at
        else "running"
    )
    return {
        "round": row,
        "spec": spec,
        "problems": problems,
        "state": state,
        "frozen": contests.freeze_moment(row),
    }


@router.get("/rounds", response_class=HTMLResponse)
def rounds_page(
    request: Request, session: SessionDep, user: PageUser, login: LoginDep
) -> HTMLResponse:
    rows = session.scalars(select(RoundRow).order_by(RoundRow.id.desc())).all()
    return page(
        request,
        "rounds.html",
        user,
        login,
        rounds=rows,
        now=utcnow(),
    )


@router.get("/rounds/{name}", response_class=HTMLResponse)
def round_home(
    request: Request, name: str, session: SessionDep, user: PageUser, login: LoginDep
) -> HTMLResponse:
    context = _round_context(session, request, name, user)
    return page(
        request,
        "round.html",
        user,
        login,
        key=secrets.token_urlsafe(16),
        error=request.query_params.get("error", ""),
        **context,
    )


@router.post("/rounds/{name}/submit", dependencies=[Depends(same_site)])
def round_submit(
    request: Request,
    name: str,
    session: SessionDep,
    user: PageUser,
    login: LoginDep,
    file: Annotated[UploadFile, File()],
    problem: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=128)] = "",
    key: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(login, csrf)
    refused = _accept_upload(request, session, user, file, problem, key, name)
    if refused is not None:
        context = _round_context(session, request, name, user)
        return render(
            request,
            "round.html",
            refused.status,
            user=user,
            csrf=csrf,
            key=secrets.token_urlsafe(16),
            error=refused.message,
            **context,
        )
    return RedirectResponse("/submissions", 303)


@router.get("/rounds/{name}/scoreboard", response_class=HTMLResponse)
def scoreboard_page(
    request: Request, name: str, session: SessionDep, user: PageUser, login: LoginDep
) -> HTMLResponse:
    row = contests.round_row(session, name)
    files: contests.RoundFiles = request.app.state.rounds
    shown = contests.boards(session, files, row, user)
    spec = files.load(row.name).spec
    return page(
        request,
        "scoreboard.html",
        user,
        login,
        round=row,
        spec=spec,
        public=shown.public,
        private=shown.private,
        frozen=shown.frozen_at,
    )


# ---- the organiser ------------------------------------------------------------------------


def organiser(user: PageUser) -> User:
    if user.role != Role.ORGANISER:
        raise HTTPException(403, "only an organiser may open this page")
    return user


OrganiserPage = Annotated[User, Depends(organiser)]


@router.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request, session: SessionDep, user: OrganiserPage, login: LoginDep, error: str = ""
) -> HTMLResponse:
    bank: Bank = request.app.state.bank
    available = sorted(p.stem for p in (bank.root / "rounds").glob("*.yaml"))
    rows = session.scalars(select(RoundRow).order_by(RoundRow.id.desc())).all()
    workers = session.scalars(select(WorkerBeat).order_by(WorkerBeat.name)).all()
    files = request.app.state.rounds
    rejudged = {row.name: contests.rejudges(session, files, row, user, last=3) for row in rows}
    return page(
        request,
        "admin.html",
        user,
        login,
        rounds=rows,
        rejudged=rejudged,
        available=available,
        stats=queue.queue_stats(session),
        workers=workers,
        now=utcnow(),
        error=error,
    )


@router.post("/admin/rounds", dependencies=[Depends(same_site)])
def admin_create_round(
    request: Request,
    session: SessionDep,
    user: OrganiserPage,
    login: LoginDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
    bank_round: Annotated[str, Form(max_length=64)] = "",
    freeze_minutes: Annotated[int, Form(ge=0, le=10_080)] = 0,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(login, csrf)
    bank: Bank = request.app.state.bank
    if file is not None and file.filename:
        source = file.file.read(100_001).decode("utf-8", errors="replace")
    elif bank_round and (bank.root / "rounds" / f"{Path(bank_round).name}.yaml").is_file():
        source = (bank.root / "rounds" / f"{Path(bank_round).name}.yaml").read_text("utf-8")
    else:
        raise Refused(422, "choose one of the bank's rounds or upload a round file")
    contests.create_round(session, request.app.state.rounds, source, freeze_minutes)
    return RedirectResponse("/admin", 303)


@router.post("/admin/rounds/{name}/{action}", dependencies=[Depends(same_site)])
def admin_round_action(
    request: Request,
    name: str,
    action: str,
    session: SessionDep,
    user: OrganiserPage,
    login: LoginDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
    minutes: Annotated[int, Form(ge=1, le=10_080)] = 10,
    problem: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(login, csrf)
    row = contests.round_row(session, name)
    files = request.app.state.rounds
    if action == "start":
        contests.start(session, files, row)
    elif action == "end":
        contests.end(session, row)
    elif action in ("freeze", "thaw"):
        contests.freeze(session, row, action == "freeze")
    elif action == "publish":
        contests.publish_private(session, row)
    elif action == "extend":
        contests.extend(session, row, minutes)
    elif action == "rejudge":
        contests.rejudge_problem(session, files, row, problem, user)
    else:
        raise HTTPException(404, f"no action {action!r}")
    return RedirectResponse("/admin", 303)


@router.get("/admin/rounds/{name}/scoreboard.{kind}")
def admin_download_board(
    request: Request, name: str, kind: str, session: SessionDep, user: OrganiserPage
) -> Response:
    if kind not in ("csv", "html"):
        raise HTTPException(404, "scoreboard.csv or scoreboard.html")
    row = contests.round_row(session, name)
    made = contests.published(session, request.app.state.rounds, row)
    text = made.csv if kind == "csv" else made.html
    media = "text/csv" if kind == "csv" else "text/html"
    return Response(
        text,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}-scoreboard.{kind}"'},
    )


@router.get("/admin/rounds/{name}/submissions.zip")
def admin_download_submissions(
    request: Request, name: str, session: SessionDep, user: OrganiserPage
) -> Response:
    row = contests.round_row(session, name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item, owner in session.execute(
            select(Submission, User.name)
            .join(User, User.id == Submission.user_id)
            .where(Submission.round_id == row.id)
            .order_by(Submission.id)
        ).all():
            stamp = item.created_at.strftime("%Y%m%dT%H%M%S")
            suffix = Path(item.filename).suffix
            archive.writestr(f"{name}/{owner}/{item.slug}.{stamp}-{item.id}{suffix}", item.content)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}-submissions.zip"'},
    )


@router.post("/admin/users", dependencies=[Depends(same_site)], response_class=HTMLResponse)
def admin_import_users(
    request: Request,
    session: SessionDep,
    user: OrganiserPage,
    login: LoginDep,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> HTMLResponse:
    """Add the contestants a CSV lists and show their login slips, once, to print."""
    check_csrf(login, csrf)
    text = file.file.read(1_000_001).decode("utf-8", errors="replace")
    try:
        made = import_users(session, text)
    except UsageError as exc:
        raise Refused(422, str(exc)) from None
    return page(
        request,
        "sheet.html",
        user,
        login,
        made=made,
        url=str(request.base_url),
    )
