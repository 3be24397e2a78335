"""Prometheus metrics: counters the stages bump where events happen, gauges read from the database at scrape time.

The stages (pipeline, outbox) call the small `record_*` functions below and import nothing else of the
operator's surface. Label values are configured names (source, channel, rule), priorities, sentiments and
outcomes only: never a secret, a URL or mention text.

Counters live in prometheus-client's default registry (one per process); the gauges that describe the
database (backlog, overdue tasks, queued alerts, source backoff) are computed when /metrics is scraped
(`listener/ops/collectors.py`), so they are right after a restart and across several processes.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from datetime import datetime
from importlib import metadata

from prometheus_client import Counter, Gauge, Histogram, Info, disable_created_metrics

disable_created_metrics()  # no `*_created` twin of every series: Prometheus does not need them here

POLLS = Counter("listener_polls", "Polls of a source by outcome (ok, not_modified, failed, skipped)",
                ["source", "outcome"])
MENTIONS_FETCHED = Counter("listener_mentions_fetched", "Items a source returned", ["source"])
MENTIONS_STORED = Counter("listener_mentions_stored", "New mentions stored", ["source"])
MENTIONS_UNMATCHED = Counter("listener_mentions_unmatched", "Fetched items about no brand (dropped)", ["source"])
MENTIONS_DUPLICATES = Counter("listener_mentions_duplicates", "Fetched items already stored (same external id)",
                              ["source"])
MENTIONS_NEAR_DUPLICATES = Counter("listener_mentions_near_duplicates",
                                   "Stored mentions linked to an earlier copy of the same story", ["source"])

MENTIONS_SCORED = Counter("listener_mentions_scored", "Mentions scored and triaged", ["sentiment"])
SCORE_FAILURES = Counter("listener_score_failures", "Mentions the model failed on (retried, parked after 3)")
SCORE_BATCH_SECONDS = Histogram("listener_score_batch_seconds", "Model time per scoring batch",
                                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
SCORE_BATCH_SIZE = Histogram("listener_score_batch_size", "Mentions per scoring batch",
                             buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))

TASKS_CREATED = Counter("listener_tasks_created", "Follow-up tasks created by the rules", ["rule", "priority"])

ALERTS = Counter("listener_alerts", "Delivery attempts of outbox rows by outcome (sent, failed, parked)",
                 ["channel", "outcome"])
MENTION_TO_ALERT_SECONDS = Histogram(
    "listener_mention_to_alert_seconds", "From a mention's publication to its alert being sent", ["channel"],
    buckets=(60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400, 259200, 604800),
)
CLAIMS_RELEASED = Counter("listener_claims_released", "Outbox claims of dead processes released at start")

RELOADS = Counter("listener_reloads", "Config reloads (SIGHUP) by outcome (applied, refused)", ["outcome"])
MODEL = Info("listener_model", "The scoring model in use")
BUILD = Info("listener_build", "listener's version and the Python running it")
STARTED = Gauge("listener_start_time_seconds", "When this process started (Unix time)")


def _version() -> str:
    try:
        return metadata.version("listener")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


BUILD.info({"version": _version(), "python": platform.python_version()})
STARTED.set_to_current_time()


def record_poll(source: str, outcome: str, fetched: int = 0, stored: int = 0, unmatched: int = 0,
                duplicates: int = 0, near_duplicates: int = 0) -> None:
    POLLS.labels(source, outcome).inc()
    for counter, value in ((MENTIONS_FETCHED, fetched), (MENTIONS_STORED, stored),
                           (MENTIONS_UNMATCHED, unmatched), (MENTIONS_DUPLICATES, duplicates),
                           (MENTIONS_NEAR_DUPLICATES, near_duplicates)):
        if value:
            counter.labels(source).inc(value)


def record_scoring(seconds: float, batch: int, by_sentiment: Mapping[str, int], failed: int) -> None:
    SCORE_BATCH_SECONDS.observe(seconds)
    SCORE_BATCH_SIZE.observe(batch)
    for sentiment, n in by_sentiment.items():
        MENTIONS_SCORED.labels(sentiment).inc(n)
    if failed:
        SCORE_FAILURES.inc(failed)


def record_task(rule: str, priority: str) -> None:
    TASKS_CREATED.labels(rule, priority).inc()


def record_alert(channel: str, outcome: str, published_at: datetime | None = None,
                 sent_at: datetime | None = None) -> None:
    ALERTS.labels(channel, outcome).inc()
    if outcome == "sent" and published_at is not None and sent_at is not None:
        MENTION_TO_ALERT_SECONDS.labels(channel).observe(max(0.0, (sent_at - published_at).total_seconds()))


def record_model(model: str, version: str, runtime: str) -> None:
    MODEL.info({"model": model, "version": version, "runtime": runtime})
