"""The read-back of each helpdesk channel as a periodic job (listener/cluster/registry.py), every `poll_every`:
one job per channel, so each keeps its own pace and a failing helpdesk delays no other."""

from __future__ import annotations

from typing import Any

from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.helpdesk.settings import HelpdeskSettings
from listener.delivery.helpdesk.status import read_back
from listener.periodic import PeriodicJob


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
