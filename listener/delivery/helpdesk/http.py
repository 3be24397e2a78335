"""One HTTP session with a helpdesk's REST API: base URL, auth, timeouts, and every answer that is not a success
turned into a HelpdeskError that says what to do — naming the channel and the secret, never their values."""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx

from listener.clock import Clock
from listener.delivery.helpdesk.model import HelpdeskError, TicketGone

MAX_DETAIL = 300


def retry_after(value: str | None, clock: Clock) -> timedelta | None:
    """Retry-After as seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(timedelta(0), when - clock.now())


def _detail(response: httpx.Response) -> str:
    """The helpdesk's own words on a rejected request (validation errors), shortened; it holds no secrets of ours."""
    text = response.text.strip().replace("\n", " ")
    return text[:MAX_DETAIL] + ("…" if len(text) > MAX_DETAIL else "")


class Api:
    """`with Api(...) as api: api.get("/path")` — answers are JSON; errors raise HelpdeskError."""

    def __init__(self, channel: str, helpdesk: str, base_url: str, timeout: timedelta, clock: Clock,
                 headers: dict[str, str] | None = None, auth: httpx.Auth | None = None, secret_name: str = ""):
        self.channel, self.helpdesk, self.clock, self.secret_name = channel, helpdesk, clock, secret_name
        self._client = httpx.Client(base_url=base_url, timeout=timeout.total_seconds(), auth=auth,
                                    headers={"Accept": "application/json", **(headers or {})})

    def __enter__(self) -> Api:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._client.close()

    def request(self, method: str, path: str, params: dict[str, Any] | None = None,
                body: Any = None, gone_is: str | None = None) -> httpx.Response:
        """`gone_is`: what a 404 means here (e.g. "ticket 12"), raised as TicketGone; otherwise a 404 is an error."""
        try:
            response = self._client.request(method, path, params=params,
                                            content=None if body is None else json.dumps(body).encode(),
                                            headers={"Content-Type": "application/json"} if body is not None else None)
        except httpx.HTTPError as exc:  # the URL may carry nothing secret, but say only what failed
            raise HelpdeskError(f"{self.helpdesk} unreachable ({type(exc).__name__})") from exc
        status = response.status_code
        if status < 300:
            return response
        if status == 429:
            wait = retry_after(response.headers.get("Retry-After"), self.clock)
            raise HelpdeskError(f"{self.helpdesk} is rate limiting (HTTP 429"
                                f"{f', retry after {int(wait.total_seconds())} s' if wait else ''})", retry_after=wait)
        if status in (401, 403):
            raise HelpdeskError(f"{self.helpdesk} refused the credentials (HTTP {status}): check the secret "
                                f"{self.secret_name!r} and the account's permissions")
        if status == 404 and gone_is:
            raise TicketGone(f"{gone_is} no longer exists in {self.helpdesk} (HTTP 404)")
        if status in (400, 409, 422):
            raise HelpdeskError(f"{self.helpdesk} rejected {method} {path} (HTTP {status}): {_detail(response)}")
        wait = retry_after(response.headers.get("Retry-After"), self.clock) if status == 503 else None
        raise HelpdeskError(f"{self.helpdesk} answered {method} {path} with HTTP {status}", retry_after=wait)

    def json(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
             gone_is: str | None = None) -> Any:
        response = self.request(method, path, params=params, body=body, gone_is=gone_is)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise HelpdeskError(f"{self.helpdesk} answered {method} {path} with something that is not JSON") from exc

    def get(self, path: str, params: dict[str, Any] | None = None, gone_is: str | None = None) -> Any:
        return self.json("GET", path, params=params, gone_is=gone_is)

    def post(self, path: str, body: Any, gone_is: str | None = None) -> Any:
        return self.json("POST", path, body=body, gone_is=gone_is)

    def put(self, path: str, body: Any, gone_is: str | None = None) -> Any:
        return self.json("PUT", path, body=body, gone_is=gone_is)


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HelpdeskError(f"unexpected answer: {what} is not a JSON object")
    return value


def member(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is a JSON object, else an empty one (optional nested objects)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise HelpdeskError(f"unexpected answer: {what} is not a JSON array")
    return value
