"""Who the helpdesk ticket is from (`requester_for_task`, the one function the hand-off asks).

The requester is the task's contact (listener/contacts): external id `<prefix>-contact-<contact id>` — the same
person on every platform they were linked across is one requester in the helpdesk — with the name and the profile
URL of the identity that wrote the task's mention. A mention whose author is not a contact (no author, or stored
before contacts) falls back to the author identity itself: `<prefix>-contact:<platform>:<account>`, with a
profile URL where one follows from the handle (Reddit, Hacker News, Bluesky, Mastodon, Discourse). Either id is
stable, and no e-mail address is ever made up.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.contacts import contact_for_task
from listener.contacts.models import IdentityMention
from listener.delivery.helpdesk.model import Requester
from listener.domain import PSEUDONYM_PREFIX
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
    """The requester of `task`'s ticket: its contact, as the identity that wrote the task's mention shows them."""
    author = requester_for_mention(task.mention, prefix)
    card = contact_for_task(session, task.id)
    if card is None:
        return author
    wrote = session.scalar(select(IdentityMention.identity_id).where(IdentityMention.mention_id == task.mention_id))
    identity = next((i for i in card.identities if i.id == wrote), card.identities[0] if card.identities else None)
    if identity is None:
        return author
    name = identity.display_name or identity.handle or card.name
    return Requester(external_id=f"{prefix}-contact-{card.id}", name=name[:MAX_NAME],
                     profile_url=identity.profile_url or author.profile_url, platform=identity.kind,
                     handle=identity.handle or author.handle)
