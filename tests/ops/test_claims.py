"""Crashes mid-delivery: the same Message-ID on the re-send, and claims of killed processes released at start."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from listener.app import App
from listener.config import load_settings
from listener.delivery.claims import claimant, is_gone, release_dead_claims
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from listener.store.models import AlertRow
from tests.flow import alert_statuses, write_config
from tests.ops.helpers import wait_for

# `listener deliver` in a child that dies (os._exit, no cleanup) at the commit that would mark an alert sent:
# the SMTP server has accepted the message (DATA answered 250), the outbox row still says "sending".
DIE_BEFORE_MARKING_SENT = textwrap.dedent("""
    import os, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from listener.store.models import AlertRow

    @event.listens_for(Session, "before_commit")
    def _die(session):
        if any(isinstance(o, AlertRow) and o.status == "sent" and o.channel == "care-mail" for o in session.dirty):
            os._exit(9)

    from listener.cli import main
    sys.argv = ["listener", "-c", sys.argv[1], "deliver"]
    main()
""")


def test_a_resend_after_a_crash_between_data_and_marking_sent_has_the_same_message_id(
        tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook: WebhookReceiver,
        negative_model: Path) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model,
                          extra='\n[delivery]\nclaim_timeout = "1h"\n')
    app = App(load_settings(config))
    app.migrate()
    app.poll(["moneytalk"])
    app.score()

    child = subprocess.Popen([sys.executable, "-c", DIE_BEFORE_MARKING_SENT, str(config)], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 9, stderr
    assert len(smtp_sink.messages) == 1  # the mail server has accepted the message …
    with app.store.read() as session:
        stuck = session.query(AlertRow).filter_by(status="sending").all()
        first = session.query(AlertRow).filter_by(channel="care-mail", status="sending").order_by(AlertRow.id).first()
        assert first is not None and first.attempts == 0  # … the outbox does not know it was sent
    assert all(f"/{child.pid}/" in (r.claimed_by or "") and is_gone(r.claimed_by or "") for r in stuck)

    assert release_dead_claims(app.store, app.clock.now()) == len(stuck)  # what the next start does
    app.deliver()
    assert alert_statuses(app) == {"sent": 10}
    ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(ids) == 6 and len(set(ids)) == 5
    assert ids.count(ids[0]) == 2  # the re-send is the same message to mail servers and clients
    assert smtp_sink.messages[0]["X-Listener-Idempotency-Key"] == first.idempotency_key
    app.close()


class _StallingHandler:
    """Accepts the message, then holds the DATA reply until released: a delivery stays mid-send."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


def test_claims_of_a_killed_daemon_are_released_at_the_next_start(tmp_path: Path, feed_server: FeedServer,
                                                                  webhook: WebhookReceiver,
                                                                  negative_model: Path) -> None:
    handler = _StallingHandler()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    # Claims time out after an hour here: only their release at start can explain a prompt delivery.
    config = write_config(tmp_path, feed_server, smtp.port, webhook, negative_model,
                          extra='\n[delivery]\nclaim_timeout = "1h"\n')
    app = App(load_settings(config))
    app.migrate()
    app.poll(["moneytalk"])
    app.score()
    command = [sys.executable, "-m", "listener", "-c", str(config), "run"]
    logs = []

    def mail_rows() -> list[AlertRow]:
        with app.store.read() as session:
            return session.query(AlertRow).filter_by(channel="care-mail").all()

    try:
        for kill in range(2):
            seen = len(handler.messages)
            daemon = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert wait_for(lambda seen=seen: len(handler.messages) > seen, 60)  # an e-mail is mid-send …
            assert any(r.status == "sending" and f"/{daemon.pid}/" in (r.claimed_by or "") for r in mail_rows())
            daemon.send_signal(signal.SIGKILL)  # … when the daemon is killed
            daemon.wait(30)
            logs.append(daemon.communicate()[0])
            stuck = [r for r in mail_rows() if r.status == "sending"]
            assert stuck and all(f"/{daemon.pid}/" in (r.claimed_by or "") for r in stuck), kill
            if kill:
                assert "event=claim_released" in logs[-1]  # the previous kill's claims went back to the queue

        handler.release.set()
        daemon = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_for(lambda: all(r.status == "sent" for r in mail_rows()), 60), \
                [(r.id, r.status) for r in mail_rows()]
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(60) == 0
            logs.append(daemon.communicate()[0])
        assert "event=claim_released" in logs[-1]
        assert set(alert_statuses(app)) == {"sent"}
        keys = {m["X-Listener-Idempotency-Key"] for m in handler.messages}
        assert keys == {r.idempotency_key for r in mail_rows()}  # every alert arrived; re-sends share the key
    finally:
        handler.release.set()
        smtp.stop()
        app.close()


def test_a_claim_is_gone_only_when_its_process_is(tmp_path: Path) -> None:
    assert not is_gone(claimant())  # this very process
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    host, boot, pidns, _, _ = claimant().split("/")
    start = open(f"/proc/{sleeper.pid}/stat").read().rpartition(")")[2].split()[19]
    token = f"{host}/{boot}/{pidns}/{sleeper.pid}/{start}"
    assert not is_gone(token)
    assert is_gone(f"{host}/{boot}/{pidns}/{sleeper.pid}/{int(start) + 1}")  # same pid, another process: recycled
    # Where this process cannot see the claimer, the claim timeout decides:
    assert not is_gone(f"other-host/{boot}/{pidns}/999999/1")  # another node
    assert not is_gone(f"{host}/another-boot/{pidns}/999999/1")  # before a reboot, or a namesake machine
    assert not is_gone(f"{host}/{boot}/1/999999/1")  # another container's pid namespace
    sleeper.send_signal(signal.SIGKILL)
    sleeper.wait()
    assert is_gone(token)
