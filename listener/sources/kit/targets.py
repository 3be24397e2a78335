"""Failure stays local inside a source: each target (a page, a country, a hashtag, a subreddit …) is polled on
its own, and one that fails is recorded while the others go on.

    targets = Targets(self.name)
    for url in urls:
        with targets.target(url):
            ...  # read the target; commit its items and cursor state only at the end of the block
    return Batch(items, next_cursor, failed_targets=targets.failed())

A failing target keeps its previous cursor state, so the next poll retries it from where it was: nothing is
lost, nothing stored twice. Rate limits are the platform's answer to the whole source and end the poll; when
every target fails, the first failure ends the poll as it would for a single-target source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from listener.sources.kit.errors import RateLimited, SourceError, describe

log = logging.getLogger(__name__)


class Targets:
    def __init__(self, source: str):
        self.source = source
        self.succeeded = 0
        self._failed: dict[str, str] = {}
        self._first: SourceError | None = None

    @contextmanager
    def target(self, name: str) -> Iterator[None]:
        """Poll one target inside the block: a SourceError (other than RateLimited) is recorded, not raised."""
        try:
            yield
        except RateLimited:
            raise
        except SourceError as exc:
            self._failed[name] = describe(exc)
            self._first = self._first or exc
            log.warning("event=target_failed source=%s target=%s error=%r", self.source, name, describe(exc))
        else:
            self.succeeded += 1

    def failed(self) -> dict[str, str]:
        """The failed targets and their errors; raises the first failure when no target succeeded."""
        if self._first is not None and not self.succeeded:
            self._first.failed_targets = dict(self._failed)
            raise self._first
        return dict(self._failed)
