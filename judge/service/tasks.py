"""Celery on Redis (JUDGE_DISPATCH=celery): the app, its one task, and a worker process.

The message carries only a run id. The task claims that run in the database
(queue.claim_run) and returns at once when the claim fails, so a duplicate, a late
redelivery or a replay does nothing; the database's fenced writes and its tries cap
decide everything else, whatever the broker loses, repeats or delays.

Settings, from the issue's list: JSON only; `acks_late` with `reject_on_worker_lost`
(a message is acknowledged after its task, and given back when the process running it
dies); prefetch 1; one task at a time per worker process, which is one sandbox slot;
a visibility timeout of at least twice the longest wall limit in the bank (Redis
redelivers an unacknowledged message only after it); and a task time limit past which
the process running the task is killed and replaced (the run's lease then expires and
the reaper requeues it). Queues by resource: `cpu`, and `gpu` for problems
that ask for one (`limits.accelerator: gpu`), consumed by workers that offer a GPU
(JUDGE_RESOURCES=gpu or gpu,cpu).

A worker is `celery worker` with the prefork pool and one child: the child, which runs
the tasks, builds its Judge (sandbox, warm pool, scorer) once when it starts, writes its
pid to the worker's pid file when it has one (`judge worker --pid-dir`), and judges with
the same Worker code as the polling workers (judge.service.worker).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from judge.bank import Bank, find_bank
from judge.data import Secret
from judge.runner import Judge
from judge.sandbox import open_sandbox
from judge.service.config import ServiceSettings
from judge.service.db import make_engine, session_factory
from judge.service.worker import Worker, WorkerStopping, stop_signal

log = logging.getLogger(__name__)

TASK_NAME = "judge.run"
CPU_QUEUE = "cpu"  # the default queue; queues are named after resources (cpu, gpu)
# Redis gives an unacknowledged message to another worker only after this; at least
# an hour, and at least twice the longest wall limit.
MIN_VISIBILITY_S = 3600
# A task's hard limit: the longest wall limit, twice, plus staging and scoring.
TASK_SLACK_S = 300
# How long a new task-running child may take to start (sandbox, warm pool, scorer).
CHILD_START_S = 120


def longest_wall_s(bank: Bank) -> float:
    """The longest wall limit of any problem in the bank that runs a program."""
    walls = [p.spec.limits.wall_s for p in bank.problems() if p.spec.runs]
    return max(walls, default=60.0)


def celery_app(settings: ServiceSettings, longest_s: float = 600.0) -> Celery:
    """The Celery app both sides use: the web process publishes, workers consume."""
    app = Celery("judge", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        task_default_queue=CPU_QUEUE,
        task_time_limit=2 * longest_s + TASK_SLACK_S,
        # The child builds its sandbox and warm pool when it starts: give it time.
        worker_proc_alive_timeout=CHILD_START_S,
        broker_transport_options={
            # never shorter than a task may run: Redis would hand it to another worker
            "visibility_timeout": max(MIN_VISIBILITY_S, 2 * longest_s + 2 * TASK_SLACK_S),
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
        },
        # A web request that publishes waits at most about a second for a broker that
        # is down; the reaper publishes the run again later.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
    )
    return app


class _Process:
    """What one task-running child holds: its Worker, built once when it starts."""

    def __init__(self) -> None:
        self.worker: Any = None
        self.stack = ExitStack()


_PROCESS = _Process()


def _build_worker(
    settings: ServiceSettings,
    secret: Secret,
    name: str,
    cores: tuple[int, ...] | None,
    pidfile: Path | None,
) -> None:

    engine = make_engine(settings.url(), small=True)
    _PROCESS.stack.callback(engine.dispose)
    bank = Bank(settings.bank_dir) if settings.bank_dir else find_bank(Path.cwd())
    sandbox = open_sandbox(settings.sandbox, warm=settings.pool).sandbox
    _PROCESS.stack.callback(sandbox.close)
    judge = _PROCESS.stack.enter_context(Judge(bank, sandbox, secret))
    worker = Worker(settings, session_factory(engine), judge, name, cores)
    _PROCESS.worker = worker
    beats = threading.Thread(target=worker.beat_while_idle, name="heartbeat", daemon=True)
    beats.start()
    _PROCESS.stack.callback(worker.stopping.set)
    if pidfile is not None:
        pidfile.write_text(f"{os.getpid()}\n", encoding="ascii")


def judge_run(run_id: int) -> str:
    """The task: judge run `run_id` if it is still queued ("skipped" if not)."""
    worker = _PROCESS.worker
    if worker is None:
        raise RuntimeError("the worker process was not initialised")
    # SIGTERM (judge serve or judge worker stopping): give the run back, untried, and
    # end. Set here, in the task, since the pool resets signals after the child starts.
    signal.signal(signal.SIGTERM, stop_signal)
    try:
        return str(worker.judge_run(int(run_id)))
    except WorkerStopping:  # the run went back to the queue, untried; the pool stops us
        return "given back"


def celery_worker_main(
    settings: ServiceSettings,
    secret: Secret,
    name: str,
    cores: tuple[int, ...] | None = None,
    pidfile: Path | None = None,
) -> None:
    """Run one Celery worker (one sandbox slot, on `cores`) in this process until it is
    stopped; its task-running child writes its pid to `pidfile`."""
    bank = Bank(settings.bank_dir) if settings.bank_dir else find_bank(Path.cwd())
    app = celery_app(settings, longest_wall_s(bank))
    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)(judge_run)

    def _init(**_: Any) -> None:
        _build_worker(settings, secret, name, cores, pidfile)

    def _shutdown(**_: Any) -> None:
        _PROCESS.stack.close()

    worker_process_init.connect(_init, weak=False)
    worker_process_shutdown.connect(_shutdown, weak=False)

    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            f"--queues={','.join(settings.resources)}",
            f"--hostname={name}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
