"""The process backend: rlimits and a process group, no isolation at all.

For trusted code on machines with neither Docker nor bubblewrap. The submission
sees the whole host filesystem and network; only time, memory (RLIMIT_DATA, since
RLIMIT_AS breaks `import torch`), file size and CPU affinity are limited. OOM is
inferred, not counted: the kernel gives no OOM counter without a cgroup.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from judge.sandbox.base import (
    WORK_DIR,
    Limits,
    Mount,
    RunFacts,
    TailReader,
    gpu_devices,
    no_gpu,
    output_overflow,
    sandbox_env,
)

log = logging.getLogger(__name__)

WARNING = "process sandbox: no isolation; the submission can read any file this user can"


def _rewrite(value: str, table: Sequence[tuple[str, str]]) -> str:
    for target, source in table:
        if value == target or value.startswith(target + "/"):
            return source + value[len(target) :]
    return value


class ProcessSandbox:
    """Run a command as a child process under rlimits."""

    name = "process"
    isolates = False
    identity = f"process python {sys.version.split()[0]}"

    @property
    def python(self) -> str:
        return sys.executable

    def close(self) -> None:
        """Nothing to let go of."""

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        log.warning(WARNING)
        if limits.gpu and not gpu_devices():
            raise no_gpu("process")
        with tempfile.TemporaryDirectory(prefix="judge-work-") as work:
            table = [(m.target, str(m.source)) for m in mounts] + [(WORK_DIR, work)]
            argv = [_rewrite(arg, table) for arg in command]
            full_env = {k: _rewrite(v, table) for k, v in sandbox_env(env, limits).items()}
            full_env["TMPDIR"] = work
            full_env["MPLCONFIGDIR"] = work
            return self._run(argv, full_env, Path(work), mounts, limits)

    def _run(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        mounts: Sequence[Mount],
        limits: Limits,
    ) -> RunFacts:
        memory = limits.memory_mb * 1024 * 1024
        fsize = limits.output_mb * 1024 * 1024
        cpu_seconds = int(limits.wall_s) + 2
        cpuset = set(limits.cpuset) & os.sched_getaffinity(0) or os.sched_getaffinity(0)

        def limit_child() -> None:  # runs in the child between fork and exec
            resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            os.sched_setaffinity(0, cpuset)

        start = time.monotonic()
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=limit_child,
        )
        assert proc.stdout is not None and proc.stderr is not None
        out, err = TailReader(proc.stdout), TailReader(proc.stderr)
        out.start()
        err.start()
        timed_out = False
        deadline = start + limits.wall_s
        high_water_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            high_water_kb = max(high_water_kb, _high_water_kb(proc.pid))
            if time.monotonic() >= deadline:
                timed_out = True
                _kill_group(proc.pid)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        _kill_group(proc.pid)  # anything the child left behind in its session
        out.join(timeout=2)
        err.join(timeout=2)
        proc.stdout.close()
        proc.stderr.close()
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        # ru_maxrss counts the judge's own pages copied at fork; the polled VmHWM of the
        # exec'd program is closer to the truth when the program lived long enough to be seen.
        peak_mb = (high_water_kb or usage.ru_maxrss) / 1024
        stderr_tail = err.text()
        oom = peak_mb >= 0.95 * limits.memory_mb or (
            exit_code not in (0, None) and "MemoryError" in stderr_tail[-2000:]
        )
        overflow = output_overflow(mounts, limits)
        return RunFacts(
            exit_code=exit_code,
            signal=sig,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_mb=peak_mb,
            oom=oom,
            timed_out=timed_out,
            output_truncated=bool(overflow),
            output_reason=overflow,
            stdout_tail=out.text(),
            stderr_tail=stderr_tail,
            log_truncated=out.truncated or err.truncated,
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _high_water_kb(pid: int) -> int:
    """Return the peak resident set (VmHWM) of a live process in KiB, or 0."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
