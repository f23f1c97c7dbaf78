"""The service's tables. The database is the only truth: the queue is the `run` table.

A submission keeps its bytes; each judging attempt of it is a `run`, with a state
(queued, running, done, error, superseded), a lease (token and expiry) while a worker
holds it, how many times it was tried, and its Result as JSON once done. `event` rows
are what live pages follow; their ids only grow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from judge.service.db import WRITE_LOCK, lock


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Role(StrEnum):
    CONTESTANT = "contestant"
    ORGANISER = "organiser"


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"  # judging failed max_tries times: shown as "not your fault", not charged
    SUPERSEDED = "superseded"  # a rejudge replaced it


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.CONTESTANT)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(Base):
    __tablename__ = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Round(Base):
    __tablename__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)  # the round file, as given
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    freeze_minutes: Mapped[int] = mapped_column(Integer, default=0)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RoundProblem(Base):
    __tablename__ = "round_problem"
    __table_args__ = (UniqueConstraint("round_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    points: Mapped[float] = mapped_column(default=100.0)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Submission(Base):
    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_submission_user_problem", "user_id", "round_id", "slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"), nullable=True)
    slug: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (Index("ix_run_state_queued", "state", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=RunState.QUEUED)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the run was last published to the broker (JUDGE_DISPATCH=celery), and how
    # often: the reaper publishes again a run still queued long after (judge.service.dispatch).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dispatches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The digest of the problem (judge.bank.problem_digest) in the web process's bank when
    # the run was queued: a worker whose copy differs refuses to judge the run.
    problem_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What judging it needs, and so the broker queue it is published to: "cpu" or "gpu".
    resource: Mapped[str] = mapped_column(String(8), default="cpu", server_default="cpu")


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"), nullable=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Event, "before_insert")
def _events_commit_in_id_order(_mapper: Any, connection: Connection, _target: Event) -> None:
    """Events must commit in the order of their ids, so that a reader asking for ids
    above the last it saw never misses one a slower transaction commits later. Writers
    hold the write lock to their commit (judge.service.db.writing); this takes it for
    one that did not (a no-op when held; SQLite has a single writer anyway)."""
    lock(connection, WRITE_LOCK)


class WorkerBeat(Base):
    """A worker's last heartbeat, for the organiser's queue page."""

    __tablename__ = "worker"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # idle, judging, stopped
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HintUse(Base):
    """One hint a user revealed (practice; a round's, when its round file allows hints)."""

    __tablename__ = "hint_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"), nullable=True)
    number: Mapped[int] = mapped_column(Integer)
    revealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
