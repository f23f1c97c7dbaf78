"""The database engine: SQLite in WAL mode by default, PostgreSQL (psycopg 3) to scale out.

Both run the same models and migrations, and both give the service one writer at a
time: every transaction that writes begins with `writing`, which on SQLite is BEGIN
IMMEDIATE (the database's write lock) and on PostgreSQL a transaction-level advisory
lock (WRITE_LOCK) held to the commit. So a check and the write it guards see one state
(a round's submission limit, a hint revealed once, a claim), events commit in the order
of their ids (a reader that follows ids never skips one that commits late), and locks
are always taken in one order (this one first), so writers never deadlock. Readers take
no lock. The reaper also takes REAPER_LOCK, so that one process reaps at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

# A writer waits this long for another's lock before SQLite says "database is locked".
SQLITE_BUSY_MS = 30_000
# Connections an engine keeps, and how many more it may open: more than the threads that
# run the web app's sync routes (40 in anyio's default limiter), so that no request ever
# waits for a connection (and times out) while another thread holds one to compute.
POOL_SIZE = 20
POOL_OVERFLOW = 40

# Advisory lock keys (PostgreSQL): one writer at a time; one process reaps at a time.
WRITE_LOCK = 0x4A5F0002
REAPER_LOCK = 0x4A5F0001


def is_postgres(bind: Session | Connection) -> bool:
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    return dialect.name == "postgresql"


def try_lock(session: Session, key: int) -> bool:
    """Take a transaction-level advisory lock if free (PostgreSQL); SQLite: always True,
    since its write transactions are serialised already."""
    if not is_postgres(session):
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def lock(connection: Connection, key: int) -> None:
    """Wait for a transaction-level advisory lock (PostgreSQL); nothing on SQLite."""
    if is_postgres(connection):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def make_engine(url: str, small: bool = False) -> Engine:
    """Return an engine for `url`; SQLite gets WAL, a busy timeout and foreign keys.

    small: a process that needs a few connections at most (a worker, the reaper), so
    that many processes stay within PostgreSQL's max_connections.
    """
    size, overflow = (2, 3) if small else (POOL_SIZE, POOL_OVERFLOW)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=overflow)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_MS / 1000},
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is turned off so that the BEGIN below is
        # ours: readers begin DEFERRED (in WAL mode they never block a writer), writers
        # begin IMMEDIATE (judge.service.db.writing) and take the write lock first, so
        # a read-then-write transaction never fails on a snapshot another wrote past.
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writing(session: Session) -> None:
    """End the session's read transaction, if any, and begin a write transaction.

    On SQLite the write transaction is BEGIN IMMEDIATE: it waits for the write lock at
    its start (busy_timeout); on PostgreSQL it waits for WRITE_LOCK. Either way what it
    reads stays true until it commits. Call it before the first statement of every
    transaction that writes.
    """
    if session.in_transaction():
        session.commit()
    connection = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    lock(connection, WRITE_LOCK)


@contextmanager
def write_transaction(sessions: Callable[[], Session]) -> Iterator[Session]:
    """Yield a session in a write transaction, committed at the end (rolled back on error)."""
    with sessions() as session:
        writing(session)
        yield session
        session.commit()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the Session maker the service uses (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
