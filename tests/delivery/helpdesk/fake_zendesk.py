"""Zendesk Support API v2 on loopback, as developer.zendesk.com documents it (Tickets, Ticket Comments, Users
create_or_update, show_many with the metric_sets sideload), with an agent who can answer and solve."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from listener.clock import Clock
from tests.delivery.helpdesk.fake_api import FakeApi, Invalid, Reply, Request, json_reply, ok

EMAIL, TOKEN = "agent@acme.test", "zd-token-1"
PRIORITIES = ("urgent", "high", "normal", "low")
AGENT_ID = 7


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeZendesk(FakeApi):
    def __init__(self, clock: Clock):
        self.users: dict[int, dict[str, Any]] = {AGENT_ID: {"id": AGENT_ID, "name": "Agent Smith", "role": "agent"}}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.metrics: dict[int, dict[str, Any]] = {}
        super().__init__(clock)

    def authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def unauthorized(self) -> Reply:
        return json_reply({"error": "Couldn't authenticate you"}, 401)

    def not_found(self, what: str) -> Reply:
        return json_reply({"error": "RecordNotFound", "description": "Not found"}, 404)

    def invalid(self, message: str) -> Reply:
        return json_reply({"error": "RecordInvalid", "description": "Record validation errors",
                           "details": {"base": [{"description": message}]}}, 422)

    def register(self) -> None:
        self.route("POST", "/api/v2/users/create_or_update", "user", self.create_or_update_user)
        self.route("GET", "/api/v2/users/me", "me", lambda r: ok({"user": self.users[AGENT_ID]}))
        self.route("GET", "/api/v2/tickets/show_many", "show_many", self.show_many)
        self.route("GET", "/api/v2/tickets", "list", self.list_tickets)
        self.route("POST", "/api/v2/tickets", "create", self.create_ticket)
        self.route("PUT", r"/api/v2/tickets/(?P<ticket_id>\d+)", "update", self.update_ticket)
        self.route("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)/comments", "comments", self.list_comments)

    # ------------------------------------------------------------------------- API
    def create_or_update_user(self, request: Request) -> Reply:
        data = self.check(self.body(request), "body", {"user": dict})
        user = self.check(data["user"], "user", {"name": str, "external_id": str, "role": str},
                          {"details": str})
        if user["role"] != "end-user":
            raise Invalid("role must be end-user", self.invalid("role"))
        for existing in self.users.values():
            if existing.get("external_id") == user["external_id"]:
                existing.update(user)
                return ok({"user": existing}, 200)
        made = {"id": self.new_id(), **user, "email": None}
        self.users[made["id"]] = made
        return ok({"user": made}, 201)

    def list_tickets(self, request: Request) -> Reply:
        external = self.param(request, "external_id")
        found = [t for t in self.tickets.values() if t["external_id"] == external]
        return ok({"tickets": found, "next_page": None, "previous_page": None, "count": len(found)})

    def create_ticket(self, request: Request) -> Reply:
        ticket = self.check(self.check(self.body(request), "body", {"ticket": dict})["ticket"], "ticket",
                            {"subject": str, "comment": dict, "requester_id": int, "priority": str},
                            {"external_id": str, "tags": list})
        comment = self.check(ticket["comment"], "comment", {"body": str}, {"public": bool, "author_id": int})
        if ticket["requester_id"] not in self.users:
            raise Invalid("unknown requester", self.invalid("Requester: is invalid"))
        if ticket["priority"] not in PRIORITIES:
            raise Invalid(f"priority {ticket['priority']!r}", self.invalid("Priority: is invalid"))
        if any(not isinstance(t, str) or " " in t for t in ticket.get("tags", [])):
            raise Invalid("a tag with a space splits in two", self.invalid("tags"))
        now = self.clock.now()
        ticket_id = self.new_id()
        made = {"id": ticket_id, "url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json", "status": "new",
                "subject": ticket["subject"], "description": comment["body"], "priority": ticket["priority"],
                "requester_id": ticket["requester_id"], "submitter_id": AGENT_ID,
                "external_id": ticket.get("external_id"), "tags": ticket.get("tags", []),
                "created_at": iso(now), "updated_at": iso(now)}
        self.tickets[ticket_id] = made
        self.comments[ticket_id] = []
        self.metrics[ticket_id] = {"id": self.new_id(), "ticket_id": ticket_id, "replies": 0, "solved_at": None}
        self.add_comment(ticket_id, comment["body"], comment.get("public", True),
                         comment.get("author_id", AGENT_ID), now)
        return ok({"ticket": made, "audit": {"id": self.new_id(), "ticket_id": ticket_id}}, 201,
                  {"Location": made["url"]})

    def update_ticket(self, request: Request, ticket_id: str) -> Reply:
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return self.not_found("ticket")
        update = self.check(self.check(self.body(request), "body", {"ticket": dict})["ticket"], "ticket", {},
                            {"comment": dict, "status": str})
        if "comment" in update:
            comment = self.check(update["comment"], "comment", {"body": str}, {"public": bool, "author_id": int})
            self.add_comment(int(ticket_id), comment["body"], comment.get("public", True),
                             comment.get("author_id", AGENT_ID), self.clock.now())
        ticket["updated_at"] = iso(self.clock.now())
        return ok({"ticket": ticket, "audit": {"id": self.new_id(), "ticket_id": int(ticket_id)}})

    def list_comments(self, request: Request, ticket_id: str) -> Reply:
        if int(ticket_id) not in self.tickets:
            return self.not_found("ticket")
        comments = list(self.comments[int(ticket_id)])
        if request.param("sort_order") == "desc":
            comments.reverse()
        data: dict[str, Any] = {"comments": comments, "next_page": None, "previous_page": None,
                                "count": len(comments)}
        if request.param("include") == "users":
            data["users"] = [self.users[i] for i in {c["author_id"] for c in comments} if i in self.users]
        return ok(data)

    def show_many(self, request: Request) -> Reply:
        ids = [int(i) for i in self.param(request, "ids").split(",") if i]
        if len(ids) > 100:
            raise Invalid("more than 100 ids", json_reply({"error": "too many ids"}, 400))
        found = [self.tickets[i] for i in ids if i in self.tickets]
        data: dict[str, Any] = {"tickets": found}
        if request.param("include") == "metric_sets":
            data["metric_sets"] = [self.metrics[t["id"]] for t in found]
        return ok(data)

    # ------------------------------------------------------------------------- the helpdesk's own side
    def add_comment(self, ticket_id: int, body: str, public: bool, author_id: int, at: datetime) -> None:
        self.comments[ticket_id].append({"id": self.new_id(), "type": "Comment", "author_id": author_id,
                                         "body": body, "public": public, "created_at": iso(at)})

    def agent_reply(self, ticket_id: int, body: str = "Sorry! We are on it.", public: bool = True) -> datetime:
        now = self.clock.now()
        with self.lock:
            self.add_comment(ticket_id, body, public, AGENT_ID, now)
            if public:
                self.metrics[ticket_id]["replies"] += 1
            self.tickets[ticket_id].update(status="open", updated_at=iso(now))
        return now

    def solve(self, ticket_id: int) -> datetime:
        now = self.clock.now()
        with self.lock:
            self.tickets[ticket_id].update(status="solved", updated_at=iso(now))
            self.metrics[ticket_id]["solved_at"] = iso(now)
        return now

    def delete(self, ticket_id: int) -> None:
        with self.lock:
            del self.tickets[ticket_id]
