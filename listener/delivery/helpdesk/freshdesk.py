"""Freshdesk (developers.freshdesk.com, API v2).

- Auth: HTTP Basic with the API key as user name and "X" as password.
- Ticket: `POST /api/v2/tickets` with the requester as `unique_external_id` + `name` (Freshdesk creates the contact
  the first time; no e-mail), the customer's words as the HTML `description`, priority 1-4, status 2 (Open), tags —
  among them our task key, so after a crash `GET /api/v2/search/tickets?query="tag:'<key>'"` finds the ticket
  (Freshdesk tickets have no external-id field of their own).
- Posts: `POST /api/v2/tickets/{id}/notes` (private); `GET /api/v2/tickets/{id}/conversations` finds a marker.
- Read back: `GET /api/v2/tickets?updated_since=…&include=stats` (100 per page) lists what changed since the oldest
  open hand-off was last read; status 4 (Resolved) or 5 (Closed) resolves the task, `stats.first_responded_at`
  (an agent's first reply) makes it responded.
- Webhook: Freshdesk signs nothing. Its automation rule sends the token configured as `webhook_secret` in an
  `X-Listener-Token` header and `{"ticket_id": "{{ticket.id}}"}`; listener then reads the ticket from the API.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx

from listener.delivery.helpdesk.content import marker
from listener.delivery.helpdesk.driver import Driver, Watch, json_body, parse_time, same
from listener.delivery.helpdesk.http import Api, as_dict, as_list, member
from listener.delivery.helpdesk.model import BadWebhook, HookCall, Opening, Post, Ticket, TicketGone, TicketState
from listener.delivery.helpdesk.settings import FreshdeskSettings

OPEN = 2
CLOSED = (4, 5)  # Resolved, Closed
PRIORITY_NAMES = {"low": 1, "medium": 2, "high": 3, "urgent": 4}
MAX_PAGES = 10  # 1,000 changed tickets per read-back; past that, open hand-offs not seen are read one by one


class Freshdesk(Driver):
    kind = "freshdesk"
    label = "Freshdesk"
    default_priorities: ClassVar[dict[str, str]] = {"P1": "urgent", "P2": "high", "P3": "medium"}
    settings: FreshdeskSettings

    def api(self) -> Api:
        key = self.secret(self.settings.token_secret)
        return Api(self.settings.name, self.label, self.settings.url, self.settings.timeout, self.clock,
                   auth=httpx.BasicAuth(key, "X"), secret_name=self.settings.token_secret)

    def priority_number(self, task_priority: str) -> int:
        word = self.priority(task_priority).strip().lower()
        return int(word) if word.isdigit() else PRIORITY_NAMES[word]

    def _ticket(self, data: Any) -> Ticket:
        ticket = as_dict(data, "ticket")
        return Ticket(id=str(ticket["id"]), url=f"{self.settings.url}/a/tickets/{ticket['id']}",
                      requester_ref=str(ticket["requester_id"]) if ticket.get("requester_id") else None)

    def find_ticket(self, api: Api, opening: Opening) -> Ticket | None:
        data = as_dict(api.get("/api/v2/search/tickets", params={"query": f"\"tag:'{opening.external_id}'\""}),
                       "answer")
        ours = as_list(data.get("results"), "results")
        return self._ticket(min(ours, key=lambda t: int(t["id"]))) if ours else None

    def create_ticket(self, api: Api, opening: Opening) -> Ticket:
        r = opening.requester
        body = {"name": r.name, "unique_external_id": r.external_id, "subject": opening.subject,
                "description": opening.text.html, "status": OPEN, "priority": self.priority_number(opening.priority),
                "source": self.settings.source, "tags": [*opening.tags, opening.external_id]}
        return self._ticket(api.post("/api/v2/tickets", body))

    def add_post(self, api: Api, ticket: Ticket, post: Post) -> str:
        body = post.text.html
        if post.from_customer:  # Freshdesk has no way in for the customer's words but a note saying so
            body = "<p><strong>The customer wrote again:</strong></p>\n" + body
        data = as_dict(api.post(f"/api/v2/tickets/{ticket.id}/notes", {"body": body, "private": True},
                                gone_is=f"Freshdesk ticket {ticket.id}"), "answer")
        return str(data.get("id", ""))

    def has_post(self, api: Api, ticket: Ticket, key: str) -> bool:
        items = as_list(api.get(f"/api/v2/tickets/{ticket.id}/conversations", params={"per_page": 100},
                                gone_is=f"Freshdesk ticket {ticket.id}"), "conversations")
        return any(marker(key) in html.unescape(str(c.get("body_text") or c.get("body") or "")) for c in items)

    @staticmethod
    def _state(ticket: dict[str, Any]) -> TicketState:
        stats = member(ticket, "stats")
        status = int(ticket.get("status") or 0)
        return TicketState(str(ticket["id"]), str(status), closed=status in CLOSED,
                           responded_at=parse_time(stats.get("first_responded_at")),
                           closed_at=parse_time(stats.get("resolved_at")) or parse_time(stats.get("closed_at")))

    def _one(self, api: Api, ticket_id: str) -> TicketState:
        try:
            return self._state(as_dict(api.get(f"/api/v2/tickets/{ticket_id}", params={"include": "stats"},
                                               gone_is=f"Freshdesk ticket {ticket_id}"), "ticket"))
        except TicketGone:
            return TicketState(ticket_id, "deleted", closed=False, gone=True)

    def states(self, api: Api, watches: Sequence[Watch], since: datetime | None) -> dict[str, TicketState]:
        wanted = {w.ticket_id for w in watches}
        if since is None:
            return {w.ticket_id: self._one(api, w.ticket_id) for w in watches}
        found: dict[str, TicketState] = {}
        params: dict[str, Any] = {"updated_since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  "include": "stats", "order_by": "updated_at", "order_type": "asc",
                                  "per_page": 100}
        complete = False
        for page in range(1, MAX_PAGES + 1):
            tickets = as_list(api.get("/api/v2/tickets", params={**params, "page": page}), "tickets")
            for ticket in tickets:
                if isinstance(ticket, dict) and str(ticket.get("id")) in wanted:
                    found[str(ticket["id"])] = self._state(ticket)
            if len(tickets) < params["per_page"]:
                complete = True
                break
        if not complete:  # more changed tickets than we page through: read the rest of ours one by one
            for ticket_id in sorted(wanted - set(found)):
                found[ticket_id] = self._one(api, ticket_id)
        return found  # a watched ticket not listed has not changed since `since`

    def verify_hook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> HookCall:
        if not same(self.webhook_secret(), headers.get("x-listener-token")):
            raise BadWebhook("the X-Listener-Token does not match")
        payload = json_body(body)
        inner = member(payload, "freshdesk_webhook") or payload  # the older webhook format wraps the fields
        ticket_id = inner.get("ticket_id") or payload.get("ticket_id")
        return HookCall(None, [str(ticket_id)] if ticket_id else [])

    def check(self, api: Api) -> str:
        me = as_dict(api.get("/api/v2/agents/me"), "agent")
        contact = member(me, "contact")
        return f"signed in as agent {contact.get('name') or me.get('id')}"
