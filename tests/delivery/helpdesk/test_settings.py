"""The helpdesk channel kinds in the config: typed, every mistake named by its key, helpdesks kept out of spikes
and grouped rules, one read-back job per channel; the requester derived from the mention's author."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listener.clock import FakeClock
from listener.config import ConfigError, parse_settings
from listener.delivery.helpdesk.requester import requester_for_mention
from listener.delivery.helpdesk.settings import ZendeskSettings
from listener.ops.privacy import pseudonym
from listener.periodic import periodic_jobs
from listener.store.models import MentionRow
from tests.alerting import migrated_store
from tests.delivery.helpdesk.support import CASES, alerts, complaint_by, deliver, helpdesk_config

ZENDESK = """
[[channel]]
name = "desk"
kind = "zendesk"
url = "https://acme.zendesk.com/"
email = "agent@acme.test"
token_secret = "desk-token"
"""


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(tomllib.loads(text))
    return caught.value.problems


def test_a_helpdesk_channel_is_typed_settings() -> None:
    settings = parse_settings(tomllib.loads(ZENDESK))
    [channel] = settings.channel
    assert isinstance(channel, ZendeskSettings) and channel.url == "https://acme.zendesk.com"
    assert channel.poll_cron == "*/5 * * * *"
    assert [(j.name, j.cron) for j in periodic_jobs(settings) if j.name.startswith("helpdesk")] == [
        ("helpdesk-desk", "*/5 * * * *")]


@pytest.mark.parametrize(("extra", "key", "words"), [
    ('tokn_secret = "x"', "channel[0].tokn_secret", "unknown key"),
    ('poll_every = "7m"', "channel[0].poll_every", "must divide an hour or a day"),
    ('priorities = { P4 = "low" }', "channel[0].priorities", "P1, P2, P3"),
    ('external_id_prefix = "Listener Prod"', "channel[0].external_id_prefix", "lower-case"),
])
def test_a_wrong_key_is_named(extra: str, key: str, words: str) -> None:
    [(where, message)] = problems(ZENDESK + extra)
    assert where == key and words in message


def test_a_missing_key_is_named() -> None:
    [(where, message)] = problems(ZENDESK.replace('email = "agent@acme.test"\n', ""))
    assert (where, message) == ("channel[0].email", "Field required")


def test_a_helpdesk_takes_no_spike_and_no_grouped_rule() -> None:
    [(where, message)] = problems(ZENDESK + '[[spike]]\nname = "s"\nnotify = ["desk"]\n')
    assert where == "spike[0].notify" and "task alerts only" in message
    [(where, message)] = problems(ZENDESK + '[[rule]]\nname = "r"\nnotify = ["desk"]\n'
                                            'group = { by = ["brand"] }\n')
    assert where == "rule[0].notify" and "one ticket per task" in message


def test_a_missing_token_fails_the_alert_and_says_where_to_put_it(tmp_path: Path, clock: FakeClock,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTENER_DESK_TOKEN", raising=False)
    settings = parse_settings(tomllib.loads(helpdesk_config(CASES[0], "http://127.0.0.1:9",
                                                            f"sqlite:///{tmp_path / 'l.db'}")))
    store = migrated_store(settings.database.url)
    complaint_by(store, settings, clock, "anna", "Acme is broken")
    deliver(store, settings, clock)
    [(_, status, error)] = alerts(store)
    assert status == "pending" and error and "$LISTENER_DESK_TOKEN" in error
    store.dispose()


def mention(kind: str, author: str | None, url: str | None = None) -> MentionRow:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    return MentionRow(id=41, source_id=1, source_kind=kind, external_id="x", url=url, author=author, text="t",
                      fetched_at=now, content_hash="h")


@pytest.mark.parametrize(("kind", "author", "url", "profile"), [
    ("reddit", "kundin_77", None, "https://www.reddit.com/user/kundin_77"),
    ("hackernews", "pg", None, "https://news.ycombinator.com/user?id=pg"),
    ("bluesky", "anna.bsky.social", None, "https://bsky.app/profile/anna.bsky.social"),
    ("mastodon", "anna@social.example", None, "https://social.example/@anna"),
    ("mastodon", "anna", "https://chaos.social/@anna/1", "https://chaos.social/@anna"),
    ("discourse", "anna", "https://forum.acme.example/t/login/12/3", "https://forum.acme.example/u/anna"),
    ("appstore", "Anna K.", "https://apps.apple.com/x", None),  # a display name: no profile to link
])
def test_the_requester_is_the_author_on_their_platform(kind: str, author: str, url: str | None,
                                                       profile: str | None) -> None:
    requester = requester_for_mention(mention(kind, author, url))
    assert requester.external_id == f"listener-contact:{kind}:{author}"
    assert (requester.name, requester.profile_url, requester.platform) == (author, profile, kind)


def test_an_unknown_or_pseudonymised_author_gets_no_made_up_identity() -> None:
    nobody = requester_for_mention(mention("feed", None))
    assert nobody.external_id == "listener-contact:feed:mention-41" and nobody.profile_url is None
    hidden = pseudonym("kundin_77", b"key")
    assert requester_for_mention(mention("reddit", hidden)).profile_url is None  # never a link to a hash
