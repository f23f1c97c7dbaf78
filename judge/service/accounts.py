"""Users, their passwords (Argon2, via pwdlib) and API tokens (random, stored hashed)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judge.errors import UsageError
from judge.service.db import writing
from judge.service.models import ApiToken, Role, User

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
PASSWORDS = PasswordHash.recommended()  # Argon2id
# Hash a password a login attempt for an unknown name checks, so both take as long.
_DUMMY_HASH = PASSWORDS.hash("no such user")


@dataclass(frozen=True)
class NewUser:
    """A user just made: the only time the password and token are seen in clear."""

    name: str
    role: Role
    password: str
    token: str


def token_hash(token: str) -> str:
    """Return how a random token is stored: its SHA-256 (tokens are 256-bit random)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(session: Session, name: str, role: Role = Role.CONTESTANT) -> NewUser:
    """Create a user with a generated password and one API token; UsageError if taken."""
    _check_name(name)
    writing(session)
    try:
        made = _new_user(session, name, role)
    except IntegrityError:
        session.rollback()
        raise UsageError(f"a user named {name!r} exists already") from None
    session.commit()
    return made


def import_users(session: Session, text: str) -> list[NewUser]:
    """Create every contestant a CSV lists (one name per row, an optional second column
    `organiser`); all or none: UsageError names every bad row and nothing is stored."""
    rows = [row for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
    if rows and rows[0][0].strip().lower() == "name":
        rows = rows[1:]  # a header row
    if not rows:
        raise UsageError("the CSV lists nobody: one name per row, e.g. 'alice'")
    wanted: list[tuple[str, Role]] = []
    problems = []
    for number, row in enumerate(rows, start=1):
        name = row[0].strip()
        role_text = row[1].strip().lower() if len(row) > 1 else ""
        if not NAME.fullmatch(name):
            problems.append(f"row {number}: {name!r} is not a valid user name")
        elif role_text not in ("", "contestant", "organiser"):
            problems.append(f"row {number}: role {role_text!r} is not contestant or organiser")
        else:
            wanted.append((name, Role(role_text or Role.CONTESTANT)))
    names = [name for name, _ in wanted]
    problems += [
        f"{name!r} is listed twice" for name in sorted({n for n in names if names.count(n) > 1})
    ]
    writing(session)
    taken = set(session.scalars(select(User.name).where(User.name.in_(names))))
    problems += [f"{name!r} exists already" for name in sorted(taken)]
    if problems:
        session.rollback()
        raise UsageError("nobody was added: " + "; ".join(problems[:10]))
    made = [_new_user(session, name, role) for name, role in wanted]
    session.commit()
    return made


def _check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise UsageError(
            f"{name!r}: a user name is 1-64 of a-z, 0-9, '_', '.', '-', starting with a "
            "letter or digit"
        )


def _new_user(session: Session, name: str, role: Role) -> NewUser:
    """Add a user and a token to the session's transaction; the caller commits."""
    password = secrets.token_urlsafe(12)
    token = secrets.token_urlsafe(32)
    user = User(name=name, role=role, password_hash=PASSWORDS.hash(password))
    session.add(user)
    session.flush()
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token)))
    return NewUser(name, role, password, token)


def user_for_token(session: Session, token: str) -> User | None:
    """Return the user an API token belongs to, or None."""
    found = session.scalars(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash(token))
    ).first()
    return found


def check_password(session: Session, name: str, password: str) -> User | None:
    """Return the user if `password` is theirs; as slow for an unknown name as a known one."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        PASSWORDS.verify(password, _DUMMY_HASH)
        return None
    return user if PASSWORDS.verify(password, user.password_hash) else None
