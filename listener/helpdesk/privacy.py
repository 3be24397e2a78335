"""`listener privacy export` lists the helpdesk tickets of the exported tasks: an erase in listener cannot reach
them, so the operator erases them in the helpdesk too (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.ops.privacy import export_section
from listener.store.models import HandoffRow


@export_section("helpdesk")  # (tests/contacts/test_privacy.py borrows "helpdesk_tickets")
def helpdesk_tickets(session: Session, mention_ids: list[int], task_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.scalars(select(HandoffRow).where(HandoffRow.task_id.in_(task_ids)).order_by(HandoffRow.id))
    return [{"task": r.task_id, "channel": r.channel, "ticket_id": r.ticket_id, "ticket_url": r.ticket_url,
             "our_key": r.external_id, "requester_id": r.requester_ref, "state": r.state} for r in rows]
