"""A helpdesk channel in the running app: `listener doctor` signs in (a test alert would open a ticket, so
--send-test sends none), and the periodic read-back job works on the app's own channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from listener.app import App
from listener.clock import FakeClock
from listener.ops.doctor import _channel
from tests.delivery.helpdesk.support import CASES, Case, helpdesk_settings, set_secrets


@pytest.mark.parametrize("case", CASES, ids=str)
def test_doctor_signs_in_and_names_a_wrong_token(case: Case, tmp_path: Path, clock: FakeClock,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with case.make(clock) as fake:
        set_secrets(monkeypatch, case)
        app = App(helpdesk_settings(case, fake.base_url, f"sqlite:///{tmp_path / 'l.db'}"), clock=clock)
        for send_test in (False, True):
            result = _channel(app.channels["desk"], send_test, app)
            assert result.status == "ok" and "signed in as" in result.detail, result
        set_secrets(monkeypatch, case, token="wrong")
        result = _channel(app.channels["desk"], False, app)
        assert result.status == "FAIL" and "HTTP 401" in result.detail and "desk-token" in result.detail
        assert fake.calls("POST", "/") == []  # nothing was opened
        app.close()


def test_the_periodic_job_reads_the_channel_back_through_the_app(tmp_path: Path, clock: FakeClock,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """What the daemon (or a cluster node) runs every poll_every: the app's own channel, read back."""
    from listener.periodic import periodic_jobs
    from listener.store.models import TaskRow
    from tests.delivery.helpdesk.support import complaint_by, ticket_ids

    case = CASES[0]
    with case.make(clock) as fake:
        set_secrets(monkeypatch, case)
        app = App(helpdesk_settings(case, fake.base_url, f"sqlite:///{tmp_path / 'l.db'}"), clock=clock)
        app.migrate()
        task_id = complaint_by(app.store, app.settings, clock, "anna", "Acme is broken")
        assert app.deliver().sent == 1
        fake.solve(ticket_ids(fake)[0])  # type: ignore[attr-defined]
        [job] = [j for j in periodic_jobs(app.settings) if j.name == "helpdesk-desk"]
        job.run(app)
        with app.store.read() as session:
            assert session.get_one(TaskRow, task_id).status == "resolved"
        app.close()
