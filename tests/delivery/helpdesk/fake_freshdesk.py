"""Freshdesk API v2 on loopback, as developers.freshdesk.com documents it (Create Ticket, Filter Tickets, Add Note,
List Conversations, List Tickets with updated_since and include=stats), with an agent who replies and resolves."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from listener.clock import Clock
from listener.delivery.helpdesk.driver import parse_time
from tests.delivery.helpdesk.fake_api import FakeApi, Invalid, Reply, Request, json_reply, ok
from tests.delivery.helpdesk.fake_zendesk import iso

API_KEY = "fd-key-1"
REQUESTER_FIELDS = ("requester_id", "email", "facebook_id", "phone", "twitter_id", "unique_external_id")
_TAG_QUERY = re.compile(r"^\"tag:'([^']+)'\"$")


class FakeFreshdesk(FakeApi):
    def __init__(self, clock: Clock):
        self.contacts: dict[str, int] = {}  # unique_external_id → contact id
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        super().__init__(clock)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == "Basic " + base64.b64encode(f"{API_KEY}:X".encode()).decode()

    def unauthorized(self) -> Reply:
        return json_reply({"code": "invalid_credentials", "message": "You have to be logged in to perform this "
                                                                    "action."}, 401)

    def not_found(self, what: str) -> Reply:
        return json_reply({}, 404)

    def invalid(self, message: str) -> Reply:
        return json_reply({"description": "Validation failed",
                           "errors": [{"field": message.split(" ")[0], "message": message, "code": "invalid_value"}]},
                          400)

    def register(self) -> None:
        self.route("POST", "/api/v2/tickets", "create", self.create_ticket)
        self.route("GET", "/api/v2/tickets", "list", self.list_tickets)
        self.route("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)", "view", self.view_ticket)
        self.route("POST", r"/api/v2/tickets/(?P<ticket_id>\d+)/notes", "note", self.add_note)
        self.route("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)/conversations", "conversations", self.conversations_of)
        self.route("GET", "/api/v2/search/tickets", "search", self.search)
        self.route("GET", "/api/v2/agents/me", "me", lambda r: ok({"id": 7, "contact": {"name": "Agent Smith"}}))

    def create_ticket(self, request: Request) -> Reply:
        data = self.check(self.body(request), "body", {"subject": str, "description": str, "status": int,
                                                        "priority": int},
                          {"name": str, "source": int, "tags": list, **{f: None for f in REQUESTER_FIELDS}})
        if not any(f in data for f in REQUESTER_FIELDS):
            raise Invalid("no requester", self.invalid("requester_id Please fill at least 1 of requester_id, email, "
                                                       "facebook_id, phone, twitter_id, unique_external_id fields"))
        if "email" in data:
            raise Invalid("an e-mail address was sent for a social-media customer", self.invalid("email invented"))
        if data["priority"] not in (1, 2, 3, 4) or data["status"] not in (2, 3, 4, 5):
            raise Invalid("priority or status out of range", self.invalid("priority It should be one of 1,2,3,4"))
        external = data.get("unique_external_id")
        if external is not None and external not in self.contacts:
            if not data.get("name"):
                raise Invalid("a new contact needs a name", self.invalid("name missing"))
            self.contacts[external] = self.new_id()
        now = self.clock.now()
        ticket_id = self.new_id()
        ticket = {"id": ticket_id, "subject": data["subject"], "description": data["description"],
                  "description_text": re.sub(r"<[^>]+>", "", data["description"]), "status": data["status"],
                  "priority": data["priority"], "source": data.get("source", 2), "tags": data.get("tags", []),
                  "requester_id": self.contacts.get(external or "", data.get("requester_id")),
                  "created_at": iso(now), "updated_at": iso(now),
                  "stats": {"first_responded_at": None, "agent_responded_at": None, "resolved_at": None,
                            "closed_at": None}}
        self.tickets[ticket_id] = ticket
        self.conversations[ticket_id] = []
        return ok({k: v for k, v in ticket.items() if k != "stats"}, 201)

    def _with_stats(self, ticket: dict[str, Any], request: Request) -> dict[str, Any]:
        include = request.param("include") or ""
        return ticket if "stats" in include.split(",") else {k: v for k, v in ticket.items() if k != "stats"}

    def view_ticket(self, request: Request, ticket_id: str) -> Reply:
        ticket = self.tickets.get(int(ticket_id))
        return ok(self._with_stats(ticket, request)) if ticket else self.not_found("ticket")

    def list_tickets(self, request: Request) -> Reply:
        since = parse_time(request.param("updated_since"))
        if request.param("updated_since") is not None and since is None:
            raise Invalid("updated_since is not ISO 8601", self.invalid("updated_since invalid"))
        per_page = int(request.param("per_page", "30") or 30)
        if per_page > 100:
            raise Invalid("per_page over 100", self.invalid("per_page It should be between 1 and 100"))
        page = int(request.param("page", "1") or 1)
        found = [t for t in self.tickets.values() if since is None or (parse_time(t["updated_at"]) or since) >= since]
        found.sort(key=lambda t: t["updated_at"])
        return ok([self._with_stats(t, request) for t in found[(page - 1) * per_page:page * per_page]])

    def add_note(self, request: Request, ticket_id: str) -> Reply:
        if int(ticket_id) not in self.tickets:
            return self.not_found("ticket")
        data = self.check(self.body(request), "body", {"body": str}, {"private": bool, "incoming": bool,
                                                                       "notify_emails": list, "user_id": int})
        note = {"id": self.new_id(), "body": data["body"], "body_text": re.sub(r"<[^>]+>", "", data["body"]),
                "private": data.get("private", True), "incoming": False, "source": 2, "user_id": 7,
                "ticket_id": int(ticket_id), "created_at": iso(self.clock.now())}
        self.conversations[int(ticket_id)].append(note)
        self.tickets[int(ticket_id)]["updated_at"] = note["created_at"]
        return ok(note, 201)

    def conversations_of(self, request: Request, ticket_id: str) -> Reply:
        if int(ticket_id) not in self.tickets:
            return self.not_found("ticket")
        return ok(self.conversations[int(ticket_id)])

    def search(self, request: Request) -> Reply:
        match = _TAG_QUERY.match(self.param(request, "query"))
        if not match:  # the documentation: the whole query in double quotes, strings in single quotes
            raise Invalid(f"query {request.param('query')!r}", self.invalid("query is invalid"))
        found = [t for t in self.tickets.values() if match.group(1) in t["tags"]]
        return ok({"results": [{k: v for k, v in t.items() if k != "stats"} for t in found], "total": len(found)})

    # ------------------------------------------------------------------------- the helpdesk's own side
    def agent_reply(self, ticket_id: int, body: str = "Sorry! We are on it.") -> datetime:
        now = self.clock.now()
        with self.lock:
            ticket = self.tickets[ticket_id]
            self.conversations[ticket_id].append({"id": self.new_id(), "body": body, "body_text": body,
                                                  "private": False, "incoming": False, "source": 0,
                                                  "created_at": iso(now)})
            ticket["stats"]["first_responded_at"] = ticket["stats"]["first_responded_at"] or iso(now)
            ticket["stats"]["agent_responded_at"] = iso(now)
            ticket["updated_at"] = iso(now)
        return now

    def solve(self, ticket_id: int) -> datetime:
        now = self.clock.now()
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket.update(status=4, updated_at=iso(now))
            ticket["stats"]["resolved_at"] = iso(now)
        return now

    def delete(self, ticket_id: int) -> None:
        with self.lock:
            del self.tickets[ticket_id]
