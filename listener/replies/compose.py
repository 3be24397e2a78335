"""What the composer needs before anything is sent: whether this mention can be answered through its platform
(and why not), the platform's length limit and formatting, and templates with their placeholders filled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from listener.config import Settings
from listener.replies.platforms import platform, reply_enabled
from listener.store.models import MentionRow


@dataclass(frozen=True)
class Channel:
    """How a reply to one mention would go out: `ok` with the platform's limit and formatting, or `reason` why
    the care inbox keeps the copy-and-open flow for it."""

    ok: bool
    kind: str
    source_name: str
    why: str | None = None  # no_write_api | source_gone | switched_off
    max_length: int | None = None
    markdown: bool = False

    @property
    def reason(self) -> str | None:
        return REASONS[self.why].format(kind=self.kind, source=self.source_name) if self.why else None


REASONS = {
    "no_write_api": "{kind} has no write API listener can post through: copy the reply, answer on the platform, "
                    "then mark the task responded",
    "source_gone": "the source {source!r} is no longer configured",
    "switched_off": "replies through {source!r} are switched off (reply = false)",
}


def reply_channel(settings: Settings, mention: MentionRow) -> Channel:
    kind, name = mention.source_kind, mention.source.name
    module = platform(kind)
    if module is None:
        return Channel(False, kind, name, "no_write_api")
    source = next((s for s in settings.source if s.name == name), None)
    if source is None:
        return Channel(False, kind, name, "source_gone")
    if not reply_enabled(source):
        return Channel(False, kind, name, "switched_off")
    return Channel(True, kind, name, None, int(getattr(module, "MAX_LENGTH", 0)) or None,
                   bool(getattr(module, "MARKDOWN", False)))


def placeholders(mention: MentionRow, brand: str | None = None, survey_url: str = "") -> dict[str, str]:
    """The values templates may use. A new placeholder is one more entry here. `survey_url` is the task's signed
    survey link (listener.surveys.links.survey_link; "" when no [[survey]] fits the task)."""
    return {"author": mention.author or "", "brand": brand if brand is not None else (mention.brand_names or [""])[0],
            "link": mention.url or "", "survey_url": survey_url}


def fill(body: str, values: Mapping[str, str]) -> str:
    """Replace {name} for each known placeholder; anything else stays as written (no format-string evaluation,
    so braces in a template or a value are harmless)."""
    for key, value in values.items():
        body = body.replace("{" + key + "}", value)
    return body


def check_length(text: str, channel: Channel) -> str | None:
    """A reply the platform would refuse for its length, said plainly (None: fine)."""
    if channel.max_length is not None and len(text) > channel.max_length:
        return (f"the reply has {len(text)} characters; {channel.kind} allows {channel.max_length}: shorten it by "
                f"{len(text) - channel.max_length}")
    return None
