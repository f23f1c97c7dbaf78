"""The docker backend: one fresh, locked-down container per run (production).

Each run gets its own container from the sandbox image (docker/build-image.sh):
no network, a read-only root, tmpfs for /tmp and the working folder, user 65534
with no capabilities and no-new-privileges, a seccomp profile, memory without
swap, a pids cap, pinned cores, a file-size cap. The container is removed after the
run whatever happens.

The seccomp profile is Docker's own default (the engine's copy, installed by
scripts/setup-host.sh; missing means the backend is unavailable, never a weaker
filter) with the judge's list (seccomp/judge-seccomp.json) merged in by
seccomp_profile.py: a profile given to the engine replaces its default, so the merge
only adds denials. Docker's default lets io_uring and every socket family through on
older engines; the merged profile refuses io_uring, keyrings, namespaces, mounts,
ptrace, perf, BPF, userfaultfd and kernel-state calls, and sockets of any family but
AF_UNIX, AF_INET and AF_INET6 (AF_VSOCK is not namespaced and reaches the host).

Why the command runs through `exec`: Docker deletes a container's cgroup the moment
its first process exits, so the kernel's exact counters (peak memory, CPU time, OOM
kills) are gone before the judge could read them. The container's first process is
therefore an idle `sleep` (which the submission cannot kill: it is the PID namespace's
init), the command runs beside it through `docker exec`, and the counters are read
from the host's cgroup files after the command ends and before the container is
removed (judge.sandbox.cgroups reads them). Where those files cannot be seen (the
judge in another mount or PID namespace than the engine), Docker's stats API is the
fallback.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from judge.errors import SandboxError, SandboxUnavailable
from judge.sandbox.base import (
    SANDBOX_GID,
    SANDBOX_UID,
    SCRATCH_MAX_INODES,
    WORK_DIR,
    Limits,
    Mount,
    RunFacts,
    Tail,
    gpu_devices,
    no_gpu,
    output_overflow,
    sandbox_env,
)
from judge.sandbox.cgroups import UNIFIED, Cgroup, CgroupLayout, detect_layout
from judge.sandbox.seccomp_profile import DOCKER_DEFAULT_PROFILE, docker_profile
from judge.sandbox.slots import AgentOutput, Handoff, SlotShape, SlotState, agent_command

try:
    from docker.client import DockerClient, from_env
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound
    from docker.models.containers import Container
    from docker.types import DeviceRequest, LogConfig, Ulimit
    from docker.types import Mount as DockerMount
    from docker.types.daemon import CancellableStream
    from docker.utils import kwargs_from_env
    from docker.utils.socket import STDOUT, frames_iter
except ImportError as exc:  # pragma: no cover - docker is a declared dependency
    _SDK_MISSING: ImportError | None = exc
else:
    _SDK_MISSING = None

log = logging.getLogger(__name__)

DEFAULT_IMAGE = "olympiad-judge-sandbox:current"
DEFAULT_HOST = "unix:///var/run/docker.sock"
# Every container this backend makes carries this label, so leftovers can be found.
LABEL = "olympiad-judge.sandbox"
PYTHON = "/usr/bin/python3"
# The container's idle first process; the command runs beside it (see the module doc).
KEEPER = ["/bin/sleep", "infinity"]
USER = f"{SANDBOX_UID}:{SANDBOX_GID}"
API_TIMEOUT_S = 60
MIB = 1024 * 1024
# How often a running command is checked on: often at first, less as it goes on.
POLL_MIN_S = 0.005
POLL_MAX_S = 0.05


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


@dataclass(frozen=True)
class _Usage:
    """What the kernel counted for a container's cgroup."""

    cpu_s: float
    peak_mb: float
    oom_kills: int


class _StreamTails(threading.Thread):
    """Drain a demultiplexed exec stream, keeping the last bytes of stdout and stderr."""

    def __init__(self, stream: CancellableStream[tuple[bytes | None, bytes | None]]) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._tails = (Tail(), Tail())

    def run(self) -> None:
        try:
            for chunks in self._stream:
                for index, chunk in enumerate(chunks):
                    if chunk:
                        self._tails[index].add(chunk)
        except Exception as exc:  # the socket closes under us when the container is killed
            log.debug("exec stream ended: %s", _one_line(exc))
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading: close the stream and the HTTP response under it.

        CancellableStream.close() shuts the socket but leaves the response's file object
        holding the descriptor open (a ResourceWarning); the response is closed too.
        """
        try:
            self._stream.close()
            getattr(self._stream, "_response").close()  # noqa: B009 - private in the SDK
        except Exception as exc:
            log.debug("closing the exec stream: %s", _one_line(exc))

    def text(self, index: int) -> str:
        """Return the kept tail of stdout (0) or stderr (1), decoded leniently."""
        return self._tails[index].text()

    @property
    def truncated(self) -> bool:
        """Whether more was written than kept."""
        return self._tails[0].truncated or self._tails[1].truncated


def _cgroup_paths(container_id: str, pid: int) -> list[str]:
    """Return where the container's group may be, relative to each hierarchy's mount.

    First the path in /proc/<pid>/cgroup (when the judge shares the engine's PID
    namespace), then the engine's default layouts (cgroupfs and systemd drivers).
    """
    paths: list[str] = []
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines() if pid > 0 else []
    except OSError:
        lines = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        # Only the memory line (v1) or the unified line (v2), and only if it is this
        # container's: a PID from another namespace names some other process.
        if ("memory" in controllers.split(",") or not controllers) and container_id in path:
            paths.append(path.lstrip("/"))
    paths += [f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"]
    return list(dict.fromkeys(paths))


def container_cgroup(layout: CgroupLayout, container_id: str, pid: int) -> Cgroup | None:
    """Return the container's control group as seen from this host, or None."""
    for path in _cgroup_paths(container_id, pid):
        dirs = {controller: mount / path for controller, mount in layout.hierarchies}
        memory = dirs.get("memory") or dirs.get(UNIFIED)
        if memory is not None and memory.is_dir():
            return Cgroup(layout, dirs)
    return None


def _cgroup_usage(group: Cgroup) -> _Usage | None:
    """Read the group's counters; None when its files cannot be read."""
    try:
        return _Usage(
            cpu_s=group.cpu_seconds() or 0.0,
            peak_mb=group.peak_bytes() / MIB,
            oom_kills=group.oom_kills(),
        )
    except (OSError, ValueError, KeyError) as exc:
        log.warning("reading the cgroup at %s: %s", group.folders[0], _one_line(exc))
        return None


def _api_usage(container: Container) -> _Usage | None:
    """Ask the engine for the container's counters (less exact than the cgroup files)."""
    try:
        stats = cast(dict[str, Any], container.stats(stream=False, one_shot=True))
    except DockerException as exc:
        log.warning("docker stats for %s failed: %s", container.short_id, _one_line(exc))
        return None
    memory = stats.get("memory_stats") or {}
    cpu = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
    peak = memory.get("max_usage") or memory.get("usage") or 0
    return _Usage(cpu_s=cpu.get("total_usage", 0) / 1e9, peak_mb=peak / MIB, oom_kills=0)


def seccomp_profile(base: Path = DOCKER_DEFAULT_PROFILE) -> str:
    """Return Docker's default profile at `base`, merged with the judge's, as compact JSON.

    Raises SandboxUnavailable when either profile is missing or unreadable, or the
    merge cannot keep every denial: the backend never falls back to a weaker filter.
    """
    return json.dumps(docker_profile(base), separators=(",", ":"))


class DockerSandbox:
    """Run each command in a fresh container of the sandbox image."""

    name = "docker"
    isolates = True

    def __init__(
        self,
        client: DockerClient,
        image: str = DEFAULT_IMAGE,
        cgroup_layout: CgroupLayout | None = None,
        seccomp_base: Path = DOCKER_DEFAULT_PROFILE,
    ) -> None:
        """Use `client` and `image`; `cgroup_layout` defaults to this machine's, if any.

        `seccomp_base` is Docker's default seccomp profile, which the judge's adds to.
        """
        self._client = client
        self.image = image
        # What the Results of this sandbox record as their provenance.
        self.identity = f"docker {image}"
        if cgroup_layout is None:
            try:
                cgroup_layout = detect_layout()
            except SandboxUnavailable as exc:
                log.info("no cgroup filesystem visible (%s); using docker stats", exc)
        self._cgroup_layout = cgroup_layout
        self._warned_stats = False
        self._seccomp = seccomp_profile(seccomp_base)

    @classmethod
    def open(
        cls, image: str | None = None, seccomp_base: Path = DOCKER_DEFAULT_PROFILE
    ) -> DockerSandbox:
        """Connect to the engine, check the image exists and build the seccomp profile.

        Raises SandboxUnavailable with the reason and the fix.
        """
        image = image or DEFAULT_IMAGE
        if _SDK_MISSING is not None:
            raise SandboxUnavailable(
                f"Docker SDK for Python not importable ({_SDK_MISSING}): pip install docker"
            )
        with warnings.catch_warnings():
            # A failed connection leaves the SDK's socket unclosed, a ResourceWarning once
            # the exception is freed; there is nothing of ours to close.
            warnings.simplefilter("ignore", ResourceWarning)
            host = DEFAULT_HOST
            try:
                # Where the SDK will look (it reads DOCKER_HOST), to name it in the message.
                host = kwargs_from_env().get("base_url") or DEFAULT_HOST
                client = from_env(timeout=API_TIMEOUT_S)
                client.ping()
            except DockerException as exc:
                failure = _one_line(exc)
            else:
                failure = ""
            if failure:
                gc.collect()  # the exception's frames form cycles: free the socket now
        if failure:
            raise SandboxUnavailable(
                f"Docker engine not reachable at {host}: start dockerd ({failure})"
            )
        try:
            image_id = str(client.images.get(image).id)
        except ImageNotFound as exc:
            client.close()
            raise SandboxUnavailable(
                f"sandbox image {image} not found: run `make image` (docker/build-image.sh)"
            ) from exc
        except DockerException as exc:
            client.close()
            raise SandboxUnavailable(f"cannot inspect image {image}: {_one_line(exc)}") from exc
        try:
            sandbox = cls(client, image, seccomp_base=seccomp_base)
        except SandboxUnavailable:
            client.close()
            raise
        sandbox.identity = f"docker {image} {image_id}"
        return sandbox

    @property
    def python(self) -> str:
        return PYTHON

    def close(self) -> None:
        """Close the connection to the engine."""
        self._client.close()

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        name = f"olympiad-judge-{uuid.uuid4().hex[:16]}"
        try:
            container = self._create(name, mounts, limits, env)
            container.start()
            return self._execute(container, command, mounts, limits)
        except DockerException as exc:
            raise SandboxError(f"docker run of {name} failed: {_one_line(exc)}") from exc
        finally:
            self._remove(name)

    def start_slot(
        self, shape: SlotShape, cores: tuple[int, ...], mounts: Sequence[Mount]
    ) -> DockerSlot:
        """Start a warm slot (judge.sandbox.pool): a container whose agent waits on stdin."""
        name = f"olympiad-judge-slot-{uuid.uuid4().hex[:16]}"
        limits = shape.idle_limits(cores)
        try:
            container = self._create(name, mounts, limits, {}, role="slot", cpu_shares=2)
            container.start()
            container.reload()
            pid = int(container.attrs["State"].get("Pid") or 0)
            api = self._client.api
            exec_id = api.exec_create(
                container.id,
                agent_command(PYTHON),
                stdin=True,
                stdout=True,
                stderr=True,
                user=USER,
                workdir=WORK_DIR,
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except BaseException as exc:  # the SDK lets some transport errors through unwrapped
            self._remove(name)
            if isinstance(exc, Exception):
                raise SandboxError(f"cannot start warm slot {name}: {_one_line(exc)}") from exc
            raise
        return DockerSlot(self, container, exec_id, sock, pid)

    def _create(
        self,
        name: str,
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
        role: str = "run",
        cpu_shares: int | None = None,
    ) -> Container:
        """Create (not start) a container; role: "run" (cold) or "slot" (warm pool)."""
        memory = limits.memory_mb * MIB
        output_cap = limits.output_mb * MIB
        gpus = []
        if limits.gpu:  # Docker's GPU request (the NVIDIA container toolkit on the host)
            if not gpu_devices():
                raise no_gpu("docker")
            gpus = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
        tmpfs_options = (
            f"rw,nosuid,nodev,noexec,size={limits.tmp_mb}m,nr_inodes={SCRATCH_MAX_INODES}"
        )
        return self._client.containers.create(
            self.image,
            entrypoint=KEEPER[:1],
            command=KEEPER[1:],
            name=name,
            labels={LABEL: role},
            user=USER,
            working_dir=WORK_DIR,
            environment=sandbox_env(env, limits),
            network_mode="none",
            read_only=True,
            tmpfs={
                "/tmp": f"{tmpfs_options},mode=1777",
                WORK_DIR: f"{tmpfs_options},mode=0700,uid={SANDBOX_UID},gid={SANDBOX_GID}",
            },
            mounts=[
                DockerMount(
                    target=m.target,
                    source=str(Path(m.source).resolve()),
                    type="bind",
                    read_only=not m.writable,
                )
                for m in mounts
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges", f"seccomp={self._seccomp}"],
            ipc_mode="private",
            mem_limit=memory,
            memswap_limit=memory,
            shm_size=min(64 * MIB, memory // 4),
            pids_limit=limits.pids,
            cpuset_cpus=",".join(str(core) for core in limits.cpuset),
            nano_cpus=limits.cpus * 10**9,
            cpu_shares=cpu_shares,
            ulimits=[
                Ulimit(name="fsize", soft=output_cap, hard=output_cap),
                Ulimit(name="core", soft=0, hard=0),
            ],
            log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
            device_requests=gpus,
            stdin_open=False,
            tty=False,
        )

    def _execute(
        self,
        container: Container,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
    ) -> RunFacts:
        api = self._client.api
        container.reload()
        pid = int(container.attrs["State"].get("Pid") or 0)
        log.debug("container %s: running %s", container.name, list(command))
        exec_id = api.exec_create(
            container.id, list(command), stdout=True, stderr=True, user=USER, workdir=WORK_DIR
        )["Id"]
        start = time.monotonic()
        deadline = start + limits.wall_s
        tails = _StreamTails(api.exec_start(exec_id, stream=True, demux=True))
        tails.start()
        state = self._wait(exec_id, start, deadline)
        timed_out = state.get("ExitCode") is None
        wall = time.monotonic() - start
        usage = self._usage(container, pid)  # before the kill: the cgroup dies with it
        container.reload()
        oom_killed = bool(container.attrs["State"].get("OOMKilled"))
        self._kill(container)  # and whatever the command left running
        tails.join(timeout=2)
        if tails.is_alive():
            tails.close()
        exit_code, sig = self._exit_status(state.get("ExitCode"))
        overflow = output_overflow(mounts, limits)
        return RunFacts(
            exit_code=exit_code,
            signal=sig,
            wall_s=wall,
            cpu_s=usage.cpu_s if usage else 0.0,
            peak_mb=usage.peak_mb if usage else 0.0,
            oom=oom_killed or (usage is not None and usage.oom_kills > 0),
            timed_out=timed_out,
            output_truncated=bool(overflow),
            output_reason=overflow,
            stdout_tail=tails.text(0),
            stderr_tail=tails.text(1),
            log_truncated=tails.truncated,
        )

    def _wait(self, exec_id: str, start: float, deadline: float) -> dict[str, Any]:
        """Poll the exec until its process has exited or the deadline passes.

        The output stream is no signal of the end: a child left running holds it open.
        """
        while True:
            state: dict[str, Any] = self._client.api.exec_inspect(exec_id)
            now = time.monotonic()
            # Not running with no exit code yet means not started yet.
            if (not state["Running"] and state.get("ExitCode") is not None) or now >= deadline:
                return state
            poll = min(POLL_MAX_S, POLL_MIN_S + 0.01 * (now - start))
            time.sleep(min(poll, deadline - now))

    @staticmethod
    def _exit_status(code: int | None) -> tuple[int | None, int | None]:
        """Return (exit code, signal) from the exec's exit code.

        None means the process was still running at the deadline and got SIGKILL; the
        engine reports death by signal N as 128 + N.
        """
        if code is None:
            return None, 9
        if 128 < code <= 128 + 64:
            return None, code - 128
        return code, None

    def _usage(self, container: Container, pid: int, group: Cgroup | None = None) -> _Usage | None:
        """Return the container's counters, from its cgroup files if this host shows them."""
        layout = self._cgroup_layout
        if group is None and layout is not None:
            group = container_cgroup(layout, str(container.id), pid)
        usage = _cgroup_usage(group) if group else None
        if usage is None:
            if not self._warned_stats:
                log.warning(
                    "the container's cgroup is not visible from the judge; using docker "
                    "stats (peak memory less exact, no OOM counter)"
                )
                self._warned_stats = True
            usage = _api_usage(container)
        return usage

    @staticmethod
    def _kill(container: Container) -> None:
        try:
            container.kill(signal="SIGKILL")
        except APIError as exc:
            if exc.status_code != 409:  # 409: it has already stopped
                raise

    def _remove(self, name: str) -> None:
        """Remove the container by name, if it exists; never raise."""
        try:
            self._client.api.remove_container(name, force=True, v=True)
        except NotFound:
            pass
        except DockerException as exc:
            log.error("could not remove container %s: %s", name, _one_line(exc))


class DockerSlot:
    """A container running the warm agent, waiting for one run (judge.sandbox.pool)."""

    def __init__(
        self, sandbox: DockerSandbox, container: Container, exec_id: str, sock: Any, pid: int
    ) -> None:
        self._sandbox = sandbox
        self._container = container
        self._exec_id = exec_id
        self._sock = sock
        self._pid = pid
        self._ended = threading.Event()
        self.output = AgentOutput()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for stream, chunk in frames_iter(self._sock, False):  # type: ignore[no-untyped-call]
                self.output.feed(0 if stream == STDOUT else 1, chunk)
        except Exception as exc:  # the socket closes under us when the container is killed
            log.debug("warm slot stream ended: %s", _one_line(exc))
        finally:
            self._ended.set()

    def state(self) -> SlotState:
        if self._ended.is_set():
            return SlotState.DEAD
        return SlotState.READY if self.output.ready.is_set() else SlotState.STARTING

    def agent_log(self) -> str:
        return self.output.agent_log()

    def became_ready(self) -> bool:
        return self.output.ready.is_set()

    def memory_bytes(self) -> int | None:
        layout = self._sandbox._cgroup_layout
        group = container_cgroup(layout, str(self._container.id), self._pid) if layout else None
        return group.current_bytes() if group is not None else None

    def run(self, handoff: Handoff, mounts: Sequence[Mount], limits: Limits) -> RunFacts | None:
        sandbox, container = self._sandbox, self._container
        api = sandbox._client.api
        try:
            layout = sandbox._cgroup_layout
            group = container_cgroup(layout, str(container.id), self._pid) if layout else None
            held = group.current_bytes() if group is not None else 0  # the pre-imported stack
            api.update_container(
                str(container.id),
                mem_limit=limits.memory_mb * MIB + held,
                memswap_limit=limits.memory_mb * MIB + held,
                cpuset_cpus=",".join(str(core) for core in limits.cpuset),
                cpu_shares=1024,
            )
            if group is not None:
                group.reset_peak()
            before = sandbox._usage(container, self._pid, group)
            self.output.handed_off()
            start = time.monotonic()
            try:
                getattr(self._sock, "_sock", self._sock).sendall(handoff.encode())
            except OSError:  # the agent is gone
                return None
            state = sandbox._wait(self._exec_id, start, start + limits.wall_s)
            wall = time.monotonic() - start
            after = sandbox._usage(container, self._pid, group)
            container.reload()
            oom_killed = bool(container.attrs["State"].get("OOMKilled"))
            sandbox._kill(container)
        except DockerException as exc:
            raise SandboxError(f"warm run in {container.name} failed: {_one_line(exc)}") from exc
        self._reader.join(timeout=2)
        if not self.output.went.is_set():
            return None
        exit_code, sig = sandbox._exit_status(state.get("ExitCode"))
        overflow = output_overflow(mounts, limits)
        cpu = after.cpu_s - before.cpu_s if after and before else 0.0
        return RunFacts(
            exit_code=exit_code,
            signal=sig,
            wall_s=wall,
            cpu_s=max(cpu, 0.0),
            peak_mb=max(0.0, after.peak_mb - held / MIB) if after else 0.0,
            oom=oom_killed
            or (after is not None and after.oom_kills > (before.oom_kills if before else 0)),
            timed_out=state.get("ExitCode") is None,
            output_truncated=bool(overflow),
            output_reason=overflow,
            stdout_tail=self.output.text(0),
            stderr_tail=self.output.text(1),
            log_truncated=self.output.truncated,
        )

    def destroy(self) -> None:
        # The SDK's SocketIO leaves its socket and HTTP response open when closed itself.
        parts = (getattr(self._sock, "_response", None), getattr(self._sock, "_sock", None))
        for part in (*parts, self._sock):
            try:
                if part is not None:
                    part.close()
            except Exception as exc:
                log.debug("closing a warm slot's connection: %s", _one_line(exc))
        self._sandbox._remove(str(self._container.name))
        self._reader.join(timeout=2)
