"""Real recorded platform payloads from ../shared/wild (never copied into this repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

WILD = Path(__file__).resolve().parents[1].parent / "shared" / "wild"


def wild_path(relative: str) -> Path:
    """Path of a file under shared/wild; skips the calling test when shared/ is not beside the repo."""
    path = WILD / relative
    if not path.exists():
        pytest.skip(f"../shared/wild/{relative} is not available")
    return path


def wild_bytes(relative: str) -> bytes:
    return wild_path(relative).read_bytes()
