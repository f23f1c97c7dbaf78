"""The docker backend's seccomp profile: Docker's default allow-list plus the judge's denials.

The judge's own list (seccomp/judge-seccomp.json) says what to refuse: a deny list
of syscalls, clone with CLONE_NEW* flags, and an allow-list of socket families
(`socketFamilies`, a key only the judge reads). bwrap gets that list compiled to BPF
(seccomp_bpf.py). Docker gets Docker's own default profile with the judge's list
merged in, so no rule of the default is ever lost: a profile passed to the engine
replaces the default instead of adding to it.

The default is third-party content and is not kept in this repository:
scripts/setup-host.sh extracts the engine's own copy from Debian's
golang-github-docker-docker-dev package to DOCKER_DEFAULT_PROFILE. The merge:

    unconditional denial    the name leaves every rule of the base; an ERRNO rule with
                            the judge's errno is added
    conditional denial      (clone with a CLONE_NEW* bit) the merged profile must already
                            refuse it for a container with no capabilities, checked
                            with `evaluate`; else the merge fails closed (an ERRNO rule
                            beside the base's conditional ALLOW rule would leave the
                            outcome to libseccomp's rule order)
    socket, socketpair      every base rule goes; one ALLOW rule per allowed family
                            (arg0 SCMP_CMP_EQ), so any other family meets the default
                            action, which must be the judge's errno
    socketcall              removed: the i386 multiplexer hides its arguments

`evaluate` answers what a profile in Docker's JSON form does with one call, as the
engine and runc would apply it (see its docstring); the merge checks its own result
with it, and any surprise is SandboxUnavailable, never a weaker filter.
"""

from __future__ import annotations

import copy
import json
import logging
import platform
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any, Literal

from judge.errors import SandboxUnavailable

log = logging.getLogger(__name__)

JUDGE_PROFILE = Path(__file__).parent / "seccomp" / "judge-seccomp.json"
DOCKER_DEFAULT_PROFILE = Path("/usr/local/share/olympiad-judge/docker-default-seccomp.json")
SETUP_FIX = "run make host (scripts/setup-host.sh)"

ALLOW = "SCMP_ACT_ALLOW"
ERRNO = "SCMP_ACT_ERRNO"
EPERM = 1
ENOSYS = 38
MAX_ERRNO = 4095
U64 = 2**64 - 1
# Families the kernel may know (AF_MAX is 46 in Linux 6.x), checked after the merge.
FAMILY_PROBES = range(64)
# Flags a real clone carries beside the one a conditional rule tests: none, a fork
# (SIGCHLD, CHILD_SETTID, CHILD_CLEARTID), a thread (VM, FS, FILES, SIGHAND, THREAD,
# SYSVSEM, SETTLS, PARENT_SETTID, CHILD_CLEARTID), every low bit, garbage high bits.
EXTRA_FLAG_PROBES = (0, 0x11, 0x01200011, 0x003D0F00, 0xFFFFFFFF, 0xFFFFFFFF_00000000)
# What the engine calls this machine in a rule's includes/excludes "arches".
GO_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "s390x": "s390x"}

COMPARISONS: Mapping[str, Callable[[int, int, int], bool]] = {
    "SCMP_CMP_NE": lambda arg, value, _two: arg != value,
    "SCMP_CMP_LT": lambda arg, value, _two: arg < value,
    "SCMP_CMP_LE": lambda arg, value, _two: arg <= value,
    "SCMP_CMP_EQ": lambda arg, value, _two: arg == value,
    "SCMP_CMP_GE": lambda arg, value, _two: arg >= value,
    "SCMP_CMP_GT": lambda arg, value, _two: arg > value,
    "SCMP_CMP_MASKED_EQ": lambda arg, value, two: arg & value == two,
}


@dataclass(frozen=True)
class Decision:
    """What a seccomp profile does with one call: allow, fail with an errno, or kill."""

    action: Literal["allow", "errno", "kill"]
    errno: int = 0

    @property
    def allowed(self) -> bool:
        """Whether the call reaches the kernel."""
        return self.action == "allow"

    def __str__(self) -> str:
        return f"errno {self.errno}" if self.action == "errno" else self.action


@dataclass(frozen=True)
class SocketFamilies:
    """The judge's allow-list of address families for socket() and socketpair()."""

    names: tuple[str, ...]
    allow: tuple[int, ...]
    errno: int


def _invalid(what: str) -> SandboxUnavailable:
    return SandboxUnavailable(f"seccomp profile: {what}; the sandbox will not run unfiltered")


def load_profile(path: Path, fix: str) -> dict[str, Any]:
    """Read a JSON seccomp profile; SandboxUnavailable naming `fix` if that fails."""
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise SandboxUnavailable(f"seccomp profile {path} unreadable ({reason}): {fix}") from None
    if not isinstance(profile, dict) or not isinstance(profile.get("syscalls"), list):
        raise SandboxUnavailable(f"seccomp profile {path} has no list of syscalls: {fix}")
    return profile


def _errno_value(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ERRNO:
        raise _invalid(f"{what} errnoRet {value!r}")
    return value


def socket_families(profile: Mapping[str, Any]) -> SocketFamilies | None:
    """Return the profile's `socketFamilies` allow-list, None if it has none."""
    spec = profile.get("socketFamilies")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _invalid(f"socketFamilies {spec!r} is not an object")
    names, allow = spec.get("names"), spec.get("allow")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise _invalid(f"socketFamilies names {names!r}")
    if (
        not isinstance(allow, list)
        or not allow
        or not all(isinstance(f, int) and not isinstance(f, bool) and 0 <= f < 2**32 for f in allow)
    ):
        raise _invalid(f"socketFamilies allow {allow!r}")
    errno = _errno_value(spec.get("errnoRet"), "socketFamilies")
    return SocketFamilies(tuple(names), tuple(dict.fromkeys(allow)), errno)


# ---- the evaluator -------------------------------------------------------------------


def host_kernel() -> tuple[int, int]:
    """Return this machine's kernel version as (major, minor)."""
    return _version(platform.release())


def host_arch() -> str:
    """Return this machine's architecture as the engine names it in rules ("amd64")."""
    machine = platform.machine()
    return GO_ARCHES.get(machine, machine)


def _version(text: str) -> tuple[int, int]:
    found = re.match(r"(\d+)\.(\d+)", text)
    if found is None:
        raise _invalid(f"kernel version {text!r}")
    return int(found[1]), int(found[2])


def _names(rule: Mapping[str, Any]) -> list[str]:
    names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _invalid(f"rule names {names!r}")
    return names


def _applies(
    rule: Mapping[str, Any], caps: frozenset[str], arch: str, kernel: tuple[int, int]
) -> bool:
    """Whether the engine keeps the rule for this container (moby's setupSeccomp)."""
    excludes = rule.get("excludes") or {}
    includes = rule.get("includes") or {}
    if arch in (excludes.get("arches") or []):
        return False
    if any(cap in caps for cap in excludes.get("caps") or []):
        return False
    if excludes.get("minKernel") and kernel >= _version(excludes["minKernel"]):
        return False
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if not all(cap in caps for cap in includes.get("caps") or []):
        return False
    return not (includes.get("minKernel") and kernel < _version(includes["minKernel"]))


def _condition(cond: Mapping[str, Any], args: Sequence[int]) -> bool:
    index, op = cond.get("index"), cond.get("op")
    value, two = cond.get("value", 0), cond.get("valueTwo", 0)
    if not isinstance(index, int) or not 0 <= index < 6:
        raise _invalid(f"argument index {index!r}")
    if not isinstance(op, str) or op not in COMPARISONS:
        raise _invalid(f"comparison {op!r}")
    if not all(isinstance(v, int) and 0 <= v <= U64 for v in (value, two)):
        raise _invalid(f"comparison values {value!r}, {two!r}")
    arg = (args[index] if index < len(args) else 0) & U64
    return COMPARISONS[op](arg, value, two)


def _matches(rule: Mapping[str, Any], args: Sequence[int]) -> bool:
    """Whether the rule's conditions hold, as runc adds them to libseccomp.

    Conditions are ANDed, except that when two or more test the same argument runc
    adds every condition as a rule of its own, so they are ORed.
    """
    conditions = rule.get("args") or []
    if not conditions:
        return True
    indexes = [cond.get("index") for cond in conditions]
    if len(set(indexes)) < len(indexes):
        return any(_condition(cond, args) for cond in conditions)
    return all(_condition(cond, args) for cond in conditions)


def _decision(action: object, errno_ret: object) -> Decision:
    if action in (ALLOW, "SCMP_ACT_LOG"):
        return Decision("allow")
    if action == ERRNO:
        errno = EPERM if errno_ret is None else _errno_value(errno_ret, "a rule's")
        return Decision("errno", errno)
    if action == "SCMP_ACT_TRACE":  # with no tracer attached, the kernel answers ENOSYS
        return Decision("errno", ENOSYS)
    if action in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS"):
        return Decision("kill")
    if action == "SCMP_ACT_TRAP":
        return Decision("kill")  # SIGSYS, which kills a process that does not handle it
    raise _invalid(f"action {action!r}")


def matching_decisions(
    profile: Mapping[str, Any],
    name: str,
    args: Sequence[int] = (),
    *,
    caps: Iterable[str] = (),
    arch: str = "amd64",
    kernel: tuple[int, int] | None = None,
) -> list[Decision]:
    """Return the decisions of every rule that applies to the container and matches the call."""
    caps = frozenset(caps)
    kernel = kernel or host_kernel()
    found = []
    for rule in profile.get("syscalls") or []:
        if name not in _names(rule) or not _applies(rule, caps, arch, kernel):
            continue
        if _matches(rule, args):
            found.append(_decision(rule.get("action"), rule.get("errnoRet")))
    return found


def evaluate(
    profile: Mapping[str, Any],
    name: str,
    args: Sequence[int] = (),
    *,
    caps: Iterable[str] = (),
    arch: str = "amd64",
    kernel: tuple[int, int] | None = None,
) -> Decision:
    """Return what the profile does with the call `name(*args)` in a container.

    Mimics the engine and runc: rules whose includes or excludes (capabilities,
    architectures, minKernel) rule them out for this container are dropped; a rule
    matches when its conditions hold (see _matches); with no matching rule the
    defaultAction (and defaultErrnoRet, EPERM if absent) decides. Missing arguments
    are 0. When rules that allow and rules that refuse both match, which wins in
    libseccomp depends on the shape of its rule tree, so the answer is "allow": every
    check made with this evaluator asks whether a call is surely refused, and this
    way a conflict can only fail such a check. When several refusing rules match (and
    none allows), the first in the profile decides.
    """
    decisions = matching_decisions(profile, name, args, caps=caps, arch=arch, kernel=kernel)
    if not decisions:
        return _decision(profile.get("defaultAction"), profile.get("defaultErrnoRet"))
    for decision in decisions:
        if decision.allowed:
            return decision
    return decisions[0]


# ---- the merge -----------------------------------------------------------------------


def _condition_probes(conditions: Sequence[Mapping[str, Any]]) -> Iterator[tuple[int, ...]]:
    """Yield argument vectors for which every condition holds, with common extra flags.

    Only SCMP_CMP_EQ and SCMP_CMP_MASKED_EQ conditions can be probed this way; any
    other comparison fails closed.
    """
    choices: dict[int, list[int]] = {}
    for cond in conditions:
        index, op = cond.get("index"), cond.get("op")
        value, two = cond.get("value", 0), cond.get("valueTwo", 0)
        if not isinstance(index, int) or not 0 <= index < 6 or index in choices:
            raise _invalid(f"a conditional denial with argument index {index!r}")
        if not isinstance(value, int) or not isinstance(two, int):
            raise _invalid(f"a conditional denial with values {value!r}, {two!r}")
        if op == "SCMP_CMP_EQ":
            choices[index] = [value]
        elif op == "SCMP_CMP_MASKED_EQ" and two & value == two:
            choices[index] = [(extra & ~value & U64) | two for extra in EXTRA_FLAG_PROBES]
        else:
            raise _invalid(f"a conditional denial with comparison {cond!r}")
    indexes = sorted(choices)
    for values in product(*(choices[i] for i in indexes)):
        args = [0] * 6
        for index, value in zip(indexes, values, strict=True):
            args[index] = value
        yield tuple(args)


def _judge_rules(judge: Mapping[str, Any]) -> Iterator[tuple[str, int, list[Any]]]:
    """Yield (name, errno, conditions) for every denial of the judge's list."""
    for rule in judge.get("syscalls") or []:
        if rule.get("action") != ERRNO:
            raise _invalid(f"the judge's rule action {rule.get('action')!r} is not {ERRNO}")
        if rule.get("includes") or rule.get("excludes"):
            raise _invalid("a judge rule with includes or excludes")
        errno = _errno_value(rule.get("errnoRet"), "the judge's")
        conditions = rule.get("args") or []
        for name in _names(rule):
            yield name, errno, conditions


def merge(
    base: Mapping[str, Any],
    judge: Mapping[str, Any],
    *,
    arch: str | None = None,
    kernel: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Return Docker's default profile `base` with the judge's denials merged in.

    `arch` and `kernel` (default: this machine's) are those the self-checks assume.
    Raises SandboxUnavailable when the result would not refuse all the judge refuses.
    """
    arch = arch or host_arch()
    kernel = kernel or host_kernel()
    default = _decision(base.get("defaultAction"), base.get("defaultErrnoRet"))
    if default.allowed:
        raise _invalid("the base profile allows by default, so it is no allow-list to add to")
    denials = list(_judge_rules(judge))
    plain: dict[str, int] = {}  # name -> errno; the first rule naming it wins, as in bwrap
    for name, errno, conditions in denials:
        if not conditions:
            plain.setdefault(name, errno)
    families = socket_families(judge)
    family_names = set(families.names) if families else set()
    dropped = set(plain) | family_names | {"socketcall"}

    merged = {key: copy.deepcopy(value) for key, value in base.items() if key != "syscalls"}
    merged["comment"] = [
        "Docker's default seccomp profile (from the engine's Debian package, see",
        "scripts/setup-host.sh) with the judge's denials of judge-seccomp.json merged in",
        "by judge/sandbox/seccomp_profile.py: denied names taken out of every rule and",
        "given ERRNO rules, socket and socketpair allowed for the listed families only,",
        "socketcall removed.",
    ]
    rules = []
    for rule in base.get("syscalls") or []:
        kept = [name for name in _names(rule) if name not in dropped]
        if kept:
            kept_rule = copy.deepcopy(dict(rule))
            kept_rule.pop("name", None)
            rules.append({**kept_rule, "names": kept})
    by_errno: dict[int, list[str]] = {}
    for name, errno in plain.items():
        by_errno.setdefault(errno, []).append(name)
    for errno, names in sorted(by_errno.items()):
        rules.append(
            {
                "names": sorted(names),
                "action": ERRNO,
                "errnoRet": errno,
                "comment": "the judge's denials (judge-seccomp.json)",
            }
        )
    if families:
        if default != Decision("errno", families.errno):
            raise _invalid(
                f"the base profile's default action ({default}) is not the errno "
                f"{families.errno} socketFamilies asks for other families"
            )
        for family in families.allow:
            rules.append(
                {
                    "names": list(families.names),
                    "action": ALLOW,
                    "args": [{"index": 0, "value": family, "op": "SCMP_CMP_EQ"}],
                    "comment": f"the judge's socket families: {family}",
                }
            )
    merged["syscalls"] = rules
    _check(merged, denials, families, arch, kernel)
    log.debug(
        "merged seccomp profile: %d rules, from the base's %d",
        len(rules),
        len(base.get("syscalls") or []),
    )
    return merged


def _check(
    merged: Mapping[str, Any],
    denials: Sequence[tuple[str, int, list[Any]]],
    families: SocketFamilies | None,
    arch: str,
    kernel: tuple[int, int],
) -> None:
    """Fail closed unless the merged profile refuses every call the judge's list refuses."""

    def decide(name: str, args: Sequence[int] = ()) -> Decision:
        return evaluate(merged, name, args, arch=arch, kernel=kernel)

    for name, errno, conditions in denials:
        if not conditions:
            if decide(name) != Decision("errno", errno):
                raise _invalid(f"{name} is not refused with errno {errno} after the merge")
            continue
        for args in _condition_probes(conditions):
            if decide(name, args).allowed:
                raise _invalid(
                    f"Docker's default profile allows {name}{args} for a container without "
                    f"capabilities, which the judge refuses; a conditional ERRNO rule beside "
                    f"its ALLOW rule would leave the outcome to libseccomp"
                )
    if families:
        for name, family in product(families.names, FAMILY_PROBES):
            decision = decide(name, (family, 1, 0))
            expected = Decision("allow")
            if family not in families.allow:
                expected = Decision("errno", families.errno)
            if decision != expected:
                raise _invalid(f"{name} of family {family} gets {decision}, not {expected}")
    if decide("socketcall").allowed:
        raise _invalid("socketcall is not refused after the merge")


def docker_profile(
    base_path: Path = DOCKER_DEFAULT_PROFILE, judge_path: Path = JUDGE_PROFILE
) -> dict[str, Any]:
    """Load Docker's default profile and the judge's list, and return them merged.

    Raises SandboxUnavailable (with the fix) when either is missing or unreadable, or
    the merge cannot guarantee the judge's denials: never a weaker filter.
    """
    base = load_profile(base_path, f"install Docker's default profile: {SETUP_FIX}")
    judge = load_profile(judge_path, "reinstall the judge")
    return merge(base, judge)
