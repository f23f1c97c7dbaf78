"""The service's HTTP client, used by `judge submit` and `judge status`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from judge.errors import JudgeError, UsageError

FINAL = ("done", "error")


class ServiceError(JudgeError):
    """The service refused a request or could not be reached."""


class Client:
    """Talks to one service as one user (bearer token)."""

    def __init__(self, server: str, token: str, timeout: float = 30.0) -> None:
        if not token:
            raise UsageError("no API token: pass --token or set JUDGE_TOKEN")
        self.http = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def submit(self, problem: str, path: Path, key: str | None = None) -> dict[str, Any]:
        """Upload `path` for `problem`; one submission however often this is retried."""
        key = key or str(uuid.uuid4())
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}") from None
        files = {"file": (path.name, content, "application/octet-stream")}
        made: dict[str, Any] = self._call(
            "POST",
            "/api/v1/submissions",
            data={"problem": problem},
            files=files,
            headers={"Idempotency-Key": key},
        )
        return made

    def submission(self, submission_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/api/v1/submissions/{submission_id}")
        return found

    def latest(self) -> dict[str, Any]:
        found = self._call("GET", "/api/v1/submissions")
        if not found:
            raise UsageError("you have no submissions yet")
        latest: dict[str, Any] = found[0]
        return latest

    def wait(
        self,
        submission_id: int,
        timeout: float,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until the submission is judged (or judging failed); ServiceError on timeout."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            found = self.submission(submission_id)
            if found["state"] in FINAL:
                return found
            if progress is not None:
                progress(found)
            if time.monotonic() > deadline:
                raise ServiceError(f"submission {submission_id} is still {found['state']}")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        for attempt in range(3):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == 2:
                    raise ServiceError(f"cannot reach {self.http.base_url}: {exc}") from None
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.status_code >= 500 and attempt < 2:
                time.sleep(0.5 * (attempt + 1))
                continue
            break
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:200]}
        if response.status_code >= 400:
            message = body.get("error") if isinstance(body, dict) else None
            raise ServiceError(f"{response.status_code}: {message or response.reason_phrase}")
        return body
