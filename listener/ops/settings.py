"""Settings of the operator's surface: `[metrics]`, `[retention]`, `[privacy]` (config types only: listener/config.py
assembles them without importing the work they configure)."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.durations import Duration


class MetricsSettings(BaseModel):
    """`[metrics]`: where Prometheus scrapes and probes reach the daemon."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    listen: str = Field(default="127.0.0.1:9464",
                        description="host:port to serve them on (\"[::1]:9464\" for IPv6); port 0 picks a free port "
                                    "(logged at start).")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_address(value)
        return value


def split_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected host:port like '127.0.0.1:9464', got {value!r}")
    return host.strip("[]"), int(port)


class RetentionSettings(BaseModel):
    """`[retention]`: how long mentions are kept, by kind; run daily by the daemon."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True,
                          description="Run the clean-up daily from `listener run`; `listener retention run` works "
                                      "either way.")
    neutral: Duration = Field(default=timedelta(days=90),
                              description="Keep mentions scored neutral that never became a task this long.")
    other: Duration = Field(default=timedelta(days=400),
                            description="Keep every other mention without a task this long.")
    closed_tasks: Duration = Field(default=timedelta(days=30),
                                   description="Keep resolved or dismissed tasks, their alerts and mentions this long "
                                               "after closing.")
    cron: str = Field(default="17 3 * * *", description="When the daily run starts (UTC, crontab fields).")
    batch: int = Field(default=500, ge=1, le=10_000,
                       description="Mentions deleted per transaction (keeps locks short).")

    @field_validator("neutral", "other", "closed_tasks")
    @classmethod
    def _at_least_a_day(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError(f"keep mentions at least a day (got {value})")
        return value

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        try:
            if len(value.split()) != 5:
                raise ValueError("not five fields")
            CronTrigger.from_crontab(value)
        except ValueError:
            raise ValueError(f"expected five crontab fields like '17 3 * * *', got {value!r}") from None
        return value


class PrivacySettings(BaseModel):
    """`[privacy]`."""

    model_config = ConfigDict(extra="forbid")

    pseudonymise_authors: bool = Field(default=False,
                                       description="Store a keyed hash (HMAC-SHA256) instead of authors' names.")
    author_key_secret: str = Field(default="author-key",
                                   description="Name of the secret holding the HMAC key ($LISTENER_AUTHOR_KEY or a "
                                               "systemd credential).")
