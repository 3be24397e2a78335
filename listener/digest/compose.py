"""A digest from the store: the figures (report.py), then, when asked for, the charts and the two texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from listener.config import Settings
from listener.digest import render, report
from listener.digest.period import Period
from listener.digest.satisfaction import add_care_figures
from listener.store.engine import Store


@dataclass
class Digest:
    report: dict[str, Any]
    lang: str
    charts: dict[str, render.Chart] = field(default_factory=dict)

    def draw(self) -> None:
        self.charts = render.charts(self.report, self.lang)

    @property
    def empty(self) -> bool:
        return bool(self.report["empty"])

    @property
    def subject(self) -> str:
        return render.subject(self.report, self.lang)

    def text(self) -> str:
        return render.text(self.report, self.lang)

    def html(self, inline_images: bool = False) -> str:
        """`cid:` images for e-mail; `inline_images` embeds them as data: URIs for a file opened in a browser."""
        return render.html(self.report, self.lang, self.charts, inline=inline_images)


def make_digest(store: Store, settings: Settings, period: Period, lang: str | None = None,
                brand: str | None = None, draw: bool = True) -> Digest:
    lang = lang or settings.digest.lang
    with store.read() as session:
        figures = report.build(session, settings.brand, period, lang, settings.digest.brands, brand,
                               options=settings.digest)
        add_care_figures(session, settings, figures, period)  # CSAT, NPS, recovery (listener/surveys)
    digest = Digest(figures, lang)
    if draw:
        digest.draw()
    return digest
