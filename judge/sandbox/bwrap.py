"""The bwrap backend: bubblewrap namespaces for isolation, a cgroup for limits and accounting.

The judge runs as root, and a root-run `bwrap --unshare-user --uid 65534` maps the
sandbox user to host uid 0 (it cannot even write the output folder, which belongs
to 65534). So one run is a short chain of execs:

    outer bwrap   as root, without a user namespace: new mount, pid, net, ipc, uts
                  and cgroup namespaces; a read-only root holding /usr, the
                  interpreter, a few /etc files, size-capped tmpfs for /tmp,
                  /dev/shm and the work folder, and the run's mounts
    setpriv       becomes uid and gid 65534 on the host, drops every capability
                  (bounding and inheritable sets too), sets no_new_privs
    inner bwrap   unprivileged: a user namespace mapping 65534 to itself, with
                  further user namespaces disabled; says on a status pipe that
                  the sandbox is set up; installs the judge's seccomp filter (the
                  rules of seccomp/judge-seccomp.json: the deny list and the socket
                  family allow-list, compiled by seccomp_bpf.py and read from a
                  memfd) right before it execs the run
    env -u PWD    bwrap sets PWD; the run gets exactly `sandbox_env()`

Before exec, the outer bwrap joins a fresh cgroup (memory without swap, pids,
cpuset), so everything the run starts is accounted and killed together. The new
network namespace has only its own loopback: the host's 127.0.0.1 is unreachable.

The host venv is bound read-only, so scikit-learn's bundled data sets (iris, digits,
...) would be loadable; an empty read-only tmpfs hides those folders, as the docker
image has them removed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import resource
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from judge.errors import SandboxError, SandboxUnavailable
from judge.sandbox.base import (
    SANDBOX_GID,
    SANDBOX_UID,
    WORK_DIR,
    Limits,
    Mount,
    RunFacts,
    TailReader,
    gpu_devices,
    last_line,
    no_gpu,
    output_overflow,
    sandbox_env,
)
from judge.sandbox.cgroups import Cgroup, CgroupLayout, detect_layout
from judge.sandbox.seccomp_bpf import compiled_profile
from judge.sandbox.slots import AgentOutput, Handoff, SlotShape, SlotState, agent_command

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# Where the judge looks for its tools; it never reads PATH.
TOOL_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
# Processes the sandbox itself keeps in the cgroup: outer bwrap, its pid 1, inner bwrap.
BWRAP_TASKS = 3
# Root-level folders bound (or re-created as symlinks) as on the host.
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The only /etc files the sandbox sees: the dynamic loader's, names and the time zone.
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "passwd",
    "group",
    "localtime",
)
# The size-capped scratch filesystems of a run.
SCRATCH_DIRS = ("/tmp", "/dev/shm", WORK_DIR)
# scikit-learn's bundled data, relative to the package: hidden from runs.
SKLEARN_DATA_DIRS = ("datasets/data", "datasets/descr", "datasets/images", "datasets/tests/data")
# Exit statuses above 128 up to this many past it are how bwrap reports a signal.
MAX_SIGNAL = 64


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _python_roots() -> list[str]:
    """Return the folders the host interpreter needs: its base prefix and the venv."""
    executable_prefix = str(Path(os.path.realpath(sys.executable)).parent.parent)
    candidates = {
        os.path.normpath(p)
        for p in (
            sys.base_prefix,
            sys.prefix,
            os.path.realpath(sys.base_prefix),
            os.path.realpath(sys.prefix),
            executable_prefix,
        )
    }
    roots: list[str] = []
    for path in sorted(candidates, key=len):
        if path == "/" or any(_within(path, root) for root in ["/usr", *roots]):
            continue
        roots.append(path)
    return roots


def _system_args() -> list[str]:
    """Return the bwrap arguments that build the read-only system part of the root."""
    args = ["--ro-bind", "/usr", "/usr"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _interpreter_args(roots: Sequence[str]) -> list[str]:
    """Return the bwrap arguments that bind the interpreter's folders read-only.

    They come after the scratch tmpfs mounts, so an interpreter under /tmp (a clone
    checked out there) stays visible instead of being hidden by the sandbox's /tmp.
    """
    args: list[str] = []
    made: set[str] = set(SCRATCH_DIRS)
    for root in roots:
        for parent in reversed(Path(root).parents[:-1]):  # skeleton folders, world-readable
            if str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--ro-bind", root, root]
    return args


def _hidden_data_args(roots: Sequence[str]) -> list[str]:
    """Return the bwrap arguments that cover scikit-learn's bundled data with empty tmpfs.

    They come after the interpreter binds. The package is located without importing it.
    """
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return []
    args: list[str] = []
    for package in spec.submodule_search_locations:
        for relative in SKLEARN_DATA_DIRS:
            path = os.path.join(package, relative)
            if not os.path.isdir(path):
                continue
            for target in dict.fromkeys([os.path.normpath(path), os.path.realpath(path)]):
                if any(_within(target, root) for root in ["/usr", *roots]):
                    args += ["--perms", "0555", "--size", "4096", "--tmpfs", target]
                    args += ["--remount-ro", target]
    return args


def _find_tool(name: str, missing: str) -> str:
    """Return the real path of a host tool, which must lie in /usr to be seen inside.

    missing: the one-line reason and fix when the tool is not installed.
    """
    found = shutil.which(name, path=TOOL_PATH)
    if found is None:
        raise SandboxUnavailable(missing)
    real = os.path.realpath(found)
    if not _within(real, "/usr"):
        raise SandboxUnavailable(
            f"{name} is at {real}, outside /usr, so the sandbox cannot run it: "
            f"install the distribution's package"
        )
    return real


def _exit_and_signal(status: int) -> tuple[int | None, int | None]:
    """Split a wait status into (exit code, signal).

    bwrap reports a child killed by signal N as exit status 128 + N.
    """
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    if 128 < code <= 128 + MAX_SIGNAL:
        return None, code - 128
    return code, None


def _usable_cpus(wanted: Sequence[int]) -> tuple[int, ...]:
    """Return the requested cores this process may use, or all of them if none."""
    allowed = os.sched_getaffinity(0)
    usable = set(wanted) & allowed
    if not usable:
        log.warning("cpuset %s names no usable core; using %s", wanted, sorted(allowed))
        usable = allowed
    return tuple(sorted(usable))


def _read_available(fd: int) -> str:
    """Return whatever a non-blocking pipe holds."""
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


class BwrapSandbox:
    """Run a command in bubblewrap namespaces, as uid 65534, inside a fresh cgroup."""

    name = "bwrap"
    isolates = True

    def __init__(self, bwrap: str, setpriv: str, env_tool: str, layout: CgroupLayout) -> None:
        self._bwrap = bwrap
        self._setpriv = setpriv
        self._env_tool = env_tool
        self._layout = layout
        self._system_args = _system_args()
        roots = _python_roots()
        self._interpreter_args = _interpreter_args(roots) + _hidden_data_args(roots)
        self._seccomp = compiled_profile()
        # What the Results of this sandbox record as their provenance.
        self.identity = f"bwrap python {sys.version.split()[0]} seccomp {len(self._seccomp) // 8}"

    @classmethod
    def open(cls) -> BwrapSandbox:
        """Check that bwrap, setpriv, root and cgroups work here, with one trivial run.

        Raises SandboxUnavailable with the reason and the fix.
        """
        bwrap = _find_tool("bwrap", "bubblewrap not installed: apt-get install bubblewrap")
        setpriv = _find_tool("setpriv", "setpriv not found: apt-get install util-linux")
        env_tool = _find_tool("env", "env not found: apt-get install coreutils")
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "the bwrap backend needs root for its cgroups: run the judge as root, "
                "or use the docker backend"
            )
        sandbox = cls(bwrap, setpriv, env_tool, detect_layout())
        probe = Limits(wall_s=30, memory_mb=256, pids=16)
        try:
            facts = sandbox.run([sandbox.python, "-c", "pass"], [], probe, {})
        except SandboxUnavailable:
            raise
        except SandboxError as exc:
            raise SandboxUnavailable(
                f"bwrap cannot set up a sandbox here ({exc}): allow user namespaces "
                f"(sysctl user.max_user_namespaces=15000), or use the docker backend"
            ) from exc
        if facts.exit_code != 0:
            raise SandboxUnavailable(
                f"the interpreter {sandbox.python} fails inside bwrap "
                f"({last_line(facts.stderr_tail)}): run the judge with a system or pyenv "
                f"Python (or a venv of one), or use the docker backend"
            )
        log.debug("bwrap sandbox ready: trivial run took %.3fs", facts.wall_s)
        return sandbox

    @property
    def python(self) -> str:
        return sys.executable

    def close(self) -> None:
        """Nothing to let go of: every run's cgroup is gone when it ends."""

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        cpus = _usable_cpus(limits.cpuset)
        cgroup = Cgroup.create(self._layout)
        try:
            cgroup.limit(limits.memory_mb * MIB, limits.pids + BWRAP_TASKS, cpus)
            return self._run(command, mounts, limits, env, cgroup, cpus)
        finally:
            cgroup.kill()  # daemons the run left behind
            cgroup.remove()

    def _outer_args(
        self, mounts: Sequence[Mount], limits: Limits, full_env: Mapping[str, str]
    ) -> list[str]:
        args = [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            # setpriv needs these three to become 65534 and drop the rest.
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
            "--cap-add",
            "CAP_SETPCAP",
            "--clearenv",
        ]
        for key, value in full_env.items():
            args += ["--setenv", key, value]
        args += self._system_args
        args += ["--proc", "/proc", "--dev", "/dev"]
        if limits.gpu:  # the GPU's device nodes, and nothing else of the host's /dev
            devices = gpu_devices()
            if not devices:
                raise no_gpu("bwrap")
            for device in devices:
                args += ["--dev-bind", str(device), str(device)]
        size = str(max(limits.tmp_mb, 1) * MIB)  # a tmpfs of size 0 would be unlimited
        for target in SCRATCH_DIRS:
            args += ["--perms", "01777", "--size", size, "--tmpfs", target]
        args += self._interpreter_args
        for mount in sorted(mounts, key=lambda m: m.target.rstrip("/").count("/")):
            if not mount.target.startswith("/"):
                raise SandboxError(f"mount target {mount.target!r} is not an absolute path")
            kind = "--bind" if mount.writable else "--ro-bind"
            args += [kind, str(mount.source), mount.target]
        args += ["--remount-ro", "/"]
        return args

    def _inner_argv(
        self, command: Sequence[str], full_env: Mapping[str, str], status_fd: int, seccomp_fd: int
    ) -> list[str]:
        uid, gid = str(SANDBOX_UID), str(SANDBOX_GID)
        pwd = ["-u", "PWD"] if "PWD" not in full_env else [f"PWD={full_env['PWD']}"]
        return [
            self._setpriv,
            f"--reuid={uid}",
            f"--regid={gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
            self._bwrap,
            "--unshare-user",
            "--disable-userns",
            "--uid",
            uid,
            "--gid",
            gid,
            "--cap-drop",
            "ALL",
            "--die-with-parent",
            "--new-session",
            "--json-status-fd",
            str(status_fd),
            # Applies to the run only: bwrap installs it right before its exec.
            "--seccomp",
            str(seccomp_fd),
            # --dev-bind keeps the outer mount flags as they are; a plain --bind would add
            # nodev everywhere and close /dev/urandom, which torch opens.
            "--dev-bind",
            "/",
            "/",
            "--chdir",
            WORK_DIR,
            "--",
            self._env_tool,
            *pwd,
            "--",
            *command,
        ]

    def _spawn(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
        cgroup: Cgroup,
        cpus: tuple[int, ...],
        stdin: int = subprocess.DEVNULL,
    ) -> tuple[subprocess.Popen[bytes], int]:
        """Start bwrap in `cgroup`; return the process and the read end of its status pipe."""
        full_env = sandbox_env(env, limits)
        status_read, status_write = os.pipe()
        args_fd = os.memfd_create("bwrap-args")
        seccomp_fd = os.memfd_create("bwrap-seccomp")
        try:
            outer = self._outer_args(mounts, limits, full_env)
            os.write(args_fd, b"".join(arg.encode() + b"\0" for arg in outer))
            os.lseek(args_fd, 0, os.SEEK_SET)
            os.write(seccomp_fd, self._seccomp)
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
            argv = [
                self._bwrap,
                "--args",
                str(args_fd),
                "--",
                *self._inner_argv(command, full_env, status_write, seccomp_fd),
            ]
            log.debug("bwrap run: %s", argv)
            proc = subprocess.Popen(
                argv,
                env={},
                cwd="/",
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(args_fd, status_write, seccomp_fd),
                start_new_session=True,
                preexec_fn=_prepare_child(cgroup.procs_files, limits, cpus),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(status_read)
            raise SandboxError(f"cannot start bwrap in cgroup {cgroup.folders[0]}: {exc}") from exc
        finally:
            os.close(args_fd)
            os.close(seccomp_fd)
            os.close(status_write)
        return proc, status_read

    def _run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
        cgroup: Cgroup,
        cpus: tuple[int, ...],
    ) -> RunFacts:
        start = time.monotonic()
        proc, status_read = self._spawn(command, mounts, limits, env, cgroup, cpus)
        try:
            return self._supervise(proc, start, mounts, limits, cgroup, status_read)
        except BaseException:
            cgroup.kill()
            proc.wait()
            raise
        finally:
            os.close(status_read)

    def start_slot(
        self, shape: SlotShape, cores: tuple[int, ...], mounts: Sequence[Mount]
    ) -> BwrapSlot:
        """Start a warm slot (judge.sandbox.pool) showing `mounts`, at low CPU weight."""
        limits = shape.idle_limits(cores)
        cpus = _usable_cpus(cores)
        cgroup = Cgroup.create(self._layout)
        try:
            cgroup.limit(limits.memory_mb * MIB, limits.pids + BWRAP_TASKS, cpus)
            cgroup.set_weight(low=True)
            command = agent_command(self.python)
            proc, status_read = self._spawn(
                command, mounts, limits, {}, cgroup, cpus, stdin=subprocess.PIPE
            )
        except BaseException:
            cgroup.kill()
            cgroup.remove()
            raise
        return BwrapSlot(proc, cgroup, status_read)

    def _supervise(
        self,
        proc: subprocess.Popen[bytes],
        start: float,
        mounts: Sequence[Mount],
        limits: Limits,
        cgroup: Cgroup,
        status_read: int,
    ) -> RunFacts:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = TailReader(proc.stdout), TailReader(proc.stderr)
        out.start()
        err.start()
        timed_out = not _wait_until(proc.pid, start + limits.wall_s, cgroup)
        if timed_out:
            cgroup.kill()  # the whole tree, not just bwrap
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cgroup.kill()  # so that nothing holds the pipes open
        out.join(timeout=2)
        err.join(timeout=2)
        proc.stdout.close()
        proc.stderr.close()
        cpu = cgroup.cpu_seconds()
        if cpu is None:
            cpu = usage.ru_utime + usage.ru_stime
        oom = cgroup.oom_kills() > 0
        started = '"child-pid"' in _read_available(status_read)
        if not started and not timed_out and not oom:
            raise SandboxError(f"bwrap could not set up the run: {last_line(err.text())}")
        exit_code, sig = _exit_and_signal(status)
        overflow = output_overflow(mounts, limits)
        return RunFacts(
            exit_code=exit_code,
            signal=sig,
            wall_s=wall,
            cpu_s=cpu,
            peak_mb=cgroup.peak_bytes() / MIB,
            oom=oom,
            timed_out=timed_out,
            output_truncated=bool(overflow),
            output_reason=overflow,
            stdout_tail=out.text(),
            stderr_tail=err.text(),
            log_truncated=out.truncated or err.truncated,
        )


def _prepare_child(
    procs_files: Sequence[str], limits: Limits, cpus: tuple[int, ...]
) -> Callable[[], None]:
    """Return the function the child runs before exec: join the cgroup, set rlimits, pin cpus."""
    fsize = limits.output_mb * MIB

    def prepare() -> None:  # between fork and exec: plain system calls only
        pid = str(os.getpid()).encode()
        for path in procs_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.sched_setaffinity(0, cpus)

    return prepare


def _wait_until(pid: int, deadline: float, cgroup: Cgroup) -> bool:
    """Wait for `pid` to exit, sampling memory meanwhile; False if the deadline came first."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # kernels before 5.3: poll
        pidfd = -1
    try:
        poller = select.poll()
        if pidfd >= 0:
            poller.register(pidfd, select.POLLIN)
        delay = 0.001
        while True:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            cgroup.sample()
            if pidfd >= 0:
                poller.poll(int(min(left, 0.05) * 1000) + 1)
            else:
                time.sleep(min(left, delay))
                delay = min(delay * 2, 0.02)
    finally:
        if pidfd >= 0:
            os.close(pidfd)


class BwrapSlot:
    """A bwrap sandbox running the warm agent, waiting for one run (judge.sandbox.pool)."""

    def __init__(self, proc: subprocess.Popen[bytes], cgroup: Cgroup, status_read: int) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._proc = proc
        self._cgroup = cgroup
        self._status_read = status_read
        self._reaped = False
        self.output = AgentOutput()
        self._readers = [
            TailReader(proc.stdout, sink=lambda chunk: self.output.feed(0, chunk)),
            TailReader(proc.stderr, sink=lambda chunk: self.output.feed(1, chunk)),
        ]
        for reader in self._readers:
            reader.start()

    def _exited(self) -> bool:
        if self._reaped:
            return True
        waited = os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return waited is not None

    def state(self) -> SlotState:
        if self._exited():
            return SlotState.DEAD
        return SlotState.READY if self.output.ready.is_set() else SlotState.STARTING

    def agent_log(self) -> str:
        return self.output.agent_log()

    def became_ready(self) -> bool:
        return self.output.ready.is_set()

    def memory_bytes(self) -> int | None:
        return self._cgroup.current_bytes()

    def run(self, handoff: Handoff, mounts: Sequence[Mount], limits: Limits) -> RunFacts | None:
        cgroup, proc = self._cgroup, self._proc
        assert proc.stdin is not None
        cpus = _usable_cpus(limits.cpuset)
        held = cgroup.current_bytes()  # the pre-imported stack: not the run's (pool doc)
        cgroup.limit(limits.memory_mb * MIB + held, limits.pids + BWRAP_TASKS, cpus)
        for pid in cgroup.pids():  # every thread, where no cpuset controller moved them
            for task in (
                os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else ()
            ):
                with contextlib.suppress(OSError, ValueError):
                    os.sched_setaffinity(int(task), cpus)
        cgroup.set_weight(low=False)
        cgroup.reset_peak()
        cpu_before = cgroup.cpu_seconds()
        oom_before = cgroup.oom_kills()
        self.output.handed_off()
        start = time.monotonic()
        try:
            proc.stdin.write(handoff.encode())
            proc.stdin.close()
        except OSError:  # the agent is gone
            self._end()
            return None
        finished = _wait_until(proc.pid, start + limits.wall_s, cgroup)
        wall = time.monotonic() - start
        if not finished:
            cgroup.kill()
        status = self._end()
        if not self.output.went.is_set():
            return None
        cpu_after = cgroup.cpu_seconds()
        cpu = 0.0 if cpu_after is None or cpu_before is None else cpu_after - cpu_before
        exit_code, sig = _exit_and_signal(status)
        overflow = output_overflow(mounts, limits)
        return RunFacts(
            exit_code=exit_code,
            signal=sig,
            wall_s=wall,
            cpu_s=cpu,
            peak_mb=max(0, cgroup.peak_bytes() - held) / MIB,
            oom=cgroup.oom_kills() > oom_before,
            timed_out=not finished,
            output_truncated=bool(overflow),
            output_reason=overflow,
            stdout_tail=self.output.text(0),
            stderr_tail=self.output.text(1),
            log_truncated=self.output.truncated,
        )

    def _end(self) -> int:
        """Reap bwrap, kill what it left, drain its pipes; return its wait status."""
        _, status, _ = os.wait4(self._proc.pid, 0)
        self._reaped = True
        self._proc.returncode = os.waitstatus_to_exitcode(status)
        self._cgroup.kill()
        for reader in self._readers:
            reader.join(timeout=2)
        return status

    def destroy(self) -> None:
        try:
            self._cgroup.kill()
            if not self._reaped:
                self._proc.wait()
                self._reaped = True
            for reader in self._readers:
                reader.join(timeout=2)
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._cgroup.remove()
        except Exception as exc:  # never raise: a leftover is logged
            log.error("could not destroy a warm bwrap slot: %s", exc)
        finally:
            if self._status_read >= 0:
                os.close(self._status_read)
                self._status_read = -1
