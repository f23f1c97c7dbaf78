"""Users, their passwords (Argon2, via pwdlib) and API tokens (random, stored hashed)."""

from __future__ import annotations

import hashlib
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
    if not NAME.fullmatch(name):
        raise UsageError(
            f"{name!r}: a user name is 1-64 of a-z, 0-9, '_', '.', '-', starting with a "
            "letter or digit"
        )
    password = secrets.token_urlsafe(12)
    token = secrets.token_urlsafe(32)
    user = User(name=name, role=role, password_hash=PASSWORDS.hash(password))
    writing(session)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise UsageError(f"a user named {name!r} exists already") from None
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token)))
    session.commit()
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
