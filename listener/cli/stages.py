"""`listener run` (the daemon) and one pass of each stage of the flow: poll → score (triage, act) → deliver."""

from __future__ import annotations

import sys

import click

from listener.commands import CliState, app_for
from listener.nlp.scoring import ModelUnavailable
from listener.secrets import MissingSecret


@click.command()
@click.pass_obj
def run(state: CliState) -> None:
    """Run the daemon: poll every source on schedule, score, create tasks, send alerts."""
    from listener.app import App
    from listener.config import find_config
    from listener.daemon import Daemon
    from listener.ops.server import ListenError

    try:
        code = Daemon(App(state.settings), find_config(state.config)).run()
    except (ModelUnavailable, MissingSecret, ListenError) as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@click.command()
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--force", is_flag=True, help="Poll even if the source is backing off after failures.")
@click.option("--backfill", is_flag=True,
              help="Also score what was stored now, and say how many old posts were kept quiet ([[rule]] max_age).")
@click.pass_obj
def poll(state: CliState, names: tuple[str, ...], force: bool, backfill: bool) -> None:
    """Poll sources once and store new mentions of your brands."""
    for name in names:
        state.settings.source_by_name(name)
    with app_for(state) as app:
        reports = app.poll(list(names) or None, force=force)
        scored = app.score() if backfill else None
    failed = 0
    for r in reports:
        if r.error:
            failed += 1
            click.echo(f"{r.source}: FAILED {r.error}")
        elif r.skipped_until:
            click.echo(f"{r.source}: backing off until {r.skipped_until:%Y-%m-%d %H:%M:%S} UTC (use --force)")
        elif r.not_modified:
            click.echo(f"{r.source}: not modified")
        else:
            click.echo(f"{r.source}: {r.fetched} fetched, {r.stored} new, {r.duplicates} already stored, "
                       f"{r.unmatched} about no brand")
        for target, error in ({} if r.skipped_until else r.failed_targets).items():
            click.echo(f"{r.source}: target {target} FAILED {error}")
    if scored is not None:
        click.echo(f"scored {scored.scored} mentions: {scored.tasks} tasks, {scored.alerts} alerts queued; "
                   f"{scored.quiet} kept quiet (published longer than their rule's max_age before they were "
                   "stored: scored and counted in the digest, no task, no alert)")
    if failed == len(reports) and reports:
        sys.exit(1)


@click.command()
@click.option("--retry-failed", is_flag=True,
              help="first give mentions the model failed on (parked after 3 attempts) a fresh set of attempts")
@click.pass_obj
def score(state: CliState, retry_failed: bool) -> None:
    """Score unscored mentions, triage them and create tasks and alerts."""
    from listener.pipeline import MAX_SCORE_ATTEMPTS, retry_failed_scores

    with app_for(state) as app:
        if retry_failed:
            click.echo(f"{retry_failed_scores(app.store)} failed mentions queued for scoring again")
        report = app.score()
    mix = ", ".join(f"{n} {s}" for s, n in sorted(report.by_sentiment.items())) or "nothing new"
    joined = f", {report.follow_ups} follow-ups joined open tasks" if report.follow_ups else ""
    quiet = f"; {report.quiet} old posts kept quiet ([[rule]] max_age)" if report.quiet else ""
    click.echo(f"scored {report.scored} mentions ({mix}); {report.tasks} tasks, {report.alerts} alerts queued{joined}"
               f"{quiet}")
    if report.failed:
        click.echo(f"the model failed on {report.failed} mentions (errors in the log; retried on the next run, "
                   f"parked after {MAX_SCORE_ATTEMPTS} attempts: `listener score --retry-failed`)", err=True)


@click.command()
@click.pass_obj
def deliver(state: CliState) -> None:
    """Queue due escalations and grouped messages, then send queued alerts (email, chat) once; failures are
    retried later with backoff."""
    with app_for(state) as app:
        queued = app.escalate()
        report = app.deliver()
        replies = app.deliver_replies()
    if queued.queued:
        click.echo(f"queued {queued.escalations} escalation alerts, {queued.grouped} grouped messages")
    click.echo(f"sent {report.sent}, failed {report.failed} (will retry), parked {report.parked}")
    for error in report.errors:
        click.echo(f"  {error}")
    if replies.posted or replies.retrying or replies.failed or replies.unknown or replies.deferred:
        click.echo(f"replies: posted {replies.posted}, retrying {replies.retrying}, failed {replies.failed}, "
                   f"outcome unknown {replies.unknown}, waiting for the rate limit {replies.deferred}")
        for error in replies.errors:
            click.echo(f"  {error}")
