"""The warm pool's logic with scripted slots (no sandbox), and the copy of a run's
outputs out of a slot."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from judge.sandbox.base import (
    CODE_DIR,
    DATA_DIR,
    OUTPUT_DIR,
    SANDBOX_UID,
    Limits,
    Mount,
    RunFacts,
)
from judge.sandbox.pool import CoreIdleness, WarmPool
from judge.sandbox.slots import Handoff, SlotShape, SlotState
from judge.sandbox.workspace import copy_untrusted_tree

PYTHON = "/usr/bin/python3"
FACTS = RunFacts(0, None, 0.1, 0.1, 10.0, False, False, False)
LIMITS = Limits(wall_s=10, memory_mb=1024, cpuset=(0,))
IDLE = CoreIdleness(Path("/nonexistent"))  # every core counts as idle: no flakiness on a busy host


@dataclass
class ScriptedSlot:
    """A slot that is ready at once and, when run, writes `out.txt` or dies before GO."""

    dies: bool = False
    destroyed: bool = False
    ran: list[Handoff] = field(default_factory=list)
    dead: bool = False

    def state(self) -> SlotState:
        if self.dead:
            return SlotState.DEAD
        return SlotState.READY

    def agent_log(self) -> str:
        return "killed while idle" if self.dies else ""

    def became_ready(self) -> bool:
        return True

    def memory_bytes(self) -> int | None:
        return None

    def run(self, handoff: Handoff, mounts: Sequence[Mount], limits: Limits) -> RunFacts | None:
        self.ran.append(handoff)
        if self.dies:
            return None
        output = next(m.source for m in mounts if m.writable)
        code = next(m.source for m in mounts if m.target == CODE_DIR)
        (output / "out.txt").write_text((code / "main.py").read_text())
        return FACTS

    def destroy(self) -> None:
        self.destroyed = True


@dataclass
class ScriptedBackend:
    """Starts ScriptedSlots (the first `dying` of them die before GO); runs cold otherwise."""

    dying: int = 0
    name: str = "scripted"
    isolates: bool = True
    identity: str = "scripted"
    slots: list[ScriptedSlot] = field(default_factory=list)
    cold: list[list[str]] = field(default_factory=list)
    started_on: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def python(self) -> str:
        return PYTHON

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        self.cold.append(list(command))
        return FACTS

    def start_slot(
        self, shape: SlotShape, cores: tuple[int, ...], mounts: Sequence[Mount]
    ) -> ScriptedSlot:
        slot = ScriptedSlot(dies=len(self.slots) < self.dying)
        self.slots.append(slot)
        self.started_on.append(cores)
        return slot

    def close(self) -> None:
        pass


def folders(tmp_path: Path) -> list[Mount]:
    code, data, output = tmp_path / "code", tmp_path / "data", tmp_path / "output"
    for folder in (code, data, output):
        folder.mkdir()
    (code / "main.py").write_text("print('hi')")
    return [Mount(code, CODE_DIR), Mount(data, DATA_DIR), Mount(output, OUTPUT_DIR, True)]


def test_a_fitting_run_goes_to_a_ready_slot_and_its_outputs_come_back(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    with WarmPool(backend, size=1, cores=(0, 1), idleness=IDLE) as pool:
        assert pool.wait_ready(5)
        mounts = folders(tmp_path)
        facts = pool.run([PYTHON, "-I", f"{CODE_DIR}/main.py", "x"], mounts, LIMITS, {"K": "v"})
        assert facts.warm
        assert (tmp_path / "output" / "out.txt").read_text() == "print('hi')"
        handoff = backend.slots[0].ran[0]
        assert handoff.argv == [f"{CODE_DIR}/main.py", "x"]
        assert handoff.env["K"] == "v" and handoff.env["OMP_NUM_THREADS"] == "1"
        assert pool.wait_ready(5)  # a replacement was started
        assert backend.slots[0].destroyed
    assert all(slot.destroyed for slot in backend.slots)
    assert not backend.cold


@pytest.mark.parametrize(
    ("command", "limits"),
    [
        (["/other/python", "-I", f"{CODE_DIR}/main.py"], LIMITS),
        ([PYTHON, "-c", "pass"], LIMITS),
        ([PYTHON, "-I", "-c", "pass"], LIMITS),
        ([PYTHON, "-I", f"{CODE_DIR}/main.py"], Limits(wall_s=10, memory_mb=1024, cpuset=(0, 1))),
        ([PYTHON, "-I", f"{CODE_DIR}/main.py"], Limits(wall_s=10, memory_mb=1024, pids=7)),
        ([PYTHON, "-I", f"{CODE_DIR}/main.py"], Limits(wall_s=10, memory_mb=1024, output_mb=999)),
    ],
)
def test_a_run_of_another_shape_starts_cold(
    tmp_path: Path, command: list[str], limits: Limits
) -> None:
    backend = ScriptedBackend()
    with WarmPool(backend, size=1, cores=(0, 1), idleness=IDLE) as pool:
        assert pool.wait_ready(5)
        facts = pool.run(command, folders(tmp_path), limits, {})
    assert not facts.warm
    assert backend.cold == [command]


def test_other_mounts_or_a_used_output_folder_start_cold(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    command = [PYTHON, "-I", f"{CODE_DIR}/main.py"]
    with WarmPool(backend, size=1, cores=(0, 1), idleness=IDLE) as pool:
        assert pool.wait_ready(5)
        mounts = folders(tmp_path)
        pool.run(command, [*mounts, Mount(tmp_path, "/sandbox/extra")], LIMITS, {})
        (tmp_path / "output" / "old.txt").write_text("left over")
        pool.run(command, mounts, LIMITS, {})
    assert len(backend.cold) == 2


def test_slots_that_died_before_the_run_pass_it_on_and_never_fail_it(tmp_path: Path) -> None:
    backend = ScriptedBackend(dying=5)
    with WarmPool(backend, size=1, cores=(0, 1), wait_s=5, idleness=IDLE) as pool:
        facts = pool.run([PYTHON, "-I", f"{CODE_DIR}/main.py"], folders(tmp_path), LIMITS, {})
    assert not facts.warm  # three slots tried, then a cold start
    assert len(backend.cold) == 1
    assert sum(len(slot.ran) for slot in backend.slots) == 3


@pytest.mark.parametrize("via", ["a run the pool cannot take", "the pool's cold view"])
def test_no_slot_is_started_while_every_core_is_busy(via: str) -> None:
    gate = threading.Event()

    class Slow(ScriptedBackend):
        def run(self, *args: object, **kwargs: object) -> RunFacts:
            gate.wait(5)
            return FACTS

    backend = Slow()
    with WarmPool(backend, size=1, cores=(0,), idleness=IDLE) as pool:
        assert pool.wait_ready(5)
        if via == "a run the pool cannot take":
            command, target = [PYTHON, "-c", "pass"], pool.run
        else:
            command, target = [PYTHON, "-I", f"{CODE_DIR}/main.py"], pool.cold().run
        cold_run = threading.Thread(target=target, args=(command, [], LIMITS, {}))
        cold_run.start()  # core 0, the pool's only core, is busy from now on
        time.sleep(0.2)
        taken = pool._take()  # the ready slot leaves: a refill is due
        assert taken is not None
        time.sleep(0.3)
        assert backend.started_on == [(0,)]  # only the first slot
        gate.set()
        cold_run.join()
        assert pool.wait_ready(5)
        assert backend.started_on == [(0,), (0,)]
        pool._retire(taken)


def test_a_slot_that_dies_idle_is_replaced(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    with WarmPool(backend, size=1, cores=(0, 1), idleness=IDLE) as pool:
        assert pool.wait_ready(5)
        backend.slots[0].dead = True
        deadline = time.monotonic() + 5
        while len(backend.slots) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.wait_ready(5)
        assert backend.slots[0].destroyed
        facts = pool.run([PYTHON, "-I", f"{CODE_DIR}/main.py"], folders(tmp_path), LIMITS, {})
        assert facts.warm


# ---- copying a run's outputs out of a slot ---------------------------------------------


def test_the_copy_keeps_each_kind_of_entry(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    (source / "predictions.csv").write_text("1,2\n")
    (source / "predictions.csv").chmod(0o600)
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "sub" / "deeper" / "a.npy").write_bytes(b"x" * 5000)
    os.link(source / "sub" / "deeper" / "a.npy", source / "b.npy")
    (source / "link").symlink_to("/etc/shadow")
    os.mkfifo(source / "fifo")
    copy_untrusted_tree(source, target, 1 << 20)
    assert (target / "predictions.csv").read_text() == "1,2\n"
    assert stat.S_IMODE((target / "predictions.csv").stat().st_mode) == 0o600
    assert (target / "sub" / "deeper" / "a.npy").read_bytes() == b"x" * 5000
    assert (target / "b.npy").stat().st_ino == (target / "sub" / "deeper" / "a.npy").stat().st_ino
    assert os.readlink(target / "link") == "/etc/shadow"
    assert stat.S_ISFIFO((target / "fifo").lstat().st_mode)


def test_the_copy_stops_at_its_byte_cap(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    (source / "big").write_bytes(b"x" * 3000)
    with pytest.raises(OSError, match="cap"):
        copy_untrusted_tree(source, target, 2000)


def test_the_copy_walks_any_depth_with_few_descriptors(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    target.mkdir()
    fd = os.open(tmp_path, os.O_RDONLY)
    os.mkdir("source", dir_fd=fd)
    for _ in range(400):  # deeper than PATH_MAX allows by name
        inner = os.open("source" if _ == 0 else "d" * 100, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
        os.mkdir("d" * 100, dir_fd=fd)
    os.close(fd)
    before = len(os.listdir("/proc/self/fd"))
    copy_untrusted_tree(source, target, 1 << 20)
    assert len(os.listdir("/proc/self/fd")) == before
    depth, fd = 0, os.open(target, os.O_RDONLY)
    while True:
        try:
            inner = os.open("d" * 100, os.O_RDONLY, dir_fd=fd)
        except FileNotFoundError:
            break
        os.close(fd)
        fd, depth = inner, depth + 1
    os.close(fd)
    assert depth == 400


def test_the_idle_share_of_each_core_comes_from_proc_stat(tmp_path: Path) -> None:
    stat_file = tmp_path / "stat"
    line = "cpu{} {} 0 {} {} 0 0 0 0 0 0\n"
    first = line.format(0, 100, 0, 900) + line.format(1, 0, 0, 1000)
    stat_file.write_text("cpu 1 2 3 4 5 6 7 8\n" + first)
    idleness = CoreIdleness(stat_file)
    assert idleness.share(0) == 0.0  # no interval yet: busy until known
    stat_file.write_text(line.format(0, 190, 0, 910) + line.format(1, 0, 5, 1095))
    idleness._at -= 0.6  # half a second later
    assert idleness.share(0) == pytest.approx(0.1)  # 90 of 100 jiffies busy
    assert idleness.share(1) == pytest.approx(0.95)
    assert idleness.share(7) == 0.0
    idleness._at -= 60  # a sample a minute old says nothing of now
    assert idleness.share(1) == 0.0
    assert CoreIdleness(tmp_path / "missing").share(0) == 1.0


def test_a_run_does_not_wait_for_a_slot_that_cannot_be_ready_in_time(tmp_path: Path) -> None:
    class Starting(ScriptedSlot):
        def state(self) -> SlotState:
            return SlotState.STARTING

    class Slow(ScriptedBackend):
        def start_slot(self, *args: object) -> ScriptedSlot:
            slot = Starting()
            self.slots.append(slot)
            return slot

    backend = Slow()
    with WarmPool(backend, size=1, cores=(0, 1), wait_s=0.5, idleness=IDLE) as pool:
        deadline = time.monotonic() + 5
        while not backend.slots and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        facts = pool.run([PYTHON, "-I", f"{CODE_DIR}/main.py"], folders(tmp_path), LIMITS, {})
        assert not facts.warm
        assert time.monotonic() - started < 0.3  # not the 0.5 s wait: it would be in vain


def test_a_slot_is_one_core() -> None:
    with pytest.raises(ValueError, match="one core"):
        SlotShape(cpus=2)


def test_the_copy_drops_setuid_bits(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    (source / "tool").write_bytes(b"#!/bin/sh\n")
    (source / "tool").chmod(0o6755)
    (source / "folder").mkdir()
    (source / "folder").chmod(0o3777)
    copy_untrusted_tree(source, target, 1 << 20)
    assert stat.S_IMODE((target / "tool").stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "folder").stat().st_mode) == 0o777
    if os.geteuid() == 0:
        assert (target / "tool").stat().st_uid == SANDBOX_UID


def test_a_file_the_judge_may_not_read_is_copied_empty_and_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    (source / "predictions.npy").write_bytes(b"x" * 100)
    real_open = os.open

    def refusing(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if path == "predictions.npy" and not flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing)
    copy_untrusted_tree(source, target, 1 << 20)
    copied = (target / "predictions.npy").stat()
    assert copied.st_size == 0 and stat.S_IMODE(copied.st_mode) == 0
