"""Secrets that sources need (API keys, tokens, passwords), read so that a missing one fails the poll as a
ClientError: a configuration mistake, reported in the source's health, not retried as an outage."""

from __future__ import annotations

from listener.secrets import MissingSecret, get_secret
from listener.sources.kit.errors import ClientError


def source_secret(name: str) -> str:
    """The secret `name` (see listener.secrets); when it is missing, a ClientError saying where to put it."""
    try:
        return get_secret(name)
    except MissingSecret as exc:
        raise ClientError(str(exc)) from None  # the message says all; MissingSecret's traceback adds nothing
