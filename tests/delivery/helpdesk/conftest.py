"""The fixtures every helpdesk test shares: the module's helpdesk (its `CASE`, or test_contract's parametrised
`case`), its stand-in server, the settings of a channel to it, and the migrated store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from listener.clock import FakeClock
from listener.config import Settings
from listener.store.engine import Store
from tests.alerting import migrated_store
from tests.delivery.helpdesk.fake_api import FakeApi
from tests.delivery.helpdesk.support import Case, helpdesk_settings, set_secrets


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    return request.module.CASE  # type: ignore[no-any-return]


@pytest.fixture
def fake(case: Case, clock: FakeClock) -> Iterator[FakeApi]:
    with case.make(clock) as server:
        yield server


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'l.db'}"


@pytest.fixture
def settings(case: Case, fake: FakeApi, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    set_secrets(monkeypatch, case)
    return helpdesk_settings(case, fake.base_url, db_url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = migrated_store(settings.database.url)
    yield store
    store.dispose()
