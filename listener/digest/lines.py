"""The digest's sentences that both parts say word for word — a post's byline, a day that stood out, a spike
alert, a theme, a mover — made once here, so the HTML (escaped by Jinja2) and the text part cannot drift apart."""

from __future__ import annotations

from typing import Any

from listener.digest import i18n
from listener.digest.figures import ENGAGEMENT_KEYS


def post_meta(post: dict[str, Any], lang: str, zone: str) -> str:
    """source · author · local time · reach · the interactions it had · stars."""
    t = lambda name, **kw: i18n.label(lang, name, **kw)  # noqa: E731
    parts = [post["source"]]
    if post.get("author"):
        parts.append(post["author"])
    parts.append(i18n.when(post.get("published_at"), lang, zone))
    parts.append(f"{t('reach_short')} {i18n.big(post['reach'], lang)}")
    for kind in ENGAGEMENT_KEYS:
        n = post["engagement"].get(kind, 0)
        if n:
            parts.append(t(f"{kind}_1") if n == 1 else t(f"{kind}_n", n=i18n.big(n, lang)))
    if post.get("rating") is not None:
        parts.append(f"{i18n.number(post['rating'], lang, 1)} ★")
    return " · ".join(parts)


def event_line(event: dict[str, Any], lang: str) -> str:
    """"Do. 26.11.: 169 Erwähnungen (135 negativ), sonst 26 am Tag (6,5× so viele)"."""
    text = i18n.label(lang, "day_line", day=i18n.day(event["date"], lang), n=i18n.number(event["mentions"], lang),
                      neg=i18n.number(event["negative"], lang))
    if event["usual_mentions"] is not None:
        text += ", " + i18n.label(lang, "usual_line", usual=i18n.number(event["usual_mentions"], lang),
                                  ratio=i18n.times(event["ratio"], lang))
    return text


def spike_line(spike: dict[str, Any], lang: str, zone: str) -> str:
    values = {"start": i18n.clock(spike["window_start"], lang, zone),
              "end": i18n.clock(spike["window_end"], lang, zone),
              "observed": i18n.number(spike["observed"], lang), "mentions": i18n.number(spike["mentions"], lang),
              "expected": i18n.number(spike["expected"], lang, 1 if spike["expected"] % 1 else 0),
              "ratio": i18n.times(spike["ratio"], lang), "share": i18n.percent(spike["share"], lang),
              "baseline": i18n.percent(spike["baseline_share"], lang)}
    text = i18n.label(lang, "spike_negative" if spike["kind"] == "negative" else "spike_volume", **values)
    if spike["themes"]:
        text += "; " + i18n.label(lang, "spike_themes", themes=", ".join(spike["themes"]))
    return text


def theme_figures(theme: dict[str, Any], lang: str) -> str:
    return i18n.label(lang, "theme_line", n=i18n.number(theme["mentions"], lang),
                      neg=i18n.percent(theme["negative_share"], lang), share=i18n.percent(theme["share"], lang),
                      before=i18n.percent(theme["previous_share"], lang))


def themes_in_brief(themes: list[dict[str, Any]], lang: str) -> str:
    """"Störung (120, 90 % negativ), Login (80, 85 % negativ)"."""
    negative = i18n.label(lang, "negative")
    return ", ".join(f"{t['term']} ({i18n.number(t['mentions'], lang)}, {i18n.percent(t['negative_share'], lang)} "
                     f"{negative})" for t in themes)


def mover_lines(movers: dict[str, list[dict[str, Any]]], lang: str, before: str) -> list[tuple[str, str]]:
    """(sentence, tone) per mover: sources say nothing good or bad by growing, more complaints are bad."""
    out = []
    for s in movers["sources"]:
        out.append((i18n.label(lang, "mover_source", source=s["source"], value=i18n.number(s["mentions"], lang),
                               before=before, previous=i18n.number(s["previous"], lang),
                               change=i18n.count_change(s, lang)), "flat"))
    for c in movers["categories"]:
        out.append((i18n.label(lang, "mover_category", area=c["name"], value=i18n.number(c["mentions"], lang),
                               before=before, previous=i18n.number(c["previous"], lang),
                               change=i18n.signed(c["change"], lang)), i18n.tone(c, "up_bad")))
    for t in movers["themes"]:
        out.append((i18n.label(lang, "mover_theme", term=t["term"], share=i18n.percent(t["share"], lang),
                               before=i18n.percent(t["previous_share"], lang)), "flat"))
    return out
