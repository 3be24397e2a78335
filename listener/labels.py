"""The care team's own labels: what the model should have said about a stored mention.

A label is a person's verdict on one mention: its sentiment and, when it is a negative service experience, the
service categories it is about (listener/nlp/categories.py). Exported in the format of ../shared/eval (id,
sentiment, text, aspects), labelled mentions measure the model on your own traffic (`listener nlp eval FILE`)
and retrain it (`listener nlp train --data FILE`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES
from listener.store.models import MentionBrand, MentionLabel, MentionRow

EXPORT_COLUMNS = ("id", "sentiment", "text", "aspects")


class LabelError(ValueError):
    """A label that cannot be stored: unknown mention, sentiment or category."""


def label_mention(session: Session, mention_id: int, sentiment: str, service_categories: Sequence[str],
                  labelled_by: str | None, now: datetime) -> MentionLabel:
    """Store (or replace) the label of a mention. `service_categories` non-empty = a negative service experience,
    which by definition is negative about a concrete service: so it needs sentiment "negative"."""
    if sentiment not in SENTIMENTS:
        raise LabelError(f"sentiment {sentiment!r} is not one of {', '.join(SENTIMENTS)}")
    unknown = [c for c in service_categories if c not in CATEGORIES]
    if unknown:
        raise LabelError(f"unknown service category {unknown[0]!r}; one of {', '.join(CATEGORIES)}")
    if service_categories and sentiment != "negative":
        raise LabelError("a negative service experience is negative: give sentiment 'negative' or no category")
    mention = session.get(MentionRow, mention_id)
    if mention is None:
        raise LabelError(f"no mention #{mention_id}")
    categories = [c for c in CATEGORIES if c in service_categories]  # canonical order, no repeats
    if mention.label is None:
        mention.label = MentionLabel(sentiment=sentiment, service_categories=categories, labelled_by=labelled_by,
                                     labelled_at=now)
    else:
        mention.label.sentiment = sentiment
        mention.label.service_categories = categories
        mention.label.labelled_by = labelled_by
        mention.label.labelled_at = now
    return mention.label


def remove_label(session: Session, mention_id: int) -> bool:
    label = session.get(MentionLabel, mention_id)
    if label is None:
        return False
    session.delete(label)
    session.flush()
    return True


def export_labels(session: Session, out: TextIO, brand: str | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> int:
    """Write every labelled mention (of `brand`, labelled in [since, until), if given) as a TSV that
    `listener nlp eval|train` read; returns how many. The text is the one the scorer sees (title and body), with
    tabs and line breaks as spaces because the format has no quoting. A time cut gives a held-out set: train on
    the labels until a day, measure on the ones since."""
    query = select(MentionRow).join(MentionLabel).order_by(MentionRow.id)
    if brand:
        query = query.join(MentionBrand).where(MentionBrand.brand == brand)
    if since:
        query = query.where(MentionLabel.labelled_at >= since)
    if until:
        query = query.where(MentionLabel.labelled_at < until)
    writer = csv.writer(out, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for row in session.scalars(query):
        label = row.label
        assert label is not None  # joined on it
        text = " ".join(row.as_mention().full_text.split())
        aspects = " ".join(f"{c}:negative" for c in label.service_categories)
        writer.writerow([f"mention-{row.id}", label.sentiment, text, aspects])
        n += 1
    return n
