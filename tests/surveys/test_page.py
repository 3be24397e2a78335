"""The public survey page over real HTTP (uvicorn on loopback): answer once, change within 24 h, read-only after;
forged, foreign-salt and expired links; cross-site posts; the rate limit; the customer's comment stays text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from listener.surveys.models import SurveyAnswer
from listener.web.security import AckLinks
from tests.surveys.support import link_for, survey_settings
from tests.web_support import SECRET_ENV, seed_task, serving

TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, Store, FakeClock, str]]:
    monkeypatch.setenv(SECRET_ENV, "survey-test-secret")
    settings = survey_settings(f"sqlite:///{tmp_path / 'l.db'}")
    store, clock = Store(settings.database.url), FakeClock()
    upgrade(store)
    task_id = seed_task(store, clock, text="Acme lost my parcel SECRET-COMPLAINT", author="jenny_k", language="de")
    link = link_for(settings, store, task_id, clock)
    with serving(settings, store, clock) as base, httpx.Client(base_url=base, follow_redirects=False) as client:
        assert link.startswith(f"{base}/survey/")
        yield client, store, clock, link.removeprefix(base)
    store.dispose()


def post(client: httpx.Client, path: str, origin: str | None = "default", **data: str) -> httpx.Response:
    headers = {"Origin": str(client.base_url).rstrip("/")} if origin == "default" else \
        ({"Origin": origin} if origin else {})
    return client.post(path, data={"token": path.rsplit("/", 1)[1], **data}, headers=headers)


def answers(store: Store) -> list[tuple[int, str | None, int]]:
    with store.read() as session:
        return [(a.score, a.comment, a.changes) for a in session.query(SurveyAnswer)]


def test_answer_once_change_within_a_day_then_read_only(site: tuple[httpx.Client, Store, FakeClock, str]) -> None:
    client, store, clock, path = site
    page = client.get(path)
    assert page.status_code == 200
    assert "Wie zufrieden sind Sie mit unserer Antwort?" in page.text  # the task's language (de)
    assert "SECRET-COMPLAINT" not in page.text and "jenny_k" not in page.text and "parcel" not in page.text
    assert "<script" not in page.text and "set-cookie" not in page.headers
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "form-action 'self'" in csp
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["cache-control"] == "no-store"
    assert TOKEN.search(page.text).group(1) == path.rsplit("/", 1)[1]  # type: ignore[union-attr]

    answered = post(client, path, score="4", comment="Schnell <b>geholfen</b>")
    assert answered.status_code == 303 and answered.headers["location"].endswith("?saved=1")
    again = client.get(path + "?saved=1")
    assert "Vielen Dank! Ihre Antwort wurde gespeichert." in again.text
    assert 'value="4" required checked' in again.text
    assert "Schnell &lt;b&gt;geholfen&lt;/b&gt;" in again.text and "<b>geholfen" not in again.text
    assert answers(store) == [(4, "Schnell <b>geholfen</b>", 0)]

    clock.advance(timedelta(hours=23))
    assert post(client, path, score="5", comment="").status_code == 303  # changed within 24 h
    assert answers(store) == [(5, None, 1)]

    clock.advance(timedelta(hours=1, seconds=1))
    late = client.get(path)
    assert late.status_code == 200 and "<form" not in late.text and "<strong>5</strong>" in late.text
    replay = post(client, path, score="1", comment="replayed")
    assert replay.status_code == 409 and "nicht mehr geändert" in replay.text
    assert answers(store) == [(5, None, 1)]


def test_forged_foreign_and_expired_links(site: tuple[httpx.Client, Store, FakeClock, str]) -> None:
    client, store, clock, path = site
    token = path.rsplit("/", 1)[1]
    task_part, stamp, signature = token.split(".")
    forged = f"/survey/{task_part}.{stamp}.{signature[:-2]}xx"
    assert client.get(forged).status_code == 400
    assert post(client, forged, score="5").status_code == 400
    other = AckLinks("survey-test-secret", clock, timedelta(days=1)).token(1)  # the same secret, the ack salt
    assert client.get(f"/survey/{other}").status_code == 400
    assert client.get("/survey/not-a-token", headers={"Accept-Language": "en"}).text.count("not valid") == 1
    another_task = AckLinks("survey-test-secret", clock, timedelta(days=1), salt="listener.survey-link").token(99)
    assert client.get(f"/survey/{another_task}").status_code == 404  # signed, but no such task

    clock.advance(timedelta(days=30))
    assert client.get(path).status_code == 200  # valid for 30 days …
    clock.advance(timedelta(seconds=1))
    expired = client.get(path)
    assert expired.status_code == 410 and "abgelaufen" in expired.text  # … then gone, in the task's language too
    assert post(client, path, score="5").status_code == 410
    assert answers(store) == []


def test_cross_site_posts_and_a_form_without_the_token_are_refused(
        site: tuple[httpx.Client, Store, FakeClock, str]) -> None:
    client, store, _, path = site
    assert post(client, path, origin="https://evil.example", score="5").status_code == 403
    assert post(client, path, origin="null", score="5").status_code == 403
    assert post(client, path, origin=None, score="5").status_code == 403  # neither Origin nor Referer
    referred = client.post(path, data={"token": path.rsplit("/", 1)[1], "score": "3"},
                           headers={"Referer": f"{str(client.base_url).rstrip('/')}{path}"})
    assert referred.status_code == 303  # a browser that sends only a Referer
    wrong_token = client.post(path, data={"token": "x", "score": "5"},
                              headers={"Origin": str(client.base_url).rstrip("/")})
    assert wrong_token.status_code == 400
    origin = {"Origin": str(client.base_url).rstrip("/")}
    big = client.post(path, data={"token": path.rsplit("/", 1)[1], "score": "3", "comment": "x" * 20_000},
                      headers=origin)
    assert big.status_code == 400  # more than the page's form can hold
    multipart = client.post(path, files={"f": ("a.txt", b"x")}, data={"token": path.rsplit("/", 1)[1], "score": "3"},
                            headers=origin)
    assert multipart.status_code == 400
    assert post(client, path, score="6").status_code == 400  # outside 1–5
    assert post(client, path, score="").status_code == 400
    assert answers(store) == [(3, None, 0)]


def test_answers_are_rate_limited_per_link_and_address(site: tuple[httpx.Client, Store, FakeClock, str]) -> None:
    client, store, clock, path = site
    for score in [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]:  # [web] survey_answers = 10 per hour
        assert post(client, path, score=str(score)).status_code == 303
    limited = post(client, path, score="1")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3600"
    assert answers(store) == [(5, None, 9)]
    clock.advance(timedelta(hours=1, seconds=1))
    assert post(client, path, score="2").status_code == 303
    assert answers(store) == [(2, None, 10)]
