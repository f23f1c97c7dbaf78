"""The sandbox interface: one `run` method that returns the facts of one run.

A backend is a mechanism with no policy: it knows nothing of problems, verdicts or
scoring. It runs `command` with the given `mounts` under `limits` and reports what
it observed. The runner turns those facts into a verdict.

Paths inside the sandbox are fixed (`CODE_DIR`, `DATA_DIR`, `OUTPUT_DIR`, `WORK_DIR`);
a backend that cannot remap paths (the process backend) rewrites them to the mount
sources in argv and the environment.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

CODE_DIR = "/sandbox/code"
DATA_DIR = "/sandbox/data"
OUTPUT_DIR = "/sandbox/output"
WORK_DIR = "/sandbox/work"

# The unprivileged user every isolating backend runs submissions as.
SANDBOX_UID = 65534
SANDBOX_GID = 65534

# Bytes of stdout and of stderr kept from a run (the tail is kept).
LOG_TAIL_BYTES = 64 * 1024

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Mount:
    """A host folder made visible inside the sandbox at `target`."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    cpuset: the host cores the run is pinned to; its length is the cpu limit.
    """

    wall_s: float
    memory_mb: int
    cpuset: tuple[int, ...] = (0,)
    output_mb: int = 64
    pids: int = 128
    tmp_mb: int = 64

    @property
    def cpus(self) -> int:
        """Number of cores the run may use."""
        return len(self.cpuset)


@dataclass(frozen=True)
class RunFacts:
    """What a backend observed about one run; no interpretation."""

    exit_code: int | None
    signal: int | None
    wall_s: float
    cpu_s: float
    peak_mb: float
    oom: bool
    timed_out: bool
    output_truncated: bool
    stdout_tail: str = ""
    stderr_tail: str = ""
    log_truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


class Sandbox(Protocol):
    """A backend that runs one command under limits."""

    name: str
    isolates: bool

    @property
    def python(self) -> str:
        """The Python interpreter to use inside the sandbox."""
        ...

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        """Run `command` once and report what happened."""
        ...


def sandbox_env(env: Mapping[str, str], limits: Limits) -> dict[str, str]:
    """Return the full, clean environment of a run: the caller's variables plus thread caps."""
    threads = str(limits.cpus)
    full = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": WORK_DIR,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "MPLCONFIGDIR": "/tmp",
    }
    full.update({name: threads for name in THREAD_ENV_VARS})
    full.update(env)
    return full


def directory_bytes(root: Path) -> int:
    """Return the bytes used under `root`, never following symlinks."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in filenames + dirnames:
            try:
                info = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += max(info.st_size, info.st_blocks * 512)
    return total


def output_truncated(mounts: Sequence[Mount], limits: Limits) -> bool:
    """Return whether the writable mounts reached the output cap."""
    cap = limits.output_mb * 1024 * 1024
    used = sum(directory_bytes(m.source) for m in mounts if m.writable)
    # A filesystem that refuses writes at the cap stops a little short of it.
    return used >= cap - 256 * 1024


class TailReader(threading.Thread):
    """Drain a stream in the background, keeping only its last `keep` bytes."""

    def __init__(self, stream: IO[bytes], keep: int = LOG_TAIL_BYTES) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._keep = keep
        self._buffer = bytearray()
        self.total = 0

    def run(self) -> None:
        while chunk := self._stream.read(65536):
            self.total += len(chunk)
            self._buffer += chunk
            if len(self._buffer) > 2 * self._keep:
                del self._buffer[: -self._keep]

    @property
    def truncated(self) -> bool:
        """Whether more was written than kept."""
        return self.total > self._keep

    def text(self) -> str:
        """Return the kept tail, decoded leniently."""
        return bytes(self._buffer[-self._keep :]).decode("utf-8", errors="replace")
