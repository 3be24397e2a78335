"""Sign-in under attack (listener/web/throttle.py, signin.py): budgets counted before any password hash, a bounded
number of hashes at once, delays that grow instead of a lock, and the account's owner never locked out by others.

The attack runs against `listener web` in its own process over real HTTP, so its memory is measured alone."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from listener.clock import FakeClock
from listener.config import Settings
from listener.demo.servers import free_port
from listener.store.engine import Store, upgrade
from listener.web.throttle import Refused, SignInThrottle, Ticket
from tests.web_support import PASSWORD, SECRET_ENV, add_users, csrf_of, serving, web_settings

WRONG = "not the password"


# ----------------------------------------------------------------------------- the budgets, on a fake clock
def throttle(clock: FakeClock, **limits: int) -> SignInThrottle:
    return SignInThrottle(clock, timedelta(minutes=15), limits.get("pair", 5), limits.get("client", 20),
                          limits.get("account", 50), timedelta(seconds=1))


def test_attempts_take_their_place_before_the_check() -> None:
    clock = FakeClock()
    gate = throttle(clock)
    tickets = [gate.admit("ben", "10.0.0.9") for _ in range(30)]  # thirty at once, none decided yet
    admitted = [t for t in tickets if isinstance(t, Ticket)]
    assert len(admitted) == 5 and all(isinstance(t, Refused) for t in tickets[5:])
    for ticket in admitted:
        ticket.failed()
    refused = gate.admit("ben", "10.0.0.9")
    assert isinstance(refused, Refused) and refused.retry_after == 1


def test_delays_grow_instead_of_locking() -> None:
    clock = FakeClock()
    gate = throttle(clock)
    for _ in range(5):
        ticket = gate.admit("ben", "10.0.0.9")
        assert isinstance(ticket, Ticket)
        ticket.failed()
    waits = []
    for _ in range(6):
        refused = gate.admit("ben", "10.0.0.9")
        assert isinstance(refused, Refused)
        waits.append(refused.retry_after)
        clock.advance(timedelta(seconds=refused.retry_after))
        ticket = gate.admit("ben", "10.0.0.9")  # one attempt once the delay is over …
        assert isinstance(ticket, Ticket)
        assert isinstance(gate.admit("ben", "10.0.0.9"), Refused)  # … and only one at a time
        ticket.failed()
    assert waits == [1, 2, 4, 8, 16, 32]
    clock.advance(timedelta(seconds=64))
    ticket = gate.admit("ben", "10.0.0.9")
    assert isinstance(ticket, Ticket)
    ticket.succeeded()  # the right password: this client's record starts afresh
    assert all(isinstance(gate.admit("ben", "10.0.0.9"), Ticket) for _ in range(5))


def test_the_owner_signs_in_from_elsewhere_and_known_browsers_keep_their_own_budget() -> None:
    clock = FakeClock()
    gate = throttle(clock, account=10)
    for address in range(12):  # many addresses, one guess each: the account-wide budget fills
        ticket = gate.admit("ben", f"10.1.0.{address}")
        if isinstance(ticket, Ticket):
            ticket.failed()
    assert isinstance(gate.admit("ben", "192.0.2.7"), Refused)  # an unknown browser now waits too
    assert isinstance(gate.admit("ben", "192.0.2.7", device="ben-laptop"), Ticket)  # ben's own browser does not
    assert isinstance(gate.admit("anna", "10.1.0.1"), Ticket)  # nor anybody else


# ----------------------------------------------------------------------------- the attack over HTTP
@dataclass
class Server:
    base: str
    process: subprocess.Popen[str]

    def memory(self, field: str) -> int:
        """VmRSS (now) or VmHWM (peak) of the server process, in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
        raise AssertionError(f"no {field} in /proc")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    db_url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(db_url)
    upgrade(store)
    add_users(store, FakeClock(), ben="agent", anna="agent")
    store.dispose()
    port = free_port()
    config = tmp_path / "listener.toml"
    # The first delay past a limit is long here, so no attempt of the burst slips in after it on a slow machine.
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[web]\nlisten = "127.0.0.1:{port}"\n'
                      'trusted_proxies = ["127.0.0.1"]\nlogin_delay = "10m"\nlogin_hashes = 2\n'
                      'login_client_attempts = 40\n')
    process = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "web"], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, SECRET_ENV: "signin-test-secret"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield Server(base, process)
    finally:
        process.terminate()
        process.communicate(timeout=20)


def attempt(base: str, name: str, password: str, address: str, start: threading.Barrier | None = None) -> int:
    """One sign-in from `address` (as the trusted proxy forwards it); the POSTs of a burst leave together."""
    with httpx.Client(base_url=base, timeout=120, headers={"X-Forwarded-For": address}) as client:
        # a new connection for the POST: waiting for the others may outlast the server's keep-alive
        token = csrf_of(client.get("/login", headers={"Connection": "close"}).text)
        if start is not None:
            start.wait()
        return client.post("/login", data={"name": name, "password": password, "csrf": token}).status_code


def burst(base: str, guesses: list[tuple[str, str]]) -> Counter[int]:
    start = threading.Barrier(len(guesses))
    with ThreadPoolExecutor(len(guesses)) as pool:
        codes = pool.map(lambda g: attempt(base, g[0], WRONG, g[1], start), guesses)
        return Counter(codes)


def test_thirty_parallel_guesses_get_five_checks_and_the_owner_still_signs_in(server: Server) -> None:
    before = server.memory("VmRSS")
    codes = burst(server.base, [("ben", "198.51.100.9")] * 30)
    assert codes[401] == 5 and codes[429] == 25, codes  # five password checks, the rest refused before hashing
    assert attempt(server.base, "ben", PASSWORD, "198.51.100.9") == 429  # the attacker's place waits …
    assert attempt(server.base, "ben", PASSWORD, "203.0.113.5") == 303  # … ben elsewhere signs in
    assert attempt(server.base, "anna", PASSWORD, "198.51.100.9") == 303  # and so does anna at the same address

    # Twenty different accounts from twenty addresses: every guess is checked, two at a time.
    codes = burst(server.base, [(f"user{i}", f"198.51.100.{100 + i}") for i in range(20)])
    assert codes[401] == 20, codes
    peak = server.memory("VmHWM")
    # Argon2 takes 64 MiB per check: two at a time stay far below twenty at once (1.3 GiB).
    assert peak - before < 400, f"memory grew from {before} MiB to a peak of {peak} MiB"


def test_a_refusal_says_how_long_to_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "signin-test-secret")
    db_url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(db_url)
    upgrade(store)
    clock = FakeClock()
    add_users(store, clock, ben="agent")
    with serving(web_settings(db_url, trusted_proxies=["127.0.0.1"]), store, clock) as base:
        with httpx.Client(base_url=base, headers={"X-Forwarded-For": "198.51.100.1"}) as known:
            token = csrf_of(known.get("/login").text)
            assert known.post("/login", data={"name": "ben", "password": PASSWORD, "csrf": token}).status_code == 303
            assert "listener_known" in known.cookies
            known.cookies.delete("listener_session")
            for _ in range(5):
                assert attempt(base, "ben", WRONG, "198.51.100.9") == 401
            with httpx.Client(base_url=base, headers={"X-Forwarded-For": "198.51.100.9",
                                                      "Accept-Language": "de"}) as client:
                page = client.post("/login", data={"name": "ben", "password": PASSWORD,
                                                   "csrf": csrf_of(client.get("/login").text)})
            assert page.status_code == 429 and page.headers["retry-after"] == "1"
            assert "Bitte in 1 Sekunde erneut versuchen" in page.text
            # ben's own browser, now at the attacker's address (a shared office network): its own budget
            token = csrf_of(known.get("/login").text)
            response = known.post("/login", data={"name": "ben", "password": PASSWORD, "csrf": token},
                                  headers={"X-Forwarded-For": "198.51.100.9"})
            assert response.status_code == 303
    store.dispose()


def test_doctor_warns_about_an_untrusted_proxy_in_front(tmp_path: Path) -> None:
    from listener.app import App
    from listener.ops.doctor import _web
    from listener.web.proxies import proxy_problem

    def config(**web: Any) -> Settings:
        return web_settings(f"sqlite:///{tmp_path / 'l.db'}", **web)

    behind = config(base_url="https://care.example.org")
    assert behind.web is not None and "trusted_proxies is empty" in (proxy_problem(behind.web) or "")
    for fine in (config(base_url="https://care.example.org", trusted_proxies=["127.0.0.1"]),
                 config(base_url="http://127.0.0.1:8080"), config()):
        assert fine.web is not None and proxy_problem(fine.web) is None
    app = App(behind)
    try:
        result = _web(app)
    finally:
        app.close()
    assert result.status == "warn" and 'trusted_proxies = ["127.0.0.1"]' in result.detail
