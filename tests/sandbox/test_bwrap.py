"""The bwrap backend: who the run is, what it sees, and that limits hold and nothing lingers."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from judge.errors import SandboxError, SandboxUnavailable
from judge.sandbox import bwrap as bwrap_module
from judge.sandbox import seccomp_bpf, seccomp_profile
from judge.sandbox.base import (
    CODE_DIR,
    OUTPUT_DIR,
    SANDBOX_UID,
    THREAD_ENV_VARS,
    Limits,
    Mount,
    RunFacts,
    Sandbox,
    sandbox_env,
)
from judge.sandbox.cgroups import Cgroup
from judge.sandbox.seccomp_bpf import Instruction
from judge.sandbox.workspace import capped_directory
from tests.backends import get_backend

REPO = Path(__file__).resolve().parents[2]
SMALL = Limits(wall_s=10, memory_mb=256, pids=32, output_mb=4, tmp_mb=8)


@pytest.fixture
def sandbox() -> Sandbox:
    return get_backend("bwrap")


def run_python(
    sandbox: Sandbox,
    code: str,
    limits: Limits = SMALL,
    mounts: Sequence[Mount] = (),
    env: Mapping[str, str] | None = None,
) -> RunFacts:
    return sandbox.run([sandbox.python, "-c", textwrap.dedent(code)], mounts, limits, env or {})


def host_pids_with(marker: str) -> list[int]:
    """Return the host processes whose command line holds `marker`, this one excepted."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry))
    return found


# ---- pure parts ----------------------------------------------------------------------


def test_bwrap_exit_statuses_above_128_are_signals() -> None:
    assert bwrap_module._exit_and_signal(3 << 8) == (3, None)
    assert bwrap_module._exit_and_signal(137 << 8) == (None, signal.SIGKILL)
    assert bwrap_module._exit_and_signal(signal.SIGKILL) == (None, signal.SIGKILL)
    assert bwrap_module._exit_and_signal(255 << 8) == (255, None)


def test_system_binds_hold_the_interpreter_but_not_the_repo_or_homes() -> None:
    roots = bwrap_module._python_roots()
    args = bwrap_module._system_args() + bwrap_module._interpreter_args(roots)
    sources = [args[i + 1] for i, arg in enumerate(args) if arg.endswith("bind")]
    base = os.path.realpath(sys.base_prefix)
    assert any(bwrap_module._within(base, os.path.realpath(s)) for s in [*sources, "/usr"])
    for source in sources:
        assert source not in ("/", "/root", "/home", "/etc", str(REPO))
        assert not Path(source).is_relative_to(REPO / "judge")
        assert not Path(source).is_relative_to(REPO / "reference")


def test_an_interpreter_under_tmp_is_bound_after_the_scratch_tmp() -> None:
    """A clone checked out under /tmp keeps its venv visible above the sandbox's own /tmp."""
    venv = "/tmp/some-clone/.venv"
    args = bwrap_module._interpreter_args([venv])
    pairs = list(itertools.pairwise(args))
    assert ("--dir", "/tmp") not in pairs  # /tmp stays the capped tmpfs, not a skeleton
    assert ("--dir", "/tmp/some-clone") in pairs
    sandbox = bwrap_module.BwrapSandbox.__new__(bwrap_module.BwrapSandbox)
    sandbox._system_args = bwrap_module._system_args()
    sandbox._interpreter_args = args
    outer = sandbox._outer_args([], Limits(wall_s=1, memory_mb=64), {})
    tmp_mount = max(i for i, arg in enumerate(outer) if arg == "--tmpfs" and outer[i + 1] == "/tmp")
    assert outer.index(venv) > tmp_mount


def test_sklearn_data_folders_are_covered_after_the_interpreter_binds() -> None:
    pytest.importorskip("sklearn")
    roots = bwrap_module._python_roots()
    hidden = bwrap_module._hidden_data_args(roots)
    targets = [hidden[i + 1] for i, arg in enumerate(hidden) if arg == "--tmpfs"]
    assert any(t.endswith("/sklearn/datasets/data") for t in targets), hidden
    assert all(os.path.isdir(t) for t in targets)
    assert ("--perms", "0555") in list(itertools.pairwise(hidden))
    sandbox = bwrap_module.BwrapSandbox.__new__(bwrap_module.BwrapSandbox)
    sandbox._system_args = bwrap_module._system_args()
    sandbox._interpreter_args = bwrap_module._interpreter_args(roots) + hidden
    outer = sandbox._outer_args([], Limits(wall_s=1, memory_mb=64), {})
    last_bind = max(
        i for i, arg in enumerate(outer) if arg == "--ro-bind" and outer[i + 1] in roots
    )
    assert outer.index(targets[0]) > last_bind


# ---- the seccomp filter, compiled by hand ------------------------------------------


def decode(program: bytes) -> list[Instruction]:
    assert len(program) % 8 == 0
    return [Instruction.unpack(program[i : i + 8]) for i in range(0, len(program), 8)]


def test_the_profile_compiles_to_one_check_per_denied_syscall() -> None:
    profile = json.loads(seccomp_profile.JUDGE_PROFILE.read_text())
    program = decode(seccomp_bpf.assemble(seccomp_bpf.build_program(profile)))
    denied = {
        seccomp_bpf.X86_64_SYSCALLS[name]
        for rule in profile["syscalls"]
        if not rule.get("args")
        for name in rule["names"]
    } - {None}
    families = profile["socketFamilies"]
    # arch check (3), nr and x32 check (3), two per plain syscall, five for clone, for
    # socket and socketpair a load, a compare per family, a refusal and a reload, allow.
    family_checks = len(families["names"]) * (4 + len(families["allow"]))
    assert len(program) == 6 + 2 * len(denied) + 5 + family_checks + 1
    assert program[0] == Instruction(0x20, 0, 0, 4)  # ld [arch]
    assert program[1] == Instruction(0x15, 1, 0, 0xC000003E)  # jeq x86_64
    assert program[2] == Instruction(0x06, 0, 0, 0x80000000)  # kill process
    assert program[4] == Instruction(0x45, 0, 1, 0x40000000)  # jset x32 bit
    assert program[-1] == Instruction(0x06, 0, 0, 0x7FFF0000)  # allow
    returns = {
        program[i].k: program[i + 1].k
        for i in range(6, len(program) - 1)
        if program[i].code == 0x15 and program[i].jf == 1
    }
    assert returns[425] == 0x50000 | 38  # io_uring_setup: ENOSYS
    assert returns[435] == 0x50000 | 38  # clone3: ENOSYS
    assert returns[250] == 0x50000 | 1  # keyctl: EPERM
    assert returns[101] == 0x50000 | 1  # ptrace: EPERM
    assert 56 not in returns  # clone is checked by its flags
    clone = next(i for i, ins in enumerate(program) if ins == Instruction(0x15, 0, 4, 56))
    new_flags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000
    assert program[clone + 1 : clone + 5] == [
        Instruction(0x20, 0, 0, 16),  # ld args[0] low
        Instruction(0x45, 0, 1, new_flags | 0x20000000 | 0x40000000),
        Instruction(0x06, 0, 0, 0x50000 | 1),
        Instruction(0x20, 0, 0, 0),  # ld nr again
    ]


def test_the_syscall_table_matches_the_kernel_headers() -> None:
    header = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not header.exists():
        pytest.skip("no x86_64 kernel headers here")
    defined = {}
    for line in header.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("__NR_"):
            defined[parts[1].removeprefix("__NR_")] = int(parts[2])
    for name, number in seccomp_bpf.X86_64_SYSCALLS.items():
        assert defined.get(name) == number, name


@pytest.mark.parametrize(
    "rule",
    [
        {"names": ["not_a_syscall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["ptrace"], "action": "SCMP_ACT_KILL"},
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": 1,
            "args": [{"index": 0, "value": 3, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"}],
        },
    ],
)
def test_what_the_compiler_cannot_express_fails_closed(rule: dict[str, object]) -> None:
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}
    with pytest.raises(SandboxUnavailable, match="cannot compile"):
        seccomp_bpf.build_program(profile)


def test_the_filter_is_x86_64_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seccomp_bpf.platform, "machine", lambda: "aarch64")
    with pytest.raises(SandboxUnavailable, match="x86_64 only"):
        seccomp_bpf.compiled_profile()


def test_missing_bubblewrap_is_unavailable_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bwrap_module, "TOOL_PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match=r"^bubblewrap not installed: apt-get install"):
        bwrap_module.BwrapSandbox.open()


# ---- identity ----------------------------------------------------------------------


@pytest.mark.bwrap
def test_runs_as_uid_65534_with_no_capabilities(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        import json, os
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print(json.dumps({
            "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
            "groups": os.getgroups(),
            "caps": {k: int(status[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapBnd")},
            "nnp": status["NoNewPrivs"].strip(),
            "uid_map": open("/proc/self/uid_map").read().split(),
        }))
    """,
    )
    assert facts.exit_code == 0, facts.stderr_tail
    seen = json.loads(facts.stdout_tail)
    assert seen["ids"] == [SANDBOX_UID] * 4
    assert seen["groups"] in ([], [SANDBOX_UID])
    assert seen["caps"] == {"CapEff": 0, "CapPrm": 0, "CapBnd": 0}
    assert seen["nnp"] == "1"
    # The user namespace maps 65534 to 65534: the run is not root on the host either.
    assert seen["uid_map"] == [str(SANDBOX_UID), str(SANDBOX_UID), "1"]


@pytest.mark.bwrap
def test_the_host_sees_the_run_as_uid_65534(sandbox: Sandbox) -> None:
    marker = f"host-uid-{uuid.uuid4().hex}"
    runner = threading.Thread(
        target=run_python, args=(sandbox, f"import time; time.sleep(1.5)  # {marker}")
    )
    runner.start()
    uids: set[int] = set()
    try:
        deadline = time.monotonic() + 3
        while not uids and time.monotonic() < deadline:
            for pid in host_pids_with(marker):
                try:
                    if not Path(f"/proc/{pid}/comm").read_text().startswith("python"):
                        continue  # bwrap and setpriv carry the command line too
                    status = Path(f"/proc/{pid}/status").read_text().splitlines()
                except OSError:
                    continue
                uid_line = next(line for line in status if line.startswith("Uid:"))
                uids.update(int(u) for u in uid_line.split()[1:])
            time.sleep(0.02)
    finally:
        runner.join()
    assert uids == {SANDBOX_UID}


@pytest.mark.bwrap
def test_nested_user_namespaces_are_refused(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        CLONE_NEWUSER = 0x10000000
        print(libc.unshare(CLONE_NEWUSER), os.strerror(ctypes.get_errno()))
    """,
    )
    assert facts.stdout_tail.startswith("-1 "), facts.stdout_tail


@pytest.mark.bwrap
def test_seccomp_denies_the_profile_s_syscalls_inside(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        import ctypes, errno, json, os, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        def call(*args):
            ctypes.set_errno(0)
            result = libc.syscall(*args)
            return errno.errorcode.get(ctypes.get_errno(), "OK") if result < 0 else "OK"
        seen = {
            "io_uring_setup": call(425, 8, ctypes.create_string_buffer(120)),
            "keyctl": call(250, 0, -4, 0),
            "add_key": call(248, b"user", b"probe", b"x", 1, -3),
            "unshare_user": call(272, 0x10000000),
            "clone_newuser": call(56, 0x10000000 | 17, 0, 0, 0, 0),
            "clone3": call(435, 0, 0),
        }
        sibling = subprocess.Popen(["sleep", "5"])
        seen["ptrace_sibling"] = call(101, 16, sibling.pid, 0, 0)  # PTRACE_ATTACH
        sibling.kill()
        seen["fork_and_exec"] = subprocess.run(["true"]).returncode
        print(json.dumps(seen))
    """,
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert json.loads(facts.stdout_tail) == {
        "io_uring_setup": "ENOSYS",
        "keyctl": "EPERM",
        "add_key": "EPERM",
        "unshare_user": "EPERM",
        "clone_newuser": "EPERM",
        "clone3": "ENOSYS",
        "ptrace_sibling": "EPERM",
        "fork_and_exec": 0,
    }


# ---- what the run sees -------------------------------------------------------------


@pytest.mark.bwrap
def test_repo_root_and_home_folders_are_not_visible(sandbox: Sandbox) -> None:
    probes = [REPO / "judge", REPO / "reference", REPO / "pyproject.toml", REPO / ".git"]
    facts = run_python(
        sandbox,
        f"""
        import json, os
        probes = {[str(p) for p in probes]!r}
        print(json.dumps({{
            "visible": [p for p in probes if os.path.lexists(p)],
            "root": sorted(os.listdir("/root")) if os.path.isdir("/root") else [],
            "home": sorted(os.listdir("/home")) if os.path.isdir("/home") else [],
            "etc": sorted(os.listdir("/etc")),
        }}))
    """,
    )
    assert facts.exit_code == 0, facts.stderr_tail
    seen = json.loads(facts.stdout_tail)
    assert seen["visible"] == []
    # /root holds at most the path down to the interpreter (pyenv), nothing else.
    interpreter_dirs = {
        Path(p).relative_to("/root").parts[0]
        for p in (sys.prefix, sys.base_prefix)
        if Path(p).is_relative_to("/root")
    }
    assert set(seen["root"]) <= interpreter_dirs
    assert seen["home"] == []
    assert set(seen["etc"]) <= set(bwrap_module.ETC_FILES)


@pytest.mark.bwrap
def test_environment_is_exactly_what_was_passed_plus_thread_caps(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_SECRET", "judge-secret-4ac2")
    facts = run_python(
        sandbox, "import json, os; print(json.dumps(dict(os.environ)))", env={"SEED": "7"}
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert json.loads(facts.stdout_tail) == sandbox_env({"SEED": "7"}, SMALL)


@pytest.mark.bwrap
def test_host_processes_are_invisible_in_proc(sandbox: Sandbox) -> None:
    tag = uuid.uuid4().hex
    host = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", f"host-process-{tag}"]
    )
    try:  # the run's own command line holds the tag but never the whole marker
        facts = run_python(
            sandbox,
            f"""
            import os
            marker = ("host-process-" + {tag!r}).encode()
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            seen = []
            for pid in pids:
                try:
                    seen.append(open(f"/proc/{{pid}}/cmdline", "rb").read())
                except OSError:
                    pass
            print(len(pids), any(marker in c for c in seen))
        """,
        )
    finally:
        host.kill()
        host.wait()
    count, found = facts.stdout_tail.split()
    assert found == "False"
    assert int(count) <= 6  # bwrap's own few processes and the run


@pytest.mark.bwrap
def test_host_loopback_listener_is_unreachable(
    sandbox: Sandbox, loopback_listener: tuple[int, list[str]]
) -> None:
    port, seen = loopback_listener
    facts = run_python(
        sandbox,
        f"""
        import socket
        # /proc/net/dev, not socket.if_nameindex(): netlink sockets are refused.
        lines = open("/proc/net/dev").read().splitlines()[2:]
        print([line.split(":")[0].strip() for line in lines])
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
            print("connected")
        except OSError as exc:
            print("refused", exc.errno)
    """,
    )
    interfaces, outcome = facts.stdout_tail.splitlines()
    assert interfaces == "['lo']"
    assert outcome.startswith("refused")
    assert seen == []


@pytest.mark.bwrap
def test_mounts_are_read_only_unless_writable_and_scratch_is_capped(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "hello.txt").write_text("hi")
    with capped_directory(tmp_path / "output", 4) as output:
        mounts = [Mount(code, CODE_DIR), Mount(output, OUTPUT_DIR, writable=True)]
        facts = run_python(
            sandbox,
            f"""
            import errno
            print(open("{CODE_DIR}/hello.txt").read())
            for path in ("{CODE_DIR}/new.txt", "/new.txt", "/usr/new.txt"):
                try:
                    open(path, "w")
                    print("wrote", path)
                except OSError as exc:
                    print("refused", errno.errorcode[exc.errno])
            open("{OUTPUT_DIR}/answer.txt", "w").write("42")
            open("/sandbox/work/scratch.txt", "w").write("ok")
            try:
                open("/tmp/big", "wb").write(b"x" * (3 << 20))
            except OSError as exc:
                print("tmp", errno.errorcode[exc.errno])
            """,
            Limits(wall_s=10, memory_mb=256, pids=32, output_mb=4, tmp_mb=2),
            mounts=mounts,
        )
        answer = output / "answer.txt"
        assert answer.read_text() == "42"
        assert answer.stat().st_uid == SANDBOX_UID
    assert facts.exit_code == 0, facts.stderr_tail
    lines = facts.stdout_tail.splitlines()
    assert lines[0] == "hi"
    assert lines[1:4] == ["refused EROFS"] * 3
    assert lines[4] == "tmp ENOSPC"
    assert not (code / "new.txt").exists()


@pytest.mark.bwrap
def test_output_past_the_cap_is_reported_truncated(sandbox: Sandbox, tmp_path: Path) -> None:
    limits = Limits(wall_s=10, memory_mb=256, pids=32, output_mb=1, tmp_mb=8)
    with capped_directory(tmp_path / "output", 1) as output:
        facts = run_python(
            sandbox,
            f"""
            with open("{OUTPUT_DIR}/big.bin", "wb") as f:
                for _ in range(40):
                    f.write(b"x" * 65536)
            """,
            limits,
            mounts=[Mount(output, OUTPUT_DIR, writable=True)],
        )
    assert facts.output_truncated
    assert facts.exit_code != 0 or facts.signal is not None


# ---- outcomes ----------------------------------------------------------------------


@pytest.mark.bwrap
def test_exit_codes_signals_and_logs_are_reported(sandbox: Sandbox) -> None:
    exited = run_python(sandbox, "import sys; print('out'); print('err', file=sys.stderr); exit(3)")
    assert (exited.exit_code, exited.signal) == (3, None)
    assert exited.stdout_tail == "out\n"
    assert exited.stderr_tail == "err\n"
    killed = run_python(sandbox, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert (killed.exit_code, killed.signal) == (None, signal.SIGSEGV)
    assert not killed.oom and not killed.timed_out


@pytest.mark.bwrap
def test_an_interpreter_outside_the_sandbox_makes_open_unavailable(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bwrap_module, "_python_roots", lambda: ["/nonexistent-python-root"])
    with pytest.raises(SandboxUnavailable, match="cannot set up a sandbox here"):
        bwrap_module.BwrapSandbox.open()


@pytest.mark.bwrap
def test_a_failed_setup_is_a_sandbox_error_not_a_crash_of_the_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with pytest.raises(SandboxError, match="set up"):
        sandbox.run(["true"], [Mount(tmp_path / "missing", CODE_DIR)], SMALL, {})


@pytest.mark.bwrap
def test_infinite_loop_is_killed_at_the_wall_limit(sandbox: Sandbox) -> None:
    limits = Limits(wall_s=1, memory_mb=128, pids=16)
    facts = run_python(sandbox, "while True: pass", limits)
    assert facts.timed_out
    assert facts.signal == signal.SIGKILL
    assert 1.0 <= facts.wall_s < 2.5
    assert facts.cpu_s > 0.1  # shared cores make it less than the wall time
    assert not facts.oom


@pytest.mark.bwrap
def test_memory_bomb_reports_oom(sandbox: Sandbox) -> None:
    limits = Limits(wall_s=10, memory_mb=64, pids=16)
    facts = run_python(sandbox, "x = []\nwhile True: x.append(b'x' * (4 << 20))", limits)
    assert facts.oom
    assert not facts.timed_out
    assert facts.peak_mb >= 56


@pytest.mark.bwrap
def test_fork_bomb_is_contained_and_the_next_run_works(sandbox: Sandbox) -> None:
    marker = f"fork-bomb-{uuid.uuid4().hex}"
    limits = Limits(wall_s=2, memory_mb=128, pids=16)
    bomb = run_python(
        sandbox,
        f"""
        import os
        # {marker}
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """,
        limits,
    )
    assert bomb.timed_out
    assert host_pids_with(marker) == []
    after = run_python(sandbox, "print('still fine')", limits)
    assert after.exit_code == 0
    assert after.stdout_tail == "still fine\n"


@pytest.mark.bwrap
def test_double_forked_daemon_leaves_no_process_behind(sandbox: Sandbox) -> None:
    marker = f"daemon-{uuid.uuid4().hex}"
    facts = run_python(
        sandbox,
        f"""
        import os, sys
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c",
                         "import time; time.sleep(1000)", {marker!r}])
            os._exit(0)
        os.wait()
        print("parent done")
    """,
    )
    assert facts.stdout_tail == "parent done\n"
    assert host_pids_with(marker) == []


@pytest.mark.bwrap
def test_cgroup_folders_are_removed_after_each_run(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[Cgroup] = []
    real_create = Cgroup.create

    def spy(*args: object, **kwargs: object) -> Cgroup:
        group = real_create(*args, **kwargs)  # type: ignore[arg-type]
        created.append(group)
        return group

    monkeypatch.setattr(Cgroup, "create", spy)
    run_python(sandbox, "print('ok')")
    run_python(sandbox, "while True: pass", Limits(wall_s=0.5, memory_mb=64, pids=8))
    run_python(
        sandbox,
        "import os; os.fork(); os.fork(); import time; time.sleep(100)",
        Limits(wall_s=0.5, memory_mb=64, pids=8),
    )
    assert len(created) == 3
    for group in created:
        for folder in group.folders:
            assert not folder.exists(), folder


@pytest.mark.bwrap
def test_thread_caps_and_affinity_follow_the_cpuset(sandbox: Sandbox) -> None:
    code = f"""
        import json, os
        print(json.dumps([sorted(os.sched_getaffinity(0)),
                          [os.environ[n] for n in {THREAD_ENV_VARS!r}]]))
    """
    cores = sorted(os.sched_getaffinity(0))
    wanted = [(cores[0],)] + ([tuple(cores[:2]), (cores[1],)] if len(cores) >= 2 else [])
    for cpuset in wanted:
        limits = Limits(wall_s=10, memory_mb=128, pids=16, cpuset=cpuset)
        facts = run_python(sandbox, code, limits)
        affinity, threads = json.loads(facts.stdout_tail)
        assert affinity == list(cpuset)
        assert threads == [str(len(cpuset))] * len(THREAD_ENV_VARS)


@pytest.mark.bwrap
@pytest.mark.slow
def test_torch_imports_and_trains_inside(sandbox: Sandbox) -> None:
    cores = sorted(os.sched_getaffinity(0))[:2]
    limits = Limits(wall_s=120, memory_mb=2048, pids=64, cpuset=tuple(cores))
    facts = run_python(
        sandbox,
        """
        import numpy, torch
        torch.manual_seed(0)
        print(torch.ones(3).sum().item(), torch.get_num_threads())
        model = torch.nn.Linear(4, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(64, 4), torch.randn(64, 1)
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        print(bool(numpy.isfinite(loss.item())))
    """,
        limits,
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert facts.stdout_tail == f"3.0 {len(cores)}\nTrue\n"


@pytest.mark.bwrap
@pytest.mark.slow
def test_sklearn_fits_inside_but_its_bundled_data_is_hidden(sandbox: Sandbox) -> None:
    pytest.importorskip("sklearn")
    limits = Limits(wall_s=120, memory_mb=1024, pids=64)
    facts = run_python(
        sandbox,
        """
        import numpy
        from sklearn import datasets
        from sklearn.linear_model import LogisticRegression
        x = numpy.random.default_rng(0).normal(size=(100, 3))
        y = (x[:, 0] > 0).astype(int)
        print(LogisticRegression().fit(x, y).score(x, y) > 0.9)
        for loader in (datasets.load_iris, datasets.load_digits, datasets.load_diabetes):
            try:
                loader()
            except OSError:
                print("hidden")
            else:
                print("loaded")
    """,
        limits,
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert facts.stdout_tail == "True\nhidden\nhidden\nhidden\n"
