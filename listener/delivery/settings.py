"""`[delivery]`: the outbox's retry policy and the task link in alerts (a config type: listener/config.py
assembles it without importing the outbox)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.durations import Duration


class DeliverySettings(BaseModel):
    """`[delivery]`: retry policy of the outbox."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=12, ge=1, le=1000,
                              description="Attempts per alert; then it is parked (`listener alerts list --status "
                                          "parked`, `listener alerts retry`).")
    backoff: Duration = Field(default=timedelta(seconds=30),
                              description="Wait after a failed attempt, doubled after every further failure …")
    max_backoff: Duration = Field(default=timedelta(hours=1), description="… up to this.")
    claim_timeout: Duration = Field(default=timedelta(minutes=5),
                                    description="An alert left \"sending\" by a crash is retried after this.")
    batch: int = Field(default=50, ge=1, le=10_000, description="Alerts claimed per delivery run.")
    task_url: str | None = Field(default=None,
                                 description="Link to a task in alerts, with {id}, e.g. "
                                             "\"https://care.example.com/tasks/{id}\"; default: [web] base_url + "
                                             "/tasks/{id}, none without it.")

    @field_validator("task_url")
    @classmethod
    def _has_id(cls, value: str | None) -> str | None:
        if value is not None and ("{id}" not in value or not value.startswith(("https://", "http://"))):
            raise ValueError(f"expected an http(s) URL with {{id}} where the task number goes, got {value!r}")
        return value
