"""The contract every source kind keeps, checked for each kind in the registry.

Each kind has a docs page and a block in the example config, turns HTTP 429 with Retry-After into RateLimited,
stores a batch once (the next poll stores nothing new), and after a failure shows it in its health and
recovers. The kind's own test module gives the fixture (`contract()`, see tests/sources/_contract.py); a new
source is one module, one fixture, one docs page (docs/architecture.md, "Adding a source").
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from listener.clock import FakeClock
from listener.matching import BrandMatcher
from listener.pipeline import poll_source
from listener.replies.platforms import with_reply_keys
from listener.sources.kit import (
    HttpFetcher,
    HttpSettings,
    RateLimited,
    Source,
    SourceContext,
    get_source_class,
    load_builtin_sources,
)
from listener.store.engine import Store
from listener.store.models import MentionRow, SourceRow
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer
from tests.sources._store import health

ROOT = Path(__file__).resolve().parents[2]
KINDS = sorted(load_builtin_sources())


def contract_of(kind: str) -> ContractCase:
    module = importlib.import_module(f"tests.sources.test_{kind}")
    make = getattr(module, "contract", None)
    assert make is not None, f"tests/sources/test_{kind}.py has no contract() fixture for the contract suite"
    case = make()
    assert isinstance(case, ContractCase)
    return case


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def case(kind: str, monkeypatch: pytest.MonkeyPatch) -> ContractCase:
    case = contract_of(kind)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for name, value in case.secrets.items():
        monkeypatch.setenv(name, value)
    return case


@pytest.fixture
def clock(case: ContractCase) -> FakeClock:
    return FakeClock(case.now)


@pytest.fixture
def platform(case: ContractCase, clock: FakeClock) -> Iterator[ApiServer]:
    with case.server(clock) as server:
        yield server


def make_source(kind: str, case: ContractCase, server: ApiServer, clock: FakeClock) -> Source:
    source_class = get_source_class(kind)
    settings = source_class.settings_model(name=f"contract-{kind}", kind=kind, **case.settings(server))
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=case.brands, clock=clock)
    return source_class(settings, context)


def stored_cursor(store: Store) -> dict[str, object]:
    with store.read() as session:
        return dict(session.scalars(select(SourceRow.cursor)).one())


def stored_ids(store: Store) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(MentionRow.external_id)))


def test_a_docs_page(kind: str) -> None:
    page = ROOT / "docs" / "sources" / f"{kind}.md"
    assert page.is_file(), f"docs/sources/{kind}.md is missing"
    assert f'kind = "{kind}"' in page.read_text(encoding="utf-8"), f"docs/sources/{kind}.md shows no config block"


def test_a_block_in_the_example_config(kind: str) -> None:
    example = tomllib.loads((ROOT / "config" / "listener.example.toml").read_text(encoding="utf-8"))
    blocks = [block for block in example.get("source", []) if block.get("kind") == kind]
    assert blocks, f"config/listener.example.toml has no [[source]] block of kind {kind!r}"
    for block in blocks:
        # every key it shows is a real key (the source's own, and the reply keys of its platform: listener/replies)
        with_reply_keys(get_source_class(kind).settings_model, kind).model_validate(block)


def test_429_with_retry_after_is_rate_limited(kind: str, case: ContractCase, platform: ApiServer,
                                              clock: FakeClock, store: Store) -> None:
    platform.fail = (429, {"Retry-After": "120", "Content-Type": "application/json"}, b'{"error": "slow down"}')
    source = make_source(kind, case, platform, clock)
    with pytest.raises(RateLimited) as info:
        source.poll({})
    assert info.value.retry_after == 120
    # through the pipeline: the source backs off for at least as long as the platform asked
    report = poll_source(store, source, BrandMatcher(case.brands), clock)
    assert report.error and report.error.startswith("RateLimited")
    next_attempt = health(store).next_attempt_at
    assert next_attempt is not None and next_attempt >= clock.now() + timedelta(seconds=120)


def test_a_batch_is_stored_once(kind: str, case: ContractCase, platform: ApiServer, clock: FakeClock,
                                store: Store) -> None:
    source = make_source(kind, case, platform, clock)
    matcher = BrandMatcher(case.brands)
    first = poll_source(store, source, matcher, clock)
    assert first.error is None and first.failed_targets == {} and first.stored > 0
    clock.advance(timedelta(minutes=10))
    again = poll_source(store, source, matcher, clock, force=True)
    assert again.error is None and again.stored == 0
    ids = stored_ids(store)
    assert len(ids) == len(set(ids)) == first.stored


def test_a_failure_shows_in_health_and_clears(kind: str, case: ContractCase, platform: ApiServer, clock: FakeClock,
                                              store: Store) -> None:
    source = make_source(kind, case, platform, clock)
    matcher = BrandMatcher(case.brands)
    first = poll_source(store, source, matcher, clock)
    assert first.error is None and first.stored > 0
    cursor = stored_cursor(store)

    # the platform fails while something new is posted: the failure is recorded, the cursor stays
    clock.advance(timedelta(minutes=5))
    new_id = case.news(platform, clock.now())
    platform.fail = (503, {"Content-Type": "text/html"}, b"<h1>503 Service Unavailable</h1>")
    failed = poll_source(store, source, matcher, clock)
    assert failed.error and failed.stored == 0
    h = health(store)
    assert h.consecutive_failures == 1 and h.last_error == failed.error and h.next_attempt_at is not None
    assert not any(secret in h.last_error for secret in case.secrets.values())  # secrets never reach the health
    assert stored_cursor(store) == cursor and len(stored_ids(store)) == first.stored

    # the platform is back: the new item is stored once, the health clears
    platform.fail = None
    clock.advance(timedelta(minutes=10))
    recovered = poll_source(store, source, matcher, clock, force=True)
    assert recovered.error is None and recovered.stored > 0
    h = health(store)
    assert h.consecutive_failures == 0 and h.next_attempt_at is None and h.failing_targets == {}
    assert h.last_success_at == clock.now()
    ids = stored_ids(store)
    assert new_id in ids and len(ids) == len(set(ids)) == first.stored + recovered.stored
    assert poll_source(store, source, matcher, clock, force=True).stored == 0
