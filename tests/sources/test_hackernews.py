"""Hacker News (Algolia) source against a real local HTTP server serving recorded Algolia answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources.hackernews import HackerNewsSettings, HackerNewsSource
from listener.sources.kit import (
    BadPayload,
    ClientError,
    HttpFetcher,
    HttpSettings,
    RateLimited,
    SourceContext,
    SourceUnavailable,
    get_source_class,
    search_terms,
)
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.wild import wild_bytes

HN = "hackernews/santiagobasulto__python-hacker-news/tests/requests/"

JSON = {"Content-Type": "application/json; charset=utf-8"}
EMPTY = json.dumps({"hits": [], "nbHits": 0, "page": 0, "nbPages": 0, "hitsPerPage": 2}).encode()
# the recorded hits are from 2018-11-15 ~21:10 UTC; the first poll looks back 24h from here
NOW = datetime(2018, 11, 15, 22, 0, tzinfo=UTC)


class Algolia:
    """Answers search_by_date like Algolia would for the two recorded pages: newest first, sliced by time."""

    def __init__(self) -> None:
        self.pages = [json.loads(wild_bytes(HN + "1.1.json")), json.loads(wild_bytes(HN + "1.2.json"))]
        self.fail: Reply | None = None

    def __call__(self, request: Request) -> Reply:
        path, params = request.path, request.params
        if self.fail:
            return self.fail
        if path != "/api/v1/search_by_date":
            return 404, JSON, b'{"message":"not found"}'
        lower, upper = 0, 2**40
        for clause in params["numericFilters"][0].split(","):
            if clause.startswith("created_at_i>"):
                lower = int(clause.split(">")[1])
            elif clause.startswith("created_at_i<="):
                upper = int(clause.split("<=")[1])
            elif clause.startswith("created_at_i<"):
                upper = int(clause.split("<")[1]) - 1
        hits = [h for page in self.pages for h in page["hits"] if lower < h["created_at_i"] <= upper]
        size = int(params["hitsPerPage"][0])
        return 200, JSON, json.dumps({"hits": hits[:size], "nbHits": len(hits), "hitsPerPage": size}).encode()


@pytest.fixture
def algolia() -> Iterator[tuple[ApiServer, Algolia]]:
    answers = Algolia()
    with ApiServer(answers) as server:
        yield server, answers


def make_source(base_url: str, clock: FakeClock, terms: list[str] | None = None, **settings: Any) -> HackerNewsSource:
    brands = [BrandSettings(name="Acme", terms=terms or ["Monsanto"])]
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=brands, clock=clock)
    config = HackerNewsSettings(name="hn", base_url=base_url + "/api/v1", hits_per_page=2, **settings)
    return HackerNewsSource(config, context)


def test_registered() -> None:
    assert get_source_class("hackernews") is HackerNewsSource


def test_search_terms_of_all_brands() -> None:
    brands = [BrandSettings(name="A", terms=["Acme", "  acme "]), BrandSettings(name="B", terms=["Beta Corp"],
                                                                                   competitor=True)]
    assert search_terms(brands) == ["Acme", "Beta Corp"]
    if "query" in BrandSettings.model_fields:  # boolean brand queries contribute their positive terms
        with_query = BrandSettings(name="C", query='("Acme Bank" OR acm*) AND NOT Roadrunner')
        assert search_terms([*brands, with_query]) == ["Acme", "Beta Corp", "Acme Bank", "acm"]


def test_first_poll_walks_time_slices(algolia: tuple[ApiServer, Algolia]) -> None:
    server, _ = algolia
    clock = FakeClock(NOW)
    batch = make_source(server.base_url, clock).poll({})

    assert [m.external_id for m in batch.items] == ["18463371", "18463370", "18463369", "18463367"]
    first = batch.items[0]
    assert first.author == "komali2"
    assert first.published_at == datetime(2018, 11, 15, 21, 10, 34, tzinfo=UTC)
    assert first.url == "https://news.ycombinator.com/item?id=18463371"
    assert first.title is None
    assert first.text.startswith("Your example perfectly illustrates why I prefer the California method.")
    assert "left/right check" in first.text and "I don't have to analyze" in first.text  # entities decoded
    assert "<p>" not in first.text
    assert first.thread_id == "18445714" and first.parent_id == "18453018"
    assert first.extra["type"] == "comment"
    assert first.extra["story_title"].startswith("Waymo CEO")
    assert first.fetched_at == NOW
    assert batch.items[1].text == "Not sure I'd want to try moonshine from Monsanto..."
    assert batch.next_cursor == {"created_at_i": 1542316234}

    # each request asks for the slice up to the oldest hit seen so far, until a page comes back short
    filters = [r.params["numericFilters"][0] for r in server.requests]
    window = int((NOW - timedelta(hours=24)).timestamp())
    assert filters == [f"created_at_i>{window}"] + [
        f"created_at_i>{window},created_at_i<={oldest}" for oldest in (1542316220, 1542316218, 1542316215)]
    params = server.requests[0].params
    assert params["query"] == ["Monsanto"]
    assert params["tags"] == ["(story,comment)"]


def test_phrase_terms_are_quoted_and_each_term_is_searched(algolia: tuple[ApiServer, Algolia]) -> None:
    server, _ = algolia
    batch = make_source(server.base_url, FakeClock(NOW), terms=["Acme Bank", "Monsanto"]).poll({})
    assert len(batch.items) == 4  # the same hits for both terms are kept once
    queries = {r.params["query"][0] for r in server.requests}
    assert queries == {'"Acme Bank"', "Monsanto"}


def test_second_poll_asks_only_for_newer_items(algolia: tuple[ApiServer, Algolia]) -> None:
    server, _ = algolia
    source = make_source(server.base_url, FakeClock(NOW), overlap="0s")
    cursor = source.poll({}).next_cursor
    server.requests.clear()
    batch = source.poll(cursor)
    assert batch.items == []
    assert batch.next_cursor == cursor
    assert [r.params["numericFilters"][0] for r in server.requests] == ["created_at_i>1542316234"]


def test_overlap_rereads_a_little(algolia: tuple[ApiServer, Algolia]) -> None:
    server, _ = algolia
    source = make_source(server.base_url, FakeClock(NOW), overlap="15s")
    batch = source.poll({"created_at_i": 1542316234})
    assert [m.external_id for m in batch.items] == ["18463371", "18463370"]  # within 15 s of the cursor
    assert server.requests[0].params["numericFilters"] == ["created_at_i>1542316219"]
    assert batch.next_cursor == {"created_at_i": 1542316234}


def test_stories_keep_title_points_and_comments() -> None:
    item = json.loads(wild_bytes(HN + "item.json"))  # a real story, in the shape of a search hit
    hit = {"objectID": str(item["id"]), "created_at_i": item["created_at_i"], "created_at": item["created_at"],
           "title": item["title"], "url": item["url"], "author": item["author"], "points": item["points"],
           "story_text": item["text"], "num_comments": len(item["children"]), "_tags": ["story", "show_hn"]}
    page = json.dumps({"hits": [hit], "nbHits": 1}).encode()
    with ApiServer(lambda request: (200, JSON, page)) as server:
        batch = make_source(server.base_url, FakeClock(datetime(2018, 11, 30, tzinfo=UTC))).poll({})
    (story,) = batch.items
    assert story.external_id == "18562744"
    assert story.title == "Show HN: RMOTR Notebooks – Free Online Data Science Environment"
    assert story.text.startswith("Hello HN. We're happy to show to the world a platform")
    assert story.reach == {"score": 11, "replies": len(item["children"])}
    assert story.thread_id == "18562744" and story.parent_id is None
    assert story.author == "santiagobasulto"
    assert story.published_at == datetime(2018, 11, 29, 18, 54, 44, tzinfo=UTC)


@pytest.mark.parametrize(("reply", "error"), [
    ((401, JSON, b'{"message":"Invalid Application-ID or API key","status":401}'), ClientError),
    ((404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>"), ClientError),
    ((429, {"Retry-After": "120", **JSON}, b'{"message":"Too many requests"}'), RateLimited),
    ((500, JSON, b'{"message":"Internal error"}'), SourceUnavailable),
    ((200, JSON, b'{"hits": [{"objectID": "1", "crea'), BadPayload),
    ((200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body>Service down</body></html>"), BadPayload),
    ((200, JSON, b'{"message": "no hits here"}'), BadPayload),
])
def test_error_shapes(algolia: tuple[ApiServer, Algolia], reply: Reply, error: type[Exception]) -> None:
    server, answers = algolia
    answers.fail = reply
    with pytest.raises(error) as caught:
        make_source(server.base_url, FakeClock(NOW)).poll({})
    if reply[0] == 429:
        assert caught.value.retry_after == 120  # type: ignore[attr-defined]
    if reply[0] in (401, 404):
        assert caught.value.status == reply[0]  # type: ignore[attr-defined]


def contract() -> ContractCase:
    """Hacker News's fixture for the contract suite: two recorded Algolia pages, sliced by time."""
    algolia = Algolia()

    def news(server: ApiServer, when: datetime) -> str:
        hit = dict(algolia.pages[0]["hits"][0], objectID="18463999", created_at_i=int(when.timestamp()),
                   comment_text="Monsanto again, says the late comment.")
        algolia.pages[0]["hits"].insert(0, hit)
        return "18463999"

    return ContractCase(server=lambda clock: ApiServer(algolia), now=NOW, news=news,
                        brands=[BrandSettings(name="Acme", terms=["Monsanto"])],
                        settings=lambda server: {"base_url": server.base_url + "/api/v1", "hits_per_page": 2})
