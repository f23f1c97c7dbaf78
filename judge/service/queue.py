"""The run queue, kept in the `run` table: the database is the truth, nothing else.

A worker claims the oldest queued run with a compare-and-set update (state queued ->
running, with a fresh lease token; on PostgreSQL the candidates are read FOR UPDATE SKIP
LOCKED, so racing workers take different runs instead of waiting on one), renews the
lease while it judges, and writes the result only while its token is still the run's (a
fenced write): a worker that was stopped past its lease and resumed finds its token gone
and changes nothing. The reaper requeues runs whose lease expired (on PostgreSQL one
reaper at a time, under an advisory lock; SQLite's write lock does that already); a run
tried `max_tries` times becomes `error` ("judging failed, not your fault") and is not
charged. Every change a contestant should see is written with an `event` row in the same
transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from judge.service.db import REAPER_LOCK, try_lock, write_transaction
from judge.service.models import Event, Run, RunState, Submission, utcnow

Sessions = Callable[[], Session]
# How many queued runs a claim looks at: others may take the first ones meanwhile.
CLAIM_CANDIDATES = 8


@dataclass(frozen=True)
class Claim:
    """A run a worker holds: valid while `token` is the run's lease token."""

    run_id: int
    submission_id: int
    token: str
    tries: int


class Queued(NamedTuple):
    """A queued run as the broker hears of it: its id, and the queue of its resource."""

    run_id: int
    resource: str


class Moved(NamedTuple):
    """A run the reaper moved: requeued (QUEUED) or given up (ERROR)."""

    run_id: int
    state: RunState
    resource: str


def enqueue(
    session: Session,
    submission: Submission,
    problem_sha256: str | None = None,
    resource: str = "cpu",
) -> Run:
    """Queue a run of `submission` in the caller's transaction, with its event.

    The run is marked published now and handed to the dispatcher once the transaction
    commits (judge.service.dispatch); if that publication is lost, the reaper publishes
    the run again later. problem_sha256: the problem's digest in this process's bank,
    which the worker's must match; resource: what judging needs ("cpu" or "gpu").
    """
    run = Run(
        submission_id=submission.id,
        state=RunState.QUEUED,
        problem_sha256=problem_sha256,
        resource=resource,
    )
    _to_publish(session, run)
    session.add(run)
    session.flush()
    _event(session, run, submission, "queued", {})
    session.info.setdefault(PUBLISH_KEY, []).append(Queued(run.id, resource))
    return run


def claim(
    sessions: Sessions, worker: str, lease_s: float, resources: Sequence[str] = ("cpu",)
) -> Claim | None:
    """Take the oldest queued run that `worker` can judge (its resources), or None."""
    with write_transaction(sessions) as session:
        candidates = session.scalars(
            select(Run.id)
            .where(Run.state == RunState.QUEUED, Run.resource.in_(resources))
            .order_by(Run.queued_at, Run.id)
            .limit(CLAIM_CANDIDATES)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders nothing
        ).all()
        for run_id in candidates:
            if (held := _take(session, run_id, worker, lease_s, resources)) is not None:
                return held
    return None


def claim_run(
    sessions: Sessions,
    run_id: int,
    worker: str,
    lease_s: float,
    resources: Sequence[str] = ("cpu",),
) -> Claim | None:
    """Take run `run_id` if it is still queued and needs a resource `worker` has, else
    None (a duplicate or late message: another worker holds it, or it is done,
    superseded or given up; or a message on the wrong queue)."""
    with write_transaction(sessions) as session:
        return _take(session, run_id, worker, lease_s, resources)


def _take(
    session: Session, run_id: int, worker: str, lease_s: float, resources: Sequence[str]
) -> Claim | None:
    """Compare-and-set one run from queued to running for `worker`, with its event."""
    token = secrets.token_hex(16)
    now = utcnow()
    taken = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.state == RunState.QUEUED, Run.resource.in_(resources))
        .values(
            state=RunState.RUNNING,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=lease_s),
            tries=Run.tries + 1,
            worker=worker,
            started_at=now,
        )
    )
    if _rowcount(taken) != 1:
        return None
    run = session.get_one(Run, run_id)
    session.refresh(run)
    _event(session, run, None, "running", {"worker": worker})
    return Claim(run.id, run.submission_id, token, run.tries)


# session.info key: ids of the runs queued in the session's transaction, published to
# the broker after it commits (judge.service.dispatch).
PUBLISH_KEY = "judge_runs_to_publish"


def _to_publish(session: Session, run: Run) -> None:
    run.dispatched_at = utcnow()
    run.dispatches = 1


def redispatch_due(sessions: Sessions, after_s: float, now: datetime | None = None) -> list[Queued]:
    """The queued runs to publish again, marked published now: those last published
    `after_s` ago (twice that after the second time, ... up to 16 times). One process
    at a time on PostgreSQL (the reaper's lock); an empty list when another holds it."""
    now = now or utcnow()
    due: list[Queued] = []
    with write_transaction(sessions) as session:
        if not try_lock(session, REAPER_LOCK):
            return []
        waiting = session.execute(
            select(Run.id, Run.dispatched_at, Run.dispatches, Run.resource).where(
                Run.state == RunState.QUEUED
            )
        ).all()
        for run_id, dispatched_at, dispatches, resource in waiting:
            wait = after_s * 2 ** min(max(dispatches - 1, 0), 4)
            if dispatched_at is None or (now - dispatched_at).total_seconds() >= wait:
                due.append(Queued(run_id, resource))
        if due:
            session.execute(
                update(Run)
                .where(Run.id.in_([q.run_id for q in due]), Run.state == RunState.QUEUED)
                .values(dispatched_at=now, dispatches=Run.dispatches + 1)
            )
    return due


def renew(sessions: Sessions, held: Claim, lease_s: float) -> bool:
    """Extend the lease of a run still held; False when the lease was lost."""
    with write_transaction(sessions) as session:
        renewed = session.execute(
            update(Run)
            .where(*_held(held))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
        )
        return _rowcount(renewed) == 1


def finish(sessions: Sessions, held: Claim, result: dict[str, Any]) -> bool:
    """Write a run's Result if the lease is still held (fenced); False if it was lost."""
    with write_transaction(sessions) as session:
        done = session.execute(
            update(Run)
            .where(*_held(held))
            .values(
                state=RunState.DONE,
                result=result,
                finished_at=utcnow(),
                lease_token=None,
                lease_expires_at=None,
                error=None,
            )
        )
        if _rowcount(done) != 1:
            return False
        run = session.get_one(Run, held.run_id)
        _event(session, run, None, "done", _verdict_payload(result))
        return True


def give_back(
    sessions: Sessions, held: Claim, reason: str, max_tries: int, count_try: bool = True
) -> RunState | None:
    """Return a held run to the queue after a retryable failure (fenced).

    A run tried `max_tries` times becomes ERROR instead. count_try=False: the worker
    is stopping, or cannot judge this run (another version of its problem), not
    failing; the try is not counted. A requeued run is marked unpublished, so that the
    reaper publishes it at once (judge.service.dispatch). Returns the run's new state,
    or None when the lease was lost.
    """
    with write_transaction(sessions) as session:
        run = session.get(Run, held.run_id)
        if run is None or run.lease_token != held.token or run.state != RunState.RUNNING:
            return None
        tries = run.tries if count_try else run.tries - 1
        state = RunState.ERROR if tries >= max_tries else RunState.QUEUED
        moved = session.execute(
            update(Run)
            .where(*_held(held))
            .values(
                state=state,
                tries=tries,
                lease_token=None,
                lease_expires_at=None,
                error=reason,
                finished_at=utcnow() if state is RunState.ERROR else None,
                dispatched_at=None,
            )
        )
        if _rowcount(moved) != 1:
            return None
        _event(
            session, run, None, str(state), {"reason": reason} if state is RunState.ERROR else {}
        )
        return state


def reap(sessions: Sessions, max_tries: int) -> list[Moved]:
    """Requeue every running run whose lease expired (ERROR after max_tries); return
    each moved run's new state. A requeued run is marked published now: the caller
    publishes it (judge.service.dispatch), so that a broker's copy of its message, held
    by a worker that died, is not what it waits for."""
    moved: list[Moved] = []
    with write_transaction(sessions) as session:
        if not try_lock(session, REAPER_LOCK):
            return moved  # another process is reaping now
        expired = session.scalars(
            select(Run).where(Run.state == RunState.RUNNING, Run.lease_expires_at < utcnow())
        ).all()
        for run in expired:
            state = RunState.ERROR if run.tries >= max_tries else RunState.QUEUED
            reason = f"the worker {run.worker} stopped answering (try {run.tries})"
            published = {"dispatched_at": utcnow(), "dispatches": Run.dispatches + 1}
            changed = session.execute(
                update(Run)
                .where(
                    Run.id == run.id,
                    Run.lease_token == run.lease_token,
                    Run.state == RunState.RUNNING,
                    Run.lease_expires_at < utcnow(),
                )
                .values(
                    state=state,
                    lease_token=None,
                    lease_expires_at=None,
                    error=reason,
                    finished_at=utcnow() if state is RunState.ERROR else None,
                    **(published if state is RunState.QUEUED else {}),
                )
            )
            if _rowcount(changed) == 1:
                moved.append(Moved(run.id, state, run.resource))
                _event(session, run, None, str(state), {"reason": reason})
    return moved


def queue_stats(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Return how many runs are queued and running, and the oldest queued run's wait."""
    now = now or utcnow()
    queued = session.scalars(
        select(Run.queued_at).where(Run.state == RunState.QUEUED).order_by(Run.queued_at)
    ).all()
    running = session.scalars(select(Run.id).where(Run.state == RunState.RUNNING)).all()
    oldest = (now - queued[0]).total_seconds() if queued else 0.0
    return {"queued": len(queued), "running": len(running), "oldest_wait_s": round(oldest, 1)}


def _held(held: Claim) -> tuple[Any, ...]:
    return (Run.id == held.run_id, Run.lease_token == held.token, Run.state == RunState.RUNNING)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _verdict_payload(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("verdict", "score", "max_score", "public_score", "metric")
    keys_more = ("wall_s", "peak_mb", "message")
    return {key: result.get(key) for key in (*keys, *keys_more) if key in result}


def _event(
    session: Session,
    run: Run,
    submission: Submission | None,
    state: str,
    payload: dict[str, Any],
) -> None:
    """Add the event that tells the run's owner its run moved to `state`."""
    if submission is None:
        submission = session.get_one(Submission, run.submission_id)
    session.add(
        Event(
            kind="run",
            user_id=submission.user_id,
            round_id=submission.round_id,
            submission_id=submission.id,
            run_id=run.id,
            payload={"state": state, **payload},
        )
    )


def queue_places(session: Session) -> dict[int, int]:
    """Each queued run's place in the queue (1: claimed next), in the order `claim` takes."""
    waiting = session.scalars(
        select(Run.id).where(Run.state == RunState.QUEUED).order_by(Run.queued_at, Run.id)
    )
    return {run_id: place for place, run_id in enumerate(waiting, 1)}


def rejudge(
    session: Session,
    submission: Submission,
    problem_sha256: str | None = None,
    resource: str = "cpu",
) -> Run:
    """Supersede the submission's current run and queue a new one (caller commits).

    A superseded run still being judged loses its lease: its result is never written.
    """
    session.execute(
        update(Run)
        .where(Run.submission_id == submission.id, Run.state != RunState.SUPERSEDED)
        .values(state=RunState.SUPERSEDED, lease_token=None, lease_expires_at=None)
    )
    return enqueue(session, submission, problem_sha256, resource)
