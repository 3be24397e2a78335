"""docs/config.md is the configuration reference generated from the settings models: it must be up to date, every
setting must say what it does, and every key of the annotated example must be in it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from listener.config_docs import COMMAND, documented_keys, render, sections

ROOT = Path(__file__).resolve().parents[1]


def test_docs_config_md_is_up_to_date() -> None:
    written = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert written == render(), f"docs/config.md is out of date with the settings models; regenerate it: {COMMAND}"


def test_every_setting_has_a_description() -> None:
    missing = sorted(f"{s.path}.{name} ({s.model.__module__}.{s.model.__name__})" for s in sections()
                     for name, field in s.model.model_fields.items() if not (field.description or "").strip())
    assert missing == [], "add Field(description=...) to: " + ", ".join(missing)


def keys_of(value: Any, path: str = "") -> set[str]:
    """Dotted key paths of a parsed TOML document, list indices left out."""
    if isinstance(value, list):
        return {k for item in value for k in keys_of(item, path)}
    if not isinstance(value, dict):
        return set()
    found = set()
    for key, item in value.items():
        dotted = f"{path}.{key}" if path else key
        if path:
            found.add(dotted)
        # mappings whose keys are data, not listener's keys: the model's labels, a helpdesk's priority words
        if not ((path == "nlp" and key == "labels") or (path == "channel" and key == "priorities")):
            found |= keys_of(item, dotted)
    return found


def test_every_key_of_the_example_config_is_in_the_reference() -> None:
    example = tomllib.loads((ROOT / "config" / "listener.example.toml").read_text(encoding="utf-8"))
    assert keys_of(example) - documented_keys() == set()
    assert {"source.subreddits", "channel.smtp.host", "rule.escalate.after", "hours.week.mon"} <= documented_keys()


def test_a_section_shows_type_default_and_description() -> None:
    text = render()
    assert "## `[daemon]`" in text and "### `[[source]] kind = \"feed\"`" in text and "## `[[channel]]`" in text
    assert "| `score_every` | duration | `\"30s\"` | How often new mentions are scored" in text
    assert "| `url` | URL | **required** | The feed's URL. |" in text
    assert "| `batch_size` | integer, ≥ 1, ≤ 1024 | `32` |" in text
    assert "| `level` | \"debug\" \\| \"info\" \\| \"warning\" \\| \"error\" | `\"info\"` |" in text
