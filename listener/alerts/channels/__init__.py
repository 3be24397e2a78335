"""Delivery channels: each turns an `AlertMessage` into a real email, chat message or webhook call."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from listener.alerts.channels.base import AlertMessage, Channel, DeliveryError
from listener.alerts.channels.email import EmailChannel, EmailChannelSettings
from listener.alerts.channels.webhook import WebhookChannel, WebhookChannelSettings

ChannelSettings = Annotated[EmailChannelSettings | WebhookChannelSettings, Field(discriminator="kind")]


def make_channel(settings: EmailChannelSettings | WebhookChannelSettings) -> Channel:
    if isinstance(settings, EmailChannelSettings):
        return EmailChannel(settings)
    return WebhookChannel(settings)


__all__ = ["AlertMessage", "Channel", "ChannelSettings", "DeliveryError", "EmailChannel", "EmailChannelSettings",
           "WebhookChannel", "WebhookChannelSettings", "make_channel"]
