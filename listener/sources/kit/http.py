"""The one HTTP fetcher every HTTP-based source is given: timeouts, user agent, size cap, retries that
honour Retry-After, and HTTP failures turned into the typed source errors."""

from __future__ import annotations

import email.utils
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from listener import __version__
from listener.clock import Clock, SystemClock
from listener.durations import Duration
from listener.sources.kit.errors import BadPayload, ClientError, RateLimited, SourceError, SourceUnavailable

log = logging.getLogger(__name__)


class HttpSettings(BaseModel):
    """`[http]`: how every HTTP-based source talks to the outside world."""

    model_config = ConfigDict(extra="forbid")

    timeout: Duration = Field(default=timedelta(seconds=20),
                              description="How long one request may take before it fails.")
    user_agent: str = Field(default=f"listener/{__version__} (+https://github.com/listener-dev/listener)",
                            description="User-Agent header sent with every request.")
    max_bytes: int = Field(default=20_000_000, ge=1024,
                           description="Responses larger than this many bytes are refused (the poll fails and the "
                                       "source backs off).")
    retries: int = Field(default=2, ge=0, le=10,
                         description="Retries within one poll after a 429, a 5xx or a timeout, honouring Retry-After.")
    max_retry_wait: Duration = Field(default=timedelta(seconds=30),
                                     description="Longest wait before such a retry; a longer Retry-After ends the poll "
                                                 "and the source backs off.")


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

    def get_if_changed(self, url: str, validators: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """A conditional GET: If-None-Match / If-Modified-Since from `validators` (what `validators_of` kept
        of the last answer, in a cursor); the answer is a 304 without a body when nothing changed."""
        headers = dict(headers)
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return self.get(url, headers=headers)

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


def validators_of(response: httpx.Response) -> dict[str, str]:
    """The ETag and Last-Modified of an answer, as a cursor keeps them for the next conditional GET."""
    found = (("etag", response.headers.get("ETag")), ("last_modified", response.headers.get("Last-Modified")))
    return {key: value for key, value in found if value}


def parse_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = response.headers.get("Content-Type", "unknown content type")
        raise BadPayload(f"expected JSON from {response.url.host}, got unreadable {kind}: {exc}") from exc
