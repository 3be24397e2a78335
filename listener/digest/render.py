"""The digest as text: an HTML e-mail body (inline CSS, tables, charts by `cid:`) and a plain-text part with
the same numbers. Jinja2 autoescapes the HTML, so mention text cannot add markup; links are http(s) only."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from listener.digest import i18n, lines

CID_DOMAIN = "listener.digest"


@dataclass(frozen=True)
class Chart:
    cid: str  # Content-ID without <>: referenced as cid:… in the HTML
    png: bytes
    alt: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("listener.digest", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=i18n.number, percent=i18n.percent, points=i18n.points, net=i18n.net, signed=i18n.signed,
                       duration=i18n.duration, day=i18n.day, long_date=i18n.long_date, big=i18n.big,
                       count_change=i18n.count_change, points_between=i18n.points_between,
                       stars_change=i18n.stars_change, times=i18n.times, language_name=i18n.language_name,
                       shy=i18n.soft_hyphens)
    return env


def alt_text(kind: str, section: dict[str, Any], lang: str) -> str:
    """What the chart shows, in words and numbers: readable with images blocked and by screen readers."""
    t = lambda key: i18n.label(lang, key)  # noqa: E731
    if kind == "volume":
        days = "; ".join(f"{i18n.day(d['date'], lang)}: {d['mentions']} ({d['negative']} {t('negative')}, "
                         f"{d['positive']} {t('positive')})" for d in section["daily"])
        return f"{t('volume_chart')} — {days}"
    if kind == "sov":
        shares = "; ".join(f"{v['brand']}: {i18n.percent(v['share'], lang)}" for v in section["share_of_voice"])
        return f"{t('sov_chart')} — {shares}"
    weeks = "; ".join(f"{i18n.week_label(w['week'], w['first_day'], lang)}: {w['mentions']}, {t('negative')} "
                      f"{i18n.percent(w['negative_share'], lang)}" for w in section["trend"])
    return f"{t('trend_chart')} — {weeks}"


def charts(report: dict[str, Any], lang: str) -> dict[str, Chart]:
    """Every chart of the digest by `<kind>-<brand index>`."""
    from listener.digest.charts import CHARTS  # matplotlib loads only when a digest is drawn

    out = {}
    for index, section in enumerate(report["brands"]):
        if section["headline"]["mentions"]["value"] == 0 and not any(w["mentions"] for w in section["trend"]):
            continue  # nothing to draw
        for kind, draw in CHARTS.items():
            out[f"{kind}-{index}"] = Chart(f"{kind}-{index}@{CID_DOMAIN}", draw(section, lang),
                                           alt_text(kind, section, lang))
    return out


def week_title(report: dict[str, Any], lang: str) -> str:
    period = report["period"]
    if "W" in period["key"]:
        year, week = period["key"].split("-W")
        when = i18n.label(lang, "week", week=int(week), year=year)
    else:
        when = i18n.label(lang, "period", first=i18n.long_date(period["first_day"], lang),
                          last=i18n.long_date(period["last_day"], lang))
    return when


def column_title(report: dict[str, Any], lang: str) -> str:
    """The short name of the period over a column of figures: W48 / KW 48, else "This period"."""
    key = report["period"]["key"]
    return i18n.label(lang, "week_short", week=int(key.split("-W")[1])) if "-W" in key else i18n.label(lang, "now")


def previous_title(report: dict[str, Any], lang: str) -> str:
    """Over the column of the period before: "Previous week" / "Vorwoche" for a week, else "Previous period"."""
    return i18n.label(lang, "previous_week" if "-W" in report["period"]["key"] else "previous_period")


def command(report: dict[str, Any]) -> str:
    period = report["period"]
    if "-W" in period["key"]:
        return f"listener digest --week {period['key']} --json"
    return f"listener digest --since {period['first_day']} --until {period['last_day']} --json"


def subject(report: dict[str, Any], lang: str) -> str:
    brands = ", ".join(b["brand"] for b in report["brands"])
    return " ".join(f"{i18n.label(lang, 'title')} {brands}: {week_title(report, lang)}".split())


def _context(report: dict[str, Any], lang: str, images: dict[str, str]) -> dict[str, Any]:
    zone = report["period"]["timezone"]
    prev = i18n.label(lang, ("previous_week" if "-W" in report["period"]["key"] else "previous_period") + "_inline")
    return {"r": report, "lang": lang, "images": images, "title": week_title(report, lang),
            "t": lambda name, **kw: i18n.label(lang, name, **kw), "subject": subject(report, lang),
            "column": column_title(report, lang), "before": previous_title(report, lang),
            "prev": prev, "command": command(report),
            "when": lambda value: i18n.when(value, lang, zone), "clock": lambda value: i18n.clock(value, lang, zone),
            "week_label": lambda w: i18n.week_label(w["week"], w["first_day"], lang),
            "tone": i18n.tone, "shown_points": i18n.shown_points_change,
            "post_meta": lambda p: lines.post_meta(p, lang, zone), "event_line": lambda e: lines.event_line(e, lang),
            "spike_line": lambda s: lines.spike_line(s, lang, zone),
            "theme_figures": lambda th: lines.theme_figures(th, lang),
            "themes_in_brief": lambda ths: lines.themes_in_brief(ths, lang),
            "mover_lines": lambda m: lines.mover_lines(m, lang, prev)}


def html(report: dict[str, Any], lang: str, charts: dict[str, Chart], inline: bool = False) -> str:
    """The HTML body; images as `cid:` (e-mail) or, with `inline`, as data: URIs (a file to open in a browser)."""
    images = {key: (c.data_uri if inline else f"cid:{c.cid}") for key, c in charts.items()}
    alts = {key: c.alt for key, c in charts.items()}
    return environment().get_template("digest.html").render(**_context(report, lang, images), alts=alts)


def text(report: dict[str, Any], lang: str) -> str:
    return environment().get_template("digest.txt").render(**_context(report, lang, {}))
