"""`[delivery]`: the outbox's retry policy and the task link in alerts (a config type: listener/config.py
assembles it without importing the outbox)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.durations import Duration


class DeliverySettings(BaseModel):
    """`[delivery]`: retry policy of the outbox."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=12, ge=1, le=1000)
    backoff: Duration = timedelta(seconds=30)  # doubled after every failure …
    max_backoff: Duration = timedelta(hours=1)  # … up to this
    claim_timeout: Duration = timedelta(minutes=5)  # a row stuck in "sending" (crash) is retried after this
    batch: int = Field(default=50, ge=1, le=10_000)
    # Link to a task in alerts, e.g. "https://care.example.com/tasks/{id}" (the care inbox); none if unset.
    task_url: str | None = None

    @field_validator("task_url")
    @classmethod
    def _has_id(cls, value: str | None) -> str | None:
        if value is not None and ("{id}" not in value or not value.startswith(("https://", "http://"))):
            raise ValueError(f"expected an http(s) URL with {{id}} where the task number goes, got {value!r}")
        return value
