"""Attacks through socket families that no network namespace isolates (attacks 37-38).

The sandboxes' network namespaces hold only loopback, but some families ignore
namespaces: AF_VSOCK shares the host's port space, AF_ALG and AF_KEY reach kernel
crypto and key state, netlink's uevent group hears the host. Both isolating backends
allow socket() and socketpair() for AF_UNIX, AF_INET and AF_INET6 only. Each probe
exits with FOUND (42) when it got a socket it should not have; otherwise it goes on
to the honest solution, so "stopped" reads as AC.
"""

from __future__ import annotations

import errno
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest

from tests.adversarial.conftest import FOUND, Attack
from tests.adversarial.test_attacks_host_and_input import assert_stopped, then_honest

needs_isolation = pytest.mark.needs_isolation


def _vsock() -> socket.socket | None:
    try:
        return socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    except OSError:
        return None


@pytest.fixture
def host_vsock_port() -> Iterator[int | None]:
    """A vsock port this test holds on the host; None where the host has no AF_VSOCK."""
    sock = _vsock()
    if sock is None and shutil.which("modprobe"):
        subprocess.run(["modprobe", "vsock_loopback"], capture_output=True, check=False)
        sock = _vsock()
    if sock is None:
        yield None
        return
    with sock:
        sock.bind((socket.VMADDR_CID_ANY, socket.VMADDR_PORT_ANY))
        sock.listen(1)
        yield int(sock.getsockname()[1])


# 37 -----------------------------------------------------------------------------------


@needs_isolation
def test_a_vsock_socket_cannot_reach_the_host_s_port_space(
    attack: Attack, host_vsock_port: int | None
) -> None:
    port = socket.VMADDR_PORT_ANY if host_vsock_port is None else host_vsock_port
    result = attack(
        then_honest(
            f"""
            import errno, socket
            try:
                probe = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
            except OSError as exc:
                assert exc.errno == errno.EPERM, exc
            else:
                try:
                    probe.bind((socket.VMADDR_CID_ANY, {port}))
                except OSError as exc:
                    print("vsock bind:", errno.errorcode.get(exc.errno))  # EADDRINUSE: shared
                raise SystemExit({FOUND})
            """
        )
    )
    assert_stopped(result)


# 38 -----------------------------------------------------------------------------------

# (name, family, type, protocol) as plain ints, to embed in the probe: families a
# namespace does not isolate or that reach kernel state, and netlink (namespaced, but
# refused all the same).
OTHER_FAMILIES = [
    ("AF_PACKET", 17, socket.SOCK_RAW.value, 0x0300),  # ETH_P_ALL
    ("AF_PACKET", 17, socket.SOCK_DGRAM.value, 0),
    ("AF_NETLINK route", 16, socket.SOCK_RAW.value, 0),
    ("AF_NETLINK uevent", 16, socket.SOCK_DGRAM.value, 15),  # NETLINK_KOBJECT_UEVENT: host events
    ("AF_NETLINK audit", 16, socket.SOCK_RAW.value, 9),
    ("AF_ALG", 38, socket.SOCK_SEQPACKET.value, 0),
    ("AF_KEY", 15, socket.SOCK_RAW.value, 2),  # PF_KEY_V2
    ("AF_TIPC", 30, socket.SOCK_RDM.value, 0),
    ("AF_RDS", 21, socket.SOCK_SEQPACKET.value, 0),
    ("AF_XDP", 44, socket.SOCK_RAW.value, 0),
    ("AF_BLUETOOTH", 31, socket.SOCK_RAW.value, 0),
]


@needs_isolation
def test_sockets_of_families_other_than_unix_and_inet_are_refused(attack: Attack) -> None:
    result = attack(
        then_honest(
            f"""
            import errno, socket
            for name, family, kind, protocol in {OTHER_FAMILIES!r}:
                for make in (socket.socket, socket.socketpair):
                    try:
                        made = make(family, kind, protocol)
                    except OSError as exc:
                        assert exc.errno == errno.EPERM, (name, make.__name__, exc)
                    else:
                        print(name, make.__name__, "made", made)
                        raise SystemExit({FOUND})
            """
        )
    )
    assert_stopped(result)


def test_the_vsock_fixture_holds_its_port(host_vsock_port: int | None) -> None:
    """Without this, attack 37 would not prove the port space is not shared."""
    if host_vsock_port is None:
        pytest.skip("this host has no AF_VSOCK")
    other = _vsock()
    assert other is not None
    with other, pytest.raises(OSError) as caught:
        other.bind((socket.VMADDR_CID_ANY, host_vsock_port))
    assert caught.value.errno == errno.EADDRINUSE
