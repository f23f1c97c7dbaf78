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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from judge.errors import SandboxUnavailable

CODE_DIR = "/sandbox/code"
DATA_DIR = "/sandbox/data"
OUTPUT_DIR = "/sandbox/output"
WORK_DIR = "/sandbox/work"

# The unprivileged user every isolating backend runs submissions as.
SANDBOX_UID = 65534
SANDBOX_GID = 65534

# Caps on what the judge walks in a run's output folder after the run: every byte a
# submission controls is handled in bounded time and memory. The output tmpfs holds at
# most OUTPUT_MAX_ENTRIES entries (hard links count), so a run cannot go past them;
# reaching a cap is OLE.
OUTPUT_MAX_ENTRIES = 10_000
OUTPUT_MAX_DEPTH = 32
OUTPUT_MAX_NAME_BYTES = 1024 * 1024
# Inodes of a run's scratch tmpfs (/tmp, the work folder) where the backend can set it.
SCRATCH_MAX_INODES = 65_536

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
    gpu: the run gets this machine's GPUs (a problem with `limits.accelerator: gpu`);
        a backend that cannot give them raises SandboxUnavailable.
    """

    wall_s: float
    memory_mb: int
    cpuset: tuple[int, ...] = (0,)
    output_mb: int = 64
    pids: int = 128
    tmp_mb: int = 64
    gpu: bool = False

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
    output_reason: str = ""  # which output cap was reached, when output_truncated
    warm: bool = False  # run in a slot of the backend's warm pool (judge.sandbox.pool)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


class Sandbox(Protocol):
    """A backend that runs one command under limits.

    identity: what a Result records of the backend (its name, image, interpreter).
    """

    name: str
    isolates: bool
    identity: str

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

    def close(self) -> None:
        """Let go of what the backend holds (a warm pool's slots, an engine connection)."""
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


@dataclass(frozen=True)
class OutputUsage:
    """What a walk of the writable mounts found, and the first cap it went over, if any."""

    bytes: int
    entries: int
    over: str = ""


def _scan(fd: int, usage: list[int], seen: set[tuple[int, int]]) -> list[str]:
    """Count one folder's entries into `usage` [bytes, entries, name bytes]; return subfolders.

    Stops early (returning what it has) once the entry count reaches OUTPUT_MAX_ENTRIES.
    """
    subfolders: list[str] = []
    try:
        entries = os.scandir(fd)
    except OSError:
        return subfolders
    with entries:
        for entry in entries:
            usage[1] += 1
            usage[2] += len(os.fsencode(entry.name))
            if usage[1] >= OUTPUT_MAX_ENTRIES or usage[2] > OUTPUT_MAX_NAME_BYTES:
                break
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                subfolders.append(entry.name)
            elif stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))  # a hard link counts its bytes once
                usage[0] += max(info.st_size, info.st_blocks * 512)
    return subfolders


def _caps_passed(usage: list[int], depth: int) -> str:
    if usage[1] >= OUTPUT_MAX_ENTRIES:
        return f"the output folder reached its cap of {OUTPUT_MAX_ENTRIES} files and folders"
    if usage[2] > OUTPUT_MAX_NAME_BYTES:
        return f"the output folder's names add up to over {OUTPUT_MAX_NAME_BYTES} bytes"
    if depth > OUTPUT_MAX_DEPTH:
        return f"the output folder is nested over {OUTPUT_MAX_DEPTH} levels deep"
    return ""


def measure_output(root: Path) -> OutputUsage:
    """Return the bytes and entries under `root`, in bounded time and memory.

    The walk is iterative and works on folder descriptors (no recursion, no path
    length limit, never follows a symlink); it stops at the first cap it reaches
    (OUTPUT_MAX_ENTRIES, OUTPUT_MAX_DEPTH, OUTPUT_MAX_NAME_BYTES) and says which in
    `over`. At most OUTPUT_MAX_DEPTH + 1 descriptors are open at once.
    """
    usage = [0, 0, 0]
    seen: set[tuple[int, int]] = set()
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        top = os.open(root, flags)
    except OSError:
        return OutputUsage(0, 0)
    stack: list[tuple[int, list[str]]] = [(top, [])]  # (folder, subfolders not yet walked)
    over = ""
    try:
        stack[-1] = (top, _scan(top, usage, seen))
        while stack:
            over = _caps_passed(usage, len(stack) - 1)
            if over:
                break
            fd, pending = stack[-1]
            if not pending:
                os.close(stack.pop()[0])
                continue
            try:
                child = os.open(pending.pop(), flags, dir_fd=fd)
            except OSError:
                continue
            stack.append((child, []))  # on the stack before the scan, so it is always closed
            stack[-1] = (child, _scan(child, usage, seen))
    finally:
        for fd, _ in stack:
            os.close(fd)
    return OutputUsage(usage[0], usage[1], over)


def output_overflow(mounts: Sequence[Mount], limits: Limits) -> str:
    """Return why the writable mounts went over the output caps, or "" if they did not.

    The byte cap counts as reached a little short of it, where a filesystem that
    refuses writes at the cap stops.
    """
    cap = limits.output_mb * 1024 * 1024
    used = 0
    for mount in mounts:
        if not mount.writable:
            continue
        usage = measure_output(mount.source)
        if usage.over:
            return usage.over
        used += usage.bytes
    if used >= cap - 256 * 1024:
        return f"the output folder reached its {limits.output_mb} MiB cap"
    return ""


def last_line(text: str, limit: int = 300) -> str:
    """Return the last non-blank line of `text`, stripped and cut to `limit` characters."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:limit] if lines else "no message"


class Tail:
    """The last `keep` bytes written to a stream, and how many were written in all."""

    def __init__(self, keep: int = LOG_TAIL_BYTES) -> None:
        self._keep = keep
        self._buffer = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        """Keep `chunk`, dropping what falls out of the tail."""
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


class TailReader(threading.Thread):
    """Drain a stream in the background into a Tail (or hand each chunk to `sink`)."""

    def __init__(
        self,
        stream: IO[bytes],
        keep: int = LOG_TAIL_BYTES,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._tail = Tail(keep)
        self._sink = sink or self._tail.add

    def run(self) -> None:
        fd = self._stream.fileno()  # os.read returns what is there: a marker line arrives at once
        while chunk := os.read(fd, 65536):
            self._sink(chunk)

    @property
    def truncated(self) -> bool:
        """Whether more was written than kept."""
        return self._tail.truncated

    def text(self) -> str:
        """Return the kept tail, decoded leniently."""
        return self._tail.text()


# The device nodes of NVIDIA's driver that a GPU run needs inside its sandbox.
GPU_DEVICE_GLOBS = ("nvidia[0-9]*", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools")


def gpu_devices() -> list[Path]:
    """This machine's NVIDIA device nodes; empty on a machine without a GPU."""
    dev = Path("/dev")
    return sorted({path for pattern in GPU_DEVICE_GLOBS for path in dev.glob(pattern)})


def no_gpu(backend: str) -> SandboxUnavailable:
    """The refusal of a GPU run where there is no GPU to give it."""
    return SandboxUnavailable(
        f"this problem needs a GPU, and the {backend} sandbox on this machine has none "
        "(no /dev/nvidia* devices): judge it on a worker that offers a GPU"
    )
