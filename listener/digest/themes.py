"""Themes: the terms and phrases that rose most in a brand's mentions against the weeks before, per language.

Counting words needs the texts, so this is the one part of the digest that reads mentions into Python — a
bounded, systematic sample (every k-th mention by id) of at most CURRENT_SAMPLE mentions of the period and
BASELINE_SAMPLE of the BASELINE_WEEKS before it, streamed, per brand; the report says how large the sample was.

Words are folded as brand matching folds them (case, umlauts, ß, accents: listener.text.words); hyphenated
compounds are joined ("Kunden-Service" = "Kundenservice"), two-word phrases are counted joined too ("Kunden
Service" = "Kundenservice"), stop words (the `stop-words` lists) and the words of every configured brand are
dropped, and Snowball stems merge inflections ("Gebühren" = "Gebühr"); each theme is shown in its most frequent
written form. A term is counted once per mention. Terms are ranked by the z-score of the log-odds ratio of
their share of mentions now against the baseline (with a Jeffreys prior), so a term rises when it is both more
frequent and frequent enough to be more than noise (z ≥ 1.645); of equal rises the phrase is shown, not its words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import snowballstemmer

from listener.text import stop_words, words

CURRENT_SAMPLE = 2000
BASELINE_SAMPLE = 4000
BASELINE_WEEKS = 4
TOP_THEMES = 6
EXAMPLES = 2
MIN_MENTIONS = 3  # a theme needs at least this many mentions in the sample
MIN_Z = 1.645  # and a rise that chance would give less than 5 % of the time (one-sided)
LANGUAGES = ("de", "en")
_STEMMERS = {"de": "german", "en": "english"}
_HYPHENATED = re.compile(r"[^\W_]+(?:-[^\W_]+)+")
_WORD = re.compile(r"[^\W_]+")
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”„«»/|\n]+|\s[-–—]\s")  # phrases do not span these
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


@dataclass
class Tokeniser:
    """Terms of one text: keys (stems, phrases joined) and the written form each key came from."""

    excluded: frozenset[str]  # folded words of the brand names and terms

    def _join_compound(self, match: re.Match[str]) -> str:
        parts = [p for p in match.group().split("-") if " ".join(words(p)) not in self.excluded]
        return parts[0] + "".join(p.lower() for p in parts[1:]) if parts else " "  # Kunden-Service: Kundenservice

    def terms(self, text: str, lang: str) -> dict[str, str]:
        stop = stop_words(lang)
        found: dict[str, str] = {}
        for clause in _CLAUSE.split(_HYPHENATED.sub(self._join_compound, text)):
            previous: tuple[str, str] | None = None  # (folded, as written) of the word before, within a clause
            for written in _WORD.findall(clause):
                folded = _fold(written)
                if len(folded) < 3 or folded.isdigit() or folded in stop or folded in self.excluded:
                    previous = None
                    continue
                found.setdefault(_stem(lang, folded), written)
                # a phrase ("zinsen zinsen" is not one), keyed like the compound it may also be written as
                if previous is not None and previous[0] != folded:
                    found.setdefault(_stem(lang, previous[0] + folded), f"{previous[1]} {written}")
                previous = (folded, written)
        return found


@dataclass
class TermCounts:
    """Document frequencies of keys in one sample, with written forms and the most-reached examples."""

    documents: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    forms: dict[str, Counter[str]] = field(default_factory=dict)
    examples: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # key → [(reach, mention id)]

    def add(self, terms: dict[str, str], mention_id: int, reach: int, keep_examples: bool) -> None:
        self.documents += 1
        self.counts.update(terms.keys())
        for key, form in terms.items():
            self.forms.setdefault(key, Counter())[form] += 1
            if keep_examples:
                best = self.examples.setdefault(key, [])
                best.append((reach, -mention_id))
                if len(best) > EXAMPLES:
                    best.sort(reverse=True)
                    del best[EXAMPLES:]


@dataclass(frozen=True)
class Theme:
    key: str
    term: str
    mentions: int  # in the current sample
    share: float  # of the current sample's mentions
    previous_share: float  # of the baseline sample's mentions
    score: float
    example_ids: tuple[int, ...]


def count(rows: Iterable[tuple[int, str | None, str, str | None, int]], tokeniser: Tokeniser,
          keep_examples: bool) -> dict[str, TermCounts]:
    """Per language, the term counts of streamed (id, title, text, language, reach) rows."""
    out = {lang: TermCounts() for lang in LANGUAGES}
    for mention_id, title, text, lang, reach in rows:
        if lang not in out:
            continue
        body = f"{title}\n{text}" if title else text
        out[lang].add(tokeniser.terms(body, lang), mention_id, int(reach or 0), keep_examples)
    return out


def rising(current: TermCounts, baseline: TermCounts, top: int = TOP_THEMES) -> list[Theme]:
    """The keys whose share of mentions rose most (log-odds z-score), at least MIN_MENTIONS mentions each."""
    n, m = current.documents, baseline.documents
    if n == 0:
        return []
    ranked = []
    for key, c in current.counts.items():
        if c < MIN_MENTIONS:
            continue
        b = baseline.counts.get(key, 0)
        delta = math.log((c + 0.5) / (n - c + 0.5)) - math.log((b + 0.5) / (m - b + 0.5))
        z = delta / math.sqrt(1 / (c + 0.5) + 1 / (n - c + 0.5) + 1 / (b + 0.5) + 1 / (m - b + 0.5))
        if delta > 0 and z >= MIN_Z:
            ranked.append((z, c, key))
    # Equal rises: the phrase first ("app stürzt" says more than "app", which it then hides).
    ranked.sort(key=lambda item: (-round(item[0], 6), -len(current.forms[item[2]].most_common(1)[0][0].split()),
                                  -item[1], item[2]))
    themes: list[Theme] = []
    shown: list[str] = []
    for z, c, key in ranked:
        term = current.forms[key].most_common(1)[0][0]
        if any(term.lower() in other.lower().split() or other.lower() in term.lower().split() for other in shown):
            continue  # "warteschleife" beside "lange warteschleife" says the same thing twice
        examples = tuple(-neg_id for _, neg_id in sorted(current.examples.get(key, []), reverse=True))
        themes.append(Theme(key, term, c, c / n, (baseline.counts.get(key, 0) / m) if m else 0.0, round(z, 3),
                            examples))
        shown.append(term)
        if len(themes) == top:
            break
    return themes
