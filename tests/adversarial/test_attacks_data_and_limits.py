"""Attacks on the hidden data, the output files and the resource limits, on every backend.

Each test judges one hostile submission through the `attack` fixture, asserts the
verdict it must get and what must stay true; the fixture then proves an honest run
still gets AC and that no trace is left on the host. Needles (hidden labels, markers)
are embedded hex-encoded: the submission's own source is visible inside the sandbox.
Every network attack targets only loopback listeners this file starts.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import signal
import socket
import textwrap
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from judge.data import draw_train_predict
from judge.errors import InvalidOutput
from judge.outputs import read_untrusted_file
from judge.verdicts import Verdict
from tests.adversarial.conftest import BANK, FOUND, SECRET, Attack
from tests.sandbox.test_conformance import SUBMISSIONS

WALL_S = 8.0  # the wall limit of `threshold`
HONEST_PREDICTIONS = """
import os
import numpy as np
test_X = np.load(os.path.join(os.environ["DATA_DIR"], "test_X.npy"))
predictions = (test_X[:, 0] + 0.1 * test_X[:, 1] > 0).astype(np.int64)
np.save(os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy"), predictions)
"""


def program(*parts: str) -> str:
    """Join indented source fragments into one submission."""
    return "\n".join(textwrap.dedent(part) for part in parts)


def hidden_labels(slug: str) -> NDArray[np.int64]:
    """Return the hidden labels the judge scores `slug` against with the suite's secret."""
    hidden = draw_train_predict(BANK.problem(slug).spec, BANK.datasets_dir, SECRET).hidden_y
    return np.asarray(hidden)


def label_encodings(labels: NDArray[np.int64]) -> list[bytes]:
    """Return the hidden labels as the byte strings a leak would contain: .npy, raw, text."""
    saved = io.BytesIO()
    np.save(saved, labels, allow_pickle=False)
    forms = [saved.getvalue()]
    forms += [labels.astype(dtype).tobytes() for dtype in ("int64", "int32", "uint8", "float64")]
    forms += [sep.join(str(int(v)) for v in labels).encode() for sep in (",", "\n", " ")]
    return forms


def needles_hex(labels: NDArray[np.int64]) -> list[str]:
    """Return hex-encoded substrings long enough to be unique to the hidden labels."""
    return [form[:1024].hex() for form in label_encodings(labels)]


def seconds_since(started: float) -> float:
    return time.monotonic() - started


# ---- 1-2: the hidden labels are nowhere the submission can look -------------------


def test_guessed_label_paths_hold_no_hidden_labels(attack: Attack) -> None:
    needles = needles_hex(hidden_labels("threshold"))
    guesses = [
        "/data",
        "/sandbox/data/../..",
        "../",
        "/sandbox",
        "/work/main",
        str(BANK.reference_dir),
        str(BANK.datasets_dir),
        str(BANK.datasets_dir.parent),
        "/var/cache/olympiad-judge",
        "/root",
        "/home",
    ]
    result = attack(
        f"""
        import glob, itertools, os, stat, sys, time
        needles = [bytes.fromhex(h) for h in {needles!r}]
        deadline = time.monotonic() + {WALL_S / 2}
        skip = {{".venv", ".git", "node_modules", "proc", "sys", "__pycache__"}}

        def check(path):
            # The deadline is checked per file too: one large folder (the walk starts
            # at "/") must not carry the search past the wall limit.
            if time.monotonic() > deadline:
                return
            try:
                info = os.stat(path)
                if not stat.S_ISREG(info.st_mode) or info.st_size > 4 << 20:
                    return
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                return
            if any(n in data for n in needles):
                print("hidden labels in", path)
                sys.exit({FOUND})

        def walk(folder, depth):
            if depth > 4 or time.monotonic() > deadline:
                return
            try:  # at most 5,000 entries a folder: a huge folder must not eat the time
                with os.scandir(folder) as listing:
                    entries = list(itertools.islice(listing, 5000))
            except OSError:
                return
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name not in skip:
                    walk(entry.path, depth + 1)
                else:
                    check(entry.path)

        data_dir = os.environ["DATA_DIR"]
        guesses = {guesses!r} + [os.path.join(data_dir, "..", ".."), os.path.dirname(data_dir)]
        guesses += glob.glob("/home/*") + glob.glob("/tmp/judge-*") + glob.glob("/tmp/*/judge-*")
        # Narrow guesses first, so a walk from "/" cannot use up the time they need.
        for guess in sorted(guesses, key=lambda path: os.path.realpath(path) == "/"):
            check(guess)
            walk(guess, 0)
    """
    )
    assert result.details["exit_code"] == 0, result.message
    assert result.verdict is Verdict.IO  # it wrote no predictions


@pytest.mark.slow
@pytest.mark.needs_isolation
def test_hashing_every_visible_file_matches_no_hidden_labels(attack: Attack) -> None:
    digests = sorted(
        {hashlib.sha256(f).hexdigest() for f in label_encodings(hidden_labels("threshold-patient"))}
    )
    result = attack(
        f"""
        import hashlib, os, stat, sys
        digests = set({digests!r})
        for root, dirs, files in os.walk("/"):
            if root == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
            for name in files:
                path = os.path.join(root, name)
                try:
                    info = os.lstat(path)
                    if not stat.S_ISREG(info.st_mode) or info.st_size > 1 << 20:
                        continue
                    with open(path, "rb") as handle:
                        digest = hashlib.sha256(handle.read()).hexdigest()
                except OSError:
                    continue
                if digest in digests:
                    print("hidden labels in", path)
                    sys.exit({FOUND})
    """,
        slug="threshold-patient",
    )
    assert result.details["exit_code"] == 0, result.message
    assert result.verdict is Verdict.IO


# ---- 3-6: hostile output files and streams ------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        'os.path.join(os.environ["DATA_DIR"], "train_y.npy")',
        '"/etc/passwd"',
        '"/proc/self/environ"',
    ],
    ids=["label-file", "etc-passwd", "proc-environ"],
)
def test_symlinked_predictions_get_invalid_output(attack: Attack, target: str) -> None:
    result = attack(
        f"""
        import os
        os.symlink({target}, os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy"))
    """
    )
    assert result.verdict is Verdict.IO, result.message
    assert "symlink" in result.message


@pytest.mark.parametrize(
    "make",
    ["os.mkfifo(path)", 'os.symlink("/dev/zero", path)'],
    ids=["fifo", "symlink-to-dev-zero"],
)
def test_special_file_predictions_get_invalid_output_without_hanging(
    attack: Attack, make: str
) -> None:
    started = time.monotonic()
    result = attack(
        f"""
        import os
        path = os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy")
        {make}
    """
    )
    assert result.verdict is Verdict.IO, result.message
    assert seconds_since(started) < WALL_S


@pytest.mark.needs_isolation
def test_device_node_predictions_cannot_be_made(attack: Attack) -> None:
    result = attack(
        f"""
        import os, stat
        path = os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy")
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
        except OSError as exc:
            print("mknod refused:", exc)
            raise SystemExit(0)
        raise SystemExit({FOUND})
    """
    )
    assert result.details["exit_code"] == 0, result.message
    assert result.verdict is Verdict.IO


@pytest.mark.parametrize(
    "write",
    [
        # sparse: one byte at 10 GiB, then a 10 GiB truncate
        """
        try:
            with open(path, "wb") as handle:
                handle.seek(10 << 30)
                handle.write(b"x")
        except OSError as exc:
            print("sparse write refused:", exc)
        try:
            os.truncate(path, 10 << 30)
        except OSError as exc:
            print("truncate refused:", exc)
        """,
        # real: 1 MiB blocks until the filesystem or the file size limit says no
        """
        try:
            with open(path, "wb") as handle:
                for _ in range(10 << 10):
                    handle.write(b"x" * (1 << 20))
        except OSError as exc:
            print("real write refused:", exc)
        """,
    ],
    ids=["sparse-10-gib", "real"],
)
def test_huge_predictions_file_gets_output_limit_and_a_bounded_read(
    attack: Attack, write: str
) -> None:
    started = time.monotonic()
    result = attack(
        program(
            """
        import os
        path = os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy")
        """,
            write,
        )
    )
    assert result.verdict in {Verdict.OLE, Verdict.IO, Verdict.RE}, result.message
    assert len(result.message) < 4000
    assert seconds_since(started) < WALL_S + 5


def test_judge_refuses_a_sparse_10_gib_predictions_file_without_reading_it(
    tmp_path: Path,
) -> None:
    """No backend lets a submission make one (RLIMIT_FSIZE), so build it on the host."""
    sparse = tmp_path / "predictions.npy"
    with sparse.open("wb") as handle:
        handle.seek(10 << 30)
        handle.write(b"x")
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(InvalidOutput, match="over the"):
            read_untrusted_file(sparse, 4 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert seconds_since(started) < 1


def test_flooding_stdout_and_stderr_ends_the_run_with_a_short_message(attack: Attack) -> None:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = attack(
        program(
            HONEST_PREDICTIONS,
            """
    block = b"flood " * (1 << 17)  # 768 KiB
    for _ in range(1400):  # ~1 GiB to each stream
        os.write(1, block)
        os.write(2, block)
    """,
        )
    )
    assert result.verdict in {Verdict.TLE, Verdict.AC, Verdict.WA}, result.message
    assert len(result.message) < 4000
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 256 * 1024, f"the judge grew by {grown_kib} KiB"


# ---- 7-11: memory, disk, processes and threads ----------------------------------------


@pytest.mark.needs_isolation  # on process, /tmp is the host's own /tmp
def test_filling_the_scratch_space_leaves_the_next_run_a_clean_one(attack: Attack) -> None:
    result = attack(
        program(
            f"""
        import errno, os, sys
        for folder in ("/tmp", os.getcwd()):
            written = 0
            try:
                while True:
                    with open(os.path.join(folder, f"fill-{{written}}"), "wb") as handle:
                        handle.write(b"\\xff" * (1 << 20))
                    written += 1
                    if written > 512:
                        print(folder, "has no size cap")
                        sys.exit({FOUND})
            except OSError as exc:
                print(folder, "full after", written, "MiB:", exc)
                if exc.errno != errno.ENOSPC:
                    sys.exit(3)
        """,
            HONEST_PREDICTIONS,
        )
    )
    assert result.details["exit_code"] != FOUND, result.message
    assert result.verdict in {Verdict.AC, Verdict.RE}, result.message
    after = attack(
        program(
            f"""
        import glob, os, sys
        if glob.glob("/tmp/fill-*") or glob.glob(os.path.join(os.getcwd(), "fill-*")):
            sys.exit({FOUND})
        """,
            HONEST_PREDICTIONS,
        ),
        name="after_fill.py",
    )
    assert after.verdict is Verdict.AC, after.message


def test_memory_bomb_gets_memory_limit(attack: Attack) -> None:
    result = attack.judge_file(SUBMISSIONS / "memory_bomb.py")
    assert result.verdict is Verdict.MLE, result.message


def test_catching_memory_error_and_writing_junk_is_never_accepted(attack: Attack) -> None:
    result = attack(
        """
        import os
        import numpy as np
        chunks = []
        try:
            while True:
                chunks.append(np.ones(16 << 20, dtype=np.uint8))  # touched pages
        except MemoryError:
            chunks.clear()
        junk = np.zeros(500, dtype=np.int64)
        np.save(os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy"), junk)
    """
    )
    assert result.verdict is not Verdict.AC
    assert result.verdict in {Verdict.MLE, Verdict.IO, Verdict.WA}, result.message
    if result.details["signal"] == signal.SIGKILL:  # the kernel's OOM killer struck
        assert result.verdict is Verdict.MLE, result.message


@pytest.mark.needs_isolation  # the process backend has no pid limit for root
def test_fork_bomb_is_contained(attack: Attack) -> None:
    result = attack.judge_file(SUBMISSIONS / "fork_bomb.py")
    assert result.verdict in {Verdict.TLE, Verdict.RE, Verdict.MLE}, result.message


def test_thread_bomb_is_contained(attack: Attack, backend_name: str) -> None:
    cap = 10_000
    result = attack(
        f"""
        import sys, threading
        stop = threading.Event()
        started = 0
        try:
            while started < {cap}:
                threading.Thread(target=stop.wait, daemon=True).start()
                started += 1
        except (RuntimeError, MemoryError) as exc:
            print("threads stopped at", started, exc)
        stop.set()
        sys.exit({FOUND} if started >= {cap} else 0)
    """
    )
    assert result.verdict in {Verdict.IO, Verdict.RE, Verdict.MLE, Verdict.TLE}, result.message
    if backend_name != "process":
        assert result.details["exit_code"] != FOUND, "no limit stopped 10 000 threads"


# ---- 12-15: time limits and processes that try to outlive the run ------------------


def test_busy_loop_gets_time_limit_close_to_the_wall_limit(attack: Attack) -> None:
    result = attack.judge_file(SUBMISSIONS / "infinite_loop.py")
    assert result.verdict is Verdict.TLE
    assert WALL_S <= result.wall_s < WALL_S + 3


def test_sleeping_forever_gets_time_limit(attack: Attack) -> None:
    result = attack.judge_file(SUBMISSIONS / "sleep_forever.py")
    assert result.verdict is Verdict.TLE
    assert result.wall_s < WALL_S + 3


def test_ignoring_sigterm_still_gets_time_limit_on_time(attack: Attack) -> None:
    result = attack(
        """
        import signal
        for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGXCPU"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        while True:
            pass
    """
    )
    assert result.verdict is Verdict.TLE
    assert result.wall_s < WALL_S + 3


def _processes_with(marker: bytes) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.needs_isolation  # process kills its process group; a setsid daemon leaves it
def test_double_forked_daemon_does_not_outlive_the_run(attack: Attack) -> None:
    marker = f"judge-daemon-{uuid.uuid4().hex}"
    result = attack(
        program(
            f"""
        import os, sys, time
        marker = bytes.fromhex({marker.encode().hex()!r}).decode()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                code = "import time; time.sleep(1000)"
                os.execv(sys.executable, [sys.executable, "-c", code, marker])
            os._exit(0)
        os.wait()
        time.sleep(0.5)
        """,
            HONEST_PREDICTIONS,
        )
    )
    survivors = _processes_with(marker.encode())
    for pid in survivors:  # leave the host clean even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], "the daemon outlived the run"
    assert result.verdict is Verdict.AC, result.message


# ---- 16-18: the network and other processes ----------------------------------------


@pytest.mark.needs_isolation
def test_host_loopback_tcp_listener_sees_no_connection(
    attack: Attack, loopback_listener: tuple[int, list[str]]
) -> None:
    port, seen = loopback_listener
    result = attack(
        f"""
        import socket, sys
        for host in ("127.0.0.1", "localhost"):
            try:
                socket.create_connection((host, {port}), timeout=2).close()
            except OSError:
                continue
            sys.exit({FOUND})
    """
    )
    assert result.details["exit_code"] == 0, result.message
    time.sleep(0.3)  # let the listener's accept loop catch up
    assert seen == []


@pytest.fixture
def loopback_resolver() -> Iterator[tuple[int, list[bytes]]]:
    """A UDP "resolver" on the host's 127.0.0.1 that records and echoes every datagram."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, sender = server.recvfrom(4096)
            except TimeoutError:
                continue
            received.append(data)
            server.sendto(data, sender)  # an "answer", so a leak is visible from inside

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


@pytest.mark.needs_isolation
def test_host_loopback_resolver_receives_no_dns_query(
    attack: Attack, loopback_resolver: tuple[int, list[bytes]]
) -> None:
    port, received = loopback_resolver
    result = attack(
        f"""
        import socket, struct, sys
        query = struct.pack(">6H", 0x5EED, 0x0100, 1, 0, 0, 0)
        query += b"\\x05probe\\x07invalid\\x00" + struct.pack(">2H", 1, 1)
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(1)
        try:
            probe.sendto(query, ("127.0.0.1", {port}))
            probe.recvfrom(512)
            sys.exit({FOUND})  # the host's resolver answered
        except OSError:
            pass
        # Ask the system resolver only where no interface but loopback exists, so a
        # broken sandbox never sends a query past this machine's loopback. The names come
        # from /proc/net/dev: if_nameindex needs a netlink socket, which is refused.
        lines = open("/proc/net/dev").read().splitlines()[2:]
        interfaces = [line.split(":")[0].strip() for line in lines]
        if interfaces != ["lo"]:
            print("interfaces:", interfaces)
            sys.exit({FOUND})
        try:
            socket.getaddrinfo("judge-dns-probe.invalid", 53)
        except OSError:
            sys.exit(0)
        sys.exit({FOUND})
    """
    )
    assert result.details["exit_code"] == 0, result.message
    time.sleep(0.3)
    assert received == []


@pytest.fixture
def planted_marker() -> Iterator[tuple[Path, str]]:
    """A file holding a fresh marker, planted in the repository for one test."""
    marker = f"judge-planted-{uuid.uuid4().hex}"
    path = Path(__file__).parent / f".planted-{uuid.uuid4().hex[:12]}"
    path.write_text(marker, encoding="utf-8")
    path.chmod(0o644)
    try:
        yield path, marker
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.needs_isolation
def test_proc_reveals_neither_the_judge_environment_nor_repository_files(
    attack: Attack, monkeypatch: pytest.MonkeyPatch, planted_marker: tuple[Path, str]
) -> None:
    env_marker = f"judge-env-{uuid.uuid4().hex}"
    monkeypatch.setenv("JUDGE_SECRET", env_marker)
    planted, file_marker = planted_marker
    needles = [env_marker.encode().hex(), file_marker.encode().hex()]
    result = attack(
        f"""
        import os, sys
        needles = [bytes.fromhex(h) for h in {needles!r}]
        planted = {str(planted)!r}

        def leaked(data):
            return any(n in data for n in needles)

        def read(path):
            try:
                with open(path, "rb") as handle:
                    return handle.read(1 << 20)
            except OSError:
                return b""

        if leaked(repr(os.environ).encode()):
            sys.exit({FOUND})
        for pid in os.listdir("/proc"):
            if not (pid.isdigit() or pid in ("self", "thread-self")):
                continue
            near = "cwd/" + os.path.basename(planted)
            for leaf in ("environ", "cmdline", "root" + planted, near):
                if leaked(read(f"/proc/{{pid}}/{{leaf}}")):
                    print("leak through", pid, leaf)
                    sys.exit({FOUND})
        if leaked(read(planted)):
            sys.exit({FOUND})
        for root, dirs, files in os.walk("/proc/1/root/"):
            if root.rstrip("/") == "/proc/1/root":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
            if root.count("/") > 10:
                dirs[:] = []
            for name in files:
                if name.startswith(".planted-") and leaked(read(os.path.join(root, name))):
                    sys.exit({FOUND})
    """
    )
    assert result.details["exit_code"] == 0, result.message
