"""Apprise channels: each target gets the request its real service expects, with untrusted text escaped for the
markup that service renders; failures are retried and parked by the outbox without leaking the URL's token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.delivery.channels import AlertMessage, AppriseChannel, AppriseChannelSettings, DeliveryError
from listener.delivery.outbox import deliver_pending, retry_parked
from listener.delivery.settings import DeliverySettings
from listener.store.engine import Store
from listener.store.models import AlertRow, MentionRow, SourceRow, TaskRow
from tests.chat_services import ChatServices, Request, reroute

NASTY = "App down **again** @everyone <script>alert(1)</script> [click](javascript:alert(1)) _x_"


def alert(text: str = NASTY, key: str = "task-1-chat") -> AlertMessage:
    return AlertMessage(
        idempotency_key=key, task_id=1, priority="P1", due_at=datetime(2026, 1, 5, 9, 15, tzinfo=UTC),
        reasons=["negative service: outage"], brands=["Acme"], source="forum", author="eve",
        url="https://example.org/t/1?a=<x>&b=(c)", title="<b>Bold</b> claim", text=text, published_at=None,
        sentiment="negative", confidence=0.9, language="en", categories=["outage"],
    )


@pytest.fixture
def services() -> Iterator[ChatServices]:
    with ChatServices() as server, reroute(server):
        yield server


def channel(monkeypatch: pytest.MonkeyPatch, url: str) -> AppriseChannel:
    monkeypatch.setenv("LISTENER_CHAT_URL", url)
    return AppriseChannel(AppriseChannelSettings(name="chat", kind="apprise", url_secret="chat-url"))


def markdown_escaped(text: str) -> None:
    """What a Markdown-rendering service must get: our markup live, the post's markup inert."""
    assert "**P1**" in text and "\\*\\*again\\*\\*" in text
    assert "\\<script\\>" in text and "<script>" not in text
    assert "\\[click\\]\\(javascript" in text
    assert "[open the post](<https://example.org/t/1?a=%3Cx%3E&b=(c)>)" in text


def check_mattermost(r: Request) -> str:
    markdown_escaped(r.body["text"])
    return str(r.body["text"])


def check_rocketchat(r: Request) -> str:
    assert r.body["channel"] == "#care"
    markdown_escaped(r.body["text"])
    return str(r.body["text"])


def check_discord(r: Request) -> str:
    assert r.host == "discord.com"
    markdown_escaped(r.body["content"])
    return str(r.body["content"])


def workflows_text(r: Request) -> str:
    card = r.body["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    (text,) = [block["text"] for block in card["body"] if block.get("id") == "body"]
    return str(text)


def check_workflows(r: Request) -> str:
    assert r.host == "prod-01.westus.logic.azure.com:443" and r.query["sig"] == ["SIGxyz"]
    text = workflows_text(r)
    markdown_escaped(text)
    return text


def check_ntfy(r: Request) -> str:  # ntfy shows plain text unless asked for Markdown: nothing to escape
    assert r.body["topic"] == "care-alerts" and "X-Markdown" not in r.headers
    assert r.body["title"] == "[P1] Acme on forum: <b>Bold</b> claim"
    assert "App down **again**" in r.body["message"] and "<script>alert(1)</script>" in r.body["message"]
    return str(r.body["message"])


def check_matrix(r: Request) -> str:
    assert r.method == "PUT" and r.body["format"] == "org.matrix.custom.html"
    html = r.body["formatted_body"]
    assert "<strong>P1</strong>" in html and "**again**" in html and "<strong>again" not in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '<a href="https://example.org/t/1?a=%3Cx%3E&amp;b=(c)">open the post</a>' in html
    return str(html)


def check_telegram(r: Request) -> str:
    assert r.host == "api.telegram.org" and r.body["chat_id"] == -100123
    text = r.body["text"]
    assert r.body["parse_mode"] == "MARKDOWN"  # Telegram's Markdown: HTML tags are shown as typed
    assert "*P1*" in text and "\\*\\*again\\*\\*" in text and "\\[click\\]" in text
    return str(text)


def check_telegram_html(r: Request) -> str:  # ?format=html: Telegram's HTML mode, tags from us only
    assert r.body["parse_mode"] == "HTML"
    text = r.body["text"]
    assert "<b>P1</b>" in text and "&lt;script&gt;" in text and "<script>" not in text and "**again**" in text
    assert '<a href="https://example.org/t/1?a=%3Cx%3E&amp;b=(c)">open the post</a>' in text
    return str(text)


def check_ntfy_markdown(r: Request) -> str:  # ?format=markdown: ntfy renders it, so it is escaped
    assert r.headers.get("X-Markdown") == "yes"
    markdown_escaped(r.body["message"])
    return str(r.body["message"])


def check_google_chat(r: Request) -> str:
    assert r.host == "chat.googleapis.com" and r.query["key"] == ["KEYabc"] and r.query["token"] == ["TOKENxyz"]
    text = r.body["text"]
    assert "*P1*" in text and "\\*\\*again\\*\\*" in text
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert "<https://example.org/t/1?a=%3Cx%3E&amp;b=(c)|open the post>" in text
    return str(text)


TARGETS: dict[str, tuple[Callable[[str], str], Callable[[Request], str]]] = {
    "ntfy-markdown": (lambda n: f"ntfy://{n}/care-alerts?format=markdown", check_ntfy_markdown),
    "telegram-html": (lambda n: "tgram://123456789:AABBccddEEFFgg_hhiijj-kkllmmnnoopp/-100123/?format=html",
                      check_telegram_html),
    "mattermost": (lambda n: f"mmost://{n}/tok1234", check_mattermost),
    "ntfy": (lambda n: f"ntfy://{n}/care-alerts", check_ntfy),
    "matrix": (lambda n: f"matrix://syt_test_token@{n}/%23care:localhost", check_matrix),
    "rocketchat": (lambda n: f"rocket://hookid%2Fhooktoken@{n}/%23care", check_rocketchat),
    "discord": (lambda n: "discord://1234567890/abcdefTOKEN", check_discord),
    "telegram": (lambda n: "tgram://123456789:AABBccddEEFFgg_hhiijj-kkllmmnnoopp/-100123", check_telegram),
    "googlechat": (lambda n: "gchat://SPACE/KEYabc/TOKENxyz", check_google_chat),
    "workflows": (lambda n: "workflows://prod-01.westus.logic.azure.com:443/abc123def/SIGxyz", check_workflows),
}


@pytest.mark.parametrize("service", sorted(TARGETS))
def test_each_target_gets_its_services_request_with_the_post_escaped(
        service: str, services: ChatServices, monkeypatch: pytest.MonkeyPatch) -> None:
    make_url, check = TARGETS[service]
    channel(monkeypatch, make_url(services.netloc)).send(alert())
    delivered = [r for r in services.of(service.split("-")[0]) if r.method != "GET" and "/join/" not in r.path]
    assert len(delivered) == 1, services.requests
    text = check(delivered[0])
    assert "respond by 09:15 UTC" in text and "Acme" in text
    assert "@\u200beveryone" in text and "@everyone" not in text  # a post cannot ping the whole channel


def test_an_outage_raises_a_delivery_error_without_the_token(services: ChatServices,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    services.fail_with = 500
    with pytest.raises(DeliveryError) as caught:
        channel(monkeypatch, "discord://1234567890/abcdefTOKEN").send(alert())
    assert "Discord" in str(caught.value) and "abcdefTOKEN" not in str(caught.value)


def test_the_apprise_logger_never_shows_the_token(services: ChatServices, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="apprise")
    channel(monkeypatch, f"ntfy://{services.netloc}/secret-topic-42").send(alert())
    assert caplog.records and "secret-topic-42" not in caplog.text


@pytest.mark.parametrize("url", ["not a url", "discord://1/a, discord://2/b"])
def test_a_secret_that_is_not_one_apprise_url_is_a_clear_error(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DeliveryError, match="exactly one Apprise URL") as caught:
        channel(monkeypatch, url).send(alert())
    assert url not in str(caught.value)


def test_a_missing_secret_is_a_delivery_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTENER_CHAT_URL", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    chat = AppriseChannel(AppriseChannelSettings(name="chat", kind="apprise", url_secret="chat-url"))
    with pytest.raises(DeliveryError, match="LISTENER_CHAT_URL"):
        chat.send(alert())


def queue_one_alert(store: Store, now: datetime) -> None:
    with store.write() as session:
        source = SourceRow(name="forum", kind="feed", cursor={})
        mention = MentionRow(source=source, source_kind="feed", external_id="1", url="https://example.org/t/1",
                             text=NASTY, fetched_at=now, content_hash="h")
        session.add(mention)
        session.flush()
        task = TaskRow(mention_id=mention.id, rule="complaints", status="open", priority="P1", reasons=["x"],
                       created_at=now, due_at=now + timedelta(minutes=15))
        session.add(task)
        session.flush()
        session.add(AlertRow(idempotency_key=f"task-{task.id}-chat", task_id=task.id, mention_id=mention.id,
                             channel="chat", status="pending", attempts=0, created_at=now, next_attempt_at=now))


def statuses(store: Store) -> list[tuple[str, int, Any]]:
    with store.read() as session:
        return [(a.status, a.attempts, a.last_error) for a in session.query(AlertRow)]


def test_the_outbox_retries_parks_and_redelivers_apprise_alerts(store: Store, services: ChatServices,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    queue_one_alert(store, clock.now())
    channels = {"chat": channel(monkeypatch, f"mmost://{services.netloc}/tok1234")}
    settings = DeliverySettings(max_attempts=2, backoff=timedelta(seconds=10))
    services.fail_with = 503
    assert deliver_pending(store, channels, settings, clock).failed == 1
    assert deliver_pending(store, channels, settings, clock).sent == 0  # backing off
    clock.advance(timedelta(seconds=11))
    assert deliver_pending(store, channels, settings, clock).parked == 1
    ((status, attempts, error),) = statuses(store)
    assert (status, attempts) == ("parked", 2) and "Mattermost" in error and "tok1234" not in error
    services.fail_with = None
    with store.write() as session:
        assert retry_parked(session, None, clock.now()) == 1
    assert deliver_pending(store, channels, settings, clock).sent == 1
    assert deliver_pending(store, channels, settings, clock).sent == 0  # sent once, never again
    assert statuses(store)[0][0] == "sent"
    assert len(services.of("mattermost")) == 3  # two refused attempts, one delivery


@pytest.mark.parametrize(("channel_block", "key", "message"), [
    ('kind = "apprise"', "channel[0].url_secret", "Field required"),
    ('kind = "apprise"\nurl_secret = "x"\nurl = "discord://1/a"', "channel[0].url", "unknown key"),
    ('kind = "webhook"\nurl = "https://h.example.org/x"\nsigning_key = "k"', "channel[0].signing_key",
     "unknown key"),
])
def test_channel_config_errors_name_the_key(channel_block: str, key: str, message: str) -> None:
    import tomllib

    from listener.config import ConfigError, parse_settings

    with pytest.raises(ConfigError) as caught:
        parse_settings(tomllib.loads(f'[[channel]]\nname = "c"\n{channel_block}\n'))
    assert any(k == key and message in m for k, m in caught.value.problems), caught.value.problems


def test_grouped_and_escalation_messages_reach_chat_escaped(services: ChatServices,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    first = replace(alert(key="g-1-task-1"), task_url="https://care.example.org/tasks/1")
    second = replace(alert("Second post **loud** @here", key="g-1-task-2"), task_id=2, priority="P2",
                     task_url="https://care.example.org/tasks/2")
    group = replace(alert(key="group-1-1-chat"), task_id=None, kind="group", items=[first, second],
                    headline="2 new complaints about Acme · digital <b>")
    escalation = replace(alert(key="task-1-esc-1-chat"), kind="escalation", assignee="anna",
                         escalation="escalation step 1: not acknowledged (due 2026-01-05 09:15 UTC)",
                         task_url="https://care.example.org/tasks/1")
    mattermost = channel(monkeypatch, f"mmost://{services.netloc}/tok1234")
    mattermost.send(group)
    mattermost.send(escalation)
    grouped, escalated = (r.body["text"] for r in services.of("mattermost"))
    assert grouped.startswith("**P1** · 2 new complaints about Acme · digital \\<b\\>")
    assert "- **P1** [task \\#1](<https://care.example.org/tasks/1>) · forum: " in grouped
    assert "- **P2** [task \\#2](<https://care.example.org/tasks/2>)" in grouped
    assert "Second post \\*\\*loud\\*\\* @\u200bhere" in grouped and "[post](<https://example.org/t/1" in grouped
    assert escalated.startswith("**Escalation:** escalation step 1: not acknowledged")
    assert "[open the task](<https://care.example.org/tasks/1>) · assigned to anna" in escalated

    channel(monkeypatch, f"ntfy://{services.netloc}/care-alerts").send(group)  # plain text
    (ntfy,) = services.of("ntfy")
    assert ("- P2 task #2: https://care.example.org/tasks/2 · forum: <b>Bold</b> claim — Second post **loud** "
            "@\u200bhere post: https://example.org/t/1") in ntfy.body["message"]
    assert ntfy.body["title"].startswith("[P1] 2 new complaints about Acme")


def test_teams_workflows_over_real_https_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workflows URLs take a host and port (always HTTPS): a local TLS receiver with its own certificate."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # requests trusts this certificate, and only for this test
    services = ChatServices()
    services.httpd.socket = context.wrap_socket(services.httpd.socket, server_side=True)
    with services:
        channel(monkeypatch, f"workflows://{services.netloc}/abc123def/SIGxyz").send(alert())
    (request,) = services.of("workflows")
    assert request.query["sig"] == ["SIGxyz"] and request.query["api-version"]
    markdown_escaped(workflows_text(request))
