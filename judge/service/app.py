"""The FastAPI application: the pages (judge.service.web) and the REST API (judge.service.api).

Every error a client causes is a 4xx: a JSON object `{"error": "..."}` for the API, a
page saying what went wrong for a browser; nothing a client sends becomes a 500.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from judge.bank import Bank, find_bank, problem_digest
from judge.bundle import export_bundle
from judge.data import Secret
from judge.errors import SpecError
from judge.service import api, metrics, web
from judge.service.config import ServiceSettings
from judge.service.contests import RoundFiles
from judge.service.db import make_engine, session_factory
from judge.service.deps import LoginRequired
from judge.service.dispatch import make_dispatcher, publish_after_commit
from judge.service.errors import Refused
from judge.service.events import EventHub

PRACTICE = "practice"


def create_app(settings: ServiceSettings, secret: Secret) -> FastAPI:
    """Return the service's application (its database engine opens at startup)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.url())
        app.state.sessions = session_factory(engine)
        dispatcher = make_dispatcher(settings)
        publish_after_commit(app.state.sessions, dispatcher)
        app.state.events = EventHub(app.state.sessions, web.EVENT_POLL_S)
        yield
        await app.state.events.close()
        dispatcher.close()
        engine.dispose()

    app = FastAPI(title="olympiad judge", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.bank = bank = Bank(settings.bank_dir) if settings.bank_dir else find_bank(Path.cwd())
    app.state.throttle = web.Throttle()
    app.state.catalogue = web.Catalogue(bank, secret)
    app.state.practice = PracticeZips(bank, secret, settings.data_dir / PRACTICE)
    app.state.rounds = RoundFiles(bank, settings.data_dir)
    _errors(app)
    app.get("/healthz")(healthz)
    app.get("/metrics", response_class=Response)(metrics_endpoint)
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    # The largest body a request may carry: an upload at the cap plus the form around it.
    app.add_middleware(BodyLimit, max_bytes=settings.upload_max_bytes + 64 * 1024)
    return app


class BodyLimit:
    """Refuse (413) a request whose body is larger than `max_bytes`, before it is stored:
    by its Content-Length when it says one, else by counting what arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"error": f"the request is over the {self.max_bytes} byte cap"}, 413
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def healthz() -> dict[str, bool]:
    """Answer 200 once the service accepts submissions."""
    return {"ok": True}


def metrics_endpoint(request: Request) -> Response:
    """The queue and the workers in Prometheus's text format (judge.service.metrics)."""
    return Response(metrics.render(request.app.state.sessions), media_type=metrics.CONTENT_TYPE)


class PracticeZips:
    """Each problem's practice folder (starter, statement, public data) as a zip, made once."""

    def __init__(self, bank: Bank, secret: Secret, folder: Path) -> None:
        self.bank = bank
        self.secret = secret
        self.folder = folder
        self._lock = threading.Lock()

    def __call__(self, slug: str, viewer: str) -> Path:
        """The zip of `slug` for `viewer` (a quiz's statement shows their own items)."""
        problem = self.bank.problem(slug)
        digest = problem_digest(problem, self.bank)[:16]  # a changed problem gets a new zip
        owner = None if problem.spec.runs else viewer
        mine = "" if owner is None else "-" + hashlib.sha256(owner.encode()).hexdigest()[:16]
        path = self.folder / f"{slug}-{digest}{mine}.zip"
        with self._lock:
            if not path.exists():
                staging = self.folder / ".staging" / f"{slug}.zip"  # the zip's folder: slug/
                staging.parent.mkdir(parents=True, exist_ok=True)
                staging.unlink(missing_ok=True)
                export_bundle([problem], self.bank, self.secret, staging, owner)
                staging.replace(path)
        return path


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _errors(app: FastAPI) -> None:
    def error(
        request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status, headers=headers)
        return web.render(
            request, "error.html", status, message=message, status_code=status, user=None, csrf=""
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error(request, 422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "log in first"}, 401)
        return RedirectResponse("/login", 303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return error(request, exc.status, exc.message)

    @app.exception_handler(SpecError)
    async def broken_problem(request: Request, exc: SpecError) -> Response:
        return error(request, 503, f"the problem is broken: {exc}")
