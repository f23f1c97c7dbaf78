"""Shared pieces of the service tests: a migrated database with users and runs.

`db_url` is a SQLite file; `postgres` is a real PostgreSQL server for the session
(tests/service/servers.py), and `any_db_url` runs a test on both.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from judge.service import queue
from judge.service.accounts import add_user
from judge.service.db import make_engine, session_factory
from judge.service.migrate import upgrade
from judge.service.models import Submission, User
from tests.service.servers import PostgresServer, RedisServer, start_postgres, start_redis


@pytest.fixture(autouse=True)
def collect_after_each_test() -> Iterator[None]:
    """Collect garbage after each test, so a client or socket a test leaves open is
    reported (filterwarnings = error) by that test, not by whichever test runs next."""
    yield
    gc.collect()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'judge.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A fresh redis-server for one test (without persistence)."""
    server = start_redis()
    yield server
    server.remove()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh, migrated database on the session's PostgreSQL server."""
    url = postgres.new_database()
    upgrade(url)
    return url


@pytest.fixture
def sessions(db_url: str) -> Iterator[Callable[[], Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def queue_runs(sessions: Callable[[], Session], count: int, name: str = "ann") -> list[int]:
    """Add a user and `count` practice submissions, each with a queued run; return run ids."""
    with sessions() as session:
        add_user(session, name)
    ids = []
    with sessions() as session, session.begin():
        user = session.query(User).filter_by(name=name).one()
        for index in range(count):
            row = Submission(
                user_id=user.id,
                slug="add-arrays",
                filename=f"{index}.py",
                content=b"x",
                sha256="0" * 64,
            )
            session.add(row)
            session.flush()
            ids.append(queue.enqueue(session, row).id)
    return ids
