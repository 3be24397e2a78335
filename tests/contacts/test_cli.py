"""`listener contacts list|show|link|unlink` and `listener tasks merge` on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from listener.cli import cli
from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from tests.contacts.support import complaint, platform, say, settings


def run(config: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_contacts_commands(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    store = Store(url)
    upgrade(store)
    cfg = settings()
    forum, reddit = platform("discourse", "forum", clock), platform("reddit", "reddit", clock)
    _, task_a = complaint(store, cfg, clock, forum, "kundin_77")
    _, task_b = complaint(store, cfg, clock, reddit, "Kundin77")
    say(store, reddit, clock, "bert", "Acme <script>alert(1)</script>")
    store.dispose()

    listed = json.loads(run(config, "contacts", "list", "--json"))
    assert len(listed) == 3
    found = json.loads(run(config, "contacts", "list", "--search", "kundin 77", "--json"))
    assert sorted(c["identities"][0]["platform"] for c in found) == ["discourse:forum.example", "reddit"]
    shown = json.loads(run(config, "contacts", "show", "--task", str(task_a), "--json"))
    a = shown["id"]
    [suggested] = shown["suggestions"]
    b = suggested["contact"]["id"]
    assert suggested["reasons"] == ["same name: discourse “kundin_77”, reddit “Kundin77”"]
    assert [h["task"] for h in shown["history"]] == [task_a]

    out = run(config, "contacts", "link", str(a), str(b), "--reason", "same customer number", "--by", "anna")
    assert out.startswith("link #1: contact #") and "unlink 1" in out
    linked = json.loads(run(config, "contacts", "list", "--linked", "--json"))
    assert [c["id"] for c in linked] == [a] and len(linked[0]["identities"]) == 2
    text = run(config, "contacts", "show", str(b))  # the merged contact leads to the one it joined
    assert text.startswith(f"contact #{a}") and "link #1: contact #" in text and "same customer number" in text
    assert "reddit" in text and "discourse" in text

    assert "merged into task" in run(config, "tasks", "merge", str(task_b), str(task_a), "--by", "anna")
    merged = json.loads(run(config, "tasks", "list", "--status", "merged", "--json"))
    assert [t["id"] for t in merged] == [task_b]
    assert "is merged; only open tasks" in run(config, "tasks", "merge", str(task_b), str(task_a), code=1)

    assert "separate from contact" in run(config, "contacts", "unlink", "1", "--by", "ben")
    assert "already undone by ben" in run(config, "contacts", "unlink", "1", code=1)
    assert "exactly one of" in run(config, "contacts", "show", code=2)
    assert "no such contact" in run(config, "contacts", "show", "999", code=1)
