"""Helpers for the operator-surface tests: scraping, systemd's notify socket, a throwaway PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


def total(scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(v for (n, have), v in scrape.items() if n == name and set(labels.items()) <= set(have))


def scrape(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(base_url + "/metrics", timeout=10)
    assert response.status_code == 200
    return samples(response.text)


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own in a temporary directory, so a test can stop and start it."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.data = root / "data"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")

    @staticmethod
    def unavailable_reason() -> str | None:
        if not (PG_BIN / "initdb").exists():
            return f"PostgreSQL binaries not found in {PG_BIN}"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root without runuser: initdb cannot run"
        return None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> ThrowawayPostgres:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        return self

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


class NotifySocket:
    """Collects what the daemon tells systemd on $NOTIFY_SOCKET, reading as systemd does (a reader that falls behind
    fills the socket's short datagram queue, and the daemon's next notification blocks)."""

    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.path = path
        self.states: list[str] = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.closed.is_set():
            try:
                self.states.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def count(self, prefix: str) -> int:
        return sum(s.startswith(prefix) for s in list(self.states))

    def close(self) -> None:
        self.closed.set()
        self.thread.join()
        self.sock.close()
