"""The digest's words and numbers: differences of shown (rounded) figures, huge counts at one precision,
language names, colours by meaning, and the [digest] category_names key (a wrong one fails at start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from listener.config import ConfigError, load_settings
from listener.digest import i18n
from listener.web.i18n import Formatter
from tests.digest_seed import write_config


def figure(value: float | None, previous: float | None) -> dict[str, float | None]:
    change = None if value is None or previous is None else value - previous
    return {"value": value, "previous": previous, "change": change, "change_pct": None}


def test_point_changes_are_the_difference_of_the_shown_figures() -> None:
    # −49.6 and −17.4 are shown as −50 and −17: the change reads −33, not the exact −32.
    net = figure(-0.496, -0.174)
    assert (i18n.net(net["value"], "de"), i18n.net(net["previous"], "de")) == ("−50", "−17")
    assert i18n.points_between(net, "de") == "−33 Pkt."
    share = figure(0.295, 0.284)  # 30 % and 28 %: +2, although the exact change rounds to 1
    assert (i18n.percent(0.295, "en"), i18n.percent(0.284, "en")) == ("30%", "28%")
    assert i18n.points_between(share, "en") == "+2 pts"
    assert i18n.points_between(figure(0.5, 0.504), "de") == "±0 Pkt."
    assert i18n.points_between(figure(None, 0.2), "de") == "–"
    assert i18n.stars_change(figure(3.005, 2.994), "en") == "+0.01"  # 3.00 (half to even) − 2.99


def test_huge_counts_in_millions_change_by_the_shown_figures() -> None:
    reach = {"value": 5_042_927, "previous": 2_050_409, "change": 2_992_518, "change_pct": 1.459474}
    assert (i18n.big(reach["value"], "de"), i18n.big(reach["previous"], "de")) == ("5,0 Mio.", "2,1 Mio.")
    assert i18n.count_change(reach, "de", huge=True) == "+2,9 Mio. (+146 %)"
    assert i18n.count_change(reach, "en", huge=True) == "+2.9m (+146%)"
    assert i18n.big(999_999, "en") == "999,999"


def test_language_names_and_tones() -> None:
    assert i18n.language_name("ro", "de") == "Rumänisch" and i18n.language_name("ro", "en") == "Romanian"
    assert i18n.language_name("unknown", "de") == "unbekannt"
    more = {"change": 12}
    assert i18n.tone(more, "neutral") == "flat"  # more mentions in a crisis are not good news
    assert i18n.tone(more, "up_bad") == "bad" and i18n.tone(more, "up_good") == "good"
    assert i18n.tone({"change": 0.001}, "up_bad", shown=0) == "flat"  # shown as ±0


def test_category_names_are_checked_at_start(tmp_path: Path) -> None:
    good = write_config(tmp_path, "sqlite:///x.db", extra='category_names = { delivery = "Pünktlichkeit" }\n')
    assert load_settings(good).digest.category_names == {"delivery": "Pünktlichkeit"}
    bad = write_config(tmp_path, "sqlite:///x.db", extra='category_names = { punctuality = "Pünktlichkeit" }\n')
    with pytest.raises(ConfigError, match=r"digest\.category_names.*unknown service category 'punctuality'"):
        load_settings(bad)


def test_the_care_inbox_says_the_category_names_too() -> None:
    names = {"delivery": "Pünktlichkeit"}
    assert Formatter("de", "UTC", category_names=names).gettext("delivery") == "Pünktlichkeit"
    assert Formatter("en", "UTC", category_names=names).gettext("delivery") == "Pünktlichkeit"
    assert Formatter("de", "UTC", category_names=names).gettext("billing") == "Abrechnung"
    assert Formatter("de", "UTC").gettext("delivery") == "Lieferung"
