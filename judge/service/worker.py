"""A worker process: claim a run, judge it with the Judge object, write the result fenced.

Each worker is pinned to its own cores (the cores of one judging slot) and keeps its
own warm pool there. While it judges, a heartbeat thread renews the run's lease; if
the lease is lost (the worker was stopped too long), the result it writes afterwards
changes nothing. A retryable outcome (the sandbox or the scorer failed) goes back to
the queue; SIGTERM or Ctrl-C gives the current run back without counting a try.
"""

from __future__ import annotations

import contextvars
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from judge.bank import Bank, find_bank
from judge.batch import cores_for
from judge.data import Secret
from judge.errors import InvalidSource, JudgeError
from judge.runner import Judge, unjudged_result
from judge.sandbox import open_sandbox
from judge.service import logs, queue
from judge.service.config import ServiceSettings
from judge.service.contests import RoundFiles
from judge.service.db import make_engine, session_factory, write_transaction
from judge.service.models import Round as RoundRow
from judge.service.models import Run, Submission, User, WorkerBeat, utcnow
from judge.verdicts import Retry, Verdict

log = logging.getLogger(__name__)
# How long a worker waits before it tries an unreachable database again.
DATABASE_RETRY_S = 1.0
# How long a worker whose copy of a problem differs pauses after giving a run of it back,
# so that a worker with the web's version takes it first.
STALE_BANK_PAUSE_S = 5.0
WriteResult = TypeVar("WriteResult")


class WorkerStopping(BaseException):
    """Raised in a worker's main thread by SIGTERM or SIGINT: give the run back, exit."""


class Worker:
    """Claims and judges runs until stopped. judge: the Judge runs are judged with."""

    def __init__(
        self,
        settings: ServiceSettings,
        sessions: Callable[[], Session],
        judge: Judge,
        name: str,
        cores: tuple[int, ...] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.judge = judge
        self.name = name
        self.cores = cores
        self.rounds = RoundFiles(judge.bank, settings.data_dir)
        self.stopping = threading.Event()
        self._judging: int | None = None  # the run being judged

    def run_forever(self) -> None:
        """Judge runs until `stopping` is set (or WorkerStopping is raised)."""
        self._beat("idle", None)
        last_beat = time.monotonic()
        while not self.stopping.is_set():
            try:
                if not self.work_once():
                    if time.monotonic() - last_beat >= self.settings.heartbeat_s:
                        self._beat("idle", None)
                        last_beat = time.monotonic()
                    self.stopping.wait(self.settings.poll_s)
            except DBAPIError as exc:  # the database restarts: wait for it, lose nothing
                log.warning("the database is unreachable (%s); trying again", exc.orig)
                self.stopping.wait(DATABASE_RETRY_S)
        self._beat("stopped", None)

    def work_once(self) -> bool:
        """Claim and judge one run; False when the queue was empty."""
        held = queue.claim(self.sessions, self.name, self.settings.lease_s, self.settings.resources)
        if held is None:
            return False
        self.work_on(held)
        return True

    def judge_run(self, run_id: int) -> str:
        """Claim run `run_id` and judge it (Celery's task): "judged", or "skipped" when
        it is no longer queued (a duplicate or late message: nothing to do).

        While the database cannot be reached the claim is tried again for a lease's
        time; after that the message is dropped, and the reaper publishes the run again.
        """
        deadline = time.monotonic() + self.settings.lease_s
        while True:
            try:
                held = queue.claim_run(
                    self.sessions, run_id, self.name, self.settings.lease_s, self.settings.resources
                )
                break
            except DBAPIError as exc:
                if time.monotonic() > deadline:
                    log.warning(
                        "run %s: the database is unreachable (%s); left queued", run_id, exc.orig
                    )
                    return "skipped"
                self.stopping.wait(DATABASE_RETRY_S)
        if held is None:
            with logs.judging(run_id):
                log.info(
                    "run %s: not queued any more, or needs what this worker lacks "
                    "(it offers %s); this message changes nothing",
                    run_id,
                    ", ".join(self.settings.resources),
                )
            return "skipped"
        self.work_on(held)
        return "judged"

    def work_on(self, held: queue.Claim) -> None:
        """Judge a claimed run, renewing its lease, and write its result fenced; every
        log line meanwhile carries the run's id (judge.service.logs)."""
        with logs.judging(held.run_id):
            log.info("judging run %s (try %s)", held.run_id, held.tries)
            self._work_on(held)

    def _work_on(self, held: queue.Claim) -> None:
        self._beat("judging", held.run_id)
        if (stale := self._stale_problem(held)) is not None:
            # Never judge against other data: give the run back, untried, for a worker
            # that holds the web's version of the problem, and let it take it first.
            log.error("run %s: %s", held.run_id, stale)
            self._write(
                lambda: queue.give_back(
                    self.sessions, held, stale, self.settings.max_tries, count_try=False
                ),
                held,
            )
            self.stopping.wait(STALE_BANK_PAUSE_S)
            self._beat("idle", None)
            return
        renewing = threading.Event()
        heart = threading.Thread(  # in this context: its lines carry the run id too
            target=contextvars.copy_context().run,
            args=(self._renew, held, renewing),
            daemon=True,
        )
        heart.start()
        try:
            outcome = self._judge(held)
        except WorkerStopping:
            self.stopping.set()  # stop claiming, even if giving the run back fails
            renewing.set()
            self._write(
                lambda: queue.give_back(
                    self.sessions, held, "the worker stopped", self.settings.max_tries, False
                ),
                held,
            )
            raise
        except Exception as exc:  # a judge bug: retried, then "judging failed"
            log.exception("judging run %s failed", held.run_id)
            renewing.set()
            reason = f"{type(exc).__name__}: {exc}"
            self._write(
                lambda: queue.give_back(self.sessions, held, reason, self.settings.max_tries),
                held,
            )
            return
        finally:
            renewing.set()
            heart.join()
        if isinstance(outcome, Retry):
            retry = outcome
            state = self._write(
                lambda: queue.give_back(self.sessions, held, retry.reason, self.settings.max_tries),
                held,
            )
            log.warning("run %s: %s; now %s", held.run_id, outcome.reason, state)
        elif not self._write(lambda: queue.finish(self.sessions, held, outcome), held):
            log.warning("run %s: the lease was lost before the result; it was dropped", held.run_id)
        else:
            log.info("run %s: %s", held.run_id, outcome.get("verdict"))
        self._beat("idle", None)

    def _write(self, write: Callable[[], WriteResult], held: queue.Claim) -> WriteResult | None:
        """Do a fenced write of the run's outcome; while the database cannot be reached,
        try again until the lease would have run out (then the reaper has the run, and
        the outcome is dropped: None)."""
        deadline = time.monotonic() + self.settings.lease_s
        while True:
            try:
                return write()
            except DBAPIError as exc:
                if time.monotonic() > deadline:
                    log.warning(
                        "run %s: the database stayed unreachable (%s); the outcome is "
                        "dropped and the run will be judged again",
                        held.run_id,
                        exc.orig,
                    )
                    return None
                time.sleep(DATABASE_RETRY_S)

    def _stale_problem(self, held: queue.Claim) -> str | None:
        """Why this worker must not judge the run (its copy of the problem differs from
        the web's when the run was queued), or None."""
        with self.sessions() as session:
            slug = session.get_one(Submission, held.submission_id).slug
            wanted = session.get_one(Run, held.run_id).problem_sha256
        if wanted is None or (mine := self.rounds.digest(slug)) == wanted:
            return None
        return (
            f"worker {self.name} holds another version of {slug} "
            f"({mine[:12]}, the run needs {wanted[:12]}): update its bank"
        )

    def _judge(self, held: queue.Claim) -> dict[str, Any] | Retry:
        with self.sessions() as session:
            submission = session.get_one(Submission, held.submission_id)
            contestant = session.get_one(User, submission.user_id).name
            slug, filename, content = submission.slug, submission.filename, submission.content
            contest = session.get(RoundRow, submission.round_id) if submission.round_id else None
            round_name = contest.name if contest else None
        # A round's problems carry the round's public split (judge.rounds.roundfile).
        problem = (
            self.rounds.load(round_name).problems[slug]
            if round_name
            else self.judge.bank.problem(slug)
        )
        sandbox = self.judge.sandbox.name
        cpuset = cores_for(self.cores, problem.spec.cpus) if self.cores else None
        with tempfile.TemporaryDirectory(prefix="judge-submission-") as folder:
            path = Path(folder) / Path(filename).name
            path.write_bytes(content)
            try:
                outcome = self.judge.judge(problem, path, contestant, cpuset)
            except InvalidSource as exc:
                why = str(exc).replace(str(path), filename)
                return unjudged_result(problem, Verdict.CE, why, sandbox).to_dict()
            except JudgeError as exc:  # a broken problem: final, never the contestant's fault
                log.error("run %s: %s", held.run_id, exc)
                return unjudged_result(problem, Verdict.IE, str(exc), sandbox).to_dict()
        return outcome if isinstance(outcome, Retry) else outcome.to_dict()

    def _renew(self, held: queue.Claim, done: threading.Event) -> None:
        while not done.wait(self.settings.heartbeat_s):
            try:
                if not queue.renew(self.sessions, held, self.settings.lease_s):
                    log.warning("run %s: lease lost", held.run_id)
                    return
                self._beat("judging", held.run_id)
            except Exception:  # a busy database: the next beat tries again
                log.exception("cannot renew the lease of run %s", held.run_id)

    def beat_while_idle(self) -> None:
        """Beat "idle" every heartbeat while no run is judged, until stopping (a Celery
        child, which has no loop of its own between tasks)."""
        while not self.stopping.wait(self.settings.heartbeat_s):
            if self._judging is None:
                try:
                    self._beat("idle", None)
                except Exception:  # a busy database: the next beat tries again
                    log.exception("cannot beat")

    def _beat(self, state: str, run_id: int | None) -> None:
        self._judging = run_id
        with write_transaction(self.sessions) as session:
            session.merge(
                WorkerBeat(
                    name=self.name, pid=os.getpid(), state=state, run_id=run_id, beat_at=utcnow()
                )
            )


def stop_signal(signum: int, frame: object) -> None:
    """The handler of SIGTERM and SIGINT in a judging process: give the run back, stop."""
    raise WorkerStopping(signal.Signals(signum).name)


# prctl(2): deliver a signal to this process when the thread that started it ends.
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """Get SIGTERM (give the run back, exit) when the process that started this one dies.

    Without it a worker outlives a `judge serve` killed with SIGKILL and judges on beside
    the next start's workers. On Linux the signal follows the thread that started the
    worker: `Workers` starts them from the main thread or the reaper, both of which end
    only when the service stops, when the workers are stopped anyway.
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("cannot follow the parent process (errno %d)", ctypes.get_errno())
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the prctl
        raise WorkerStopping("the service stopped")


def worker_main(
    settings: ServiceSettings, secret: Secret, name: str, cores: tuple[int, ...] | None
) -> None:
    """The entry of a worker process started by `judge serve` (multiprocessing, spawn)."""
    logs.configure(name)
    signal.signal(signal.SIGTERM, stop_signal)
    signal.signal(signal.SIGINT, stop_signal)
    try:
        _stop_with_parent()
    except WorkerStopping:
        return
    if cores:
        os.sched_setaffinity(0, cores)  # the warm pool starts its slots on these cores
    engine: Engine = make_engine(settings.url(), small=True)
    bank = Bank(settings.bank_dir) if settings.bank_dir else find_bank(Path.cwd())
    try:
        sandbox = open_sandbox(settings.sandbox, warm=settings.pool).sandbox
        with closing(sandbox), Judge(bank, sandbox, secret) as judge:
            Worker(settings, session_factory(engine), judge, name, cores).run_forever()
    except WorkerStopping:
        pass
    finally:
        engine.dispose()


def celery_worker(
    settings: ServiceSettings,
    secret: Secret,
    name: str,
    cores: tuple[int, ...] | None,
    pidfile: Path | None = None,
) -> None:
    """The entry of a Celery worker process (JUDGE_DISPATCH=celery) started by `judge
    serve` or `judge worker`: one slot, pinned to its cores (judge.service.tasks)."""
    logs.configure(name)
    try:
        _stop_with_parent()  # SIGTERM, Celery's warm shutdown, when `judge serve` dies
    except WorkerStopping:
        return
    if cores:
        os.sched_setaffinity(0, cores)
    from judge.service.tasks import celery_worker_main

    celery_worker_main(settings, secret, name, cores, pidfile)
