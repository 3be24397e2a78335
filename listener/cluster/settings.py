"""`[cluster]`: single node (APScheduler in the process) or several nodes sharing a PostgreSQL job queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.engine import make_url

from listener.durations import Duration


class ClusterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # auto: the job queue on PostgreSQL, the in-process scheduler on SQLite.
    mode: Literal["auto", "single", "queue"] = "auto"
    node: str | None = None  # this node's name in logs and the job table (default: host name and PID)
    tick: Duration = timedelta(seconds=5)  # how often one node checks which sources are due
    heartbeat: Duration = timedelta(seconds=10)  # each node's sign of life in the job queue …
    heartbeat_timeout: Duration = timedelta(seconds=60)  # … after which its running jobs go to another node
    concurrency: int = Field(default=2, ge=1, le=32)  # jobs one node runs at once (polls, scoring, delivery)

    @field_validator("tick")
    @classmethod
    def _divides_a_minute(cls, value: timedelta) -> timedelta:
        seconds = value.total_seconds()
        if seconds != int(seconds) or not 1 <= seconds <= 60 or 60 % int(seconds):
            raise ValueError(f"a whole number of seconds that divides a minute (1s … 60s), got {seconds:g}s")
        return value

    @field_validator("heartbeat_timeout")
    @classmethod
    def _outlasts_heartbeats(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        heartbeat = info.data.get("heartbeat")
        if heartbeat is not None and value < 2 * heartbeat:
            raise ValueError("give at least two heartbeats' time (a slow beat is no death)")
        return value

    def check_database(self, url: str) -> None:
        if self.mode == "queue" and make_url(url).get_backend_name() != "postgresql":
            raise ValueError("cluster.mode: \"queue\" needs a PostgreSQL database.url (SQLite is single-node)")

    def uses_queue(self, url: str) -> bool:
        if self.mode == "single":
            return False
        return make_url(url).get_backend_name() == "postgresql"
