"""The cgroup layer: kernel file parsing on fake trees, then one real group end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from judge.errors import SandboxUnavailable
from judge.sandbox.cgroups import (
    UNIFIED,
    Cgroup,
    CgroupLayout,
    detect_layout,
    format_cpu_list,
    new_run_id,
    oom_suspected,
    parse_cpu_list,
    parse_keyed,
    parse_mountinfo,
)
from tests.backends import unavailable

MIB = 1024 * 1024

HYBRID_V1 = """\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
"""

UNIFIED_V2 = """\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
"""


# ---- pure parsing -----------------------------------------------------------------


def test_hybrid_host_uses_the_v1_hierarchies_and_ignores_the_empty_unified_tree() -> None:
    layout = parse_mountinfo(HYBRID_V1)
    assert layout.version == 1
    assert layout.mount("memory") == Path("/sys/fs/cgroup/memory")
    assert layout.mount("cpuacct") == Path("/sys/fs/cgroup/cpu,cpuacct")
    assert layout.mount("pids") == Path("/sys/fs/cgroup/pids")
    assert layout.mount("freezer") == Path("/sys/fs/cgroup/freezer")
    assert layout.mount("systemd") is None


def test_unified_host_uses_the_cgroup2_mount_for_every_controller() -> None:
    layout = parse_mountinfo(UNIFIED_V2)
    assert layout == CgroupLayout(2, ((UNIFIED, Path("/sys/fs/cgroup")),))
    assert layout.mount("memory") == layout.mount("pids") == Path("/sys/fs/cgroup")


def test_escaped_mount_points_are_decoded() -> None:
    text = "35 24 0:30 / /mnt/my\\040cgroups rw - cgroup cgroup rw,memory,pids\n"
    assert parse_mountinfo(text).mount("memory") == Path("/mnt/my cgroups")


def test_no_cgroup_mount_is_unavailable_with_a_fix() -> None:
    with pytest.raises(SandboxUnavailable, match="mount -t cgroup2"):
        parse_mountinfo("24 30 0:22 / /sys rw - sysfs sysfs rw\n")


def test_keyed_files_parse_into_counters() -> None:
    events = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n"
    assert parse_keyed(events)["oom_kill"] == 1
    assert parse_keyed("oom_kill_disable 0\nunder_oom 0\n") == {
        "oom_kill_disable": 0,
        "under_oom": 0,
    }
    assert parse_keyed("garbage\nusage_usec 1500000\n") == {"usage_usec": 1500000}


def test_cpu_lists_round_trip() -> None:
    assert parse_cpu_list("0-3,6\n") == (0, 1, 2, 3, 6)
    assert parse_cpu_list("") == ()
    assert format_cpu_list([3, 1, 1, 0]) == "0,1,3"


def test_oom_is_suspected_only_when_the_limit_was_hit_and_reached() -> None:
    limit = 64 * MIB
    assert oom_suspected(failcnt=3, peak_bytes=limit, limit_bytes=limit)
    assert not oom_suspected(failcnt=0, peak_bytes=limit, limit_bytes=limit)
    assert not oom_suspected(failcnt=3, peak_bytes=limit // 2, limit_bytes=limit)


def test_an_unwritable_hierarchy_is_unavailable_with_a_fix() -> None:
    proc = Path("/proc/self")  # no one may create folders here, not even root
    layout = CgroupLayout(1, (("memory", proc), ("pids", proc)))
    with pytest.raises(SandboxUnavailable, match=r"cannot create the cgroup .*: run the judge as"):
        Cgroup.create(layout)


def test_run_ids_are_unique() -> None:
    assert len({new_run_id() for _ in range(100)}) == 100


# ---- fake trees -------------------------------------------------------------------


def fake_v1(tmp_path: Path) -> Cgroup:
    """A v1 group whose kernel files are plain files under tmp_path."""
    controllers = ("memory", "pids", "cpuacct", "cpuset")
    layout = CgroupLayout(1, tuple((c, tmp_path / c) for c in controllers))
    dirs = {}
    for controller in controllers:
        group = tmp_path / controller / "olympiad-judge" / "run-1"
        group.mkdir(parents=True)
        (group / "cgroup.procs").write_text("")
        dirs[controller] = group
    return Cgroup(layout, dirs)


def fake_v2(tmp_path: Path) -> Cgroup:
    group = tmp_path / "olympiad-judge" / "run-1"
    group.mkdir(parents=True)
    (group / "cgroup.procs").write_text("")
    return Cgroup(CgroupLayout(2, ((UNIFIED, tmp_path),)), {UNIFIED: group})


def test_v1_limits_disable_swap_through_memsw(tmp_path: Path) -> None:
    group = fake_v1(tmp_path)
    memory = group.dirs["memory"]
    (memory / "memory.memsw.limit_in_bytes").write_text("max")
    (group.dirs["cpuset"].parent / "cpuset.mems").write_text("0\n")
    group.limit(64 * MIB, 20, cpus=(1, 0))
    assert (memory / "memory.limit_in_bytes").read_text() == str(64 * MIB)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(64 * MIB)
    assert (group.dirs["pids"] / "pids.max").read_text() == "20"
    assert not (group.dirs["cpuset"] / "cpuset.cpus").exists()  # no kernel file: no cpuset


def test_v1_without_swap_accounting_asks_for_no_swapping(tmp_path: Path) -> None:
    group = fake_v1(tmp_path)
    group.limit(64 * MIB, 20)
    assert (group.dirs["memory"] / "memory.swappiness").read_text() == "0"


def test_v1_accounting_reads_peak_oom_and_cpu(tmp_path: Path) -> None:
    group = fake_v1(tmp_path)
    memory = group.dirs["memory"]
    (memory / "memory.max_usage_in_bytes").write_text(f"{50 * MIB}\n")
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (group.dirs["cpuacct"] / "cpuacct.usage").write_text("1500000000\n")
    assert group.peak_bytes() == 50 * MIB
    assert group.oom_kills() == 2
    assert group.cpu_seconds() == pytest.approx(1.5)


def test_v1_without_an_oom_counter_falls_back_to_failcnt_at_the_limit(tmp_path: Path) -> None:
    group = fake_v1(tmp_path)
    memory = group.dirs["memory"]
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\n")
    (memory / "memory.limit_in_bytes").write_text(f"{64 * MIB}\n")
    (memory / "memory.max_usage_in_bytes").write_text(f"{64 * MIB}\n")
    (memory / "memory.failcnt").write_text("0\n")
    assert group.oom_kills() == 0
    (memory / "memory.failcnt").write_text("17\n")
    assert group.oom_kills() == 1


def test_v2_limits_set_max_swap_pids_and_cpuset(tmp_path: Path) -> None:
    group = fake_v2(tmp_path)
    folder = group.dirs[UNIFIED]
    for name in ("memory.swap.max", "cpuset.cpus"):
        (folder / name).write_text("")
    (folder.parent / "cpuset.mems.effective").write_text("0\n")
    group.limit(128 * MIB, 40, cpus=(2, 0))
    assert (folder / "memory.max").read_text() == str(128 * MIB)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "40"
    assert (folder / "cpuset.cpus").read_text() == "0,2"
    assert (folder / "cpuset.mems").read_text() == "0"


def test_v2_accounting_reads_events_and_cpu_stat(tmp_path: Path) -> None:
    group = fake_v2(tmp_path)
    folder = group.dirs[UNIFIED]
    (folder / "memory.peak").write_text(f"{30 * MIB}\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (folder / "cpu.stat").write_text("usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n")
    assert group.peak_bytes() == 30 * MIB
    assert group.oom_kills() == 1
    assert group.cpu_seconds() == pytest.approx(0.25)


def test_v2_peak_after_a_reset_is_read_through_the_descriptor_that_reset_it(
    tmp_path: Path,
) -> None:
    group = fake_v2(tmp_path)
    peak = group.dirs[UNIFIED] / "memory.peak"
    peak.write_text(f"{300 * MIB}\n")  # the peak since creation: the warm slot's imports
    group.reset_peak()
    # The kernel answers the resetting descriptor with the peak since the reset, and any
    # other descriptor with the peak since creation: a new file at the path stands in.
    peak.write_text(f"{50 * MIB}\n")
    fresh = peak.with_name("fresh")
    fresh.write_text(f"{300 * MIB}\n")
    fresh.replace(peak)
    assert group.peak_bytes() == 50 * MIB
    group.remove()
    assert group.peak_bytes() == 300 * MIB  # removal let the descriptor go


def test_v2_without_memory_peak_keeps_the_highest_sample(tmp_path: Path) -> None:
    group = fake_v2(tmp_path)
    current = group.dirs[UNIFIED] / "memory.current"
    for value in (10, 70, 20):
        current.write_text(f"{value * MIB}\n")
        group.sample()
    assert group.peak_bytes() == 70 * MIB


def test_missing_accounting_files_read_as_nothing(tmp_path: Path) -> None:
    group = fake_v2(tmp_path)
    assert group.cpu_seconds() is None
    assert group.oom_kills() == 0
    assert group.pids() == set()


def test_pids_are_gathered_from_every_hierarchy(tmp_path: Path) -> None:
    group = fake_v1(tmp_path)
    (group.dirs["memory"] / "cgroup.procs").write_text("10\n11\n")
    (group.dirs["pids"] / "cgroup.procs").write_text("11\n12\n")
    assert group.pids() == {10, 11, 12}
    assert len(group.procs_files) == 4


# ---- the real hierarchy -----------------------------------------------------------


@pytest.fixture
def real_group() -> Cgroup:
    if os.geteuid() != 0:
        unavailable("real cgroups need root", "bwrap")
    try:
        return Cgroup.create(detect_layout())
    except SandboxUnavailable as exc:
        unavailable(str(exc), "bwrap")
        raise AssertionError("unreachable") from exc


@pytest.mark.bwrap
def test_a_real_group_limits_accounts_kills_and_leaves_nothing(real_group: Cgroup) -> None:
    group = real_group
    try:
        group.limit(64 * MIB, 8, cpus=(0,))
        memory = group.dirs.get("memory") or group.dirs[UNIFIED]
        limit_file = "memory.max" if group.layout.version == 2 else "memory.limit_in_bytes"
        assert int((memory / limit_file).read_text()) == 64 * MIB
        pids_dir = group.dirs.get("pids") or group.dirs[UNIFIED]
        assert (pids_dir / "pids.max").read_text().strip() == "8"
        sleeper = subprocess.Popen(["sleep", "1000"])
        group.add(sleeper.pid)
        assert group.pids() == {sleeper.pid}
        assert group.peak_bytes() >= 0
        assert group.oom_kills() == 0
        assert (group.cpu_seconds() or 0.0) >= 0.0
        group.kill()
        assert sleeper.wait(timeout=5) == -9
        assert group.pids() == set()
    finally:
        group.kill()
        assert group.remove()
    for folder in group.folders:
        assert not folder.exists()


@pytest.mark.bwrap
def test_a_real_group_counts_an_oom_kill(real_group: Cgroup) -> None:
    group = real_group
    code = "import os, sys\nsys.stdin.read(1)\nx = [b'x' * (8 << 20) for _ in range(64)]"
    try:
        group.limit(48 * MIB, 8)
        hog = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
        group.add(hog.pid)
        assert hog.stdin is not None
        hog.stdin.write(b"go")
        hog.stdin.close()
        assert hog.wait(timeout=20) == -9
        assert group.oom_kills() >= 1
        assert group.peak_bytes() >= 40 * MIB
        assert (group.cpu_seconds() or 0.0) > 0.0
    finally:
        group.kill()
        assert group.remove()
