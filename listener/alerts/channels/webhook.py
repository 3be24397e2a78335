"""Slack-compatible incoming webhook: POST {"text": …} as JSON, with an Idempotency-Key header."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from listener.alerts.channels import render
from listener.alerts.channels.base import AlertMessage, DeliveryError
from listener.durations import Duration
from listener.secrets import get_secret


class WebhookChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: Literal["webhook"]
    url: HttpUrl | None = None
    url_secret: str | None = None  # webhook URLs embed a token: prefer keeping them out of the file
    timeout: Duration = timedelta(seconds=15)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannelSettings:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of url or url_secret")
        return self


class WebhookChannel:
    def __init__(self, settings: WebhookChannelSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.name = settings.name
        self._transport = transport

    def payload(self, message: AlertMessage) -> dict[str, object]:
        return {
            "text": render.render("alert.slack.txt", message).strip(),
            # Extra fields for generic receivers; Slack ignores them.
            "listener": {
                "idempotency_key": message.idempotency_key,
                "task_id": message.task_id,
                "priority": message.priority,
                "due_at": message.due_at.isoformat() if message.due_at else None,
                "url": message.url,
                "brands": message.brands,
                "reasons": message.reasons,
            },
        }

    def send(self, message: AlertMessage) -> None:
        url = str(self.settings.url) if self.settings.url else get_secret(self.settings.url_secret or "")
        try:
            with httpx.Client(timeout=self.settings.timeout.total_seconds(), transport=self._transport) as client:
                response = client.post(url, json=self.payload(message),
                                       headers={"Idempotency-Key": message.idempotency_key})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.name} unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            # The URL is a secret: name the channel, not the URL.
            raise DeliveryError(f"webhook {self.name} answered HTTP {response.status_code}")
