"""Helpers for the tests with several nodes: many feeds on loopback (optionally slow), node processes and their
config. A fresh PostgreSQL database for them is bench/kit.py's `fresh_database`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import IO

from listener.demo.servers import FeedServer
from listener.demo.servers import _FeedHandler as FeedHandler

ROOT = Path(__file__).resolve().parent.parent


def feed(source: int, posts: int) -> bytes:
    """An RSS feed of `posts` distinct short complaints about Acme (short: never near-duplicates of each other)."""
    items = []
    for i in range(posts):
        published = format_datetime(datetime.now(UTC) - timedelta(minutes=i + 1))
        items.append(f"<item><title>Acme hotline ignored case {source}x{i}</title>"
                     f"<link>https://forum.example/t/{source}/{i}</link><guid>s{source}-p{i}</guid>"
                     f"<author>user{source}_{i}</author><pubDate>{published}</pubDate>"
                     f"<description>Acme hotline ignored case {source}x{i}</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>forum {source}</title>'
            f"<link>https://forum.example/</link>{''.join(items)}</channel></rss>").encode()


class SlowFeedServer(FeedServer):
    """A feed server that answers after `delay` seconds and records when each request started and ended."""

    def __init__(self, routes: dict[str, tuple[bytes, str]], delay: float):
        super().__init__(routes)
        self.delay = delay
        self.spans: list[tuple[str, float, float]] = []
        server = self

        class Handler(FeedHandler):
            def do_GET(self) -> None:  # noqa: N802
                start = time.monotonic()
                time.sleep(server.delay)
                super().do_GET()
                with server.lock:
                    server.spans.append((self.path, start, time.monotonic()))

        self.httpd.RequestHandlerClass = Handler

    def overlapping(self) -> list[str]:
        """Paths with two requests in flight at once (a source polled by two nodes at the same time)."""
        found = []
        by_path: dict[str, list[tuple[float, float]]] = {}
        for path, start, end in self.spans:
            by_path.setdefault(path, []).append((start, end))
        for path, spans in by_path.items():
            spans.sort()
            if any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False)):
                found.append(path)
        return found


def cluster_config(path: Path, db_url: str, feeds: FeedServer, sources: int, webhook_url: str, model: Path,
                   extra: str = "") -> Path:
    blocks = "".join(textwrap.dedent(f"""
        [[source]]
        name = "forum-{s}"
        kind = "feed"
        url = "{feeds.base_url}/feed-{s}.xml"
        every = "1h"
        """) for s in range(sources))
    path.write_text(textwrap.dedent(f"""\
        [database]
        url = "{db_url}"

        [[brand]]
        name = "Acme"
        terms = ["Acme"]

        [nlp]
        model = "{model}"

        [[channel]]
        name = "care-chat"
        kind = "webhook"
        url = "{webhook_url}"

        [[rule]]
        name = "negative"
        when = {{ sentiment = "negative", min_confidence = 0.6 }}
        task = {{ priority = "P2", first_response = "15m" }}
        notify = ["care-chat"]

        [metrics]
        listen = "127.0.0.1:0"  # three nodes on one machine: each its own free port

        [cluster]
        tick = "1s"
        heartbeat = "1s"
        heartbeat_timeout = "10s"

        [delivery]
        claim_timeout = "20s"
        """) + blocks + extra)
    return path


class Node:
    """One `listener run` process; its log goes to a file the test can read while it runs."""

    def __init__(self, config: Path, log: Path, name: str):
        self.log_path = log
        self._log: IO[str] = log.open("w")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "listener", "-c", str(config), "--log-level", "info", "run"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.name = name

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def serve_feeds(sources: int, posts: int, delay: float) -> SlowFeedServer:
    routes = {f"/feed-{s}.xml": (feed(s, posts), "application/rss+xml") for s in range(sources)}
    return SlowFeedServer(routes, delay)

