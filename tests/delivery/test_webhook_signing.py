"""Signed webhooks: a receiver running the check from docs/channels.md accepts listener's requests and rejects a
tampered body, a wrong key and a replayed (old) request."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from listener.clock import FakeClock
from listener.delivery.channels import AlertMessage, DeliveryError, WebhookChannel, WebhookChannelSettings
from listener.demo.servers import LoopbackServer, _Quiet

DOCS = Path(__file__).parents[2] / "docs" / "channels.md"
KEY = "s3cret-signing-key"


def documented_verify() -> Callable[..., bool]:
    """The receiver's check exactly as the docs show it."""
    block = re.search(r"<!-- verify-example.*?```python\n(.*?)```", DOCS.read_text(), re.S)
    assert block, "docs/channels.md lost its verify example"
    namespace: dict[str, Any] = {}
    exec(block.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]  # type: ignore[no-any-return]


class SignedReceiver(LoopbackServer):
    def __init__(self, key: str, clock: FakeClock):
        super().__init__(_SignedHandler)
        self.key, self.clock, self.verify = key, clock, documented_verify()
        self.accepted: list[bytes] = []
        self.rejected = 0


class _SignedHandler(_Quiet):
    def do_POST(self) -> None:  # noqa: N802
        receiver: SignedReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = receiver.verify(receiver.key, self.headers.get("X-Listener-Signature", ""), body,
                             now=receiver.clock.now().timestamp())
        if ok:
            receiver.accepted.append(body)
        else:
            receiver.rejected += 1
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def receiver(clock: FakeClock) -> Iterator[SignedReceiver]:
    with SignedReceiver(KEY, clock) as server:
        yield server


def message() -> AlertMessage:
    return AlertMessage(
        idempotency_key="task-9-hook", task_id=9, priority="P2", due_at=None, reasons=["negative"],
        brands=["Acme"], source="forum", author=None, url=None, title=None, text="Überweisung hängt <b>seit</b> Tagen",
        published_at=None, sentiment="negative", confidence=0.8, language="de", categories=[],
    )


def signed_channel(monkeypatch: pytest.MonkeyPatch, receiver: SignedReceiver, clock: FakeClock,
                   key: str = KEY) -> WebhookChannel:
    monkeypatch.setenv("LISTENER_HOOK_KEY", key)
    settings = WebhookChannelSettings(name="hook", kind="webhook", url=receiver.base_url + "/in",  # type: ignore[arg-type]
                                      signing_secret="hook-key")
    return WebhookChannel(settings, clock=clock)


def test_a_signed_request_is_accepted_and_carries_the_documented_header(
        receiver: SignedReceiver, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    signed_channel(monkeypatch, receiver, clock).send(message())
    assert len(receiver.accepted) == 1 and receiver.rejected == 0
    assert "hängt".encode() in receiver.accepted[0]  # the signed bytes are the sent bytes, UTF-8 as is


def test_a_tampered_body_a_wrong_key_and_a_replay_are_rejected(
        receiver: SignedReceiver, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    captured: list[httpx.Request] = []

    def keep(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200)

    channel = signed_channel(monkeypatch, receiver, clock)
    channel._transport = httpx.MockTransport(keep)  # capture one genuine signed request to replay it
    channel.send(message())
    (genuine,) = captured
    header = genuine.headers["X-Listener-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert header.startswith(f"t={int(clock.now().timestamp())},")

    def post(body: bytes) -> int:
        return httpx.post(receiver.base_url + "/in", content=body,
                          headers={"X-Listener-Signature": header, "Content-Type": "application/json"}).status_code

    assert post(genuine.content) == 200
    assert post(genuine.content.replace(b'"P2"', b'"P1"')) == 401  # tampered
    clock.advance(timedelta(minutes=6))
    assert post(genuine.content) == 401  # replayed after the tolerance
    assert receiver.rejected == 2

    with pytest.raises(DeliveryError, match="HTTP 401"):
        signed_channel(monkeypatch, receiver, clock, key="not-the-key").send(message())


def test_unsigned_webhooks_send_no_signature(receiver: SignedReceiver, clock: FakeClock) -> None:
    settings = WebhookChannelSettings(name="hook", kind="webhook", url=receiver.base_url + "/in")  # type: ignore[arg-type]
    with pytest.raises(DeliveryError, match="HTTP 401"):
        WebhookChannel(settings, clock=clock).send(message())


def test_a_missing_signing_secret_is_a_delivery_error_not_a_crash(
        receiver: SignedReceiver, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = signed_channel(monkeypatch, receiver, clock)
    monkeypatch.delenv("LISTENER_HOOK_KEY")
    with pytest.raises(DeliveryError, match="LISTENER_HOOK_KEY"):
        channel.send(message())
