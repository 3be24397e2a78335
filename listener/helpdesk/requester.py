"""Who the helpdesk ticket is from: one function, so the hand-off can read the contact (issue #24, contacts) the
day it exists instead of the task's mention author.

For now the requester is the mention's author identity: the platform (source kind), the account name the
platform gives, and a profile URL where one follows from it (Reddit, Hacker News, Bluesky, Mastodon, Discourse).
The external id is stable — the same author on the same platform is the same requester in the helpdesk — and no
e-mail address is ever made up.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session

from listener.helpdesk.model import Requester
from listener.ops.privacy import PSEUDONYM_PREFIX
from listener.store.models import MentionRow, TaskRow

MAX_NAME = 200


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def _mastodon(handle: str, mention: MentionRow) -> str | None:
    user, _, host = handle.lstrip("@").partition("@")
    base = f"https://{host}" if host else _origin(mention.url)  # a local account lives where the post does
    return f"{base}/@{quote(user)}" if base and user else None


PROFILES: dict[str, Callable[[str, MentionRow], str | None]] = {
    "reddit": lambda h, m: f"https://www.reddit.com/user/{quote(h)}",
    "hackernews": lambda h, m: f"https://news.ycombinator.com/user?id={quote(h)}",
    "bluesky": lambda h, m: f"https://bsky.app/profile/{quote(h)}",
    "mastodon": _mastodon,
    "discourse": lambda h, m: f"{base}/u/{quote(h)}" if (base := _origin(m.url)) else None,
}


def requester_for_mention(mention: MentionRow, prefix: str = "listener") -> Requester:
    platform = mention.source_kind
    handle = (mention.author or "").strip() or None
    if handle is None:  # nobody to recognise again: a requester of this mention alone
        return Requester(external_id=f"{prefix}-contact:{platform}:mention-{mention.id}",
                         name=f"Unknown author on {platform}", profile_url=None, platform=platform, handle=None)
    pseudonymised = handle.startswith(PSEUDONYM_PREFIX)
    profile = None if pseudonymised or platform not in PROFILES else PROFILES[platform](handle, mention)
    return Requester(external_id=f"{prefix}-contact:{platform}:{handle}"[:250], name=handle[:MAX_NAME],
                     profile_url=profile, platform=platform, handle=handle)


def requester_for_task(session: Session, task: TaskRow, prefix: str = "listener") -> Requester:
    """The requester of `task`'s ticket. Replace the body with the task's contact once contacts exist."""
    return requester_for_mention(task.mention, prefix)
