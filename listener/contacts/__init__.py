"""Contacts: the people behind mentions, across platforms, and one conversation per customer (docs/contacts.md).

    keys.py         which identity wrote a mention (platform + account key), name and profile keys
    models.py       Contact, Identity, IdentityMention, MentionHandle, ContactLink, TaskFollowUp, TaskMerge
    ingest.py       each stored mention linked to its identity, in the poll's transaction
    lookup.py       a mention's or task's contact with its identities (public: contact_for_task, contact_for_mention)
    settings.py     `[[rule]] task.join` (the window)
    joining.py      a new mention joins its contact's open task (`[[rule]] task.join`), in the scoring transaction
    hooks.py        on_follow_up: code run when a mention joins an open task
    suggestions.py  contacts that may be the same person (profile URL, name, a text naming a handle)
    linking.py      an agent links two contacts or undoes a link, logged
    history.py      the contact's history for the task page (mentions, tasks, outcomes; more providers pluggable)
    merging.py      an agent merges two open tasks
    forget.py       what a privacy erase and retention do to identities (`listener privacy … --contact ID`:
                    listener/ops/privacy.py)
    cli.py          `listener contacts list|show|link|unlink`
"""

from listener.contacts.hooks import FollowUp, on_follow_up
from listener.contacts.lookup import ContactCard, IdentityCard, contact_card, contact_for_mention, contact_for_task

__all__ = ["ContactCard", "FollowUp", "IdentityCard", "contact_card", "contact_for_mention", "contact_for_task",
           "on_follow_up"]
