"""`listener run`: the scheduler that polls every source at its interval, scores and delivers.

APScheduler 3.x runs one job per source (interval + jitter) plus the scoring and delivery jobs; a job never
overlaps itself (max_instances=1) and missed runs coalesce. New mentions wake the scoring job, new tasks
wake delivery, so a complaint travels from poll to alert within one poll interval. SIGTERM/SIGINT let the
running jobs finish their transaction, then the process exits 0. Under systemd (Type=notify) it reports
READY=1 and STOPPING=1 on $NOTIFY_SOCKET.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from listener.app import App

log = logging.getLogger(__name__)


def sd_notify(state: str) -> bool:
    """Send a state line to systemd's notify socket, if there is one (no dependency on libsystemd)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


class Daemon:
    def __init__(self, app: App):
        self.app = app
        self.stop_requested = threading.Event()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # Jobs ------------------------------------------------------------------
    def poll_job(self, name: str) -> None:
        (report,) = self.app.poll([name])
        if report.stored:
            self._wake("score")

    def score_job(self) -> None:
        report = self.app.score()
        if report.alerts:
            self._wake("deliver")

    def deliver_job(self) -> None:
        self.app.escalate()  # due escalations and grouped messages join the outbox first
        self.app.deliver()

    def spikes_job(self) -> None:
        if self.app.check_spikes().fired:
            self._wake("deliver")

    def _wake(self, job_id: str) -> None:
        if not self.stop_requested.is_set():
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    # Lifecycle -------------------------------------------------------------
    def schedule(self) -> None:
        now = datetime.now(UTC)
        for source in self.app.settings.source:
            if not source.enabled:
                continue
            self.scheduler.add_job(
                self.poll_job, IntervalTrigger(seconds=source.every.total_seconds(),
                                               jitter=int(source.jitter.total_seconds()) or None),
                args=[source.name], id=f"poll:{source.name}", name=f"poll {source.name}", next_run_time=now,
            )
        daemon = self.app.settings.daemon
        self.scheduler.add_job(self.score_job, IntervalTrigger(seconds=daemon.score_every.total_seconds()),
                               id="score", name="score", next_run_time=now)
        self.scheduler.add_job(self.deliver_job, IntervalTrigger(seconds=daemon.deliver_every.total_seconds()),
                               id="deliver", name="deliver", next_run_time=now)
        if self.app.settings.spike:
            self.scheduler.add_job(self.spikes_job, IntervalTrigger(seconds=daemon.spikes_every.total_seconds()),
                                   id="spikes", name="spikes", next_run_time=now)

    def request_stop(self, signum: int, _frame: FrameType | None = None) -> None:
        log.info("event=stop_requested signal=%s", signal.Signals(signum).name)
        self.stop_requested.set()

    def run(self) -> int:
        self.app.migrate()
        _ = self.app.scorer  # load the model now: a missing model fails the start, not the first score
        _ = self.app.sources, self.app.channels  # build them once, before jobs run in several threads
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self.schedule()
        self.scheduler.start()
        sd_notify("READY=1\nSTATUS=listening")
        log.info("event=started sources=%d rules=%d channels=%d",
                 len(self.app.sources), len(self.app.settings.rule), len(self.app.channels))
        while not self.stop_requested.wait(timeout=1.0):
            pass
        sd_notify("STOPPING=1")
        self.scheduler.shutdown(wait=True)  # lets running jobs finish their transaction
        self.app.close()
        log.info("event=stopped")
        return 0
