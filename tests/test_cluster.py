"""Three `listener run` nodes on one PostgreSQL database: 20 sources on loopback, every post stored once, every
task raised once, every alert delivered once — and when one node is SIGKILLed mid-poll, the others finish its work
after its heartbeat stops."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from listener.cli import cli
from listener.demo.servers import WebhookReceiver
from listener.store.engine import Store
from listener.store.models import AlertRow, MentionRow, ScoreRow, TaskRow
from tests.cluster_kit import Node, cluster_config, fresh_database, serve_feeds, wait_for
from tests.tiny_model import build_tiny_model

SOURCES, POSTS = 20, 5


@pytest.fixture
def cluster_db() -> Iterator[str]:
    url = os.environ.get("LISTENER_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("LISTENER_TEST_POSTGRES_URL not set (.ci/run starts a PostgreSQL server and sets it)")
    with fresh_database(url) as db_url:
        yield db_url


@pytest.mark.postgres
def test_three_nodes_share_the_work_and_survive_a_killed_node(tmp_path: Path, cluster_db: str,
                                                             webhook: WebhookReceiver) -> None:
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    with serve_feeds(SOURCES, POSTS, delay=1.5) as feeds:
        # Retention every minute stands for any periodic job of the registry (the digest): once per period.
        config = cluster_config(tmp_path / "listener.toml", cluster_db, feeds, SOURCES, webhook.url, model,
                                extra='\n[retention]\ncron = "* * * * *"\n')
        nodes = [Node(config, tmp_path / f"node{i}.log", f"node{i}") for i in range(3)]
        store = Store(cluster_db)
        try:
            victim = nodes[0]
            # Kill the first node while it is fetching a feed (each answer takes 1.5 s): its poll job is running.
            assert wait_for(lambda: "event=poll_started" in victim.log(), 120), victim.log()
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait(10)
            killed_sources = [line.split("source=")[1].split()[0] for line in victim.log().splitlines()
                              if "event=poll_started" in line]

            def finished() -> bool:
                with store.read() as session:
                    sent = session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.status == "sent"))
                return sent == SOURCES * POSTS and len(webhook.received) >= SOURCES * POSTS

            assert wait_for(finished, 180), [n.log()[-3000:] for n in nodes[1:]]
            assert wait_for(lambda: "job=retention" in nodes[1].log() + nodes[2].log(), 70)
        finally:
            codes = [n.stop() for n in nodes[1:]]
            victim.stop()
        survivors_log = nodes[1].log() + nodes[2].log()

        with store.read() as session:
            per_source = Counter(session.scalars(select(MentionRow.source_id)))
            scores = session.scalar(select(func.count()).select_from(ScoreRow))
            tasks = session.scalar(select(func.count()).select_from(TaskRow))
            statuses = Counter(session.scalars(select(AlertRow.status)))
            failed_jobs = session.execute(text(
                "SELECT task_name, count(*) FROM procrastinate_jobs WHERE status = 'failed' GROUP BY 1")).all()
        store.dispose()

    assert codes == [0, 0]  # SIGTERM: the survivors finish their jobs and exit cleanly
    status = CliRunner().invoke(cli, ["-c", str(config), "cluster", "status"])
    assert "nodes: 0 alive, 1 silent" in status.output, status.output  # the killed node never said goodbye
    assert len(per_source) == SOURCES and set(per_source.values()) == {POSTS}  # every post stored once
    assert scores == tasks == SOURCES * POSTS  # scored once, one task each
    assert statuses == {"sent": SOURCES * POSTS}
    keys = Counter(h["Idempotency-Key"] for h in webhook.headers)
    assert len(webhook.received) == SOURCES * POSTS and set(keys.values()) == {1}  # each alert delivered once
    assert failed_jobs == []
    # The killed node's running poll was handed to another node after its heartbeat stopped …
    handed_over = [line for line in survivors_log.splitlines() if "task=listener.poll" in line
                   and ("stalled_job_retried" in line or "stalled_job_superseded" in line)]
    assert handed_over, survivors_log[-3000:]
    # … and no source was ever fetched by two nodes at once; each once an hour, the killed poll's source twice.
    assert feeds.overlapping() == []
    hits = Counter(path for path, _, _ in feeds.spans)
    assert len(hits) == SOURCES
    assert all(n == 1 or (n == 2 and path.removeprefix("/feed-").removesuffix(".xml") in
                          [s.removeprefix("forum-") for s in killed_sources]) for path, n in hits.items()), hits
    periodic = Counter(line.split("timestamp=")[1].split()[0] for node in nodes for line in node.log().splitlines()
                       if "event=periodic_job job=retention" in line)
    assert periodic and set(periodic.values()) == {1}, periodic  # each minute's run on one node only
    # Every node did its share of the work.
    for node in nodes:
        assert "event=poll_started" in node.log(), node.name


@pytest.mark.postgres
def test_a_node_speaks_systemd_notify(tmp_path: Path, cluster_db: str, webhook: WebhookReceiver,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """READY=1 once the model is loaded, WATCHDOG=1 while the database answers, STOPPING=1 and exit 0 on SIGTERM."""
    import socket

    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    notify_path = str(tmp_path / "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(120)
    with serve_feeds(2, 1, delay=0) as feeds:
        config = cluster_config(tmp_path / "listener.toml", cluster_db, feeds, 2, webhook.url, model)
        monkeypatch.setenv("NOTIFY_SOCKET", notify_path)
        monkeypatch.setenv("WATCHDOG_USEC", "1000000")
        node = Node(config, tmp_path / "node.log", "node")
        try:
            assert notify.recv(4096).startswith(b"READY=1"), node.log()
            assert notify.recv(4096) == b"WATCHDOG=1"
            assert wait_for(lambda: len(webhook.received) == 2, 60)  # the node works: 2 feeds, 1 complaint each
            node.process.send_signal(signal.SIGTERM)
            assert node.process.wait(60) == 0
            states = []
            while not states or states[-1] == b"WATCHDOG=1":
                states.append(notify.recv(4096))
            assert states[-1] == b"STOPPING=1"
        finally:
            node.stop()
            notify.close()
    assert "event=started mode=queue" in node.log() and "event=stopped" in node.log()
