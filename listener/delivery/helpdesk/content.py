"""What a hand-off says: the ticket's subject and opening (the customer's words, link, where and when), the
context note (why listener flagged it), later posts, tags — each text in plain, HTML and Markdown.

Mention text is untrusted: HTML is escaped, Markdown is backslash-escaped (and `@name` defused), and only http(s)
URLs become links. Every text listener posts ends with a marker line naming its key, so after a crash an earlier
post can be found in the ticket instead of being posted twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from listener.delivery.channels.base import AlertMessage
from listener.delivery.channels.chat import md, md_link
from listener.delivery.channels.render import excerpt
from listener.delivery.helpdesk.model import Opening, Post, Requester, Text

MAX_TEXT = 20_000  # helpdesks cap comment sizes; a mention longer than this is cut (its link has the rest)
_TAG = re.compile(r"[^a-z0-9_-]+")


def ticket_key(prefix: str, task_id: int) -> str:
    return f"{prefix}-task-{task_id}"


def marker(key: str) -> str:
    """The line that identifies a post of ours; keys are made of [a-z0-9-:], so no markup touches them."""
    return f"listener ref {key}"


def tag(value: str) -> str:
    """A helpdesk tag: lower case, no spaces (Zendesk splits tags at spaces)."""
    return _TAG.sub("_", value.lower()).strip("_")[:80]


def ticket_tags(categories: Sequence[str], extra: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(t for t in (tag(v) for v in ["listener", *extra, *categories]) if t))


def safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("https://", "http://")) else None


@dataclass(frozen=True)
class Line:
    label: str  # our words ("" for none)
    value: str  # untrusted unless `ours`
    url: str | None = None  # the value links here (http(s) only)
    ours: bool = False


def text_of(body: str | None, lines: Sequence[Line], key: str) -> Text:
    """`body` (untrusted, may be empty) as a paragraph, then one line per `lines`, then the marker."""
    body = (body or "").strip()
    if len(body) > MAX_TEXT:
        body = body[:MAX_TEXT - 1] + "…"
    plain = [body, ""] if body else []
    rich_html = [f"<p>{html.escape(body).replace(chr(10), '<br>')}</p>"] if body else []
    rich_md = [md(body), ""] if body else []
    for line in lines:
        url = safe_url(line.url)
        head = f"{line.label}: " if line.label else ""
        plain.append(f"{head}{line.value}" + (f" <{url}>" if url and url != line.value else ""))
        value_html = line.value if line.ours else html.escape(line.value)
        if url:
            value_html = f'<a href="{html.escape(url, quote=True)}">{value_html}</a>'
        rich_html.append(f"<p>{html.escape(head)}{value_html}</p>")
        value_md = line.value if line.ours else md(line.value)
        rich_md.append(f"{head}{md_link(line.value, url) if url else value_md}")
    plain += ["", f"— {marker(key)}"]
    rich_html.append(f"<p>— {html.escape(marker(key))}</p>")
    rich_md += ["", f"— {marker(key)}"]
    return Text(plain="\n".join(plain), html="\n".join(rich_html), markdown="\n".join(rich_md))


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "time unknown"


def subject(message: AlertMessage) -> str:
    brands = ", ".join(message.brands) or "mention"
    return " ".join(f"[{message.priority}] {brands} on {message.source}: "
                    f"{excerpt(message.title or message.text, 90)}".split())


def _origin(requester: Requester, message: AlertMessage) -> Line:
    who = requester.handle or requester.name
    return Line("Posted by", f"{who} on {requester.platform} ({message.source}), {_when(message.published_at)}",
                url=requester.profile_url)


def opening(key: str, message: AlertMessage, requester: Requester, priority: str, tags: list[str]) -> Opening:
    """The ticket as the customer's words: text, link, who and where (listener's reasons follow as a note)."""
    text = "\n\n".join(t for t in (message.title, message.text) if t and t.strip())
    lines = [Line("Link", message.url or "none", url=message.url), _origin(requester, message)]
    return Opening(external_id=key, subject=subject(message), priority=priority, tags=tags, requester=requester,
                   text=text_of(text, lines, key))


def context(key: str, message: AlertMessage) -> Post:
    """Why listener handed this over: an internal note right after the ticket opens."""
    score = f"{message.sentiment} ({message.confidence:.0%})"
    lines = [Line("Flagged by listener", "; ".join(message.reasons) or "a rule"),
             Line("Priority", f"{message.priority}" + (f", first response due {_when(message.due_at)}"
                                                       if message.due_at else "")),
             Line("Sentiment", score + (f"; categories: {', '.join(message.categories)}" if message.categories
                                        else "")),
             Line("Brands", ", ".join(message.brands) or "none")]
    if message.task_url:
        lines.append(Line("Task in listener", message.task_url, url=message.task_url, ours=True))
    return Post(key=f"{key}:context", text=text_of(None, lines, f"{key}:context"))


def escalation(key: str, message: AlertMessage) -> Post:
    lines = [Line("listener escalation", message.escalation or "not acknowledged", ours=True)]
    if message.task_url:
        lines.append(Line("Task in listener", message.task_url, url=message.task_url, ours=True))
    return Post(key=key, text=text_of(None, lines, key))


def followup(key: str, text: str, title: str | None, url: str | None, requester: Requester, source: str,
             published_at: datetime | None) -> Post:
    """The customer wrote again (a mention joined to the task): their words, as the customer where possible."""
    body = "\n\n".join(t for t in (title, text) if t and t.strip())
    who = requester.handle or requester.name
    lines = [Line("Link", url or "none", url=url),
             Line("Posted by", f"{who} on {requester.platform} ({source}), {_when(published_at)}",
                  url=requester.profile_url)]
    return Post(key=key, text=text_of(body, lines, key), from_customer=True)
