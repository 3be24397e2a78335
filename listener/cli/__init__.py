"""The `listener` command: the daemon, one pass of each stage, and the commands of the care team, marketing and ops.

Each group of commands lives beside what it drives (listener/cli/ for the flow's own stages and the admin commands,
`listener/<part>/cli.py` for the others), taking the `CliState` of listener/commands.py; this module only
assembles them.
"""

from __future__ import annotations

import click

from listener.acting import cli as care
from listener.acting.spikes.cli import spikes
from listener.cli import admin, mentions, stages
from listener.cluster.cli import cluster
from listener.commands import CliState
from listener.contacts.cli import contacts
from listener.delivery.cli import alerts
from listener.demo import demo
from listener.digest.cli import digest
from listener.logs import setup_logging
from listener.nlp.cli import nlp
from listener.ops.cli import db_backup, doctor, privacy, retention
from listener.replies.cli import reply as reply_command
from listener.web.cli import users, web


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
        setup_logging(log_level or ctx.obj.settings.log.level, ctx.obj.settings.log.format, capture_warnings=True)


COMMANDS: tuple[click.Command, ...] = (
    stages.run, stages.poll, stages.score, stages.deliver,  # the flow
    mentions.mentions, *care.COMMANDS, contacts, alerts, spikes, web, users,  # the care team
    digest,  # marketing
    admin.sources, admin.db, admin.config_group, doctor, retention, privacy, cluster,  # ops
    nlp, demo,
)
for command in COMMANDS:
    cli.add_command(command)
admin.db.add_command(db_backup)
care.tasks.add_command(reply_command)  # answer on the platform (listener/replies)


def main() -> None:
    cli(prog_name="listener")
