"""`listener run`: the scheduler that polls every source at its interval, scores and delivers.

APScheduler 3.x runs one job per source (interval + jitter) plus the scoring and delivery jobs; a job never
overlaps itself (max_instances=1) and missed runs coalesce. New mentions wake the scoring job, new tasks
wake delivery, so a complaint travels from poll to alert within one poll interval. SIGTERM/SIGINT let the
running jobs finish their transaction, then the process exits 0. SIGHUP re-reads the config file
(listener/ops/reload.py). Under systemd (Type=notify) it reports READY=1, RELOADING=1 and STOPPING=1 on
$NOTIFY_SOCKET and pings the watchdog (listener/ops/surface.py). On PostgreSQL the jobs come from a queue shared by
several daemons instead of APScheduler (listener/cluster/node.py, docs/scaling.md); the rest of the lifecycle is
the same.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from listener.app import App
from listener.cluster.registry import periodic_jobs
from listener.ops import metrics
from listener.ops.reload import reread
from listener.ops.surface import OpsSurface
from listener.ops.systemd import sd_notify

if TYPE_CHECKING:
    from listener.cluster.node import ClusterNode

if TYPE_CHECKING:
    from listener.web.server import BackgroundServer

log = logging.getLogger(__name__)


class Daemon:
    def __init__(self, app: App, config_path: Path | None = None):
        self.app = app
        self.config_path = config_path  # re-read on SIGHUP
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        # a wake that arrives while its job runs: the scheduler skips that run (max_instances=1), so the job
        # itself runs once more (else the mentions of a second poll waited a whole score_every)
        self.woken = {"score": threading.Event(), "deliver": threading.Event()}
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.node: ClusterNode | None = None  # on a shared job queue (PostgreSQL) instead of the scheduler
        self.ops = OpsSurface(app, self.jobs_running)

    def jobs_running(self) -> bool:
        """What /readyz and the watchdog call "scheduler running": whatever runs this daemon's jobs."""
        return self.node.running if self.node else bool(self.scheduler.running)

    # Jobs ------------------------------------------------------------------
    def poll_job(self, name: str) -> None:
        if name not in self.app.sources:  # removed by a reload while this run was queued
            return
        (report,) = self.app.poll([name])
        if report.stored:
            self._wake("score")

    def score_job(self) -> None:
        self._until_settled("score", self._score_once)

    def _score_once(self) -> None:
        report = self.app.score()
        if report.alerts:
            self._wake("deliver")

    def deliver_job(self) -> None:
        self._until_settled("deliver", self._deliver_once)

    def _deliver_once(self) -> None:
        self.app.escalate()  # due escalations and grouped messages join the outbox first
        self.app.deliver()
        self.app.deliver_replies()  # replies from the care inbox, to the platforms (listener/replies)

    def _until_settled(self, job_id: str, work: Callable[[], None]) -> None:
        """Run `work`, and again as long as a wake for this job arrived while it ran."""
        while True:
            self.woken[job_id].clear()
            work()
            if not self.woken[job_id].is_set() or self.stop_requested.is_set():
                return

    def _wake(self, job_id: str) -> None:
        if not self.stop_requested.is_set():
            self.woken[job_id].set()
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    # Lifecycle -------------------------------------------------------------
    def schedule(self) -> None:
        """Make the poll, score and deliver jobs match the settings: at start, and after a reload (new sources
        run at once, changed intervals take effect from now, removed sources stop). Other jobs are left alone."""
        wanted: dict[str, tuple[Callable[..., None], timedelta, timedelta | None, list[str]]] = {
            f"poll:{s.name}": (self.poll_job, s.every, s.jitter, [s.name])
            for s in self.app.settings.source if s.enabled}
        daemon = self.app.settings.daemon
        wanted["score"] = (self.score_job, daemon.score_every, None, [])
        wanted["deliver"] = (self.deliver_job, daemon.deliver_every, None, [])
        for job in self.scheduler.get_jobs():
            if job.id.startswith("poll:") and job.id not in wanted:
                job.remove()
        for job_id, (func, every, jitter, args) in wanted.items():
            trigger = IntervalTrigger(seconds=every.total_seconds(),
                                      jitter=int(jitter.total_seconds()) if jitter else None)
            job = self.scheduler.get_job(job_id)
            if job is None:
                self.scheduler.add_job(func, trigger, args=args, id=job_id, name=job_id.replace(":", " "),
                                       next_run_time=datetime.now(UTC))
            elif (job.trigger.interval, job.trigger.jitter) != (trigger.interval, trigger.jitter):
                job.reschedule(trigger)
        for periodic in periodic_jobs(self.app.settings):  # retention, digest, … (listener/cluster/registry.py)
            if self.scheduler.get_job(f"periodic:{periodic.name}") is None:
                self.scheduler.add_job(periodic.run, CronTrigger.from_crontab(periodic.cron, timezone=UTC),
                                       args=[self.app], id=f"periodic:{periodic.name}", name=periodic.name)

    def reload(self) -> bool:
        """Re-read the config file; a file with errors is refused and the running config stays."""
        self.reload_requested.clear()
        sd_notify("RELOADING=1")
        fresh = reread(self.app.settings, self.config_path) if self.config_path else None
        if self.config_path is None:
            log.error("event=reload_refused problems='no config file to re-read'")
        applied = False
        if fresh is not None:
            try:
                self.app.reconfigure(fresh)
                if self.node is None:  # a cluster node's tick reads the new settings itself
                    self.schedule()
                applied = True
            except Exception:  # noqa: BLE001 - e.g. a source that cannot be built: keep running as before
                log.exception("event=reload_refused config=%s (the running config stays)", self.config_path)
        metrics.RELOADS.labels("applied" if applied else "refused").inc()
        if applied:
            log.info("event=reloaded sources=%d rules=%d channels=%d", len(self.app.sources),
                     len(self.app.settings.rule), len(self.app.channels))
        sd_notify("READY=1\nSTATUS=listening")
        return applied

    def request_stop(self, signum: int, _frame: FrameType | None = None) -> None:
        log.info("event=stop_requested signal=%s", signal.Signals(signum).name)
        self.stop_requested.set()

    def request_reload(self, _signum: int, _frame: FrameType | None = None) -> None:
        self.reload_requested.set()  # the main loop reloads: a signal handler should not do the work

    def _start_web(self) -> BackgroundServer | None:
        """The care inbox beside the scheduler, when [web] is configured (listener/web)."""
        if self.app.settings.web is None:
            return None
        from listener.web.server import BackgroundServer, make_server

        web = BackgroundServer(make_server(self.app.settings, self.app.store, self.app.clock))
        web.start()
        return web

    def run(self) -> int:
        if self.app.settings.cluster.uses_queue(self.app.settings.database.url):  # several nodes share a job queue
            from listener.cluster.node import ClusterNode  # procrastinate: only with the [postgres] extra

            self.node = ClusterNode(self.app, sd_notify)  # migrates, one node at a time
        else:
            self.app.migrate()
        _ = self.app.scorer  # load the model now: a missing model fails the start, not the first score
        _ = self.app.sources, self.app.channels  # build them once, before jobs run in several threads
        self.ops.start()
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        web = self._start_web()  # before the jobs: a missing secret or a taken port fails the start
        signal.signal(signal.SIGHUP, self.request_reload)
        if self.node:
            self.node.start()
        else:
            self.schedule()
            self.scheduler.start()
        sd_notify("READY=1\nSTATUS=listening")
        log.info("event=started mode=%s sources=%d rules=%d channels=%d", "queue" if self.node else "single",
                 len(self.app.sources), len(self.app.settings.rule), len(self.app.channels))
        code = 0
        while not self.stop_requested.wait(timeout=min(1.0, self.ops.watchdog or 1.0)):
            if self.node and not self.node.running:
                log.error("event=node_died: the job queue worker stopped; exiting so systemd restarts listener")
                code = 1
                break
            if self.reload_requested.is_set():
                self.reload()
            self.ops.tick()
        sd_notify("STOPPING=1")
        if self.node:
            self.node.stop()  # lets running jobs finish their transaction
        else:
            self.scheduler.shutdown(wait=True)  # lets running jobs finish their transaction
        if web is not None:
            web.stop()
        self.ops.close()
        self.app.close()
        log.info("event=stopped")
        return code
