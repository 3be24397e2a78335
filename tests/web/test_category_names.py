"""The deployment's names of the service categories ([digest] category_names) and languages by name (not "en")
in the care inbox, as in the digest."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from listener.clock import FakeClock
from listener.config import parse_settings
from listener.store.engine import Store, upgrade
from tests.web_support import SECRET_ENV, add_users, seed_task, serving, sign_in, web_settings


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('names')}/listener.db")
    upgrade(store)
    yield store
    store.dispose()


def test_queue_and_task_page_say_the_deployments_category_name_and_language_names(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, os.urandom(16).hex())
    clock = FakeClock()
    plain = web_settings(str(store.engine.url))
    raw = plain.model_dump(mode="json", exclude_none=True)
    settings = parse_settings({**raw, "digest": {"category_names": {"delivery": "Pünktlichkeit"}}})
    task = seed_task(store, clock, categories=("delivery",))
    add_users(store, clock, anna="agent")
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        for lang in ("de", "en"):
            client.headers["accept-language"] = lang
            sign_in(client, "anna")
            queue = client.get("/queue").text
            page = client.get(f"/tasks/{task}").text
            assert "Pünktlichkeit" in queue and "Pünktlichkeit" in page, lang
            assert "Lieferung" not in queue and ">delivery<" not in queue, lang
            english = {"de": "Englisch", "en": "English"}[lang]
            assert english in queue and f", {english}" in page, lang
