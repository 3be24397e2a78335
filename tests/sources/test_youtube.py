"""YouTube commentThreads against a local fake Data API.

There is no recorded YouTube response in ../shared/wild, so the payloads below are built by hand from the
documented shapes: the `commentThreads.list` response (kind youtube#commentThreadListResponse, nextPageToken,
pageInfo, items of youtube#commentThread with snippet.topLevelComment = youtube#comment) and the Google API
error body (`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`), see
https://developers.google.com/youtube/v3/docs/commentThreads/list and .../docs/errors.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources import youtube
from listener.sources.kit import (
    BadPayload,
    ClientError,
    HttpFetcher,
    HttpSettings,
    RateLimited,
    SourceContext,
    SourceUnavailable,
    get_source_class,
)
from listener.sources.youtube import YouTubeSettings, YouTubeSource
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
KEY = "AIzaSyTEST-not-a-real-key"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 01:00 in Los Angeles: 23 h to the quota reset


def comment_thread(comment_id: str, video_id: str, published: str, text_html: str, author: str,
                   likes: int = 0, replies: int = 0) -> dict[str, Any]:
    """One youtube#commentThread resource as commentThreads.list (part=snippet) documents it."""
    return {
        "kind": "youtube#commentThread",
        "etag": f"etag-{comment_id}",
        "id": comment_id,
        "snippet": {
            "channelId": CHANNEL,
            "videoId": video_id,
            "topLevelComment": {
                "kind": "youtube#comment",
                "etag": f"etag-c-{comment_id}",
                "id": comment_id,
                "snippet": {
                    "channelId": CHANNEL,
                    "videoId": video_id,
                    "textDisplay": text_html,
                    "textOriginal": text_html.replace("<br>", "\n"),
                    "authorDisplayName": author,
                    "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/photo=s48-c-k-c0x00ffffff-no-rj",
                    "authorChannelUrl": f"http://www.youtube.com/{author}",
                    "authorChannelId": {"value": "UCauthor" + comment_id[-6:]},
                    "canRate": True,
                    "viewerRating": "none",
                    "likeCount": likes,
                    "publishedAt": published,
                    "updatedAt": published,
                },
            },
            "canReply": True,
            "totalReplyCount": replies,
            "isPublic": True,
        },
    }


def google_error(code: int, reason: str, message: str, domain: str = "youtube.commentThread") -> bytes:
    return json.dumps({"error": {"code": code, "message": message,
                                 "errors": [{"message": message, "domain": domain, "reason": reason}]}}).encode()


QUOTA_EXCEEDED = google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                              "your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota")


class FakeYouTube(ApiServer):
    """`/youtube/v3/commentThreads`: newest first, `maxResults` per page, opaque page tokens."""

    def __init__(self) -> None:
        self.threads: dict[str, list[dict[str, Any]]] = {}  # channel id or video id → threads
        self.fail_for: dict[str, tuple[int, dict[str, str], bytes]] = {}  # per video id
        super().__init__()
        self.api_url = self.base_url + "/youtube/v3"

    def answer(self, request: Request) -> Reply:
        query = {k: v[0] for k, v in request.params.items()}
        target = query.get("videoId") or query.get("allThreadsRelatedToChannelId") or ""
        if target in self.fail_for:
            return self.fail_for[target]
        if request.path != "/youtube/v3/commentThreads":
            return 404, {"Content-Type": "text/html"}, b"<html>404 Not Found</html>"
        if request.headers.get("X-Goog-Api-Key") != KEY:
            return 400, {"Content-Type": "application/json"}, google_error(400, "keyInvalid", "API key not valid.",
                                                                           "usageLimits")
        return 200, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(self.page(target, query)).encode()

    def queries(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in r.params.items()} for r in self.requests]

    def page(self, target: str, query: dict[str, str]) -> dict[str, Any]:
        threads = sorted(self.threads.get(target, []),
                         key=lambda t: t["snippet"]["topLevelComment"]["snippet"]["publishedAt"], reverse=True)
        size = int(query["maxResults"])
        start = int(query.get("pageToken", "p0")[1:])
        chunk = threads[start:start + size]
        answer: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "etag": "list-etag",
            "pageInfo": {"totalResults": len(chunk), "resultsPerPage": size},
            "items": chunk,
        }
        if start + size < len(threads):
            answer["nextPageToken"] = f"p{start + size}"
        return answer


def channel_threads() -> list[dict[str, Any]]:
    return [
        comment_thread("UgzAcme0000000000001", "dQw4w9WgXcQ", "2026-01-05T08:41:07Z",
                       "Acme&#39;s hotline kept me waiting 2 hours &lt;3<br>never again "
                       "<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=42\">0:42</a>",
                       "@angrycustomer", likes=17, replies=3),
        comment_thread("UgzAcme0000000000002", "dQw4w9WgXcQ", "2026-01-05T07:12:00Z",
                       "Great video, thanks!", "@fan", likes=2),
        comment_thread("UgzAcme0000000000003", "9bZkp7q19f0", "2026-01-04T22:00:59Z",
                       "Die Acme-Hotline ist seit Tagen nicht erreichbar.", "@kunde_de", likes=0, replies=1),
    ]


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("LISTENER_YOUTUBE_API_KEY", KEY)
    with FakeYouTube() as fake:
        fake.threads[CHANNEL] = channel_threads()
        yield fake


BRANDS = [BrandSettings(name="Acme", terms=["Acme"])]


def make_source(fake: FakeYouTube, clock: FakeClock | None = None, **settings: Any) -> YouTubeSource:
    clock = clock or FakeClock(START)
    values = {"name": "yt", "channel_id": CHANNEL, "base_url": fake.api_url, **settings}
    return YouTubeSource(YouTubeSettings(**values),
                         SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock),
                                       brands=BRANDS, clock=clock))


def test_registered_and_settings_validated() -> None:
    assert get_source_class("youtube") is YouTubeSource
    settings = YouTubeSettings(name="yt", video_ids=["a", "a", "b"])
    assert settings.video_ids == ["a", "b"] and settings.daily_quota == 10_000
    assert str(settings.base_url) == "https://www.googleapis.com/youtube/v3"
    with pytest.raises(ValueError, match="channel_id or video_ids"):
        YouTubeSettings(name="yt")
    with pytest.raises(ValueError):
        YouTubeSettings(name="yt", channel_id="UC1", api_key="inline keys are refused")


def test_first_poll_reads_one_page_of_the_channel(api: FakeYouTube) -> None:
    batch = make_source(api).poll({})

    [request] = api.requests
    query, headers, path = api.queries()[0], request.headers, request.path
    assert query == {"part": "snippet", "order": "time", "maxResults": "100",
                     "allThreadsRelatedToChannelId": CHANNEL}
    assert headers["X-Goog-Api-Key"] == KEY and KEY not in path + str(query)  # never in the URL

    assert [m.external_id for m in batch.items] == ["UgzAcme0000000000001", "UgzAcme0000000000002",
                                                    "UgzAcme0000000000003"]
    first = batch.items[0]
    assert first.source_kind == "youtube" and first.source_name == "yt"
    assert first.text == "Acme's hotline kept me waiting 2 hours <3 never again 0:42"
    assert first.author == "@angrycustomer"
    assert first.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAcme0000000000001"
    assert first.published_at == datetime(2026, 1, 5, 8, 41, 7, tzinfo=UTC)
    assert first.reach == {"likes": 17, "replies": 3}
    assert first.thread_id == "dQw4w9WgXcQ"
    assert batch.items[2].text == "Die Acme-Hotline ist seit Tagen nicht erreichbar."
    assert batch.next_cursor == {"newest": {f"channel:{CHANNEL}": "2026-01-05T08:41:07+00:00"},
                                 "quota": {"day": "2026-01-05", "used": 1}}


def test_next_poll_pages_back_only_to_the_newest_comment_seen(api: FakeYouTube, monkeypatch) -> None:
    monkeypatch.setattr(youtube, "PAGE_SIZE", 2)
    source = make_source(api)
    cursor = source.poll({}).next_cursor  # one page: the two newest
    newer = [comment_thread(f"UgzNew{i:014d}", "dQw4w9WgXcQ", f"2026-01-05T09:0{i}:00Z", f"Acme #{i}", "@x")
             for i in range(1, 4)]
    api.threads[CHANNEL].extend(newer)
    api.requests.clear()

    batch = source.poll(cursor)
    # pages: [new3, new2], [new1, 0001 (the mark, seen before)] → stops without reading older pages
    assert [q.get("pageToken") for q in api.queries()] == [None, "p2"]
    assert [m.external_id for m in batch.items] == ["UgzNew00000000000003", "UgzNew00000000000002",
                                                    "UgzNew00000000000001", "UgzAcme0000000000001"]
    assert batch.next_cursor["newest"] == {f"channel:{CHANNEL}": "2026-01-05T09:03:00+00:00"}
    assert batch.next_cursor["quota"] == {"day": "2026-01-05", "used": 3}


def test_channel_and_videos_are_separate_targets(api: FakeYouTube) -> None:
    api.threads["vid1"] = [comment_thread("UgzVid1", "vid1", "2026-01-05T01:00:00Z", "Acme vid1", "@a")]
    batch = make_source(api, video_ids=["vid1", "vid2"]).poll({})
    selectors = [(q.get("allThreadsRelatedToChannelId"), q.get("videoId")) for q in api.queries()]
    assert selectors == [(CHANNEL, None), (None, "vid1"), (None, "vid2")]
    assert "UgzVid1" in {m.external_id for m in batch.items}
    assert set(batch.next_cursor["newest"]) == {f"channel:{CHANNEL}", "video:vid1"}  # vid2 had nothing
    assert batch.next_cursor["quota"]["used"] == 3


def test_daily_quota_is_counted_and_stops_until_midnight_pacific(api: FakeYouTube, monkeypatch) -> None:
    monkeypatch.setattr(youtube, "PAGE_SIZE", 1)
    clock = FakeClock(START)
    source = make_source(api, clock=clock, daily_quota=3, max_pages=10)
    cursor = {"newest": {f"channel:{CHANNEL}": "2026-01-01T00:00:00+00:00"}}

    batch = source.poll(cursor)
    assert len(api.requests) == 3 and len(batch.items) == 3  # the fourth page would exceed the quota
    assert batch.next_cursor["quota"] == {"day": "2026-01-05", "used": 3}

    api.requests.clear()
    with pytest.raises(RateLimited) as caught:
        source.poll(batch.next_cursor)
    assert api.requests == []
    reset = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)  # midnight PST
    assert caught.value.retry_after == pytest.approx((reset - START).total_seconds())

    clock.advance(timedelta(hours=23))  # a new Pacific day: the counter starts again
    later = source.poll(batch.next_cursor)
    assert later.next_cursor["quota"]["day"] == "2026-01-06"
    assert 1 <= later.next_cursor["quota"]["used"] <= 3


def test_quota_exceeded_answer_is_rate_limited_until_midnight_pacific(api: FakeYouTube) -> None:
    api.fail = (403, {"Content-Type": "application/json; charset=UTF-8"}, QUOTA_EXCEEDED)
    with pytest.raises(RateLimited) as caught:
        make_source(api).poll({})
    assert caught.value.retry_after == pytest.approx(23 * 3600)


def test_a_video_with_comments_disabled_does_not_block_the_others(api: FakeYouTube) -> None:
    api.fail_for["vid-off"] = (403, {"Content-Type": "application/json"},
                               google_error(403, "commentsDisabled", "The video has disabled comments."))
    batch = make_source(api, video_ids=["vid-off"]).poll({})
    assert len(batch.items) == 3
    assert batch.next_cursor["quota"]["used"] == 2


def test_a_failing_video_is_listed_and_keeps_its_mark(api: FakeYouTube) -> None:
    api.threads["vid-a"] = [comment_thread("UgzVidA1", "vid-a", "2026-01-05T08:00:00Z", "Acme again", "@a")]
    source = make_source(api, video_ids=["vid-a"])
    first = source.poll({})
    assert first.failed_targets == {} and "video:vid-a" in first.next_cursor["newest"]

    api.fail_for["vid-a"] = (500, {"Content-Type": "application/json"}, google_error(500, "backendError", "Oops"))
    api.threads[CHANNEL].append(comment_thread("UgzAcmeNew", "dQw4w9WgXcQ", "2026-01-05T08:59:00Z", "Acme?", "@b"))
    batch = source.poll(first.next_cursor)
    assert list(batch.failed_targets) == ["video:vid-a"] and "500" in batch.failed_targets["video:vid-a"]
    assert [m.external_id for m in batch.items if m.external_id == "UgzAcmeNew"] == ["UgzAcmeNew"]
    assert batch.next_cursor["newest"]["video:vid-a"] == first.next_cursor["newest"]["video:vid-a"]


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (400, {"Content-Type": "application/json"}, google_error(400, "keyInvalid", "API key not valid.",
                                                             "usageLimits"), ClientError),
    (404, {"Content-Type": "text/html"}, b"<html><body>Error 404 (Not Found)!!1</body></html>", ClientError),
    (429, {"Retry-After": "30", "Content-Type": "application/json"},
     google_error(429, "rateLimitExceeded", "slow down", "youtube.api"), RateLimited),
    (500, {"Content-Type": "application/json"}, google_error(500, "backendError", "Backend Error", "global"),
     SourceUnavailable),
    (200, {"Content-Type": "application/json"}, b'{"kind": "youtube#commentThreadListResponse", "items": [{"ki',
     BadPayload),
    (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><title>Sorry...</title></html>", BadPayload),
    (200, {"Content-Type": "application/json"}, b'{"kind": "youtube#commentThreadListResponse"}', BadPayload),
    (200, {"Content-Type": "application/json"}, b'{"items": [{"kind": "youtube#commentThread", "snippet": {}}]}',
     BadPayload),
])
def test_error_shapes_raise_typed_errors(api: FakeYouTube, status, headers, body, error) -> None:
    api.fail = (status, headers, body)
    with pytest.raises(error) as caught:
        make_source(api).poll({})
    if status == 429:
        assert caught.value.retry_after == 30


def test_missing_api_key_is_a_client_error(api: FakeYouTube, monkeypatch) -> None:
    monkeypatch.delenv("LISTENER_YOUTUBE_API_KEY")
    with pytest.raises(ClientError, match="LISTENER_YOUTUBE_API_KEY"):
        make_source(api).poll({})
    assert api.requests == []


def contract() -> ContractCase:
    """YouTube's fixture for the contract suite: commentThreads of one channel, as the Data API documents them."""

    def api(clock: FakeClock) -> FakeYouTube:
        fake = FakeYouTube()
        fake.threads[CHANNEL] = channel_threads()
        return fake

    def news(fake: FakeYouTube, when: datetime) -> str:
        fake.threads[CHANNEL].append(comment_thread("UgzAcmeLate", "dQw4w9WgXcQ", when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                    "acme support never called back", "@late"))
        return "UgzAcmeLate"

    return ContractCase(server=api, brands=BRANDS, now=START, news=news, secrets={"LISTENER_YOUTUBE_API_KEY": KEY},
                        settings=lambda fake: {"channel_id": CHANNEL, "base_url": fake.base_url + "/youtube/v3"})
