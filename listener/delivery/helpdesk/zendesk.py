"""Zendesk Support (developer.zendesk.com, Support API v2).

- Auth: HTTP Basic `{email}/token:{api_token}`.
- Requester: `POST /api/v2/users/create_or_update` with the user's `external_id` (matched on it: one user per
  customer) and no e-mail.
- Ticket: `POST /api/v2/tickets` with `external_id` = our task key, `requester_id`, the customer's words as the
  first (public) comment authored by the requester, priority, tags. After a crash, `GET /api/v2/tickets?external_id=`
  finds it.
- Posts: `PUT /api/v2/tickets/{id}` with a `comment` (internal notes `public: false`; the customer's later posts
  public, authored by the requester); `GET /api/v2/tickets/{id}/comments` finds a post's marker.
- Read back: `GET /api/v2/tickets/show_many?ids=…&include=metric_sets` (100 per call): solved/closed resolves the
  task; `replies` (public agent replies) > 0 makes it responded, at the first public agent comment's time.
- Webhook: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)), timestamp in
  `X-Zendesk-Webhook-Signature-Timestamp`; the ticket id from an event payload (`detail.id`) or a trigger's
  JSON body (`ticket_id`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx

from listener.delivery.helpdesk.content import marker
from listener.delivery.helpdesk.driver import Driver, Watch, chunks, fresh, json_body, parse_time, same
from listener.delivery.helpdesk.http import Api, as_dict, as_list, member
from listener.delivery.helpdesk.model import BadWebhook, HelpdeskError, HookCall, Opening, Post, Ticket, TicketState
from listener.delivery.helpdesk.settings import ZendeskSettings

CLOSED = ("solved", "closed")
AGENTS = ("agent", "admin")


class Zendesk(Driver):
    kind = "zendesk"
    label = "Zendesk"
    default_priorities: ClassVar[dict[str, str]] = {"P1": "urgent", "P2": "high", "P3": "normal"}
    settings: ZendeskSettings

    def api(self) -> Api:
        token = self.secret(self.settings.token_secret)
        return Api(self.settings.name, self.label, self.settings.url, self.settings.timeout, self.clock,
                   auth=httpx.BasicAuth(f"{self.settings.email}/token", token), secret_name=self.settings.token_secret)

    def _ticket(self, data: Any) -> Ticket:
        ticket = as_dict(data, "ticket")
        return Ticket(id=str(ticket["id"]), url=f"{self.settings.url}/agent/tickets/{ticket['id']}",
                      requester_ref=str(ticket["requester_id"]) if ticket.get("requester_id") else None)

    def _requester(self, api: Api, opening: Opening) -> int:
        r = opening.requester
        user: dict[str, Any] = {"name": r.name, "external_id": r.external_id, "role": "end-user"}
        if r.profile_url:
            user["details"] = f"{r.platform} profile: {r.profile_url}"
        data = as_dict(api.post("/api/v2/users/create_or_update", {"user": user}), "answer")
        return int(as_dict(data.get("user"), "user")["id"])

    def find_ticket(self, api: Api, opening: Opening) -> Ticket | None:
        data = as_dict(api.get("/api/v2/tickets", params={"external_id": opening.external_id}), "answer")
        ours = [t for t in as_list(data.get("tickets"), "tickets") if t.get("external_id") == opening.external_id]
        return self._ticket(min(ours, key=lambda t: int(t["id"]))) if ours else None

    def create_ticket(self, api: Api, opening: Opening) -> Ticket:
        requester_id = self._requester(api, opening)
        ticket = {"subject": opening.subject, "requester_id": requester_id, "external_id": opening.external_id,
                  "priority": self.priority(opening.priority), "tags": opening.tags,
                  "comment": {"body": opening.text.plain, "public": True, "author_id": requester_id}}
        data = as_dict(api.post("/api/v2/tickets", {"ticket": ticket}), "answer")
        return self._ticket(data.get("ticket"))

    def add_post(self, api: Api, ticket: Ticket, post: Post) -> str:
        comment: dict[str, Any] = {"body": post.text.plain, "public": False}
        if post.from_customer and ticket.requester_ref:
            comment = {"body": post.text.plain, "public": True, "author_id": int(ticket.requester_ref)}
        data = as_dict(api.put(f"/api/v2/tickets/{ticket.id}", {"ticket": {"comment": comment}},
                               gone_is=f"Zendesk ticket {ticket.id}"), "answer")
        audit = data.get("audit")
        return str(audit.get("id", "")) if isinstance(audit, dict) else ""

    def has_post(self, api: Api, ticket: Ticket, key: str) -> bool:
        data = as_dict(api.get(f"/api/v2/tickets/{ticket.id}/comments",
                               params={"sort_order": "desc", "per_page": 100},
                               gone_is=f"Zendesk ticket {ticket.id}"), "answer")
        return any(marker(key) in str(c.get("body", "")) for c in as_list(data.get("comments"), "comments"))

    def _first_answer(self, api: Api, ticket_id: str) -> datetime | None:
        """The first public comment by an agent (the users sideload says who is one)."""
        data = as_dict(api.get(f"/api/v2/tickets/{ticket_id}/comments", params={"include": "users", "per_page": 100},
                               gone_is=f"Zendesk ticket {ticket_id}"), "answer")
        roles = {u.get("id"): u.get("role") for u in data.get("users") or [] if isinstance(u, dict)}
        answers = [parse_time(c.get("created_at")) for c in as_list(data.get("comments"), "comments")
                   if c.get("public") and roles.get(c.get("author_id")) in AGENTS]
        return min((a for a in answers if a), default=None)

    def states(self, api: Api, watches: Sequence[Watch], since: datetime | None) -> dict[str, TicketState]:
        found: dict[str, TicketState] = {}
        for chunk in chunks(watches, 100):
            data = as_dict(api.get("/api/v2/tickets/show_many",
                                   params={"ids": ",".join(w.ticket_id for w in chunk), "include": "metric_sets"}),
                           "answer")
            metrics = {str(m.get("ticket_id")): m for m in data.get("metric_sets") or [] if isinstance(m, dict)}
            tickets = {str(t["id"]): t for t in as_list(data.get("tickets"), "tickets") if isinstance(t, dict)}
            for watch in chunk:
                ticket = tickets.get(watch.ticket_id)
                if ticket is None:  # deleted (show_many leaves out what it cannot show)
                    found[watch.ticket_id] = TicketState(watch.ticket_id, "deleted", closed=False, gone=True)
                    continue
                metric = metrics.get(watch.ticket_id, {})
                status = str(ticket.get("status", ""))
                responded = None
                if not watch.responded and int(metric.get("replies") or 0) > 0:
                    responded = self._first_answer(api, watch.ticket_id)
                found[watch.ticket_id] = TicketState(
                    watch.ticket_id, status, closed=status in CLOSED, responded_at=responded,
                    closed_at=parse_time(metric.get("solved_at")) or parse_time(ticket.get("updated_at")))
        return found

    def verify_hook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> HookCall:
        secret = self.webhook_secret()
        stamp = headers.get("x-zendesk-webhook-signature-timestamp", "")
        digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
        if not same(base64.b64encode(digest).decode(), headers.get("x-zendesk-webhook-signature")):
            raise BadWebhook("the X-Zendesk-Webhook-Signature does not match")
        fresh(parse_time(stamp), now, self.settings.webhook_max_age)
        payload = json_body(body)
        detail, ticket = member(payload, "detail"), member(payload, "ticket")
        ticket_id = detail.get("id") or payload.get("ticket_id") or ticket.get("id")
        delivery = payload.get("id") or headers.get("x-zendesk-webhook-invocation-id")
        return HookCall(str(delivery) if delivery else None, [str(ticket_id)] if ticket_id else [])

    def check(self, api: Api) -> str:
        user = as_dict(as_dict(api.get("/api/v2/users/me"), "answer").get("user"), "user")
        if user.get("role") not in AGENTS:
            raise HelpdeskError(f"the API user is a {user.get('role')}, not an agent")
        return f"signed in as {user.get('name')} ({user.get('role')})"
