"""Per-run control groups: limits, accounting and a clean kill, on cgroup v1 or v2.

One `Cgroup` is one run's group, `<mount>/olympiad-judge/<run-id>` in every hierarchy
the judge uses (v1: memory, pids, cpu, cpuacct, cpuset, freezer; v2: the unified tree).
It sets the memory limit with swap disabled, the pids limit and the cpuset, reports
peak memory, OOM kills and CPU time, kills every process in the group and removes
it. It knows nothing of sandboxes: the bwrap backend puts its process in the group.

The parsing of the kernel's files is pure and lives in small functions, so it is
tested with fake files; the rest needs root and a writable cgroupfs.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import signal
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from judge.errors import SandboxError, SandboxUnavailable

log = logging.getLogger(__name__)

PARENT = "olympiad-judge"
MOUNTINFO = Path("/proc/self/mountinfo")

# v1 hierarchies the judge uses; memory and pids are required, the rest are optional.
V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "cpuset", "freezer")
REQUIRED = ("memory", "pids")
# v2 controllers enabled for the judge's subtree, in this order.
V2_CONTROLLERS = ("memory", "pids", "cpu", "cpuset")
UNIFIED = "unified"

FIX = "run the judge as root with a writable cgroupfs, or use the docker backend"


@dataclass(frozen=True)
class CgroupLayout:
    """Where the cgroup filesystems are mounted.

    hierarchies: v1, (controller, mount point) pairs; v2, one ("unified", mount point).
    """

    version: Literal[1, 2]
    hierarchies: tuple[tuple[str, Path], ...]

    def mount(self, controller: str) -> Path | None:
        """Return the mount point holding `controller` (any controller on v2)."""
        if self.version == 2:
            return self.hierarchies[0][1]
        return dict(self.hierarchies).get(controller)


def _unescape(field: str) -> str:
    """Decode the octal escapes (\\040 for a space) of a mountinfo field."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> CgroupLayout:
    """Return the cgroup layout described by the text of /proc/self/mountinfo.

    v1 wins when a v1 memory hierarchy is mounted (hybrid hosts mount an empty
    cgroup2 beside it); otherwise the first cgroup2 mount is the unified tree.
    """
    v1: dict[str, Path] = {}
    unified: Path | None = None
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5:
            continue
        mount_point = Path(_unescape(fields[4]))
        fstype, _, rest = right.partition(" ")
        super_options = rest.split(" ")[-1] if rest else ""
        if fstype == "cgroup":
            for option in super_options.split(","):
                if option in V1_CONTROLLERS:
                    v1.setdefault(option, mount_point)
        elif fstype == "cgroup2" and unified is None:
            unified = mount_point
    if "memory" in v1:
        return CgroupLayout(1, tuple((c, v1[c]) for c in V1_CONTROLLERS if c in v1))
    if unified is not None:
        return CgroupLayout(2, ((UNIFIED, unified),))
    raise SandboxUnavailable(
        "no cgroup filesystem is mounted: mount one (mount -t cgroup2 none /sys/fs/cgroup)"
    )


def detect_layout(mountinfo: Path = MOUNTINFO) -> CgroupLayout:
    """Return the cgroup layout of this machine."""
    try:
        text = mountinfo.read_text(encoding="utf-8")
    except OSError as exc:
        raise SandboxUnavailable(f"cannot read {mountinfo} ({exc.strerror}): mount /proc") from exc
    return parse_mountinfo(text)


def parse_keyed(text: str) -> dict[str, int]:
    """Parse a flat keyed file ("oom_kill 3" per line): memory.events, cpu.stat, ..."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        try:
            values[key] = int(value)
        except ValueError:
            continue
    return values


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """Parse a kernel cpu list ("0-3,6") into sorted cores."""
    cores: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        cores.update(range(int(low), int(high or low) + 1))
    return tuple(sorted(cores))


def format_cpu_list(cores: Iterable[int]) -> str:
    """Format cores as a kernel cpu list ("0,2,3")."""
    return ",".join(str(c) for c in sorted(set(cores)))


def oom_suspected(failcnt: int, peak_bytes: int, limit_bytes: int) -> bool:
    """Guess an OOM kill on v1 kernels without an oom_kill counter.

    The limit was hit (failcnt > 0) and usage reached it within 2% (at least 1 MiB).
    """
    slack = max(1 << 20, limit_bytes // 50)
    return failcnt > 0 and peak_bytes >= limit_bytes - slack


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    if text is None or not text.strip().lstrip("-").isdigit():
        return None
    return int(text.strip())


def _write(path: Path, value: str) -> None:
    """Write `value` to a cgroup file in one write(2), as the kernel wants."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, value.encode("ascii"))
    finally:
        os.close(fd)


def _unavailable(action: str, path: Path, exc: OSError) -> SandboxUnavailable:
    return SandboxUnavailable(f"cannot {action} {path} ({exc.strerror}): {FIX}")


def new_run_id() -> str:
    """Return a fresh, unique name for one run's group."""
    return f"run-{os.getpid()}-{secrets.token_hex(6)}"


class Cgroup:
    """One run's control group, in every hierarchy the judge uses.

    dirs: controller (v1) or "unified" (v2) -> the group's folder; a v1 folder
    shared by co-mounted controllers appears once per controller.
    """

    def __init__(self, layout: CgroupLayout, dirs: Mapping[str, Path]) -> None:
        self.layout = layout
        self.dirs = dict(dirs)
        self._sampled_peak = 0
        # v2: a reset of memory.peak holds only for reads through the descriptor that
        # wrote it (Linux 6.12+), so a reset keeps that descriptor open until removal.
        self._peak_fd: int | None = None

    # ---- creation -------------------------------------------------------------

    @classmethod
    def create(
        cls, layout: CgroupLayout | None = None, parent: str = PARENT, run_id: str | None = None
    ) -> Cgroup:
        """Create a fresh group `<parent>/<run_id>` in every hierarchy.

        Raises SandboxUnavailable when cgroups cannot be created here.
        """
        layout = layout or detect_layout()
        run_id = run_id or new_run_id()
        if layout.version == 2:
            return cls._create_v2(layout, parent, run_id)
        return cls._create_v1(layout, parent, run_id)

    @classmethod
    def _create_v1(cls, layout: CgroupLayout, parent: str, run_id: str) -> Cgroup:
        missing = [c for c in REQUIRED if layout.mount(c) is None]
        if missing:
            raise SandboxUnavailable(
                f"cgroup v1 controller(s) {', '.join(missing)} not mounted: "
                f"mount them under /sys/fs/cgroup, or use the docker backend"
            )
        dirs: dict[str, Path] = {}
        made: list[Path] = []
        try:
            for controller, mount in layout.hierarchies:
                group = mount / parent / run_id
                if group not in made:
                    try:
                        group.mkdir(parents=True)
                    except OSError as exc:
                        raise _unavailable("create the cgroup", group, exc) from exc
                    made.append(group)
                dirs[controller] = group
            if "cpuset" in dirs:
                # A v1 cpuset group is unusable until its cpus and mems are set, and
                # a child may only take what its parent has.
                for group in (dirs["cpuset"].parent, dirs["cpuset"]):
                    for leaf in ("cpuset.cpus", "cpuset.mems"):
                        if (_read(group / leaf) or "").strip():
                            continue
                        try:
                            _write(group / leaf, (_read(group.parent / leaf) or "").strip())
                        except OSError as exc:
                            raise _unavailable("initialise", group / leaf, exc) from exc
        except BaseException:
            for group in reversed(made):
                _rmdir_quietly(group)
            raise
        return cls(layout, dirs)

    @classmethod
    def _create_v2(cls, layout: CgroupLayout, parent: str, run_id: str) -> Cgroup:
        root = layout.hierarchies[0][1]
        available = set((_read(root / "cgroup.controllers") or "").split())
        missing = [c for c in REQUIRED if c not in available]
        if missing:
            raise SandboxUnavailable(
                f"cgroup v2 controller(s) {', '.join(missing)} not available in {root}: "
                f"enable them for the judge's cgroup, or use the docker backend"
            )
        base = root / parent
        try:
            base.mkdir(exist_ok=True)
        except OSError as exc:
            raise _unavailable("create the cgroup", base, exc) from exc
        for folder in (root, base):
            _enable_controllers(folder, [c for c in V2_CONTROLLERS if c in available])
        group = base / run_id
        try:
            group.mkdir()
        except OSError as exc:
            raise _unavailable("create the cgroup", group, exc) from exc
        if not (group / "memory.max").exists() or not (group / "pids.max").exists():
            _rmdir_quietly(group)
            raise SandboxUnavailable(
                f"memory and pids controllers are not delegated to {base}: {FIX}"
            )
        return cls(layout, {UNIFIED: group})

    # ---- limits and membership ------------------------------------------------

    def _dir(self, controller: str) -> Path | None:
        if self.layout.version == 2:
            return self.dirs[UNIFIED]
        return self.dirs.get(controller)

    @property
    def folders(self) -> tuple[Path, ...]:
        """The group's distinct folders, one per hierarchy."""
        return tuple(dict.fromkeys(self.dirs.values()))

    @property
    def procs_files(self) -> tuple[str, ...]:
        """The cgroup.procs file of every hierarchy, for a child to join all of them."""
        return tuple(str(folder / "cgroup.procs") for folder in self.folders)

    def limit(self, memory_bytes: int, pids: int, cpus: Sequence[int] = ()) -> None:
        """Set the memory limit (swap disabled), the pids limit and, if given, the cpuset."""
        try:
            self._limit_memory(memory_bytes)
            pids_dir = self._dir("pids")
            assert pids_dir is not None  # required at creation
            _write(pids_dir / "pids.max", str(pids))
        except OSError as exc:
            raise SandboxError(f"cannot set cgroup limits in {self.folders[0]}: {exc}") from exc
        if cpus:
            self._limit_cpus(cpus)

    def _limit_memory(self, memory_bytes: int) -> None:
        memory = self._dir("memory")
        assert memory is not None  # required at creation
        if self.layout.version == 2:
            _write(memory / "memory.max", str(memory_bytes))
            if (memory / "memory.swap.max").exists():
                _write(memory / "memory.swap.max", "0")
            return
        memsw = memory / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            # memory's limit may never exceed memory+swap's: raise memsw first, lower it last.
            current = _read_int(memory / "memory.limit_in_bytes") or 0
            order = ["memory.limit_in_bytes", memsw.name]
            for name in order if memory_bytes <= current else reversed(order):
                _write(memory / name, str(memory_bytes))
        else:
            _write(memory / "memory.limit_in_bytes", str(memory_bytes))
            try:  # without swap accounting, at least ask the kernel not to swap
                _write(memory / "memory.swappiness", "0")
            except OSError:
                log.debug("cannot set memory.swappiness in %s", memory)

    def _limit_cpus(self, cpus: Sequence[int]) -> None:
        group = self._dir("cpuset")
        if group is None or not (group / "cpuset.cpus").exists():
            log.debug("no cpuset controller; CPU pinning relies on affinity alone")
            return
        try:
            if self.layout.version == 2:
                mems = _read(group.parent / "cpuset.mems.effective") or ""
            else:
                mems = _read(group.parent / "cpuset.mems") or ""
            _write(group / "cpuset.cpus", format_cpu_list(cpus))
            if mems.strip():
                _write(group / "cpuset.mems", mems.strip())
        except OSError as exc:
            log.warning("cannot pin the cgroup to cpus %s: %s", format_cpu_list(cpus), exc)

    def set_weight(self, low: bool) -> None:
        """Give the group the lowest CPU weight (`low`) or the default one; best effort."""
        if self.layout.version == 2:
            path, value = self.dirs[UNIFIED] / "cpu.weight", "1" if low else "100"
        else:
            folder = self._dir("cpu")
            if folder is None:
                return
            path, value = folder / "cpu.shares", "2" if low else "1024"
        if not path.exists():
            log.debug("no CPU weight in %s", path.parent)
            return
        try:
            _write(path, value)
        except OSError as exc:
            log.debug("cannot set the CPU weight in %s: %s", path, exc)

    def reset_peak(self) -> None:
        """Start the peak memory over from the current use (v1, and v2 since Linux 6.12).

        On v2 the reset is seen only through the descriptor that wrote it: peak_bytes
        reads through that one until the group is removed.
        """
        memory = self._dir("memory")
        assert memory is not None
        self._sampled_peak = 0
        if self.layout.version == 1:
            path = memory / "memory.max_usage_in_bytes"
            try:
                _write(path, "0")
            except OSError as exc:
                log.debug("cannot reset the peak memory in %s: %s", path, exc)
            return
        self._close_peak_fd()
        try:
            fd = os.open(memory / "memory.peak", os.O_RDWR)
        except OSError as exc:  # before 5.19 there is no memory.peak: sample() stands in
            log.debug("no memory.peak in %s: %s", memory, exc)
            return
        try:
            os.write(fd, b"reset")
        except OSError as exc:  # before 6.12 the file is read-only: the peak since creation
            os.close(fd)
            log.debug("cannot reset memory.peak in %s: %s", memory, exc)
            return
        self._peak_fd = fd

    def _close_peak_fd(self) -> None:
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None

    def add(self, pid: int) -> None:
        """Move process `pid` into the group in every hierarchy."""
        for procs in self.procs_files:
            _write(Path(procs), str(pid))

    def pids(self) -> set[int]:
        """Return the processes in the group, across every hierarchy."""
        found: set[int] = set()
        for folder in self.folders:
            text = _read(folder / "cgroup.procs") or ""
            found.update(int(line) for line in text.split() if line.isdigit())
        return found

    # ---- accounting -----------------------------------------------------------

    def sample(self) -> None:
        """Record current memory use, for kernels that keep no peak (v2 before 5.19)."""
        memory = self._dir("memory")
        if memory is None or self.layout.version == 1 or (memory / "memory.peak").exists():
            return
        current = _read_int(memory / "memory.current") or 0
        self._sampled_peak = max(self._sampled_peak, current)

    def current_bytes(self) -> int:
        """Return the group's memory use now, in bytes."""
        memory = self._dir("memory")
        assert memory is not None
        name = "memory.usage_in_bytes" if self.layout.version == 1 else "memory.current"
        return _read_int(memory / name) or 0

    def peak_bytes(self) -> int:
        """Return the group's peak memory use in bytes."""
        memory = self._dir("memory")
        assert memory is not None
        if self.layout.version == 1:
            return _read_int(memory / "memory.max_usage_in_bytes") or 0
        if self._peak_fd is not None:
            text = os.pread(self._peak_fd, 64, 0).decode("ascii").strip()
            if text.isdigit():
                return int(text)
        peak = _read_int(memory / "memory.peak")
        if peak is not None:
            return peak
        self.sample()
        return self._sampled_peak

    def oom_kills(self) -> int:
        """Return how many processes the kernel's OOM killer killed in the group."""
        memory = self._dir("memory")
        assert memory is not None
        if self.layout.version == 2:
            return parse_keyed(_read(memory / "memory.events") or "").get("oom_kill", 0)
        control = parse_keyed(_read(memory / "memory.oom_control") or "")
        if "oom_kill" in control:
            return control["oom_kill"]
        failcnt = _read_int(memory / "memory.failcnt") or 0
        limit = _read_int(memory / "memory.limit_in_bytes") or 0
        return int(oom_suspected(failcnt, self.peak_bytes(), limit))

    def cpu_seconds(self) -> float | None:
        """Return the CPU time used by the group, or None without CPU accounting."""
        if self.layout.version == 2:
            usec = parse_keyed(_read(self.dirs[UNIFIED] / "cpu.stat") or "").get("usage_usec")
            return None if usec is None else usec / 1e6
        cpuacct = self._dir("cpuacct")
        nsec = None if cpuacct is None else _read_int(cpuacct / "cpuacct.usage")
        return None if nsec is None else nsec / 1e9

    # ---- teardown -------------------------------------------------------------

    def kill(self, timeout: float = 5.0) -> None:
        """Kill every process in the group and wait until it is empty."""
        group = self._dir("memory")
        assert group is not None
        if self.layout.version == 2 and (group / "cgroup.kill").exists():
            try:
                _write(group / "cgroup.kill", "1")
            except OSError as exc:
                log.warning("cgroup.kill failed in %s: %s", group, exc)
        deadline = time.monotonic() + timeout
        while pids := self.pids():
            frozen = self._freeze(True)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if frozen:
                self._freeze(False)
            if time.monotonic() > deadline:
                log.warning("processes %s outlived a kill of cgroup %s", sorted(pids), group)
                return
            time.sleep(0.001)

    def _freeze(self, frozen: bool) -> bool:
        """Freeze or thaw the group so it cannot fork while being killed; False if unsupported."""
        if self.layout.version == 2:
            path, value = self.dirs[UNIFIED] / "cgroup.freeze", "1" if frozen else "0"
        else:
            folder = self._dir("freezer")
            if folder is None:
                return False
            path, value = folder / "freezer.state", "FROZEN" if frozen else "THAWED"
        if not path.exists():
            return False
        try:
            _write(path, value)
        except OSError:
            return False
        if frozen and self.layout.version == 1:
            deadline = time.monotonic() + 0.5  # FREEZING until every task has stopped
            while (_read(path) or "").strip() != "FROZEN" and time.monotonic() < deadline:
                time.sleep(0.001)
        return True

    def remove(self, timeout: float = 2.0) -> bool:
        """Remove the group's folders, retrying while the kernel lets go; False if one stays."""
        self._close_peak_fd()
        deadline = time.monotonic() + timeout
        removed = True
        for folder in self.folders:
            while True:
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    if exc.errno == errno.EBUSY and time.monotonic() < deadline:
                        time.sleep(0.01)
                        continue
                    log.warning("cannot remove cgroup %s: %s", folder, exc.strerror)
                    removed = False
                break
        return removed

    def __enter__(self) -> Cgroup:
        return self

    def __exit__(self, *_: object) -> None:
        self.kill()
        self.remove()


def _enable_controllers(folder: Path, controllers: Sequence[str]) -> None:
    """Enable `controllers` for the children of a v2 folder; memory and pids must succeed."""
    enabled = set((_read(folder / "cgroup.subtree_control") or "").split())
    for controller in controllers:
        if controller in enabled:
            continue
        try:
            _write(folder / "cgroup.subtree_control", f"+{controller}")
        except OSError as exc:
            if controller not in REQUIRED:
                log.warning("cannot enable the %s controller in %s: %s", controller, folder, exc)
                continue
            if exc.errno == errno.EBUSY:
                raise SandboxUnavailable(
                    f"cannot enable cgroup controllers in {folder} (it holds processes, "
                    f"as in a container): move them to a child cgroup first, "
                    f"or use the docker backend"
                ) from exc
            raise _unavailable("enable cgroup controllers in", folder, exc) from exc


def _rmdir_quietly(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError as exc:
        log.warning("cannot remove cgroup %s: %s", folder, exc.strerror)
