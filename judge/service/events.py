"""Live updates for the pages: one reader of the event table for every open stream.

Each open `/events` stream (server-sent events) used to poll the database on its own:
60 contestants with their submissions page open made 200 queries a second and, under a
round's load, ran the web process out of database connections. The hub reads the new
events once per tick for all of them and hands each stream its user's events.

A stream subscribes before it catches up (its events after Last-Event-ID, one query),
so no event falls between the two; one it gets twice is dropped by its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from judge.service.models import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Update:
    """One event as a stream sends it."""

    id: int
    submission: int | None
    state: str | None


class EventHub:
    """Reads new events every `poll_s` while any stream is open; fans them out by user."""

    def __init__(self, sessions: Callable[[], Session], poll_s: float) -> None:
        self.sessions = sessions
        self.poll_s = poll_s
        self._streams: dict[int, set[asyncio.Queue[Update]]] = defaultdict(set)
        self._newest = 0  # the newest event read; set when the hub starts
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def follow(self, user_id: int, after: int) -> AsyncIterator[AsyncIterator[Update]]:
        """Yield the user's updates after event `after`, as they come, while open."""
        inbox: asyncio.Queue[Update] = asyncio.Queue()
        self._streams[user_id].add(inbox)
        try:
            await self._running()  # from here on, every new event reaches the inbox
            yield self._updates(user_id, after, inbox)
        finally:
            self._streams[user_id].discard(inbox)
            if not self._streams[user_id]:
                del self._streams[user_id]

    async def _updates(
        self, user_id: int, after: int, inbox: asyncio.Queue[Update]
    ) -> AsyncIterator[Update]:
        # The catch-up runs after the inbox was registered and the hub knew where it
        # stood: events up to there are in the database, later ones come to the inbox.
        for update in await run_in_threadpool(self._read, after, user_id):
            after = update.id
            yield update
        while True:
            update = await inbox.get()
            if update.id > after:
                after = update.id
                yield update

    async def _running(self) -> None:
        async with self._starting:
            if self._task is None or self._task.done():
                self._newest = await run_in_threadpool(self._read_newest)
                self._task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while self._streams:
            try:
                for update, user_id in await run_in_threadpool(self._read_all, self._newest):
                    self._newest = update.id
                    for inbox in self._streams.get(user_id or 0, ()):  # 0: no one's
                        inbox.put_nowait(update)
            except Exception:  # a busy database: the next tick reads from the same place
                log.exception("reading new events failed; trying again")
            await asyncio.sleep(self.poll_s)

    def _read_newest(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.max(Event.id))) or 0)

    def _read_all(self, since: int) -> list[tuple[Update, int | None]]:
        with self.sessions() as session:
            rows = session.execute(
                select(Event.id, Event.user_id, Event.submission_id, Event.payload)
                .where(Event.id > since)
                .order_by(Event.id)
            ).all()
        return [(_update(row.id, row.submission_id, row.payload), row.user_id) for row in rows]

    def _read(self, since: int, user_id: int) -> list[Update]:
        with self.sessions() as session:
            rows = session.execute(
                select(Event.id, Event.submission_id, Event.payload)
                .where(Event.user_id == user_id, Event.id > since)
                .order_by(Event.id)
            ).all()
        return [_update(row.id, row.submission_id, row.payload) for row in rows]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _update(event_id: int, submission: int | None, payload: dict[str, Any]) -> Update:
    return Update(event_id, submission, payload.get("state"))
