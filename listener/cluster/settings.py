"""`[cluster]`: single node (APScheduler in the process) or several nodes sharing a PostgreSQL job queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.engine import make_url

from listener.durations import Duration


class ClusterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["auto", "single", "queue"] = Field(default="auto",
                                                     description="auto: a job-queue node on PostgreSQL, a single node "
                                                                 "on SQLite; single; queue (PostgreSQL only).")
    node: str | None = Field(default=None,
                             description="This node's name in logs and the job table; default: host name and PID.")
    tick: Duration = Field(default=timedelta(seconds=5),
                           description="How often the cluster checks which sources are due (divides a minute).")
    heartbeat: Duration = Field(default=timedelta(seconds=10),
                                description="How often each node signs that it is alive in the job queue …")
    heartbeat_timeout: Duration = Field(default=timedelta(seconds=60),
                                        description="… after how long without a sign its running jobs go to another "
                                                    "node.")
    concurrency: int = Field(default=2, ge=1, le=32,
                             description="Jobs one node runs at once (polls, scoring, delivery).")

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
