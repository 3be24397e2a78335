"""The digest of a real-looking three-brand week with an outage (tests/digest_week.py), on SQLite and PostgreSQL:
what moved (the outage day, the spike alerts the real spike check fired, the biggest movers), reach and engagement
apart, notable posts by their most-reached copy, competitors with sentiment, themes and top posts, and the themes
of a normal week: the planted ones in the top ten, no everyday word among them. Expected figures are computed
here from the seeded posts, never by the digest's code."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from listener.cli import cli
from listener.store.engine import Store
from listener.store.models import SpikeRow
from listener.text import words
from tests.digest_week import (
    BERLIN,
    NO_THEMES,
    OUTAGE_DAY,
    PLANTED,
    SPAM,
    SPIKE_CHECK_AT,
    W47,
    W48,
    Post,
    posts,
    stored_week,
    week_of,
)

SENTIMENTS = ("negative", "neutral", "positive")


def digest_json(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["-c", str(config), "digest", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def week(tmp_path: Path, database_url: str) -> tuple[Path, dict[str, int]]:
    return stored_week(tmp_path, database_url)


@pytest.fixture
def sqlite_week(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """Themes are counted in Python on the sample the SQL of the test above reads on both databases."""
    return stored_week(tmp_path, f"sqlite:///{tmp_path / 'listener.db'}")


def of(brand: str, monday: date, every: Iterable[Post] | None = None) -> list[Post]:
    return [p for p in (every if every is not None else posts()) if p.brand == brand and week_of(p.local_day) == monday]


def audience(post: Post) -> int:
    return max(post.reach.get("followers", 0), post.reach.get("views", 0), post.reach.get("reads", 0))


def engagement(chosen: list[Post]) -> dict[str, int]:
    kinds = {"likes": ("likes",), "reposts": ("reposts", "quotes"), "replies": ("replies",),
             "votes": ("score", "votes")}
    out = {kind: sum(p.reach.get(k, 0) for p in chosen for k in keys) for kind, keys in kinds.items()}
    return out | {"total": sum(out.values())}


def shares(chosen: list[Post]) -> tuple[float, float]:
    """(net sentiment, negative share) of the scored posts, rounded as the JSON rounds."""
    counts = Counter(p.sentiment for p in chosen if p.sentiment)
    scored = sum(counts.values())
    return round((counts["positive"] - counts["negative"]) / scored, 6), round(counts["negative"] / scored, 6)


def test_what_moved_reach_and_competitors_in_the_outage_week(week: tuple[Path, dict[str, int]],
                                                              database_url: str) -> None:
    config, ids = week
    every = posts()
    now, before = of("Acme", W48, every), of("Acme", W47, every)
    report = digest_json(config, "--week", "2026-W48")
    (acme,) = report["brands"]
    h = acme["headline"]

    assert h["mentions"] == {"value": 334, "previous": 166, "change": 168, "change_pct": round(168 / 166, 6)}
    assert (h["net_sentiment"]["value"], h["negative_share"]["value"]) == shares(now)
    assert (h["net_sentiment"]["previous"], h["negative_share"]["previous"]) == shares(before)
    assert h["negative_service"]["value"] == sum(1 for p in now if p.categories) == 176
    days = [W48 + timedelta(days=i) for i in range(7)]
    assert [(d["date"], d["mentions"], d["negative"]) for d in acme["daily"]] == [
        (d.isoformat(), sum(1 for p in now if p.local_day == d),
         sum(1 for p in now if p.local_day == d and p.sentiment == "negative")) for d in days]

    # Potential reach is audience only, and one post (the thread on a big subreddit) is nearly half of it.
    thread = ids["acme-" + OUTAGE_DAY.isoformat() + "-40"]
    assert h["potential_reach"]["value"] == sum(audience(p) for p in now)
    assert h["potential_reach"]["previous"] == sum(audience(p) for p in before)
    potential = acme["reach"]["potential"]
    assert potential["top"][0]["post"]["id"] == thread and potential["top"][0]["audience"] == 2_400_000
    assert potential["top_share"] == round(2_400_000 / h["potential_reach"]["value"], 6)
    assert 0.4 < potential["top_share"] < 0.5
    assert {k: v["value"] for k, v in acme["reach"]["engagement"].items()} == engagement(now)
    assert {k: v["previous"] for k, v in acme["reach"]["engagement"].items()} == engagement(before)
    assert h["engagement"]["value"] == engagement(now)["total"]

    # What moved: the outage day, far above the usual day (the median of the 28 days before: 26 mentions, 6
    # negative), with the two spike alerts the check fired, its themes and the posts that show them.
    usual = [sum(1 for p in every if p.brand == "Acme" and p.local_day == W48 - timedelta(days=k))
             for k in range(1, 29)]
    assert statistics.median(usual) == 26
    (event,) = acme["moved"]["events"]
    assert {k: event[k] for k in ("date", "mentions", "negative", "usual_mentions", "usual_negatives", "ratio",
                                  "reasons")} == {
        "date": "2026-11-26", "mentions": 169, "negative": 135, "usual_mentions": 26.0, "usual_negatives": 6.0,
        "ratio": 6.5, "reasons": ["volume", "negative"]}
    store = Store(database_url)
    with store.read() as session:
        stored = {s.kind: s for s in session.scalars(select(SpikeRow))}
    store.dispose()
    in_window = [p for p in now if p.copy_of is None
                 and SPIKE_CHECK_AT - timedelta(hours=1) <= p.when < SPIKE_CHECK_AT]
    assert [(s["kind"], s["observed"], s["mentions"]) for s in event["spikes"]] == [
        ("volume", len(in_window), len(in_window)),
        ("negative", sum(1 for p in in_window if p.sentiment == "negative"), len(in_window))]
    for spike in event["spikes"]:
        row = stored[spike["kind"]]
        assert (spike["id"], spike["expected"], spike["ratio"]) == (row.id, round(row.expected, 2),
                                                                    round(row.ratio, 2))
        assert spike["window_start"] == "2026-11-26T08:00:00+00:00"  # 09:00 in Berlin
        assert "Störung" in spike["themes"] and "stoerung" not in spike["themes"]
    assert [t["term"] for t in event["themes"]][:2] == ["Störung", "Login"]
    assert "outage" in [t["term"] for t in event["themes"]]
    assert len({t["term"].casefold() for t in event["themes"]}) == len(event["themes"])  # "Login" once, not twice
    story_copy = ids["acme-news-copy"]
    assert [p["id"] for p in event["posts"]] == [thread, story_copy]  # the story by its most-reached copy
    assert all("Störung" in p["excerpt"] or "Störung" in (p["title"] or "") for p in event["posts"])
    movers = acme["moved"]["movers"]
    assert movers["categories"][0] | {"name": None} == {"category": "digital", "name": None, "mentions": 135,
                                                        "previous": 0, "change": 135}
    assert [t["term"] for t in movers["themes"]][:1] == ["Störung"]

    # Notable posts: the most-reached copy of each story, with its date.
    negative = acme["notable"]["negative"]
    assert [p["id"] for p in negative[:2]] == [thread, story_copy]
    assert negative[1]["source"] == "news-syndication" and negative[1]["published_at"] == "2026-11-26T09:05:00+00:00"
    assert negative[1]["audience"] == 120_000

    # Themes of the outage week: what it was about, first; weather talk rose too, but far less.
    de, en = ([t["term"] for t in acme["themes"][lang]] for lang in ("de", "en"))
    assert de[:2] == ["Störung", "Login"] and set(en[:2]) == {"outage", "login"}
    login = next(t for t in acme["themes"]["en"] if t["term"] == "login")  # "log in" is "login", not a "log"
    assert login["mentions"] == sum(1 for p in now if p.lang == "en" and re.search(r"login|log in", p.text, re.I))
    assert "log" not in en
    weather = [i for i, term in enumerate(en) if "weather" in term.lower()]
    assert all(i > en.index("outage") for i in weather)

    # Competitors: sentiment, share of voice, themes, days and top post, each with its change.
    globex, initech = report["competition"]
    g_now, g_before = of("Globex", W48, every), of("Globex", W47, every)
    assert globex["brand"] == "Globex"
    assert globex["mentions"] == {"value": 110, "previous": 70, "change": 40, "change_pct": round(40 / 70, 6)}
    assert (globex["net_sentiment"]["value"], globex["negative_share"]["value"]) == shares(g_now)
    assert (globex["net_sentiment"]["previous"], globex["negative_share"]["previous"]) == shares(g_before)
    assert globex["share_of_voice"]["value"] == round(110 / (334 + 110 + 35), 6)
    assert globex["share_of_voice"]["previous"] == round(70 / (166 + 70 + 35), 6)
    assert "Cashback-Aktion" in [t["term"] for t in globex["themes"]]
    assert [(e["date"], e["mentions"], e["usual_mentions"]) for e in globex["moved"]["events"]][0] == (
        "2026-11-25", 30, 10.0)
    assert globex["top_post"]["id"] in {ids[p.key] for p in g_now}
    assert initech["mentions"]["value"] == initech["mentions"]["previous"] == 35
    assert initech["themes"] == [] and initech["moved"]["events"] == []
    sov = {v["brand"]: (v["mentions"], v["previous_mentions"]) for v in acme["share_of_voice"]}
    assert sov == {"Acme": (334, 166), "Globex": (110, 70), "Initech": (35, 35)}


def in_term(term: str, word: str) -> bool:
    return "".join(words(word)) in {"".join(words(w)) for w in term.split()}


def test_themes_of_a_normal_week_are_the_planted_ones(sqlite_week: tuple[Path, dict[str, int]]) -> None:
    config, _ = sqlite_week
    report = digest_json(config, "--week", "2026-W47")
    (acme,) = report["brands"]
    now = of("Acme", W47)
    for lang, term, count, _ in PLANTED:
        top_ten = {t["term"]: t for t in acme["themes"][lang][:10]}
        assert term in top_ten, (term, list(top_ten))
        theme = top_ten[term]
        having = [p for p in now if term.lower() in p.text.lower() and p.lang == lang]
        assert theme["mentions"] == count == len(having)
        assert theme["negative_share"] == round(sum(p.sentiment == "negative" for p in having) / count, 6)
        assert theme["examples"], term
        for example in theme["examples"]:  # quoted where it shows the theme
            assert term.lower() in example["excerpt"].lower(), (term, example["excerpt"])
    every_term = [t["term"] for lang in ("de", "en") for t in acme["themes"][lang]]
    for word in NO_THEMES:
        assert not any(in_term(term, word) for term in every_term), (word, every_term)
    assert not any(in_term(term, "Gewinnspiel") for term in every_term)  # five copies of one text count once
    assert acme["themes"]["sample"]["de"]["repeats"] >= 4
    assert sum(1 for p in now if p.text == SPAM) == 5
    assert acme["moved"]["events"] == []  # a normal week: no day stood out, no spike
    assert acme["moved"]["movers"]["themes"][0]["term"] == "Kontoführungsgebühren"


def test_local_days_of_the_seed() -> None:
    """The seed's own arithmetic, which the tests above rely on: 26 mentions on a usual weekday, 169 on the
    outage day, and the outage posts published in Berlin's morning."""
    every = posts()
    thursday = [p for p in every if p.brand == "Acme" and p.local_day == OUTAGE_DAY]
    assert len(thursday) == 169 and sum(p.sentiment == "negative" for p in thursday) == 135
    morning = [p.when.astimezone(BERLIN).hour for p in thursday if p.sentiment == "negative"]
    assert min(morning) == 7 and max(morning) <= 11
