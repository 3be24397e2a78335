"""Slack-compatible incoming webhook: POST {"text": …} as JSON, with an Idempotency-Key header.

With `signing_secret`, every request also carries `X-Listener-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`, so a receiver can check that the body came from listener, unchanged and recently
(docs/channels.md shows the check).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from listener.clock import Clock, SystemClock
from listener.delivery.channels.base import AlertMessage, DeliveryError, Notice
from listener.delivery.channels.render import render, slack_escape
from listener.durations import Duration
from listener.secrets import get_secret


class WebhookChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The channel's unique name, as rules and spikes refer to it.")
    kind: Literal["webhook"] = Field(
        description="\"webhook\": a Slack-compatible incoming webhook (JSON with \"text\").")
    url: HttpUrl | None = Field(default=None, description="The webhook URL; give exactly one of url and url_secret.")
    url_secret: str | None = Field(default=None,
                                   description="Name of the secret holding the webhook URL, which embeds a token: "
                                               "keeps it out of this file.")
    signing_secret: str | None = Field(default=None,
                                       description="Name of the secret whose value signs each request (header "
                                                   "X-Listener-Signature; docs/channels.md).")
    timeout: Duration = Field(default=timedelta(seconds=15), description="Connect and read timeout of each request.")

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannelSettings:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of url or url_secret")
        return self


SIGNATURE_HEADER = "X-Listener-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookChannel:
    def __init__(self, settings: WebhookChannelSettings, transport: httpx.BaseTransport | None = None,
                 clock: Clock | None = None):
        self.settings = settings
        self.name = settings.name
        self._transport = transport
        self._clock = clock or SystemClock()

    def payload(self, message: AlertMessage | Notice) -> dict[str, object]:
        if isinstance(message, Notice):
            return {"text": slack_escape(message.text),
                    "listener": {"idempotency_key": message.idempotency_key, **message.data}}
        return {
            "text": render("alert.slack.txt", message).strip(),
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

    def send(self, message: AlertMessage | Notice) -> None:
        try:
            url = str(self.settings.url) if self.settings.url else get_secret(self.settings.url_secret or "")
            key = get_secret(self.settings.signing_secret) if self.settings.signing_secret else None
        except LookupError as exc:
            raise DeliveryError(f"webhook {self.name}: {exc}") from exc
        # Signed bytes are sent as they are: a receiver verifies exactly what it reads.
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        headers = {"Idempotency-Key": message.idempotency_key, "Content-Type": "application/json"}
        if key is not None:
            headers[SIGNATURE_HEADER] = signature(key, int(self._clock.now().timestamp()), body)
        try:
            with httpx.Client(timeout=self.settings.timeout.total_seconds(), transport=self._transport) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.name} unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            # The URL is a secret: name the channel, not the URL.
            raise DeliveryError(f"webhook {self.name} answered HTTP {response.status_code}")
