"""Every configured channel built, helpdesk channels with the store they keep their hand-offs in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from listener.clock import Clock
from listener.delivery.channels import Channel, ChannelSettings, make_channel
from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.helpdesk.settings import HELPDESK_SETTINGS, HelpdeskSettings
from listener.store.engine import Store


def build_channels(settings: Sequence[ChannelSettings], store: Store, clock: Clock) -> dict[str, Channel]:
    return {c.name: HelpdeskChannel(c, store, clock) if isinstance(c, HelpdeskSettings) else make_channel(c)
            for c in settings}


def helpdesk_channel(settings: Any, name: str, store: Store, clock: Clock) -> HelpdeskChannel | None:
    """The helpdesk channel `name` of `settings` (a listener.config.Settings), or None."""
    for channel in settings.channel:
        if channel.name == name and isinstance(channel, HELPDESK_SETTINGS):
            return HelpdeskChannel(channel, store, clock)
    return None
