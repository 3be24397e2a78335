"""`listener mentions`: stored mentions, and the labels care agents give them (training data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from sqlalchemy import select

from listener.commands import CliState, app_for, emit_json, iso
from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES


@click.group()
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
        out: list[dict[str, Any]] = [{
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
