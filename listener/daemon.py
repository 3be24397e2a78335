"""`listener run`: the scheduler that polls every source at its interval, scores and delivers.

APScheduler 3.x runs one job per source (interval + jitter) plus the scoring and delivery jobs; a job never
overlaps itself (max_instances=1) and missed runs coalesce. New mentions wake the scoring job, new tasks
wake delivery, so a complaint travels from poll to alert within one poll interval. SIGTERM/SIGINT let the
running jobs finish their transaction, then the process exits 0. Under systemd (Type=notify) it reports
READY=1 and STOPPING=1 on $NOTIFY_SOCKET. On PostgreSQL the jobs come from a queue shared by several daemons instead
of APScheduler (listener/cluster/node.py, docs/scaling.md); the rest of the lifecycle is the same.
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
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from listener.app import App
from listener.cluster.registry import periodic_jobs

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
        for job in periodic_jobs(self.app.settings):  # retention, digest, … (listener/cluster/registry.py)
            self.scheduler.add_job(job.run, CronTrigger.from_crontab(job.cron, timezone=UTC), args=[self.app],
                                   id=f"periodic:{job.name}", name=job.name)

    def request_stop(self, signum: int, _frame: FrameType | None = None) -> None:
        log.info("event=stop_requested signal=%s", signal.Signals(signum).name)
        self.stop_requested.set()

    def run(self) -> int:
        node = None
        if self.app.settings.cluster.uses_queue(self.app.settings.database.url):  # several nodes share a job queue
            from listener.cluster.node import ClusterNode  # procrastinate: only with the [postgres] extra

            node = ClusterNode(self.app, sd_notify)  # migrates, one node at a time
        else:
            self.app.migrate()
        _ = self.app.scorer  # load the model now: a missing model fails the start, not the first score
        _ = self.app.sources, self.app.channels  # build them once, before jobs run in several threads
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        if node:
            node.start()
        else:
            self.schedule()
            self.scheduler.start()
        sd_notify("READY=1\nSTATUS=listening")
        log.info("event=started mode=%s sources=%d rules=%d channels=%d", "queue" if node else "single",
                 len(self.app.sources), len(self.app.settings.rule), len(self.app.channels))
        code = 0
        while not self.stop_requested.wait(timeout=1.0):
            if node and not node.running:
                log.error("event=node_died: the job queue worker stopped; exiting so systemd restarts listener")
                code = 1
                break
        sd_notify("STOPPING=1")
        if node:
            node.stop()  # lets running jobs finish their transaction
        else:
            self.scheduler.shutdown(wait=True)  # lets running jobs finish their transaction
        self.app.close()
        log.info("event=stopped")
        return code
