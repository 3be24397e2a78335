"""Every figure of `listener digest --json` on two seeded weeks, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.store.engine import Store, upgrade
from tests.digest_seed import HOSTILE, by_key, seed, write_config


def digest_json(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["-c", str(config), "digest", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def seeded(tmp_path: Path, database_url: str) -> tuple[Path, dict[str, int]]:
    store = Store(database_url)
    upgrade(store)
    ids = seed(store)
    store.dispose()
    return write_config(tmp_path, database_url), ids


def test_every_figure_of_two_seeded_weeks(seeded: tuple[Path, dict[str, int]]) -> None:
    config, ids = seeded
    report = digest_json(config, "--week", "2026-W48")
    assert report["period"] == {"key": "2026-W48", "first_day": "2026-11-23", "last_day": "2026-11-29",
                                "start": "2026-11-22T23:00:00+00:00", "end": "2026-11-29T23:00:00+00:00",
                                "timezone": "Europe/Berlin"}
    assert report["previous_period"]["key"] == "2026-W47"
    assert report["competitors"] == ["Globex", "Initech"] and report["empty"] is False
    (acme,) = report["brands"]
    assert acme["brand"] == "Acme"

    # c1..c10 (c1 at 00:30 Monday in Berlin is in, "late" at 00:30 the Monday after is out); c9 is labelled
    # negative by the care team over the model's positive; c8 is unscored; c10 is a near-duplicate of c2.
    h = acme["headline"]
    assert h["mentions"] == {"value": 10, "previous": 4, "change": 6, "change_pct": 1.5}
    assert h["net_sentiment"] == {"value": round((2 - 5) / 9, 6), "previous": 0.0,
                                  "change": round((2 - 5) / 9, 6), "change_pct": None}
    assert h["negative_share"] == {"value": round(5 / 9, 6), "previous": 0.5,
                                   "change": round(round(5 / 9, 6) - 0.5, 6), "change_pct": None}
    assert h["negative_service"] == {"value": 4, "previous": 2, "change": 2, "change_pct": 1.0}
    # Potential reach is audience only: c2's 1,000 followers (scores, votes and likes are engagement), all of it
    # from one post. Engagement per kind: likes c2 3 + c10 7 (before p1 10), replies c1 5 + c7 30, votes and
    # scores c3 40 + c4 2 + c7 120.
    assert h["potential_reach"] == {"value": 1000, "previous": 0, "change": 1000, "change_pct": None}
    assert h["engagement"] == {"value": 207, "previous": 10, "change": 197, "change_pct": 19.7}
    potential = acme["reach"]["potential"]
    assert potential["top_share"] == 1.0 and [c["post"]["id"] for c in potential["top"]] == [ids["c2"]]
    assert {k: (v["value"], v["previous"]) for k, v in acme["reach"]["engagement"].items()} == {
        "likes": (10, 10), "reposts": (0, 0), "replies": (35, 0), "votes": (162, 0), "total": (207, 10)}
    assert acme["sentiment"] == {"negative": 5, "neutral": 2, "positive": 2, "unscored": 1}
    assert acme["verdict"] == ("Mentions of Acme up 150% to 10, sentiment worse (−33 pts); "
                               "more complaints about billing (+1).")

    daily = [(d["date"], d["mentions"], d["negative"], d["neutral"], d["positive"], d["unscored"])
             for d in acme["daily"]]
    assert daily == [("2026-11-23", 1, 1, 0, 0, 0), ("2026-11-24", 3, 2, 0, 1, 0), ("2026-11-25", 2, 1, 0, 1, 0),
                     ("2026-11-26", 1, 0, 1, 0, 0), ("2026-11-27", 1, 0, 1, 0, 0), ("2026-11-28", 1, 0, 0, 0, 1),
                     ("2026-11-29", 1, 1, 0, 0, 0)]

    sov = by_key(acme["share_of_voice"], "brand")
    assert [v["brand"] for v in acme["share_of_voice"]] == ["Acme", "Globex", "Initech"]
    assert {b: (v["mentions"], v["share"], v["previous_share"]) for b, v in sov.items()} == {
        "Acme": (10, round(10 / 13, 6), round(4 / 7, 6)), "Globex": (3, round(3 / 13, 6), round(2 / 7, 6)),
        "Initech": (0, 0.0, round(1 / 7, 6))}
    assert sum(v["share"] for v in sov.values()) == pytest.approx(1.0, abs=1e-6)
    assert sum(v["previous_share"] for v in sov.values()) == pytest.approx(1.0, abs=1e-6)

    assert [(w["week"], w["mentions"], w["negative"], w["neutral"], w["positive"]) for w in acme["trend"]] == [
        ("2026-W41", 0, 0, 0, 0), ("2026-W42", 0, 0, 0, 0), ("2026-W43", 0, 0, 0, 0), ("2026-W44", 0, 0, 0, 0),
        ("2026-W45", 0, 0, 0, 0), ("2026-W46", 1, 0, 0, 1), ("2026-W47", 4, 2, 0, 2), ("2026-W48", 10, 5, 2, 2)]
    assert acme["trend"][-1]["net_sentiment"] == round(-3 / 9, 6) and acme["trend"][0]["net_sentiment"] is None

    assert acme["sources"] == [
        {"source": "forum", "kind": "feed", "mentions": 5, "previous": 2, "negative_share": 0.8},
        {"source": "appstore", "kind": "appstore", "mentions": 3, "previous": 2, "negative_share": round(1 / 3, 6)},
        {"source": "hn", "kind": "hackernews", "mentions": 2, "previous": 0, "negative_share": 0.0},
    ]
    assert acme["languages"] == [
        {"language": "de", "name": "German", "mentions": 6, "previous": 4, "share": 0.6},
        {"language": "en", "name": "English", "mentions": 3, "previous": 0, "share": 0.3},
        {"language": "unknown", "name": "unknown", "mentions": 1, "previous": 0, "share": 0.1},
    ]
    assert {c["category"]: (c["mentions"], c["previous"], c["change"]) for c in acme["categories"]} == {
        "billing": (2, 1, 1), "support": (1, 1, 0), "delivery": (1, 0, 1), "digital": (1, 0, 1),
        "product": (0, 0, 0), "staff": (0, 0, 0)}

    # Notable: canonical mentions only (c10 copies c2), most reached first; hostile text is kept as data.
    notable = acme["notable"]
    assert [p["id"] for p in notable["negative"]] == [ids["c2"], ids["c1"], ids["c4"]]
    assert [p["id"] for p in notable["positive"]] == [ids["c3"], ids["c5"]]
    assert notable["negative"][0]["url"] == "https://forum.example/t/2" and notable["negative"][0]["reach"] == 1000
    assert notable["negative"][2]["title"] == HOSTILE and notable["negative"][2]["url"] is None  # javascript: dropped

    (reviews,) = acme["reviews"]
    assert reviews["source"] == "appstore" and reviews["reviews"] == 3 and reviews["previous_reviews"] == 2
    assert (reviews["value"], reviews["previous"], reviews["change"]) == (3.0, 3.5, -0.5)
    assert reviews["trend"] == [None] * 6 + [3.5, 3.0]

    care = acme["care"]
    assert care["tasks_created"] == {"value": 4, "previous": 3, "change": 1, "change_pct": round(1 / 3, 6)}
    # answered: c1 after 10 min, c2 after 40; before: p1 resolved after 20 min, p4 after 5, p2 after 46 h
    assert care["first_response_median_seconds"]["value"] == 1500.0
    assert care["first_response_median_seconds"]["previous"] == 1200.0
    assert care["first_response_p90_seconds"]["value"] == 2400.0
    assert care["first_response_p90_seconds"]["previous"] == 46 * 3600.0
    assert care["within_deadline_share"] == {"value": round(1 / 3, 6), "previous": round(1 / 3, 6), "change": 0.0,
                                             "change_pct": None}
    assert care["open_backlog"]["value"] == 1 and care["open_backlog"]["previous"] == 1  # c9's task; p2's
    assert care["dismissed"]["value"] == 1 and care["dismissed"]["previous"] == 0

    # Themes: "Warteschleife" is new this week in 4 of the 5 canonical scored German mentions (c1, c2, c4, c9);
    # brand names never are themes.
    (theme, *_) = acme["themes"]["de"]
    assert theme["term"] == "Warteschleife" and theme["mentions"] == 4
    assert theme["share"] == 0.8 and theme["previous_share"] == 0.0
    assert [e["id"] for e in theme["examples"]] == [ids["c2"], ids["c1"]]
    assert acme["themes"]["sample"]["de"] == {"mentions": 5, "every": 1, "repeats": 0, "baseline_mentions": 4,
                                              "baseline_every": 1}
    terms = {t["term"] for lang in ("de", "en") for t in acme["themes"][lang]}
    assert not {t.lower() for t in terms} & {"acme", "bank", "acme bank", "globex"}


def test_brand_language_and_range_options(seeded: tuple[Path, dict[str, int]]) -> None:
    config, _ = seeded
    german = digest_json(config, "--week", "2026-W48", "--lang", "de", "--brand", "Acme")
    assert german["lang"] == "de"
    assert german["brands"][0]["verdict"].startswith("10 Erwähnungen von Acme, 150 % mehr")
    # A custom range: the previous period is as long and ends where it starts.
    ranged = digest_json(config, "--since", "2026-11-23", "--until", "2026-11-25")
    assert ranged["period"]["key"] == "2026-11-23..2026-11-25"
    assert ranged["previous_period"]["first_day"] == "2026-11-20"
    assert ranged["brands"][0]["headline"]["mentions"] == {"value": 6, "previous": 1, "change": 5, "change_pct": 5.0}
    # … and is called so, also where the text names the biggest changes.
    for lang, said in (("en", "Biggest changes against the previous period"),
                       ("de", "Größte Veränderungen zur Vorperiode")):
        text = CliRunner().invoke(cli, ["-c", str(config), "digest", "--since", "2026-11-23", "--until", "2026-11-25",
                                        "--lang", lang], catch_exceptions=False).stdout
        assert said in text and "previous week" not in text and "Vorwoche" not in text, lang


@pytest.mark.parametrize(("args", "message"), [
    (["--week", "2026-48"], "--week: expected an ISO week like 2026-W48"),
    (["--week", "2026-W48", "--since", "2026-11-01"], "either --week or --since/--until"),
    (["--since", "2026-11-01"], "--since and --until go together"),
    (["--since", "2026-01-01", "--until", "2026-12-31"], "at most 62 days"),
    (["--brand", "Globex"], "--brand: no own (non-competitor) brand named 'Globex'"),
])
def test_bad_options_get_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'l.db'}")
    result = CliRunner().invoke(cli, ["-c", str(config), "digest", "--json", *args])
    assert result.exit_code != 0 and message in result.output
