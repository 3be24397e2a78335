"""What the running daemon offers its operator: /metrics, /healthz, /readyz and the systemd watchdog."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from listener import metrics
from listener.delivery.claims import release_dead_claims
from listener.ops.health import Probes
from listener.ops.server import Endpoints, OpsServer
from listener.ops.systemd import sd_notify, watchdog_interval
from listener.replies.outbox import release_dead_reply_claims

if TYPE_CHECKING:  # handed the running App; builds none
    from listener.app import App

log = logging.getLogger(__name__)


class OpsSurface:
    def __init__(self, app: App, scheduler_running: Callable[[], bool]):
        self.app = app
        self.probes = Probes(app.store, lambda: app.scorer_loaded, scheduler_running)
        self.server: OpsServer | None = None
        self.watchdog = watchdog_interval()
        self._last_ping = float("-inf")
        self._withheld = False

    def start(self) -> None:
        """At start: release the outbox claims of killed processes, publish the model, open the listener."""
        released = release_dead_claims(self.app.store, self.app.clock.now())
        if released:
            log.warning("event=claims_released alerts=%d (claimed by processes that no longer run)", released)
        replies = release_dead_reply_claims(self.app.store, self.app.clock.now())
        if replies:  # in doubt: looked for on the platform before being posted again
            log.warning("event=claims_released replies=%d (claimed by processes that no longer run)", replies)
        scorer = self.app.scorer
        metrics.record_model(self.app.settings.nlp.model, scorer.model_version,
                             str(getattr(scorer, "backend", type(scorer).__name__)))
        if self.app.settings.metrics.enabled:
            self.server = OpsServer(self.app.settings.metrics.listen, Endpoints(self.probes, self.app.clock))

    def tick(self) -> None:
        """From the main loop: WATCHDOG=1 when due, and only if the scheduler runs and the database answers."""
        if self.watchdog is None or time.monotonic() - self._last_ping < self.watchdog:
            return
        failing = [f"{c.name}: {c.detail}" for c in self.probes.liveness() if not c.ok]
        if failing:  # no ping: systemd restarts the service once WatchdogSec= passes without one
            if not self._withheld:
                log.error("event=watchdog_withheld problems=%r", "; ".join(failing))
            self._withheld = True
            return
        if self._withheld:
            log.info("event=watchdog_resumed")
        self._withheld = False
        sd_notify("WATCHDOG=1")
        self._last_ping = time.monotonic()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
