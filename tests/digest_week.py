"""Six seeded weeks of a bank and two competitors (Europe/Berlin, 2026-W43 … W48), as a marketing manager would
read them: W47 is a normal week with seven planted themes among everyday chatter; W48 has an outage on Thursday
26 November (169 mentions of Acme, 135 negative, against 26 on a usual day), a spike alert fired by the real spike
check during it, a news story syndicated to a bigger site, and a competitor's cashback campaign (+57 %).

Everyday posts are written from templates full of the words that are no theme ("Antwort", "heute", "beim",
"Laden", "Männer", "tollen", "etc", "weather"), picked at random per post, so their counts drift from week to week
as real chatter does. Every post is a `Post`: the tests compute what the digest must say from this list (plain
Python over the posts), never from the digest's own code.
"""

from __future__ import annotations

import hashlib
import random
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from listener.store.engine import Store
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow
from tests import digest_seed

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2026, 10, 19)  # Monday of W43
NORMAL_WEEK, OUTAGE_WEEK = "2026-W47", "2026-W48"
W47, W48 = date(2026, 11, 16), date(2026, 11, 23)
OUTAGE_DAY = date(2026, 11, 26)  # Thursday of W48
CASHBACK_DAY = date(2026, 11, 25)  # Globex launches its cashback campaign on Wednesday
SPIKE_CHECK_AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Berlin: the window 09:00–10:00 local
SOURCES = {"forum": "discourse", "bluesky": "bluesky", "mastodon": "mastodon", "reddit": "reddit",
           "appstore": "appstore", "news": "feed", "news-syndication": "feed"}
EVERYDAY_SOURCES = ("forum", "bluesky", "mastodon", "forum", "bluesky", "appstore", "mastodon", "reddit")

# (negative, neutral, positive, not scored) per day
ACME_USUAL = {"weekday": (6, 11, 8, 1), "weekend": (4, 8, 5, 1)}  # 26 and 18 mentions
ACME_W48 = [(7, 12, 8, 1), (8, 12, 9, 1), (6, 12, 8, 1), (135, 20, 12, 2), (11, 16, 13, 1), (5, 8, 6, 1),
            (4, 8, 6, 1)]  # 28, 30, 27, 169, 41, 20, 19 = 334
GLOBEX_USUAL = (2, 5, 3, 0)
GLOBEX_W48 = [(2, 5, 3, 0), (2, 5, 3, 0), (3, 7, 20, 0), (3, 7, 15, 0), (2, 5, 8, 0), (2, 5, 3, 0), (2, 5, 3, 0)]
INITECH_USUAL = (1, 3, 1, 0)

USERS = ["anna_k", "jensb", "mira", "tom_h", "kaddi", "ole", "svenja", "ben", "lea", "pit"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Bremen", "Dresden"]
EVERYDAY = {
    "de": [
        "Antwort an @{user}: Acme hat heute schnell reagiert, Überweisung ist da, etc.",
        "War heute beim Laden von Acme in {city}, die Männer am Schalter waren freundlich.",
        "Acme Überweisung nach {city} kam erst nach {n} Tagen an.",
        "Einen tollen Berater bei Acme in {city} gehabt, wir kommen gerne wieder.",
        "Acme Kreditkarte im Urlaub in {city} ohne Probleme genutzt.",
        "Tagesgeld bei Acme: {n} Prozent Zinsen sind okay, mehr nicht.",
        "Die Acme App zeigt den Kontostand, reicht mir für {n} Konten.",
        "Hallo zusammen, wie lange dauert bei Acme eine Kartensperre? Frage für @{user}",
        "Acme Hotline heute nach {n} Minuten erreicht.",
        "Danke Acme, Depot eröffnet, lief alles glatt, {n} Minuten.",
    ],
    "en": [
        "Reply to @{user}: Acme support answered today, thanks.",
        "Paid with my Acme card at the market in {city}, all good.",
        "Acme transfer to {city} took {n} days again.",
        "Acme app works fine for me, balance at a glance, {n} accounts.",
        "Great advisor at the Acme branch in {city} today, will come back.",
        "Acme savings rate is ok I guess, {n} percent.",
        "How long does an Acme card replacement take? asking for @{user}",
        "Acme hotline picked up after {n} minutes.",
        "Opened an Acme brokerage account, smooth, {n} minutes.",
        "Acme branch staff in {city} were friendly, etc.",
    ],
}
# W47's planted themes: (language, theme as the digest must show it, how many posts, texts; {n} keeps them apart)
PLANTED = [
    ("de", "Kontoführungsgebühren", 14, ["Die Kontoführungsgebühren bei Acme steigen auf {n} Euro im Monat.",
                                         "Acme erhöht schon wieder die Kontoführungsgebühren, jetzt {n} Euro."]),
    ("de", "Filiale geschlossen", 10, ["Acme hat unsere Filiale geschlossen, {n} km bis zur nächsten.",
                                       "Schon wieder eine Filiale geschlossen, Acme spart, {n} Stellen weg."]),
    ("de", "Apple Pay", 9, ["Acme kann jetzt Apple Pay, nach {n} Jahren warten.",
                            "Apple Pay mit der Acme Karte klappt, {n} Einkäufe bisher."]),
    ("de", "Sparzinsen", 8, ["Acme senkt die Sparzinsen auf {n} Prozent.",
                             "Sparzinsen bei Acme jetzt nur noch {n} Prozent, ärgerlich."]),
    ("en", "card declined", 8, ["Acme card declined at the till for no reason, {n} euros.",
                                "My Acme card declined twice today, {n} euros."]),
    ("en", "overdraft fee", 7, ["Acme charged me an overdraft fee of {n} euros.",
                                "Another overdraft fee from Acme, {n} euros this time."]),
    ("en", "joint account", 6, ["Opening a joint account with Acme took {n} weeks.",
                                "Acme joint account setup finally done after {n} days."]),
]
NO_THEMES = ["Antwort", "tollen", "etc", "Laden", "Männer", "beim", "kommen", "heute", "Reply", "today",
             "thanks", "great", "Hallo", "Danke"]
OUTAGE_TEXTS = {
    "de": ["Acme Onlinebanking Störung seit heute früh, Login geht nicht, Versuch {n}.",
           "Störung bei Acme: kein Login, die Überweisung hängt seit {n} Minuten.",
           "Ist Acme down? Störung beim Login, App zeigt Fehler {n}.",
           "Acme Störung, Login unmöglich, Hotline dauerbesetzt, {n}. Anruf.",
           "Seit Stunde {n} Störung im Acme Onlinebanking, Login kaputt."],
    "en": ["Acme outage, cannot log in, attempt {n}.", "Acme app outage: login fails every time ({n} tries).",
           "Is the Acme outage fixed? Login still broken after {n} tries.",
           "Acme login outage, {n} transfers stuck."],
}
HOSTILE = 'Acme Störung <script>alert("x")</script><img src=x onerror=alert(1)> Login & "Co" </table></td>'
SPAM = "Gewinnspiel bei Acme: jetzt teilnehmen und ein Tablet gewinnen!"  # five identical copies in W47
BOILERPLATE = {"de": "Antwort an @{user}: ", "en": "Reply to @{user}: "}  # the forum quotes so from W47 on
WEATHER = "Rainy weather in {city}, paying bills with the Acme app instead ({n})."
CASHBACK = ["Globex Cashback-Aktion: {n} Prozent zurück auf Kartenzahlungen.",
            "Globex cashback offer, {n} percent back on card payments, nice."]
NEWS = ("Störung bei Acme Bank: Kunden können sich nicht einloggen",
        "Seit dem Morgen können sich Kunden der Acme Bank nicht im Onlinebanking anmelden, meldet die Bank.")


@dataclass
class Post:
    key: str
    brand: str
    when: datetime  # UTC
    source: str
    lang: str | None  # None: not scored
    sentiment: str | None
    text: str
    title: str | None = None
    categories: tuple[str, ...] = ()
    rating: float | None = None
    reach: dict[str, int] = field(default_factory=dict)
    copy_of: str | None = None
    url: str | None = None

    @property
    def local_day(self) -> date:
        return self.when.astimezone(BERLIN).date()


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC) + timedelta(minutes=minutes)


def _reach(source: str, k: int, big: bool = False) -> dict[str, int]:
    """What each platform gives: reads (forum), likes/reposts/replies/quotes (Bluesky), followers and the rest
    (Mastodon), score, comments and the subreddit's subscribers (Reddit), votes (App Store)."""
    if source == "forum":
        return {"reads": 40 + 7 * (k % 9), "likes": k % 4, "replies": k % 3}
    if source == "bluesky":
        return {"likes": k % 6 + (40 if big else 0), "reposts": k % 3 + (12 if big else 0), "replies": k % 2,
                "quotes": 1 if big else 0}
    if source == "mastodon":
        return {"followers": 150 + 13 * (k % 11), "likes": k % 5, "reposts": k % 2, "replies": k % 3}
    if source == "reddit":
        return {"score": 5 + k % 20, "replies": k % 7, "followers": 2_400_000 if big else 85_000}
    if source == "appstore":
        return {"votes": k % 4}
    return {}


class _Writer:
    """Posts of one brand, day by day, with their texts, sources, times and reach."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.posts: list[Post] = []
        self.n = 0
        self.unique = 1  # {n} of the texts whose counts the tests check: never two alike

    def fill(self, text: str, unique: bool = False) -> str:
        if unique:
            self.unique += 1
        n = self.unique if unique else self.rng.randint(2, 99)
        return text.format(user=self.rng.choice(USERS), city=self.rng.choice(CITIES), n=n)

    def day(self, brand: str, day: date, mix: tuple[int, int, int, int], texts: list[tuple[str, str]] = (),
            texts_for: str | None = None, start_minutes: int = 7 * 60, spread: int = 15 * 60, tag: str = "") -> None:
        """`mix` posts (negative, neutral, positive, not scored) in random order over the day from 07:00; the
        (language, text) pairs of `texts` go to scored posts (of sentiment `texts_for`, if given), everyday
        chatter to the rest."""
        sentiments = ["negative"] * mix[0] + ["neutral"] * mix[1] + ["positive"] * mix[2] + [None] * mix[3]
        self.rng.shuffle(sentiments)
        pending = list(texts)
        total = len(sentiments)
        for k, sentiment in enumerate(sentiments):
            self.n += 1
            given = None
            if pending and sentiment is not None and texts_for in (None, sentiment):
                given = pending.pop(0)
            lang = given[0] if given else ("de" if k % 5 < 3 else "en")
            text = given[1] if given else self.fill(self.rng.choice(EVERYDAY[lang])).replace("Acme", brand)
            source = EVERYDAY_SOURCES[(self.n + k) % len(EVERYDAY_SOURCES)]
            if not given and source == "forum" and day >= W47:
                text = self.fill(BOILERPLATE[lang]) + text
            categories: tuple[str, ...] = ()
            if sentiment == "negative":
                categories = (("support", "billing", "delivery")[self.n % 3],)
            self.posts.append(Post(
                key=f"{brand.lower()}-{day.isoformat()}-{tag}{k}", brand=brand,
                when=_at(day, start_minutes + (k * spread) // total + self.n % 7), source=source,
                lang=None if sentiment is None else lang, sentiment=sentiment, text=text, categories=categories,
                rating=(1.0 if sentiment == "negative" else 3.0 if sentiment == "neutral" else 5.0)
                if source == "appstore" else None,
                reach=_reach(source, self.n), url=f"https://{source}.example/{brand.lower()}/{self.n}"))
        assert not pending, f"{brand} {day}: more texts than scored posts"


def _planted(rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Planted W47 texts per language, shuffled so each theme falls on several days."""
    by_lang: dict[str, list[tuple[str, str]]] = {"de": [], "en": []}
    for lang, _, count, texts in PLANTED:
        by_lang[lang] += [(lang, texts[i % len(texts)]) for i in range(count)]
    for texts in by_lang.values():
        rng.shuffle(texts)
    return by_lang


# Weather talk: one English post each Wednesday before W47, ten in W48 (Tue 3, Wed 3, Fri 2, Sat 2)
WEATHER_POSTS = {**{date(2026, 10, 21) + timedelta(weeks=w): 1 for w in range(4)},
                 date(2026, 11, 24): 3, date(2026, 11, 25): 3, date(2026, 11, 27): 2, date(2026, 11, 28): 2}


def posts() -> list[Post]:
    """Every post of the six weeks, the same on every call."""
    rng = random.Random(20261126)
    writer = _Writer(rng)
    planted = _planted(random.Random(7))
    for offset in range(42):
        day = FIRST_DAY + timedelta(days=offset)
        weekend = day.weekday() >= 5
        week = week_of(day)
        mix = ACME_W48[day.weekday()] if week == W48 else ACME_USUAL["weekend" if weekend else "weekday"]
        texts: list[tuple[str, str]] = []
        if week == W47:  # the planted themes take some of the week's scored posts
            take = {"de": 3 if weekend else 7, "en": 2 if weekend else 4}
            chosen = [planted[lang].pop() for lang in ("de", "en") for _ in range(take[lang]) if planted[lang]]
            texts = [(lang, writer.fill(text, unique=True)) for lang, text in chosen]
            if day.weekday() == 4:
                texts += [("de", SPAM)] * 5
        texts += [("en", writer.fill(WEATHER)) for _ in range(WEATHER_POSTS.get(day, 0))]
        if day == OUTAGE_DAY:
            # the outage: 135 negative posts from 07:00 to 11:30, two minutes apart, then the rest of the day
            outage = [(lang, writer.fill(OUTAGE_TEXTS[lang][i % len(OUTAGE_TEXTS[lang])], unique=True))
                      for i, lang in enumerate(("de", "de", "de", "en", "en") * 27)]
            writer.day("Acme", day, (135, 0, 0, 0), outage, start_minutes=7 * 60, spread=270)
            for post in writer.posts[-135:]:
                post.categories = ("digital",)
            writer.day("Acme", day, (0, *mix[1:]), texts, start_minutes=12 * 60, spread=10 * 60, tag="later-")
        else:
            writer.day("Acme", day, mix, texts)
        globex = GLOBEX_W48[day.weekday()] if week == W48 else GLOBEX_USUAL
        campaign = [(("de", "en")[i % 2], writer.fill(CASHBACK[i % 2], unique=True))
                    for i in range(max(0, globex[2] - 3))]
        writer.day("Globex", day, globex, campaign, texts_for="positive")
        writer.day("Initech", day, INITECH_USUAL)
    out = writer.posts
    _outage_specials(out)
    assert len({p.key for p in out}) == len(out)
    return out


def _outage_specials(out: list[Post]) -> None:
    """On the outage day: the thread on a big subreddit (most of the week's potential reach), a viral Bluesky
    post, and a news story first stored on a small site, copied by a big one (the copy is the most-reached)."""
    outage = [p for p in out if p.brand == "Acme" and p.local_day == OUTAGE_DAY and p.sentiment == "negative"]
    thread, viral = outage[40], outage[41]
    thread.source, thread.reach = "reddit", _reach("reddit", 1, big=True)
    thread.url = "https://reddit.example/r/finanzen/acme-stoerung"
    viral.source, viral.reach = "bluesky", _reach("bluesky", 5, big=True)
    viral.url = "https://bluesky.example/acme/viral"
    hostile = outage[44]  # mention text is untrusted: a big account posts markup
    hostile.text, hostile.source, hostile.reach = HOSTILE, "mastodon", {"followers": 50_000, "likes": 3}
    story = Post("acme-news", "Acme", _at(OUTAGE_DAY, 9 * 60 + 30), "news", "de", "negative", NEWS[1], title=NEWS[0],
                 categories=("digital",), reach={"reads": 1_200}, url="https://news.example/acme-stoerung")
    copy = Post("acme-news-copy", "Acme", _at(OUTAGE_DAY, 10 * 60 + 5), "news-syndication", "de", "negative",
                NEWS[1], title=NEWS[0], categories=("digital",), reach={"reads": 120_000}, copy_of="acme-news",
                url="https://syndication.example/acme-stoerung")
    # they replace two of the day's outage posts, so the day's figures stay 169 / 135
    out.remove(outage[42])
    out.remove(outage[43])
    out += [story, copy]


def seed(store: Store) -> dict[str, int]:
    """Writes the posts in one transaction (first stored copies, then the copies that point at them); returns
    mention ids by post key."""
    every = posts()
    with store.write() as session:
        sources = {}
        for name, kind in SOURCES.items():
            sources[name] = SourceRow(name=name, kind=kind, cursor={})
        session.add_all(sources.values())
        session.flush()
        rows: dict[str, MentionRow] = {}
        for first in (True, False):
            for post in sorted((p for p in every if (p.copy_of is None) == first), key=lambda p: (p.when, p.key)):
                mention = MentionRow(
                    source_id=sources[post.source].id, source_kind=SOURCES[post.source], external_id=post.key,
                    url=post.url, author=f"@{post.key.split('-')[-1]}{post.brand[0]}", title=post.title,
                    text=post.text, published_at=post.when, fetched_at=post.when + timedelta(minutes=1),
                    rating=post.rating, reach=post.reach, content_hash=hashlib.sha256(post.key.encode()).hexdigest(),
                    canonical_id=rows[post.copy_of].id if post.copy_of else None)
                mention.brands = [MentionBrand(brand=post.brand)]
                if post.lang is not None and post.sentiment is not None:
                    negative = post.sentiment == "negative"
                    mention.score = ScoreRow(model_version="seed", language=post.lang, sentiment=post.sentiment,
                                             p_negative=0.9 if negative else 0.05, p_neutral=0.05,
                                             p_positive=0.05 if negative else 0.9, categories=list(post.categories),
                                             negative_service=bool(post.categories), urgency="none", reasons=[],
                                             scored_at=post.when)
                rows[post.key] = mention
            session.add_all(rows.values())
            session.flush()
        return {key: row.id for key, row in rows.items()}


def config_text(db_url: str, smtp_port: int = 25, extra: str = "") -> str:
    """The seeded digest's config (tests/digest_seed.py) in German, with a spike watch on Acme."""
    return digest_seed.config_text(db_url, smtp_port, extra, lang="de") + textwrap.dedent("""
        [[spike]]
        name = "outages"
        brands = ["Acme"]
        """)


def write_config(tmp: Path, db_url: str, smtp_port: int = 25, extra: str = "") -> Path:
    path = tmp / "listener.toml"
    path.write_text(config_text(db_url, smtp_port, extra))
    return path


def stored_week(tmp: Path, db_url: str, smtp_port: int = 25, extra: str = "") -> tuple[Path, dict[str, int]]:
    """The six weeks stored, and the spike check run at 10:00 on the outage day as the daemon would: returns
    the config and the mention ids by post key."""
    from listener.app import App
    from listener.clock import FakeClock
    from listener.config import load_settings
    from listener.store.engine import upgrade

    store = Store(db_url)
    upgrade(store)
    ids = seed(store)
    store.dispose()
    config = write_config(tmp, db_url, smtp_port, extra)
    app = App(load_settings(config), clock=FakeClock(SPIKE_CHECK_AT))
    try:
        fired = app.check_spikes().fired
    finally:
        app.close()
    assert sorted(c.verdict.kind for c in fired) == ["negative", "volume"]
    return config, ids
