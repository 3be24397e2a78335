"""Health checks shared by /readyz, the systemd watchdog and `listener doctor`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from listener.store.engine import Store


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def database_check(store: Store) -> Check:
    """One round trip to the database. The error names its type only: a driver message may carry the URL."""
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return Check("database", False, f"unreachable ({type(exc).__name__})")
    return Check("database", True, "reachable")


@dataclass
class Probes:
    """What readiness and liveness look at; the daemon fills it in, the web app can mount the same checks."""

    store: Store
    model_loaded: Callable[[], bool]
    scheduler_running: Callable[[], bool]

    def liveness(self) -> list[Check]:
        """The watchdog's test before WATCHDOG=1: the scheduler runs and the database answers."""
        return [self._scheduler(), database_check(self.store)]

    def readiness(self) -> list[Check]:
        model = Check("model", True, "loaded") if self.model_loaded() else Check("model", False, "not loaded")
        return [database_check(self.store), model, self._scheduler()]

    def _scheduler(self) -> Check:
        return Check("scheduler", True, "running") if self.scheduler_running() else \
            Check("scheduler", False, "not running")
