"""`listener demo`: sample feeds → mentions → scores → tasks → email and chat, all on this machine.

A local HTTP server serves the feeds shipped in listener/demo/feeds (German and English posts, some of
them complaints), a local SMTP server and a webhook receiver stand in for the care team's mail and chat.
No account and no internet are needed; the embedded model scores the mentions.
"""

from __future__ import annotations

import re
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import select

from listener.config import load_settings
from listener.demo.inbox import serve_inbox
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.nlp.scoring import ModelUnavailable

if TYPE_CHECKING:
    from listener.app import App

FEEDS = {"/forum-de.xml": "application/rss+xml", "/reviews-en.xml": "application/atom+xml"}
# The sample posts were written as if read at this moment; the demo moves them to "now" so they are fresh.
SAMPLES_READ_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_RFC822 = re.compile(r"(<pubDate>)([^<]+)(</pubDate>)")
_ISO = re.compile(r"(<published>|<updated>)([^<]+)(</published>|</updated>)")


def sample_feeds(now: datetime | None = None) -> dict[str, tuple[bytes, str]]:
    """The shipped sample feeds as served routes, their dates shifted so the newest posts are minutes old."""
    shift = (now or datetime.now(UTC)).replace(microsecond=0) - SAMPLES_READ_AT

    def rfc822(match: re.Match[str]) -> str:
        moved = format_datetime(parsedate_to_datetime(match.group(2)) + shift)
        return match.group(1) + moved + match.group(3)

    def iso(match: re.Match[str]) -> str:
        moved = datetime.fromisoformat(match.group(2).replace("Z", "+00:00")) + shift
        return match.group(1) + moved.strftime("%Y-%m-%dT%H:%M:%SZ") + match.group(3)

    routes = {}
    for path, content_type in FEEDS.items():
        text = (resources.files("listener.demo") / "feeds" / path.lstrip("/")).read_text(encoding="utf-8")
        routes[path] = (_ISO.sub(iso, _RFC822.sub(rfc822, text)).encode("utf-8"), content_type)
    return routes


def demo_config(feed_base: str, smtp_port: int, webhook_url: str, db_url: str, model: str) -> str:
    return textwrap.dedent(f"""\
        # Written by `listener demo`; the same shape as config/listener.example.toml.
        [database]
        url = "{db_url}"

        [[brand]]
        name = "Acme"
        terms = ["Acme", "Acme Bank"]

        [[brand]]
        name = "Globex"
        terms = ["Globex"]
        competitor = true

        [[source]]
        name = "verbraucherforum"
        kind = "feed"
        url = "{feed_base}/forum-de.xml"
        every = "5m"

        [[source]]
        name = "moneytalk"
        kind = "feed"
        url = "{feed_base}/reviews-en.xml"
        every = "5m"

        [nlp]
        model = "{model}"

        [[channel]]
        name = "care-mail"
        kind = "email"
        to = ["care@acme.example"]
        smtp = {{ host = "127.0.0.1", port = {smtp_port}, sender = "listener@acme.example", starttls = false }}

        [[channel]]
        name = "care-chat"
        kind = "webhook"
        url = "{webhook_url}"

        [[rule]]
        name = "negative"
        when = {{ sentiment = "negative", min_confidence = 0.6, brands = ["Acme"] }}
        task = {{ priority = "P2", first_response = "15m" }}
        notify = ["care-mail", "care-chat"]

        [[rule]]
        name = "urgent"
        when = {{ urgency = "P1", brands = ["Acme"] }}
        task = {{ priority = "P1", first_response = "15m" }}
        notify = ["care-mail", "care-chat"]
        """)


def write_digest(app: App, folder: Path) -> None:
    """Marketing's digest of the sample data: the last 7 days (the samples are fresh, the last full week empty)."""
    from listener.digest.compose import make_digest
    from listener.digest.period import date_range

    zone = app.settings.digest.zone
    today = app.clock.now().astimezone(zone).date()
    digest = make_digest(app.store, app.settings, date_range(today - timedelta(days=6), today, zone))
    html, text = folder / "digest.html", folder / "digest.txt"
    html.write_text(digest.html(inline_images=True), encoding="utf-8")
    text.write_text(digest.text(), encoding="utf-8")
    click.echo("\n== digest (marketing's weekly report; here of the last 7 days)")
    for section in digest.report["brands"]:
        click.echo(f"  {section['verdict']}")
    click.echo(f"  written to {html} (open it in a browser) and {text}")
    click.echo(f"  by hand: listener -c {folder / 'listener.toml'} digest --since {today - timedelta(days=6)} "
               f"--until {today} --html digest.html" if (folder / "listener.toml").exists() else
               "  by hand: listener -c listener.toml digest --html digest.html (last complete week)")


@click.command()
@click.option("--model", default="embedded", show_default=True,
              help='Scoring model: "embedded", a local model directory or a Hugging Face model id.')
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the demo's database and config here (default: a temporary directory).")
@click.option("--no-web", is_flag=True, help="End after the digest instead of serving the care inbox.")
@click.option("--port", default=8080, show_default=True, help="The care inbox's port (another if it is taken).")
def demo(model: str, workdir: Path | None, no_web: bool, port: int) -> None:
    """Run the whole flow once on built-in sample feeds, with local stand-ins for mail and chat, then serve the
    care inbox on the result until Ctrl-C."""
    from listener.app import App
    from listener.store.models import AlertRow, MentionRow, TaskRow

    with tempfile.TemporaryDirectory(prefix="listener-demo-") as tmp, FeedServer(sample_feeds()) as feeds, \
            SmtpSink() as smtp, WebhookReceiver() as webhook:
        base = (workdir or Path(tmp)).resolve()
        base.mkdir(parents=True, exist_ok=True)
        db_path = base / "demo.db"
        db_path.unlink(missing_ok=True)
        config_path = base / "listener.toml"
        config_path.write_text(demo_config(feeds.base_url, smtp.port, webhook.url, f"sqlite:///{db_path}", model))
        click.echo(f"demo config: {config_path}")
        app = App(load_settings(config_path))
        try:
            app.migrate()
            click.echo("\n== poll")
            for r in app.poll():
                click.echo(f"  {r.source}: {r.fetched} posts fetched, {r.stored} about our brands stored, "
                           f"{r.unmatched} about no brand dropped" + (f", ERROR {r.error}" if r.error else ""))
            click.echo("\n== score (model loads on first use)")
            try:
                scored = app.score()
            except ModelUnavailable as exc:
                raise click.ClickException(f"{exc}\nTry --model with a local model directory.") from None
            click.echo(f"  {scored.scored} mentions scored, {scored.tasks} follow-up tasks, "
                       f"{scored.alerts} alerts queued")
            click.echo("\n== deliver")
            delivered = app.deliver()
            click.echo(f"  {delivered.sent} alerts sent, {delivered.failed} failed")

            with app.store.read() as session:
                click.echo("\n== mentions")
                for m in session.scalars(select(MentionRow).order_by(MentionRow.id)):
                    s = m.score
                    verdict = f"{s.sentiment:<8} {s.probabilities[s.sentiment]:4.0%} {s.language or '?'}" if s \
                        else "unscored"
                    click.echo(f"  #{m.id:<3} {verdict}  {s.urgency if s else '':<4} "
                               f"[{', '.join(m.brand_names)}] {(m.title or m.text)[:70]}")
                click.echo("\n== tasks")
                for t in session.scalars(select(TaskRow).order_by(TaskRow.id)):
                    click.echo(f"  task #{t.id} {t.priority} {t.status}, first response due "
                               f"{t.due_at:%H:%M} UTC, mention #{t.mention_id}: {'; '.join(t.reasons)}")
                alerts = list(session.scalars(select(AlertRow)))
                click.echo(f"\n== alerts: {sum(a.status == 'sent' for a in alerts)} of {len(alerts)} sent")
            click.echo(f"  emails received by the local SMTP server: {len(smtp.messages)}")
            for message in smtp.messages:
                click.echo(f"    {str(message['Subject']).strip()}")
            click.echo(f"  chat messages received by the local webhook: {len(webhook.received)}")
            for payload in webhook.received[:3]:
                click.echo("    " + str(payload["text"]).splitlines()[0])
            # The temporary directory goes away at the end; the digest stays for the reader to open.
            write_digest(app, workdir.resolve() if workdir else Path(tempfile.mkdtemp(prefix="listener-demo-digest-")))
            if not no_web:
                serve_inbox(app, config_path, port)
        finally:
            app.close()
