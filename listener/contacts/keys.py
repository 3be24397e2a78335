"""Which identity wrote a mention: the platform, the account key, and what suggestions compare.

Same platform + same account key = the same identity, automatically. The key is the platform's stable account id
where the source reports one (`Mention.author_id`: a Bluesky DID, a YouTube channel id, a Trustpilot consumer id,
an App Store reviewer id, a Stack Exchange user id); otherwise the handle, where handles are unique on the platform
(Reddit, Hacker News, Mastodon `user@instance`, Bluesky, a Discourse forum); otherwise `name:` + the name as
shown — a display name is not proof of one account, but it is all these platforms give (Google Play, feeds,
schema.org reviews), and it is what the contact history compared before contacts existed.

Kinds that read one site each (discourse, stackexchange, feed, reviews, and kinds this module does not know) are
one platform per site: `discourse:forum.example.de`. Nothing here merges across platforms.

Migration 0012_contacts keys existing mentions with a frozen copy of `name_account` and `platform_of`; a test
checks that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from listener.text import words

# Platforms that are one site whatever source reads them; every other kind is one platform per site (host).
GLOBAL_PLATFORMS = frozenset({"reddit", "hackernews", "mastodon", "bluesky", "youtube", "appstore", "googleplay",
                              "trustpilot"})
# Handles that name exactly one account on the platform (so the handle is the key when no id is given) …
UNIQUE_HANDLES = frozenset({"reddit", "hackernews", "mastodon", "bluesky", "discourse"})
# … and the platforms where they are case-insensitive.
CASE_INSENSITIVE = frozenset({"reddit", "mastodon", "bluesky", "discourse"})
NAME_PREFIX = "name:"
MIN_NAME_KEY = 4  # shorter folded names ("max", "bob") suggest nothing


@dataclass(frozen=True)
class IdentityKey:
    platform: str
    account: str  # the key: the id, the handle, or name: + the name
    handle: str
    display_name: str | None
    profile_url: str | None
    # The handle-based key an identity stored before its platform id was known (backfilled mentions); an identity
    # found under it is the same account when handles are unique on the platform, and takes the id as its key.
    legacy_account: str | None = None

    @property
    def name_key(self) -> str | None:
        return name_key(local_name(self.platform, self.handle))

    @property
    def display_key(self) -> str | None:
        key = name_key(self.display_name) if self.display_name else None
        return key if key != self.name_key else None


_HOST = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?([^/?#:@\s]+)")


def host_of(url: str | None) -> str | None:
    """The host of a link, lower-case, without `www.` (a regular expression: the backfill calls it per mention)."""
    match = _HOST.match(url or "")
    if not match:
        return None
    host = match.group(1).lower()
    return host[4:] if host.startswith("www.") else host


def platform_of(kind: str, url: str | None, source_name: str) -> str:
    """`reddit`, or `discourse:forum.example.de` (by the mention's link, else the configured source's name)."""
    if kind in GLOBAL_PLATFORMS:
        return kind
    host = host_of(url)
    return f"{kind}:{host}" if host else f"{kind}:source={source_name}"


def name_account(kind: str, handle: str, url: str | None) -> str:
    """The key from the handle alone (see the module docstring)."""
    name = handle.strip()
    if kind == "mastodon":
        name = name.lstrip("@")
        host = host_of(url)
        if "@" not in name and host:  # a local account: its instance is the status's host
            name = f"{name}@{host}"
    if kind in CASE_INSENSITIVE:
        name = name.lower()
    return name if kind in UNIQUE_HANDLES else NAME_PREFIX + name


def local_name(platform: str, handle: str) -> str:
    """The part of a handle people use as their name: `kundin77` of `kundin77@mastodon.social` and of
    `kundin77.bsky.social`."""
    if platform == "mastodon":
        return handle.lstrip("@").split("@")[0]
    if platform == "bluesky":
        return handle.removesuffix(".bsky.social")
    return handle


def name_key(name: str | None) -> str | None:
    """`kundin_77`, `Kundin77` and `Kündin 77` → `kuendin77`-style folded keys; None when too short to mean much."""
    if not name:
        return None
    key = "".join(words(name))[:200]
    return key if len(key) >= MIN_NAME_KEY else None


def profile_key(url: str | None) -> str | None:
    """A profile URL in one spelling: https, lower-case host without www., no trailing slash or fragment."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = host_of(url)
    if not host:
        return None
    path = parts.path.rstrip("/")
    return f"https://{host}{path}" + (f"?{parts.query}" if parts.query else "")


def derived_profile(kind: str, handle: str, url: str | None) -> str | None:
    """The profile URL of a handle where the platform's URL scheme gives it."""
    name = handle.strip()
    if kind == "reddit":
        return f"https://reddit.com/user/{quote(name.removeprefix('u/').removeprefix('/u/'))}"
    if kind == "hackernews":
        return f"https://news.ycombinator.com/user?id={quote(name)}"
    if kind == "bluesky":
        return f"https://bsky.app/profile/{quote(name)}"
    if kind == "discourse" and host_of(url):
        return f"https://{host_of(url)}/u/{quote(name)}"
    if kind == "mastodon":
        user, _, host = name.lstrip("@").partition("@")
        host = host or host_of(url) or ""
        return f"https://{host}/@{quote(user)}" if host else None
    return None


_HANDLE_LIKE = re.compile(r"(?:(?<![\w@])@|\bu/)([\w][\w.\-]{2,})|\b([A-Za-z]+[_\-.]?\d+\w*|[A-Za-z]+_\w+)\b")


def named_handles(text: str) -> set[str]:
    """Name keys of what a text names like a handle: `@kundin77`, `u/kundin_77`, `kundin_77`, `Max1987`
    (plain words are not handles: every text would name someone)."""
    found = set()
    for at_name, handle_like in _HANDLE_LIKE.findall(text):
        key = name_key((at_name or handle_like).split("@")[0])
        if key:
            found.add(key)
    return found


def identity_key(kind: str, source_name: str, url: str | None, author: str | None, author_id: str | None = None,
                 author_url: str | None = None, author_name: str | None = None,
                 pseudonymise: Callable[[str], str] | None = None, hashed: bool = False) -> IdentityKey | None:
    """The identity that wrote a mention, or None when the platform names nobody.

    With `pseudonymise` (`[privacy] pseudonymise_authors`) the handle and the account id are replaced by their
    keyed hashes first, as the stored mention's author is; `hashed` says they already are (a stored mention). Then
    the profile URL and the display name, which name the person, are not kept."""
    handle = (author or "").strip()
    account_id = (author_id or "").strip()
    if not handle and not account_id:
        return None
    if pseudonymise is not None:
        handle = pseudonymise(handle) if handle else ""
        account_id = pseudonymise(account_id) if account_id else ""
        hashed = True
    platform = platform_of(kind, url, source_name)
    legacy = name_account(kind, handle, url) if handle else None
    account = account_id or legacy
    assert account is not None
    handle = handle or account_id
    profile = None if hashed else profile_key(author_url) or profile_key(derived_profile(kind, handle, url))
    display = None if hashed else (author_name or "").strip() or None
    return IdentityKey(platform, account[:500], handle[:500], display[:500] if display else None,
                       profile[:1000] if profile else None, legacy[:500] if legacy and legacy != account else None)
