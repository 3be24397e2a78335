"""What every reply platform module keeps (listener/replies/platforms/base.py), checked for each module found:
a new platform plugs in by existing, with its settings, client factory, limits, docs row and example keys."""

from __future__ import annotations

import inspect
import pkgutil
import tomllib
from pathlib import Path

import pytest

import listener.replies.platforms as platforms
from listener.replies.platforms import can_reply, platform, with_reply_keys
from listener.replies.platforms.base import ReplySettings
from listener.sources.kit import get_source_class, load_builtin_sources

ROOT = Path(__file__).resolve().parents[2]
KINDS = sorted(m.name for m in pkgutil.iter_modules(platforms.__path__)
               if m.name != "base" and not m.name.startswith("_"))  # _name: helpers the platform modules share


def test_the_four_built_here_are_registered() -> None:
    assert {"discourse", "mastodon", "reddit", "bluesky"} <= set(KINDS)
    assert not any(can_reply(kind) for kind in ("feed", "reviews", "hackernews", "base", "../x", "_helpers"))


@pytest.mark.parametrize("kind", KINDS)
def test_a_platform_module_keeps_the_contract(kind: str) -> None:
    assert kind in load_builtin_sources(), f"{kind}: a reply platform answers a source kind of the same name"
    module = platform(kind)
    assert module is not None
    assert issubclass(module.Settings, ReplySettings)
    assert list(inspect.signature(module.make_client).parameters) == ["settings", "http", "secrets", "clock"]
    assert isinstance(module.MAX_LENGTH, int) and module.MAX_LENGTH > 0 and isinstance(module.MARKDOWN, bool)
    keys = list(module.Settings.model_fields)
    assert any(k.startswith("reply_") and k.endswith("_secret") for k in keys), f"{kind}: no reply_*_secret key"
    # anything that sounds like a credential names a secret (…_secret); ids and URLs are not secrets
    sounds_secret = [k for k in keys if any(w in k for w in ("secret", "password", "token"))
                     and not k.endswith(("_url", "_id"))]
    assert all(k.startswith("reply_") and k.endswith("_secret") for k in sounds_secret), \
        f"{kind}: write credentials are keys naming secrets (reply_*_secret), never the secret itself: {sounds_secret}"
    combined = with_reply_keys(get_source_class(kind).settings_model, kind)
    assert {"reply", "reply_per_hour"} <= set(combined.model_fields)
    docs = (ROOT / "docs" / "replies.md").read_text(encoding="utf-8")
    assert f"`{kind}`" in docs, f"docs/replies.md has no row for {kind}"
    example = tomllib.loads((ROOT / "config" / "listener.example.toml").read_text(encoding="utf-8"))
    blocks = [b for b in example["source"] if b.get("kind") == kind]
    assert any("reply" in b for b in blocks), f"the example config's {kind} block shows no `reply` key"
