"""Attacks on the host, on other runs and on the judge's input handling (attacks 19-36).

Each probe exits with FOUND (42) when it got through; a probe that found nothing goes
on to write the honest predictions, so "stopped" reads as AC.
"""

from __future__ import annotations

import hashlib
import os
import resource
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from docker.client import from_env

import judge
from judge.errors import InvalidSource
from judge.verdicts import Result, Verdict
from tests.adversarial.conftest import BANK, FOUND, HONEST, Attack

needs_isolation = pytest.mark.needs_isolation
# What a run that was contained may end in; never IE (the judge's fault) and never AC by trickery.
CONTAINED = {Verdict.RE, Verdict.TLE, Verdict.MLE, Verdict.AC, Verdict.IO}


def then_honest(probe: str) -> str:
    """Return the probe followed by the honest solution, reached if the probe found nothing."""
    return textwrap.dedent(probe) + "\n" + HONEST.read_text(encoding="utf-8")


def assert_stopped(result: Result) -> None:
    """The probe ran to its end without getting through: AC from the honest tail."""
    assert result.details.get("exit_code") != FOUND, f"got through: {result.message}"
    assert result.verdict is Verdict.AC, result.message


def tree_digest(root: Path) -> str:
    """Return a digest of every file's path and bytes under `root` (no __pycache__)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def judge_concurrently(attack: Attack, jobs: list[tuple[Path, tuple[int, ...]]]) -> list[Result]:
    """Judge several sources at once, each pinned to its cores; return results in order."""
    results: list[Result | BaseException] = [RuntimeError("not run")] * len(jobs)

    def judge_one(index: int, source: Path, cores: tuple[int, ...]) -> None:
        try:
            results[index] = attack.judge_file(source, cpuset=cores)
        except BaseException as exc:
            results[index] = exc

    threads = [
        threading.Thread(target=judge_one, args=(i, source, cores))
        for i, (source, cores) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, Result)]


def write_source(tmp_path: Path, name: str, code: str) -> Path:
    source = tmp_path / name
    source.write_text(code, encoding="utf-8")
    return source


def cores_for_two_runs() -> tuple[tuple[int, ...], tuple[int, ...]]:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two cores to pin two runs apart")
    return (cores[0],), (cores[1],)


# 19 -----------------------------------------------------------------------------------


@needs_isolation
def test_a_run_cannot_see_the_files_of_a_run_beside_it(attack: Attack, tmp_path: Path) -> None:
    token = f"marker-{uuid.uuid4().hex}"
    victim = then_honest(
        f"""
        import os, time
        for folder in (os.environ["OUTPUT_DIR"], os.getcwd(), "/tmp"):
            with open(os.path.join(folder, "{token}"), "w") as f:
                f.write("secret of the other run")
        time.sleep(4)
        """
    )
    snooper = then_honest(
        f"""
        import os, time
        time.sleep(1.5)
        def search(top, skip=("/proc", "/sys", "/usr", "/dev")):
            for folder, dirs, files in os.walk(top, onerror=lambda e: None):
                dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
                if "{token}" in files or "{token}" in dirs:
                    raise SystemExit({FOUND})
        for top in ("/tmp", "/sandbox", "/"):
            search(top)
        for pid in os.listdir("/proc"):
            if pid.isdigit() and pid != str(os.getpid()):
                try:
                    if "{token}" in os.listdir(f"/proc/{{pid}}/cwd"):
                        raise SystemExit({FOUND})
                except OSError:
                    pass
        """
    )
    first, second = cores_for_two_runs()
    victim_result, snooper_result = judge_concurrently(
        attack,
        [
            (write_source(tmp_path, "victim.py", victim), first),
            (write_source(tmp_path, "snooper.py", snooper), second),
        ],
    )
    assert victim_result.verdict is Verdict.AC, victim_result.message
    assert_stopped(snooper_result)


# 20 -----------------------------------------------------------------------------------

JUDGE_PACKAGE = Path(judge.__file__).parent
REPO = JUDGE_PACKAGE.parent


@needs_isolation
def test_writes_into_the_judge_the_image_and_the_datasets_all_fail(attack: Attack) -> None:
    token = f"pwned-{uuid.uuid4().hex}"
    datasets = BANK.datasets_dir
    before = (tree_digest(datasets), (JUDGE_PACKAGE / "__init__.py").read_bytes())
    image_id = image_identity(attack)
    result = attack(
        then_honest(
            f"""
            import errno, glob, os, site, sysconfig
            targets = [{str(JUDGE_PACKAGE)!r}, {str(REPO)!r}, {str(datasets)!r},
                       "/var/cache/olympiad-judge", sysconfig.get_paths()["purelib"],
                       sysconfig.get_paths()["stdlib"], *glob.glob("/usr/lib/python3*"),
                       *site.getsitepackages()]
            existing = [{str(JUDGE_PACKAGE / "__init__.py")!r}, os.__file__]
            existing += glob.glob({str(datasets)!r} + "/*.py")
            for folder in targets:
                try:
                    open(os.path.join(folder, "{token}"), "w").write("x")
                except OSError as exc:
                    assert exc.errno in (errno.EROFS, errno.EACCES, errno.ENOENT), (folder, exc)
                else:
                    raise SystemExit({FOUND})
            for path in existing:
                try:
                    open(path, "a").write("# pwned")
                except OSError as exc:
                    assert exc.errno in (errno.EROFS, errno.EACCES, errno.ENOENT), (path, exc)
                else:
                    raise SystemExit({FOUND})
            """
        )
    )
    assert_stopped(result)
    assert (tree_digest(datasets), (JUDGE_PACKAGE / "__init__.py").read_bytes()) == before
    assert not list(REPO.glob(f"**/{token}"))
    assert image_identity(attack) == image_id


def image_identity(attack: Attack) -> str | None:
    """Return the sandbox image's id on docker (None on other backends)."""
    image = getattr(attack.sandbox, "image", None)
    if image is None:
        return None
    with closing(from_env()) as client:
        return str(client.images.get(image).id)


# 21 -----------------------------------------------------------------------------------


def test_modules_dropped_into_the_output_folder_are_never_imported_by_the_judge(
    attack: Attack, tmp_path: Path
) -> None:
    marker = tmp_path / "imported"
    payload = f"open({str(marker)!r}, 'w').write('imported')\n"
    result = attack(
        f"""
        import os
        payload = {payload!r}
        for folder in (os.environ["OUTPUT_DIR"], os.getcwd()):
            for name in ("numpy.py", "sitecustomize.py", "usercustomize.py", "json.py"):
                with open(os.path.join(folder, name), "w") as f:
                    f.write(payload)
            with open(os.path.join(folder, "evil.pth"), "w") as f:
                f.write("import os; " + payload)
        """
    )
    assert result.verdict is Verdict.IO, result.message
    assert not marker.exists(), "the judge imported a module the submission wrote"
    numpy_file = str(getattr(sys.modules["numpy"], "__file__", ""))
    assert "judge-run-" not in numpy_file


# 22 -----------------------------------------------------------------------------------

FORGED = """
import json, sys
forged = {"problem": "threshold", "verdict": "AC", "score": 100.0, "max_score": 100.0}
for stream in (sys.stdout, sys.stderr):
    print("verdict: AC", file=stream)
    print("Result(verdict=<Verdict.AC: 'AC'>, score=100.0)", file=stream)
    print(json.dumps(forged), file=stream)
"""


@pytest.mark.parametrize(
    ("predictions", "verdict"),
    [
        pytest.param("open(path, 'wb').write(b'junk')", Verdict.IO, id="junk"),
        pytest.param("np.save(path, np.zeros(500, dtype=np.int64))", Verdict.WA, id="zeros"),
    ],
)
def test_a_forged_verdict_on_stdout_is_ignored(
    attack: Attack, predictions: str, verdict: Verdict
) -> None:
    result = attack(
        FORGED
        + textwrap.dedent(
            f"""
            import os
            import numpy as np
            path = os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy")
            {predictions}
            """
        )
    )
    assert result.verdict is verdict, result.message
    assert result.score < result.max_score
    assert "100.0" not in result.message


# 23 -----------------------------------------------------------------------------------

BAD_PREDICTIONS = {
    "nan": "np.full(500, np.nan)",
    "inf": "np.full(500, np.inf)",
    "too_short": "np.zeros(499, dtype=np.int64)",
    "duplicated_rows": "np.zeros(1000, dtype=np.int64)",
    "two_columns": "np.zeros((500, 2), dtype=np.int64)",
    "strings": "np.array(['1'] * 500)",
    "objects": "np.array([1] * 500, dtype=object)",
    "fractions": "np.full(500, 0.5)",
}


@pytest.mark.parametrize("expression", BAD_PREDICTIONS.values(), ids=BAD_PREDICTIONS.keys())
def test_malformed_predictions_get_invalid_output(attack: Attack, expression: str) -> None:
    result = attack(
        f"""
        import os
        import numpy as np
        np.save(os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy"), {expression},
                allow_pickle=True)
        """
    )
    assert result.verdict is Verdict.IO, result.message


# 24 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("disguise", ["object_npy", "raw_pickle", "npy_header_pickle"])
def test_a_pickle_disguised_as_npy_is_never_unpickled(
    attack: Attack, tmp_path: Path, disguise: str
) -> None:
    marker = tmp_path / "unpickled"
    result = attack(
        f"""
        import io, os, pickle
        import numpy as np

        class Payload:
            def __reduce__(self):
                return (exec, ("open({str(marker)!r}, 'w').write('pwned')",))

        path = os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy")
        if "{disguise}" == "object_npy":
            np.save(path, np.array([Payload()] * 500, dtype=object), allow_pickle=True)
        elif "{disguise}" == "raw_pickle":
            open(path, "wb").write(pickle.dumps(Payload()))
        else:
            buffer = io.BytesIO()
            np.save(buffer, np.zeros(500, dtype=np.int64))
            header = buffer.getvalue()[:128]
            open(path, "wb").write(header + pickle.dumps(Payload()))
        """
    )
    assert result.verdict is Verdict.IO, result.message
    assert not marker.exists(), "the judge unpickled the submission's file"


# 25 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("archive", ["npz", "zip_bomb", "zip_slip"])
def test_an_archive_saved_as_predictions_gets_invalid_output_quickly(
    attack: Attack, tmp_path: Path, archive: str
) -> None:
    slipped = tmp_path / "slipped"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    result = attack(
        f"""
            import os, zipfile
            import numpy as np
            path = os.path.join(os.environ["OUTPUT_DIR"], "predictions.npy")
            if "{archive}" == "npz":
                np.savez(open(path, "wb"), arr_0=np.zeros(500, dtype=np.int64))
            else:
                with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                    if "{archive}" == "zip_slip":
                        archive.writestr("../" * 12 + {str(slipped)!r}.lstrip("/"), "pwned")
                    else:
                        with archive.open("arr_0.npy", "w", force_zip64=True) as member:
                            block = bytes(1 << 20)
                            for _ in range(512):
                                member.write(block)
            """
    )
    elapsed = time.monotonic() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert result.verdict is Verdict.IO, result.message
    assert elapsed - result.wall_s < 5, "reading the archive took the judge too long"
    assert grown_mb < 100, f"the judge's memory grew {grown_mb:.0f} MB reading the archive"
    assert not slipped.exists()


# 26 -----------------------------------------------------------------------------------


@needs_isolation
def test_the_run_has_no_capabilities_no_new_privileges_and_no_usable_setuid(
    attack: Attack,
) -> None:
    result = attack(
        then_honest(
            f"""
            import os, shutil, stat, subprocess
            status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
            for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                assert int(status[name], 16) == 0, (name, status[name])
            assert status["NoNewPrivs"].strip() == "1"
            assert (os.getuid(), os.geteuid(), os.getgid(), os.getegid()) == (65534,) * 4
            try:
                os.setuid(0)
            except OSError:  # EPERM, or EINVAL where uid 0 is not mapped
                pass
            else:
                raise SystemExit({FOUND})
            for command in (["su", "-c", "id -u", "root"], ["mount", "-t", "tmpfs", "x", "/tmp"],
                            ["sudo", "-n", "id", "-u"], ["newgrp", "root"]):
                if shutil.which(command[0]):
                    proc = subprocess.run(command, capture_output=True, text=True,
                                          stdin=subprocess.DEVNULL, timeout=5)
                    if proc.returncode == 0 and proc.stdout.strip() in ("0", ""):
                        raise SystemExit({FOUND})
            """
        )
    )
    assert_stopped(result)


# 27 -----------------------------------------------------------------------------------


SIBLING_TRACED = 43


@needs_isolation
def test_ptrace_of_init_and_of_a_sibling_fails(attack: Attack) -> None:
    result = attack(
        then_honest(
            f"""
            import ctypes, os, subprocess, sys
            libc = ctypes.CDLL(None, use_errno=True)
            PTRACE_ATTACH, PTRACE_DETACH = 16, 17
            for pid in [1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
                if pid != os.getpid() and libc.ptrace(PTRACE_ATTACH, pid, 0, 0) == 0:
                    libc.ptrace(PTRACE_DETACH, pid, 0, 0)
                    raise SystemExit({FOUND})
            sleeper = subprocess.Popen(["sleep", "5"])
            attach = ("import ctypes, sys; libc = ctypes.CDLL(None); "
                      "sys.exit(42 * (libc.ptrace(16, int(sys.argv[1]), 0, 0) == 0))")
            tracer = subprocess.run([sys.executable, "-c", attach, str(sleeper.pid)])
            sleeper.kill()
            if tracer.returncode == {FOUND}:
                raise SystemExit({SIBLING_TRACED})
            """
        )
    )
    assert_stopped(result)


# 28, 29 -------------------------------------------------------------------------------

SYSCALL_PROBE = f"""
import ctypes, os, platform, sys
if platform.machine() != "x86_64":
    raise SystemExit(3)
libc = ctypes.CDLL(None, use_errno=True)
def succeeded(number, *args):
    return libc.syscall(number, *args) >= 0
CALLS = {{
    "io_uring_setup": (425, 8, ctypes.create_string_buffer(120)),
    "keyctl_user_keyring_id": (250, 0, -4, 0),  # KEYCTL_GET_KEYRING_ID of the uid's keyring
    "add_key_to_session_keyring": (248, b"user", b"judge-probe", b"x", 1, -3),
    "unshare_user": (272, 0x10000000),
    "unshare_mount": (272, 0x00020000),
    "mount_tmpfs": (165, b"none", b"/tmp", b"tmpfs", 0, None),
}}
names = sys.argv[1:] or NAMES
if any(succeeded(*CALLS[name]) for name in names):
    raise SystemExit({FOUND})
"""


def syscall_attack(names: list[str]) -> str:
    return then_honest(f"NAMES = {names!r}\n" + SYSCALL_PROBE)


@needs_isolation
def test_io_uring_setup_is_refused(attack: Attack) -> None:
    result = attack(syscall_attack(["io_uring_setup"]))
    assert_stopped(result)


@needs_isolation
@pytest.mark.parametrize("name", ["unshare_user", "unshare_mount", "mount_tmpfs"])
def test_namespace_and_mount_syscalls_are_refused(attack: Attack, name: str) -> None:
    assert_stopped(attack(syscall_attack([name])))


@needs_isolation
@pytest.mark.parametrize("name", ["keyctl_user_keyring_id", "add_key_to_session_keyring"])
def test_kernel_keyring_syscalls_are_refused(attack: Attack, name: str) -> None:
    result = attack(syscall_attack([name]))
    assert_stopped(result)


# 30 -----------------------------------------------------------------------------------

CPU_WORK = then_honest(
    """
    total = 0
    for i in range(12_000_000):
        total += i * i
    """
)
HOG = """
import multiprocessing, os, threading, time
def spin():
    end = time.monotonic() + 6
    while time.monotonic() < end:
        pass
workers = [multiprocessing.Process(target=spin) for _ in range(8)]
workers += [threading.Thread(target=spin) for _ in range(8)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
"""


@needs_isolation
@pytest.mark.slow
def test_a_run_hogging_every_core_does_not_slow_a_run_on_another_core(
    attack: Attack, tmp_path: Path
) -> None:
    mine, other = cores_for_two_runs()
    honest = write_source(tmp_path, "work.py", CPU_WORK)
    solo = judge_concurrently(attack, [(honest, other)])[0]
    assert solo.verdict is Verdict.AC, solo.message
    hog = write_source(tmp_path, "hog.py", HOG)
    hog_result, beside = judge_concurrently(attack, [(hog, mine), (honest, other)])
    assert beside.verdict is Verdict.AC, beside.message
    assert hog_result.verdict in CONTAINED
    assert hog_result.cpu_s <= 1.25 * hog_result.wall_s + 0.5, "the hog ran on more than one core"
    assert beside.wall_s <= 1.6 * solo.wall_s + 0.5, (solo.wall_s, beside.wall_s)


# 31 -----------------------------------------------------------------------------------


def test_filling_dev_shm_stops_within_the_memory_budget(attack: Attack) -> None:
    # On the process backend /dev/shm is the host's: the probe stops at 320 MB and
    # removes its file, whatever happens.
    name = f"/dev/shm/judge-probe-{uuid.uuid4().hex}"
    result = attack(
        then_honest(
            f"""
            import errno, os
            written = 0
            try:
                with open({name!r}, "wb") as f:
                    block = b"x" * (1 << 20)
                    while written < 320 << 20:
                        f.write(block)
                        f.flush()
                        written += len(block)
            except OSError as exc:
                assert exc.errno in (errno.ENOSPC, errno.EFBIG, errno.ENOMEM), exc
            finally:
                if os.path.exists({name!r}):
                    os.unlink({name!r})
            if written >= 320 << 20 and os.environ["OUTPUT_DIR"].startswith("/sandbox"):
                raise SystemExit({FOUND})
            """
        )
    )
    assert result.verdict in {Verdict.MLE, Verdict.RE, Verdict.AC}, result.message
    assert result.details.get("exit_code") != FOUND, "/dev/shm held more than the memory budget"
    assert result.peak_mb <= 256 + 8
    assert not os.path.exists(name)


# 32 -----------------------------------------------------------------------------------

EXEC_GROWTH = {
    "environment": """
        for i in range(200):
            os.environ[f"GROW_{i}"] = "x" * (1 << 20)
        os.execv(sys.executable, [sys.executable, __file__, "again"])
    """,
    "argv": """
        os.execv(sys.executable, [sys.executable, __file__] + ["y" * (100 << 10)] * 64)
    """,
    "argv_under_the_limit": """
        os.execv(sys.executable, [sys.executable, __file__] + ["y" * (100 << 10)] * 8)
    """,
}


@pytest.mark.parametrize("growth", EXEC_GROWTH.values(), ids=EXEC_GROWTH.keys())
def test_huge_argv_or_environment_is_contained(attack: Attack, growth: str) -> None:
    result = attack(
        "import os, sys\nif len(sys.argv) == 1:\n"
        + textwrap.indent(textwrap.dedent(growth), "    ")
        + HONEST.read_text(encoding="utf-8")
    )
    assert result.verdict in CONTAINED, result.message


# 33 -----------------------------------------------------------------------------------


@needs_isolation
def test_sklearn_dataset_loaders_find_no_public_data(attack: Attack) -> None:
    result = attack(
        then_honest(
            f"""
            # Interfaces from /proc/net/dev (if_nameindex needs netlink, which is refused).
            lines = open("/proc/net/dev").read().splitlines()[2:]
            if [line.split(":")[0].strip() for line in lines] != ["lo"]:
                raise SystemExit(44)  # a network exists: do not try (tests stay on loopback)
            from sklearn import datasets
            try:
                datasets.fetch_openml("iris", version=1, n_retries=0, delay=0, as_frame=False)
            except Exception:
                pass
            else:
                raise SystemExit({FOUND})
            for loader in (datasets.load_iris, datasets.load_digits):
                try:
                    loader()
                except Exception:
                    continue
                raise SystemExit(43)
            """
        )
    )
    assert result.details.get("exit_code") not in (FOUND, 44), result.message
    assert_stopped(result)


# 34 -----------------------------------------------------------------------------------


@needs_isolation
@pytest.mark.slow
def test_a_crafted_torch_checkpoint_only_harms_the_sandbox(attack: Attack, tmp_path: Path) -> None:
    targets = [tmp_path / "from-checkpoint", REPO / f"from-checkpoint-{uuid.uuid4().hex}"]
    result = attack(
        then_honest(
            f"""
            import torch

            class Payload:
                def __reduce__(self):
                    code = "\\n".join([
                        "for path in {[str(t) for t in targets]!r}:",
                        "    try:",
                        "        open(path, 'w').write('pwned')",
                        "    except OSError:",
                        "        pass",
                    ])
                    return (exec, (code,))

            torch.save({{"weights": Payload()}}, "/tmp/checkpoint.pt")
            torch.load("/tmp/checkpoint.pt", weights_only=False)
            """
        ),
        slug="threshold-patient",
    )
    assert result.verdict in {Verdict.AC, Verdict.MLE}, result.message
    for target in targets:
        assert not target.exists(), f"the checkpoint wrote {target} on the host"


# 35, 36 -------------------------------------------------------------------------------


def test_a_symlink_a_folder_or_a_50_mb_file_is_an_invalid_source(
    attack: Attack, tmp_path: Path
) -> None:
    link = tmp_path / "link.py"
    link.symlink_to(HONEST)
    folder = tmp_path / "folder.py"
    folder.mkdir()
    huge = tmp_path / "huge.py"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    for source, reason in (
        (link, "is a symlink"),
        (folder, "not a regular file"),
        (huge, "over the 1048576 byte cap for a submission"),
    ):
        with pytest.raises(InvalidSource, match=reason):
            attack.judge_file(source)


INVALID_BYTES: dict[str, Callable[[bytes], bytes]] = {
    "latin1": lambda text: text + "# café\n".encode("latin-1"),
    "nul": lambda text: text + b"# \x00\n",
}


@pytest.mark.parametrize("corrupt", INVALID_BYTES.values(), ids=INVALID_BYTES.keys())
def test_non_utf8_or_nul_bytes_are_an_invalid_source(
    attack: Attack, tmp_path: Path, corrupt: Callable[[bytes], bytes]
) -> None:
    source = tmp_path / "bad.py"
    source.write_bytes(corrupt(HONEST.read_bytes()))
    with pytest.raises(InvalidSource, match=r"NUL bytes|not UTF-8"):
        attack.judge_file(source)


def test_a_utf8_bom_and_crlf_line_endings_are_accepted(attack: Attack, tmp_path: Path) -> None:
    source = tmp_path / "windows.py"
    source.write_bytes(b"\xef\xbb\xbf" + HONEST.read_bytes().replace(b"\n", b"\r\n"))
    result = attack.judge_file(source)
    assert result.verdict is Verdict.AC, result.message
