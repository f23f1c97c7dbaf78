"""The run queue on a real SQLite file and a real PostgreSQL server: claims by
compare-and-set, leases, fenced writes, the reaper, and tries that end in "judging failed".

Every test here runs on both databases (the `db_url` fixture below).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from judge.service import queue
from judge.service.db import (
    REAPER_LOCK,
    make_engine,
    session_factory,
    try_lock,
    write_transaction,
)
from judge.service.migrate import alembic_config, upgrade
from judge.service.models import Event, Run, RunState, Submission, User
from judge.service.submissions import views
from tests.service.conftest import queue_runs

Sessions = Callable[[], Session]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The queue's database: a SQLite file, or a fresh database on a real PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    url = f"sqlite:///{tmp_path / 'judge.db'}"
    upgrade(url)
    return url


def _claim_all(url: str, worker: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = make_engine(url)
    sessions = session_factory(engine)
    claimed = []
    while (held := queue.claim(sessions, worker, lease_s=60)) is not None:
        assert queue.finish(sessions, held, {"verdict": "AC", "by": worker})
        claimed.append(held.run_id)
    engine.dispose()
    results.put(claimed)


def test_eight_workers_racing_for_200_runs_judge_each_exactly_once(
    db_url: str, sessions: Sessions
) -> None:
    ids = queue_runs(sessions, 200)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_claim_all, args=(db_url, f"w{index}", results)) for index in range(8)
    ]
    for worker in workers:
        worker.start()
    claimed = [run for _ in workers for run in results.get(timeout=120)]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert sorted(claimed) == sorted(ids)  # every run once, none twice
    with sessions() as session:
        runs = session.scalars(select(Run)).all()
        assert {run.state for run in runs} == {RunState.DONE}
        assert {run.tries for run in runs} == {1}
        done = Counter(
            event.run_id
            for event in session.scalars(select(Event)).all()
            if event.payload["state"] == "done"
        )
        assert set(done.values()) == {1} and len(done) == 200


def test_a_queued_run_knows_its_place_in_the_order_workers_claim(sessions: Sessions) -> None:
    ids = queue_runs(sessions, 4)
    held = queue.claim(sessions, "w1", lease_s=60)
    assert held is not None and held.run_id == ids[0]  # the oldest goes first
    with sessions() as session:
        assert queue.queue_places(session) == {ids[1]: 1, ids[2]: 2, ids[3]: 3}
        user = session.scalars(select(User)).one()
        shown = views(session, session.scalars(select(Submission)).all(), user)
    assert [s.queue_place for s in shown] == [None, 1, 2, 3]
    assert [s.state for s in shown] == ["running", "queued", "queued", "queued"]


def test_a_worker_that_lost_its_lease_cannot_write_its_late_result(sessions: Sessions) -> None:
    [run_id] = queue_runs(sessions, 1)
    stalled = queue.claim(sessions, "stalled", lease_s=0.05)
    assert stalled is not None
    time.sleep(0.1)
    assert len(queue.reap(sessions, max_tries=3)) == 1
    assert not queue.renew(sessions, stalled, lease_s=60)
    fresh = queue.claim(sessions, "fresh", lease_s=60)
    assert fresh is not None and fresh.run_id == run_id and fresh.tries == 2
    assert queue.finish(sessions, fresh, {"verdict": "AC"})
    assert not queue.finish(sessions, stalled, {"verdict": "WA"})  # resumed too late
    assert queue.give_back(sessions, stalled, "late", max_tries=3) is None
    with sessions() as session:
        run = session.get_one(Run, run_id)
        assert run.state == RunState.DONE and run.result == {"verdict": "AC"}
        states = [e.payload["state"] for e in session.scalars(select(Event).order_by(Event.id))]
    assert states == ["queued", "running", "queued", "running", "done"]


def test_a_run_that_fails_three_times_becomes_error_and_a_stopping_worker_costs_no_try(
    sessions: Sessions,
) -> None:
    [run_id] = queue_runs(sessions, 1)
    held = queue.claim(sessions, "w", lease_s=60)
    assert held is not None
    assert queue.give_back(sessions, held, "worker stops", 3, count_try=False) is RunState.QUEUED
    for attempt in range(1, 4):
        held = queue.claim(sessions, "w", lease_s=60)
        assert held is not None and held.tries == attempt
        state = queue.give_back(sessions, held, "the sandbox failed", max_tries=3)
        assert state is (RunState.ERROR if attempt == 3 else RunState.QUEUED)
    assert queue.claim(sessions, "w", lease_s=60) is None
    with sessions() as session:
        run = session.get_one(Run, run_id)
        assert run.state == RunState.ERROR and run.error == "the sandbox failed"


def test_the_reaper_gives_up_on_a_run_whose_workers_keep_dying(sessions: Sessions) -> None:
    queue_runs(sessions, 1)
    for _ in range(3):
        assert queue.claim(sessions, "dies", lease_s=0.01) is not None
        time.sleep(0.05)
        assert len(queue.reap(sessions, max_tries=3)) == 1
    with sessions() as session:
        assert session.scalars(select(Run.state)).one() == RunState.ERROR
        assert queue.queue_stats(session) == {"queued": 0, "running": 0, "oldest_wait_s": 0.0}


def test_the_migrations_build_exactly_the_tables_the_models_declare(db_url: str) -> None:
    command.check(alembic_config(db_url))  # raises when autogenerate would change anything


def test_a_csv_import_adds_everyone_or_nobody(sessions: Sessions) -> None:
    from judge.errors import UsageError
    from judge.service.accounts import import_users
    from judge.service.models import User

    with sessions() as session:
        made = import_users(session, "name\nada\nbo,organiser\n\ncy\n")
    assert [(m.name, str(m.role)) for m in made] == [
        ("ada", "contestant"),
        ("bo", "organiser"),
        ("cy", "contestant"),
    ]
    assert len({m.password for m in made}) == 3
    with sessions() as session:
        try:
            import_users(session, "dee\nada\nBad Name\ndee\n")
        except UsageError as exc:
            message = str(exc)
        else:
            raise AssertionError("a bad CSV was taken")
    assert "'ada' exists already" in message and "row 3" in message and "twice" in message
    with sessions() as session:
        assert sorted(session.scalars(select(User.name))) == ["ada", "bo", "cy"]


def test_events_become_visible_in_the_order_of_their_ids(sessions: Sessions) -> None:
    """A slow transaction that took an event id first commits first: a reader following
    ids above the last it saw (as the event streams do) never skips one."""
    [run_id] = queue_runs(sessions, 1)
    with sessions() as session:
        run = session.get_one(Run, run_id)
        submission = session.get_one(Submission, run.submission_id)
    first_flushed, stop = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def slow_writer() -> None:
        with write_transaction(sessions) as session:
            queue._event(session, run, submission, "slow", {})
            session.flush()
            first_flushed.set()
            time.sleep(0.6)

    def fast_writer() -> None:
        first_flushed.wait(10)
        with write_transaction(sessions) as session:
            queue._event(session, run, submission, "fast", {})

    def reader() -> None:
        while not stop.is_set():
            with sessions() as session:
                seen.append(list(session.scalars(select(Event.id).order_by(Event.id))))
            time.sleep(0.01)

    threads = [threading.Thread(target=f) for f in (slow_writer, fast_writer, reader)]
    for thread in threads:
        thread.start()
    for thread in threads[:2]:
        thread.join(20)
    stop.set()
    threads[2].join(20)
    with sessions() as session:
        every = list(session.scalars(select(Event.id).order_by(Event.id)))
        states = [e.payload["state"] for e in session.scalars(select(Event).order_by(Event.id))]
    assert states == ["queued", "slow", "fast"]
    for snapshot in seen:  # each is a prefix of the final order: no id visible above a gap
        assert snapshot == every[: len(snapshot)], (snapshot, every)


def test_racing_claims_on_postgres_skip_a_locked_run_instead_of_waiting(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    sessions = session_factory(engine)
    ids = queue_runs(sessions, 2)
    with sessions() as holder:
        locked = holder.scalars(select(Run).where(Run.id == ids[0]).with_for_update()).one()
        assert locked.id == ids[0]
        started = time.monotonic()
        held = queue.claim(sessions, "w2", lease_s=60)
        assert held is not None and held.run_id == ids[1]  # the next one, at once
        assert time.monotonic() - started < 2
        holder.rollback()
    engine.dispose()


def test_one_reaper_at_a_time_on_postgres(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    sessions = session_factory(engine)
    queue_runs(sessions, 1)
    assert queue.claim(sessions, "gone", lease_s=0.01) is not None
    time.sleep(0.05)
    with sessions() as other:
        assert try_lock(other, REAPER_LOCK)  # another process is reaping
        assert queue.reap(sessions, max_tries=3) == []
        other.rollback()  # its transaction ends: the lock goes with it
    assert len(queue.reap(sessions, max_tries=3)) == 1
    engine.dispose()
