"""Themes: the terms and short phrases a brand's mentions are about this week more than in the weeks before.

Counting words needs the texts, so this is the one part of the digest that reads mentions into Python — a
bounded, systematic sample (every k-th mention by id) of at most CURRENT_SAMPLE mentions of the period and
BASELINE_SAMPLE of the BASELINE_WEEKS before it, streamed, per brand; the report says how large the sample was.

Candidates: words folded as brand matching folds them (case, umlauts, ß, accents: listener.text.words), merged
by Snowball stems ("Gebühren" = "Gebühr"); German compounds as one word, hyphenated or not ("Kunden-Service" =
"Kundenservice"); two-word phrases within a clause ("card declined", "Filiale geschlossen"), keyed like the
compound they may also be written as. Never candidates: stop words, greetings, platform boilerplate, generic
verbs, time words and bare praise (listener.digest.noise), the words of every configured brand, links and
@handles. A mention counts once per term, and a text that repeats one already counted (a copy the near-duplicate
check did not link) counts once.

A theme is a candidate that is
- frequent: in at least MIN_MENTIONS mentions and MIN_SHARE of the sample;
- over-represented: its share of mentions at least MIN_LIFT times its share in the weeks before;
- not chance: its p-value (the exact test of two rates, `_test`) passes Benjamini–Hochberg at FDR over every
  candidate tested — with thousands of words tested, a fixed z ≥ 1.645 lets dozens of everyday words through
  ("Antwort", "heute"), while a real theme's p-value is orders of magnitude smaller.
Themes are ranked by their *excess mentions* (mentions beyond what the earlier share predicts), so a big topic
("outage" in 130 posts) ranks above a small one that merely rose from nothing ("weather" in 9). A word whose
mentions — or whose rise — mostly come in one phrase is shown as the phrase ("App stürzt" rather than "App";
"card declined" rather than "card" when cards come up every week and only the declines are new); a term is not
shown twice ("Warteschleife" beside "lange Warteschleife"). Each theme is shown in its most frequent written form, with
its mentions, their negative share and the most-reached mentions that contain it.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import snowballstemmer

from listener.digest.noise import never_themes
from listener.text import words

CURRENT_SAMPLE = 2000
BASELINE_SAMPLE = 4000
BASELINE_WEEKS = 4
TOP_THEMES = 10
EXAMPLES = 2
KEPT_EXAMPLES = 6  # per term while counting, so that EXAMPLES with the shown form are found among them
MIN_MENTIONS = 3  # a theme needs at least this many mentions in the sample …
MIN_SHARE = 0.005  # … and this share of them
MIN_LIFT = 1.5  # its share at least this many times the earlier share (Jeffreys-smoothed)
FDR = 0.1  # Benjamini–Hochberg false discovery rate over every candidate tested
PHRASE_COVERS = 0.6  # a word is shown as its phrase when the phrase has this share of its mentions or excess
LANGUAGES = ("de", "en")
_STEMMERS = {"de": "german", "en": "english"}
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # a word, or a hyphenated compound as one
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”„«»/|\n]+|\s[-–—]\s")  # phrases do not span these
_LINKS_AND_HANDLES = re.compile(r"https?://\S+|www\.\S+|(?<!\w)@[\w.]+")

# English verbs with their particle, keyed like the compound they are also written as ("log in" = "login"): the
# particle is a stop word, so without this "cannot log in" would leave a theme "log" beside "login".
PHRASAL_VERBS = frozenset({("log", "in"), ("log", "on"), ("log", "out"), ("sign", "in"), ("sign", "up"),
                           ("sign", "on"), ("check", "out"), ("top", "up"), ("set", "up"), ("opt", "out"),
                           ("cash", "out"), ("pay", "out"), ("back", "up")})

SampleRow = tuple[int, str | None, str, str | None, int, str | None, datetime | None]


@lru_cache(maxsize=2)
def _stemmer(lang: str) -> Any:
    return snowballstemmer.stemmer(_STEMMERS[lang])


@lru_cache(maxsize=200_000)
def _stem(lang: str, folded: str) -> str:
    """Words repeat (Zipf): each is stemmed once. Snowball in pure Python costs ~0.3 ms a word."""
    return str(_stemmer(lang).stemWord(folded))


@lru_cache(maxsize=200_000)
def _fold(written: str) -> str:
    return "".join(words(written))


def folded_words(term: str) -> list[str]:
    return [_fold(w) for w in term.split()]


@dataclass
class Tokeniser:
    """Terms of one text: keys (stems, phrases joined) and the written form each key came from."""

    excluded: frozenset[str]  # folded words of the brand names and terms
    _words: dict[tuple[str, str], tuple[str, str, str] | None] = field(default_factory=dict, repr=False)

    def _word(self, token: str, lang: str) -> tuple[str, str, str] | None:
        """(as written, folded, key) of a token, None when it is no candidate; each token is looked at once."""
        if (lang, token) in self._words:
            return self._words[(lang, token)]
        written = token if "-" not in token else "-".join(  # "Acme-Hotline": "Hotline"
            p for p in token.split("-") if _fold(p) not in self.excluded)
        folded = _fold(written)  # "Kunden-Service" and "Kundenservice" alike: "kundenservice"
        info = None
        if not (len(folded) < 3 or folded.isdigit() or folded in never_themes(lang) or folded in self.excluded):
            info = (written, folded, _stem(lang, folded))
        if len(self._words) < 500_000:
            self._words[(lang, token)] = info
        return info

    def terms(self, text: str, lang: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for clause in _CLAUSE.split(_LINKS_AND_HANDLES.sub(" . ", text)):
            previous: tuple[str, str, str] | None = None  # the word before, within a clause
            previous_is_new = False  # … and whether it was first found there
            for token in _WORD.findall(clause):
                word = self._word(token, lang)
                if word is None:
                    if previous is not None and lang == "en" and (previous[1], _fold(token)) in PHRASAL_VERBS:
                        if previous_is_new:  # "log" here is "log in", not a word of its own
                            del found[previous[2]]
                        found.setdefault(_stem(lang, previous[1] + _fold(token)), f"{previous[0]} {token}")
                    previous = None
                    continue
                written, folded, key = word
                previous_is_new = key not in found
                found.setdefault(key, written)
                # a phrase ("zinsen zinsen" is not one), keyed like the compound it may also be written as
                if previous is not None and previous[1] != folded:
                    found.setdefault(_stem(lang, previous[1] + folded), f"{previous[0]} {written}")
                previous = word
        return found


def written_forms(counts: TermCounts) -> dict[str, str]:
    """Folded single word → its most frequent written form in `counts` ("stoerung" → "Störung")."""
    out: dict[str, tuple[int, str]] = {}
    for forms in counts.forms.values():
        for form, n in forms.items():
            if " " not in form:
                folded = _fold(form)
                if n > out.get(folded, (0, ""))[0]:
                    out[folded] = (n, form)
    return {folded: form for folded, (_, form) in out.items()}


@dataclass
class TermCounts:
    """Document frequencies of keys in one sample (or one day of it), with negative mentions, written forms
    and the most-reached examples."""

    documents: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    negatives: Counter[str] = field(default_factory=Counter)
    forms: dict[str, Counter[str]] = field(default_factory=dict)
    examples: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)  # key → [(reach, -id, form)]

    def add(self, terms: dict[str, str], mention_id: int, reach: int, negative: bool, keep_examples: bool) -> None:
        """Counts a mention's terms; with `keep_examples` (a sample that is shown, not a baseline) also their
        negative mentions, written forms and most-reached examples."""
        self.documents += 1
        self.counts.update(terms.keys())
        if not keep_examples:
            return
        if negative:
            self.negatives.update(terms.keys())
        for key, form in terms.items():
            forms = self.forms.get(key)
            if forms is None:
                forms = self.forms[key] = Counter()
            forms[form] += 1
            best = self.examples.get(key)
            if best is None:
                best = self.examples[key] = []
            best.append((reach, -mention_id, form))
            if len(best) > KEPT_EXAMPLES:
                best.sort(reverse=True)
                del best[KEPT_EXAMPLES:]

    def form(self, key: str) -> str:
        return self.forms[key].most_common(1)[0][0]


@dataclass
class Sample:
    """The term counts of one brand's sample per language, and per language and day (index into the days)."""

    by_language: dict[str, TermCounts] = field(default_factory=lambda: {lang: TermCounts() for lang in LANGUAGES})
    by_day: dict[tuple[str, int], TermCounts] = field(default_factory=dict)
    repeats: Counter[str] = field(default_factory=Counter)  # per language: texts left out as repeats

    def __getitem__(self, lang: str) -> TermCounts:
        return self.by_language[lang]


def count(rows: Iterable[SampleRow], tokeniser: Tokeniser, keep_examples: bool,
          day_starts: Sequence[datetime] = (), days: Collection[int] = ()) -> Sample:
    """The term counts of streamed (id, title, text, language, reach, sentiment, published) rows; with
    `day_starts` (each local day's UTC start, and the end) also per day, for the day indexes in `days`."""
    sample = Sample()
    seen: set[int] = set()
    for mention_id, title, text, lang, reach, sentiment, published in rows:
        if lang not in sample.by_language:
            continue
        body = f"{title}\n{text}" if title else text
        fingerprint = hash((lang, " ".join(body.casefold().split())))
        if fingerprint in seen:
            sample.repeats[lang] += 1
            continue
        seen.add(fingerprint)
        terms = tokeniser.terms(body, lang)
        negative = sentiment == "negative"
        sample.by_language[lang].add(terms, mention_id, int(reach or 0), negative, keep_examples)
        if days and published is not None:
            day = bisect.bisect_right(day_starts, _aware(published, day_starts[0])) - 1
            if day in days:
                sample.by_day.setdefault((lang, day), TermCounts()).add(terms, mention_id, int(reach or 0),
                                                                          negative, keep_examples)
    return sample


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite returns naive UTC datetimes; the period's boundaries are aware."""
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None and like.tzinfo is not None else value


@dataclass(frozen=True)
class Theme:
    key: str
    term: str
    mentions: int  # in the current sample
    negatives: int
    share: float  # of the current sample's mentions
    previous_share: float  # of the baseline sample's mentions
    excess: float  # mentions beyond what the baseline share predicts
    z: float
    examples: tuple[tuple[int, str], ...]  # (mention id, the form it contains), most reached first

    @property
    def negative_share(self) -> float:
        return self.negatives / self.mentions if self.mentions else 0.0


@dataclass(frozen=True)
class _Candidate:
    key: str
    count: int
    z: float
    p: float
    excess: float


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed from k upwards (in logs) while the terms still count."""
    if k <= 0:
        return 1.0
    if p >= 1.0:
        return 1.0
    if p <= 0.0 or k > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total, i = 0.0, k
    term = math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
    while i <= n and (term > total * 1e-12 or i < n * p):
        total += term
        term *= (n - i) / (i + 1) * p / (1 - p)
        i += 1
    return min(1.0, total)


def _test(current: TermCounts, baseline: TermCounts) -> list[_Candidate]:
    """Every frequent, over-represented candidate with its p-value; the ones chance explains are then dropped by
    Benjamini–Hochberg over all candidates tested.

    The test is the exact one for two rates: of the term's c + b mentions in both samples, as many as c fall in
    the current one with probability n / (n + m) each if its share did not change (a binomial upper tail). Unlike
    a z-score of log-odds, it does not shrink a term the weeks before never had to the evidence of half a mention."""
    n, m = current.documents, baseline.documents
    least = max(MIN_MENTIONS, math.ceil(MIN_SHARE * n))
    tested: list[_Candidate] = []
    for key, c in current.counts.items():
        if c < least:
            continue
        b = baseline.counts.get(key, 0)
        lift = ((c + 0.5) / (n + 1)) / ((b + 0.5) / (m + 1))
        delta = math.log((c + 0.5) / (n - c + 0.5)) - math.log((b + 0.5) / (m - b + 0.5))
        z = delta / math.sqrt(1 / (c + 0.5) + 1 / (n - c + 0.5) + 1 / (b + 0.5) + 1 / (m - b + 0.5))
        p = binomial_tail(c, c + b, n / (n + m)) if lift >= MIN_LIFT else 1.0
        excess = c - (n * b / m if m else 0.0)
        tested.append(_Candidate(key, c, z, p, excess))
    ordered = sorted(tested, key=lambda t: t.p)
    passed = 0
    for rank, candidate in enumerate(ordered, start=1):
        if candidate.p <= FDR * rank / len(ordered):
            passed = rank
    return ordered[:passed]


def rising(current: TermCounts, baseline: TermCounts, top: int = TOP_THEMES) -> list[Theme]:
    """The themes of `current` against `baseline`, biggest excess first (see the module docstring)."""
    if current.documents == 0:
        return []
    found = sorted(_test(current, baseline), key=lambda t: (-round(t.excess, 6), -round(t.z, 6), t.key))
    phrases = [t for t in found if len(current.form(t.key).split()) > 1]
    themes: list[Theme] = []
    shown: set[str] = set()  # folded words of the themes shown
    for candidate in found:
        term = current.form(candidate.key)
        if len(term.split()) == 1:  # its phrase instead, when most of its mentions come in one
            covering = [p for p in phrases if term.lower() in current.form(p.key).lower().split()
                        and (p.count >= PHRASE_COVERS * candidate.count
                             or p.excess >= PHRASE_COVERS * candidate.excess)]
            if covering:
                candidate = max(covering, key=lambda p: (p.count, p.z))
                term = current.form(candidate.key)
        if shown & set(folded_words(term)):
            continue  # "warteschleife" beside "lange warteschleife" says the same thing twice
        shown |= set(folded_words(term))
        themes.append(_theme(candidate, term, current, baseline))
        if len(themes) == top:
            break
    return themes


def _theme(candidate: _Candidate, term: str, current: TermCounts, baseline: TermCounts) -> Theme:
    key, c = candidate.key, candidate.count
    # Examples that contain the theme as shown first, then other inflections; the most reached of each.
    kept = sorted(current.examples.get(key, []), key=lambda e: (e[2] != term, -e[0], -e[1]))
    examples = tuple((-neg_id, form) for _, neg_id, form in kept[:EXAMPLES])
    m = baseline.documents
    return Theme(key, term, c, current.negatives.get(key, 0), c / current.documents,
                 (baseline.counts.get(key, 0) / m) if m else 0.0, round(candidate.excess, 3), round(candidate.z, 3),
                 examples)


def merged(by_language: dict[str, list[Theme]], top: int) -> list[Theme]:
    """Themes of both languages in one list, biggest excess first; a term both languages have ("Login" and
    "login") is listed once, as the language where it rose most wrote it."""
    every = sorted((t for lang in LANGUAGES for t in by_language.get(lang, [])),
                   key=lambda t: (-t.excess, -t.z, t.term))
    out: list[Theme] = []
    listed: set[tuple[str, ...]] = set()
    for theme in every:
        folded = tuple(folded_words(theme.term))
        if folded not in listed:
            listed.add(folded)
            out.append(theme)
    return out[:top]
