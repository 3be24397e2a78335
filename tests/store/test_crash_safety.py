"""A process killed between fetching and committing loses nothing and duplicates nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from listener.app import App
from listener.config import load_settings
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.store.models import MentionRow, SourceRow
from tests.flow import write_config

# Runs `poll` in a child process and kills it (os._exit, no cleanup) at the last moment before COMMIT:
# every mention of the batch and the advanced cursor have been written inside the open transaction.
KILL_BEFORE_COMMIT = textwrap.dedent("""
    import os, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from listener.store.models import MentionRow

    @event.listens_for(Session, "after_attach")
    def _mark(session, instance):
        if isinstance(instance, MentionRow):
            session.info["writing_mentions"] = True

    @event.listens_for(Session, "before_commit")
    def _die(session):
        if session.info.get("writing_mentions"):
            session.flush()
            os._exit(9)

    from listener.cli import main
    sys.argv = ["listener", "-c", sys.argv[1], "poll"]
    main()
""")


def counts(app: App) -> tuple[int, int, dict]:
    with app.store.read() as session:
        mentions = session.query(MentionRow).count()
        distinct = session.query(MentionRow.source_id, MentionRow.external_id).distinct().count()
        cursors = {r.name: r.cursor for r in session.query(SourceRow)}
    return mentions, distinct, cursors


def test_kill_before_commit_then_poll_again(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                            webhook: WebhookReceiver) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, "unused-model")
    app = App(load_settings(config))
    app.migrate()

    child = subprocess.run([sys.executable, "-c", KILL_BEFORE_COMMIT, str(config)], capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == 9, child.stderr
    assert feed_server.hits("/forum-de.xml") == 1  # it did fetch
    mentions, _, cursors = counts(app)
    assert mentions == 0  # nothing half-written …
    assert not any(c.get("etag") for c in cursors.values())  # … and the cursor did not advance without them

    reports = app.poll()
    assert [r.stored for r in reports] == [5, 5]
    assert all(not r.not_modified for r in reports)  # the unadvanced cursor made it fetch in full again
    assert app.poll()[0].not_modified
    mentions, distinct, cursors = counts(app)
    assert mentions == distinct == 10
    assert all(c.get("etag") for c in cursors.values())
    app.close()
