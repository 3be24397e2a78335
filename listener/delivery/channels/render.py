"""Alert texts, rendered with Jinja2. HTML is autoescaped; chat text escapes Slack's control characters."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from listener.delivery.channels.base import AlertMessage

EXCERPT_CHARS = 600


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("listener.delivery.channels", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["excerpt"] = excerpt
    env.filters["slack"] = slack_escape
    return env


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_escape(text: str | None) -> str:
    """Slack mrkdwn treats &, < and > as control characters (links, mentions such as <!channel>)."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subject(message: AlertMessage) -> str:
    if message.headline:  # a grouped message
        return " ".join(f"[{message.priority}] {excerpt(message.headline, 120)}".split())
    t = message.locale.t
    brands = ", ".join(message.brands) or t("mention")
    title = excerpt(message.title or message.text, 70)
    flag = f"{t('ESCALATION')} {t('task')} #{message.task_id} · " if message.escalation else ""
    # Header injection is impossible through EmailMessage, but keep subjects to one line anyway.
    return " ".join(f"[{message.priority}] {flag}{brands} {t('on')} {message.source}: {title}".split())


def render(template: str, message: AlertMessage) -> str:
    """In the team's language and time zone ([alerts]): `_` translates, `L` formats times and reasons."""
    return environment().get_template(template).render(m=message, _=message.locale.t, L=message.locale)
