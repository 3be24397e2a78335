from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from listener.clock import FakeClock
from listener.demo.servers import FeedServer
from listener.matching import BrandMatcher, BrandSettings
from listener.pipeline import poll_source
from listener.sources.feed import FeedSettings, FeedSource
from listener.sources.kit import BadPayload, HttpFetcher, HttpSettings, RateLimited, SourceContext, SourceUnavailable
from listener.store.models import MentionRow, SourceHealth, SourceRow
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.wild import wild_bytes

ACME = [BrandSettings(name="Acme", terms=["Acme", "Acme Bank"])]


def feed_source(url: str, clock: FakeClock, **http: object) -> FeedSource:
    context = SourceContext(http=HttpFetcher(HttpSettings(**http), clock), brands=ACME, clock=clock)
    return FeedSource(FeedSettings(name="forum", url=url), context)


def test_rss_entries_become_mentions(feed_server: FeedServer, clock: FakeClock) -> None:
    batch = feed_source(feed_server.url("/forum-de.xml"), clock).poll({})
    assert len(batch.items) == 6
    first = batch.items[0]
    assert first.external_id == "https://forum.example.de/t/1842"
    assert first.author == "kundin_77"
    # 01:58 in a sample read at 09:00; the fixture serves the samples as if read now
    assert first.published_at is not None
    assert timedelta(hours=7) <= datetime.now(UTC) - first.published_at <= timedelta(hours=7, minutes=5)
    assert first.title == "Acme Bank sperrt seit einer Woche mein Konto"
    assert "Hotline" in first.text and "<" not in first.text
    assert first.lang_hint == "de"
    assert batch.next_cursor["etag"].startswith('"')


def test_atom_html_content_is_plain_text(feed_server: FeedServer, clock: FakeClock) -> None:
    batch = feed_source(feed_server.url("/reviews-en.xml"), clock).poll({})
    item = batch.items[0]
    assert item.text.startswith("I was double charged for my card fee")
    assert item.author == "jenny_k"
    assert item.url == "https://moneytalk.example.com/p/99120"


def test_conditional_get_304_costs_no_parse(feed_server: FeedServer, clock: FakeClock,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = feed_source(feed_server.url("/forum-de.xml"), clock)
    first = source.poll({})
    parses = []
    real_parse = feedparser.parse
    monkeypatch.setattr(feedparser, "parse", lambda *a, **k: parses.append(1) or real_parse(*a, **k))
    second = source.poll(first.next_cursor)
    assert second.not_modified and second.items == [] and parses == []
    assert feed_server.requests[-1][1]["If-None-Match"] == first.next_cursor["etag"]
    assert feed_server.requests[-1][1]["If-Modified-Since"] == FeedServer.LAST_MODIFIED


def test_ids_fall_back_to_link_then_content_hash(clock: FakeClock) -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>Acme one</title><link>https://x.example/1</link></item>
      <item><title>Acme two</title><description>no id, no link</description></item>
    </channel></rss>"""
    with FeedServer({"/f": (rss, "application/rss+xml")}) as server:
        items = feed_source(server.url("/f"), clock).poll({}).items
        again = feed_source(server.url("/f"), clock).poll({}).items
    assert items[0].external_id == "https://x.example/1"
    assert items[1].external_id.startswith("sha256:")
    assert [i.external_id for i in items] == [i.external_id for i in again]


def test_malformed_feed_that_still_parses_keeps_its_entries(clock: FakeClock) -> None:
    # A newline before <?xml and an unescaped ampersand: feedparser flags bozo but returns the entries.
    rss = b"""\n<?xml version="1.0"?><rss version="2.0"><channel><title>Q & A</title>
      <item><guid isPermaLink="false">urn:post:a</guid><title>Acme broke my card & my day</title></item>
      <item><guid isPermaLink="false">urn:post:b</guid><title>Acme again</title></item></channel></rss>"""
    with FeedServer({"/f": (rss, "application/rss+xml")}) as server:
        items = feed_source(server.url("/f"), clock).poll({}).items
    assert [i.external_id for i in items] == ["urn:post:a", "urn:post:b"]


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (429, {"Retry-After": "120"}, b"slow down", RateLimited),
    (503, {}, b"down", SourceUnavailable),
    (200, {"Content-Type": "text/html"}, b"<html><body><h1>Error</h1></body></html>", BadPayload),
    (200, {"Content-Type": "application/json"}, b'{"version": "https://jsonfeed.org/version/1", "items": [',
     BadPayload),
])
def test_bad_answers_raise_typed_errors(clock: FakeClock, status: int, headers: dict, body: bytes,
                                        error: type[Exception]) -> None:
    with FeedServer({}) as server:
        server.fail["/f"] = (status, headers, body)
        with pytest.raises(error) as info:
            feed_source(server.url("/f"), clock, retries=0).poll({})
    if status == 429:
        assert info.value.retry_after == 120  # type: ignore[attr-defined]


def test_short_retry_after_is_retried_within_the_poll_without_real_sleep(clock: FakeClock) -> None:
    with FeedServer({}) as server:
        server.fail["/f"] = (429, {"Retry-After": "3"}, b"")
        with pytest.raises(RateLimited):
            feed_source(server.url("/f"), clock, retries=2).poll({})
        assert server.hits("/f") == 3
    assert clock.slept == [3.0, 3.0]


def test_oversized_response_is_refused(clock: FakeClock) -> None:
    big = b"<rss>" + b"x" * 5000 + b"</rss>"
    with FeedServer({"/f": (big, "application/rss+xml")}) as server, pytest.raises(BadPayload, match="cap"):
        feed_source(server.url("/f"), clock, max_bytes=2048).poll({})


def test_poll_stores_brand_mentions_and_skips_the_rest(store, feed_server: FeedServer, clock: FakeClock) -> None:  # noqa: ANN001
    source = feed_source(feed_server.url("/forum-de.xml"), clock)
    report = poll_source(store, source, BrandMatcher(ACME), clock)
    assert (report.fetched, report.stored, report.unmatched) == (6, 4, 2)  # the Globex post is not about Acme
    again = poll_source(store, source, BrandMatcher(ACME), clock)
    assert again.not_modified and again.stored == 0
    with store.read() as session:
        assert session.query(MentionRow).count() == 4
        row = session.query(SourceRow).one()
        assert row.cursor["etag"]


def test_failures_are_recorded_in_health_and_back_off(store, clock: FakeClock) -> None:  # noqa: ANN001
    with FeedServer({}) as server:
        server.fail["/f"] = (500, {}, b"boom")
        source = feed_source(server.url("/f"), clock, retries=0)
        report = poll_source(store, source, BrandMatcher(ACME), clock)
        assert report.error and "500" in report.error
        with store.read() as session:
            health = session.query(SourceHealth).one()
            assert health.consecutive_failures == 1 and "500" in (health.last_error or "")
            assert health.next_attempt_at is not None and health.next_attempt_at > clock.now()
        skipped = poll_source(store, source, BrandMatcher(ACME), clock)
        assert skipped.skipped_until is not None and server.hits("/f") == 1
        # The platform recovers; after the backoff the next poll succeeds and health resets.
        del server.fail["/f"]
        server.routes["/f"] = (b"<rss version='2.0'><channel><item><guid>1</guid><title>Acme ok</title></item>"
                               b"</channel></rss>", "application/rss+xml")
        clock.advance(health.next_attempt_at - clock.now())
        ok = poll_source(store, source, BrandMatcher(ACME), clock)
        assert ok.stored == 1
        with store.read() as session:
            health = session.query(SourceHealth).one()
            assert health.consecutive_failures == 0 and health.last_success_at == clock.now()


HEISE = "feeds/realworld/rbren__rss-parser/test/input/heise.atom"


def contract() -> ContractCase:
    """The feed source's fixture for the contract suite: heise's recorded Atom feed, tied to one brand."""
    feed = wild_bytes(HEISE)

    def answer(request: Request) -> Reply:
        return 200, {"Content-Type": "application/atom+xml"}, feed

    def news(server: ApiServer, when: datetime) -> str:
        nonlocal feed
        entry = (f"<entry><title>heise: neu</title><id>http://heise.de/-9999999</id><updated>{when.isoformat()}"
                 f"</updated><summary>Eine neue Meldung.</summary></entry>\n    <entry>").encode()
        feed = feed.replace(b"<entry>", entry, 1)
        return "http://heise.de/-9999999"

    return ContractCase(server=lambda clock: ApiServer(answer), news=news,
                        brands=[BrandSettings(name="heise", terms=["heise"])],
                        now=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
                        settings=lambda server: {"url": server.url("/news.atom"), "brand": "heise"})
