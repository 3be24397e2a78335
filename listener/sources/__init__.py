"""Sources: one module per platform, each registering a `Source` subclass under its `kind`; what they share
lives in `kit/`."""

from listener.sources.kit import (
    BadPayload,
    ClientError,
    RateLimited,
    Source,
    SourceContext,
    SourceError,
    SourceSettings,
    SourceUnavailable,
    get_source_class,
    load_builtin_sources,
    registry,
)

__all__ = [
    "BadPayload", "ClientError", "RateLimited", "Source", "SourceContext", "SourceError", "SourceSettings",
    "SourceUnavailable", "get_source_class", "load_builtin_sources", "registry",
]
