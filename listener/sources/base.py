"""The source interface, the registry of source kinds, typed errors and the one HTTP fetcher.

A source turns `poll(cursor)` into a `Batch(items, next_cursor)`. It talks to its platform only through
the `HttpFetcher` it is given (timeouts, user agent, size cap, retries honouring Retry-After), touches no
database, and raises the typed errors below. Adding a platform = one module here that subclasses `Source`,
declares its `settings_model` and decorates itself with `@register`; `load_builtin_sources()` finds it.
"""

from __future__ import annotations

import email.utils
import importlib
import json
import logging
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from listener import __version__
from listener.clock import Clock, SystemClock
from listener.domain import Batch
from listener.durations import Duration

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- errors
class SourceError(Exception):
    """A poll failed; the source's health records it and the daemon backs off."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


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


# ----------------------------------------------------------------------------- settings
class HttpSettings(BaseModel):
    """`[http]`: how every HTTP-based source talks to the outside world."""

    model_config = ConfigDict(extra="forbid")

    timeout: Duration = timedelta(seconds=20)
    user_agent: str = f"listener/{__version__} (+https://github.com/listener-dev/listener)"
    max_bytes: int = Field(default=20_000_000, ge=1024)  # responses larger than this are refused
    retries: int = Field(default=2, ge=0, le=10)  # in-poll retries of 5xx/429/timeouts
    max_retry_wait: Duration = timedelta(seconds=30)  # a longer Retry-After ends the poll; the daemon backs off


class SourceSettings(BaseModel):
    """Keys every `[[source]]` block has; each kind adds its own in a subclass."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str
    every: Duration = timedelta(minutes=5)
    jitter: Duration = timedelta(seconds=10)
    enabled: bool = True


# ----------------------------------------------------------------------------- HTTP
def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_rate_limit_reset(value: str | None, now: datetime) -> float | None:
    """X-RateLimit-Reset as seconds from now: an ISO timestamp (Mastodon) or unix seconds (GitHub style)."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.isdigit():
            when = datetime.fromtimestamp(int(value), tz=UTC)
        else:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    except (ValueError, OverflowError):
        return None
    return max(0.0, (when - now).total_seconds())


class HttpFetcher:
    """The one way sources make HTTP requests."""

    def __init__(self, settings: HttpSettings | None = None, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.settings = settings or HttpSettings()
        self.clock = clock or SystemClock()
        self.client = httpx.Client(
            timeout=self.settings.timeout.total_seconds(),
            headers={"User-Agent": self.settings.user_agent},
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; return the response with its body read (2xx and 304 only)."""
        max_wait = self.settings.max_retry_wait.total_seconds()

        def worth_retrying(exc: BaseException) -> bool:
            if not isinstance(exc, RateLimited | SourceUnavailable):
                return False
            return exc.retry_after is None or exc.retry_after <= max_wait

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, SourceError) and exc.retry_after is not None:
                return exc.retry_after
            return min(max_wait, 2.0 ** (state.attempt_number - 1))

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            retry=retry_if_exception(worth_retrying),
            wait=wait,
            sleep=self.clock.sleep,
            reraise=True,
        )
        return retrying(self._send_once, method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return parse_json(self.get(url, **kwargs))

    def _send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        request = self.client.build_request(method, url, **kwargs)
        try:
            response = self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(f"timeout talking to {request.url.host}: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"cannot reach {request.url.host}: {exc}") from exc
        try:
            self._check_status(response)
            response._content = self._read_capped(response)
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(f"timeout reading from {request.url.host}") from exc
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"connection to {request.url.host} broke: {exc}") from exc
        finally:
            response.close()
        return response

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300 or status == 304:
            return
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock.now())
        if retry_after is None:  # Mastodon, GitHub & co. announce the end of the window instead
            retry_after = parse_rate_limit_reset(response.headers.get("X-RateLimit-Reset"), self.clock.now())
        where = f"{response.request.method} {response.request.url.copy_with(query=None)}"
        if status == 429:
            raise RateLimited(f"rate limited (429) by {where}", retry_after=retry_after)
        if status >= 500:
            raise SourceUnavailable(f"server error {status} from {where}", retry_after=retry_after)
        raise ClientError(f"HTTP {status} from {where}", status=status, body=self._read_capped(response))

    def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise BadPayload(f"response of {declared} bytes exceeds the {cap}-byte cap")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise BadPayload(f"response exceeds the {cap}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)


def parse_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = response.headers.get("Content-Type", "unknown content type")
        raise BadPayload(f"expected JSON from {response.url.host}, got unreadable {kind}: {exc}") from exc


# ----------------------------------------------------------------------------- interface
@dataclass
class SourceContext:
    """What a source may use: the HTTP fetcher, the configured brands (for search terms), the clock."""

    http: HttpFetcher
    brands: list[Any] = field(default_factory=list)  # list[BrandSettings]
    clock: Clock = field(default_factory=SystemClock)


class Source(ABC):
    kind: ClassVar[str]
    settings_model: ClassVar[type[SourceSettings]]

    def __init__(self, settings: SourceSettings, context: SourceContext):
        self.settings = settings
        self.context = context

    @property
    def name(self) -> str:
        return self.settings.name

    @abstractmethod
    def poll(self, cursor: dict[str, Any]) -> Batch:
        """Fetch what is new since `cursor`; return it with the cursor to store alongside."""


registry: dict[str, type[Source]] = {}
S = TypeVar("S", bound=type[Source])


def register(cls: S) -> S:
    registry[cls.kind] = cls
    return cls


def load_builtin_sources() -> dict[str, type[Source]]:
    """Import every module of this package, so each registers its kind (a new source needs no edit here)."""
    package = importlib.import_module("listener.sources")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"listener.sources.{module.name}")
    return registry


def get_source_class(kind: str) -> type[Source]:
    load_builtin_sources()
    try:
        return registry[kind]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known kinds: {', '.join(sorted(registry))}") from None


SourceFactory = Callable[[SourceSettings, SourceContext], Source]
