from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import text

from listener.clock import FakeClock
from listener.demo.command import sample_feeds
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.store.engine import Store, upgrade
from tests.tiny_model import build_tiny_model


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'listener.db'}")
    upgrade(s)
    yield s
    s.dispose()


def sample_feed(path: str) -> bytes:
    return (resources.files("listener.demo") / "feeds" / path.lstrip("/")).read_bytes()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """The sample feeds as `listener demo` serves them: dated as if read now, so their posts are fresh enough to
    raise tasks ([[rule]] max_age) whatever the date the tests run on."""
    with FeedServer(sample_feeds()) as server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("LISTENER_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("LISTENER_TEST_POSTGRES_URL not set (.ci/run starts a PostgreSQL server and sets it)")
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    store.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and, where .ci/run provides one, on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'listener.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def negative_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model that calls every text negative: each mention becomes a task (the alerting flow tests)."""
    return build_tiny_model(tmp_path_factory.mktemp("model"), labels=["negative", "neutral", "positive"],
                            bias=[4.0, 0.0, 0.0])
