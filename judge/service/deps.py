"""The dependencies routes take as parameters (the FastAPI full-stack template's deps.py):
the database session, the bank, the settings, and who is asking (API token or login)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Header, HTTPException, Request
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session

from judge.bank import Bank
from judge.service.accounts import token_hash, user_for_token
from judge.service.config import ServiceSettings
from judge.service.models import LoginSession, Role, User, utcnow

SESSION_COOKIE = "judge_session"
# A row id in a path: an integer the database can hold (SQLite and PostgreSQL: 64-bit).
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class LoginRequired(Exception):
    """A page needs a logged-in user: the app redirects to /login."""


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_bank(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


BankDep = Annotated[Bank, Depends(get_bank)]


def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


def get_login(request: Request, session: SessionDep) -> LoginSession | None:
    """Return the login session the cookie names, if it is valid."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == token_hash(token))
    ).first()
    if found is None or found.expires_at < utcnow():
        return None
    return found


LoginDep = Annotated[LoginSession | None, Depends(get_login)]


def get_api_user(
    request: Request,
    session: SessionDep,
    login: LoginDep,
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """Who calls the API: a bearer token; a logged-in browser too, for reads only."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = user_for_token(session, token.strip())
        if user is None:
            raise HTTPException(401, "unknown API token")
        return user
    if login is not None and request.method == "GET":  # a write needs a token (no CSRF here)
        return session.get_one(User, login.user_id)
    raise HTTPException(401, "log in, or send an API token as 'Authorization: Bearer ...'")


ApiUser = Annotated[User, Depends(get_api_user)]


def get_page_user(login: LoginDep, session: SessionDep) -> User:
    if login is None:
        raise LoginRequired
    return session.get_one(User, login.user_id)


PageUser = Annotated[User, Depends(get_page_user)]


def same_site(request: Request) -> None:
    """Refuse a form POST that does not come from this site (Origin, else Referer): 403."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        raise HTTPException(403, "the request does not say where it comes from")
    parts = urlsplit(origin)
    if parts.netloc != request.headers.get("host", "") or parts.scheme not in ("http", "https"):
        raise HTTPException(403, "a form from another site")


def check_csrf(login: LoginSession | None, token: str) -> None:
    """Refuse a form whose CSRF token is not the session's: 403."""
    if login is None or not hmac.compare_digest(login.csrf_token, token or ""):
        raise HTTPException(403, "the form is stale or forged: reload the page and try again")


def get_organiser(user: ApiUser) -> User:
    """The caller, who must be an organiser: 403 otherwise."""
    if user.role != Role.ORGANISER:
        raise HTTPException(403, "only an organiser may do this")
    return user


Organiser = Annotated[User, Depends(get_organiser)]
