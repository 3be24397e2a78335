"""The daemon's work, defined once for both ways of running it: poll a source, score, deliver, a periodic job.

A `JobRunner` decides when the work runs: on one node the in-process scheduler (listener/scheduler.py), on
PostgreSQL a node of the job queue several daemons share (listener/cluster/node.py, docs/scaling.md). The daemon
(listener/daemon.py) starts the runner, tells it about a reloaded config, asks whether it still runs and stops it;
it knows nothing else of either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from listener.app import App
    from listener.periodic import PeriodicJob


class Work:
    """What each job does. `shared`: other nodes work the same database, so scoring claims its batches and delivery
    claims one alert at a time (a claim then only has to outlast one send before `[delivery] claim_timeout` hands it
    to another node, and the nodes deliver side by side)."""

    def __init__(self, app: App, shared: bool = False):
        self.app = app
        self.shared = shared

    def poll(self, source: str) -> bool:
        """One poll of one source; whether it stored new mentions (then scoring has work)."""
        if source not in self.app.sources:  # removed by a reload while this run was queued
            return False
        (report,) = self.app.poll([source])
        return report.stored > 0

    def score(self) -> bool:
        """Score what waits; whether that raised alerts (then delivery has work)."""
        return self.app.score(claim=self.shared).alerts > 0

    def deliver(self) -> None:
        """Due escalations and grouped messages join the outbox first, then the outbox is sent, then the replies
        from the care inbox are posted (listener/replies: claimed row by row, so nodes post side by side)."""
        self.app.escalate()
        if not self.shared:
            self.app.deliver()
        else:
            while True:
                report = self.app.deliver(batch=1)
                if not (report.sent or report.failed or report.parked):
                    break
        self.app.deliver_replies()

    def periodic(self, job: PeriodicJob) -> None:
        job.run(self.app)


class JobRunner(Protocol):
    mode: str  # "single" or "queue", for the logs

    @property
    def running(self) -> bool: ...  # what /readyz and the watchdog call "scheduler running"

    def start(self) -> None: ...

    def reconfigured(self) -> None: ...  # after a reload: the settings in the app are new

    def stop(self) -> None: ...  # lets running jobs finish their transaction

