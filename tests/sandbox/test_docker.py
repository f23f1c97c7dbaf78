"""Facts only the docker backend promises: the container's lockdown and the image's contents.

Behaviour every backend shares (exit codes, limits, outputs) is in test_conformance.py.
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

import pytest
from docker.client import DockerClient, from_env

from judge.errors import SandboxUnavailable
from judge.sandbox.base import OUTPUT_DIR, Limits, Mount, RunFacts, Sandbox
from judge.sandbox.cgroups import CgroupLayout
from judge.sandbox.docker import LABEL, DockerSandbox, container_cgroup, seccomp_profile
from tests.backends import get_backend

pytestmark = pytest.mark.docker

SMALL = Limits(wall_s=10, memory_mb=256, pids=64, tmp_mb=16)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return get_backend("docker")


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Iterator[DockerClient]:
    client = from_env()
    yield client
    client.close()


def run_python(
    sandbox: Sandbox,
    code: str,
    limits: Limits = SMALL,
    mounts: Sequence[Mount] = (),
) -> RunFacts:
    return sandbox.run([sandbox.python, "-c", textwrap.dedent(code)], mounts, limits, {})


def sandbox_containers(client: DockerClient) -> list[str]:
    found = client.containers.list(all=True, filters={"label": LABEL})
    return [str(c.id) for c in found]


def test_command_runs_as_uid_65534_with_no_capabilities(sandbox: Sandbox) -> None:
    facts = run_python(sandbox, "print(open('/proc/self/status').read())")
    status = dict(line.split(":\t", 1) for line in facts.stdout_tail.splitlines() if ":\t" in line)
    assert status["Uid"].split() == ["65534"] * 4
    assert status["Gid"].split() == ["65534"] * 4
    assert status["CapEff"] == "0000000000000000"
    assert status["CapPrm"] == "0000000000000000"
    assert status["NoNewPrivs"] == "1"


def test_default_seccomp_filter_is_on(sandbox: Sandbox) -> None:
    facts = run_python(sandbox, "print(open('/proc/self/status').read())")
    assert "Seccomp:\t2" in facts.stdout_tail


SYSCALL_PROBE = """
import ctypes, platform
assert platform.machine() == "x86_64", platform.machine()
libc = ctypes.CDLL(None, use_errno=True)
def call(number, *args):
    ctypes.set_errno(0)
    result = libc.syscall(number, *args)
    return f"{result} {ctypes.get_errno()}"
params = ctypes.create_string_buffer(120)
print("io_uring_setup", call(425, 8, params))
print("io_uring_enter", call(426, 0, 0, 0, 0, None, 0))
print("io_uring_register", call(427, 0, 0, None, 0))
print("keyctl", call(250, 0, 0))
print("unshare", call(272, 0x10000000))
print("clone_newuser", call(56, 0x10000000 | 17, 0, 0, 0, 0))
print("perf_event_open", call(298, None, 0, -1, -1, 0))
print("userfaultfd", call(323, 0))
print("bpf", call(321, 0, None, 0))
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers are x86_64's")
def test_the_seccomp_profile_denies_io_uring_and_namespace_syscalls(sandbox: Sandbox) -> None:
    facts = run_python(sandbox, SYSCALL_PROBE)
    assert facts.exit_code == 0, facts.stderr_tail
    seen = dict(line.split(" ", 1) for line in facts.stdout_tail.splitlines())
    enosys, eperm = "-1 38", "-1 1"
    assert seen["io_uring_setup"] == enosys
    assert seen["io_uring_enter"] == enosys
    assert seen["io_uring_register"] == enosys
    for name in ("keyctl", "unshare", "clone_newuser", "perf_event_open", "userfaultfd", "bpf"):
        assert seen[name] == eperm, (name, seen[name])


def test_the_seccomp_profile_is_valid_json_with_a_reason(sandbox: Sandbox) -> None:
    profile = json.loads(seccomp_profile())
    assert profile["comment"], "the profile says why it is shaped as it is"
    denied = {name for rule in profile["syscalls"] for name in rule["names"]}
    assert {"io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace"} <= denied


@pytest.mark.slow
def test_torch_trains_with_threads_and_sklearn_fits_under_the_seccomp_profile(
    sandbox: Sandbox,
) -> None:
    cores = tuple(sorted(os.sched_getaffinity(0)))[:2]
    facts = run_python(
        sandbox,
        """
        import threading
        import numpy as np
        import torch
        from sklearn.linear_model import LogisticRegression
        from torch.utils.data import DataLoader, TensorDataset

        torch.set_num_threads(2)
        x = torch.randn(512, 8)
        y = (x[:, 0] > 0).long()
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=1)
        for _ in range(5):
            for xb, yb in loader:
                optimiser.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                loss.backward()
                optimiser.step()
        accuracy = float((model(x).argmax(1) == y).float().mean())
        worker = threading.Thread(target=lambda: np.linalg.svd(np.random.rand(200, 200)))
        worker.start()
        worker.join()
        fit = LogisticRegression().fit(x.numpy(), y.numpy()).score(x.numpy(), y.numpy())
        print(f"{accuracy:.2f} {fit:.2f}")
        """,
        limits=Limits(wall_s=90, memory_mb=2048, cpuset=cores, tmp_mb=64),
    )
    assert facts.exit_code == 0, facts.stderr_tail
    accuracy, fit = map(float, facts.stdout_tail.split())
    assert accuracy > 0.9 and fit > 0.9


def test_root_filesystem_is_read_only_but_tmp_and_work_are_writable(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        import errno, os
        for path in ("/usr/evil", "/sandbox/evil", "/etc/evil"):
            try:
                open(path, "w")
            except OSError as exc:
                assert exc.errno in (errno.EROFS, errno.EACCES), (path, exc)
            else:
                raise SystemExit(f"{path} was writable")
        for path in ("/tmp/ok", "/sandbox/work/ok", "ok"):
            with open(path, "w") as f:
                f.write("x")
        print(os.getcwd())
        """,
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert facts.stdout_tail.strip() == "/sandbox/work"


def test_mounts_are_read_only_unless_writable(sandbox: Sandbox, tmp_path: Path) -> None:
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir(mode=0o755)
    output.mkdir()
    output.chmod(0o777)
    (data / "train.csv").write_text("a,b\n1,2\n")
    facts = run_python(
        sandbox,
        """
        print(open("/sandbox/data/train.csv").read().splitlines()[0])
        try:
            open("/sandbox/data/x", "w")
        except OSError:
            print("data read-only")
        open("/sandbox/output/pred.csv", "w").write("ok")
        """,
        mounts=[Mount(data, "/sandbox/data"), Mount(output, OUTPUT_DIR, writable=True)],
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert facts.stdout_tail.splitlines() == ["a,b", "data read-only"]
    assert (output / "pred.csv").read_text() == "ok"
    assert not (data / "x").exists()


def test_output_files_are_capped_by_the_file_size_limit(sandbox: Sandbox, tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    facts = run_python(
        sandbox,
        """
        with open("/sandbox/output/big", "wb") as f:
            f.write(b"x" * (3 * 2**20))
        """,
        limits=Limits(wall_s=10, memory_mb=256, output_mb=1),
        mounts=[Mount(tmp_path, OUTPUT_DIR, writable=True)],
    )
    assert facts.exit_code != 0
    assert (tmp_path / "big").stat().st_size <= 2**20
    assert facts.output_truncated


def test_only_the_loopback_interface_exists(sandbox: Sandbox) -> None:
    facts = run_python(sandbox, "import os; print(sorted(os.listdir('/sys/class/net')))")
    assert facts.stdout_tail.strip() == "['lo']"


def test_a_listener_on_the_host_loopback_is_unreachable(sandbox: Sandbox) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        facts = run_python(
            sandbox,
            f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
            except OSError as exc:
                print("failed", type(exc).__name__)
            else:
                print("connected")
            """,
        )
        with pytest.raises(TimeoutError):
            listener.accept()
    assert facts.stdout_tail.startswith("failed"), facts.stdout_tail


def test_containers_are_removed_after_runs_and_timeouts(
    sandbox: Sandbox, client: DockerClient
) -> None:
    before = sandbox_containers(client)
    assert run_python(sandbox, "print('ok')").exit_code == 0
    assert run_python(sandbox, "while True: pass", limits=Limits(wall_s=1, memory_mb=64)).timed_out
    assert run_python(sandbox, "import sys; sys.exit(3)").exit_code == 3
    assert sandbox_containers(client) == before


def test_an_infinite_loop_is_killed_near_the_wall_limit(sandbox: Sandbox) -> None:
    facts = run_python(sandbox, "while True: pass", limits=Limits(wall_s=1.5, memory_mb=64))
    assert facts.timed_out
    assert facts.exit_code is None and facts.signal == 9
    assert 1.5 <= facts.wall_s < 2.5
    assert facts.cpu_s > 0.1  # the loop was charged CPU time (less when the host is busy)


def test_a_memory_bomb_reports_oom(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        blocks = []
        while True:
            blocks.append(b"x" * 10**7)
        """,
        limits=Limits(wall_s=10, memory_mb=128),
    )
    assert facts.oom
    assert not facts.timed_out
    assert facts.signal == 9
    assert facts.peak_mb == pytest.approx(128, abs=2)


def test_peak_memory_is_plausible_for_a_200_mb_allocation(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox, "block = b'x' * (200 * 2**20)", limits=Limits(wall_s=10, memory_mb=512)
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert not facts.oom
    assert 200 <= facts.peak_mb < 280


def test_usage_falls_back_to_docker_stats_without_cgroup_files(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    assert isinstance(sandbox, DockerSandbox)
    nowhere = CgroupLayout(1, (("memory", tmp_path), ("cpuacct", tmp_path)))
    with closing(from_env()) as client:
        facts = run_python(
            DockerSandbox(client, sandbox.image, cgroup_layout=nowhere),
            "import time; block = b'x' * (50 * 2**20); time.sleep(0.5)",
        )
    assert facts.exit_code == 0, facts.stderr_tail
    assert facts.peak_mb > 0
    assert facts.cpu_s > 0


def test_cgroup_v2_counters_are_read_from_the_systemd_scope(tmp_path: Path) -> None:
    container_id = "ab" * 32
    scope = tmp_path / "system.slice" / f"docker-{container_id}.scope"
    scope.mkdir(parents=True)
    (scope / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    (scope / "memory.peak").write_text(f"{300 * 2**20}\n")
    (scope / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    layout = CgroupLayout(2, (("unified", tmp_path),))
    group = container_cgroup(layout, container_id, pid=0)
    assert group is not None
    assert (group.cpu_seconds(), group.peak_bytes(), group.oom_kills()) == (1.5, 300 * 2**20, 1)


def test_cgroup_v1_counters_are_read_from_the_docker_folders(tmp_path: Path) -> None:
    container_id = "cd" * 32
    memory = tmp_path / "memory" / "docker" / container_id
    cpuacct = tmp_path / "cpu,cpuacct" / "docker" / container_id
    memory.mkdir(parents=True)
    cpuacct.mkdir(parents=True)
    (memory / "memory.max_usage_in_bytes").write_text(f"{64 * 2**20}\n")
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    (cpuacct / "cpuacct.usage").write_text("2500000000\n")
    layout = CgroupLayout(
        1, (("memory", tmp_path / "memory"), ("cpuacct", tmp_path / "cpu,cpuacct"))
    )
    group = container_cgroup(layout, container_id, pid=0)
    assert group is not None
    assert (group.cpu_seconds(), group.peak_bytes(), group.oom_kills()) == (2.5, 64 * 2**20, 0)


def test_no_cgroup_is_found_for_an_unknown_container(tmp_path: Path) -> None:
    layout = CgroupLayout(2, (("unified", tmp_path),))
    assert container_cgroup(layout, "ef" * 32, pid=os.getpid()) is None


def test_thread_env_vars_equal_the_cpu_count(sandbox: Sandbox) -> None:
    cores = tuple(sorted(os.sched_getaffinity(0)))[:2]
    facts = run_python(
        sandbox,
        """
        import os
        print(len(os.sched_getaffinity(0)))
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            print(os.environ[name])
        """,
        limits=Limits(wall_s=10, memory_mb=128, cpuset=cores),
    )
    assert facts.stdout_tail.split() == [str(len(cores))] * 4


def test_sklearn_bundled_datasets_are_absent(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        import os, sklearn
        root = os.path.join(os.path.dirname(sklearn.__file__), "datasets")
        print([d for d in ("data", "descr", "images") if os.path.exists(os.path.join(root, d))])
        from sklearn.datasets import load_iris
        try:
            load_iris()
        except Exception as exc:
            print("load_iris failed:", type(exc).__name__)
        """,
    )
    assert facts.stdout_tail.splitlines()[0] == "[]", facts.stderr_tail
    assert "load_iris failed" in facts.stdout_tail


@pytest.mark.slow
def test_torch_imports_in_the_image(sandbox: Sandbox) -> None:
    facts = run_python(
        sandbox,
        """
        import numpy, pandas, scipy, sklearn, torch, yaml
        print(torch.__version__, torch.get_num_threads(), float(torch.ones(3).sum()))
        """,
        limits=Limits(wall_s=60, memory_mb=1024),
    )
    assert facts.exit_code == 0, facts.stderr_tail
    assert facts.stdout_tail.split() == ["2.13.0+cpu", "1", "3.0"]


def test_pip_is_absent_from_the_image(sandbox: Sandbox) -> None:
    facts = run_python(sandbox, "import pip")
    assert "No module named 'pip'" in facts.stderr_tail


def test_a_missing_image_is_unavailable_with_the_fix(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxUnavailable, match="not found: run `make image`"):
        DockerSandbox.open(image="olympiad-judge-sandbox:no-such-tag")


def test_an_unreachable_engine_is_unavailable_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    with pytest.raises(SandboxUnavailable, match=r"not reachable at unix://.*: start dockerd"):
        DockerSandbox.open()
