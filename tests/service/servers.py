"""Real servers for the service tests, from Debian's packages, on 127.0.0.1 and free ports:
PostgreSQL and Redis.

`PostgresServer` runs its own cluster in a temporary folder (initdb, then pg_ctl), with
trust authentication on loopback only, and gives each test a database of its own. As
root it runs as the `postgres` user the Debian package creates (PostgreSQL refuses to
run as root). Nothing listens beyond 127.0.0.1, and the server stops with the session.

Without the binaries the tests that need them skip, except under CI=true, where they
fail: CI installs the packages (scripts/setup-host.sh) and must test the real thing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

POSTGRES_USER = "postgres"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def missing(reason: str) -> None:
    """Skip, or fail under CI, where every real server must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test against a real server, but: {reason}")
    pytest.skip(reason)


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parent)
    return found[-1].parent if found else None


class PostgresServer:
    """One PostgreSQL cluster on 127.0.0.1:port, started and stopped by the tests."""

    def __init__(self, bin_dir: Path, also_listen: str | None = None) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="judge-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        self.port = free_port()
        self._names = itertools.count(1)
        self.also_listen = also_listen
        listen = "127.0.0.1" + (f",{also_listen}" if also_listen else "")
        self._options = (
            f"-c listen_addresses={listen} -p {self.port} -k {self.sockets} "
            "-c fsync=off -c max_connections=200"
        )
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam(POSTGRES_USER)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            os.chown(self.sockets, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", POSTGRES_USER, "--"]

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self._as, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D", str(self.data),
            "-U", POSTGRES_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )  # fmt: skip
        if self.also_listen:  # trust the other end of the test's veth pair (a /30)
            peer = self.also_listen.rsplit(".", 1)[0] + ".0/30"
            with (self.data / "pg_hba.conf").open("a") as rules:
                rules.write(f"host all all {peer} trust\n")
        self._pg_ctl_start()

    def restart(self) -> None:
        """Stop the server (fast: connections are cut) and start it again."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._pg_ctl_start()

    def _pg_ctl_start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D", str(self.data),
            "-l", str(self.root / "server.log"),
            "-o", self._options,
            "-w", "start",
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        dsn = f"host=127.0.0.1 port={self.port} user={POSTGRES_USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(also_listen: str | None = None) -> PostgresServer:
    """Start a cluster, or skip (fail under CI) when PostgreSQL or psycopg is missing.

    also_listen: a second address to listen on (a veth address the test made)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg is not installed (pip install -e '.[service]')")
    assert bin_dir is not None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            missing("there is no postgres user to run PostgreSQL as")
    server = PostgresServer(bin_dir, also_listen)
    server.start()
    return server


class RedisServer:
    """One redis-server on 127.0.0.1:port, in the foreground of a child process.

    Persistence is off unless asked (`appendonly`), so a restart without it loses every
    message, as a flushed or replaced broker would.
    """

    def __init__(self, appendonly: bool = False, also_listen: str | None = None) -> None:
        self.also_listen = also_listen
        # Beyond loopback, Redis's protected mode wants a password; the test makes one.
        self.password = secrets.token_hex(16) if also_listen else None
        self.root = Path(tempfile.mkdtemp(prefix="judge-redis-"))
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1", *([self.also_listen] if self.also_listen else []),
            "--protected-mode", "yes",
            "--dir", str(self.root),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--maxmemory-policy", "noeviction",
            *(["--requirepass", self.password] if self.password else []),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def command(self, *words: str) -> str:
        """Send one command in the inline protocol; return the first reply line."""
        with (
            socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection,
            connection.makefile("rb") as reader,
        ):
            if self.password:
                connection.sendall(f"AUTH {self.password}\r\n".encode())
                reader.readline()
            connection.sendall((" ".join(words) + "\r\n").encode())
            reply = reader.readline().decode(errors="replace")
        return reply.rstrip("\r\n").lstrip("+:")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_redis(appendonly: bool = False, also_listen: str | None = None) -> RedisServer:
    """Start redis-server, or skip (fail under CI) when it is not installed."""
    if shutil.which("redis-server") is None:
        missing("redis-server is not installed (apt-get install redis-server)")
    try:
        import celery  # noqa: F401
    except ImportError:
        missing("celery is not installed (pip install -e '.[service]')")
    server = RedisServer(appendonly, also_listen)
    server.start()
    return server
