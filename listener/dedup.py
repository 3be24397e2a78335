"""Duplicates.

Exact: the same (source, external id) is stored once — enforced by a unique constraint, and checked before
insert so a re-poll is cheap.

Copies: a cross-post or syndicated copy of a story already stored is linked to that first, *canonical*
mention (`canonical_id`), so one story alerts once; the copy is still stored and searchable.
  * identical normalised text → found through the indexed `content_hash`;
  * near-identical text (small edits, "via @x", "RT @x:", other URLs or footers) → MinHash over word
    3-shingles with LSH bands: each canonical mention stores BANDS band keys in `near_dup_keys` (indexed), a
    new mention looks its own keys up (an index lookup, not a scan, however large the store), and the few
    candidates found are confirmed by the exact Jaccard similarity of their shingle sets (≥ THRESHOLD).
Only copies of a mention first seen within WINDOW are linked: the same words weeks later are a new story.
Texts shorter than MIN_WORDS words are only linked when identical — two customers writing the same short
complaint are two cases. docs/matching.md has measured pairs and the false positive/negative behaviour.

Band keys are written by a flush hook on MentionRow (below), so every mention stored through the ORM —
the pipeline or anything else — is indexed with the same code that looks it up.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Mapper, Session

from listener.domain import Mention
from listener.store.models import MentionRow, NearDupKey
from listener.text import AnalysedText, analyse

_CHUNK = 500

SHINGLE = 3  # words per shingle
MIN_WORDS = 8  # shorter texts: exact copies only
THRESHOLD = 0.5  # Jaccard similarity of the shingle sets that makes a near-duplicate
BANDS, ROWS = 20, 3  # MinHash of BANDS*ROWS values; a pair becomes a candidate if one band agrees
MAX_CANDIDATES = 20  # confirmed by exact Jaccard, most band hits first
WINDOW = timedelta(days=14)

# MinHash permutations h -> (a*h + b) mod p (then 32 bits), with a, b derived from fixed strings: the stored
# band keys must never change with a library upgrade (they would silently stop matching).
_PRIME = (1 << 61) - 1
_PERM_A = np.array([int.from_bytes(hashlib.blake2b(f"listener-minhash-a-{i}".encode(), digest_size=4).digest())
                    | 1 for i in range(BANDS * ROWS)], dtype=np.uint64)
_PERM_B = np.array([int.from_bytes(hashlib.blake2b(f"listener-minhash-b-{i}".encode(), digest_size=4).digest())
                    for i in range(BANDS * ROWS)], dtype=np.uint64)
_MASK32 = np.uint64(0xFFFFFFFF)

# Decoration that differs between copies of one story.
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_RELAY = re.compile(r"^\s*RT\s+@\w+:?|\b(?:via|h/t|ht)\s+@\w+|\[\s*x-?post[^\]]*\]|\bx-?post(?:ed)?\s+from\s+\S+",
                    re.IGNORECASE)


DECORATION = (_URL, _RELAY)  # in this order: a relay marker is found in the text with its URLs blanked out


def mention_text(full_text: str) -> AnalysedText:
    """A mention's text normalised once (cached): matching, the content hash and the shingles all read it."""
    return analyse(full_text, DECORATION)


def content_hash(text: str) -> str:
    return mention_text(text).digest


def dedup_words(text: str) -> tuple[str, ...]:
    """Normalised words with URLs and relay markers ("RT @x:", "via @x", "[x-post r/…]") removed."""
    return mention_text(text).kept_words


def shingles(text_words: Sequence[str], size: int = SHINGLE) -> set[str]:
    return {" ".join(text_words[i : i + size]) for i in range(max(1, len(text_words) - size + 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def minhash(shingle_set: Iterable[str]) -> np.ndarray:
    """BANDS*ROWS minimum hash values (uint64 holding 32-bit values)."""
    hashes = np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest()) for s in shingle_set],
                      dtype=np.uint64)
    if hashes.size == 0:
        return np.full(BANDS * ROWS, _MASK32, dtype=np.uint64)
    # a, b, h < 2**32, so a*h + b < 2**64: no overflow
    permuted = ((np.outer(hashes, _PERM_A) + _PERM_B) % np.uint64(_PRIME)) & _MASK32
    return permuted.min(axis=0)


def band_keys(text_words: Sequence[str]) -> list[int]:
    """One signed 64-bit key per LSH band; [] for texts too short for near-duplicate detection."""
    if len(text_words) < MIN_WORDS:
        return []
    signature = minhash(shingles(text_words)).astype("<u4")
    keys = []
    for band in range(BANDS):
        chunk = signature[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


@lru_cache(maxsize=64)
def text_band_keys(text: str) -> tuple[int, ...]:
    """band_keys of a text (cached: the lookup and the insert hook of one mention both need them)."""
    return tuple(band_keys(dedup_words(text)))


def erased_external_id(source_id: int, external_id: str) -> str:
    """What an erased mention keeps of its platform id (listener/ops/privacy.py): enough to never import it again."""
    return "erased:" + hashlib.sha256(f"{source_id}:{external_id}".encode()).hexdigest()[:40]


def known_external_ids(session: Session, source_id: int, external_ids: Iterable[str]) -> set[str]:
    """The ids already stored for this source, erased ones included."""
    ids = list(dict.fromkeys(external_ids))
    known: set[str] = set()
    for start in range(0, len(ids), _CHUNK // 2):
        chunk = {i: i for i in ids[start : start + _CHUNK // 2]}
        chunk.update({erased_external_id(source_id, i): i for i in list(chunk)})
        known.update(chunk[found] for found in session.scalars(
            select(MentionRow.external_id).where(MentionRow.source_id == source_id,
                                                 MentionRow.external_id.in_(list(chunk)))
        ))
    return known


def canonical_for(session: Session, digest: str, mention: Mention | None = None,
                  window: timedelta = WINDOW) -> int | None:
    """The id of the canonical mention this one is a copy of, if any.

    Without `mention`: the first stored mention with the same normalised text (`digest`, from content_hash).
    With it: only mentions fetched within `window` before it, and near-identical texts count too.
    """
    exact = select(MentionRow.id).where(MentionRow.content_hash == digest, MentionRow.canonical_id.is_(None))
    if mention is not None:
        exact = exact.where(MentionRow.fetched_at >= mention.fetched_at - window)
    found = session.scalar(exact.order_by(MentionRow.id).limit(1))
    if found is not None or mention is None:
        return found
    return near_duplicate_of(session, mention, window)


def near_duplicate_of(session: Session, mention: Mention, window: timedelta = WINDOW) -> int | None:
    """The canonical mention (fetched within `window` before this one) whose text is near-identical, if any."""
    keys = text_band_keys(mention.full_text)
    if not keys:
        return None
    hits = func.count().label("hits")
    candidates = list(session.execute(
        select(NearDupKey.mention_id, hits).where(NearDupKey.band_key.in_(keys))
        .group_by(NearDupKey.mention_id).order_by(hits.desc(), NearDupKey.mention_id).limit(MAX_CANDIDATES)
    ))
    if not candidates:
        return None
    rows = session.execute(
        select(MentionRow.id, MentionRow.title, MentionRow.text).where(
            MentionRow.id.in_([c.mention_id for c in candidates]),
            MentionRow.canonical_id.is_(None),
            MentionRow.fetched_at >= mention.fetched_at - window,
        )
    )
    mine = shingles(dedup_words(mention.full_text))
    best: tuple[float, int] | None = None
    for row in rows:
        similarity = jaccard(mine, shingles(dedup_words(_full_text(row.title, row.text))))
        if similarity >= THRESHOLD and (best is None or (similarity, -row.id) > (best[0], -best[1])):
            best = (similarity, row.id)
    return None if best is None else best[1]


def _full_text(title: str | None, text: str) -> str:
    """The text of a stored row as Mention.full_text builds it (test_dedup checks they agree)."""
    if title and title.strip() and title.strip() not in text:
        return f"{title.strip()}\n{text}".strip()
    return text


@event.listens_for(MentionRow, "after_insert")
def _index_near_dup_keys(mapper: Mapper[Any], connection: Any, row: MentionRow) -> None:
    """Canonical mentions get their LSH band keys, in the same transaction as the mention itself."""
    if row.canonical_id is not None:
        return
    keys = text_band_keys(_full_text(row.title, row.text))
    if keys:
        connection.execute(insert(NearDupKey), [{"band_key": k, "mention_id": row.id} for k in set(keys)])
