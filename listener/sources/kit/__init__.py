"""What every source shares: the interface and registry, typed errors, the HTTP fetcher, HTML to text, field
helpers, cursor marks, paging until the last known item, per-target failures and secrets.

Platform modules import from here (`from listener.sources.kit import Source, register, …`); the kit imports
no platform module.
"""

from listener.sources.kit.credentials import source_secret
from listener.sources.kit.errors import (
    BadPayload,
    ClientError,
    RateLimited,
    SourceError,
    SourceUnavailable,
    describe,
)
from listener.sources.kit.fields import as_dict, as_int, as_text, counts, iso_time, search_terms, unix_time
from listener.sources.kit.html import html_to_text
from listener.sources.kit.http import (
    HttpFetcher,
    HttpSettings,
    parse_json,
    parse_rate_limit_reset,
    parse_retry_after,
    validators_of,
)
from listener.sources.kit.marks import newest_mark
from listener.sources.kit.paging import read_until_known
from listener.sources.kit.source import (
    BrandTerms,
    Source,
    SourceContext,
    SourceFactory,
    SourceSettings,
    get_source_class,
    load_builtin_sources,
    register,
    registry,
)
from listener.sources.kit.targets import Targets

__all__ = [
    "BadPayload", "BrandTerms", "ClientError", "HttpFetcher", "HttpSettings", "RateLimited", "Source",
    "SourceContext", "SourceError", "SourceFactory", "SourceSettings", "SourceUnavailable", "Targets", "as_dict",
    "as_int", "as_text", "counts", "describe", "get_source_class", "html_to_text", "iso_time", "load_builtin_sources",
    "newest_mark", "parse_json", "parse_rate_limit_reset", "parse_retry_after", "read_until_known", "register",
    "registry", "search_terms", "source_secret", "unix_time", "validators_of",
]
