"""Spikes end to end: SQL counts (SQLite and PostgreSQL), firing once with cooldown, the alert through the outbox
to e-mail, a signed-free webhook and Apprise chat, the CLI, and config errors that name the key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.acting.spikes.counts import window_counts, windows
from listener.acting.spikes.detect import Counts
from listener.app import App
from listener.cli import cli
from listener.clock import FakeClock
from listener.config import ConfigError, load_settings, parse_settings
from listener.delivery.outbox import _claim
from listener.demo.servers import SmtpSink, WebhookReceiver
from listener.store.engine import Store, upgrade
from listener.store.models import AlertRow, MentionBrand, MentionRow, ScoreRow, SourceRow, SpikeArmRow, SpikeRow
from tests.browser import screenshot
from tests.chat_services import ChatServices, reroute

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday; the window is Monday 09:00-10:00 UTC
WEEK = timedelta(days=7)
USUAL = ["Acme app works fine, thanks", "paid my bill with Acme today", "Acme branch opening hours?",
         "new card from Acme arrived", "Acme support was friendly"]
OUTAGE = ["Acme login outage again, the app is down", "cannot login, Acme outage since 9", "Acme app down: login "
          "outage, transfers stuck", "is the Acme login outage fixed?", "Acme outage, login fails every time"]
NASTY = "Acme outage login <script>alert(1)</script> **bold** @everyone"


class Seeder:
    def __init__(self, store: Store):
        self.store, self.n = store, 0
        with store.write() as session:
            session.add(SourceRow(name="forum", kind="feed", cursor={}))

    def add(self, published: datetime | None, text: str, negative: bool = False, fetched: datetime | None = None,
            copy_of: int | None = None, brand: str = "Acme", score: int | None = None) -> int:
        self.n += 1
        with self.store.write() as session:
            source = session.query(SourceRow).one()
            mention = MentionRow(source_id=source.id, source_kind="feed", external_id=str(self.n), text=text,
                                 url=f"https://forum.example.org/t/{self.n}", published_at=published,
                                 fetched_at=fetched or (published or NOW) + timedelta(minutes=5),
                                 content_hash=str(self.n), canonical_id=copy_of,
                                 reach={"score": self.n % 7 if score is None else score})
            mention.brands = [MentionBrand(brand=brand)]
            session.add(mention)
            session.flush()
            p = 0.9 if negative else 0.05
            session.add(ScoreRow(mention_id=mention.id, model_version="t", sentiment="negative" if negative else
                                 "positive", p_negative=p, p_neutral=0.05, p_positive=0.95 - p, scored_at=NOW))
            return mention.id


def seed_history(seeder: Seeder, weeks: int = 8, per_week: int = 5) -> None:
    seeder.add(NOW - (weeks + 1) * WEEK, "Acme: the first post listener fetched")  # listening began here
    for k in range(1, weeks + 1):
        for i in range(per_week):
            seeder.add(NOW - k * WEEK - timedelta(minutes=50 - 9 * i), USUAL[i % len(USUAL)], negative=(i == 0))


def seed_outage(seeder: Seeder, mentions: int = 30, negatives: int = 20) -> None:
    for i in range(mentions - 2):
        seeder.add(NOW - timedelta(minutes=55 - i), OUTAGE[i % len(OUTAGE)], negative=i < negatives - 1)
    seeder.add(None, "Acme outage, nothing works", negative=False, fetched=NOW - timedelta(minutes=3))  # fetch time
    seeder.add(NOW - timedelta(minutes=1), NASTY, negative=True, score=100)  # the most engaged post


def config(tmp_path: Path, db_url: str, extra: str = "") -> Path:
    path = tmp_path / "listener.toml"
    path.write_text(f"""
[database]
url = "{db_url}"

[[brand]]
name = "Acme"
terms = ["Acme"]

[[brand]]
name = "Globex"
terms = ["Globex"]

[[spike]]
name = "outages"
notify = [{extra and '"mail", "hook", "chat"'}]
""" + extra)
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    application = App(load_settings(config(tmp_path, f"sqlite:///{tmp_path / 'l.db'}")), clock=clock)
    application.migrate()
    yield application
    application.close()


def test_windows_are_counted_in_sql_by_published_or_fetch_time(database_url: str) -> None:
    store = Store(database_url)
    upgrade(store)
    seeder = Seeder(store)
    seed_history(seeder, weeks=2)
    seed_outage(seeder, mentions=12, negatives=7)
    first = seeder.add(NOW - timedelta(minutes=30), "Acme outage", negative=True)
    for _ in range(5):
        seeder.add(NOW - timedelta(minutes=30), "Acme outage (copy)", negative=True, copy_of=first)
    seeder.add(NOW, "Acme at the window's end belongs to the next one")
    seeder.add(NOW - timedelta(hours=1), "Acme at the window's start belongs to it")
    seeder.add(NOW - timedelta(minutes=10), "Globex too", brand="Globex")
    with store.read() as session:
        counts = window_counts(session, ["Acme", "Globex"], windows(NOW, timedelta(hours=1), 3))
    assert counts["Acme"] == {0: Counts(14, 8, 14), 1: Counts(5, 1, 5), 2: Counts(5, 1, 5)}
    assert counts["Globex"] == {0: Counts(1, 0, 1)}
    # Alembic's model comparison skips expression indexes: check the migration made this one.
    query = ("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_mentions_seen_at'"
             if database_url.startswith("postgresql") else
             "SELECT sql FROM sqlite_master WHERE name = 'ix_mentions_seen_at'")
    with store.engine.connect() as conn:
        assert "coalesce(published_at, fetched_at)" in conn.exec_driver_sql(query).scalar_one().lower()
    store.dispose()


def test_a_spike_fires_once_with_themes_and_top_posts_then_cools_down(app: App, clock: FakeClock) -> None:
    seeder = Seeder(app.store)
    seed_history(seeder)
    seed_outage(seeder)
    assert len(app.check_spikes(dry_run=True).fired) == 2
    with app.store.read() as session:
        assert session.query(SpikeRow).count() == 0 and session.query(SpikeArmRow).count() == 0  # dry run

    report = app.check_spikes()
    fired = {c.verdict.kind: c for c in report.fired}
    assert set(fired) == {"volume", "negative"} and all(c.brand == "Acme" for c in report.fired)
    assert fired["volume"].verdict.observed == 30 and fired["volume"].verdict.expected == 5
    assert fired["negative"].verdict.observed == 20
    with app.store.read() as session:
        spike = session.get_one(SpikeRow, fired["volume"].spike_id)
        assert spike.window_start == NOW - timedelta(hours=1) and spike.history_weeks == 8
        assert spike.themes[:2] == ["outage", "login"] and "acme" not in spike.themes
        assert not {"the", "again", "since", "every", "is"} & set(spike.themes)  # stop words name no theme
        assert len(spike.top_mention_ids) == 3
        negative = session.get_one(SpikeRow, fired["negative"].spike_id)
        assert negative.share == pytest.approx(20 / 30)
        assert session.get_one(MentionRow, negative.top_mention_ids[0]).score.p_negative == 0.9
    quiet = [c for c in report.checked if c.brand == "Globex"]
    assert len(quiet) == 2 and not any(c.fired for c in quiet)

    clock.advance(timedelta(minutes=15))  # the outage goes on: no second alert
    assert app.check_spikes().fired == []
    clock.advance(timedelta(hours=7))  # past the cooldown, but the spike has ended: re-armed, quiet
    assert app.check_spikes().fired == []
    with app.store.read() as session:
        assert {r.kind: r.armed for r in session.query(SpikeArmRow).filter_by(brand="Acme")} == \
            {"volume": True, "negative": True}


def test_mentions_fetched_in_one_backfill_are_no_history(app: App) -> None:
    seeder = Seeder(app.store)
    for k in range(1, 9):  # weeks of posts, but all fetched in the first poll an hour ago
        for i in range(5):
            seeder.add(NOW - k * WEEK - timedelta(minutes=30 + i), USUAL[i], fetched=NOW - timedelta(hours=1))
    seed_outage(seeder)
    report = app.check_spikes()
    assert report.fired == []
    assert all("0 of 3 weeks of history" in c.verdict.reason for c in report.checked if c.brand == "Acme")


def test_the_spike_alert_reaches_email_webhook_and_chat_escaped(tmp_path: Path, clock: FakeClock,
                                                                 smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatServices() as chat, reroute(chat):
        monkeypatch.setenv("LISTENER_CHAT_URL", f"mmost://{chat.netloc}/tok1234")
        extra = f"""
[[channel]]
name = "mail"
kind = "email"
to = ["care@example.org"]
smtp = {{ host = "127.0.0.1", port = {smtp_sink.port}, sender = "listener@example.org" }}

[[channel]]
name = "hook"
kind = "webhook"
url = "{webhook.url}"

[[channel]]
name = "chat"
kind = "apprise"
url_secret = "chat-url"
"""
        app = App(load_settings(config(tmp_path, f"sqlite:///{tmp_path / 'l.db'}", extra)), clock=clock)
        app.migrate()
        seeder = Seeder(app.store)
        seed_history(seeder)
        seed_outage(seeder)
        assert len(app.check_spikes().fired) == 2
        assert app.deliver().sent == 6
        assert app.deliver().sent == 0
        app.close()
        posts = [r.body["text"] for r in chat.of("mattermost")]

    subjects = sorted(" ".join(str(m["Subject"]).split()) for m in smtp_sink.messages)
    assert subjects[1] == "Spike: Acme: 30 mentions in the hour to 10:00 UTC, 5 expected (6.0×)"
    assert subjects[0] == "Spike: Acme: 20 of 30 mentions negative (67%, usually 15%) in the hour to 10:00 UTC"
    mail = next(m for m in smtp_sink.messages if "negative" not in str(m["Subject"]))
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Themes: outage, login" in text and "median of the same Monday 09:00–10:00 UTC window" in text
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Themes:</strong> outage, login" in html
    screenshot(html, tmp_path, "spike-email.png", width=800, height=600)

    volume = next(p for p in webhook.received if p["listener"]["spike_kind"] == "volume")
    assert volume["listener"]["observed"] == 30 and volume["listener"]["expected"] == 5
    assert volume["listener"]["themes"][:2] == ["outage", "login"]
    assert len(volume["listener"]["top_posts"]) == 3
    assert "&lt;script&gt;" in volume["text"]  # Slack's control characters escaped
    assert {h["Idempotency-Key"] for h in webhook.headers} == {"spike-1-hook", "spike-2-hook"}

    assert len(posts) == 2
    markdown = next(p for p in posts if "negative" in p)
    assert markdown.startswith("**Spike** · Acme: 20 of 30 mentions negative")
    assert "\\<script\\>" in markdown and "\\*\\*bold\\*\\*" in markdown and "@\u200beveryone" in markdown
    assert "[open the post](<https://forum.example.org/t/" in markdown


def test_a_crash_while_sending_a_spike_alert_neither_loses_nor_repeats_it(tmp_path: Path, clock: FakeClock,
                                                                          webhook: WebhookReceiver) -> None:
    app = App(load_settings(hook_only(tmp_path, webhook)), clock=clock)
    app.migrate()
    seeder = Seeder(app.store)
    seed_history(seeder)
    seed_outage(seeder)
    app.check_spikes()
    assert len(_claim(app.store, app.settings.delivery, clock.now())) == 2  # a deliverer claims both and dies
    assert app.deliver().sent == 0
    clock.advance(app.settings.delivery.claim_timeout + timedelta(seconds=1))
    assert app.deliver().sent == 2
    clock.advance(timedelta(hours=1))
    assert app.deliver().sent == 0
    assert len(webhook.received) == 2
    with app.store.read() as session:
        assert {a.status for a in session.query(AlertRow)} == {"sent"}
    app.close()


def hook_only(tmp_path: Path, webhook: WebhookReceiver) -> Path:
    extra = f'\n[[channel]]\nname = "hook"\nkind = "webhook"\nurl = "{webhook.url}"\n'
    path = config(tmp_path, f"sqlite:///{tmp_path / 'l.db'}", extra)
    path.write_text(path.read_text().replace('"mail", "hook", "chat"', '"hook"'))
    return path


def test_the_cli_checks_and_lists_spikes(tmp_path: Path, clock: FakeClock, webhook: WebhookReceiver,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    app = App(load_settings(hook_only(tmp_path, webhook)), clock=clock)
    app.migrate()
    seeder = Seeder(app.store)
    seed_history(seeder)
    seed_outage(seeder)
    app.close()
    monkeypatch.setenv("LISTENER_CONFIG", str(tmp_path / "listener.toml"))
    runner = CliRunner()
    # The CLI runs on the system clock: check a window where the seeded outage is (its time is in the past).
    monkeypatch.setattr("listener.app.SystemClock", lambda: FakeClock(NOW))
    result = runner.invoke(cli, ["spikes", "check", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "FIRED" in result.output and "2 spikes would fire (dry run)" in result.output
    result = runner.invoke(cli, ["spikes", "check", "--json"])
    rows = json.loads(result.stdout)
    assert sorted((r["brand"], r["kind"], r["fired"]) for r in rows) == [
        ("Acme", "negative", True), ("Acme", "volume", True), ("Globex", "negative", False),
        ("Globex", "volume", False)]
    listed = runner.invoke(cli, ["spikes", "list"])
    assert listed.exit_code == 0 and "Acme" in listed.output and "themes: outage, login" in listed.output
    assert "spike #1 " in runner.invoke(cli, ["alerts", "list"]).output
    assert runner.invoke(cli, ["spikes", "list", "--since", "soon"]).exit_code == 2


@pytest.mark.parametrize(("block", "key", "message"), [
    ('name = "s"\nnotify = ["nowhere"]', "spike[0].notify", "no channel named 'nowhere'"),
    ('name = "s"\nbrands = ["Initech"]', "spike[0].brands", "no brand named 'Initech'"),
    ('name = "s"\nmin_count = 0', "spike[0].min_count", "greater than or equal to 1"),
    ('name = "s"\ncooldown = "a while"', "spike[0].cooldown", "expected a duration"),
    ('name = "s"\nthreshold = 3', "spike[0].threshold", "unknown key"),
    ('name = "s"\n[retention]\nneutral = "30d"', "retention.neutral", "keep mentions at least 9 weeks"),
])
def test_spike_config_errors_name_the_key(block: str, key: str, message: str) -> None:
    import tomllib

    raw = tomllib.loads(f'[[brand]]\nname = "Acme"\nterms = ["Acme"]\n[[spike]]\n{block}\n')
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert any(k == key and message in m for k, m in caught.value.problems), caught.value.problems


def test_the_daemon_checks_spikes_as_a_periodic_job(app: App, tmp_path: Path) -> None:
    from listener.periodic import periodic_jobs
    from listener.scheduler import Scheduler

    seeder = Seeder(app.store)
    seed_history(seeder)
    seed_outage(seeder)
    (job,) = [j for j in periodic_jobs(app.settings) if j.name == "spikes"]
    assert job.cron == "*/15 * * * *"  # [daemon] spikes_every = "15m"
    job.run(app)  # what the scheduler (or, in a cluster, one node) runs
    with app.store.read() as session:
        assert session.query(SpikeRow).count() == 2
    daemon = Scheduler(app)
    daemon.schedule()
    assert daemon.scheduler.get_job("periodic:spikes") is not None

    quiet = App(load_settings(_without_spikes(tmp_path)))
    assert [j.name for j in periodic_jobs(quiet.settings) if j.name == "spikes"] == []
    quiet.close()


@pytest.mark.parametrize(("every", "cron"), [("5m", "*/5 * * * *"), ("1h", "0 * * * *"), ("6h", "0 */6 * * *"),
                                             ("1d", "0 0 * * *"), ("7m", None), ("90m", None)])
def test_spikes_every_must_divide_an_hour_or_a_day(every: str, cron: str | None) -> None:
    from listener.acting.spikes.settings import every_as_cron
    from listener.durations import parse_duration

    if cron is not None:
        assert every_as_cron(parse_duration(every)) == cron
        return
    with pytest.raises(ConfigError) as caught:
        parse_settings({"daemon": {"spikes_every": every}})
    ((key, message),) = caught.value.problems
    assert key == "daemon.spikes_every" and "must divide an hour or a day" in message


def _without_spikes(tmp_path: Path) -> Path:
    path = tmp_path / "quiet.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "q.db"}"\n')
    return path


@pytest.mark.parametrize(("silence", "alerts"), [({"brand": "Acme", "note": "known outage"}, 0),
                                                 ({"category": "digital"}, 2)])  # a category silence is for tasks
def test_a_brand_silence_mutes_spike_alerts_but_keeps_the_spike(tmp_path: Path, clock: FakeClock,
                                                                webhook: WebhookReceiver,
                                                                silence: dict[str, str], alerts: int) -> None:
    from listener.acting.silences import add_silence

    app = App(load_settings(hook_only(tmp_path, webhook)), clock=clock)
    app.migrate()
    seeder = Seeder(app.store)
    seed_history(seeder)
    seed_outage(seeder)
    with app.store.write() as session:
        add_silence(session, NOW - timedelta(minutes=30), timedelta(hours=2), **silence)  # type: ignore[arg-type]
    assert len(app.check_spikes().fired) == 2
    with app.store.read() as session:
        assert session.query(SpikeRow).count() == 2 and session.query(AlertRow).count() == alerts
    app.close()
