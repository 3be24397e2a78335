"""`listener tasks reply ID --text TEXT | --template NAME`: the care inbox's composer for scripts."""

from __future__ import annotations

import click
from sqlalchemy import select

from listener.commands import CliState, app_for


@click.command("reply")
@click.argument("task_id", type=int)
@click.option("--text", default=None, help="The reply, as it is posted (placeholders such as {author} are filled).")
@click.option("--template", "template_name", default=None,
              help="A reply template by name (the one in the mention's language first), placeholders filled.")
@click.option("--by", "actor", default=None, help="Who writes it: a care-inbox user, whose role decides whether it "
              "needs a lead's approval ([web] reply_approval; default: $USER, as an agent).")
@click.option("--now", "post_now", is_flag=True, help="Post it at once instead of leaving it to the daemon.")
@click.pass_obj
def reply(state: CliState, task_id: int, text: str | None, template_name: str | None, actor: str | None,
          post_now: bool) -> None:
    """Answer the task's mention on its platform: queued in the reply outbox, which the daemon posts (retries,
    never twice); the task is responded once the platform accepts it."""
    import getpass

    from listener.replies.compose import fill, placeholders
    from listener.replies.service import ReplyActionError, submit
    from listener.store.models import ReplyTemplate, TaskRow, UserRow
    from listener.surveys.links import survey_link

    if (text is None) == (template_name is None):
        raise click.UsageError("give either --text or --template")
    actor = actor or getpass.getuser()
    with app_for(state) as app:
        try:
            with app.store.write() as session:
                task = session.get(TaskRow, task_id)
                if task is None:
                    raise ReplyActionError(f"no task #{task_id}")
                if template_name is not None:
                    language = task.mention.score.language if task.mention.score else None
                    found = sorted(session.scalars(select(ReplyTemplate).where(ReplyTemplate.name == template_name)),
                                   key=lambda t: t.language != language)
                    if not found:
                        raise ReplyActionError(f"no reply template named {template_name!r}")
                    text = found[0].body
                user = session.scalar(select(UserRow).where(UserRow.name == actor))  # (the inbox's users)
                survey_url = survey_link(app.settings, task, app.clock) if "{survey_url}" in (text or "") else ""
                filled = fill(text or "", placeholders(task.mention, None, survey_url))
                row = submit(session, app.settings, task_id, filled, actor, user.role if user else "agent",
                             app.clock.now())
                reply_id, status = row.id, row.status
        except ReplyActionError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"reply #{reply_id} to task #{task_id}: {status.replace('_', ' ')}")
        if post_now and status == "queued":
            report = app.deliver_replies()
            for error in report.errors:
                click.echo(f"  {error}", err=True)
            with app.store.read() as session:
                from listener.store.models import ReplyRow

                row = session.get_one(ReplyRow, reply_id)
                click.echo(f"reply #{reply_id}: {row.status.replace('_', ' ')}" + (f" {row.url}" if row.url else ""))
