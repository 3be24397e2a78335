"""Per-target failures inside a source (listener/sources/kit/targets.py) and their health record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from listener.pipeline import failing_targets
from listener.sources.kit import BadPayload, ClientError, RateLimited, SourceUnavailable, Targets
from listener.store.engine import Store, alembic_config, upgrade

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_failing_target_is_recorded_and_the_others_go_on() -> None:
    targets, polled = Targets("shop"), []
    for name in ("a", "b", "c"):
        with targets.target(name):
            if name == "b":
                raise BadPayload("no schema.org data")
            polled.append(name)
    assert polled == ["a", "c"]
    assert targets.failed() == {"b": "BadPayload: no schema.org data"}


def test_every_target_failing_raises_the_first_failure_naming_them_all() -> None:
    targets = Targets("shop")
    for name, error in (("a", SourceUnavailable("down")), ("b", ClientError("gone", status=404))):
        with targets.target(name):
            raise error
    with pytest.raises(SourceUnavailable) as info:
        targets.failed()
    assert info.value.failed_targets == {"a": "SourceUnavailable: down", "b": "ClientError: gone"}


def test_rate_limits_and_bugs_end_the_poll() -> None:
    targets = Targets("shop")
    with pytest.raises(RateLimited), targets.target("a"):
        raise RateLimited("429", retry_after=30)
    with pytest.raises(KeyError), targets.target("b"):
        raise KeyError("a bug is not a target failure")


def test_the_record_keeps_since_counts_polls_and_forgets_recovered_targets() -> None:
    first = failing_targets({}, {"a": "BadPayload: x", "b": "ClientError: y"}, NOW)
    assert first == {"a": {"error": "BadPayload: x", "since": NOW.isoformat(), "failures": 1},
                     "b": {"error": "ClientError: y", "since": NOW.isoformat(), "failures": 1}}
    later = failing_targets(first, {"a": "BadPayload: z"}, NOW + timedelta(hours=1))
    assert later == {"a": {"error": "BadPayload: z", "since": NOW.isoformat(), "failures": 2}}
    assert failing_targets(later, {}, NOW) == {}


def test_migration_0005_goes_down_and_up(store: Store) -> None:
    def columns() -> set[str]:
        with store.read() as session:
            return {row[1] for row in session.execute(text("PRAGMA table_info(source_health)"))}

    assert "failing_targets" in columns()
    command.downgrade(alembic_config(store), "0004")
    assert "failing_targets" not in columns()
    upgrade(store)
    assert "failing_targets" in columns() and store.is_current()
