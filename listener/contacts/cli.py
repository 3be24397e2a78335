"""`listener contacts list|show|link|unlink` and `listener tasks merge` (registered in listener/cli/__init__.py)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import click
from sqlalchemy import func, or_, select

from listener.commands import CliState, app_for, emit_json, iso
from listener.contacts.lookup import (
    ContactCard,
    IdentityCard,
    card,
    contact_card,
    contact_for_mention,
    contact_for_task,
)
from listener.contacts.models import Contact, Identity
from listener.text import words

_by_option = click.option("--by", "actor", default=None, help="Who did it, for the log (default: $USER).")


@click.group()
def contacts() -> None:
    """The people behind mentions: identities across platforms, suggested and confirmed links."""


def identity_dict(i: IdentityCard) -> dict[str, Any]:
    return {"id": i.id, "platform": i.platform, "account": i.account, "handle": i.handle,
            "display_name": i.display_name, "profile_url": i.profile_url, "first_seen_at": iso(i.first_seen_at),
            "last_seen_at": iso(i.last_seen_at)}


def contact_dict(c: ContactCard) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "created_at": iso(c.created_at),
            "identities": [identity_dict(i) for i in c.identities]}


def _identity_line(i: IdentityCard) -> str:
    shown = f" “{i.display_name}”" if i.display_name and i.display_name != i.handle else ""
    profile = f"  {i.profile_url}" if i.profile_url else ""
    return f"  identity #{i.id}: {i.platform} {i.handle or i.account}{shown}{profile}"


@contacts.command("list")
@click.option("--search", default=None, help="Only contacts with a handle or name containing this (folded: "
                                              "'kundin 77' finds Kundin_77).")
@click.option("--platform", "kind", default=None, help="Only contacts with an identity on this platform kind.")
@click.option("--linked", is_flag=True, help="Only contacts with identities on more than one platform.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def contacts_list(state: CliState, search: str | None, kind: str | None, linked: bool, limit: int,
                  as_json: bool) -> None:
    """Contacts, the most recently heard from first."""
    query = (select(Contact.id).join(Identity, Identity.contact_id == Contact.id)
             .where(Contact.merged_into_id.is_(None)).group_by(Contact.id)
             .order_by(func.max(Identity.last_seen_at).desc(), Contact.id.desc()).limit(limit))
    if search:
        key = "".join(words(search))
        pattern = f"%{search.strip()}%"
        folded = [Identity.name_key.contains(key), Identity.display_key.contains(key)] if key else []
        query = query.where(or_(Identity.handle.ilike(pattern), Identity.display_name.ilike(pattern), *folded))
    if kind:
        query = query.where(or_(Identity.platform == kind, Identity.platform.startswith(f"{kind}:")))
    if linked:
        query = query.having(func.count(func.distinct(Identity.platform)) > 1)
    with app_for(state) as app, app.store.read() as session:
        cards = [card(c) for c in session.scalars(select(Contact).where(Contact.id.in_(
            list(session.scalars(query)))))]
    cards.sort(key=lambda c: (max(i.last_seen_at for i in c.identities), c.id), reverse=True)
    if as_json:
        emit_json([contact_dict(c) for c in cards])
        return
    for c in cards:
        click.echo(f"contact #{c.id}  {c.name}  ({len(c.identities)} identities)")
        for i in c.identities:
            click.echo(_identity_line(i))


@contacts.command("show")
@click.argument("contact_id", type=int, required=False)
@click.option("--task", "task_id", type=int, default=None, help="Instead of CONTACT_ID: the contact of this task.")
@click.option("--mention", "mention_id", type=int, default=None, help="Instead: the author of this mention.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def contacts_show(state: CliState, contact_id: int | None, task_id: int | None, mention_id: int | None,
                  as_json: bool) -> None:
    """A contact: identities, links (and undone ones), suggested links, history across platforms."""
    from listener.contacts.history import contact_history
    from listener.contacts.linking import links_of
    from listener.contacts.suggestions import suggestions

    if sum(x is not None for x in (contact_id, task_id, mention_id)) != 1:
        raise click.UsageError("give exactly one of CONTACT_ID, --task ID or --mention ID")
    with app_for(state) as app, app.store.read() as session:
        if contact_id is not None:
            found = contact_card(session, contact_id)
        elif task_id is not None:
            found = contact_for_task(session, task_id)
        else:
            assert mention_id is not None
            found = contact_for_mention(session, mention_id)
        if found is None:
            raise click.ClickException("no such contact (or the mention names nobody)")
        data = contact_dict(found)
        if contact_id is not None and found.id != contact_id:
            data["linked_from"] = contact_id
        data["links"] = [{"id": link.id, "kept": link.kept_id, "merged": link.merged_id,
                          "identities": link.identity_ids, "reason": link.reason, "by": link.linked_by,
                          "at": iso(link.linked_at), "undone_by": link.undone_by, "undone_at": iso(link.undone_at)}
                         for link in links_of(session, found.id)]
        data["suggestions"] = [{"contact": contact_dict(s.contact), "reasons": s.reasons}
                               for s in suggestions(session, found.id)]
        data["history"] = [{"at": iso(e.at), "kind": e.kind, "platform": e.platform, "source": e.source,
                            "who": e.who, "text": e.text, "url": e.url, "mention_id": e.mention_id,
                            "task": e.task.id if e.task else None, "task_status": e.task.status if e.task else None,
                            "follow_up": e.joined, "label": e.label}
                           for e in contact_history(session, found.id)]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"contact #{found.id}  {found.name}")
    for i in found.identities:
        click.echo(_identity_line(i))
    if data["links"]:
        click.echo("links:")
        for link in data["links"]:
            undone = f"  (undone by {link['undone_by']} {link['undone_at']})" if link["undone_at"] else ""
            why = f": {link['reason']}" if link["reason"] else ""
            click.echo(f"  link #{link['id']}: contact #{link['merged']} into #{link['kept']} by {link['by']} "
                       f"{link['at']}{why}{undone}")
    if data["suggestions"]:
        click.echo("may be the same person (listener contacts link KEEP OTHER):")
        for s in data["suggestions"]:
            click.echo(f"  contact #{s['contact']['id']} {s['contact']['name']}: {'; '.join(s['reasons'])}")
    click.echo("history (newest first):")
    for e in data["history"]:
        task = f"  task #{e['task']} {e['task_status']}{' (follow-up)' if e['follow_up'] else ''}" if e["task"] else ""
        click.echo(f"  {e['at']}  {e['platform']:<12} {e['who'] or '?'}: {e['text'][:80]}{task}")


@contacts.command("link")
@click.argument("keep_id", type=int)
@click.argument("other_id", type=int)
@click.option("--reason", default=None, help="Why they are one person (kept in the log).")
@_by_option
@click.pass_obj
def contacts_link(state: CliState, keep_id: int, other_id: int, reason: str | None, actor: str | None) -> None:
    """Confirm that OTHER_ID is the same person as KEEP_ID: its identities join KEEP_ID (undo: `unlink`)."""
    from listener.contacts.linking import ContactError, link

    with app_for(state) as app:
        try:
            with app.store.write() as session:
                row = link(session, keep_id, other_id, actor or getpass.getuser(), app.clock.now(), reason)
                link_id, kept, merged, moved = row.id, row.kept_id, row.merged_id, len(row.identity_ids)
        except ContactError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"link #{link_id}: contact #{merged} ({moved} identities) is now part of contact #{kept} "
               f"(undo: listener contacts unlink {link_id})")


@contacts.command("unlink")
@click.argument("link_id", type=int)
@_by_option
@click.pass_obj
def contacts_unlink(state: CliState, link_id: int, actor: str | None) -> None:
    """Undo link LINK_ID (`contacts show` lists them): the identities it moved are a contact of their own again."""
    from listener.contacts.linking import ContactError, unlink

    with app_for(state) as app:
        try:
            with app.store.write() as session:
                row = unlink(session, link_id, actor or getpass.getuser(), app.clock.now())
                kept, merged = row.kept_id, row.merged_id
        except ContactError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"link #{link_id} undone: contact #{merged} is separate from contact #{kept} again")

