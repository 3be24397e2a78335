"""The read-back of each helpdesk channel as a periodic job (listener/cluster/registry.py), every `poll_every`:
one job per channel, so each keeps its own pace and a failing helpdesk delays no other."""

from __future__ import annotations

from typing import Any

from listener.cluster.registry import PeriodicJob
from listener.helpdesk.handoff import HelpdeskChannel
from listener.helpdesk.settings import HelpdeskSettings
from listener.helpdesk.status import read_back


def periodic_jobs(settings: Any) -> list[PeriodicJob]:
    jobs = []
    for channel in settings.channel:
        if isinstance(channel, HelpdeskSettings):
            def run(app: Any, name: str = channel.name) -> None:
                target = app.channels[name]
                if isinstance(target, HelpdeskChannel):
                    read_back(target)

            jobs.append(PeriodicJob(f"helpdesk-{channel.name}", channel.poll_cron, run))
    return jobs
