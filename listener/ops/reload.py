"""`systemctl reload` (SIGHUP): read the config file again; keep the running one when the new one has errors.

Sources, brands, rules, channels, HTTP and the daemon's intervals change in place; the database, the model, the
metrics listener and the log handler are set up once per process, so changes there are logged and wait for a
restart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from listener.config import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)

RESTART_ONLY = ("database", "nlp", "metrics", "log")


def reread(current: Settings, path: Path) -> Settings | None:
    """The file's settings with the restart-only sections kept as they run; None (error logged) if invalid."""
    try:
        fresh = load_settings(path)
    except ConfigError as exc:
        problems = "; ".join(f"{key}: {message}" for key, message in exc.problems)
        log.error("event=reload_refused config=%s problems=%r (the running config stays)", path, problems)
        return None
    waiting = [name for name in RESTART_ONLY if getattr(fresh, name) != getattr(current, name)]
    if fresh.daemon.cache_dir != current.daemon.cache_dir:
        waiting.append("daemon.cache_dir")
    if waiting:
        log.warning("event=reload_needs_restart sections=%s (changed there; applied at the next restart)",
                    ",".join(waiting))
    return fresh.model_copy(update={
        **{name: getattr(current, name) for name in RESTART_ONLY},
        "daemon": fresh.daemon.model_copy(update={"cache_dir": current.daemon.cache_dir}),
    })
