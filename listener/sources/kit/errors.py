"""The typed errors a source raises; the pipeline records them in the source's health and backs off."""

from __future__ import annotations


class SourceError(Exception):
    """A poll failed; the source's health records it and the daemon backs off."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.failed_targets: dict[str, str] = {}  # set when every target of a source failed (kit.targets)


class RateLimited(SourceError):
    """HTTP 429 (or the platform's own throttle signal)."""


class SourceUnavailable(SourceError):
    """5xx, timeout, connection refused: worth retrying later."""


class ClientError(SourceError):
    """4xx other than 429: wrong URL, missing or refused credentials."""

    def __init__(self, message: str, status: int | None = None, body: bytes = b""):
        super().__init__(message)
        self.status = status
        self.body = body  # some platforms explain throttling in a 400 body (Stack Exchange throttle_violation)


class BadPayload(SourceError):
    """The platform answered, but with something we cannot read (or too much of it)."""


def describe(exc: BaseException) -> str:
    """How a failure reads in a source's health and in the logs: "RateLimited: rate limited (429) by …"."""
    return f"{type(exc).__name__}: {exc}"
