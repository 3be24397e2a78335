"""Zammad REST API v1 on loopback, as docs.zammad.org documents it (users search/create, tickets create/search/show
with expand, ticket_articles create and by_ticket), with an agent who answers and closes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from listener.clock import Clock
from tests.delivery.helpdesk.fake_api import FakeApi, Invalid, Reply, Request, json_reply, ok
from tests.delivery.helpdesk.fake_zendesk import iso

TOKEN = "zammad-token-1"
GROUP = "Social Media"
PRIORITIES = {1: "1 low", 2: "2 normal", 3: "3 high"}
STATES = {1: "new", 2: "open", 4: "closed"}
_LOGIN_QUERY = re.compile(r'^login:"([^"]+)"$')
_TAGS_QUERY = re.compile(r'^tags:"([^"]+)"$')
_IDS_QUERY = re.compile(r"^id:\((\d+(?: OR \d+)*)\)$")


class FakeZammad(FakeApi):
    def __init__(self, clock: Clock):
        self.users: dict[int, dict[str, Any]] = {3: {"id": 3, "login": "agent@acme.test", "firstname": "Agent"}}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.articles: dict[int, list[dict[str, Any]]] = {}
        self.tags: dict[int, list[str]] = {}
        super().__init__(clock)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Token token={TOKEN}"

    def unauthorized(self) -> Reply:
        return json_reply({"error": "Invalid token!"}, 401)

    def not_found(self, what: str) -> Reply:
        return json_reply({"error": f"Couldn't find {what}", "error_human": f"Couldn't find {what}"}, 404)

    def invalid(self, message: str) -> Reply:
        return json_reply({"error": message, "error_human": message}, 422)

    def register(self) -> None:
        self.route("GET", "/api/v1/users/search", "user_search", self.search_users)
        self.route("GET", "/api/v1/users/me", "me", lambda r: ok(self.users[3]))
        self.route("POST", "/api/v1/users", "user_create", self.create_user)
        self.route("GET", "/api/v1/tickets/search", "search", self.search_tickets)
        self.route("POST", "/api/v1/tickets", "create", self.create_ticket)
        self.route("GET", r"/api/v1/tickets/(?P<ticket_id>\d+)", "show", self.show_ticket)
        self.route("POST", "/api/v1/ticket_articles", "article", self.create_article)
        self.route("GET", r"/api/v1/ticket_articles/by_ticket/(?P<ticket_id>\d+)", "articles", self.by_ticket)

    def search_users(self, request: Request) -> Reply:
        match = _LOGIN_QUERY.match(self.param(request, "query"))
        if not match:
            raise Invalid(f"user query {request.param('query')!r}", self.invalid("query"))
        return ok([u for u in self.users.values() if u["login"] == match.group(1)])

    def create_user(self, request: Request) -> Reply:
        data = self.check(self.body(request), "user", {"login": str, "firstname": str},
                          {"lastname": str, "web": str, "note": str})
        if "email" in data:
            raise Invalid("an e-mail address was sent for a social-media customer", self.invalid("email"))
        login = data["login"].lower()
        if any(u["login"] == login for u in self.users.values()):
            return self.invalid(f"Login '{login}' is already used for another user.")
        user = {"id": self.new_id(), **data, "login": login, "email": "", "role_ids": [3]}
        self.users[user["id"]] = user
        return ok(user, 201)

    def _expanded(self, ticket: dict[str, Any]) -> dict[str, Any]:
        return {**ticket, "state": STATES[ticket["state_id"]], "priority": PRIORITIES[ticket["priority_id"]],
                "group": GROUP, "customer": self.users[ticket["customer_id"]]["login"]}

    def create_ticket(self, request: Request) -> Reply:
        data = self.check(self.body(request), "ticket", {"title": str, "group": str, "customer_id": int,
                                                          "article": dict}, {"priority": str, "tags": str})
        article = self.check(data["article"], "article", {"body": str},
                             {"subject": str, "content_type": str, "type": str, "internal": bool, "sender": str,
                              "origin_by_id": int})
        if data["group"] != GROUP:
            raise Invalid(f"group {data['group']!r}", self.invalid("No such group"))
        if data["customer_id"] not in self.users:
            raise Invalid("unknown customer", self.invalid("No such customer"))
        priority = {v: k for k, v in PRIORITIES.items()}.get(data.get("priority", "2 normal"))
        if priority is None or article.get("sender", "Agent") not in ("Agent", "Customer", "System"):
            raise Invalid("priority or sender unknown", self.invalid("No lookup value found"))
        now = self.clock.now()
        ticket_id = self.new_id()
        ticket = {"id": ticket_id, "number": str(22000 + ticket_id), "title": data["title"], "group_id": 1,
                  "priority_id": priority, "state_id": 1, "customer_id": data["customer_id"], "owner_id": 1,
                  "first_response_at": None, "close_at": None, "created_at": iso(now), "updated_at": iso(now)}
        self.tickets[ticket_id] = ticket
        self.articles[ticket_id] = []
        self.tags[ticket_id] = [t.strip() for t in data.get("tags", "").split(",") if t.strip()]
        self._article(ticket_id, article, now)
        return ok({**ticket, "article_ids": [a["id"] for a in self.articles[ticket_id]]}, 201)

    def _article(self, ticket_id: int, article: dict[str, Any], at: datetime) -> dict[str, Any]:
        made = {"id": self.new_id(), "ticket_id": ticket_id, "from": "", "to": "", "subject": article.get("subject"),
                "body": article["body"], "content_type": article.get("content_type", "text/plain"),
                "type": article.get("type", "note"), "internal": article.get("internal", False),
                "sender": article.get("sender", "Agent"), "origin_by_id": article.get("origin_by_id"),
                "created_at": iso(at), "updated_at": iso(at)}
        self.articles[ticket_id].append(made)
        self.tickets[ticket_id]["updated_at"] = iso(at)
        return made

    def search_tickets(self, request: Request) -> Reply:
        if request.param("expand") != "true":
            raise Invalid("search without expand=true answers ids and assets", self.invalid("expand"))
        query = self.param(request, "query")
        if match := _TAGS_QUERY.match(query):
            found = [t for i, t in self.tickets.items() if match.group(1) in self.tags[i]]
        elif match := _IDS_QUERY.match(query):
            ids = {int(i) for i in match.group(1).split(" OR ")}
            found = [t for i, t in self.tickets.items() if i in ids]
        else:
            raise Invalid(f"ticket query {query!r}", self.invalid("query"))
        limit = int(request.param("limit", "10") or 10)
        return ok([self._expanded(t) for t in found][:limit])

    def show_ticket(self, request: Request, ticket_id: str) -> Reply:
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return self.not_found(f"Ticket with 'id'={ticket_id}")
        return ok(self._expanded(ticket) if request.param("expand") == "true" else ticket)

    def create_article(self, request: Request) -> Reply:
        data = self.check(self.body(request), "article", {"ticket_id": int, "body": str},
                          {"subject": str, "content_type": str, "type": str, "internal": bool, "sender": str,
                           "origin_by_id": int})
        if "origin_by_id" in data and data["origin_by_id"] not in self.users:
            raise Invalid("origin_by_id names nobody", self.invalid("No such user"))
        if data["ticket_id"] not in self.tickets:
            return self.not_found(f"Ticket with 'id'={data['ticket_id']}")
        return ok(self._article(data["ticket_id"], data, self.clock.now()), 201)

    def by_ticket(self, request: Request, ticket_id: str) -> Reply:
        if int(ticket_id) not in self.tickets:
            return self.not_found(f"Ticket with 'id'={ticket_id}")
        return ok(self.articles[int(ticket_id)])

    # ------------------------------------------------------------------------- the helpdesk's own side
    def agent_reply(self, ticket_id: int, body: str = "Sorry! We are on it.", internal: bool = False) -> datetime:
        now = self.clock.now()
        with self.lock:
            self._article(ticket_id, {"body": body, "type": "note", "internal": internal, "sender": "Agent"}, now)
            ticket = self.tickets[ticket_id]
            ticket["state_id"] = 2
            if not internal and ticket["first_response_at"] is None:
                ticket["first_response_at"] = iso(now)
        return now

    def solve(self, ticket_id: int) -> datetime:
        now = self.clock.now()
        with self.lock:
            self.tickets[ticket_id].update(state_id=4, close_at=iso(now), updated_at=iso(now))
        return now

    def delete(self, ticket_id: int) -> None:
        with self.lock:
            del self.tickets[ticket_id]
