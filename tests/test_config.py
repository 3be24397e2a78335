from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from listener.config import ConfigError, load_settings, parse_settings
from listener.durations import parse_duration
from listener.secrets import MissingSecret, get_secret

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = {
    "brand": [{"name": "Acme", "terms": ["Acme"]}],
    "source": [{"name": "news", "kind": "feed", "url": "https://example.org/feed.xml", "every": "5m"}],
    "channel": [{"name": "mail", "kind": "email", "to": ["care@example.org"],
                 "smtp": {"host": "localhost", "port": 25, "sender": "l@example.org"}}],
    "rule": [{"name": "neg", "when": {"sentiment": "negative", "min_confidence": 0.6},
              "task": {"priority": "P2", "first_response": "15m"}, "notify": ["mail"]}],
}


def problems(raw: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    return dict(info.value.problems)


def test_example_config_is_valid() -> None:
    settings = load_settings(ROOT / "config" / "listener.example.toml")
    assert settings.brand and settings.source and settings.channel and settings.rule


def test_minimal_config_parses_into_typed_settings() -> None:
    settings = parse_settings(MINIMAL)
    assert settings.source[0].every == timedelta(minutes=5)
    assert type(settings.source[0]).__name__ == "FeedSettings"
    assert settings.rule[0].task.first_response == timedelta(minutes=15)
    assert settings.nlp.model == "embedded"


@pytest.mark.parametrize(("patch", "key", "fragment"), [
    (lambda r: r["source"][0].update(every="5 minutes"), "source[0].every", "duration"),
    (lambda r: r["source"][0].update(urll="x"), "source[0].urll", "unknown key"),
    (lambda r: r["source"][0].update(kind="myspace"), "source[0].kind", "unknown source kind"),
    (lambda r: r["channel"][0].pop("to"), "channel[0].to", "Field required"),
    (lambda r: r["channel"][0]["smtp"].update(port=0), "channel[0].smtp.port", "greater than"),
    (lambda r: r["rule"][0].update(notify=["pager"]), "rule[0].notify", "no channel named 'pager'"),
    (lambda r: r["rule"][0]["when"].update(sentiment="angry"), "rule[0].when.sentiment", "negative"),
    (lambda r: r.update(databse={"url": "x"}), "databse", "unknown key"),
    (lambda r: r["brand"].append({"name": "Acme", "terms": ["x"]}), "brand[1].name", "used twice"),
])
def test_errors_name_the_exact_key(patch, key: str, fragment: str) -> None:  # noqa: ANN001
    import copy

    raw = copy.deepcopy(MINIMAL)
    patch(raw)
    found = problems(raw)
    assert key in found, found
    assert fragment in found[key]


def test_toml_syntax_error_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[database\nurl = 1")
    with pytest.raises(ConfigError, match="syntax"):
        load_settings(path)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400), ("2d", 172800), (90, 90)])
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_secrets_from_credentials_directory_then_environment(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("LISTENER_SMTP_PASSWORD", "from-env")
    assert get_secret("smtp-password") == "from-env"
    (tmp_path / "smtp-password").write_text("from-credential\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert get_secret("smtp-password") == "from-credential"
    monkeypatch.delenv("LISTENER_OTHER", raising=False)
    with pytest.raises(MissingSecret, match="LISTENER_OTHER"):
        get_secret("other")
