"""Celery on Redis as the dispatcher (JUDGE_DISPATCH=celery), against a real PostgreSQL
and a real redis-server that the tests start on 127.0.0.1.

The message carries only a run id: a duplicate does nothing, and a lost message (never
published, or flushed from Redis) is published again by the reaper.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from judge.service import queue
from judge.service.config import ServiceSettings
from judge.service.db import make_engine, session_factory
from judge.service.models import Event, Run, RunState, utcnow
from judge.service.tasks import CPU_QUEUE, TASK_NAME, celery_app
from tests.service.conftest import queue_runs
from tests.service.live import (
    SOLUTION,
    STARTER,
    Service,
    start_service,
    start_workers,
    stop_service,
)
from tests.service.servers import RedisServer
from tests.service.test_api import upload, wait_judged


@pytest.fixture
def database(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgres_url)
    yield session_factory(engine)
    engine.dispose()


def celery_env(redis: RedisServer, redispatch_s: float = 600) -> dict[str, str]:
    return {
        "JUDGE_DISPATCH": "celery",
        "JUDGE_BROKER_URL": redis.url,
        "JUDGE_REDISPATCH_S": str(redispatch_s),
    }


def wait_done(sessions: sessionmaker[Session], ids: list[int], timeout: float = 90) -> list[Run]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            runs = list(session.scalars(select(Run).where(Run.id.in_(ids)).order_by(Run.id)))
        if all(run.state == RunState.DONE for run in runs):
            return runs
        time.sleep(0.2)
    raise AssertionError(f"not all judged: {[(r.id, r.state) for r in runs]}")


def done_events(sessions: sessionmaker[Session]) -> dict[int, int]:
    with sessions() as session:
        counts: dict[int, int] = {}
        for event in session.scalars(select(Event).where(Event.kind == "run")):
            if event.payload["state"] == "done" and event.run_id is not None:
                counts[event.run_id] = counts.get(event.run_id, 0) + 1
    return counts


def submit_files(service: Service, token: str) -> list[str]:
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"}) as c:
        ids = [
            upload(c, name, path.read_bytes()).json()["id"]
            for name, path in (("starter.py", STARTER), ("solution.py", SOLUTION))
            for _ in range(3)
        ]
        return [str(wait_judged(c, i, timeout=90)["result"]["verdict"]) for i in ids]


def test_the_service_judges_through_celery_workers(
    postgres_url: str, redis: RedisServer, tmp_path: Path
) -> None:
    service = start_service(
        tmp_path, workers=2, database_url=postgres_url, extra_env=celery_env(redis)
    )
    try:
        alice = service.add_user("alice")
        assert submit_files(service, alice["token"]) == ["WA"] * 3 + ["AC"] * 3
    finally:
        output = stop_service(service)
    assert "Traceback" not in output, output


def test_a_run_id_delivered_twice_is_judged_once(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    service = start_service(
        tmp_path, workers=2, database_url=postgres_url, extra_env=celery_env(redis)
    )
    try:
        ids = queue_runs(database, 4)  # queued in the database, never published
        app = celery_app(
            ServiceSettings(data_dir=tmp_path, dispatch="celery", broker_url=redis.url)
        )
        for run_id in ids:
            for _ in range(2):  # each run id twice
                app.send_task(TASK_NAME, args=[run_id], queue=CPU_QUEUE)
        runs = wait_done(database, ids)
        time.sleep(1.0)  # the duplicates have been consumed by now
        assert [run.tries for run in runs] == [1] * 4
        assert done_events(database) == {run_id: 1 for run_id in ids}
        assert redis.command("LLEN", CPU_QUEUE) == "0"
        app.close()
    finally:
        stop_service(service)


def test_runs_whose_messages_were_flushed_from_redis_are_published_again(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    service = start_service(
        tmp_path, workers=0, database_url=postgres_url, extra_env=celery_env(redis, 2)
    )
    workers = None
    try:
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            ids = [upload(client, "s.py", SOLUTION.read_bytes()).json()["id"] for _ in range(4)]
        assert int(redis.command("LLEN", CPU_QUEUE)) >= 4  # published, nobody consumes
        assert redis.command("FLUSHALL") == "OK"  # every message lost
        time.sleep(0.2)
        metrics = httpx.get(f"{service.url}/metrics").text
        assert "judge_queue_depth 4.0" in metrics
        oldest = next(
            line for line in metrics.splitlines() if line.startswith("judge_queue_oldest")
        )
        assert float(oldest.split()[1]) > 0
        workers = start_workers(service, 1)
        with database() as session:
            run_ids = list(session.scalars(select(Run.id).order_by(Run.id)))
        runs = wait_done(database, run_ids, timeout=120)
        assert [run.result["verdict"] for run in runs if run.result] == ["AC"] * 4
        assert done_events(database) == {run_id: 1 for run_id in run_ids}
        assert len(ids) == 4
    finally:
        if workers is not None:
            workers.terminate()
            workers.communicate(timeout=60)
        stop_service(service)


def test_the_reaper_publishes_again_with_a_growing_wait(tmp_path: Path) -> None:
    from judge.service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'judge.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    [run_id] = queue_runs(sessions, 1)  # published at enqueue: dispatches 1
    now = utcnow()
    assert queue.redispatch_due(sessions, 60, now) == []  # published just now
    assert queue.redispatch_due(sessions, 60, now + timedelta(seconds=61)) == [(run_id, "cpu")]
    later = now + timedelta(seconds=61)
    assert queue.redispatch_due(sessions, 60, later + timedelta(seconds=100)) == []  # 120 s now
    assert queue.redispatch_due(sessions, 60, later + timedelta(seconds=121)) == [(run_id, "cpu")]
    held = queue.claim(sessions, "w", lease_s=60)
    assert held is not None  # a running run is never published again
    assert queue.redispatch_due(sessions, 60, later + timedelta(days=1)) == []
    engine.dispose()


def test_celery_dispatch_without_a_broker_is_a_clear_error(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="JUDGE_BROKER_URL"):
        ServiceSettings(data_dir=tmp_path, dispatch="celery")


SLOW_SOLUTION = (
    b"import time\ntime.sleep(4)\n\ndef add(a, b):\n    return [x + y for x, y in zip(a, b)]\n"
)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def run_of(sessions: sessionmaker[Session], submission_id: int) -> int:
    """The id of the one run of a submission."""
    with sessions() as session:
        return int(session.scalars(select(Run.id).where(Run.submission_id == submission_id)).one())


def judging_pid(sessions: sessionmaker[Session], run_id: int, timeout: float = 30) -> int:
    """The pid of the process judging `run_id` (a Celery worker's task-running child)."""
    from judge.service.models import WorkerBeat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            beat = session.scalars(
                select(WorkerBeat).where(WorkerBeat.run_id == run_id, WorkerBeat.state == "judging")
            ).first()
            if beat is not None:
                return beat.pid
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never started")


@pytest.mark.slow
@pytest.mark.bwrap
def test_a_celery_worker_killed_mid_run_has_its_run_judged_once_and_no_sandbox_left(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    import os
    import signal

    from tests.backends import get_backend

    get_backend("bwrap")  # skip, or fail under CI, without bubblewrap
    service = start_service(
        tmp_path,
        workers=2,
        sandbox="bwrap",
        database_url=postgres_url,
        extra_env=celery_env(redis),
    )
    try:
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            made = upload(client, "slow.py", SLOW_SOLUTION).json()
            run_id = run_of(database, made["id"])
            pid = judging_pid(database, run_id)
            time.sleep(0.5)  # the sandbox is up
            below = descendants(pid)
            assert below, "the judging process runs its sandbox below it"
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in below):
                time.sleep(0.1)
            left = [p for p in below if Path(f"/proc/{p}").exists()]
            assert not left, f"sandbox processes outlived their worker: {left}"
            judged = wait_judged(client, made["id"], timeout=120)
        assert judged["result"]["verdict"] == "AC" and judged["tries"] == 2
        assert done_events(database) == {run_id: 1}
    finally:
        output = stop_service(service)
    assert "WorkerLostError" in output  # Celery saw its child die and gave the message back


@pytest.mark.slow
def test_a_celery_worker_stopped_past_its_lease_changes_nothing_when_it_resumes(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    import os
    import signal

    service = start_service(
        tmp_path, workers=2, database_url=postgres_url, extra_env=celery_env(redis)
    )
    try:
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            made = upload(client, "slow.py", SLOW_SOLUTION).json()
            run_id = run_of(database, made["id"])
            pid = judging_pid(database, run_id)
            os.kill(pid, signal.SIGSTOP)
            try:
                judged = wait_judged(client, made["id"], timeout=120)
            finally:
                os.kill(pid, signal.SIGCONT)
            time.sleep(6)  # the resumed worker finishes its copy and tries to write
            again = client.get(f"/api/v1/submissions/{made['id']}").json()
        assert judged["tries"] == 2 and again == judged
        assert done_events(database) == {run_id: 1}
    finally:
        stop_service(service)


# A submission that kills the process judging it (the process sandbox runs it as that
# process's descendant): every try takes a worker down with it.
POISON = b"""\
import os, signal
from pathlib import Path

pid = os.getppid()
while pid > 1:
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes()
    if b"spawn_main" in arguments:
        os.kill(pid, signal.SIGKILL)
    pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
"""


@pytest.mark.slow
def test_a_poison_submission_ends_in_error_after_three_tries_without_a_loop(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    service = start_service(
        tmp_path, workers=2, database_url=postgres_url, extra_env=celery_env(redis)
    )
    try:
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            made = upload(client, "poison.py", POISON).json()
            judged = wait_judged(client, made["id"], timeout=180)
            assert judged["state"] == "error" and judged["tries"] == 3
            # the workers were replaced and still judge
            fine = upload(client, "solution.py", SOLUTION.read_bytes()).json()
            assert wait_judged(client, fine["id"], timeout=120)["result"]["verdict"] == "AC"
        time.sleep(3)  # any message left over is consumed, and does nothing
        with database() as session:
            run = session.scalars(select(Run).where(Run.submission_id == made["id"])).one()
        assert run.state == RunState.ERROR and run.tries == 3 and run.result is None
        assert redis.command("LLEN", CPU_QUEUE) == "0"
    finally:
        stop_service(service)


MEDIUM_SOLUTION = (
    b"import time\ntime.sleep(1.5)\n\ndef add(a, b):\n    return [x + y for x, y in zip(a, b)]\n"
)


@pytest.mark.slow
def test_redis_and_postgres_restarted_mid_round_lose_and_double_nothing(
    redis: RedisServer, tmp_path: Path
) -> None:
    from tests.service.servers import start_postgres

    postgres = start_postgres()  # its own server: this test restarts it
    url = postgres.new_database()
    engine = make_engine(url)
    sessions = session_factory(engine)
    service = start_service(tmp_path, workers=2, database_url=url, extra_env=celery_env(redis, 2))
    try:
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url,
            headers={"Authorization": f"Bearer {alice['token']}"},
            timeout=30,
        ) as client:
            ids = [upload(client, "m.py", MEDIUM_SOLUTION).json()["id"] for _ in range(6)]
            with sessions() as session:
                first = session.scalars(select(Run.id).order_by(Run.id)).first()
            assert first is not None
            judging_pid(sessions, first)  # judging has begun
            redis.stop()  # every queued message is lost with it (no persistence)
            redis.start()
            postgres.restart()  # every connection is cut
            restarted = time.monotonic()
            while client.get("/api/v1/submissions").status_code != 200:
                assert time.monotonic() - restarted < 15, "the site did not come back"
                time.sleep(0.2)
            back_s = time.monotonic() - restarted
            ids += [upload(client, "s.py", SOLUTION.read_bytes()).json()["id"] for _ in range(2)]
            verdicts = [wait_judged(client, i, timeout=180)["result"]["verdict"] for i in ids]
        assert verdicts == ["AC"] * 8
        with sessions() as session:
            runs = list(session.scalars(select(Run).order_by(Run.id)))
        assert len(runs) == 8 and all(run.state == RunState.DONE for run in runs)
        assert done_events(sessions) == {run.id: 1 for run in runs}
        assert back_s < 15
    finally:
        output = stop_service(service)
        engine.dispose()
        postgres.stop()
    assert "queued run(s) again" in output  # the messages Redis lost were published again


@pytest.mark.slow
def test_a_rejudge_while_running_supersedes_the_old_attempt_and_drops_its_result(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    service = start_service(
        tmp_path, workers=2, database_url=postgres_url, extra_env=celery_env(redis)
    )
    try:
        dan, boss = service.add_user("dan"), service.add_user("boss", organiser=True)
        with service.client(dan["token"]) as client, service.client(boss["token"]) as organiser:
            made = upload(client, "slow.py", SLOW_SOLUTION).json()
            old = run_of(database, made["id"])
            judging_pid(database, old)  # the first attempt is being judged
            assert organiser.post(f"/api/v1/submissions/{made['id']}/rejudge").status_code == 200
            judged = wait_judged(client, made["id"], timeout=120)
            time.sleep(5)  # the old attempt finishes its sandbox and tries to write
            again = client.get(f"/api/v1/submissions/{made['id']}").json()
        assert judged["result"]["verdict"] == "AC" and again == judged
        with database() as session:
            runs = list(
                session.scalars(select(Run).where(Run.submission_id == made["id"]).order_by(Run.id))
            )
        assert [(run.id == old, run.state) for run in runs] == [
            (True, RunState.SUPERSEDED),
            (False, RunState.DONE),
        ]
        assert runs[0].result is None
        new = max(run.id for run in runs)
        assert done_events(database) == {new: 1}
    finally:
        stop_service(service)


def test_runs_committed_but_never_published_are_published_by_the_reaper(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """A crash between the commit and the publish (here: runs queued straight into the
    database, as if the web process died before it published them)."""
    service = start_service(
        tmp_path, workers=1, database_url=postgres_url, extra_env=celery_env(redis, 2)
    )
    try:
        ids = queue_runs(database, 3)
        assert redis.command("LLEN", CPU_QUEUE) == "0"  # nothing was published
        runs = wait_done(database, ids, timeout=60)
        assert [run.dispatches for run in runs] == [2] * 3  # once at enqueue, once again
        assert done_events(database) == {run_id: 1 for run_id in ids}
    finally:
        stop_service(service)


@pytest.mark.slow
def test_stopping_celery_workers_mid_run_gives_the_run_back_untried(
    postgres_url: str,
    redis: RedisServer,
    database: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    first = start_service(
        tmp_path, workers=1, database_url=postgres_url, extra_env=celery_env(redis, 2)
    )
    user = first.add_user("dora")
    with first.client(user["token"]) as client:
        made = upload(client, "slow.py", SLOW_SOLUTION).json()
    with database() as session:
        run_id = session.scalars(select(Run.id)).one()
    judging_pid(database, run_id)
    started = time.monotonic()
    output = stop_service(first)
    assert time.monotonic() - started < 20  # the task ended at once, not after a kill
    with database() as session:
        run = session.get_one(Run, run_id)
        assert (run.state, run.tries) == (RunState.QUEUED, 0)
    assert "WorkerLostError" not in output and "raised error" not in output
    second = start_service(
        tmp_path / "again", workers=1, database_url=postgres_url, extra_env=celery_env(redis, 2)
    )
    try:
        with second.client(user["token"]) as client:
            judged = wait_judged(client, made["id"], timeout=120)
        assert judged["result"]["verdict"] == "AC" and judged["tries"] == 1
    finally:
        stop_service(second)
