"""The source interface and the registry of source kinds.

A source turns `poll(cursor)` into a `Batch(items, next_cursor)`. It talks to its platform only through the
`HttpFetcher` it is given (or praw for Reddit), touches no database, and raises the typed errors of
`kit.errors`. Adding a platform = one module in `listener/sources/` that subclasses `Source`, declares its
`settings_model` and decorates itself with `@register`; `load_builtin_sources()` finds it.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from listener.clock import Clock, SystemClock
from listener.domain import Batch, Mention
from listener.durations import Duration
from listener.sources.kit.http import HttpFetcher


class SourceSettings(BaseModel):
    """Keys every `[[source]]` block has; each kind adds its own in a subclass."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="The source's unique name (letters, digits, `.`, `_`, `-`), as rules and logs refer "
                                  "to it.")
    kind: str = Field(description="The platform: one of the kinds below.")
    every: Duration = Field(default=timedelta(minutes=5), description="Poll interval.")
    jitter: Duration = Field(default=timedelta(seconds=10),
                             description="Up to this much random delay added to each poll, so sources do not poll in "
                                         "lockstep.")
    enabled: bool = Field(default=True, description="false: keep the source configured but do not poll it.")
    own_accounts: list[str] = Field(
        default_factory=list,
        description="Our own accounts on this platform (the care team's, the brand's): their posts, e.g. our replies "
                    "read back, are not mentions and are never stored or scored. Compared case-insensitively, "
                    "without a leading \"@\".")


class BrandTerms(Protocol):
    """What a source knows of a configured brand (`BrandSettings`): the words to ask a search API for."""

    def search_terms(self) -> list[str]: ...


@dataclass
class SourceContext:
    """What a source may use: the HTTP fetcher, the configured brands (for search terms), the clock."""

    http: HttpFetcher
    brands: Sequence[BrandTerms] = field(default_factory=list)
    clock: Clock = field(default_factory=SystemClock)


class Source(ABC):
    kind: ClassVar[str]
    settings_model: ClassVar[type[SourceSettings]]

    def __init__(self, settings: SourceSettings, context: SourceContext):
        self.settings = settings
        self.context = context

    @property
    def name(self) -> str:
        return self.settings.name

    @abstractmethod
    def poll(self, cursor: dict[str, Any]) -> Batch:
        """Fetch what is new since `cursor`; return it with the cursor to store alongside."""

    def mention(self, external_id: str, text: str, **fields: Any) -> Mention:
        """A Mention of this source: kind, instance name and (unless given) the fetch time filled in."""
        fields.setdefault("fetched_at", self.context.clock.now())
        return Mention(source_kind=self.kind, source_name=self.name, external_id=external_id, text=text, **fields)


registry: dict[str, type[Source]] = {}
S = TypeVar("S", bound=type[Source])


def register(cls: S) -> S:
    registry[cls.kind] = cls
    return cls


def load_builtin_sources() -> dict[str, type[Source]]:
    """Import every platform module of listener.sources, so each registers its kind (a new source needs no
    edit here); sub-packages such as `kit` are not platforms."""
    package = importlib.import_module("listener.sources")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.ispkg and not module.name.startswith("_"):
            importlib.import_module(f"listener.sources.{module.name}")
    return registry


def get_source_class(kind: str) -> type[Source]:
    load_builtin_sources()
    try:
        return registry[kind]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known kinds: {', '.join(sorted(registry))}") from None


SourceFactory = Callable[[SourceSettings, SourceContext], Source]
