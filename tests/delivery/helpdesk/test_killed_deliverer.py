"""A real `listener deliver` process killed (os._exit, no cleanup) at the commit that would store the ticket id the
helpdesk just answered with: the next deliverer releases the dead process's claims at once, finds the ticket by
its external id and opens no second one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listener.clock import FakeClock
from listener.config import load_settings
from listener.delivery.claims import release_dead_claims
from listener.store.models import AlertRow
from tests.alerting import migrated_store
from tests.delivery.helpdesk.support import (
    CASES,
    Case,
    alerts,
    complaint_by,
    deliver,
    handoff,
    helpdesk_config,
    set_secrets,
    ticket_ids,
)

DIE_BEFORE_STORING_THE_TICKET = textwrap.dedent("""
    import os, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from listener.store.models import HandoffRow

    @event.listens_for(Session, "before_commit")
    def _die(session):
        if any(isinstance(o, HandoffRow) and o.ticket_id is not None for o in session.dirty):
            os._exit(9)

    from listener.cli import main
    sys.argv = ["listener", "-c", sys.argv[1], "deliver"]
    main()
""")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_deliverer_killed_before_storing_the_ticket_leaves_one_ticket(case: Case, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(datetime.now(UTC))  # the child delivers on the real clock
    set_secrets(monkeypatch, case)
    with case.make(clock) as fake:
        config = tmp_path / "listener.toml"
        config.write_text(helpdesk_config(case, fake.base_url, f"sqlite:///{tmp_path / 'listener.db'}",
                                          '\n[metrics]\nlisten = "127.0.0.1:0"\n'))
        settings = load_settings(config)
        store = migrated_store(settings.database.url)
        task_id = complaint_by(store, settings, clock, "kundin_77", "Acme charged me twice")

        child = subprocess.run([sys.executable, "-c", DIE_BEFORE_STORING_THE_TICKET, str(config)],
                               capture_output=True, text=True, timeout=120)
        assert child.returncode == 9, child.stderr[-2000:]
        assert len(ticket_ids(fake)) == 1  # the helpdesk opened it …
        assert handoff(store, task_id).ticket_id is None  # … we never stored its id
        with store.read() as session:
            assert session.query(AlertRow).one().status == "sending"

        assert release_dead_claims(store, clock.now()) == 1  # what the next start does
        report = deliver(store, settings, clock)  # the hand-off's opening claim is the dead child's: taken over
        assert report.sent == 1, report.errors
        assert len(ticket_ids(fake)) == 1 and fake.violations == []
        assert handoff(store, task_id).ticket_id == str(ticket_ids(fake)[0])
        assert [s for _, s, _ in alerts(store)] == ["sent"]
        store.dispose()
