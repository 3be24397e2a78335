"""Never twice: `listener run` is SIGKILLed after the platform accepted a reply and before the daemon committed
that it did. The next start finds the reply on the platform (Discourse: our own reply, looked up) or posts it
again under the same Idempotency-Key (Mastodon), and the platform has exactly one reply."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.clock import SystemClock
from listener.store.engine import Store
from listener.store.models import ReplyRow, TaskRow
from tests.ops.helpers import wait_for
from tests.replies.fakes import DiscourseFake, MastodonFake, PlatformFake
from tests.replies.helpers import seed_task

# `listener run` in a child that SIGKILLs itself when it is about to write that a reply was posted (the flush
# before that transaction's commit): the platform has answered, the reply row still says "sending".
KILLED_BEFORE_RECORDING = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from listener.store.models import ReplyRow

    @event.listens_for(Session, "before_flush")
    def _die(session, context, instances):
        if any(isinstance(o, ReplyRow) and o.status == "posted" for o in session.dirty):
            os.kill(os.getpid(), signal.SIGKILL)

    from listener.cli import main
    sys.argv = ["listener", "-c", sys.argv[1], "run"]
    main()
""")


def config_text(db: Path, model: Path) -> str:
    return textwrap.dedent(f"""\
        [database]
        url = "sqlite:///{db}"

        [[brand]]
        name = "Acme"
        terms = ["Acme"]

        [nlp]
        model = "{model}"

        [daemon]
        deliver_every = "1s"

        [delivery]
        claim_timeout = "1h"   # only the release of a dead process's claim at start explains a prompt retry

        [metrics]
        listen = "127.0.0.1:0"
        """)


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.setenv("LISTENER_FEDI_WRITE_TOKEN", "write-token")


@pytest.fixture(params=["discourse", "mastodon"])
def platform(request: pytest.FixtureRequest) -> Iterator[tuple[str, PlatformFake, str]]:
    if request.param == "discourse":
        with DiscourseFake() as forum:
            yield "forum", forum, textwrap.dedent(f"""\
                [[source]]
                name = "forum"
                kind = "discourse"
                base_url = "{forum.base_url}"
                every = "1h"
                reply = true
                reply_api_key_secret = "forum-write-key"
                reply_username = "acme_care"
                """)
    else:
        with MastodonFake() as fedi:
            yield "fedi", fedi, textwrap.dedent(f"""\
                [[source]]
                name = "fedi"
                kind = "mastodon"
                instance = "{fedi.base_url}"
                hashtags = ["acme"]
                every = "1h"
                reply = true
                reply_token_secret = "fedi-write-token"
                """)


def test_a_daemon_killed_between_the_platforms_answer_and_our_commit_posts_once(
        tmp_path: Path, negative_model: Path, platform: tuple[str, PlatformFake, str]) -> None:
    name, fake, block = platform
    config = tmp_path / "listener.toml"
    config.write_text(config_text(tmp_path / "l.db", negative_model) + "\n" + block)
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(config), "db", "upgrade"]).exit_code == 0
    store = Store(f"sqlite:///{tmp_path / 'l.db'}")
    kind = "discourse" if name == "forum" else "mastodon"
    task_id = seed_task(store, SystemClock(), name, kind, "555" if kind == "discourse" else "111",
                        thread_id="101" if kind == "discourse" else None,
                        reply_ref={"post_number": "2"} if kind == "discourse" else {"acct": "customer"})
    out = runner.invoke(cli, ["-c", str(config), "tasks", "reply", str(task_id), "--by", "anna", "--text",
                              "Sorry about the parcel, Acme will sort it out today. Check your messages."])
    assert out.exit_code == 0 and "queued" in out.output, out.output

    def reply() -> ReplyRow:
        with store.read() as session:
            row = session.query(ReplyRow).one()
            session.expunge(row)
            return row

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", KILLED_BEFORE_RECORDING, str(config)], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        first_log = child.communicate(timeout=120)[0]
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, first_log
    assert len(fake.posts) == 1  # the platform has the reply …
    stuck = reply()
    assert stuck.status == "sending" and f"/{child.pid}/" in (stuck.claimed_by or "")  # … we never recorded it

    daemon = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "run"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: reply().status == "posted", 90), reply().status
    finally:
        daemon.send_signal(signal.SIGTERM)
        log = daemon.communicate(timeout=60)[0]
    assert daemon.returncode == 0, log
    assert "event=reply_claim_released" in log
    assert len(fake.posts) == 1, fake.posts  # exactly one reply on the platform
    done = reply()
    assert done.platform_id == str(fake.posts[0]["id"]) and done.attempts == 1
    with store.read() as session:
        assert session.get_one(TaskRow, task_id).status == "responded"
    store.dispose()
