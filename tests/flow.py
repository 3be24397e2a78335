"""Helpers for tests that run the whole flow against local servers."""

from __future__ import annotations

from pathlib import Path

from listener.app import App
from listener.demo.command import demo_config
from listener.demo.servers import FeedServer, WebhookReceiver
from listener.store.models import AlertRow


def write_config(tmp_path: Path, feeds: FeedServer, smtp_port: int, webhook: WebhookReceiver, model: str | Path,
                 extra: str = "", db_url: str | None = None) -> Path:
    """The demo's config (two sample feeds, Acme + competitor Globex, mail + chat, one 'negative' rule)."""
    path = tmp_path / "listener.toml"
    db_url = db_url or f"sqlite:///{tmp_path / 'listener.db'}"
    if "[metrics]" not in extra:  # a free port, so tests running side by side never collide on 9464
        extra += '\n[metrics]\nlisten = "127.0.0.1:0"\n'
    path.write_text(demo_config(feeds.base_url, smtp_port, webhook.url, db_url, str(model)) + extra)
    return path


def alert_statuses(app: App) -> dict[str, int]:
    """How many outbox rows are in each status."""
    with app.store.read() as session:
        rows = session.query(AlertRow).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts
