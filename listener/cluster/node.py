"""One node of a cluster: `listener run` on PostgreSQL (or `[cluster] mode = "queue"`).

Every node runs a procrastinate worker on the same database; there is no leader. The jobs (each a call of
listener/jobs.py's `Work`, as on a single node) are procrastinate tasks:
  * `tick` — a periodic job, deferred once per `[cluster] tick` for the whole cluster (procrastinate records
    each periodic deferral, so N nodes do not defer it N times). It defers a `poll` job for every source whose
    interval has passed (and that is not backing off), wakes scoring and delivery when work waits, and hands
    the running jobs of a node whose heartbeat stopped back to the queue;
  * `poll` — one source; lock `poll:<source>` lets one node at a time poll it, queueing lock `poll:<source>`
    keeps at most one waiting, which stands down if a poll of the source finished after the tick found it due;
  * `score` — claims batches of unscored mentions with FOR UPDATE SKIP LOCKED (listener/pipeline.py:
    score_pending), one job per live node (queueing locks `score:0…n-1`), so every node scores in parallel;
  * `deliver` — the outbox worker (after queueing due escalations and group flushes, as the single-node daemon
    does); its row claims (FOR UPDATE SKIP LOCKED + claim timeout) hold across processes;
  * the periodic jobs of listener/periodic.py (retention, digest, …) at their cron times, each with
    its own lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from listener.app import App
from listener.delivery.outbox import alerts_due
from listener.jobs import Work
from listener.periodic import PeriodicJob, periodic_jobs
from listener.pipeline import unscored_backlog
from listener.replies.outbox import replies_due
from listener.store.engine import Store
from listener.store.models import SourceHealth, SourceRow

log = logging.getLogger(__name__)

SCHEMA_LOCK = 0x6C697374  # pg_advisory_lock key: one node at a time migrates ("list")


def conninfo(url: str) -> str:
    """libpq URI for procrastinate's psycopg pool from the SQLAlchemy URL (`postgresql+psycopg://…`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def node_name(app: App) -> str:
    return app.settings.cluster.node or f"{socket.gethostname()}-{os.getpid()}"


def prepare_database(app: App, queue: procrastinate.App) -> None:
    """Migrate listener's tables and create procrastinate's, one node at a time (three nodes may start at once)."""
    with app.store.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
        try:
            app.migrate()
            if conn.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is None:
                cursor = conn.connection.cursor()  # the DBAPI's own: no parameters, so '%' stays literal
                try:
                    cursor.execute(queue.schema_manager.get_schema())
                finally:
                    cursor.close()
                conn.commit()
                log.info("event=queue_schema_created")
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
            conn.commit()


# ----------------------------------------------------------------------------- what is due
def due_sources(app: App, now: datetime) -> list[str]:
    """Enabled sources whose interval has passed since their last attempt and that are not backing off."""
    with app.store.read() as session:
        health = {row.name: row.health for row in session.scalars(select(SourceRow))}
    due = []
    for source in app.settings.source:
        if not source.enabled:
            continue
        h = health.get(source.name)
        if h is None or h.last_attempt_at is None:
            due.append(source.name)
        elif h.next_attempt_at is not None and h.next_attempt_at > now:
            continue
        elif h.last_attempt_at + source.every <= now:
            due.append(source.name)
    return due


def poll_finished_since(app: App, source: str, since: datetime) -> bool:
    """Whether a poll of `source` finished — stored its batch or recorded its failure — at or after `since`.
    An attempt that started but never finished (its node died mid-fetch) does not count."""
    with app.store.read() as session:
        health = session.scalar(select(SourceHealth).join(SourceRow).where(SourceRow.name == source))
    finished = [t for t in (health.last_success_at, health.last_error_at) if t] if health else []
    return bool(finished) and max(finished) >= since


def live_nodes(app: App) -> int:
    timeout = app.settings.cluster.heartbeat_timeout.total_seconds()
    with app.store.engine.connect() as conn:
        n = conn.scalar(text("SELECT count(*) FROM procrastinate_workers "
                             "WHERE last_heartbeat > now() - make_interval(secs => :s)"), {"s": timeout})
    return max(1, int(n or 0))


# ----------------------------------------------------------------------------- the jobs
def build_queue(app: App) -> procrastinate.App:
    """The procrastinate app with listener's tasks bound to `app`."""
    from procrastinate import PsycopgConnector

    queue = procrastinate.App(connector=PsycopgConnector(conninfo=conninfo(app.settings.database.url),
                                                         min_size=1, max_size=4))
    cluster = app.settings.cluster
    work = Work(app, shared=True)

    async def defer_once(task: Any, queueing_lock: str) -> None:
        """Defer unless a job with this queueing lock already waits."""
        with contextlib.suppress(AlreadyEnqueued):
            await task.configure(queueing_lock=queueing_lock).defer_async()

    async def wake_scoring() -> None:
        nodes = await asyncio.to_thread(live_nodes, app)
        backlog = await asyncio.to_thread(unscored_backlog, app.store, nodes * app.settings.daemon.score_batch)
        if backlog:
            for slot in range(min(math.ceil(backlog / app.settings.daemon.score_batch), nodes)):
                await defer_once(score, f"score:{slot}")

    @queue.task(name="listener.poll", pass_context=True)
    async def poll(context: procrastinate.JobContext, source: str, due_at: str | None = None) -> None:
        job = context.job
        # A tick found the source due at `due_at`. A poll of it that finished since (this job waited behind it for
        # the lock) did the work. Finished, not started: when the poll ahead died mid-fetch (its node was killed
        # after recording the attempt), this job takes over and polls.
        if due_at is not None:
            if await asyncio.to_thread(poll_finished_since, app, source, datetime.fromisoformat(due_at)):
                return
        log.info("event=poll_started source=%s job=%s attempt=%d", source, job.id, job.attempts)
        if await asyncio.to_thread(work.poll, source):
            await wake_scoring()

    @queue.task(name="listener.score")
    async def score() -> None:
        if await asyncio.to_thread(work.score):
            await defer_once(deliver, "deliver")

    @queue.task(name="listener.deliver")
    async def deliver() -> None:
        await asyncio.to_thread(work.deliver)

    @queue.periodic(cron=_every_seconds(int(cluster.tick.total_seconds())))
    # No `lock`: a tick of a dead node would hold it, and ticks are what hand dead nodes' jobs over. Two ticks that
    # overlap are harmless: deferrals go through queueing locks, escalations and group flushes are race-safe.
    @queue.task(name="listener.tick", queueing_lock="tick")
    async def tick(timestamp: int) -> None:
        await retry_stalled(queue, app)
        now = app.clock.now()
        for name in await asyncio.to_thread(due_sources, app, now):
            await defer_poll(queue, name, now)
        # Polls wake scoring and scoring wakes delivery; these sweeps catch the rest (failed sends due again,
        # work of a dead node) at the single-node daemon's pace.
        if _every(timestamp, app.settings.daemon.score_every.total_seconds(), cluster.tick.total_seconds()):
            await wake_scoring()
        if _every(timestamp, app.settings.daemon.deliver_every.total_seconds(), cluster.tick.total_seconds()):
            await asyncio.to_thread(app.escalate)  # due escalations and group flushes join the outbox
            if await asyncio.to_thread(delivery_due, app.store, now):
                await defer_once(deliver, "deliver")

    for job in periodic_jobs(app.settings):
        _register_periodic(queue, work, job)
    return queue


async def defer_poll(queue: procrastinate.App, source: str, due_at: datetime) -> None:
    """Queue a poll of `source`, found due at `due_at`, unless one already waits (one node at a time polls it)."""
    lock = f"poll:{source}"
    with contextlib.suppress(AlreadyEnqueued):
        await queue.tasks["listener.poll"].configure(queueing_lock=lock, lock=lock).defer_async(
            source=source, due_at=due_at.isoformat())


def _every(timestamp: int, period: float, tick: float) -> bool:
    """Whether the tick at `timestamp` is the first of a new `period` (ticks are aligned to the clock)."""
    return period <= tick or timestamp % int(period) < tick


def _every_seconds(seconds: int) -> str:
    return f"* * * * * */{seconds}" if seconds < 60 else "* * * * * 0"  # croniter: seconds are the 6th field


def _register_periodic(queue: procrastinate.App, work: Work, job: PeriodicJob) -> None:
    async def run(timestamp: int) -> None:
        log.info("event=periodic_job job=%s timestamp=%d", job.name, timestamp)
        await asyncio.to_thread(work.periodic, job)

    task: Callable[..., Awaitable[None]] = run
    registered = queue.task(name=f"listener.periodic.{job.name}", lock=f"periodic:{job.name}",
                            queueing_lock=f"periodic:{job.name}")(task)
    queue.periodic(cron=job.cron, periodic_id=job.name)(registered)


async def retry_stalled(queue: procrastinate.App, app: App) -> None:
    """Put the running jobs of nodes whose heartbeat stopped back in the queue (procrastinate's recipe). When a
    job with the same queueing lock already waits (the tick deferred the same poll again), that one does the work:
    the stalled job is marked aborted, which releases its lock for it."""
    timeout = app.settings.cluster.heartbeat_timeout.total_seconds()
    for job in await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=timeout):
        try:
            await queue.job_manager.retry_job(job)
            log.warning("event=stalled_job_retried job=%s task=%s lock=%s", job.id, job.task_name, job.lock)
        except UniqueViolation:
            await queue.job_manager.finish_job(job, status=Status.ABORTED, delete_job=False)
            log.warning("event=stalled_job_superseded job=%s task=%s lock=%s", job.id, job.task_name, job.lock)
        except ConnectorException as exc:  # another node's tick handled it first
            log.info("event=stalled_job_taken job=%s error=%s", job.id, str(exc).strip())


# ----------------------------------------------------------------------------- the node
class ClusterNode:
    """The procrastinate worker of this process, on its own thread and event loop, so the daemon's main loop
    (signals, systemd notifications, whatever else it serves) stays the same in both modes (a JobRunner,
    listener/jobs.py)."""

    mode = "queue"

    def __init__(self, app: App, notify: Callable[[str], object]):
        self.app = app
        self.notify = notify
        self.name = node_name(app)
        self.queue = build_queue(app)
        prepare_database(app, self.queue)  # listener's migrations too: instead of App.migrate()
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="cluster-node", daemon=True)
        if not log.isEnabledFor(logging.DEBUG):  # procrastinate logs every job start and end at INFO: every tick
            logging.getLogger("procrastinate").setLevel(logging.WARNING)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()
        self._started.wait()

    def reconfigured(self) -> None:
        """Nothing to do: each tick reads the settings afresh."""

    def stop(self) -> None:
        """Stop taking jobs and let the running ones finish their transaction (procrastinate's graceful stop)."""
        if self._loop is not None and self._worker is not None:
            self._loop.call_soon_threadsafe(self._worker.cancel)
        self._thread.join()

    async def _watchdog(self, interval: float) -> None:
        """WATCHDOG=1 while the job queue's database answers (systemd's WatchdogSec= restarts a hung node)."""
        while True:
            await asyncio.sleep(interval)
            if await self.queue.check_connection_async():
                self.notify("WATCHDOG=1")

    async def _main(self) -> None:
        cluster = self.app.settings.cluster
        try:
            async with self.queue.open_async():
                self._loop = asyncio.get_running_loop()
                self._worker = asyncio.create_task(self.queue.run_worker_async(
                    name=self.name, concurrency=cluster.concurrency, delete_jobs="successful",
                    update_heartbeat_interval=cluster.heartbeat.total_seconds(),
                    stalled_worker_timeout=cluster.heartbeat_timeout.total_seconds(),
                    fetch_job_polling_interval=cluster.tick.total_seconds(), install_signal_handlers=False))
                watchdog_usec = int(os.environ.get("WATCHDOG_USEC", "0"))
                pinger = asyncio.create_task(self._watchdog(watchdog_usec / 2e6)) if watchdog_usec else None
                self._started.set()
                log.info("event=node_started mode=queue node=%s", self.name)
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
                if pinger:
                    pinger.cancel()
        except Exception:
            log.exception("event=node_failed node=%s", self.name)
        finally:
            self._started.set()
            log.info("event=node_stopped node=%s", self.name)


def delivery_due(store: Store, now: datetime) -> bool:
    """Whether a delivery run would find work: an alert or a reply due (or left claimed by a dead node)."""
    if alerts_due(store, now):
        return True
    with store.read() as session:
        return replies_due(session, now)
