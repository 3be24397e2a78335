"""Who holds an outbox claim, and releasing the claims of processes that are gone.

A claim records `host/boot/pidns/pid/start` (`claimant()`): the host name, the kernel's boot id, the pid
namespace, the process id and the process's start time in clock ticks since boot (so a recycled pid is not
mistaken for the claimer). At start the daemon releases every "sending" row claimed by a process that it can
see is gone: same host, same boot, same pid namespace, and that pid no longer runs (or runs another program
started later). Everything else — other nodes on one PostgreSQL database, other containers, claims from
before a reboot (another machine may share the host name) — is left to the claim timeout.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select

from listener import metrics
from listener.domain import AlertStatus
from listener.store.engine import Store
from listener.store.models import AlertRow

log = logging.getLogger(__name__)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:  # not Linux: claims cannot be judged here and wait for their timeout
        return "-"


def process_start(pid: int) -> str | None:
    """The process's start time (clock ticks after boot, field 22 of /proc/PID/stat); None if it does not run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:  # gone, or hidden from us (ProtectProc=invisible): ask the kernel whether the pid exists
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return "-"  # runs, as another user: its start time is unknown
        return "-"
    return stat.rpartition(")")[2].split()[19]  # after "(comm)", which may contain spaces


def _pid_namespace() -> str:
    try:
        return "".join(ch for ch in os.readlink("/proc/self/ns/pid") if ch.isdigit())  # "pid:[4026531836]"
    except OSError:
        return "-"


def _here() -> str:
    return f"{socket.gethostname()}/{_boot_id()}/{_pid_namespace()}"


@cache
def claimant() -> str:
    pid = os.getpid()
    return f"{_here()}/{pid}/{process_start(pid) or '-'}"[:200]


def is_gone(claimed_by: str) -> bool:
    """True only when the claiming process shared this host, boot and pid namespace and no longer runs."""
    where, _, process = claimed_by.rpartition("/")
    where, _, pid = where.rpartition("/")
    if where != _here() or "-" in where.split("/")[1:] or not pid.isdigit():
        return False  # elsewhere, or this system cannot tell: the claim timeout decides
    running = process_start(int(pid))
    return running is None or (process != "-" and running not in ("-", process))


def release_dead_claims(store: Store, now: datetime) -> int:
    """Put "sending" rows whose claiming process is gone back to "pending", due now; returns how many.

    Rows without `claimed_by` (claimed by an older version) keep waiting for their claim timeout."""
    with store.write() as session:
        rows = session.scalars(select(AlertRow).where(AlertRow.status == AlertStatus.SENDING,
                                                      AlertRow.claimed_by.is_not(None)))
        released = [row for row in rows if is_gone(row.claimed_by or "")]
        for row in released:
            row.status, row.claimed_until, row.claimed_by, row.next_attempt_at = AlertStatus.PENDING, None, None, now
            log.warning("event=claim_released alert=%d channel=%s", row.id, row.channel)
    metrics.CLAIMS_RELEASED.inc(len(released))
    return len(released)
