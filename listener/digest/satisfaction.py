"""The digest's care section gets satisfaction and recovery per brand: the tasks created in the reported period
against the period before, recovery as of each period's end (so a digest of a past week reads the same later)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from listener.config import Settings
from listener.digest.period import Period
from listener.digest.report import change
from listener.surveys.figures import Figures
from listener.surveys.report import digest_figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def add_care_figures(session: Session, settings: Settings, report: dict[str, Any], period: Period) -> None:
    """Adds survey_answers, response_rate, csat, ces, nps, recovered_share and negative_again_share (each value,
    previous, change) to every brand's `care` in the digest's figures."""
    brands = [section["brand"] for section in report["brands"]]
    if not brands:
        return
    previous = period.previous()
    now = digest_figures(session, settings, brands, period.start, period.end, period.end)
    before = digest_figures(session, settings, brands, previous.start, previous.end, previous.end)
    for section in report["brands"]:
        cur, prev = now.get(section["brand"], Figures()), before.get(section["brand"], Figures())
        section["care"].update({
            "survey_answers": change(cur.answers, prev.answers),
            **{key: change(_round(value(cur)), _round(value(prev)), relative=False) for key, value in (
                ("response_rate", lambda f: f.response_rate), ("csat", lambda f: f.csat),
                ("ces", lambda f: f.ces), ("nps", lambda f: f.nps),
                ("recovered_share", lambda f: f.share("recovered")),
                ("negative_again_share", lambda f: f.share("negative_again")))},
            "recovery_decided": change(cur.decided, prev.decided),
        })
