"""Sign-in throttling: counted before the password hash is computed, delays that grow instead of a hard lock.

Three budgets of failed sign-ins within `login_lockout` (the window), each with its own limit:

- one account from one client (its address, or a browser that signed in to that account before):
  `login_attempts`, against guessing one password from one place;
- one client address, any account: `login_client_attempts`, against one place trying many accounts;
- one account from anywhere except browsers that signed in to it before: `login_account_attempts`, against many
  places guessing one password.

An attempt is admitted only while every budget it draws on has room, and it takes its place *before* the hash is
computed (an attempt in flight counts as a failure until it is decided): thirty requests arriving together for a
budget of five get five password checks and twenty-five refusals. Past a limit, one attempt at a time is admitted
after a delay that doubles with every further failure (`login_delay`, 2×, 4× … up to the window) — a slower
attacker, not a locked account. The account's own owner keeps signing in meanwhile: from another address, or from
a browser that signed in to the account before (its "known browser" cookie, the OWASP device-cookie scheme), whose
budget is its own.

`HashGate` bounds how many Argon2 hashes run at once (each takes 64 MiB for a moment): the rest wait their turn.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from listener.clock import Clock
from listener.web.settings import WebSettings

DEVICE_COOKIE = "listener_known"
DEVICE_SALT = "listener.known-browser"
DEVICE_MAX_ACCOUNTS = 8  # a shared browser remembers this many accounts
DEVICE_MAX_AGE = timedelta(days=365)


@dataclass
class Budget:
    """Failures of one key within the window, and attempts admitted but not yet decided."""

    failures: deque[datetime] = field(default_factory=deque)
    pending: int = 0


@dataclass(frozen=True)
class Refused:
    retry_after: int  # seconds


@dataclass
class Ticket:
    """An admitted attempt: call exactly one of `failed()` or `succeeded()` once the password is checked."""

    throttle: SignInThrottle
    keys: tuple[tuple[str, int], ...]  # (key, limit)
    done: bool = False

    def failed(self) -> None:
        self.throttle._decide(self, failed=True)

    def succeeded(self) -> None:
        self.throttle._decide(self, failed=False)

    def cancel(self) -> None:
        """Not decided (the server was too busy to check, or failed): the place is given back."""
        self.throttle._decide(self, failed=None)


class SignInThrottle:
    def __init__(self, clock: Clock, window: timedelta, per_account_client: int, per_client: int,
                 per_account: int, first_delay: timedelta):
        self.clock, self.window, self.first_delay = clock, window, first_delay
        self.per_account_client, self.per_client, self.per_account = per_account_client, per_client, per_account
        self._budgets: dict[str, Budget] = {}
        self._lock = threading.Lock()

    def keys(self, name: str, address: str, device: str | None) -> tuple[tuple[str, int], ...]:
        account = name.strip().lower()
        if device:  # a browser that signed in to this account before: its own budget, wherever it is
            return ((f"d:{account}|{device}", self.per_account_client),)
        return ((f"p:{account}|{address}", self.per_account_client), (f"c:{address}", self.per_client),
                (f"a:{account}", self.per_account))

    def admit(self, name: str, address: str, device: str | None = None) -> Ticket | Refused:
        now = self.clock.now()
        keys = self.keys(name, address, device)
        with self._lock:
            waits = [self._wait(self._budget(key, now), limit, now) for key, limit in keys]
            if any(w is not None for w in waits):
                return Refused(max(1, math.ceil(max(w or 0.0 for w in waits))))
            for key, _ in keys:
                self._budgets[key].pending += 1
        return Ticket(self, keys)

    def _budget(self, key: str, now: datetime) -> Budget:
        budget = self._budgets.setdefault(key, Budget())
        while budget.failures and budget.failures[0] <= now - self.window:
            budget.failures.popleft()
        return budget

    def delay(self, failures: int, limit: int) -> timedelta:
        """The wait after the last failure once `failures` reached `limit`: doubling, at most the window."""
        steps = failures - limit
        return min(self.window, self.first_delay * (2 ** min(steps, 40)))

    def _wait(self, budget: Budget, limit: int, now: datetime) -> float | None:
        """None: room for one more attempt; else the seconds until there may be."""
        used = len(budget.failures) + budget.pending
        if used < limit:
            return None
        if budget.pending:  # past the limit only one attempt at a time, and it is still being decided
            return self.first_delay.total_seconds()
        due = budget.failures[-1] + self.delay(len(budget.failures), limit)
        return None if now >= due else (due - now).total_seconds()

    def _decide(self, ticket: Ticket, failed: bool | None) -> None:
        if ticket.done:
            return
        ticket.done = True
        now = self.clock.now()
        with self._lock:
            for key, _ in ticket.keys:
                budget = self._budget(key, now)
                budget.pending = max(0, budget.pending - 1)
                if failed:
                    budget.failures.append(now)
                elif failed is False and key.startswith(("p:", "d:")):
                    budget.failures.clear()  # this client knows the password; the address and account keep theirs
            self._forget(now)

    def _forget(self, now: datetime) -> None:
        """Drop keys with nothing left in the window, so the table stays as small as the attack."""
        if len(self._budgets) < 10_000:
            return
        for key in [k for k, b in self._budgets.items() if not b.pending and
                    (not b.failures or b.failures[-1] <= now - self.window)]:
            del self._budgets[key]


class HashGate:
    """At most `size` password checks at once. The others wait their turn, unless `queue` already wait (or the
    turn takes longer than `wait` seconds): then the sign-in is too busy (a TimeoutError) and nothing is checked."""

    def __init__(self, size: int, queue: int = 64, wait: float = 300.0):
        self.size, self.queue, self.wait = size, queue, wait
        self._semaphore: asyncio.Semaphore | None = None
        self.waiting = 0
        self.in_use = 0
        self.peak = 0
        self.checked = 0

    async def __aenter__(self) -> HashGate:
        if self._semaphore is None:  # created in the server's event loop
            self._semaphore = asyncio.Semaphore(self.size)
        if self.in_use >= self.size and self.waiting >= self.queue:
            raise TimeoutError("too many sign-ins waiting")
        self.waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait)
        finally:
            self.waiting -= 1
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)
        self.checked += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.in_use -= 1
        assert self._semaphore is not None
        self._semaphore.release()


class KnownBrowsers:
    """The "known browser" cookie: a signed list of (account, random id) this browser signed in to."""

    def __init__(self, secret: str):
        self.serializer = URLSafeSerializer(secret, salt=DEVICE_SALT)

    def read(self, cookie: str | None) -> dict[str, str]:
        if not cookie:
            return {}
        try:
            value = self.serializer.loads(cookie)
        except BadSignature:
            return {}
        if not isinstance(value, dict):
            return {}
        return {str(k): str(v) for k, v in value.items()}

    def device(self, cookie: str | None, name: str) -> str | None:
        return self.read(cookie).get(name.strip().lower())

    def remember(self, cookie: str | None, name: str, new_id: str) -> str:
        known = self.read(cookie)
        account = name.strip().lower()
        known[account] = known.pop(account, "") or new_id  # re-inserted: the most recent account last
        kept: Iterable[tuple[str, str]] = list(known.items())[-DEVICE_MAX_ACCOUNTS:]
        return str(self.serializer.dumps(dict(kept)))


@dataclass
class SignInGuard:
    """What the sign-in form consults: the budgets, the hash gate and the known-browser cookie."""

    throttle: SignInThrottle
    hashes: HashGate
    known: KnownBrowsers

    @classmethod
    def from_settings(cls, config: WebSettings, clock: Clock, secret: str) -> SignInGuard:
        throttle = SignInThrottle(clock, config.login_lockout, config.login_attempts, config.login_client_attempts,
                                  config.login_account_attempts, config.login_delay)
        return cls(throttle, HashGate(config.login_hashes), KnownBrowsers(secret))
