"""Zammad (docs.zammad.org, REST API v1).

- Auth: `Authorization: Token token=<access token>` (the token needs ticket.agent; admin.user is not needed).
- Customer: `GET /api/v1/users/search?query=login:"<external id>"`, else `POST /api/v1/users` with that login, the
  name, the profile URL as `web` — no e-mail address.
- Ticket: `POST /api/v1/tickets` with `customer_id`, `group`, `priority`, the customer's words as the first article
  (a note with sender Customer and `origin_by_id`, on the customer's behalf) and `tags` holding our task key, so
  after a crash
  `GET /api/v1/tickets/search?query=tags:"<key>"&expand=true` finds it.
- Posts: `POST /api/v1/ticket_articles` (internal notes; the customer's next post as theirs, `origin_by_id`);
  `GET /api/v1/ticket_articles/by_ticket/{id}` finds a marker.
- Read back: `GET /api/v1/tickets/search?query=id:(1 OR 2 …)&expand=true` (50 per call): a state in
  `closed_states` resolves the task, `first_response_at` (an agent's first article the customer can see) makes it
  responded.
- Webhook: `X-Hub-Signature: sha1=<hex HMAC-SHA1(signature token, body)>`; `X-Zammad-Delivery` is remembered so a
  replay is refused; the ticket id is `ticket.id` of the payload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from listener.delivery.helpdesk.content import marker
from listener.delivery.helpdesk.driver import Driver, Watch, chunks, hmac_hex, json_body, parse_time, same
from listener.delivery.helpdesk.http import Api, as_dict, as_list
from listener.delivery.helpdesk.model import (
    BadWebhook,
    HelpdeskError,
    HookCall,
    Opening,
    Post,
    Ticket,
    TicketGone,
    TicketState,
)
from listener.delivery.helpdesk.settings import ZammadSettings


class Zammad(Driver):
    kind = "zammad"
    label = "Zammad"
    default_priorities: ClassVar[dict[str, str]] = {"P1": "3 high", "P2": "2 normal", "P3": "1 low"}
    settings: ZammadSettings

    def api(self) -> Api:
        token = self.secret(self.settings.token_secret)
        return Api(self.settings.name, self.label, self.settings.url, self.settings.timeout, self.clock,
                   headers={"Authorization": f"Token token={token}"}, secret_name=self.settings.token_secret)

    def _ticket(self, data: Any) -> Ticket:
        ticket = as_dict(data, "ticket")
        return Ticket(id=str(ticket["id"]), url=f"{self.settings.url}/#ticket/zoom/{ticket['id']}",
                      requester_ref=str(ticket["customer_id"]) if ticket.get("customer_id") else None)

    def _customer(self, api: Api, opening: Opening) -> int:
        r = opening.requester
        login = r.external_id.lower()  # Zammad keeps logins in lower case
        users = as_list(api.get("/api/v1/users/search", params={"query": f'login:"{login}"', "limit": 10}), "users")
        for user in users:
            if isinstance(user, dict) and str(user.get("login", "")).lower() == login:
                return int(user["id"])
        body = {"login": login, "firstname": r.name, "lastname": "", "web": r.profile_url or "",
                "note": f"{r.platform} account, handed over by listener"}
        return int(as_dict(api.post("/api/v1/users", body), "user")["id"])

    def find_ticket(self, api: Api, opening: Opening) -> Ticket | None:
        found = as_list(api.get("/api/v1/tickets/search", params={"query": f'tags:"{opening.external_id}"',
                                                                  "expand": "true", "limit": 10}), "tickets")
        ours = [t for t in found if isinstance(t, dict)]
        return self._ticket(min(ours, key=lambda t: int(t["id"]))) if ours else None

    def create_ticket(self, api: Api, opening: Opening) -> Ticket:
        customer_id = self._customer(api, opening)
        body = {"title": opening.subject, "group": self.settings.group, "customer_id": customer_id,
                "priority": self.priority(opening.priority), "tags": ",".join([*opening.tags, opening.external_id]),
                "article": {"subject": opening.subject, "body": opening.text.plain, "content_type": "text/plain",
                            "type": "note", "internal": False, "sender": "Customer", "origin_by_id": customer_id}}
        return self._ticket(api.post("/api/v1/tickets", body))

    def add_post(self, api: Api, ticket: Ticket, post: Post) -> str:
        article: dict[str, Any] = {"ticket_id": int(ticket.id), "body": post.text.plain,
                                   "content_type": "text/plain", "type": "note", "internal": True}
        if post.from_customer and ticket.requester_ref:  # on behalf of the customer, as the docs show for phone
            article.update(internal=False, sender="Customer", origin_by_id=int(ticket.requester_ref))
        return str(as_dict(api.post("/api/v1/ticket_articles", article, gone_is=f"Zammad ticket {ticket.id}"),
                           "article").get("id", ""))

    def has_post(self, api: Api, ticket: Ticket, key: str) -> bool:
        articles = as_list(api.get(f"/api/v1/ticket_articles/by_ticket/{ticket.id}",
                                   gone_is=f"Zammad ticket {ticket.id}"), "articles")
        return any(marker(key) in str(a.get("body", "")) for a in articles if isinstance(a, dict))

    def _state(self, ticket: dict[str, Any]) -> TicketState:
        state = str(ticket.get("state", ""))
        return TicketState(str(ticket["id"]), state, closed=state in self.settings.closed_states,
                           responded_at=parse_time(ticket.get("first_response_at")),
                           closed_at=parse_time(ticket.get("close_at")))

    def states(self, api: Api, watches: Sequence[Watch], since: datetime | None) -> dict[str, TicketState]:
        found: dict[str, TicketState] = {}
        for chunk in chunks(watches, 50):
            query = "id:(" + " OR ".join(w.ticket_id for w in chunk) + ")"
            for ticket in as_list(api.get("/api/v1/tickets/search", params={"query": query, "expand": "true",
                                                                            "limit": len(chunk)}), "tickets"):
                if isinstance(ticket, dict):
                    found[str(ticket["id"])] = self._state(ticket)
        for watch in watches:  # not in the search index (yet, or any more): ask for it directly
            if watch.ticket_id not in found:
                try:
                    found[watch.ticket_id] = self._state(as_dict(api.get(
                        f"/api/v1/tickets/{watch.ticket_id}", params={"expand": "true"},
                        gone_is=f"Zammad ticket {watch.ticket_id}"), "ticket"))
                except TicketGone:
                    found[watch.ticket_id] = TicketState(watch.ticket_id, "deleted", closed=False, gone=True)
        return found

    def verify_hook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> HookCall:
        if not same("sha1=" + hmac_hex(self.webhook_secret(), body, "sha1"), headers.get("x-hub-signature")):
            raise BadWebhook("the X-Hub-Signature does not match")
        delivery = headers.get("x-zammad-delivery")
        if not delivery:
            raise BadWebhook("no X-Zammad-Delivery")
        ticket = json_body(body).get("ticket")
        ticket_id = ticket.get("id") if isinstance(ticket, dict) else None
        return HookCall(delivery, [str(ticket_id)] if ticket_id else [])

    def check(self, api: Api) -> str:
        me = as_dict(api.get("/api/v1/users/me"), "user")
        if not me.get("id"):
            raise HelpdeskError("users/me named nobody")
        return f"signed in as {me.get('login')}"
