"""A warm pool of single-use sandboxes, kept inside a backend (docker, bwrap).

    sandbox = WarmPool(DockerSandbox.open())   # still one `run(...)`, plus close()
    facts = sandbox.run(command, mounts, limits, env)

Each slot is a sandbox of the backend started ahead of time: its interpreter runs
the agent (judge/sandbox/warm_agent.py), which imports numpy, torch and
scikit-learn and then blocks on stdin. A run is handed to a ready slot: the run's
read-only folders are copied (hard-linked where they can be) into the slot's own
folders, the run's limits are applied to the slot (memory, pids, cores, CPU
weight), and the hand-off line (the script, its arguments and environment) is
written to the agent, which runs the script as `__main__`. Wall time is measured
by the host from the hand-off to the exit, CPU time and peak memory from the
slot's cgroup counters taken at the hand-off and at the end. The memory the
pre-imported stack holds at the hand-off is added to the run's memory limit and
left out of its peak: a warm run has its limit for its own work. The run's outputs
are copied back into its writable folder with the same care the scorer reads them
with (judge.sandbox.workspace.copy_untrusted_tree). The slot is destroyed after
that one run: nothing a submission leaves behind (files, processes, patched
modules, shared memory) can reach another run.

Slots are started by one keeper thread, at a low CPU weight, on a core no run of
this pool has used for REFILL_IDLE_S and that the kernel saw mostly idle
(REFILL_IDLE_SHARE); while every core is busy, refills wait. So the pool cuts
latency, not throughput: a slot pays the imports a cold run would pay, on a core
that would otherwise be idle. A batch with as many jobs as cores leaves none idle
and runs (almost) all cold. A run the pool cannot serve warm (another interpreter
or command shape, other mounts, another core count, pids or scratch size than the
pool's `SlotShape`, or no ready slot) starts cold in the backend, exactly as
without a pool. A slot that died while waiting (OOM, engine restart) is noticed at
hand-off: the agent never says GO, and the run goes to another slot or to a cold
start, never to the contestant as an error.

What a warm run can tell apart from a cold one: the pre-imported modules are in
sys.modules (their imports are instant) and the interpreter's command line is the
agent's. What its limits leave out: the imports' time and memory, so a file close
to its wall or memory limit can pass warm and fail cold; validate and calibrate
measure the reference cold, so that limits hold for a cold start.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from judge.errors import SandboxError
from judge.sandbox.base import (
    OUTPUT_DIR,
    WORK_DIR,
    Limits,
    Mount,
    RunFacts,
    last_line,
    sandbox_env,
)
from judge.sandbox.slots import (
    SLOT_TARGETS,
    Handoff,
    Slot,
    SlotBackend,
    SlotFolders,
    SlotShape,
    SlotState,
)
from judge.sandbox.workspace import copy_untrusted_tree, resize_capped

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# How long a run waits for a starting slot before it starts cold instead: only for a
# slot expected ready by then (from how long slots have taken; SLOT_READY_S before any).
WAIT_FOR_SLOT_S = 0.5
SLOT_READY_S = 2.0
# Slots a run tries before it starts cold, when the ones it took had died.
MAX_SLOT_TRIES = 3
# After a slot fails to start, refills wait this long, doubling per failure up to the cap.
BACKOFF_S = 1.0
BACKOFF_MAX_S = 60.0
# A core must have been free of runs this long before a slot is started on it: the gap
# between one batch run and the next on a core is not idle time.
REFILL_IDLE_S = 0.5
# ... and idle this share of the time by the kernel's count (/proc/stat) over the last
# sample: the judge's own work around a run (staging data, scoring) and anything else on
# the machine count as busy too.
REFILL_IDLE_SHARE = 0.8
STAT_PERIOD_S = 0.5
PROC_STAT = Path("/proc/stat")


def parse_proc_stat(text: str) -> dict[int, tuple[int, int]]:
    """Return each core's (idle, total) jiffies from the text of /proc/stat."""
    times = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name[3:].isdigit():
            fields = [int(x) for x in rest.split()[:8]]
            times[int(name[3:])] = (fields[3] + fields[4], sum(fields))  # idle + iowait
    return times


class CoreIdleness:
    """The share of time each core was idle over the last STAT_PERIOD_S, by /proc/stat.

    Without /proc/stat every core counts as idle, so a host that hides the counters
    still gets refills, paced by the pool's own runs; with it, a core without a fresh
    share (the first sample, a stale one) counts as busy until the next.
    """

    def __init__(self, path: Path = PROC_STAT) -> None:
        self._path = path
        self._last: dict[int, tuple[int, int]] = {}
        self._at = 0.0
        self._shares: dict[int, float] = {}
        self._known = False

    def sample(self) -> None:
        """Take a new sample if the last is STAT_PERIOD_S old (the keeper calls this often).

        Shares over an interval longer than twice that are dropped: an average over
        minutes says nothing of now.
        """
        now = time.monotonic()
        if now - self._at < STAT_PERIOD_S:
            return
        try:
            sample = parse_proc_stat(self._path.read_text())
        except OSError:
            sample = {}
        shares = {}
        if now - self._at <= 2 * STAT_PERIOD_S:
            for cpu, (idle, total) in sample.items():
                before = self._last.get(cpu)
                if before is not None and total > before[1]:
                    shares[cpu] = (idle - before[0]) / (total - before[1])
        self._last, self._at, self._shares = sample, now, shares
        self._known = bool(sample)

    def share(self, core: int) -> float:
        """Return the idle share of `core` over the last sample (1.0 without /proc/stat).

        A core without a fresh share (the first sample, a stale one) counts as busy.
        """
        self.sample()
        if not self._known:
            return 1.0
        return self._shares.get(core, 0.0)


@dataclass
class _Entry:
    slot: Slot
    folders: SlotFolders
    started: float
    ready_after: float | None = None


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class WarmPool:
    """A backend with a pool of warm single-use slots in front of it (module doc).

    size: slots kept started (default: one per usable core). cores: the host cores
    runs may use (default: this process's affinity). idleness: how busy each core is
    (default: /proc/stat). Close it (or use `with`) to destroy the slots.
    """

    def __init__(
        self,
        backend: SlotBackend,
        size: int | None = None,
        shape: SlotShape | None = None,
        cores: Sequence[int] | None = None,
        wait_s: float = WAIT_FOR_SLOT_S,
        idleness: CoreIdleness | None = None,
    ) -> None:
        self.backend = backend
        self.name = backend.name
        self.isolates = backend.isolates
        self.identity = backend.identity
        self.shape = shape or SlotShape()
        self._cores = tuple(sorted(cores if cores is not None else os.sched_getaffinity(0)))
        self.size = len(self._cores) if size is None else size
        self._wait_s = wait_s
        self._slots: list[_Entry] = []
        self._retired: list[_Entry] = []
        self._busy: Counter[int] = Counter()
        self._idle_since = dict.fromkeys(self._cores, time.monotonic() - REFILL_IDLE_S)
        self._idle_share = idleness or CoreIdleness()
        self._starting: Counter[int] = Counter()
        self._output_mb = self.shape.output_mb
        self._failures = 0
        self._resume_at = 0.0
        self._ready_times: list[float] = []
        self._closed = False
        self._cond = threading.Condition()
        self._keeper = threading.Thread(target=self._keep, name="warm-pool", daemon=True)
        if self.size > 0:
            self._keeper.start()

    @property
    def python(self) -> str:
        return self.backend.python

    # ---- the one run method -------------------------------------------------

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        """Run in a warm slot if one fits and is ready, else cold in the backend."""
        handoff = self._handoff(command, mounts, limits, env)
        self._occupy(limits.cpuset, +1)
        if handoff is not None:
            with self._cond:
                self._output_mb = limits.output_mb  # new slots' output folders fit it
        try:
            if handoff is not None:
                for _ in range(MAX_SLOT_TRIES):
                    entry = self._take()
                    if entry is None:
                        break
                    try:
                        facts = self._run_in(entry, handoff, mounts, limits)
                    finally:
                        self._retire(entry)
                    if facts is not None:
                        return facts
                    log.warning(
                        "a warm %s slot died before its run started (%s); trying another",
                        self.name,
                        last_line(entry.slot.agent_log()),
                    )
            return self.backend.run(command, mounts, limits, env)
        finally:
            self._occupy(limits.cpuset, -1)

    def cold(self) -> ColdRuns:
        """Return this pool as a sandbox whose every run starts cold.

        Its runs still count as busy cores, so no slot starts beside them.
        """
        return ColdRuns(self)

    def run_cold(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        """Run cold in the backend, with the run's cores counted busy."""
        self._occupy(limits.cpuset, +1)
        try:
            return self.backend.run(command, mounts, limits, env)
        finally:
            self._occupy(limits.cpuset, -1)

    def _handoff(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> Handoff | None:
        """Return the hand-off of a run a slot can take, or None to run it cold."""
        if self.size <= 0 or not self.shape.fits(limits) or limits.gpu:
            return None  # a GPU run starts cold, with the devices its slot lacks
        if len(command) < 3 or command[0] != self.python or command[1] != "-I":
            return None
        if not command[2].startswith("/"):  # `-c code`, `-m module`: not a script
            return None
        for mount in mounts:
            if SLOT_TARGETS.get(mount.target) is not mount.writable or not mount.source.is_dir():
                return None
            if mount.writable and any(mount.source.iterdir()):
                return None
        return Handoff(
            argv=list(command[2:]),
            env=sandbox_env(env, limits),
            cwd=WORK_DIR,
            fsize=limits.output_mb * MIB,
        )

    def _run_in(
        self, entry: _Entry, handoff: Handoff, mounts: Sequence[Mount], limits: Limits
    ) -> RunFacts | None:
        folders = entry.folders
        try:
            for mount in mounts:
                if not mount.writable:
                    shutil.copytree(
                        mount.source,
                        folders.paths[mount.target],
                        symlinks=True,
                        dirs_exist_ok=True,
                        copy_function=_link_or_copy,
                    )
            if limits.output_mb != folders.output_mb:
                resize_capped(folders.paths[OUTPUT_DIR], limits.output_mb)
                folders.output_mb = limits.output_mb
        except OSError as exc:
            raise SandboxError(f"cannot stage a run in a warm slot: {exc}") from exc
        facts = entry.slot.run(handoff, folders.mounts(), limits)
        if facts is None:
            return None
        if not facts.output_truncated:
            for mount in mounts:
                if mount.writable:
                    try:
                        copy_untrusted_tree(
                            folders.paths[mount.target], mount.source, limits.output_mb * MIB
                        )
                    except OSError as exc:
                        raise SandboxError(f"cannot copy a warm run's outputs: {exc}") from exc
        return replace(facts, warm=True)

    # ---- slots ----------------------------------------------------------------

    def _occupy(self, cores: Sequence[int], step: int) -> None:
        with self._cond:
            for core in cores:
                self._busy[core] += step
                if self._busy[core] <= 0:
                    del self._busy[core]
                    self._idle_since[core] = time.monotonic()
            self._cond.notify_all()

    def _take(self) -> _Entry | None:
        """Return a ready slot, waiting briefly for a starting one; None if there is none."""
        deadline = time.monotonic() + self._wait_s
        with self._cond:
            while True:
                states = [(entry, entry.slot.state()) for entry in self._slots]
                for entry, state in states:
                    if state is SlotState.READY:
                        self._slots.remove(entry)
                        self._note_ready(entry)
                        self._cond.notify_all()  # the keeper starts a replacement
                        return entry
                left = deadline - time.monotonic()
                soonest = self._soonest_ready(states)
                if soonest is None or soonest > left or self._closed:
                    return None  # a cold start is sooner than any slot can be ready
                self._cond.wait(min(left, 0.01))

    def _soonest_ready(self, states: list[tuple[_Entry, SlotState]]) -> float | None:
        """Return in how many seconds a slot is expected ready, or None if none is coming.

        Expected from the median time slots took to become ready so far (SLOT_READY_S
        before the first); a slot the keeper has yet to start counts from now.
        """
        typical = statistics.median(self._ready_times) if self._ready_times else SLOT_READY_S
        now = time.monotonic()
        starting = [entry for entry, state in states if state is SlotState.STARTING]
        expected = [max(0.0, typical - (now - entry.started)) for entry in starting]
        live = sum(state is not SlotState.DEAD for _, state in states)
        due = live + self._starting.total() < self.size  # a refill is due
        if self._starting.total() > 0 or (due and now >= self._resume_at):
            expected.append(typical)  # once the keeper finds an idle core
        return min(expected, default=None)

    def _note_ready(self, entry: _Entry) -> None:
        if entry.ready_after is None:
            entry.ready_after = time.monotonic() - entry.started
            self._ready_times = [*self._ready_times[-49:], entry.ready_after]

    def _retire(self, entry: _Entry) -> None:
        with self._cond:
            if not self._closed:
                self._retired.append(entry)
                self._cond.notify_all()
                return
        _destroy(entry)  # the keeper is gone

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every slot of the pool is ready; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                full = len(self._slots) >= self.size and not self._starting.total()
                if full and all(e.slot.state() is SlotState.READY for e in self._slots):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._cond.wait(min(left, 0.02))

    def ready_seconds(self) -> float | None:
        """Return the median time a slot took from its start to ready, so far."""
        with self._cond:
            return statistics.median(self._ready_times) if self._ready_times else None

    def _keep(self) -> None:
        """The keeper thread: destroy used slots, start new ones on idle cores."""
        while True:
            try:
                if self._keep_once():
                    return
            except Exception:  # the keeper must live on: a bug here costs warm starts only
                log.exception("the warm %s pool's keeper failed; going on", self.name)
                with self._cond:
                    self._failed("the keeper failed")

    def _keep_once(self) -> bool:
        """Destroy retired slots or start one; return True once the pool is closed."""
        with self._cond:
            core = None
            while not self._closed:
                self._idle_share.sample()
                self._notice_states()
                if self._retired:
                    break
                core = self._free_core()
                if core is not None:
                    self._starting[core] += 1
                    break
                self._cond.wait(0.05)
            if self._closed:
                return True
            retired, self._retired = self._retired, []
        for entry in retired:
            _destroy(entry)
        if core is not None:
            self._start(core)
        return False

    def _notice_states(self) -> None:
        """Note slots that became ready; drop dead ones (a failure if never ready)."""
        for entry in list(self._slots):
            state = entry.slot.state()
            if state is SlotState.READY and entry.ready_after is None:
                self._note_ready(entry)
                self._failures = 0
                self._cond.notify_all()
            elif state is SlotState.DEAD:
                self._slots.remove(entry)
                self._retired.append(entry)
                if not entry.slot.became_ready():
                    self._failed(entry.slot.agent_log())
                else:
                    log.warning("an idle warm %s slot died; replacing it", self.name)

    def _free_core(self) -> int | None:
        """Return a core to start a slot on, or None while the pool is full or all are busy."""
        if len(self._slots) + self._starting.total() >= self.size:
            return None
        if time.monotonic() < self._resume_at:
            return None
        now = time.monotonic()
        idle = [
            core
            for core in self._cores
            if self._busy[core] == 0
            and now - self._idle_since[core] >= REFILL_IDLE_S
            and self._idle_share.share(core) >= REFILL_IDLE_SHARE
        ]
        if not idle:
            return None
        load = Counter(self._starting)
        return min(reversed(idle), key=lambda core: load[core])

    def _start(self, core: int) -> None:
        folders = None
        try:
            folders = SlotFolders.create(self._output_mb)
            started = time.monotonic()
            slot = self.backend.start_slot(self.shape, (core,), folders.mounts())
        except Exception as exc:  # a failed refill only costs warm starts, never a run
            if folders is not None:
                folders.close()
            with self._cond:
                self._starting[core] -= 1
                self._failed(str(exc))
            return
        with self._cond:
            self._starting[core] -= 1
            closed = self._closed
            if not closed:
                self._slots.append(_Entry(slot, folders, started))
            self._cond.notify_all()
        if closed:
            _destroy(_Entry(slot, folders, started))

    def _failed(self, reason: str) -> None:
        self._failures += 1
        pause = min(BACKOFF_S * 2 ** (self._failures - 1), BACKOFF_MAX_S)
        self._resume_at = time.monotonic() + pause
        log.warning(
            "a warm %s slot failed to start (%s); next try in %.0f s",
            self.name,
            last_line(reason),
            pause,
        )

    # ---- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Stop refilling and destroy every slot."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._keeper.is_alive():
            self._keeper.join()
        with self._cond:
            entries, self._slots = self._slots + self._retired, []
            self._retired = []
        for entry in entries:
            _destroy(entry)
        self.backend.close()

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict[str, Any]:
        """Return the pool's state: slots by state, starting, busy cores, idle slots' MiB."""
        with self._cond:
            entries = [(entry.slot, entry.slot.state()) for entry in self._slots]
            busy = sorted(self._busy)
            starting = self._starting.total()
        idle = [slot.memory_bytes() for slot, state in entries if state is SlotState.READY]
        return {
            "slots": dict(Counter(str(state) for _, state in entries)),
            "starting": starting,
            "busy_cores": busy,
            "ready_slot_mb": [round(b / MIB, 1) for b in idle if b is not None],
        }


class ColdRuns:
    """A warm pool seen as a sandbox that runs everything cold (WarmPool.cold)."""

    def __init__(self, pool: WarmPool) -> None:
        self.pool = pool
        self.name = pool.name
        self.isolates = pool.isolates
        self.identity = pool.identity

    @property
    def python(self) -> str:
        return self.pool.python

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        return self.pool.run_cold(command, mounts, limits, env)

    def close(self) -> None:
        """Nothing to let go of: the pool is closed by its owner."""


def _destroy(entry: _Entry) -> None:
    try:
        entry.slot.destroy()
        entry.folders.close()
    except Exception:  # never raise: a leftover is logged
        log.exception("could not destroy a warm slot")
