"""Logging: one line per event with key=value context, or one JSON object per line; journald priority prefixes
under systemd."""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}
# key=value pairs of an event line; values may be repr()-quoted ('…' or "…") or bare up to the next space
# (a bare value may hold commas: sections=database,nlp; a trailing "," or ";" is punctuation)
_PAIR = re.compile(r"""(?:^|\s)([a-z_][a-z0-9_]*)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s;]*[^\s;,])""")


def _under_journald() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


class JournaldFormatter(logging.Formatter):
    """`<6>listener.pipeline event=polled …`: journald reads the priority, adds its own timestamp."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def _value(raw: str) -> Any:
    if raw[:1] in "'\"":
        try:
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return raw
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


class JsonFormatter(logging.Formatter):
    """`{"ts": …, "level": "info", "logger": …, "event": "polled", "source": …, "msg": "event=polled …"}`.

    The key=value pairs of the message become fields, so log tools can filter on `event` or `source` without
    parsing; `msg` keeps the whole line. With `journald=True` each line starts with the priority prefix."""

    def __init__(self, journald: bool = False):
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        for key, raw in _PAIR.findall(message):
            entry.setdefault(key, _value(raw))
        entry["msg"] = message
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        return f"<{_PRIORITY.get(record.levelno, 6)}>{line}" if self.journald else line


def setup_logging(level: str = "info", format: str = "text", capture_warnings: bool = False) -> None:
    """stderr logging for the CLI; the daemon also turns library warnings into log lines (`capture_warnings`),
    so the journal gets them in the configured format while one-shot commands print them as Python does."""
    handler = logging.StreamHandler(sys.stderr)
    if format == "json":
        handler.setFormatter(JsonFormatter(journald=_under_journald()))
    elif _under_journald():
        handler.setFormatter(JournaldFormatter("%(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(capture_warnings)  # as log lines in the same format (logger py.warnings)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
