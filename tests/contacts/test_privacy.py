"""`listener privacy export|erase --contact ID`: every identity of the contact, on every platform. After the erase
no table holds her handles, names, profile links or words (SQLite file dump, every PostgreSQL table), someone
else's data stays, and the audit records the request without repeating it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.activity import add_note
from listener.cli import cli
from listener.clock import FakeClock
from listener.contacts import contact_for_mention
from listener.contacts.linking import link
from listener.contacts.models import Contact, ContactLink, Identity
from listener.ops.privacy import export_section, export_sections
from listener.store.engine import Store, upgrade
from listener.store.models import PrivacyAudit, TaskEvent, TaskRow
from tests.contacts.support import complaint, platform, say, settings
from tests.dbdump import dump

HER_WORDS = ["kundin_77", "Kundin77", "Anna Example", "mastodon.social/@Kundin77", "Girokonto", "Überziehungszinsen",
             "Filiale Köln"]


def run(config: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_export_and_erase_by_contact(tmp_path: Path, database_url: str, clock: FakeClock) -> None:
    store = Store(database_url)
    upgrade(store)
    cfg = settings()
    forum, mastodon = platform("discourse", "forum", clock), platform("mastodon", "mastodon", clock)
    in_forum, task = complaint(store, cfg, clock, forum, "kundin_77", text="Acme hat mein Girokonto gesperrt")
    clock.advance(timedelta(minutes=10))
    follow_up, _ = complaint(store, cfg, clock, forum, "kundin_77", text="Acme: immer noch Überziehungszinsen")
    toot = say(store, mastodon, clock, "Kundin77", "Acme Filiale Köln hat wieder zu",
               url="https://mastodon.social/@Kundin77/9", author_name="Anna Example")
    other, other_task = complaint(store, cfg, clock, forum, "bert_b", text="Acme app crashes on login")
    with store.write() as session:
        here = contact_for_mention(session, in_forum)
        there = contact_for_mention(session, toot)
        assert here and there
        link(session, here.id, there.id, "alice", clock.now(), "same name: discourse “kundin_77”, mastodon “Kundin77”",
             task_id=task)
        add_note(session, task, "kundin_77 rief an, Girokonto entsperren", "alice", clock.now())
    store.dispose()
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n')

    def tickets(session: Session, mention_ids: list[int], task_ids: list[int]) -> Any:
        return [{"task": task_id, "ticket": f"T-{task_id}"} for task_id in task_ids]

    export_section("helpdesk_tickets")(tickets)
    try:
        exported = json.loads(run(config, "privacy", "export", "--contact", str(there.id), "--by", "dpo"))
    finally:
        export_sections.pop("helpdesk_tickets")
    assert exported["request"] == {"contact": here.id}  # the contact she was linked into
    assert sorted(m["id"] for m in exported["mentions"]) == sorted([in_forum, follow_up, toot])
    assert {m["source_kind"] for m in exported["mentions"]} == {"discourse", "mastodon"}
    by_id = {m["id"]: m for m in exported["mentions"]}
    assert by_id[follow_up]["follow_up_of_task"] == task and by_id[in_forum]["task"]["id"] == task
    assert {(i["platform"], i["handle"], i["display_name"]) for i in exported["contact"]["identities"]} == {
        ("discourse:forum.example", "kundin_77", None), ("mastodon", "Kundin77", "Anna Example")}
    assert exported["contact"]["links"][0]["linked_by"] == "alice"
    assert exported["helpdesk_tickets"] == [{"task": task, "ticket": f"T-{task}"}]

    store = Store(database_url)
    assert all(word in dump(store) for word in HER_WORDS)
    assert "--contact covers every platform" in run(config, "privacy", "erase", "--contact", "1", "--source", "forum",
                                                    "--yes", code=2)
    assert "no contact #999" in run(config, "privacy", "erase", "--contact", "999", "--yes", code=1)
    out = run(config, "privacy", "erase", "--contact", str(here.id), "--by", "dpo", "--yes")
    assert "mentions 3" in out and "identities 2" in out

    text = dump(store)
    for word in HER_WORDS:
        assert word not in text, word
    assert "bert_b" in text and "app crashes on login" in text  # someone else's data stays
    with store.read() as session:
        assert session.get_one(Contact, here.id).erased_at is not None
        assert {i.handle for i in session.scalars(select(Identity))} == {"bert_b"}
        assert session.scalars(select(ContactLink.reason)).one() is None
        assert session.scalars(select(ContactLink.linked_by)).one() == "alice"  # who linked when stays
        assert all(e.detail is None for e in session.scalars(select(TaskEvent).where(TaskEvent.task_id == task)))
        assert session.get_one(TaskRow, other_task).reasons  # bert's task untouched
        audits = [(a.action, a.selector, a.counts.get("mentions")) for a in session.scalars(
            select(PrivacyAudit).order_by(PrivacyAudit.id))]
        assert audits == [("export", "contact", 3), ("erase", "contact", 3)]
    assert other
    store.dispose()
