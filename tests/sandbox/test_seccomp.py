"""The seccomp rules of both isolating backends: Docker's default kept, the judge's added.

Three layers: the merge and the evaluator on profiles as data (Docker's default is
read from where scripts/setup-host.sh puts it), the bwrap BPF program run by a tiny
interpreter, and real runs on docker and bwrap that open sockets of every kind.
"""

from __future__ import annotations

import copy
import json
import struct
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from judge.errors import SandboxUnavailable
from judge.sandbox import seccomp_bpf
from judge.sandbox.base import Limits, Sandbox
from judge.sandbox.docker import DockerSandbox, seccomp_profile
from judge.sandbox.seccomp_bpf import Instruction
from judge.sandbox.seccomp_profile import (
    DOCKER_DEFAULT_PROFILE,
    JUDGE_PROFILE,
    SETUP_FIX,
    Decision,
    docker_profile,
    evaluate,
    host_kernel,
    load_profile,
    matching_decisions,
    merge,
    socket_families,
)
from tests.backends import get_backend, unavailable

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
AF_KEY, AF_NETLINK, AF_PACKET, AF_ALG, AF_VSOCK = 15, 16, 17, 38, 40
ALLOWED_FAMILIES = (AF_UNIX, AF_INET, AF_INET6)
FAMILIES = range(46)  # AF_MAX is 46 in Linux 6.x
SIGCHLD = 17
CLONE_NEW = {
    "CLONE_NEWTIME": 0x00000080,
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
CLONE_THREAD_FLAGS = 0x003D0F00  # what glibc's pthread_create passes
PERSONALITIES = (0, 8, 0x20000, 0x20008, 0xFFFFFFFF, 1, 0x0040000, 0x0400000, 0x0800000, 0x20001)
EPERM = Decision("errno", 1)
ENOSYS = Decision("errno", 38)
ALLOW = Decision("allow")
KERNEL = host_kernel()
SMALL = Limits(wall_s=20, memory_mb=256, pids=32)


def decide(profile: Mapping[str, Any], name: str, args: Sequence[int] = ()) -> Decision:
    """Evaluate a call as the engine would for this judge's containers: amd64, no capabilities."""
    return evaluate(profile, name, args, caps=(), arch="amd64", kernel=KERNEL)


def probes(name: str) -> list[tuple[int, ...]]:
    """Return argument vectors worth trying for `name`: the conditional ones get many."""
    if name in ("socket", "socketpair"):
        return [(family, 1, 0) for family in FAMILIES]
    if name == "personality":
        return [(value,) for value in PERSONALITIES]
    if name == "clone":
        flags = [SIGCHLD, CLONE_THREAD_FLAGS, 0, *(bit | SIGCHLD for bit in CLONE_NEW.values())]
        return [(value,) for value in flags]
    return [()]


def all_names(*profiles: Mapping[str, Any]) -> set[str]:
    return {name for p in profiles for rule in p["syscalls"] for name in rule["names"]}


def missed_denials(default: Mapping[str, Any], judge: Mapping[str, Any]) -> list[str]:
    """Return each call Docker's default refuses but the judge's docker profile allows."""
    missed = []
    for name in sorted(all_names(default, judge)):
        for args in probes(name):
            if not decide(default, name, args).allowed and decide(judge, name, args).allowed:
                missed.append(f"{name}{args}")
    return missed


# ---- profiles as data ----------------------------------------------------------------


@pytest.fixture(scope="module")
def default() -> dict[str, Any]:
    """Docker's default profile of the installed engine, as setup-host.sh installs it."""
    if not DOCKER_DEFAULT_PROFILE.exists():
        unavailable(f"no {DOCKER_DEFAULT_PROFILE}: {SETUP_FIX}", "docker")
    return load_profile(DOCKER_DEFAULT_PROFILE, SETUP_FIX)


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    """The judge's own list."""
    return load_profile(JUDGE_PROFILE, "reinstall the judge")


@pytest.fixture(scope="module")
def merged(default: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """What the docker backend hands the engine."""
    return merge(default, rules, arch="amd64", kernel=KERNEL)


def unconditional_denials(rules: Mapping[str, Any]) -> dict[str, Decision]:
    return {
        name: Decision("errno", rule["errnoRet"])
        for rule in rules["syscalls"]
        if not rule.get("args")
        for name in rule["names"]
    }


def test_the_merged_profile_refuses_everything_docker_s_default_refuses(
    default: dict[str, Any], merged: dict[str, Any]
) -> None:
    assert missed_denials(default, merged) == []


def test_the_comparison_is_sound_docker_s_default_has_no_conflicting_rules(
    default: dict[str, Any], merged: dict[str, Any]
) -> None:
    for profile in (default, merged):
        for name in all_names(profile):
            for args in probes(name):
                found = matching_decisions(profile, name, args, arch="amd64", kernel=KERNEL)
                assert len({d.allowed for d in found}) <= 1, (name, args, found)


def without_personality_conditions(profile: dict[str, Any]) -> None:
    for rule in profile["syscalls"]:
        if rule["names"] == ["personality"]:
            rule["args"] = []


def with_clone_allowed(profile: dict[str, Any]) -> None:
    profile["syscalls"].append({"names": ["clone"], "action": "SCMP_ACT_ALLOW"})


def allowing_by_default(profile: dict[str, Any]) -> None:
    profile["defaultAction"] = "SCMP_ACT_ALLOW"


@pytest.mark.parametrize(
    ("weaken", "missing"),
    [
        (without_personality_conditions, "personality(1,)"),
        (with_clone_allowed, f"clone({CLONE_NEW['CLONE_NEWUSER'] | SIGCHLD},)"),
        (allowing_by_default, "get_mempolicy()"),  # the default allows it with CAP_SYS_NICE
    ],
)
def test_the_comparison_notices_a_missing_default_denial(
    default: dict[str, Any],
    merged: dict[str, Any],
    weaken: Callable[[dict[str, Any]], None],
    missing: str,
) -> None:
    weakened = copy.deepcopy(merged)
    weaken(weakened)
    assert missing in missed_denials(default, weakened)


def test_the_judge_s_old_deny_list_profile_lost_default_denials(
    default: dict[str, Any], rules: dict[str, Any]
) -> None:
    """What docker got before: the judge's list alone, default ALLOW."""
    missed = missed_denials(default, rules)
    assert "personality(1,)" in missed
    assert "get_mempolicy()" in missed  # allowed by the default only with CAP_SYS_NICE


def test_the_merged_profile_refuses_every_family_but_unix_inet_and_inet6(
    merged: dict[str, Any],
) -> None:
    for name in ("socket", "socketpair"):
        # High bits set: libseccomp compares all 64 bits, so even AF_INET in the low
        # half (all the kernel reads) is refused; safe, and no library passes that.
        for family in (AF_VSOCK, AF_NETLINK, AF_PACKET, AF_ALG, AF_KEY, 0, 45, 2**32 + AF_INET):
            assert decide(merged, name, (family, 1, 0)) == EPERM, (name, family)
        for family in ALLOWED_FAMILIES:
            assert decide(merged, name, (family, 1, 0)) == ALLOW, (name, family)
    assert decide(merged, "socketcall", (1,)) == EPERM  # SYS_SOCKET through the i386 multiplexer


def test_the_merged_profile_refuses_every_name_of_the_judge_s_list(
    rules: dict[str, Any], merged: dict[str, Any]
) -> None:
    denials = unconditional_denials(rules)
    assert {"io_uring_setup", "ptrace", "keyctl", "bpf", "unshare", "clone3"} <= set(denials)
    for name, expected in denials.items():
        assert decide(merged, name) == expected, name
    assert decide(merged, "io_uring_setup") == ENOSYS
    assert decide(merged, "clone3") == ENOSYS


def test_the_merged_profile_refuses_new_namespaces_but_not_threads(merged: dict[str, Any]) -> None:
    for flag, bit in CLONE_NEW.items():
        if flag != "CLONE_NEWTIME":  # an exit-signal bit in clone(); see seccomp_bpf.py
            assert decide(merged, "clone", (bit | SIGCHLD,)) == EPERM, flag
    for flags in (SIGCHLD, CLONE_THREAD_FLAGS, 0x01200011):
        assert decide(merged, "clone", (flags,)) == ALLOW, hex(flags)


def test_the_merged_profile_keeps_the_default_s_architectures_and_shape(
    default: dict[str, Any], merged: dict[str, Any]
) -> None:
    assert merged["archMap"] == default["archMap"]
    assert "architectures" not in merged  # the engine refuses both keys at once
    assert "socketFamilies" not in merged
    assert merged["defaultAction"] == default["defaultAction"]
    assert merged["comment"]
    for rule in merged["syscalls"]:
        assert rule["names"], rule
        assert "socketcall" not in rule["names"]
        if "socket" in rule["names"]:
            assert rule["action"] == "SCMP_ACT_ALLOW"
            assert [(c["index"], c["op"]) for c in rule["args"]] == [(0, "SCMP_CMP_EQ")]
    assert seccomp_profile(DOCKER_DEFAULT_PROFILE) == json.dumps(merged, separators=(",", ":"))


def test_names_the_judge_refuses_leave_every_rule_of_the_default(
    rules: dict[str, Any], merged: dict[str, Any]
) -> None:
    denials = unconditional_denials(rules)
    for rule in merged["syscalls"]:
        if rule["action"] == "SCMP_ACT_ALLOW":
            assert not denials.keys() & set(rule["names"]), rule


# ---- the merge on small profiles -------------------------------------------------------

TINY_BASE: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
    "syscalls": [
        {"names": ["read", "socket", "socketcall", "ptrace"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0x7E020000, "op": "SCMP_CMP_MASKED_EQ"}],
            "excludes": {"caps": ["CAP_SYS_ADMIN"]},
        },
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    ],
}
TINY_JUDGE: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "socketFamilies": {"names": ["socket", "socketpair"], "allow": [1, 2, 10], "errnoRet": 1},
    "syscalls": [
        {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": 1,
            "args": [
                {
                    "index": 0,
                    "value": 0x10000000,
                    "valueTwo": 0x10000000,
                    "op": "SCMP_CMP_MASKED_EQ",
                }
            ],
        },
    ],
}


def tiny_merge(base: Mapping[str, Any] = TINY_BASE) -> dict[str, Any]:
    return merge(base, TINY_JUDGE, arch="amd64", kernel=(6, 1))


def test_a_small_merge_removes_and_adds_exactly_what_the_judge_asks() -> None:
    merged = tiny_merge()
    assert merged["syscalls"][0]["names"] == ["read"]
    assert all(
        "ptrace" not in r["names"] or r["action"] == "SCMP_ACT_ERRNO" for r in merged["syscalls"]
    )
    assert decide(merged, "ptrace") == EPERM
    assert decide(merged, "read") == ALLOW
    assert decide(merged, "socket", (AF_VSOCK,)) == EPERM
    assert decide(merged, "socketpair", (AF_UNIX,)) == ALLOW
    assert decide(merged, "socketcall") == EPERM
    assert decide(merged, "clone", (0x10000000,)) == EPERM
    assert decide(merged, "clone", (SIGCHLD,)) == ALLOW
    assert merged["archMap"] == TINY_BASE["archMap"]
    assert tiny_merge() == merged  # the base is not changed in place


def test_a_base_that_allows_new_user_namespaces_fails_closed() -> None:
    base = copy.deepcopy(TINY_BASE)
    base["syscalls"].append({"names": ["clone"], "action": "SCMP_ACT_ALLOW"})
    with pytest.raises(SandboxUnavailable, match="default profile allows clone"):
        tiny_merge(base)


def test_a_base_that_allows_by_default_fails_closed() -> None:
    with pytest.raises(SandboxUnavailable, match="allows by default"):
        tiny_merge({**TINY_BASE, "defaultAction": "SCMP_ACT_ALLOW"})


def test_a_base_whose_default_errno_is_not_the_families_errno_fails_closed() -> None:
    with pytest.raises(SandboxUnavailable, match="default action"):
        tiny_merge({**TINY_BASE, "defaultErrnoRet": 38})


@pytest.mark.parametrize(
    "families",
    [
        {"names": ["socket"], "allow": [], "errnoRet": 1},
        {"names": [], "allow": [1], "errnoRet": 1},
        {"names": ["socket"], "allow": [1], "errnoRet": 0},
        {"names": ["socket"], "allow": ["AF_UNIX"], "errnoRet": 1},
        ["socket"],
    ],
)
def test_a_malformed_family_list_fails_closed(families: object) -> None:
    with pytest.raises(SandboxUnavailable, match="socketFamilies"):
        socket_families({"socketFamilies": families})


def test_a_missing_or_broken_default_profile_is_unavailable_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match=r"unreadable .*: install .*run make host"):
        docker_profile(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(SandboxUnavailable, match=r"scripts/setup-host\.sh"):
        seccomp_profile(broken)


@pytest.mark.docker
def test_the_docker_backend_will_not_open_without_the_default_profile(tmp_path: Path) -> None:
    get_backend("docker")  # skips where there is no engine
    with pytest.raises(SandboxUnavailable, match="run make host"):
        DockerSandbox.open(seccomp_base=tmp_path / "absent.json")


# ---- the evaluator ---------------------------------------------------------------------


def profile_of(*rules: dict[str, Any], default: str = "SCMP_ACT_ERRNO") -> dict[str, Any]:
    return {"defaultAction": default, "syscalls": list(rules)}


def test_conditions_on_different_arguments_are_anded() -> None:
    rule = {
        "names": ["f"],
        "action": "SCMP_ACT_ALLOW",
        "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"},
        ],
    }
    profile = profile_of(rule)
    assert decide(profile, "f", (1, 2)) == ALLOW
    assert decide(profile, "f", (1, 3)) == EPERM


def test_conditions_on_the_same_argument_are_ored_as_runc_does() -> None:
    """Why the family allow-list is three rules: three NE conditions would match anything."""
    rule = {
        "names": ["socket"],
        "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": f, "op": "SCMP_CMP_NE"} for f in ALLOWED_FAMILIES],
    }
    profile = profile_of(rule, default="SCMP_ACT_ALLOW")
    assert decide(profile, "socket", (AF_UNIX,)) == EPERM
    assert decide(profile, "socket", (AF_VSOCK,)) == EPERM


def test_includes_and_excludes_pick_the_rules_for_this_container() -> None:
    profile = profile_of(
        {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["b"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["c"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
        {"names": ["d"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
        {"names": ["e"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
        {"names": ["f"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    )
    seen = {name: decide(profile, name).allowed for name in "abcdef"}
    assert seen == {"a": False, "b": True, "c": False, "d": False, "e": False, "f": True}
    admin = evaluate(profile, "a", caps=["CAP_SYS_ADMIN"], arch="amd64", kernel=KERNEL)
    assert admin == ALLOW


def test_a_conflict_between_allow_and_errno_reads_as_allowed() -> None:
    profile = profile_of(
        {"names": ["f"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        {"names": ["f"], "action": "SCMP_ACT_ALLOW"},
    )
    assert decide(profile, "f") == ALLOW


def test_default_and_rule_errnos() -> None:
    profile = {
        **profile_of({"names": ["f"], "action": "SCMP_ACT_ERRNO"}),
        "defaultErrnoRet": 38,
    }
    assert decide(profile, "f") == EPERM  # an ERRNO rule without errnoRet is EPERM
    assert decide(profile, "g") == ENOSYS
    assert decide(profile_of(default="SCMP_ACT_KILL_PROCESS"), "g") == Decision("kill")


def test_an_unknown_comparison_fails_closed() -> None:
    rule = {"names": ["f"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_XX"}]}
    with pytest.raises(SandboxUnavailable, match="comparison"):
        decide(profile_of(rule), "f")


# ---- the bwrap filter ------------------------------------------------------------------


def run_filter(program: Sequence[Instruction], nr: int, args: Sequence[int] = ()) -> int:
    """Run a classic BPF seccomp program on one x86_64 call; return its SECCOMP_RET value."""
    padded = [*args, 0, 0, 0, 0, 0, 0][:6]
    data = struct.pack("<IIQ6Q", nr, seccomp_bpf.AUDIT_ARCH_X86_64, 0, *padded)
    accumulator, pc = 0, 0
    for _ in range(len(program)):
        ins = program[pc]
        if ins.code == seccomp_bpf.LD_W_ABS:
            (accumulator,) = struct.unpack_from("<I", data, ins.k)
            pc += 1
        elif ins.code == seccomp_bpf.JEQ_K:
            pc += 1 + (ins.jt if accumulator == ins.k else ins.jf)
        elif ins.code == seccomp_bpf.JSET_K:
            pc += 1 + (ins.jt if accumulator & ins.k else ins.jf)
        elif ins.code == seccomp_bpf.RET_K:
            return ins.k
        else:
            raise AssertionError(f"unexpected instruction {ins}")
    raise AssertionError("the program ran off its end")


def bpf_decision(value: int) -> Decision:
    if value == seccomp_bpf.SECCOMP_RET_ALLOW:
        return ALLOW
    if value & 0xFFFF0000 == seccomp_bpf.SECCOMP_RET_ERRNO:
        return Decision("errno", value & 0xFFFF)
    return Decision("kill")


@pytest.fixture(scope="module")
def program(rules: dict[str, Any]) -> list[Instruction]:
    return seccomp_bpf.build_program(rules)


def bpf(program: Sequence[Instruction], name: str, args: Sequence[int] = ()) -> Decision:
    nr = seccomp_bpf.X86_64_SYSCALLS[name]
    assert nr is not None, name
    return bpf_decision(run_filter(program, nr, args))


def test_the_bwrap_filter_allows_only_unix_inet_and_inet6_sockets(
    program: list[Instruction],
) -> None:
    for name in ("socket", "socketpair"):
        for family in FAMILIES:
            expected = ALLOW if family in ALLOWED_FAMILIES else EPERM
            assert bpf(program, name, (family, 1, 0)) == expected, (name, family)


def test_the_bwrap_filter_reads_the_family_as_the_kernel_does_as_an_int(
    program: list[Instruction],
) -> None:
    assert bpf(program, "socket", ((1 << 32) | AF_INET, 1, 0)) == ALLOW
    assert bpf(program, "socket", ((0xFFFFFFFF << 32) | AF_VSOCK, 1, 0)) == EPERM


def test_the_bwrap_filter_still_refuses_the_rest_and_allows_ordinary_calls(
    program: list[Instruction], rules: dict[str, Any]
) -> None:
    for name, expected in unconditional_denials(rules).items():
        if seccomp_bpf.X86_64_SYSCALLS[name] is not None:
            assert bpf(program, name) == expected, name
    assert bpf(program, "clone", (CLONE_NEW["CLONE_NEWUSER"] | SIGCHLD,)) == EPERM
    assert bpf(program, "clone", (CLONE_THREAD_FLAGS,)) == ALLOW
    assert bpf_decision(run_filter(program, 0)) == ALLOW  # read
    assert bpf_decision(run_filter(program, 0x40000000 | 41, (AF_UNIX,))) == EPERM  # x32 socket


def test_bwrap_and_docker_agree_on_every_call_the_judge_names(
    program: list[Instruction], merged: dict[str, Any]
) -> None:
    for name, nr in seccomp_bpf.X86_64_SYSCALLS.items():
        if nr is None:
            continue
        for args in probes(name):
            if name == "clone" and args[0] & CLONE_NEW["CLONE_NEWTIME"]:
                continue  # an invalid exit signal the kernel refuses; neither filter does
            assert bpf(program, name, args) == decide(merged, name, args), (name, args)


def family_rule(**changes: object) -> dict[str, Any]:
    base = {"names": ["socket"], "allow": [1, 2, 10], "errnoRet": 1}
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "socketFamilies": {**base, **changes},
        "syscalls": [],
    }


@pytest.mark.parametrize(
    "changes",
    [{"names": ["not_a_syscall"]}, {"allow": list(range(40))}, {"errnoRet": 5000}],
    ids=["unknown name", "too many families", "bad errno"],
)
def test_a_family_rule_the_compiler_cannot_express_fails_closed(changes: dict[str, Any]) -> None:
    with pytest.raises(SandboxUnavailable):
        seccomp_bpf.build_program(family_rule(**changes))


def test_the_family_block_is_a_load_three_compares_and_a_refusal() -> None:
    program = seccomp_bpf.build_program(family_rule())
    block = program[6:-1]
    assert block == [
        Instruction(seccomp_bpf.JEQ_K, 0, 6, 41),  # socket, else past the block
        Instruction(seccomp_bpf.LD_W_ABS, 0, 0, 16),  # args[0], low half
        Instruction(seccomp_bpf.JEQ_K, 3, 0, AF_UNIX),
        Instruction(seccomp_bpf.JEQ_K, 2, 0, AF_INET),
        Instruction(seccomp_bpf.JEQ_K, 1, 0, AF_INET6),
        Instruction(seccomp_bpf.RET_K, 0, 0, seccomp_bpf.SECCOMP_RET_ERRNO | 1),
        Instruction(seccomp_bpf.LD_W_ABS, 0, 0, 0),  # nr again
    ]


# ---- real runs on both isolating backends ----------------------------------------------

SOCKET_PROBE = """
import ctypes, errno, json, os, platform, socket

def outcome(make):
    try:
        made = make()
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    for sock in made if isinstance(made, tuple) else (made,):
        sock.close()
    return "OK"

def echo(family, server_address, client_address):
    with socket.socket(family, socket.SOCK_STREAM) as server:
        if family == socket.AF_INET6:
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.bind(server_address)
        server.listen(1)
        with socket.socket(family, socket.SOCK_STREAM) as client:
            client.connect(client_address(server.getsockname()))
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"
    return ()

def raw_socket(family):  # socket(2) on x86_64, the family passed as is, high bits and all
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(ctypes.c_long(41), ctypes.c_long(family), ctypes.c_long(1), ctypes.c_long(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "socket")
    os.close(fd)
    return ()

seen = {
    "vsock": outcome(lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)),
    "vsock_pair": outcome(lambda: socket.socketpair(socket.AF_VSOCK, socket.SOCK_STREAM)),
    "netlink_route": outcome(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)),
    "packet": outcome(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)),
    "alg": outcome(lambda: socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)),
    "unix": outcome(lambda: echo(socket.AF_UNIX, "\\0judge-seccomp-probe", lambda a: a)),
    "unix_pair": outcome(lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)),
    "inet": outcome(lambda: echo(socket.AF_INET, ("127.0.0.1", 0), lambda a: a)),
    # Docker disables IPv6 addresses in the container: the wildcard, reached over IPv4.
    "inet6": outcome(
        lambda: echo(socket.AF_INET6, ("::", 0), lambda a: ("::ffff:127.0.0.1", a[1]))
    ),
}
if platform.machine() == "x86_64":
    seen["vsock_high_bits"] = outcome(lambda: raw_socket((1 << 32) | socket.AF_VSOCK))
print(json.dumps(seen))
"""


def test_sockets_of_other_families_are_refused_and_local_ones_work(
    isolating_backend: Sandbox,
) -> None:
    command = [isolating_backend.python, "-c", textwrap.dedent(SOCKET_PROBE)]
    facts = isolating_backend.run(command, [], SMALL, {})
    assert facts.exit_code == 0, facts.stderr_tail
    seen = json.loads(facts.stdout_tail)
    assert seen.pop("vsock_high_bits", "EPERM") == "EPERM"
    assert seen == {
        "vsock": "EPERM",
        "vsock_pair": "EPERM",
        "netlink_route": "EPERM",
        "packet": "EPERM",
        "alg": "EPERM",
        "unix": "OK",
        "unix_pair": "OK",
        "inet": "OK",
        "inet6": "OK",
    }
