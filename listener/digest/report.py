"""One digest as one JSON-able object: the figures of figures.py and themes.py, summed per section.

`build` runs a handful of queries (figures.py) and sums their small grouped results here; the same object is
printed by `--json`, rendered to HTML and text (render.py) and drawn (charts.py).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from listener.digest import figures, themes
from listener.digest.i18n import verdict
from listener.digest.period import Period
from listener.domain import SENTIMENTS
from listener.matching import BrandSettings
from listener.nlp.categories import CATEGORIES
from listener.text import words

EXCERPT_CHARS = 280


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


def _post(row: dict[str, Any]) -> dict[str, Any]:
    url = row["url"] if (row["url"] or "").startswith(("https://", "http://")) else None
    return {"id": row["id"], "url": url, "title": excerpt(row["title"], 120) or None, "excerpt": excerpt(row["text"]),
            "source": row["source"], "author": row["author"], "published_at": row["published_at"],
            "reach": row["reach"], "sentiment": row["sentiment"], "rating": row["rating"]}


class _Sums:
    """Sums of cube rows for one brand and one period."""

    def __init__(self) -> None:
        self.mentions = 0
        self.service = 0
        self.reach = 0
        self.sentiment: dict[str | None, int] = defaultdict(int)
        self.days: dict[int, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
        self.sources: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # mentions, negative, scored
        self.languages: dict[str, int] = defaultdict(int)
        self.categories: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
        self.ratings: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])  # source → [sum, count]

    def add(self, row: figures.CubeRow, day: int) -> None:
        self.mentions += row.mentions
        self.service += row.service
        self.reach += row.reach
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
          chosen: Sequence[str] = (), only: str | None = None) -> dict[str, Any]:
    own, competitors = _brand_sets(brands, chosen, only)
    previous = period.previous()
    n_days = len(period.days)
    sums: dict[tuple[str, int], _Sums] = defaultdict(_Sums)
    cube = figures.cube(session, own + competitors, period, previous)
    for row in cube:
        index = 1 if row.day >= n_days else 0
        sums[(row.brand, index)].add(row, row.day - n_days * index)
    weeks = period.trend_weeks()
    trend_rows = _trend_rows(session, own, weeks, cube, n_days)
    names = figures.source_names(session)
    notable = figures.notable(session, own, period)
    care = figures.care(session, own, period, previous)
    brand_themes = {name: _themes(session, brands, name, period, sums[(name, 1)].mentions, trend_rows)
                    for name in own}
    quoted = {i for ids in notable.values() for i in ids}
    quoted |= {i for t in brand_themes.values() for lang_themes in t["by_language"].values()
               for theme in lang_themes for i in theme.example_ids}
    posts = {i: _post(row) for i, row in figures.mentions_by_id(session, sorted(quoted)).items()}
    out_brands = []
    for name in own:
        cur, prev = sums[(name, 1)], sums[(name, 0)]
        voices = [(c, sums[(c, 1)], sums[(c, 0)]) for c in [name, *competitors]]
        section = _brand(name, cur, prev, period, names, voices)
        section["trend"] = _trend(name, trend_rows, weeks)
        section["reviews"] = _reviews(name, cur, prev, trend_rows, names, len(weeks))
        section["themes"] = _themes_json(brand_themes[name], posts)
        section["notable"] = {s: [posts[i] for i in notable.get((name, s), []) if i in posts]
                              for s in ("negative", "positive")}
        section["care"] = _care(care.get((name, 1)), care.get((name, 0)))
        section["verdict"] = verdict(section, lang)
        out_brands.append(section)
    return {"period": period.as_json(), "previous_period": previous.as_json(), "lang": lang,
            "competitors": competitors, "empty": all(b["headline"]["mentions"]["value"] == 0 for b in out_brands),
            "brands": out_brands}


def _brand(name: str, cur: _Sums, prev: _Sums, period: Period, names: dict[int, tuple[str, str]],
           voices: Iterable[tuple[str, _Sums, _Sums]]) -> dict[str, Any]:
    now, before = _sentiment_figures(cur.sentiment), _sentiment_figures(prev.sentiment)
    headline = {
        "mentions": change(cur.mentions, prev.mentions),
        "net_sentiment": change(now["net_sentiment"], before["net_sentiment"], relative=False),
        "negative_share": change(now["negative_share"], before["negative_share"], relative=False),
        "negative_service": change(cur.service, prev.service),
        "reach": change(cur.reach, prev.reach),
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
                            "previous_share": ratio(p.mentions, total_before)} for b, c, p in voices],
        "sources": sorted(({"source": names.get(sid, ("?", "?"))[0], "kind": names.get(sid, ("?", "?"))[1],
                            "mentions": cur.sources[sid][0] if sid in cur.sources else 0,
                            "previous": prev.sources[sid][0] if sid in prev.sources else 0,
                            "negative_share": ratio(cur.sources[sid][1], cur.sources[sid][2])
                            if sid in cur.sources else None}
                           for sid in set(cur.sources) | set(prev.sources)),
                          key=lambda s: (-s["mentions"], -s["previous"], s["source"])),
        "languages": sorted(({"language": lang, "mentions": cur.languages.get(lang, 0),
                              "previous": prev.languages.get(lang, 0), "share": ratio(cur.languages.get(lang, 0),
                                                                                     cur.mentions)}
                             for lang in set(cur.languages) | set(prev.languages)),
                            key=lambda s: (-s["mentions"], -s["previous"], s["language"])),
        "categories": sorted(({"category": c, "mentions": cur.categories[c], "previous": prev.categories[c],
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


def _themes(session: Session, brands: Sequence[BrandSettings], name: str, period: Period, count: int,
            trend_rows: list[figures.TrendRow]) -> dict[str, Any]:
    """Rising themes of one brand per language, from bounded samples of this period and the weeks before."""
    weeks = period.trend_weeks()
    base_weeks = weeks[-1 - themes.BASELINE_WEEKS:-1]
    base_count = sum(r.mentions for r in trend_rows if r.brand == name
                     and len(weeks) - 1 - themes.BASELINE_WEEKS <= r.week < len(weeks) - 1)
    every, base_every = _every(count, themes.CURRENT_SAMPLE), _every(base_count, themes.BASELINE_SAMPLE)
    tokeniser = themes.Tokeniser(_excluded_words(brands))
    now = themes.count(session.execute(figures.sample_texts(name, period.start, period.end, every)
                                       .execution_options(yield_per=500)), tokeniser, keep_examples=True)
    before = themes.count(session.execute(figures.sample_texts(name, base_weeks[0].start, base_weeks[-1].end,
                                                               base_every).execution_options(yield_per=500)),
                          tokeniser, keep_examples=False)
    return {"by_language": {lang: themes.rising(now[lang], before[lang]) for lang in themes.LANGUAGES},
            "sample": {lang: {"mentions": now[lang].documents, "every": every,
                              "baseline_mentions": before[lang].documents, "baseline_every": base_every}
                       for lang in themes.LANGUAGES}}


def _themes_json(found: dict[str, Any], posts: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"sample": found["sample"],
            **{lang: [{"term": t.term, "mentions": t.mentions, "share": round(t.share, 6),
                       "previous_share": round(t.previous_share, 6), "score": t.score,
                       "examples": [posts[i] for i in t.example_ids if i in posts]}
                      for t in found["by_language"][lang]] for lang in themes.LANGUAGES}}
