"""`listener doctor` on a helpdesk channel: an authenticated read of who we are there (a test alert would open a
ticket, so --send-test does not send one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from listener.app import App
from listener.clock import FakeClock
from listener.ops.doctor import _channel
from tests.helpdesk.support import CASES, Case, helpdesk_settings, set_secrets


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
