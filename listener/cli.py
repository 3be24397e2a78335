"""The `listener` command: the daemon, one pass of each stage, and the care team's task commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from listener.alerts import cli as alert_commands
from listener.config import ConfigError, Settings, load_settings
from listener.domain import SENTIMENTS
from listener.logs import setup_logging
from listener.nlp.categories import CATEGORIES
from listener.nlp.scoring import ModelUnavailable
from listener.nlp.settings import NlpSettings
from listener.secrets import MissingSecret


class CliState:
    """Loads the config only when a command needs it, so `--help` and `config check` work without one."""

    def __init__(self, config: str | None):
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def nlp(self) -> NlpSettings:  # used by `listener nlp …`, which also works without a config file
        try:
            return self.settings.nlp
        except click.ClickException:
            if self.config:
                raise
            return NlpSettings()

    @property
    def cache_dir(self) -> Path:
        try:
            return self.settings.cache_dir
        except click.ClickException:
            return Settings().cache_dir


@contextmanager
def app_for(state: CliState, migrate: bool = True) -> Iterator[Any]:
    from listener.app import App

    try:
        app = App(state.settings)
    except MissingSecret as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if migrate:
            app.migrate()
        yield app
    except (ModelUnavailable, MissingSecret) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def emit_json(rows: list[dict[str, Any]]) -> None:
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", envvar="LISTENER_CONFIG", type=click.Path(dir_okay=False),
              help="Config file (default: $LISTENER_CONFIG, /etc/listener/listener.toml, ./listener.toml).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default=None,
              help="Override [log] level.")
@click.version_option(package_name="listener")
@click.pass_context
def cli(ctx: click.Context, config: str | None, log_level: str | None) -> None:
    """listener — hears what people write about your brand and turns complaints into care tasks.

    \b
    Start here:
      listener demo                      the whole flow on built-in sample feeds, no accounts needed
      listener -c listener.toml config check
      listener -c listener.toml run      the daemon (systemd: systemctl enable --now listener)
    One pass of each stage: poll → score (triage, tasks, alerts) → deliver.
    """
    ctx.obj = CliState(config)
    setup_logging(log_level or "warning")
    if ctx.invoked_subcommand == "run":
        setup_logging(log_level or ctx.obj.settings.log.level, ctx.obj.settings.log.format)


@cli.command()
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


@cli.command()
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--force", is_flag=True, help="Poll even if the source is backing off after failures.")
@click.pass_obj
def poll(state: CliState, names: tuple[str, ...], force: bool) -> None:
    """Poll sources once and store new mentions of your brands."""
    for name in names:
        state.settings.source_by_name(name)
    with app_for(state) as app:
        reports = app.poll(list(names) or None, force=force)
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
    if failed == len(reports) and reports:
        sys.exit(1)


@cli.command()
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
    click.echo(f"scored {report.scored} mentions ({mix}); {report.tasks} tasks, {report.alerts} alerts queued")
    if report.failed:
        click.echo(f"the model failed on {report.failed} mentions (errors in the log; retried on the next run, "
                   f"parked after {MAX_SCORE_ATTEMPTS} attempts: `listener score --retry-failed`)", err=True)


@cli.command()
@click.pass_obj
def deliver(state: CliState) -> None:
    """Queue due escalations and grouped messages, then send queued alerts (email, chat) once; failures are
    retried later with backoff."""
    with app_for(state) as app:
        queued = app.escalate()
        report = app.deliver()
    if queued.queued:
        click.echo(f"queued {queued.escalations} escalation alerts, {queued.grouped} grouped messages")
    click.echo(f"sent {report.sent}, failed {report.failed} (will retry), parked {report.parked}")
    for error in report.errors:
        click.echo(f"  {error}")


# ----------------------------------------------------------------------------- mentions
@cli.group()
def mentions() -> None:
    """Stored mentions."""


@mentions.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--brand", default=None, help="Only mentions of this brand.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
@click.pass_obj
def mentions_list(state: CliState, limit: int, brand: str | None, as_json: bool) -> None:
    """Newest mentions first, with their sentiment."""
    from listener.store.models import MentionBrand, MentionRow

    with app_for(state) as app, app.store.read() as session:
        query = select(MentionRow).order_by(MentionRow.id.desc()).limit(limit)
        if brand:
            query = query.join(MentionBrand).where(MentionBrand.brand == brand)
        rows = list(session.scalars(query))
        out = [{
            "id": m.id, "source": m.source.name, "external_id": m.external_id, "url": m.url, "author": m.author,
            "published_at": iso(m.published_at), "title": m.title, "text": m.text, "brands": m.brand_names,
            "sentiment": m.score.sentiment if m.score else None,
            "scores": m.score.probabilities if m.score else None,
            "language": m.score.language if m.score else None,
            "urgency": m.score.urgency if m.score else None,
            "canonical_id": m.canonical_id,
            "label": {"sentiment": m.label.sentiment, "service_categories": m.label.service_categories,
                      "labelled_by": m.label.labelled_by, "labelled_at": iso(m.label.labelled_at)}
            if m.label else None,
        } for m in rows]
    if as_json:
        emit_json(out)
        return
    for m in out:
        sentiment = m["sentiment"] or "unscored"
        text = " ".join((m["title"] or m["text"]).split())[:90]
        if m["label"] and m["label"]["sentiment"] != m["sentiment"]:
            sentiment = f"{sentiment}→{m['label']['sentiment']}"  # the model said, the care team says
        click.echo(f"#{m['id']:<5} {sentiment:<9} {','.join(m['brands']):<14} {m['source']:<16} {text}")


@mentions.command("label")
@click.argument("mention_id", type=int)
@click.argument("sentiment", required=False, metavar="SENTIMENT", type=click.Choice(SENTIMENTS))
@click.option("--service", "service", multiple=True, metavar="CATEGORY",
              type=click.Choice(CATEGORIES),
              help="It is a negative service experience about CATEGORY (repeatable). Without it: it is not one.")
@click.option("--by", "labelled_by", default=None, help="Who labelled it (kept with the label).")
@click.option("--remove", is_flag=True, help="Remove the mention's label instead.")
@click.pass_obj
def mentions_label(state: CliState, mention_id: int, sentiment: str | None, service: tuple[str, ...],
                   labelled_by: str | None, remove: bool) -> None:
    """Say what the model should have said about a mention: SENTIMENT and, with --service, that it is a negative
    service experience. Labels measure and retrain the model (`mentions export-labels`)."""
    from listener.labels import LabelError, label_mention, remove_label

    if sentiment is None and not remove:
        raise click.UsageError("give the SENTIMENT the model should have said (or --remove)")
    with app_for(state) as app:
        try:
            with app.store.write() as session:
                if remove:
                    found = remove_label(session, mention_id)
                else:
                    label_mention(session, mention_id, str(sentiment), service, labelled_by, app.clock.now())
        except LabelError as exc:
            raise click.ClickException(str(exc)) from None
    if remove:
        click.echo(f"mention #{mention_id}: label removed" if found else f"mention #{mention_id} has no label")
    else:
        flag = f"negative service experience ({', '.join(service)})" if service else "no negative service experience"
        click.echo(f"mention #{mention_id} labelled {sentiment}, {flag}")


@mentions.command("export-labels")
@click.argument("out", type=click.File("w", encoding="utf-8", lazy=True))
@click.option("--brand", default=None, help="Only mentions of this brand.")
@click.option("--since", type=click.DateTime(), default=None, help="Only labels given at or after this time (UTC).")
@click.option("--until", type=click.DateTime(), default=None, help="Only labels given before this time (UTC).")
@click.pass_obj
def mentions_export_labels(state: CliState, out: Any, brand: str | None, since: datetime | None,
                           until: datetime | None) -> None:
    """Write the labelled mentions to OUT ('-' = stdout) as a TSV (id, sentiment, text, aspects) that
    `listener nlp eval OUT` measures the model on and `listener nlp train --data OUT` trains on.
    --until/--since on the same day split them into training labels and held-out ones."""
    from listener.clock import utc
    from listener.labels import export_labels

    with app_for(state) as app, app.store.read() as session:
        n = export_labels(session, out, brand, since and utc(since), until and utc(until))
    out.close()
    click.echo(f"wrote {n} labelled mentions to {out.name}", err=True)


# ----------------------------------------------------------------------------- tasks
@cli.group()
def tasks() -> None:
    """Follow-up tasks for the care team: list, ack, respond, resolve, dismiss."""


@tasks.command("list")
@click.option("--status", type=click.Choice(["open", "all", "acknowledged", "responded", "resolved", "dismissed"]),
              default="open", show_default=True, help="'open' includes acknowledged and responded.")
@click.option("--assignee", default=None, help="Only tasks assigned to this name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
@click.pass_obj
def tasks_list(state: CliState, status: str, assignee: str | None, as_json: bool) -> None:
    """Tasks, most urgent and oldest deadline first."""
    from listener.alerts.tasks import OPEN_STATES
    from listener.store.models import TaskRow

    with app_for(state) as app, app.store.read() as session:
        query = select(TaskRow).order_by(TaskRow.priority, TaskRow.due_at, TaskRow.id)
        if status == "open":
            query = query.where(TaskRow.status.in_(OPEN_STATES))
        elif status != "all":
            query = query.where(TaskRow.status == status)
        if assignee:
            query = query.where(TaskRow.assignee == assignee)
        rows = list(session.scalars(query))
        now = app.clock.now()
        out = [{
            "id": t.id, "mention_id": t.mention_id, "status": t.status, "priority": t.priority,
            "due_at": iso(t.due_at), "reasons": t.reasons, "rule": t.rule, "created_at": iso(t.created_at),
            "url": t.mention.url, "overdue": bool(t.due_at and t.due_at < now and t.status == "open"),
            "assignee": t.assignee,
        } for t in rows]
    if as_json:
        emit_json(out)
        return
    for t in out:
        flag = (" OVERDUE" if t["overdue"] else "") + (f" @{t['assignee']}" if t["assignee"] else "")
        click.echo(f"#{t['id']:<5} {t['priority']} {t['status']:<12} due {t['due_at']}{flag}  "
                   f"mention #{t['mention_id']}: {'; '.join(t['reasons'])}")


def _task_action(action: str, help_text: str) -> None:
    @tasks.command(action, help=help_text)
    @click.argument("task_id", type=int)
    @click.option("--note", default=None, help="A note kept with the task.")
    @click.option("--by", "actor", default=None, help="Who did it, for the task's activity log (default: $USER).")
    @click.pass_obj
    def command(state: CliState, task_id: int, note: str | None, actor: str | None) -> None:
        import getpass

        from listener.alerts.activity import perform
        from listener.alerts.tasks import TaskError

        with app_for(state) as app:
            try:
                with app.store.write() as session:
                    task = perform(session, task_id, action, actor or getpass.getuser(), app.clock.now(), note)
                    status, mention_id = task.status, task.mention_id
            except TaskError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"task #{task_id} is now {status}")
        if action == "dismiss":  # a false alarm is what the model should learn from
            click.echo(f"to teach the model: listener mentions label {mention_id} SENTIMENT (see --help)")


_task_action("ack", "Acknowledge a task: someone is on it.")
_task_action("respond", "Mark a task responded: the customer has had a first answer.")
_task_action("resolve", "Resolve a task: the customer's issue is dealt with.")
_task_action("dismiss", "Dismiss a task as a false alarm.")
tasks.add_command(alert_commands.assign)


# ----------------------------------------------------------------------------- alerts
@cli.group()
def alerts() -> None:
    """The alert outbox: what was sent, what waits, what is parked."""


@alerts.command("list")
@click.option("--status", type=click.Choice(["all", "pending", "sending", "sent", "parked"]), default="all",
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def alerts_list(state: CliState, status: str, as_json: bool) -> None:
    """Outbox rows, newest first."""
    from listener.store.models import AlertRow

    with app_for(state) as app, app.store.read() as session:
        query = select(AlertRow).order_by(AlertRow.id.desc())
        if status != "all":
            query = query.where(AlertRow.status == status)
        out = [{
            "id": a.id, "task_id": a.task_id, "kind": a.kind, "step": a.step, "group_id": a.group_id,
            "spike_id": a.spike_id, "channel": a.channel, "status": a.status, "attempts": a.attempts,
            "next_attempt_at": iso(a.next_attempt_at), "sent_at": iso(a.sent_at), "last_error": a.last_error,
        } for a in session.scalars(query)]
    if as_json:
        emit_json(out)
        return
    for a in out:
        extra = f" last error: {a['last_error']}" if a["last_error"] else ""
        about = {"group": f"group #{a['group_id']}", "spike": f"spike #{a['spike_id']}"}.get(
            a["kind"], f"task #{a['task_id']}") + (f" step {a['step']}" if a["step"] else "")
        click.echo(f"#{a['id']:<5} {about:<18} → {a['channel']:<14} {a['status']:<8} "
                   f"attempts {a['attempts']}{extra}")


@alerts.command("retry")
@click.argument("alert_id", type=int, required=False)
@click.pass_obj
def alerts_retry(state: CliState, alert_id: int | None) -> None:
    """Queue parked alerts (all, or one) for delivery again."""
    from listener.alerts.outbox import retry_parked

    with app_for(state) as app, app.store.write() as session:
        n = retry_parked(session, alert_id, app.clock.now())
    click.echo(f"{n} parked alerts queued again")


# ----------------------------------------------------------------------------- sources, db, config
@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def sources(state: CliState, as_json: bool) -> None:
    """Health of every configured source: last success, failures, next attempt, last error, failing targets."""
    from listener.store.models import SourceRow

    with app_for(state) as app, app.store.read() as session:
        rows = {r.name: r for r in session.scalars(select(SourceRow))}
        out = []
        for s in app.settings.source:
            row = rows.get(s.name)
            h = row.health if row else None
            out.append({
                "name": s.name, "kind": s.kind, "enabled": s.enabled, "every": int(s.every.total_seconds()),
                "last_success_at": iso(h.last_success_at) if h else None,
                "consecutive_failures": h.consecutive_failures if h else 0,
                "next_attempt_at": iso(h.next_attempt_at) if h else None,
                "last_error": h.last_error if h else None,
                "failing_targets": dict(h.failing_targets or {}) if h else {},
                "status": "never polled" if not h or not h.last_attempt_at else
                          ("failing" if h.consecutive_failures else "ok"),
            })
    if as_json:
        emit_json(out)
        return
    for s in out:
        line = f"{s['name']:<20} {s['kind']:<10} {s['status']:<12} last success {s['last_success_at'] or '-'}"
        if s["consecutive_failures"]:
            line += f"  failures {s['consecutive_failures']}, next try {s['next_attempt_at']}: {s['last_error']}"
        click.echo(line)
        for target, failing in s["failing_targets"].items():
            click.echo(f"{'':<20} target {target} failing since {failing['since']} "
                       f"(failed polls: {failing['failures']}): {failing['error']}")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: CliState) -> None:
    """Apply migrations (also done at daemon start). Safe to run repeatedly."""
    with app_for(state, migrate=False) as app:
        app.migrate()
    click.echo(f"database at {app.store.engine.url.render_as_string(hide_password=True)} is up to date")


@cli.group("config")
def config_group() -> None:
    """The config file."""


@config_group.command("check")
@click.pass_obj
def config_check(state: CliState) -> None:
    """Validate the config file; every problem names its key."""
    settings = state.settings
    click.echo(f"config OK: {len(settings.brand)} brands, {len(settings.source)} sources, "
               f"{len(settings.channel)} channels, {len(settings.rule)} rules")


def _register_optional_groups() -> None:
    from listener.alerts.spikes.cli import spikes
    from listener.demo import demo
    from listener.digest.cli import digest
    from listener.ops.cli import doctor

    for command in alert_commands.COMMANDS:  # escalate, silence, report
        cli.add_command(command)

    cli.add_command(demo)
    cli.add_command(spikes)
    from listener.cluster.cli import cluster
    from listener.ops.backup import db_backup
    from listener.ops.commands import privacy, retention

    db.add_command(db_backup)
    cli.add_command(retention)
    cli.add_command(privacy)
    cli.add_command(cluster)
    cli.add_command(doctor)
    cli.add_command(digest)
    from listener.web.cli import users, web

    cli.add_command(web)
    cli.add_command(users)
    try:
        from listener.nlp.cli import nlp
    except ImportError:  # pragma: no cover - the nlp CLI ships with the package
        return
    cli.add_command(nlp)


_register_optional_groups()


def main() -> None:
    cli(prog_name="listener")
