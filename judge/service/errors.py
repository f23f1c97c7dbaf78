"""The service's refusals: what a client asked that the service will not do, and why."""

from __future__ import annotations


class Refused(Exception):
    """A request the service refuses: the HTTP status and a one-line reason (nothing stored)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
