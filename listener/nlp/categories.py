"""Service categories and the negative-service-experience flag.

The product's categories are `support`, `delivery`, `billing`, `digital`, `product`, `staff`.
`taxonomy.tsv` (in ../shared/eval) maps each labelled data set's own aspect/reason labels onto them;
the flag definitions follow ../shared/eval/README.md:
- GermEval: positive when one of the aspects has polarity `negative` and maps to a category other than
  `none`; the categories are those aspects' categories.
- Airline: positive when the sentiment is `negative` and the reason maps to a category other than `none`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORIES = ("support", "delivery", "billing", "digital", "product", "staff")


def load_taxonomy(path: Path) -> dict[str, str]:
    """Data-set label → category (`none` for labels that are not a service aspect)."""
    mapping: dict[str, str] = {}
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            category = row["category"].strip()
            if category != "none" and category not in CATEGORIES:
                raise ValueError(f"{path}: unknown category {category!r} for {row['label']!r}")
            mapping[row["label"].strip()] = category
    return mapping


def category_of(label: str, taxonomy: Mapping[str, str]) -> str | None:
    """The service category (or `none`) of a data set's aspect/reason label; None when the label is unknown.
    A label that already is a category name, as in files from `listener mentions export-labels`, stands for
    itself, so such files need no taxonomy."""
    label = label.strip()
    if not label:
        return "none"
    if label in taxonomy:
        return taxonomy[label]
    return label if label in CATEGORIES or label == "none" else None


Targets = tuple[bool, tuple[str, ...]]  # (negative service experience, its categories)


def germeval_targets(aspects: str, taxonomy: Mapping[str, str]) -> Targets | None:
    """(flag, categories) from a GermEval aspects field like `Zugfahrt#Pünktlichkeit:negative …`; None when an
    aspect is not in the taxonomy (the flag cannot be told)."""
    cats: set[str] = set()
    for aspect in (aspects or "").split():
        label, _, polarity = aspect.rpartition(":")
        category = category_of(label.split("#", 1)[0], taxonomy)
        if category is None:
            return None
        if polarity == "negative" and category != "none":
            cats.add(category)
    return bool(cats), tuple(c for c in CATEGORIES if c in cats)


def airline_targets(sentiment: str, reason: str, taxonomy: Mapping[str, str]) -> Targets | None:
    category = category_of(reason or "", taxonomy)
    if category is None:
        return None
    if sentiment == "negative" and category != "none":
        return True, (category,)
    return False, ()


def row_targets(row: Mapping[str, str], taxonomy: Mapping[str, str]) -> Targets | None:
    """Flag and categories for an eval/training row; None when the file has no aspect/reason column or a label
    the taxonomy does not know."""
    if "aspects" in row:
        return germeval_targets(row.get("aspects") or "", taxonomy)
    if "reason" in row:
        return airline_targets(row.get("sentiment", ""), row.get("reason") or "", taxonomy)
    return None


def service_targets(row: Mapping[str, str], taxonomy: Mapping[str, str]) -> tuple[bool, tuple[str, ...] | None] | None:
    """What a labelled row says about the flag and its categories, wherever it says it: the `negative_service`
    column of listener's written short texts (categories not labelled: None), the aspects or reason of the data
    set, and for a neutral or positive row of any file "not a negative service experience" (the definition in
    ../shared/eval/README.md needs a negative mention). None: a negative row of a file without such labels."""
    if "negative_service" in row:
        flagged = row["negative_service"].strip() == "1"
        return flagged, None if flagged else ()
    targets = row_targets(row, taxonomy)
    if targets is not None:
        return targets
    return (False, ()) if row.get("sentiment") != "negative" else None


# Cue phrases (German and English) that name a service area outright. The model's flag head decides whether a
# mention is a negative service experience (adding cue hits to the flag lowered its dev F1); the cues add
# categories to a flagged mention, where they catch rare categories the head misses.
CUES: dict[str, re.Pattern[str]] = {
    "support": re.compile(
        r"\b(hotline|kundenservice|kundendienst|service|support|warteschleife|customer service|"
        r"on hold|nobody (answers|responds)|no response|antwort|agent|call ?cent(er|re))", re.I),
    "delivery": re.compile(
        r"\b(versp[äa]tung|versp[äa]tet|lieferung|geliefert|paket|zug f[äa]llt|ausfall|delay(ed)?|late|"
        r"cancel+ed flight|delivery|delivered|package|parcel|shipping|luggage|baggage|gep[äa]ck)", re.I),
    "billing": re.compile(
        r"\b(rechnung|abbuchung|abgebucht|erstattung|geld zur[üu]ck|ticketpreis|preis|bezahl|"
        r"invoice|bill(ed|ing)?|charged?|refund|overcharg|payment|booking|fee)", re.I),
    "digital": re.compile(
        r"\b(app|website|webseite|login|einloggen|passwort|password|wlan|wi-?fi|internet|online|server|"
        r"absturz|st[üu]rzt ab|crash(es|ed)?|bug)", re.I),
    "product": re.compile(
        r"\b(kaputt|defekt|qualit[äa]t|broken|defective|quality|toilet|klimaanlage|sitz|seat)", re.I),
    "staff": re.compile(
        r"\b(mitarbeiter|personal|schaffner|zugbegleiter|verk[äa]ufer|unfreundlich|staff|employee|"
        r"flight attendant|crew|rude|cashier|waiter)", re.I),
}


def cue_categories(text: str) -> tuple[str, ...]:
    """Categories whose cue phrases occur in `text`."""
    return tuple(c for c in CATEGORIES if CUES[c].search(text))


@dataclass(frozen=True)
class CategoryRule:
    """How a flagged mention's categories are chosen from the category head and the cue phrases, as tuned on the
    dev sets (listener.nlp.train.calibrate.tune_category_rule) and stored in meta.json:
    - `thresholds`: the head's probability a category needs, per category;
    - `cues`: "add" (a cue phrase adds its category), "confirm" (only where the head gives it at least half its
      threshold: the text names it and the model half agrees) or "off";
    - `most`: at most this many categories, the surest first (by probability over threshold); 0 = no cap.
    A flagged mention with none gets the head's likeliest category."""

    thresholds: Mapping[str, float]
    cues: str = "add"
    most: int = 0

    @classmethod
    def from_meta(cls, thresholds: Mapping[str, Any]) -> CategoryRule:
        """From meta.json's `thresholds`; artefacts from before per-category tuning have one `category` value."""
        single = float(thresholds.get("category", 0.5))
        by_name: Mapping[str, float] = thresholds.get("category_by_name") or {}
        return cls({c: float(by_name.get(c, single)) for c in CATEGORIES},
                   str(thresholds.get("category_cues", "add")), int(thresholds.get("max_categories", 0)))

    def choose(self, text: str, probabilities: Sequence[float]) -> tuple[str, ...]:
        probs = dict(zip(CATEGORIES, probabilities, strict=True))
        named = {c for c in CATEGORIES if probs[c] >= self.thresholds[c]}
        if self.cues != "off":
            named.update(c for c in cue_categories(text)
                         if self.cues == "add" or probs[c] >= self.thresholds[c] / 2)
        if not named:
            return (max(CATEGORIES, key=lambda c: probs[c]),)
        if self.most and len(named) > self.most:
            named = set(sorted(named, key=lambda c: -probs[c] / self.thresholds[c])[: self.most])
        return tuple(c for c in CATEGORIES if c in named)

