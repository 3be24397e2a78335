"""Which source kinds can post replies: a module `listener/replies/platforms/<kind>.py` per kind (see base.py for
what it exposes). A kind without a module has no write API here (feeds, review pages, Hacker News): the care inbox
keeps the copy-and-open flow for it."""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import ModuleType
from typing import cast

from pydantic import create_model

from listener.replies.platforms.base import ReplySettings
from listener.sources.kit import SourceSettings


@cache
def platform(kind: str) -> ModuleType | None:
    """The platform module that answers on `kind`, or None when the kind has no write client."""
    if not kind.isidentifier() or kind == "base" or kind.startswith("_"):  # _name: helpers shared by modules
        return None
    name = f"{__name__}.{kind}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def can_reply(kind: str) -> bool:
    return platform(kind) is not None


def reply_settings_model(kind: str) -> type[ReplySettings] | None:
    module = platform(kind)
    return cast(type[ReplySettings], module.Settings) if module is not None else None


@cache
def with_reply_keys(source_model: type[SourceSettings], kind: str) -> type[SourceSettings]:
    """The source kind's settings model plus its platform's reply keys, so one [[source]] block holds both and
    an unknown key still fails naming it. Kinds without a write client keep their own model."""
    reply_model = reply_settings_model(kind)
    if reply_model is None:
        return source_model
    combined = create_model(f"{source_model.__name__}WithReplies", __base__=(source_model, reply_model))
    return cast(type[SourceSettings], combined)


def reply_enabled(settings: SourceSettings) -> bool:
    return isinstance(settings, ReplySettings) and settings.reply
