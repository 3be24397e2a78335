"""Signed acknowledge links, CSRF tokens and sign-in throttling for the care inbox."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from listener.clock import Clock
from listener.secrets import MissingSecret, get_secret
from listener.signed_links import AckLinks, InvalidAckLink
from listener.web.settings import WebSettings

__all__ = ["AckLinks", "InvalidAckLink", "LoginThrottle", "MissingSecret", "ack_links", "csrf_ok",
           "new_csrf_token", "session_secret", "task_url_template"]


def session_secret(settings: WebSettings) -> str:
    return get_secret(settings.session_secret)


def ack_links(settings: WebSettings | None, clock: Clock) -> Callable[[int], str] | None:
    """The acknowledge URL of a task, for its alerts, when a base URL is configured (listener/delivery/outbox.py)."""
    if settings is None or not settings.base_url:
        return None
    base = settings.base_url
    links = AckLinks(session_secret(settings), clock, settings.ack_link_valid)
    return lambda task_id: f"{base}/ack/{links.token(task_id)}"


def task_url_template(settings: WebSettings | None) -> str | None:
    """`[delivery] task_url` as the care inbox serves it, e.g. https://care.example.org/tasks/{id}."""
    return f"{settings.base_url}/tasks/{{id}}" if settings and settings.base_url else None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: object, given: object) -> bool:
    return isinstance(expected, str) and isinstance(given, str) and bool(expected) and \
        hmac.compare_digest(expected, given)


class LoginThrottle:
    """At most `attempts` events per name and per client address within `window` — a plain counter, which the
    public survey page uses for its answers (the sign-in form has its own, listener/web/throttle.py)."""

    def __init__(self, attempts: int, window: timedelta, clock: Clock):
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, name: str, address: str) -> bool:
        now = self.clock.now()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.attempts for k in (f"u:{name.lower()}", f"a:{address}"))

    def failed(self, name: str, address: str) -> None:
        now = self.clock.now()
        with self._lock:
            for key in (f"u:{name.lower()}", f"a:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{name.lower()}", None)
