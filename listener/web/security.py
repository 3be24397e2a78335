"""Signed acknowledge links, CSRF tokens and sign-in throttling for the care inbox."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from listener.clock import Clock
from listener.secrets import MissingSecret, get_secret
from listener.web.settings import WebSettings

ACK_SALT = "listener.ack-link"
__all__ = ["AckLinks", "InvalidAckLink", "LoginThrottle", "MissingSecret", "ack_links", "csrf_ok",
           "new_csrf_token", "session_secret", "task_url_template"]


class InvalidAckLink(Exception):
    def __init__(self, expired: bool):
        self.expired = expired
        super().__init__("the acknowledge link has expired" if expired else "the acknowledge link is not valid")


def session_secret(settings: WebSettings) -> str:
    return get_secret(settings.session_secret)


class AckLinks:
    """`/ack/<token>`: a task id signed with a timestamp on the injected clock, valid for `ack_link_valid`."""

    def __init__(self, secret: str, clock: Clock, valid: timedelta, salt: str = ACK_SALT):
        class ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        self.valid = valid
        self.serializer = URLSafeTimedSerializer(secret, salt=salt, signer=ClockSigner)  # a salt per link kind

    def token(self, task_id: int) -> str:
        return str(self.serializer.dumps(task_id))

    def task_id(self, token: str) -> int:
        try:
            value = self.serializer.loads(token, max_age=int(self.valid.total_seconds()))
        except SignatureExpired:
            raise InvalidAckLink(expired=True) from None
        except BadSignature:
            raise InvalidAckLink(expired=False) from None
        if not isinstance(value, int):
            raise InvalidAckLink(expired=False)
        return value


def ack_links(settings: WebSettings | None, clock: Clock) -> Callable[[int], str] | None:
    """The acknowledge URL of a task, for its alerts, when a base URL is configured (listener/alerts/outbox.py)."""
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
    """At most `attempts` failed sign-ins per user name and per client address within `window`."""

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
