"""Periodic jobs other than polling, scoring and delivery (retention, the digest, …), in one registry.

A feature that needs something done on a calendar adds its provider — a function from the settings to a list of
`PeriodicJob` — to PROVIDERS. The single-node daemon runs the jobs with APScheduler cron triggers; in queue mode
procrastinate defers each one once per period for the whole cluster (its periodic deferrer records every
(job, time) it deferred, so N nodes do not run it N times) and a lock keeps two runs from overlapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from listener.app import App
    from listener.config import Settings


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # unique; also the job's lock in queue mode
    cron: str  # five crontab fields, UTC
    run: Callable[[App], Any]


# "module:function" providers, imported when the daemon starts.
PROVIDERS = [
    "listener.ops.retention:periodic_jobs",
    "listener.acting.spikes.check:periodic_jobs",
    "listener.digest.schedule:periodic_jobs",
    "listener.delivery.helpdesk.jobs:periodic_jobs",
]


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    jobs: list[PeriodicJob] = []
    for spec in PROVIDERS:
        module, _, function = spec.partition(":")
        jobs.extend(getattr(import_module(module), function)(settings))
    names = [job.name for job in jobs]
    if len(names) != len(set(names)):
        raise ValueError(f"periodic job names must be unique: {names}")
    return jobs
