"""`listener spikes check|list`: run the spike check once (what the daemon does every `spikes_every`), see spikes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from sqlalchemy import select

from listener.commands import CliState, app_for, emit_json, iso
from listener.durations import parse_duration


@click.group()
def spikes() -> None:
    """Spikes: a brand's volume or negative share far above the same hour in previous weeks."""


@spikes.command("check")
@click.option("--dry-run", is_flag=True, help="Decide and print, but store nothing and queue no alert.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def spikes_check(state: CliState, dry_run: bool, as_json: bool) -> None:
    """Check every [[spike]] watch now; spikes that fire are stored and their alerts queued for delivery."""
    if not state.settings.spike:
        raise click.ClickException("no [[spike]] watch in the config (see config/listener.example.toml)")
    with app_for(state) as app:
        report = app.check_spikes(dry_run=dry_run)
    rows: list[dict[str, Any]] = [{
        "watch": c.watch, "brand": c.brand, "kind": c.verdict.kind, "mentions": c.mentions,
        "observed": c.verdict.observed, "expected": round(c.verdict.expected, 2), "ratio": round(c.verdict.ratio, 2),
        "p_value": c.verdict.p_value, "history_weeks": c.verdict.history_weeks, "spiking": c.verdict.spiking,
        "fired": c.fired, "spike_id": c.spike_id, "reason": c.verdict.reason,
    } for c in report.checked]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        mark = ("FIRED" if r["fired"] else "spiking (cooling down)") if r["spiking"] else "quiet"
        click.echo(f"{r['watch']:<14} {r['brand']:<16} {r['kind']:<8} {mark:<22} {r['reason']}")
    fired = sum(r["fired"] for r in rows)
    click.echo(f"{fired} spike{'s' * (fired != 1)} {'would fire (dry run)' if dry_run else 'fired'}")


@spikes.command("list")
@click.option("--since", default="7d", show_default=True, help="How far back, e.g. 24h, 7d.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def spikes_list(state: CliState, since: str, as_json: bool) -> None:
    """Spikes that fired, newest first."""
    from listener.store.models import SpikeRow

    try:
        back: timedelta = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    with app_for(state) as app, app.store.read() as session:
        query = (select(SpikeRow).where(SpikeRow.created_at >= app.clock.now() - back)
                 .order_by(SpikeRow.id.desc()))
        rows: list[dict[str, Any]] = [{
            "id": s.id, "watch": s.watch, "brand": s.brand, "kind": s.kind, "window_start": iso(s.window_start),
            "window_end": iso(s.window_end), "observed": s.observed, "expected": round(s.expected, 2),
            "ratio": round(s.ratio, 2), "mentions": s.mentions, "share": s.share, "baseline_share": s.baseline_share,
            "themes": s.themes, "top_mention_ids": s.top_mention_ids,
        } for s in session.scalars(query)]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"#{r['id']:<5} {r['window_end']} {r['brand']:<16} {r['kind']:<8} {r['observed']} against "
                   f"{r['expected']:.1f} expected ({r['ratio']:.1f}×)  themes: {', '.join(r['themes']) or '-'}")
