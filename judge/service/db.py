"""The database engine: SQLite in WAL mode by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# A writer waits this long for another's lock before SQLite says "database is locked".
SQLITE_BUSY_MS = 30_000


def make_engine(url: str) -> Engine:
    """Return an engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is turned off so BEGIN IMMEDIATE below
        # takes the write lock at the start: no deadlock between two upgrading readers.
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the Session maker the service uses (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
