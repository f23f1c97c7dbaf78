"""`judge serve`: migrate the database, then run the web app, a reaper and N workers.

Workers are separate processes (spawned, each pinned to its own cores with its own
warm pool); the reaper is a thread of the web process. Stopping (Ctrl-C, SIGTERM)
stops the web app first, then each worker gives its current run back to the queue:
no submission is lost, and the next start judges what was left. A worker also stops
(and gives its run back) when the process that started it dies, even by SIGKILL.

`judge serve --workers 0` runs the web app and the reaper alone and `judge worker` runs
workers alone (`work`), so the web process can be restarted while workers go on judging.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select
from uvicorn.supervisors import Multiprocess

from judge.batch import core_slots, usable_cores
from judge.data import Secret
from judge.errors import UsageError
from judge.sandbox.base import gpu_devices
from judge.service import logs, queue
from judge.service.accounts import NewUser, add_user
from judge.service.app import create_app
from judge.service.config import ServiceSettings, service_secret
from judge.service.db import make_engine, session_factory
from judge.service.dispatch import make_dispatcher
from judge.service.migrate import upgrade
from judge.service.models import Role, User
from judge.service.worker import celery_worker, worker_main

log = logging.getLogger(__name__)
FIRST_ORGANISER = "organiser"
# How long a stopping worker may take to give its run back before it is killed.
WORKER_STOP_S = 30.0
# How long open requests (event streams) may take to finish once a stop is asked.
GRACEFUL_S = 3


@dataclass(frozen=True)
class Started:
    """What `serve` tells the person who started it, once."""

    url: str
    secret_source: str
    secret_created: bool
    organiser: NewUser | None  # the first organiser, made on the first start


def prepare(settings: ServiceSettings) -> tuple[Secret, bool, NewUser | None]:
    """Migrate the database, find or make the secret, make the first organiser if none."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.url())
    secret, created = service_secret(settings.data_dir)
    engine = make_engine(settings.url())
    try:
        with session_factory(engine)() as session:
            has_organiser = session.scalars(
                select(User.id).where(User.role == Role.ORGANISER)
            ).first()
            organiser = (
                None if has_organiser else add_user(session, FIRST_ORGANISER, Role.ORGANISER)
            )
    finally:
        engine.dispose()
    return secret, created, organiser


def worker_cores(workers: int) -> list[tuple[int, ...] | None]:
    """Give each worker its own cores when there are enough; else none is pinned."""
    if workers == 0:
        return []
    if workers <= len(usable_cores()):
        return list(core_slots(workers))
    return [None] * workers


class Workers:
    """The worker processes of one service: started, restarted when one dies, stopped."""

    def __init__(self, settings: ServiceSettings, secret: Secret, count: int) -> None:
        if count and "gpu" in settings.resources and not gpu_devices():
            raise UsageError(
                "these workers would offer a GPU (JUDGE_RESOURCES / --resources gpu), but "
                "this machine has none (no /dev/nvidia* devices): offer cpu only"
            )
        self.settings = settings
        self.secret = secret
        self.cores = worker_cores(count)
        if self.cores and self.cores[0] is None and settings.pool:
            log.warning(
                "%d workers on %d cores: workers are not pinned and keep no warm pool",
                count,
                len(usable_cores()),
            )
            self.settings = settings.model_copy(update={"pool": False})
        self._spawn = multiprocessing.get_context("spawn")
        self._host = settings.worker_name or socket.gethostname()
        self.processes: list[Any] = [None] * count
        self._lock = threading.Lock()
        self._stopping = False

    def _start(self, index: int) -> None:
        name = f"{self._host}-{index + 1}"
        args: tuple[Any, ...] = (self.settings, self.secret, name, self.cores[index])
        if self.settings.dispatch == "celery":
            pid_dir = self.settings.pid_dir
            args += (pid_dir / f"worker-{index + 1}.pid" if pid_dir else None,)
        process = self._spawn.Process(
            target=celery_worker if self.settings.dispatch == "celery" else worker_main,
            args=args,
            name=f"judge-worker-{index + 1}",
        )
        process.start()
        self.processes[index] = process

    def start(self) -> None:
        with self._lock:
            for index in range(len(self.processes)):
                self._start(index)

    def restart_dead(self) -> None:
        """Start a new worker in place of any that died (its run is requeued by the reaper)."""
        with self._lock:
            for index, process in enumerate(self.processes):
                if not self._stopping and process is not None and not process.is_alive():
                    log.warning(
                        "worker %d died (exit %s); starting another", index + 1, process.exitcode
                    )
                    self._start(index)

    def stop(self) -> None:
        """SIGTERM each worker (it gives its run back), then wait; kill the stragglers."""
        with self._lock:
            self._stopping = True
            alive = [p for p in self.processes if p is not None]
        for process in alive:
            if process.is_alive():
                if self.settings.dispatch == "celery":  # the task-running child gives
                    _signal_children(process.pid, signal.SIGTERM)  # its run back at once
                process.terminate()
        for process in alive:
            process.join(WORKER_STOP_S)
            if process.is_alive():
                process.kill()
                process.join()


def _signal_children(pid: int, signum: int) -> None:
    """Send `signum` to the direct children of process `pid` (Linux /proc)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return
    for child in listed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signum)


def serve(
    settings: ServiceSettings,
    host: str,
    port: int,
    workers: int,
    announce: Callable[[Started], None],
    web_processes: int = 1,
) -> None:
    """Run the service in the foreground until SIGINT or SIGTERM.

    web_processes > 1: that many processes answer requests on one listening socket
    (uvicorn's supervisor); the reaper and the workers stay in this process's care.
    """
    logs.configure("web")
    secret, created, organiser = prepare(settings)
    pool = Workers(settings, secret, workers)
    stop = threading.Event()
    engine = make_engine(settings.url(), small=True)  # the reaper's
    keeper = threading.Thread(
        target=_keep, args=(session_factory(engine), settings, pool, stop), name="reaper"
    )
    config = uvicorn.Config(
        partial(create_app, settings, secret),
        factory=True,
        host=host,
        port=port,
        workers=web_processes,
        log_level="warning",
        # Open event streams would hold a graceful shutdown forever: cut them.
        timeout_graceful_shutdown=GRACEFUL_S,
    )
    pool.start()
    keeper.start()
    try:
        announce(Started(f"http://{host}:{port}/", secret.source, created, organiser))
        if web_processes > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            uvicorn.Server(config).run()
    finally:
        stop.set()
        keeper.join()
        pool.stop()
        engine.dispose()


def work(settings: ServiceSettings, workers: int, announce: Callable[[str], None]) -> None:
    """Run only workers (`judge worker`) in the foreground until SIGINT or SIGTERM.

    They judge from the same database as a `judge serve` elsewhere (with `--workers 0`,
    or with workers of its own); that web process's reaper requeues what they drop.
    """
    logs.configure("workers")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.url())
    secret, created = service_secret(settings.data_dir)
    if created:
        announce(f"wrote a new random secret to {secret.source}")
    pool = Workers(settings, secret, workers)
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    pool.start()
    announce(f"{workers} worker(s) judging from {settings.url()}  (Ctrl-C stops)")
    try:
        while not stop.wait(1.0):
            pool.restart_dead()
    finally:
        pool.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _keep(
    sessions: queue.Sessions, settings: ServiceSettings, workers: Workers, stop: threading.Event
) -> None:
    """Requeue runs whose lease expired, publish again the runs whose message may be
    lost (celery dispatch), and replace dead workers, until `stop`."""
    dispatcher = make_dispatcher(settings)
    try:
        while not stop.wait(min(1.0, settings.lease_s / 3)):
            try:
                moved = queue.reap(sessions, settings.max_tries)
                if moved:
                    log.warning("requeued %d run(s) whose worker stopped answering", len(moved))
                    dispatcher.publish(
                        [queue.Queued(m.run_id, m.resource) for m in moved if m.state == "queued"]
                    )
                if settings.dispatch != "poll":
                    again = queue.redispatch_due(sessions, settings.redispatch_s)
                    if again:
                        log.warning("published %d queued run(s) again", len(again))
                        dispatcher.publish(again)
                workers.restart_dead()
            except Exception:  # a busy database: the next round tries again
                log.exception("the reaper failed; going on")
    finally:
        dispatcher.close()
