"""A second judging machine, simulated: a Celery worker in a network namespace of its own,
joined to this one by a veth pair that the test makes, reaches PostgreSQL and Redis across
it, judges beside a local worker, and when the link is cut mid-run its run is requeued and
judged by the local worker, once.

Every address is in 127.0.0.0/8 and made by the test: the pair carries 127.77.N.1 (this
side, where the test's PostgreSQL and Redis also listen) and 127.77.N.2 (the namespace),
with `route_localnet` on the two ends only, so loopback addresses may cross them, and
IPv6 off on both. The namespace has no other interface up (not even its own lo) and no
route but the pair's, so the worker there can reach nothing but the two servers the test
started.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from judge.service.db import make_engine, session_factory
from judge.service.models import Run, RunState
from tests.service.live import FIXTURE_BANK, JUDGE, SOLUTION, start_service, stop_service
from tests.service.servers import missing, start_postgres, start_redis
from tests.service.test_api import upload, wait_judged
from tests.service.test_celery import (
    MEDIUM_SOLUTION,
    SLOW_SOLUTION,
    done_events,
    judging_pid,
    run_of,
)


@dataclass
class Link:
    namespace: str
    host_end: str
    host_address: str
    namespace_address: str

    def ip(self, *args: str, inside: bool = False) -> str:
        prefix = ["ip", "netns", "exec", self.namespace] if inside else []
        done = subprocess.run(
            [*prefix, "ip", *args], capture_output=True, text=True, check=True, timeout=30
        )
        return done.stdout

    def cut(self) -> None:
        self.ip("link", "set", self.host_end, "down")


def sysctl(name: str, value: str | None = None, namespace: str | None = None) -> str:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    command = (
        [*prefix, "sysctl", "-n", name]
        if value is None
        else [*prefix, "sysctl", "-qw", f"{name}={value}"]
    )
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def link() -> Iterator[Link]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        missing("network namespaces need root and iproute2")
    tag = f"{os.getpid() % 10000}{random.randrange(100)}"
    octet = random.randrange(1, 250)
    made = Link(f"judge-m2-{tag}", f"jm2h{tag}", f"127.77.{octet}.1", f"127.77.{octet}.2")
    namespace_end = f"jm2n{tag}"
    try:
        subprocess.run(["ip", "netns", "add", made.namespace], check=True, timeout=30)
    except subprocess.CalledProcessError:
        missing("cannot create a network namespace here")
    try:
        made.ip("link", "add", made.host_end, "type", "veth", "peer", "name", namespace_end)
        made.ip("link", "set", namespace_end, "netns", made.namespace)
        made.ip("addr", "add", f"{made.host_address}/30", "dev", made.host_end)
        made.ip("addr", "add", f"{made.namespace_address}/30", "dev", namespace_end, inside=True)
        sysctl(f"net.ipv4.conf.{made.host_end}.route_localnet", "1")
        sysctl(f"net.ipv4.conf.{namespace_end}.route_localnet", "1", made.namespace)
        # IPv4 only: no IPv6 link-local address on either end
        sysctl(f"net.ipv6.conf.{made.host_end}.disable_ipv6", "1")
        sysctl(f"net.ipv6.conf.{namespace_end}.disable_ipv6", "1", made.namespace)
        made.ip("link", "set", made.host_end, "up")
        made.ip("link", "set", namespace_end, "up", inside=True)
        yield made
    finally:
        subprocess.run(["ip", "netns", "pids", made.namespace], capture_output=True)
        for pid in subprocess.run(
            ["ip", "netns", "pids", made.namespace], capture_output=True, text=True
        ).stdout.split():
            subprocess.run(["kill", "-9", pid], capture_output=True)
        subprocess.run(["ip", "netns", "del", made.namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", made.host_end], capture_output=True)


@pytest.mark.slow
def test_a_worker_on_a_second_machine_judges_and_its_run_survives_the_link_cut(
    link: Link, tmp_path: Path
) -> None:
    # The namespace reaches the pair's /30 and nothing else.
    routes = link.ip("route", "show", "table", "all", inside=True)
    assert routes and all("127.77." in line for line in routes.splitlines()), routes
    postgres = start_postgres(also_listen=link.host_address)
    redis = start_redis(also_listen=link.host_address)
    url = postgres.new_database()
    env = {
        "JUDGE_DISPATCH": "celery",
        "JUDGE_BROKER_URL": redis.url,
        "JUDGE_REDISPATCH_S": "600",
    }
    service = start_service(tmp_path, workers=0, database_url=url, extra_env=env)
    remote_env = {
        **service.env,
        "JUDGE_DATABASE_URL": url.replace("127.0.0.1", link.host_address),
        "JUDGE_BROKER_URL": redis.url.replace("127.0.0.1", link.host_address),
        "JUDGE_WORKER_NAME": "machine-two",
        "JUDGE_BANK": str(FIXTURE_BANK),
    }
    worker_command = [JUDGE, "worker", "--workers", "1", "--sandbox", "process", "--no-pool"]
    remote = subprocess.Popen(
        ["ip", "netns", "exec", link.namespace, *worker_command, "--data", str(tmp_path / "m2")],
        env=remote_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    local = None
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        alice = service.add_user("alice")
        with service.client(alice["token"]) as client:
            # the remote worker alone: it judges across the link
            first = upload(client, "s.py", SOLUTION.read_bytes()).json()
            assert wait_judged(client, first["id"], timeout=120)["result"]["verdict"] == "AC"
            # then beside a local worker
            local = subprocess.Popen(
                [*worker_command, "--data", str(tmp_path / "m1")],
                env={**service.env, "JUDGE_WORKER_NAME": "machine-one"},
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                start_new_session=True,
            )  # fmt: skip
            time.sleep(3)  # the local worker is up
            ids = [upload(client, "m.py", MEDIUM_SOLUTION).json()["id"] for _ in range(6)]
            for submission in ids:
                assert wait_judged(client, submission, timeout=120)["result"]["verdict"] == "AC"
            with sessions() as session:
                by = {run.worker for run in session.scalars(select(Run))}
            assert {"machine-one-1", "machine-two-1"} <= by
            # a slow run on the remote worker, then the link is cut
            slow = None
            for _ in range(10):
                made = upload(client, "slow.py", SLOW_SOLUTION).json()
                run_id = run_of(sessions, made["id"])
                judging_pid(sessions, run_id)
                with sessions() as session:
                    if session.get_one(Run, run_id).worker == "machine-two-1":
                        slow = (made["id"], run_id)
                        break
                wait_judged(client, made["id"], timeout=60)
            assert slow is not None, "the remote worker never took a slow run"
            link.cut()
            judged = wait_judged(client, slow[0], timeout=180)
        assert judged["result"]["verdict"] == "AC" and judged["tries"] == 2
        with sessions() as session:
            run = session.get_one(Run, slow[1])
        assert run.state == RunState.DONE and run.worker == "machine-one-1"
        assert done_events(sessions)[slow[1]] == 1
    finally:
        for name, process in (("local", local), ("remote", remote)):
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # the worker and its children
                output = process.communicate(timeout=60)[0]
                print(f"--- the {name} worker's output:\n{output[-3000:]}")
        stop_service(service)
        engine.dispose()
        redis.remove()
        postgres.stop()
