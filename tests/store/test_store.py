"""The store: SQLite concurrency with BEGIN IMMEDIATE, migrations, and PostgreSQL when one is available."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from listener.store.engine import Store, upgrade
from listener.store.models import SourceRow

WRITERS, TRANSACTIONS = 4, 60


def _read_then_write(url: str, worker: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store(url)
    try:
        for _ in range(TRANSACTIONS):
            with store.write() as session:
                row = session.query(SourceRow).filter_by(name="counter").one()  # read …
                row.cursor = {"n": row.cursor["n"] + 1}  # … then write
    except Exception as exc:  # reported to the parent
        errors.put(f"worker {worker}: {exc}")
    finally:
        store.dispose()


def test_concurrent_read_then_write_transactions_never_fail_with_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = Store(url)
    upgrade(store)
    with store.write() as session:
        session.add(SourceRow(name="counter", kind="test", cursor={"n": 0}))
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    workers = [ctx.Process(target=_read_then_write, args=(url, i, errors)) for i in range(WRITERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    found = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert found == []
    with store.read() as session:
        assert session.query(SourceRow).filter_by(name="counter").one().cursor["n"] == WRITERS * TRANSACTIONS
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_upgrade_is_idempotent_and_reports_current(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(store)
    upgrade(store)
    assert store.is_current() and store.has_tables()
    store.dispose()


@pytest.mark.postgres
def test_postgresql_through_the_same_url_setting(postgres_url: str) -> None:
    store = Store(postgres_url)
    upgrade(store)
    assert store.is_current()
    with store.write() as session:
        session.add(SourceRow(name="pg", kind="feed", cursor={"etag": "x"}))
    with store.read() as session:
        assert session.query(SourceRow).one().cursor == {"etag": "x"}
    store.dispose()


def test_migrations_build_the_schema_the_models_declare(tmp_path: Path) -> None:
    """A hand-written migration that forgets a column or index shows up here, not on a customer's server."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import listener.contacts.models  # noqa: F401  (its tables share the store's metadata)
    import listener.surveys.models  # noqa: F401  (its table shares the store's metadata)
    from listener.store.models import Base

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(store)
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    store.dispose()
