"""The single node's job runner: APScheduler 3.x in the process (listener/jobs.py has the protocol and the work).

One job per source (interval + jitter), the scoring and delivery jobs, and the periodic jobs of
listener/periodic.py on cron triggers. A job never overlaps itself (max_instances=1) and missed runs coalesce.
New mentions wake the scoring job and new tasks wake delivery, so a complaint travels from poll to alert within one
poll interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from listener.app import App
from listener.jobs import Work
from listener.periodic import periodic_jobs


class Scheduler:
    mode = "single"

    def __init__(self, app: App):
        self.app = app
        self.work = Work(app)
        self.stopping = threading.Event()
        # a wake that arrives while its job runs: the scheduler skips that run (max_instances=1), so the job
        # itself runs once more (else the mentions of a second poll waited a whole score_every)
        self.woken = {"score": threading.Event(), "deliver": threading.Event()}
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    # Jobs ------------------------------------------------------------------
    def poll_job(self, name: str) -> None:
        if self.work.poll(name):
            self._wake("score")

    def score_job(self) -> None:
        self._until_settled("score", self._score_once)

    def _score_once(self) -> None:
        if self.work.score():
            self._wake("deliver")

    def deliver_job(self) -> None:
        self._until_settled("deliver", self.work.deliver)

    def _until_settled(self, job_id: str, work: Callable[[], None]) -> None:
        """Run `work`, and again as long as a wake for this job arrived while it ran."""
        while True:
            self.woken[job_id].clear()
            work()
            if not self.woken[job_id].is_set() or self.stopping.is_set():
                return

    def _wake(self, job_id: str) -> None:
        if not self.stopping.is_set():
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
        for periodic in periodic_jobs(self.app.settings):  # retention, digest, … (listener/periodic.py)
            if self.scheduler.get_job(f"periodic:{periodic.name}") is None:
                self.scheduler.add_job(self.work.periodic, CronTrigger.from_crontab(periodic.cron, timezone=UTC),
                                       args=[periodic], id=f"periodic:{periodic.name}", name=periodic.name)

    def start(self) -> None:
        self.schedule()
        self.scheduler.start()

    def reconfigured(self) -> None:
        self.schedule()

    def stop(self) -> None:
        self.stopping.set()
        self.scheduler.shutdown(wait=True)  # lets running jobs finish their transaction
