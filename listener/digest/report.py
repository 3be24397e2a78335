"""One digest as one JSON-able object: the figures of figures.py and themes.py, summed per section.

`build` runs a handful of queries (figures.py) and sums their small grouped results here; the same object is
printed by `--json`, rendered to HTML and text (render.py) and drawn (charts.py).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from listener.digest import days, figures, reach, spike_alerts, themes
from listener.digest.figures import ENGAGEMENT_KEYS
from listener.digest.i18n import label, language_name, verdict
from listener.digest.noise import never_themes
from listener.digest.period import Period
from listener.digest.settings import DigestSettings
from listener.domain import SENTIMENTS
from listener.matching import BrandSettings
from listener.nlp.categories import CATEGORIES
from listener.text import words

EXCERPT_CHARS = 280
EXAMPLE_CHARS = 200
DAY_THEMES = 3
EVENT_POSTS = 2
COMPETITOR_THEMES = 3
COMPETITOR_SAMPLE, COMPETITOR_BASELINE_SAMPLE = 1000, 2000


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


def change(value: float | None, previous: float | None, relative: bool = True) -> dict[str, Any]:
    """A figure with its previous-period value and the difference; `change_pct` (relative to the previous value)
    for counts, not for shares, whose change is in points (0.05 = 5 points)."""
    out: dict[str, Any] = {"value": value, "previous": previous, "change": None, "change_pct": None}
    if value is not None and previous is not None:
        out["change"] = round(value - previous, 6)
        out["change_pct"] = ratio(value - previous, previous) if relative else None
    return out


def _sentiment_figures(counts: dict[str | None, int]) -> dict[str, float | None]:
    scored = sum(counts.get(s, 0) for s in SENTIMENTS)
    return {"net_sentiment": ratio(counts.get("positive", 0) - counts.get("negative", 0), scored),
            "negative_share": ratio(counts.get("negative", 0), scored)}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (the value below which q of the values lie, an actual observed value)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def excerpt_around(title: str | None, text: str | None, found: str, limit: int = EXAMPLE_CHARS) -> str:
    """An excerpt that shows `found` (a theme as this post wrote it): the text's start when it is there, else a
    stretch around its first occurrence (in the text, else in the title before it)."""
    body = " ".join((text or "").split())
    at = body.casefold().find(found.casefold())
    if at < 0 and title:
        body = excerpt(title, 120) + " — " + body
        at = body.casefold().find(found.casefold())
    if at < 0 or at + len(found) <= limit - 1:
        return excerpt(body, limit)
    start = max(0, at - limit // 3)
    start = body.rfind(" ", 0, start) + 1  # at a word's start
    piece = body[start:start + limit - 2]
    return "…" + (piece if start + limit - 2 >= len(body) else piece[:piece.rfind(" ")].rstrip() + "…")


def _post(row: dict[str, Any]) -> dict[str, Any]:
    url = row["url"] if (row["url"] or "").startswith(("https://", "http://")) else None
    figures_of = reach.post_figures(row["figures"])
    return {"id": row["id"], "url": url, "title": excerpt(row["title"], 120) or None, "excerpt": excerpt(row["text"]),
            "source": row["source"], "author": row["author"], "published_at": row["published_at"],
            "reach": row["reach"], "audience": figures_of["audience"],
            "engagement": {kind: figures_of[kind] for kind in ENGAGEMENT_KEYS},
            "sentiment": row["sentiment"], "rating": row["rating"]}


def _example(row: dict[str, Any], post: dict[str, Any], form: str, title: bool = True) -> dict[str, Any]:
    """A post quoted for a theme: the excerpt shows the theme (from the title when only it has it, unless the
    title is shown anyway, as with the posts of a day)."""
    return {**post, "excerpt": excerpt_around(row["title"] if title else None, row["text"], form), "match": form}


class _Sums:
    """Sums of cube rows for one brand and one period."""

    def __init__(self) -> None:
        self.mentions = 0
        self.service = 0
        self.audience = 0
        self.engagement: dict[str, int] = dict.fromkeys(ENGAGEMENT_KEYS, 0)
        self.sentiment: dict[str | None, int] = defaultdict(int)
        self.days: dict[int, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
        self.sources: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # mentions, negative, scored
        self.languages: dict[str, int] = defaultdict(int)
        self.categories: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
        self.ratings: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])  # source → [sum, count]

    def add(self, row: figures.CubeRow, day: int) -> None:
        self.mentions += row.mentions
        self.service += row.service
        self.audience += row.audience
        for kind, n in row.engagement.items():
            self.engagement[kind] += n
        self.sentiment[row.sentiment] += row.mentions
        self.days[day][row.sentiment] += row.mentions
        self.sources[row.source_id][0] += row.mentions
        self.sources[row.source_id][1] += row.mentions if row.sentiment == "negative" else 0
        self.sources[row.source_id][2] += row.mentions if row.sentiment is not None else 0
        self.languages[row.language] += row.mentions
        for category, n in row.categories.items():
            self.categories[category] += n
        if row.rating_count:
            self.ratings[row.source_id][0] += row.rating_sum
            self.ratings[row.source_id][1] += row.rating_count


def _brand_sets(brands: Sequence[BrandSettings], chosen: Sequence[str], only: str | None,
                ) -> tuple[list[str], list[str]]:
    own = [b.name for b in brands if not b.competitor and (not chosen or b.name in chosen)]
    if only is not None:
        if only not in {b.name for b in brands if not b.competitor}:
            raise ValueError(f"--brand: no own (non-competitor) brand named {only!r}")
        own = [only]
    return own, [b.name for b in brands if b.competitor]


def build(session: Session, brands: Sequence[BrandSettings], period: Period, lang: str,
          chosen: Sequence[str] = (), only: str | None = None,
          options: DigestSettings | None = None) -> dict[str, Any]:
    options = options or DigestSettings()
    own, competitors = _brand_sets(brands, chosen, only)
    everyone = own + competitors
    previous = period.previous()
    n_days = len(period.days)
    sums: dict[tuple[str, int], _Sums] = defaultdict(_Sums)
    cube = figures.cube(session, everyone, period, previous)
    for row in cube:
        index = 1 if row.day >= n_days else 0
        sums[(row.brand, index)].add(row, row.day - n_days * index)
    weeks = period.trend_weeks()
    trend_rows = _trend_rows(session, everyone, weeks, cube, n_days)
    names = figures.source_names(session)
    notable = figures.notable(session, everyone, period)
    care = figures.care(session, own, period, previous)
    usual = days.usual(session, everyone, period)
    spikes = spike_alerts.spikes_of(session, everyone, period)
    standing = {name: _standouts(sums[(name, 1)], period, usual.get(name)) for name in everyone}
    event_days = {name: {s.index for s in standing[name]}
                  | {period.days.index(date.fromisoformat(s["date"])) for s in spikes if s["brand"] == name}
                  for name in everyone}
    found = _themes(session, brands, period, {name: sums[(name, 1)].mentions for name in everyone}, trend_rows,
                    competitors, event_days)
    moved = {name: _moved(sums[(name, 1)], period, usual.get(name), standing[name], found[name],
                          [s for s in spikes if s["brand"] == name]) for name in everyone}
    # Named posts are shown as they are; sampled ones (theme examples, the posts of a day) by their story's
    # most-reached copy, since the samples hold first stored copies only.
    named = {i for (brand, kind), ids in notable.items() for i in ids if brand in own or kind == "any"}
    sampled = {i for t in found.values() for themes_of in t["by_language"].values() for theme in themes_of
               for i, _ in theme.examples}
    sampled |= {i for events in moved.values() for e in events for i in e["post_ids"]}
    rows = figures.mentions_by_id(session, sorted(named | sampled))
    posts = {i: _post(row) for i, row in rows.items()}
    shown_rows = _most_reached_copies(session, {i: rows[i] for i in sampled if i in rows})
    shown = {i: _post(row) for i, row in shown_rows.items()}
    out_brands = []
    for name in own:
        cur, prev = sums[(name, 1)], sums[(name, 0)]
        voices = [(c, sums[(c, 1)], sums[(c, 0)]) for c in [name, *competitors]]
        section = _brand(name, cur, prev, period, names, voices, lang, options)
        section["trend"] = _trend(name, trend_rows, weeks)
        section["reviews"] = _reviews(name, cur, prev, trend_rows, names, len(weeks))
        section["themes"] = _themes_json(found[name], shown_rows, shown)
        section["moved"] = {"events": _events_json(moved[name], shown_rows, shown), "movers": _movers(section)}
        section["notable"] = {s: [posts[i] for i in notable.get((name, s), []) if i in posts]
                              for s in ("negative", "positive")}
        section["reach"] = _reach(cur, prev, notable.get((name, "audience"), []), posts)
        section["care"] = _care(care.get((name, 1)), care.get((name, 0)))
        section["verdict"] = verdict(section, lang)
        out_brands.append(section)
    return {"period": period.as_json(), "previous_period": previous.as_json(), "lang": lang,
            "competitors": competitors, "empty": all(b["headline"]["mentions"]["value"] == 0 for b in out_brands),
            "brands": out_brands,
            "competition": [_competitor(name, sums, everyone, found[name], moved[name], notable, posts, shown_rows,
                                        shown) for name in competitors]}


def _most_reached_copies(session: Session, rows: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """A quoted story is shown by its most-reached copy (examples and posts of the days are sampled from the
    first stored copies): the row of mention i becomes that of its copy where one was read more widely."""
    better = {}
    for canonical, copies in figures.copies_of(session, sorted(rows)).items():
        best, reach_of = max(copies, key=lambda c: (c[1], -c[0]))
        if reach_of > rows[canonical]["reach"]:
            better[canonical] = best
    found = figures.mentions_by_id(session, sorted(set(better.values())))
    return rows | {canonical: found[copy] for canonical, copy in better.items() if copy in found}


def _brand(name: str, cur: _Sums, prev: _Sums, period: Period, names: dict[int, tuple[str, str]],
           voices: Iterable[tuple[str, _Sums, _Sums]], lang: str, options: DigestSettings) -> dict[str, Any]:
    now, before = _sentiment_figures(cur.sentiment), _sentiment_figures(prev.sentiment)
    headline = {
        "mentions": change(cur.mentions, prev.mentions),
        "net_sentiment": change(now["net_sentiment"], before["net_sentiment"], relative=False),
        "negative_share": change(now["negative_share"], before["negative_share"], relative=False),
        "negative_service": change(cur.service, prev.service),
        "potential_reach": change(cur.audience, prev.audience),
        "engagement": change(sum(cur.engagement.values()), sum(prev.engagement.values())),
    }
    voices = list(voices)
    total, total_before = sum(v[1].mentions for v in voices), sum(v[2].mentions for v in voices)
    return {
        "brand": name,
        "headline": headline,
        "sentiment": {s: cur.sentiment.get(s, 0) for s in SENTIMENTS} | {"unscored": cur.sentiment.get(None, 0)},
        "daily": [{"date": day.isoformat(), **{s: cur.days[i].get(s, 0) for s in SENTIMENTS},
                   "unscored": cur.days[i].get(None, 0), "mentions": sum(cur.days[i].values())}
                  for i, day in enumerate(period.days)],
        "share_of_voice": [{"brand": b, "mentions": c.mentions, "share": ratio(c.mentions, total),
                            "previous_mentions": p.mentions, "previous_share": ratio(p.mentions, total_before)}
                           for b, c, p in voices],
        "sources": sorted(({"source": names.get(sid, ("?", "?"))[0], "kind": names.get(sid, ("?", "?"))[1],
                            "mentions": cur.sources[sid][0] if sid in cur.sources else 0,
                            "previous": prev.sources[sid][0] if sid in prev.sources else 0,
                            "negative_share": ratio(cur.sources[sid][1], cur.sources[sid][2])
                            if sid in cur.sources else None}
                           for sid in set(cur.sources) | set(prev.sources)),
                          key=lambda s: (-s["mentions"], -s["previous"], s["source"])),
        "languages": sorted(({"language": code, "name": language_name(code, lang),
                              "mentions": cur.languages.get(code, 0), "previous": prev.languages.get(code, 0),
                              "share": ratio(cur.languages.get(code, 0), cur.mentions)}
                             for code in set(cur.languages) | set(prev.languages)),
                            key=lambda s: (-s["mentions"], -s["previous"], s["language"])),
        "categories": sorted(({"category": c, "name": options.category_names.get(c) or label(lang, c),
                               "mentions": cur.categories[c], "previous": prev.categories[c],
                               "change": cur.categories[c] - prev.categories[c]} for c in CATEGORIES),
                             key=lambda c: (-c["mentions"], -c["previous"], c["category"])),
    }


def _trend_rows(session: Session, own: list[str], weeks: list[Period], cube: list[figures.CubeRow],
                n_days: int) -> list[figures.TrendRow]:
    """The 8 weeks' rows; for a 7-day period its last two weeks are the cube's two periods, not read twice."""
    if n_days != 7:
        return figures.trend(session, own, weeks)
    rows = figures.trend(session, own, weeks[:-2])
    from_cube: dict[tuple[str, int, int, str | None], list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for row in cube:
        if row.brand in own:
            sums = from_cube[(row.brand, len(weeks) - 2 + row.day // 7, row.source_id, row.sentiment)]
            sums[0] += row.mentions
            sums[1] += row.rating_sum
            sums[2] += row.rating_count
    return rows + [figures.TrendRow(brand, week, source, sentiment, int(n), total, int(rated))
                   for (brand, week, source, sentiment), (n, total, rated) in from_cube.items()]


def _trend(name: str, rows: list[figures.TrendRow], weeks: list[Period]) -> list[dict[str, Any]]:
    counts: dict[int, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row.brand == name:
            counts[row.week][row.sentiment] += row.mentions
    return [{"week": w.key, "first_day": w.first_day.isoformat(), "mentions": sum(counts[i].values()),
             **{s: counts[i].get(s, 0) for s in SENTIMENTS}, **_sentiment_figures(counts[i])}
            for i, w in enumerate(weeks)]


def _reviews(name: str, cur: _Sums, prev: _Sums, rows: list[figures.TrendRow], names: dict[int, tuple[str, str]],
             n_weeks: int) -> list[dict[str, Any]]:
    weekly: dict[int, list[list[float]]] = defaultdict(lambda: [[0.0, 0] for _ in range(n_weeks)])
    for row in rows:
        if row.brand == name and row.rating_count:
            weekly[row.source_id][row.week][0] += row.rating_sum
            weekly[row.source_id][row.week][1] += row.rating_count
    out = []
    for sid in sorted(set(cur.ratings) | set(prev.ratings), key=lambda s: names.get(s, ("?",))[0]):
        total, n = cur.ratings.get(sid, [0.0, 0])
        total_before, n_before = prev.ratings.get(sid, [0.0, 0])
        average = round(total / n, 6) if n else None
        before = round(total_before / n_before, 6) if n_before else None
        out.append({"source": names.get(sid, ("?", "?"))[0], "reviews": int(n), "previous_reviews": int(n_before),
                    **change(average, before, relative=False),
                    "trend": [round(s / c, 6) if c else None for s, c in weekly[sid]]})
    return out


def _care(cur: figures.CareRow | None, prev: figures.CareRow | None) -> dict[str, Any]:
    cur, prev = cur or figures.CareRow(), prev or figures.CareRow()

    def median(row: figures.CareRow) -> float | None:
        return statistics.median(row.response_seconds) if row.response_seconds else None

    return {
        "tasks_created": change(cur.created, prev.created),
        "first_response_median_seconds": change(median(cur), median(prev)),
        "first_response_p90_seconds": change(percentile(cur.response_seconds or [], 0.9),
                                             percentile(prev.response_seconds or [], 0.9)),
        "within_deadline_share": change(ratio(cur.within_deadline, cur.answerable),
                                        ratio(prev.within_deadline, prev.answerable), relative=False),
        "open_backlog": change(cur.open_backlog, prev.open_backlog),
        "dismissed": change(cur.dismissed, prev.dismissed),
    }


# ----------------------------------------------------------------------------- themes
def _excluded_words(brands: Sequence[BrandSettings]) -> frozenset[str]:
    found: set[str] = set()
    for brand in brands:
        for phrase in [brand.name, *brand.terms, *brand.search_terms()]:
            found.update(words(phrase))
            found.add("".join(words(phrase)))  # "Acme Bank" written as "AcmeBank"
    return frozenset(found)


def _every(count: int, limit: int) -> int:
    return max(1, math.ceil(count / limit))


def _themes(session: Session, brands: Sequence[BrandSettings], period: Period, counts: dict[str, int],
            trend_rows: list[figures.TrendRow], competitors: Collection[str],
            event_days: dict[str, set[int]]) -> dict[str, dict[str, Any]]:
    """Themes of each brand per language, from bounded samples of this period (counted per day too, for the
    days that stood out) and of the weeks before, each read in one pass for all brands; competitors' samples are
    half as large."""
    weeks = period.trend_weeks()
    base_weeks = weeks[-1 - themes.BASELINE_WEEKS:-1]
    every, base_every = {}, {}
    for name in counts:
        base_count = sum(r.mentions for r in trend_rows if r.brand == name
                         and len(weeks) - 1 - themes.BASELINE_WEEKS <= r.week < len(weeks) - 1)
        limits = ((COMPETITOR_SAMPLE, COMPETITOR_BASELINE_SAMPLE) if name in competitors
                  else (themes.CURRENT_SAMPLE, themes.BASELINE_SAMPLE))
        every[name], base_every[name] = _every(counts[name], limits[0]), _every(base_count, limits[1])
    tokeniser = themes.Tokeniser(_excluded_words(brands))
    now_rows: dict[str, list[Any]] = defaultdict(list)
    before_rows: dict[str, list[Any]] = defaultdict(list)
    for rows, stride, start, end in ((now_rows, every, period.start, period.end),
                                     (before_rows, base_every, base_weeks[0].start, base_weeks[-1].end)):
        for brand, *row in session.execute(figures.sample_texts(stride, start, end).execution_options(yield_per=500)):
            rows[brand].append(tuple(row))
    out = {}
    for name in counts:
        now = themes.count(now_rows[name], tokeniser, keep_examples=True, day_starts=period.day_starts(),
                           days=event_days[name])
        before = themes.count(before_rows[name], tokeniser, keep_examples=False)
        out[name] = {
            "now": now, "before": before,
            "by_language": {lang: themes.rising(now[lang], before[lang]) for lang in themes.LANGUAGES},
            "sample": {lang: {"mentions": now[lang].documents, "every": every[name], "repeats": now.repeats[lang],
                              "baseline_mentions": before[lang].documents, "baseline_every": base_every[name]}
                       for lang in themes.LANGUAGES}}
    return out


def _theme_json(theme: themes.Theme, rows: dict[int, dict[str, Any]], posts: dict[int, dict[str, Any]],
                examples: int = themes.EXAMPLES) -> dict[str, Any]:
    return {"term": theme.term, "mentions": theme.mentions, "negative_share": round(theme.negative_share, 6),
            "share": round(theme.share, 6), "previous_share": round(theme.previous_share, 6),
            "excess": theme.excess, "score": theme.z,
            "examples": [_example(rows[i], posts[i], form) for i, form in theme.examples[:examples] if i in posts]}


def _themes_json(found: dict[str, Any], rows: dict[int, dict[str, Any]],
                 posts: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"sample": found["sample"],
            **{lang: [_theme_json(t, rows, posts) for t in found["by_language"][lang]] for lang in themes.LANGUAGES}}


# ----------------------------------------------------------------------------- what moved
def _day_counts(cur: _Sums, period: Period) -> list[tuple[int, int]]:
    return [(sum(cur.days[i].values()), cur.days[i].get("negative", 0)) for i in range(len(period.days))]


def _standouts(cur: _Sums, period: Period, usual: days.Usual | None) -> list[days.Standout]:
    return days.standouts(period.days, _day_counts(cur, period), usual)


def _moved(cur: _Sums, period: Period, usual: days.Usual | None, standouts: list[days.Standout],
           found: dict[str, Any], spikes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The days that stood out and the days with spike alerts, each with its themes (that day's sample against
    the weeks before) and the posts that show them: the examples of its top theme, else the spike's top posts."""
    counts = _day_counts(cur, period)
    standing = {s.day: s for s in standouts}
    dates = sorted(set(standing) | {date.fromisoformat(s["date"]) for s in spikes})
    events = []
    for day in dates:
        index = period.days.index(day)
        by_language = {lang: themes.rising(found["now"].by_day.get((lang, index), themes.TermCounts()),
                                           found["before"][lang], top=DAY_THEMES) for lang in themes.LANGUAGES}
        day_themes = themes.merged(by_language, DAY_THEMES)
        of_day = [s for s in spikes if s["date"] == day.isoformat()]
        post_ids = [i for i, _ in day_themes[0].examples] if day_themes else []
        post_ids += [i for s in of_day for i in s["top_mention_ids"][:EVENT_POSTS]]
        mentions, negatives = counts[index]
        events.append({
            "date": day.isoformat(), "mentions": mentions, "negative": negatives,
            "usual_mentions": usual.mentions if usual else None, "usual_negatives": usual.negatives if usual else None,
            "ratio": round(mentions / max(usual.mentions, 1.0), 2) if usual else None,
            "reasons": list(standing[day].reasons) if day in standing else [],
            "spikes": [{**{k: v for k, v in s.items() if k not in ("top_mention_ids", "brand")},
                        "themes": _spike_themes(s["themes"], found["now"])} for s in of_day],
            "themes": day_themes, "post_ids": list(dict.fromkeys(post_ids))[:EVENT_POSTS],
        })
    return events


def _spike_themes(stored: list[str], now: themes.Sample) -> list[str]:
    """A spike's themes as the alert stored them (folded words), as written in the week's mentions and without
    the words that are never a theme: "stoerung" → "Störung"."""
    forms = {**themes.written_forms(now["en"]), **themes.written_forms(now["de"])}
    never = never_themes("de") | never_themes("en")
    return [forms.get(word, word) for word in stored if word not in never]


def _events_json(events: list[dict[str, Any]], rows: dict[int, dict[str, Any]],
                 posts: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        top = event["themes"][0] if event["themes"] else None
        forms = dict(top.examples) if top else {}
        shown = [(_example(rows[i], posts[i], forms[i], title=False) if i in forms else posts[i])
                 for i in event["post_ids"] if i in posts]
        out.append({**{k: v for k, v in event.items() if k not in ("themes", "post_ids")},
                    "themes": [_theme_json(t, rows, posts, examples=0) for t in event["themes"]], "posts": shown})
    return out


def _movers(section: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The biggest week-over-week changes: sources and service areas by their change in mentions, themes by
    how far above their earlier share they rose (themes.py ranks them)."""
    sources = [{**s, "change": s["mentions"] - s["previous"],
                "change_pct": ratio(s["mentions"] - s["previous"], s["previous"])} for s in section["sources"]]
    every_theme = [t for lang in themes.LANGUAGES for t in section["themes"][lang]]
    return {
        "sources": sorted((s for s in sources if s["change"]), key=lambda s: (-abs(s["change"]), s["source"]))[:3],
        "categories": sorted((c for c in section["categories"] if c["change"]),
                             key=lambda c: (-abs(c["change"]), c["category"]))[:2],
        "themes": [{k: t[k] for k in ("term", "mentions", "share", "previous_share", "negative_share")}
                   for t in sorted(every_theme, key=lambda t: (-t["excess"], t["term"]))[:3]],
    }


# ----------------------------------------------------------------------------- reach, competitors
def _reach(cur: _Sums, prev: _Sums, top: list[int], posts: dict[int, dict[str, Any]]) -> dict[str, Any]:
    potential = change(cur.audience, prev.audience)
    contributors = [{"post": posts[i], "audience": posts[i]["audience"],
                     "share": ratio(posts[i]["audience"], cur.audience)} for i in top if i in posts]
    return {"potential": {**potential, "top_share": contributors[0]["share"] if contributors else None,
                          "top": contributors},
            "engagement": {**{kind: change(cur.engagement[kind], prev.engagement[kind]) for kind in ENGAGEMENT_KEYS},
                           "total": change(sum(cur.engagement.values()), sum(prev.engagement.values()))}}


def _competitor(name: str, sums: dict[tuple[str, int], _Sums], everyone: list[str], found: dict[str, Any],
                events: list[dict[str, Any]], notable: dict[tuple[str, str], list[int]],
                posts: dict[int, dict[str, Any]], rows: dict[int, dict[str, Any]],
                shown: dict[int, dict[str, Any]]) -> dict[str, Any]:
    cur, prev = sums[(name, 1)], sums[(name, 0)]
    now, before = _sentiment_figures(cur.sentiment), _sentiment_figures(prev.sentiment)
    total, total_before = (sum(sums[(b, i)].mentions for b in everyone) for i in (1, 0))
    top = [posts[i] for i in notable.get((name, "any"), []) if i in posts]
    return {
        "brand": name,
        "mentions": change(cur.mentions, prev.mentions),
        "net_sentiment": change(now["net_sentiment"], before["net_sentiment"], relative=False),
        "negative_share": change(now["negative_share"], before["negative_share"], relative=False),
        "share_of_voice": change(ratio(cur.mentions, total), ratio(prev.mentions, total_before), relative=False),
        "themes": [_theme_json(t, rows, shown, examples=1)
                   for t in themes.merged(found["by_language"], COMPETITOR_THEMES)],
        "top_post": top[0] if top else None,
        "moved": {"events": _events_json(events, rows, shown)},
    }
