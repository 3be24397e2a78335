"""Reading a newest-first listing until the last item already known (App Store, Google Play, Trustpilot)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from listener.domain import Mention

log = logging.getLogger(__name__)


def read_until_known(pages: Iterable[list[Mention]], known: datetime | None, max_pages: int,
                     source: str = "", kind: str = "") -> list[Mention]:
    """The mentions of `pages` (newest first, each page fetched only when asked for), read until a page
    reaches one published at or before `known`: one page when nothing is known yet, at most `max_pages`.
    Everything on the pages read is kept (a little overlap, which the store drops by external id), each id
    once. Running out of pages before reaching `known` is logged as a gap (event=<kind>_gap)."""
    limit = max_pages if known else 1
    items: list[Mention] = []
    ids: set[str] = set()
    for number, page in enumerate(pages, start=1):
        for mention in page:
            if mention.external_id not in ids:
                ids.add(mention.external_id)
                items.append(mention)
        if known and any(m.published_at and m.published_at <= known for m in page):
            break
        if number >= limit:
            if known:
                log.warning("event=%s_gap source=%s pages=%d: more new items than max_pages reads",
                            kind, source, limit)
            break
    return items
