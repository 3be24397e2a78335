"""Chat tools through Apprise: Teams (Workflows), Mattermost, Discord, ntfy, Telegram, Matrix, Google Chat, …

The Apprise URL embeds the service's token, so it always comes from a secret (`url_secret`). Mention text is
untrusted: the body is written in the markup the target renders — CommonMark with every untrusted piece
backslash-escaped (Apprise converts it to HTML for Matrix and to each other service's Markdown dialect), or
plain text for targets that render none — and `@name` is defused so a post cannot ping `@everyone`.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

import apprise
from apprise.conversion import text_to_markdown
from pydantic import BaseModel, ConfigDict, Field

from listener.delivery.channels.base import AlertMessage, DeliveryError, Notice
from listener.delivery.channels.render import excerpt, subject
from listener.durations import Duration
from listener.secrets import get_secret

# Mattermost renders Markdown in every post although Apprise declares it a text target (and so passes the body
# through unchanged): untrusted text must be Markdown-escaped for it too.
RENDERS_MARKDOWN_ANYWAY = {"mmost", "mmosts"}
_MENTION = re.compile(r"@(?=\w)")
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # a link target keeps these; '<', '>', spaces and quotes are percent-encoded
_URL_PIECES = re.compile(r"[/:@?&=#,]+")


class _RedactSecrets(logging.Filter):
    """Apprise logs target URLs (an ntfy topic, a webhook token) even at INFO: cut every secret piece out."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message, self.pieces)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_REDACT = _RedactSecrets()
logging.getLogger("apprise").addFilter(_REDACT)


class AppriseChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The channel's unique name, as rules and spikes refer to it.")
    kind: Literal["apprise"] = Field(
        description="\"apprise\": a chat tool through Apprise (Teams, Mattermost, Discord, ntfy, Telegram, Matrix …).")
    url_secret: str = Field(min_length=1,
                            description="Name of the secret holding one Apprise URL, e.g. discord://ID/TOKEN (formats: "
                                        "docs/channels.md).")
    timeout: Duration = Field(default=timedelta(seconds=15), description="Connect and read timeout of each request.")


def defuse(text: str) -> str:
    """A zero-width space after '@' keeps '@everyone', '@channel' or '@here' in a post from pinging anybody."""
    return _MENTION.sub("@\u200b", text)


def md(text: str | None) -> str:
    """Untrusted text as literal CommonMark (Apprise's escaper, plus '<' so no raw HTML gets through)."""
    return text_to_markdown(defuse(text or "")).replace("<", "\\<")


def md_link(label: str, url: str | None) -> str:
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return ""
    return f"[{md(label)}](<{quote(url, safe=URL_SAFE)}>)"


def alert_body(m: AlertMessage, markdown: bool) -> str:
    """A task, escalation or grouped alert as escaped CommonMark, or as plain text (with `@` defused) for targets
    that render no markup — the same content as the Slack template (channels/templates/alert.slack.txt)."""
    esc = md if markdown else defuse
    t, locale = m.locale.t, m.locale

    def bold(text: str) -> str:
        return f"**{text}**" if markdown else text

    def link(label: str, url: str | None) -> str:
        if markdown:
            return md_link(label, url)
        return f"{label}: {defuse(url)}" if url else ""

    def quote_of(item: AlertMessage, limit: int) -> str:
        return esc((f"{item.title} — " if item.title else "") + excerpt(item.text, limit))

    if m.items:  # a grouped message: the headline, then each task, most urgent first
        lines = [f"{bold(esc(m.priority))} · {esc(m.headline or '')}", ""]
        for i in m.items:
            task = link(f"{t('task')} #{i.task_id}", i.task_url) or f"{t('task')} #{i.task_id}"
            lines.append(f"- {bold(esc(i.priority))} {task} · {esc(i.source)}: {quote_of(i, 160)} "
                         f"{link(t('post'), i.url)}".rstrip())
        return "\n".join(lines)
    lines = [f"{bold(t('Escalation') + ':')} {esc(m.escalation)}", ""] if m.escalation else []
    head = bold(esc(m.priority)) + (f" {t('task')} #{m.task_id}" if m.task_id else "")
    head += f" · {esc(', '.join(m.brands) or t('mention'))} {t('on')} {esc(m.source)}"
    if m.due_at:
        head += f" · {t('respond by')} {locale.time(m.due_at)}"
    lines += [head, ""] + [f"- {esc(locale.reason(reason))}" for reason in m.reasons]
    lines += ["", f"> {quote_of(m, 300)}" if markdown else quote_of(m, 300)]
    links = [text for text in (link(t("open the post"), m.url), link(t("open the task"), m.task_url)) if text]
    if m.assignee:
        links.append(f"{t('assigned to')} {esc(m.assignee)}")
    return "\n".join(lines + ([" · ".join(links)] if links else []))


class AppriseChannel:
    def __init__(self, settings: AppriseChannelSettings):
        self.settings = settings
        self.name = settings.name

    def _target(self) -> tuple[apprise.Apprise, apprise.NotifyFormat]:
        try:
            url = get_secret(self.settings.url_secret)
        except LookupError as exc:
            raise DeliveryError(f"apprise {self.name}: {exc}") from exc
        _REDACT.pieces.update(secret_pieces(url))
        asset = apprise.AppriseAsset(app_id="listener", app_desc="listener alerts")
        target = apprise.Apprise(asset=asset)
        # The URL is a secret: never echo it, only say what is wrong with it.
        if not target.add(url) or len(target) != 1:
            raise DeliveryError(f"apprise {self.name}: the secret {self.settings.url_secret!r} must hold exactly "
                                "one Apprise URL that Apprise understands (see docs/channels.md)")
        plugin = target[0]
        plugin.socket_read_timeout = plugin.socket_connect_timeout = self.settings.timeout.total_seconds()
        return target, markup_for(plugin)

    def send(self, message: AlertMessage | Notice) -> None:
        target, markup = self._target()
        if markup == apprise.NotifyFormat.MARKDOWN:
            # The body's first line says it all; Apprise would turn a title into a heading in its own way.
            title = ""
            body = message.markdown if isinstance(message, Notice) else alert_body(message, markdown=True)
        else:
            title = defuse(message.subject if isinstance(message, Notice) else subject(message))
            body = defuse(message.text) if isinstance(message, Notice) else alert_body(message, markdown=False)
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = target.notify(title=title, body=body, body_format=markup)
        if not ok:
            lines = captured.getvalue().strip().splitlines()  # already redacted by _REDACT
            detail = lines[-1].split(" - ", 2)[-1] if lines else "no detail"
            raise DeliveryError(f"apprise {self.name} ({target[0].service_name}) failed: {detail}")


def markup_for(plugin: apprise.plugins.NotifyBase) -> apprise.NotifyFormat:
    """Markdown for every target that renders Markdown or HTML (Apprise converts to HTML itself), else text."""
    declared = plugin.notify_format
    formats = set(declared) if isinstance(declared, (tuple, list, set)) else {declared}
    schemas = plugin.secure_protocol, getattr(plugin, "protocol", None)
    flat = {s for item in schemas for s in ((item,) if isinstance(item, str) or item is None else item)}
    if flat & RENDERS_MARKDOWN_ANYWAY or formats & {apprise.NotifyFormat.MARKDOWN, apprise.NotifyFormat.HTML}:
        return apprise.NotifyFormat.MARKDOWN
    return apprise.NotifyFormat.TEXT


def secret_pieces(url: str) -> set[str]:
    """Every piece of an Apprise URL after the scheme that could be a token (host names with a dot excepted)."""
    rest = url.partition("://")[2]
    pieces = {p for p in _URL_PIECES.split(rest) if len(p) >= 4 and not re.fullmatch(r"[\w-]+(\.[\w-]+)+", p)}
    return pieces | {unquote(p) for p in pieces} | {quote(p, safe="") for p in pieces}


def redact(text: str, pieces: set[str]) -> str:
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text
