"""Waking workers: how a queued run reaches one.

The run table is the truth; a dispatcher only says "run N is waiting". With the default
`poll`, workers poll the table and nothing is published. With `celery` (JUDGE_DISPATCH),
each run id is published to Celery on Redis once the transaction that queued it
commits; the task claims that run in the database and does nothing when the claim fails
(judge.service.tasks), so a duplicated, late or replayed message changes nothing.

A message can also be lost: Redis flushed or restarted without its data, or a crash
between the commit and the publish. The reaper therefore publishes again every run
still queued `redispatch_s` after its last publication (judge.service.queue
.redispatch_due), and a publication that fails (the broker is down) is only logged:
the run waits in the table for the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from judge.service.config import ServiceSettings
from judge.service.queue import PUBLISH_KEY, Queued

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    def publish(self, runs: Sequence[Queued]) -> None:
        """Tell the workers these runs are queued; never raises."""

    def close(self) -> None:
        """Release the connection to the broker, if any."""


class Polling:
    """Workers poll the run table: nothing to publish."""

    def publish(self, runs: Sequence[Queued]) -> None:
        return None

    def close(self) -> None:
        return None


class CeleryDispatcher:
    """Publish each run id to the Celery queue of the resource it needs."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def publish(self, runs: Sequence[Queued]) -> None:
        from judge.service.tasks import TASK_NAME

        for index, (run_id, resource) in enumerate(runs):
            try:  # the queue is named after the resource: cpu, gpu
                self.app.send_task(TASK_NAME, args=[run_id], queue=resource)
            except Exception as exc:  # the broker is down: the reaper publishes them later
                log.warning(
                    "%d run(s) from run %s on not published (%s); the reaper will retry",
                    len(runs) - index,
                    run_id,
                    exc,
                )
                return  # the next would wait as long: leave them all to the reaper

    def close(self) -> None:
        self.app.close()


def make_dispatcher(settings: ServiceSettings) -> Dispatcher:
    if settings.dispatch == "celery":
        from judge.service.tasks import celery_app

        return CeleryDispatcher(celery_app(settings))
    return Polling()


def publish_after_commit(sessions: sessionmaker[Session], dispatcher: Dispatcher) -> None:
    """Publish the runs a session queued (queue.enqueue) once its transaction commits;
    a rolled-back transaction publishes nothing."""

    def committed(session: Session) -> None:
        runs = session.info.pop(PUBLISH_KEY, None)
        if runs:
            dispatcher.publish(runs)

    def rolled_back(session: Session, *_: Any) -> None:
        session.info.pop(PUBLISH_KEY, None)

    event.listen(sessions, "after_commit", committed)
    event.listen(sessions, "after_soft_rollback", rolled_back)
