"""What a backend implements to serve a warm pool (judge.sandbox.pool): the slot.

A slot is one sandbox of the backend started ahead of time, whose interpreter runs
the agent (judge/sandbox/warm_agent.py) and waits for one run. This module holds the
protocol between the pool, the backends and the agent: the shape every slot of a pool
is made for (SlotShape), the hand-off line (Handoff), the agent's markers in its
output (AgentOutput), a slot's life (SlotState, Slot), what a backend adds to serve
slots (SlotBackend) and a slot's host folders (SlotFolders). Docker and bwrap
implement Slot; the pool holds the policy (when to start, which run goes where).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from judge.sandbox import warm_agent
from judge.sandbox.base import (
    CODE_DIR,
    DATA_DIR,
    OUTPUT_DIR,
    Limits,
    Mount,
    RunFacts,
    Tail,
)
from judge.sandbox.workspace import capped_directory, run_folder

AGENT_SOURCE = Path(warm_agent.__file__).read_text(encoding="utf-8")
# Bytes of an agent's own stderr (before the hand-off) kept to explain a failed slot.
AGENT_LOG_BYTES = 4096


def agent_command(python: str) -> list[str]:
    """Return the command that starts a slot's agent with the interpreter `python`."""
    return [python, "-I", "-c", AGENT_SOURCE]


@dataclass(frozen=True)
class SlotShape:
    """What every slot of a pool is made for; a run of another shape starts cold.

    cpus: a slot is one core (its thread pools are sized when the stack is imported).
    output_mb: the largest output cap a warm run may have (the slot's file-size
    limit; the agent lowers it to the run's). idle_memory_mb: the memory limit of a
    slot while it imports and waits.
    """

    cpus: int = 1
    pids: int = Limits.pids
    tmp_mb: int = Limits.tmp_mb
    output_mb: int = Limits.output_mb
    idle_memory_mb: int = 2048

    def __post_init__(self) -> None:
        if self.cpus != 1:
            raise ValueError("a warm slot is one core: runs on more cores start cold")

    def fits(self, limits: Limits) -> bool:
        """Whether a run under `limits` can be handed to a slot of this shape."""
        return (
            limits.cpus == self.cpus
            and limits.pids == self.pids
            and limits.tmp_mb == self.tmp_mb
            and limits.output_mb <= self.output_mb
        )

    def idle_limits(self, cores: tuple[int, ...]) -> Limits:
        """Return the limits a slot starts under, pinned to `cores`."""
        return Limits(
            wall_s=float("inf"),
            memory_mb=self.idle_memory_mb,
            cpuset=cores,
            output_mb=self.output_mb,
            pids=self.pids,
            tmp_mb=self.tmp_mb,
        )


@dataclass(frozen=True)
class Handoff:
    """What the agent needs to run one command: the line written to its stdin."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    fsize: int

    def encode(self) -> bytes:
        """Return the hand-off as one line of JSON."""
        message = {"argv": self.argv, "env": self.env, "cwd": self.cwd, "fsize": self.fsize}
        return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


class AgentOutput:
    """The stdout and stderr of a slot's agent: its READY and GO lines, then the run's tails.

    Backends feed it chunks as they read them (0 for stdout, 1 for stderr). stdout
    before GO holds only the agent's markers; stderr counts as the run's from
    `handed_off()` on (the agent writes nothing between the hand-off and GO).
    """

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.went = threading.Event()
        self._handed_off = False
        self._pending = bytearray()
        self._tails = (Tail(), Tail())
        self._agent_log = Tail(AGENT_LOG_BYTES)
        self._lock = threading.Lock()

    def handed_off(self) -> None:
        """Mark the hand-off: from now on stderr is the run's."""
        with self._lock:
            self._handed_off = True

    def feed(self, index: int, chunk: bytes) -> None:
        """Take a chunk of stdout (0) or stderr (1)."""
        with self._lock:
            if index == 1:
                (self._tails[1] if self._handed_off else self._agent_log).add(chunk)
            elif self.went.is_set():
                self._tails[0].add(chunk)
            else:
                self._pending += chunk
                self._scan()

    def _scan(self) -> None:
        pending = self._pending
        if not self.ready.is_set():
            at = pending.find(warm_agent.READY)
            if at < 0:
                del pending[: -len(warm_agent.READY)]
                return
            del pending[: at + len(warm_agent.READY)]
            self.ready.set()
        at = pending.find(warm_agent.GO)
        if at < 0:
            del pending[: -len(warm_agent.GO)]
            return
        rest = bytes(pending[at + len(warm_agent.GO) :])
        pending.clear()
        self.went.set()
        if rest:
            self._tails[0].add(rest)

    def text(self, index: int) -> str:
        """Return the run's stdout (0) or stderr (1) tail."""
        with self._lock:
            return self._tails[index].text()

    @property
    def truncated(self) -> bool:
        """Whether the run wrote more than the tails keep."""
        return self._tails[0].truncated or self._tails[1].truncated

    def agent_log(self) -> str:
        """Return what the agent wrote to stderr before the hand-off (why a slot failed)."""
        with self._lock:
            return self._agent_log.text()


class SlotState(StrEnum):
    """Where a slot is in its one life."""

    STARTING = "starting"
    READY = "ready"
    DEAD = "dead"


class Slot(Protocol):
    """One pre-started sandbox of a backend, used for one run."""

    def state(self) -> SlotState:
        """Return whether the agent is still importing, waiting for a run, or gone."""
        ...

    def run(self, handoff: Handoff, mounts: Sequence[Mount], limits: Limits) -> RunFacts | None:
        """Hand the run to the agent and report what happened.

        mounts: the slot's own folders (for the output walk). Returns None when the
        agent died before it started the run (the run may go elsewhere); raises
        SandboxError when the backend failed.
        """
        ...

    def agent_log(self) -> str:
        """Return what the agent wrote before the hand-off (why a slot failed)."""
        ...

    def became_ready(self) -> bool:
        """Whether the agent ever said READY (a slot that did, then died, was killed idle)."""
        ...

    def memory_bytes(self) -> int | None:
        """Return the memory the slot holds now (its cgroup's count), if known."""
        ...

    def destroy(self) -> None:
        """Kill and remove whatever is left of the slot; never raise."""
        ...


class SlotBackend(Protocol):
    """A backend that can run cold and start slots for a pool."""

    name: str
    isolates: bool
    identity: str

    @property
    def python(self) -> str: ...

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts: ...

    def start_slot(self, shape: SlotShape, cores: tuple[int, ...], mounts: Sequence[Mount]) -> Slot:
        """Start a slot whose sandbox shows `mounts`, pinned to `cores` at low CPU weight."""
        ...

    def close(self) -> None: ...


# The run folders a slot shows, by their path in the sandbox, and whether writable.
SLOT_TARGETS = {CODE_DIR: False, DATA_DIR: False, OUTPUT_DIR: True}


@dataclass
class SlotFolders:
    """A slot's host folders: code and data (read-only inside) and a size-capped output."""

    paths: dict[str, Path]
    output_mb: int
    _cleanup: ExitStack = field(repr=False)

    @classmethod
    def create(cls, output_mb: int) -> SlotFolders:
        """Make the folders of one slot."""
        cleanup = ExitStack()
        try:
            root = cleanup.enter_context(run_folder("judge-slot-"))
            paths = {}
            for target, writable in SLOT_TARGETS.items():
                folder = root / Path(target).name
                if writable:
                    folder = cleanup.enter_context(capped_directory(folder, output_mb))
                else:
                    folder.mkdir(mode=0o755)
                    folder.chmod(0o755)
                paths[target] = folder
        except BaseException:
            cleanup.close()
            raise
        return cls(paths, output_mb, cleanup)

    def mounts(self) -> list[Mount]:
        """Return the slot's folders as the mounts its sandbox shows."""
        return [Mount(path, target, SLOT_TARGETS[target]) for target, path in self.paths.items()]

    def close(self) -> None:
        """Remove the folders."""
        self._cleanup.close()
