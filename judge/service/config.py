"""The service's settings: the one place they are read (from arguments and the environment)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from judge.data import Secret, resolve_secret

DATABASE_FILE = "judge.db"
SECRET_FILE = "secret"
UPLOADS = "uploads"


class ServiceSettings(BaseModel):
    """How one service instance runs: where its data lives and how runs are leased.

    data_dir: the database, the secret and anything else the service keeps.
    database_url: SQLAlchemy URL; default an SQLite file in data_dir.
    lease_s: how long a claimed run stays a worker's without a heartbeat.
    max_tries: judging attempts before a run is given up as "judging failed".
    dispatch: "poll" (workers poll the run table) or "celery" (runs are published to
        Celery on Redis at `broker_url`; workers are Celery workers).
    redispatch_s: a run still queued this long after it was published is published
        again (then after twice as long, and so on, up to 16 times as long).
    resources: what this process's workers offer, and so the runs they take (with
        celery, the queues they consume): "cpu", "gpu", or both.
    worker_name: the prefix of this process's worker names (default: the host name);
        workers are named PREFIX-1, PREFIX-2, ... and must be unique across machines.
    """

    model_config = ConfigDict(frozen=True)

    data_dir: Path
    database_url: str = ""
    bank_dir: Path | None = None
    sandbox: str = "auto"
    pool: bool = True
    lease_s: float = Field(default=30.0, gt=0)
    max_tries: int = Field(default=3, ge=1)
    poll_s: float = Field(default=0.2, gt=0)
    upload_max_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    dispatch: Literal["poll", "celery"] = "poll"
    broker_url: str = ""
    redispatch_s: float = Field(default=60.0, gt=0)
    pid_dir: Path | None = None  # Celery workers write worker-N.pid here (`make stack`)
    resources: tuple[Literal["cpu", "gpu"], ...] = Field(default=("cpu",), min_length=1)
    worker_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,60}$")

    @model_validator(mode="after")
    def _broker_given(self) -> ServiceSettings:
        if self.dispatch == "celery" and not self.broker_url:
            raise ValueError(
                "JUDGE_DISPATCH=celery needs a broker: set JUDGE_BROKER_URL=redis://host:port/0"
            )
        return self

    def url(self) -> str:
        """Return the database URL (the SQLite file in data_dir unless one is set)."""
        return self.database_url or f"sqlite:///{self.data_dir / DATABASE_FILE}"

    @property
    def heartbeat_s(self) -> float:
        """How often a judging worker renews its lease: three times per lease."""
        return self.lease_s / 3


def load_settings(
    data_dir: Path,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServiceSettings:
    """Return the settings for `data_dir`: JUDGE_DATABASE_URL, JUDGE_BANK, JUDGE_LEASE_S,
    JUDGE_DISPATCH, JUDGE_BROKER_URL, JUDGE_REDISPATCH_S, JUDGE_RESOURCES (comma
    separated) and JUDGE_WORKER_NAME from the environment, then `overrides`
    (command-line options)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {"data_dir": data_dir.resolve()}
    if url := env.get("JUDGE_DATABASE_URL"):
        values["database_url"] = url
    if bank := env.get("JUDGE_BANK"):
        values["bank_dir"] = Path(bank)
    if lease := env.get("JUDGE_LEASE_S"):
        values["lease_s"] = lease
    if dispatch := env.get("JUDGE_DISPATCH"):
        values["dispatch"] = dispatch
    if broker := env.get("JUDGE_BROKER_URL"):
        values["broker_url"] = broker
    if redispatch := env.get("JUDGE_REDISPATCH_S"):
        values["redispatch_s"] = redispatch
    if worker_name := env.get("JUDGE_WORKER_NAME"):
        values["worker_name"] = worker_name
    if resources := env.get("JUDGE_RESOURCES"):
        values["resources"] = tuple(part.strip() for part in resources.split(","))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return ServiceSettings.model_validate(values)


def service_secret(data_dir: Path, environ: Mapping[str, str] | None = None) -> tuple[Secret, bool]:
    """Return the secret hidden data is drawn from, and whether it was just created.

    JUDGE_SECRET, else JUDGE_SECRET_FILE, else data_dir/secret. The service never uses
    the built-in development secret (hidden data would be public): without a secret it
    writes a random one to data_dir/secret, readable by its owner only.
    """
    env = os.environ if environ is None else environ
    named = env.get("JUDGE_SECRET_FILE")
    path = Path(named) if named else data_dir / SECRET_FILE
    secret = resolve_secret(env.get("JUDGE_SECRET"), path)
    if not secret.is_development:
        return secret, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return resolve_secret(None, path), True
