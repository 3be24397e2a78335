"""Old posts page nobody: a rule raises a task only for a mention published at most `[[rule]] max_age` (default
48 h) before it was stored.

A new source's feed often holds weeks of history, and a platform may hand over old posts late (a search index
catching up). Those mentions are stored and scored as usual — the digest and the mentions page count them — but
no task and no alert come of them: they are "kept quiet". A mention without a publication time counts as new.
"""

from __future__ import annotations

from listener.acting.rules import Facts, RuleSettings, matching_rules
from listener.store.models import MentionRow


def is_fresh(rule: RuleSettings, mention: MentionRow) -> bool:
    if mention.published_at is None:
        return True
    return mention.fetched_at - mention.published_at <= rule.max_age


def fresh_rules(rules: list[RuleSettings], mention: MentionRow) -> list[RuleSettings]:
    return [rule for rule in rules if is_fresh(rule, mention)]


def kept_quiet(rules: list[RuleSettings], facts: Facts, mention: MentionRow) -> bool:
    """Some rule would have raised a task, but the mention is older than every matching rule's max_age (copies of
    a story never raise one anyway)."""
    if mention.canonical_id is not None:
        return False
    matched = matching_rules(rules, facts)
    return bool(matched) and not fresh_rules(matched, mention)
