"""A spike alert in every markup (plain text, escaped HTML, escaped Markdown) and as data for webhooks."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.delivery.channels.base import Notice
from listener.delivery.channels.chat import md, md_link
from listener.delivery.channels.render import excerpt
from listener.store.models import MentionRow, SpikeRow


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("listener.delivery.channels", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(excerpt=excerpt, md=md, md_link=md_link)
    env.tests["web"] = lambda url: bool(url) and url.startswith(("https://", "http://"))
    return env


def span(spike: SpikeRow) -> str:
    minutes = round((spike.window_end - spike.window_start).total_seconds() / 60)
    return "hour" if minutes == 60 else (f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min")


def headline(spike: SpikeRow) -> str:
    """One line, plain text (brand names come from the config, not from posts)."""
    until = f"{spike.window_end:%H:%M} UTC"
    if spike.kind == "negative":
        return (f"{spike.brand}: {spike.observed} of {spike.mentions} mentions negative ({spike.share or 0:.0%}, "
                f"usually {spike.baseline_share or 0:.0%}) in the {span(spike)} to {until}")
    return (f"{spike.brand}: {spike.observed} mentions in the {span(spike)} to {until}, "
            f"{spike.expected:.0f} expected ({spike.ratio:.1f}×)")


def top_posts(session: Session, spike: SpikeRow) -> list[MentionRow]:
    ids = [int(i) for i in spike.top_mention_ids]
    found = {m.id: m for m in session.scalars(select(MentionRow).where(MentionRow.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def spike_notice(session: Session, spike: SpikeRow, idempotency_key: str) -> Notice:
    posts = top_posts(session, spike)
    context = {"s": spike, "headline": headline(spike), "posts": posts}
    env = environment()
    return Notice(
        idempotency_key=idempotency_key,
        subject=f"Spike: {headline(spike)}",
        text=env.get_template("spike.txt").render(context),
        markdown=env.get_template("spike.md").render(context).strip(),
        html=env.get_template("spike.html").render(context),
        data={
            "kind": "spike", "spike_id": spike.id, "brand": spike.brand, "spike_kind": spike.kind,
            "window_start": spike.window_start.isoformat(), "window_end": spike.window_end.isoformat(),
            "observed": spike.observed, "expected": round(spike.expected, 2), "ratio": round(spike.ratio, 2),
            "p_value": spike.p_value, "mentions": spike.mentions, "share": spike.share,
            "baseline_share": spike.baseline_share, "themes": list(spike.themes),
            "top_posts": [{"id": m.id, "url": m.url, "source": m.source.name, "title": m.title} for m in posts],
        },
    )
