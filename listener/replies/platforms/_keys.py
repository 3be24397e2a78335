"""A secret that is there but cannot be used (not a .p8 key, not a service account key file).

Not a platform module (the leading underscore keeps the registry from taking it for a source kind).
"""

from __future__ import annotations

from listener.replies.platforms.base import ReplyAuthError
from listener.secrets import MissingSecret


class UnusableSecret(ReplyAuthError, MissingSecret):
    """Raised by `make_client`: a credentials problem (ReplyAuthError) that whoever builds clients treats like a
    missing secret (the outbox fails the reply with this message, `listener doctor` names it)."""
