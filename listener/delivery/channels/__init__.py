"""Delivery channels: each turns an `AlertMessage` (or a `Notice`) into a real email, chat message or webhook call."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from listener.delivery.channels.base import AlertMessage, Channel, DeliveryError, Notice
from listener.delivery.channels.chat import AppriseChannel, AppriseChannelSettings
from listener.delivery.channels.email import EmailChannel, EmailChannelSettings
from listener.delivery.channels.webhook import WebhookChannel, WebhookChannelSettings
from listener.delivery.helpdesk.settings import ChatwootSettings, FreshdeskSettings, ZammadSettings, ZendeskSettings

# Helpdesk kinds are built with the store they keep their hand-offs in (listener/delivery/helpdesk/channels.py).
ChannelSettings = Annotated[EmailChannelSettings | WebhookChannelSettings | AppriseChannelSettings | ZendeskSettings
                            | FreshdeskSettings | ZammadSettings | ChatwootSettings, Field(discriminator="kind")]


def make_channel(settings: EmailChannelSettings | WebhookChannelSettings | AppriseChannelSettings) -> Channel:
    if isinstance(settings, EmailChannelSettings):
        return EmailChannel(settings)
    if isinstance(settings, AppriseChannelSettings):
        return AppriseChannel(settings)
    return WebhookChannel(settings)


__all__ = ["AlertMessage", "AppriseChannel", "AppriseChannelSettings", "Channel", "ChannelSettings",
           "DeliveryError", "EmailChannel", "EmailChannelSettings", "Notice", "WebhookChannel",
           "WebhookChannelSettings", "make_channel"]
