"""The judge's seccomp rules compiled by hand to a classic BPF program, for bwrap.

The judge's rules live in one place, seccomp/judge-seccomp.json. Docker gets them
merged into its own default profile (seccomp_profile.py); bubblewrap takes a compiled
filter on a file descriptor (`--seccomp FD`). libseccomp is not reliably installable
from PyPI, so this module turns the JSON, read as default ALLOW plus denials, into the
program itself.

Only x86_64 is supported. The program:

    load seccomp_data.arch     any other ABI (int 0x80 i386 calls) kills the process
    load seccomp_data.nr       x32 numbers (bit 30 set) fail with EPERM
    for each denied syscall    JEQ nr -> RET ERRNO(errno of its rule)
    for each argument rule     JEQ nr -> load the low half of the argument ->
                               JSET mask -> RET ERRNO; else reload nr and go on
    for socket, socketpair     JEQ nr -> load the low half of argument 0 (the family,
                               an int) -> JEQ each allowed family -> reload nr and go
                               on; none matched -> RET ERRNO (`socketFamilies`)
    RET ALLOW

Argument rules are limited to what the profile uses: SCMP_CMP_MASKED_EQ with a
single-bit mask equal to the value (clone's CLONE_NEW* flags), which is JSET on the
argument's low 32 bits. Anything else in the profile, an unknown syscall name or an
action other than SCMP_ACT_ERRNO fails closed with SandboxUnavailable.

CLONE_NEWTIME (0x80) has no clone rule: in clone() that bit belongs to the exit-signal
byte, and the kernel accepts the flag only from clone3 and unshare, both denied.
"""

from __future__ import annotations

import platform
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.errors import SandboxUnavailable
from judge.sandbox.seccomp_profile import JUDGE_PROFILE, load_profile, socket_families

# Classic BPF opcodes (linux/bpf_common.h).
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
NR_OFFSET = 0
ARCH_OFFSET = 4
ARGS_OFFSET = 16

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
EPERM = 1
MAX_ERRNO = 4095
# Allowed families are tested one JEQ each, within a conditional jump's 8-bit reach.
MAX_FAMILIES = 32

# x86_64 numbers (asm/unistd_64.h) of the names the profile filters. None: the name is
# no x86_64 syscall (i386 or another architecture only), so there is nothing to filter.
X86_64_SYSCALLS: Mapping[str, int | None] = {
    "_sysctl": 156,
    "acct": 163,
    "add_key": 248,
    "adjtimex": 159,
    "bpf": 321,
    "chroot": 161,
    "clock_adjtime": 305,
    "clock_settime": 227,
    "clone": 56,
    "clone3": 435,
    "create_module": 174,
    "delete_module": 176,
    "fanotify_init": 300,
    "finit_module": 313,
    "fsconfig": 431,
    "fsmount": 432,
    "fsopen": 430,
    "fspick": 433,
    "get_kernel_syms": 177,
    "init_module": 175,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "io_uring_setup": 425,
    "ioperm": 173,
    "iopl": 172,
    "kcmp": 312,
    "kexec_file_load": 320,
    "kexec_load": 246,
    "keyctl": 250,
    "lookup_dcookie": 212,
    "mount": 165,
    "mount_setattr": 442,
    "move_mount": 429,
    "name_to_handle_at": 303,
    "nfsservctl": 180,
    "open_by_handle_at": 304,
    "open_tree": 428,
    "perf_event_open": 298,
    "pidfd_getfd": 438,
    "pivot_root": 155,
    "process_madvise": 440,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "ptrace": 101,
    "query_module": 178,
    "quotactl": 179,
    "quotactl_fd": 443,
    "reboot": 169,
    "request_key": 249,
    "setdomainname": 171,
    "sethostname": 170,
    "setns": 308,
    "settimeofday": 164,
    "socket": 41,
    "socketcall": None,  # the i386 multiplexer; i386 calls are killed anyway
    "socketpair": 53,
    "stime": None,
    "swapoff": 168,
    "swapon": 167,
    "sysfs": 139,
    "syslog": 103,
    "umount": None,  # x86_64 has only umount2
    "umount2": 166,
    "unshare": 272,
    "uselib": 134,
    "userfaultfd": 323,
    "ustat": 136,
    "vhangup": 153,
    "vm86": None,
    "vm86old": None,
}


@dataclass(frozen=True)
class Instruction:
    """One struct sock_filter."""

    code: int
    jt: int
    jf: int
    k: int

    def pack(self) -> bytes:
        return struct.pack("<HBBI", self.code, self.jt, self.jf, self.k)

    @classmethod
    def unpack(cls, raw: bytes) -> Instruction:
        code, jt, jf, k = struct.unpack("<HBBI", raw)
        return cls(code, jt, jf, k)


def _load(offset: int) -> Instruction:
    return Instruction(LD_W_ABS, 0, 0, offset)


def _ret(value: int) -> Instruction:
    return Instruction(RET_K, 0, 0, value)


def _errno(value: int) -> int:
    return SECCOMP_RET_ERRNO | value


def _unsupported(what: str) -> SandboxUnavailable:
    return SandboxUnavailable(
        f"seccomp profile {JUDGE_PROFILE.name}: {what}, which the bwrap backend cannot compile: "
        f"extend judge/sandbox/seccomp_bpf.py, or use the docker backend"
    )


def _rule_errno(rule: Mapping[str, Any]) -> int:
    if rule.get("action") != "SCMP_ACT_ERRNO":
        raise _unsupported(f"action {rule.get('action')!r}")
    value = rule.get("errnoRet")
    if not isinstance(value, int) or not 0 < value <= MAX_ERRNO:
        raise _unsupported(f"errnoRet {value!r}")
    return value


def _rule_mask(rule: Mapping[str, Any]) -> tuple[int, int] | None:
    """Return (argument index, bit) of a rule's single condition, or None if it has none."""
    args = rule.get("args") or []
    if not args:
        return None
    if len(args) != 1:
        raise _unsupported("a rule with more than one argument condition")
    (cond,) = args
    index, value, two = cond.get("index"), cond.get("value"), cond.get("valueTwo")
    if (
        cond.get("op") != "SCMP_CMP_MASKED_EQ"
        or not isinstance(index, int)
        or not 0 <= index < 6
        or not isinstance(value, int)
        or value != two
        or not 0 < value < 2**32
        or value & (value - 1)
    ):
        raise _unsupported(f"argument condition {cond!r}")
    return index, value


def _number(name: str) -> int | None:
    if name not in X86_64_SYSCALLS:
        raise _unsupported(f"syscall {name!r} with no x86_64 number in the table")
    return X86_64_SYSCALLS[name]


def build_program(profile: Mapping[str, Any]) -> list[Instruction]:
    """Compile a default-allow deny-list profile to BPF instructions for x86_64."""
    if profile.get("defaultAction") != "SCMP_ACT_ALLOW":
        raise _unsupported(f"defaultAction {profile.get('defaultAction')!r}")
    plain: dict[int, int] = {}  # nr -> errno, first rule wins
    masked: dict[tuple[int, int, int], int] = {}  # (nr, arg index, errno) -> OR of bits
    for rule in profile.get("syscalls", []):
        errno = _rule_errno(rule)
        condition = _rule_mask(rule)
        if "includes" in rule or "excludes" in rule:
            raise _unsupported("a rule with includes or excludes")
        for name in rule.get("names", []):
            nr = _number(name)
            if nr is None:
                continue
            if condition is None:
                plain.setdefault(nr, errno)
            else:
                key = (nr, condition[0], errno)
                masked[key] = masked.get(key, 0) | condition[1]
    program = [
        _load(ARCH_OFFSET),
        Instruction(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _ret(SECCOMP_RET_KILL_PROCESS),
        _load(NR_OFFSET),
        Instruction(JSET_K, 0, 1, X32_SYSCALL_BIT),
        _ret(_errno(EPERM)),
    ]
    for nr, errno in plain.items():
        program += [Instruction(JEQ_K, 0, 1, nr), _ret(_errno(errno))]
    for (nr, index, errno), bits in masked.items():
        if nr in plain:
            continue  # denied outright already
        program += [
            Instruction(JEQ_K, 0, 4, nr),
            _load(ARGS_OFFSET + 8 * index),  # the low 32 bits: x86_64 is little-endian
            Instruction(JSET_K, 0, 1, bits),
            _ret(_errno(errno)),
            _load(NR_OFFSET),
        ]
    program += _family_checks(profile, plain)
    program.append(_ret(SECCOMP_RET_ALLOW))
    return program


def _family_checks(profile: Mapping[str, Any], plain: Mapping[int, int]) -> list[Instruction]:
    """Return the blocks that refuse socket families outside the profile's allow-list."""
    families = socket_families(profile)
    if families is None:
        return []
    if len(families.allow) > MAX_FAMILIES:
        raise _unsupported(f"more than {MAX_FAMILIES} socket families")
    count = len(families.allow)
    program: list[Instruction] = []
    for name in families.names:
        nr = _number(name)
        if nr is None or nr in plain:
            continue  # no such x86_64 syscall, or denied outright already
        program += [
            Instruction(JEQ_K, 0, count + 3, nr),  # not this syscall: past the block
            _load(ARGS_OFFSET),  # the family: argument 0's low 32 bits, as the kernel reads it
            *(
                # An allowed family jumps to the reload of nr below.
                Instruction(JEQ_K, count - i, 0, family)
                for i, family in enumerate(families.allow)
            ),
            _ret(_errno(families.errno)),
            _load(NR_OFFSET),
        ]
    return program


def assemble(program: Sequence[Instruction]) -> bytes:
    """Return the program as the array of struct sock_filter that bwrap reads."""
    return b"".join(instruction.pack() for instruction in program)


def compiled_profile(path: Path = JUDGE_PROFILE) -> bytes:
    """Return the judge's profile compiled for bwrap's `--seccomp FD`.

    Raises SandboxUnavailable off x86_64, or when the profile is unreadable or uses
    something this compiler does not handle.
    """
    machine = platform.machine()
    if machine != "x86_64":
        raise SandboxUnavailable(
            f"the bwrap backend's seccomp filter supports x86_64 only, not {machine}: "
            f"use the docker backend"
        )
    return assemble(build_program(load_profile(path, "reinstall the judge")))
