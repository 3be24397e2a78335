"""[log] format = "json": one JSON object per line with the event's key=value pairs as fields."""

from __future__ import annotations

import json
import logging

from listener.logs import JsonFormatter


def record(message: str, *args: object, level: int = logging.INFO, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad payload")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord("listener.pipeline", level, __file__, 1, message, args, exc_info)


def test_pairs_become_fields_and_the_line_stays_whole() -> None:
    line = JsonFormatter().format(record("event=poll_failed source=%s failures=%d retry_in=%ds error=%r",
                                         "acme news", 3, 120, "HTTP 503: 'down'\nfor maintenance"))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["event"] == "poll_failed" and entry["failures"] == 3 and entry["level"] == "info"
    assert entry["source"] == "acme"  # an unquoted value ends at a space …
    assert entry["error"] == "HTTP 503: 'down'\nfor maintenance"  # … a repr()-quoted one is read back whole
    assert entry["msg"].startswith("event=poll_failed source=acme news")
    entry = json.loads(JsonFormatter().format(record("event=reload_needs_restart sections=%s, size=%d; retrying",
                                                     "database,nlp", 7)))
    assert entry["sections"] == "database,nlp" and entry["size"] == 7


def test_exceptions_and_the_journald_priority() -> None:
    line = JsonFormatter(journald=True).format(record("event=poll_crashed source=x", level=logging.ERROR, exc=True))
    assert line.startswith("<3>{")
    entry = json.loads(line[3:])
    assert entry["level"] == "error" and "ValueError: bad payload" in entry["exception"]
