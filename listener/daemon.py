"""`listener run`: the daemon's lifecycle around a job runner that polls every source, scores and delivers.

The runner (listener/jobs.py) is the in-process scheduler on one node (listener/scheduler.py) or, on PostgreSQL,
a node of a job queue shared by several daemons (listener/cluster/node.py, docs/scaling.md); the lifecycle is the
same for both. SIGTERM/SIGINT let the running jobs finish their transaction, then the process exits 0. SIGHUP
re-reads the config file (listener/ops/reload.py). Under systemd (Type=notify) it reports READY=1, RELOADING=1 and
STOPPING=1 on $NOTIFY_SOCKET and pings the watchdog (listener/ops/surface.py).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from listener import metrics
from listener.app import App
from listener.jobs import JobRunner
from listener.ops.reload import reread
from listener.ops.surface import OpsSurface
from listener.ops.systemd import sd_notify
from listener.scheduler import Scheduler

if TYPE_CHECKING:
    from listener.web.server import BackgroundServer

log = logging.getLogger(__name__)


def runner_for(app: App, notify: Callable[[str], object]) -> JobRunner:
    """The runner the settings ask for, its database ready (migrated; on a queue, the queue's tables too)."""
    if app.settings.cluster.uses_queue(app.settings.database.url):  # several nodes share a job queue
        from listener.cluster.node import ClusterNode  # procrastinate: only with the [postgres] extra

        return ClusterNode(app, notify)  # migrates, one node at a time
    app.migrate()
    return Scheduler(app)


class Daemon:
    def __init__(self, app: App, config_path: Path | None = None, runner: JobRunner | None = None):
        self.app = app
        self.config_path = config_path  # re-read on SIGHUP
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        self.runner = runner  # made by run() from the settings unless given
        self.ops = OpsSurface(app, self.jobs_running)

    def jobs_running(self) -> bool:
        """What /readyz and the watchdog call "scheduler running": whatever runs this daemon's jobs."""
        return self.runner is not None and self.runner.running

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
                if self.runner is not None:
                    self.runner.reconfigured()
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
        """The care inbox beside the jobs, when [web] is configured (listener/web)."""
        if self.app.settings.web is None:
            return None
        from listener.web.server import BackgroundServer, make_server

        web = BackgroundServer(make_server(self.app.settings, self.app.store, self.app.clock))
        web.start()
        return web

    def run(self) -> int:
        runner = self.runner = self.runner or runner_for(self.app, sd_notify)  # migrates the database
        _ = self.app.scorer  # load the model now: a missing model fails the start, not the first score
        _ = self.app.sources, self.app.channels  # build them once, before jobs run in several threads
        self.ops.start()
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        web = self._start_web()  # before the jobs: a missing secret or a taken port fails the start
        signal.signal(signal.SIGHUP, self.request_reload)
        runner.start()
        sd_notify("READY=1\nSTATUS=listening")
        log.info("event=started mode=%s sources=%d rules=%d channels=%d", runner.mode,
                 len(self.app.sources), len(self.app.settings.rule), len(self.app.channels))
        code = 0
        while not self.stop_requested.wait(timeout=min(1.0, self.ops.watchdog or 1.0)):
            if not runner.running:
                log.error("event=node_died: the job runner stopped; exiting so systemd restarts listener")
                code = 1
                break
            if self.reload_requested.is_set():
                self.reload()
            self.ops.tick()
        sd_notify("STOPPING=1")
        runner.stop()  # lets running jobs finish their transaction
        if web is not None:
            web.stop()
        self.ops.close()
        self.app.close()
        log.info("event=stopped")
        return code
