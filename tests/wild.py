"""Real recorded platform payloads from ../shared/wild (never copied into this repository); $LISTENER_WILD
names another place (a git worktree whose ../shared is elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

WILD = Path(os.environ.get("LISTENER_WILD") or Path(__file__).resolve().parents[1].parent / "shared" / "wild")


def wild_path(relative: str) -> Path:
    """Path of a file under shared/wild; skips the calling test when shared/ is not beside the repo."""
    path = WILD / relative
    if not path.exists():
        pytest.skip(f"../shared/wild/{relative} is not available")
    return path


def wild_bytes(relative: str) -> bytes:
    return wild_path(relative).read_bytes()
