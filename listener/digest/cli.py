"""`listener digest`: marketing's weekly digest from the shell — figures as JSON, HTML and text files, or mailed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from listener.commands import CliState, app_for
from listener.digest.period import PeriodError, choose_period


@click.command("digest")
@click.option("--week", default=None, metavar="YYYY-Www", help="ISO week, e.g. 2026-W48 (default: the last complete "
              "week in [digest] timezone).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (local) of a custom period.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (local, inclusive).")
@click.option("--brand", default=None, help="Only this own brand (competitors still give the share of voice).")
@click.option("--lang", type=click.Choice(["de", "en"]), default=None, help="Language (default: [digest] lang).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the HTML digest here (charts embedded, opens in a browser).")
@click.option("--text", "text_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the plain-text digest here.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--send", is_flag=True, help="Mail it to [digest] recipients through the [digest] channel's SMTP.")
@click.pass_obj
def digest(state: CliState, week: str | None, since: datetime | None, until: datetime | None, brand: str | None,
           lang: str | None, html_out: Path | None, text_out: Path | None, as_json: bool, send: bool) -> None:
    """Marketing's digest: volume, sentiment, share of voice, themes, notable posts, care figures.

    Without --json/--html/--text/--send it prints the text digest."""
    from listener.delivery.channels import DeliveryError
    from listener.digest import mail
    from listener.digest.compose import make_digest

    settings = state.settings
    if send and not settings.digest.scheduled:
        raise click.ClickException("--send needs [digest] channel and recipients in the config")
    with app_for(state) as app:
        try:
            period = choose_period(week, since, until, settings.digest.timezone, app.clock.now())
            result = make_digest(app.store, settings, period, lang, brand, draw=bool(html_out or send))
        except (PeriodError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            click.echo(json.dumps(result.report, ensure_ascii=False, indent=2))
        if html_out:
            html_out.write_text(result.html(inline_images=True), encoding="utf-8")
            click.echo(f"HTML digest written to {html_out}", err=as_json)
        if text_out:
            text_out.write_text(result.text(), encoding="utf-8")
            click.echo(f"text digest written to {text_out}", err=as_json)
        if send:
            channel = next(c for c in settings.channel if c.name == settings.digest.channel)
            try:
                message_id = mail.send(result, channel.smtp, settings.digest.recipients)  # type: ignore[union-attr]
            except DeliveryError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"digest {period.key} sent to {', '.join(settings.digest.recipients)} ({message_id})",
                       err=as_json)
        if not (as_json or html_out or text_out or send):
            click.echo(result.text())
