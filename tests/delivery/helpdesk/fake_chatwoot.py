"""Chatwoot application API v1 on loopback, as its swagger (developers.chatwoot.com) documents it: contacts search,
create and contact inboxes, conversations create/list/show, toggle_priority, labels, messages — in an API-channel
inbox — with an agent who replies and resolves."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from listener.clock import Clock
from tests.delivery.helpdesk.fake_api import FakeApi, Invalid, Refusal, Reply, Request, json_reply, ok

TOKEN = "cw-token-1"
ACCOUNT, INBOX = 3, 9
PAGE = 25
PRIORITIES = ("urgent", "high", "medium", "low")


class FakeChatwoot(FakeApi):
    def __init__(self, clock: Clock):
        self.contacts: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        super().__init__(clock)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("api_access_token") == TOKEN

    def unauthorized(self) -> Reply:
        return json_reply({"error": "You need to sign in or sign up before continuing."}, 401)

    def not_found(self, what: str) -> Reply:
        return json_reply({"error": "Resource could not be found"}, 404)

    def invalid(self, message: str) -> Reply:
        return json_reply({"message": message, "attributes": [message.split(" ")[0].lower()]}, 422)

    def register(self) -> None:
        a = f"/api/v1/accounts/{ACCOUNT}"
        self.route("GET", "/api/v1/profile", "profile", lambda r: ok({"id": 1, "name": "Agent Smith"}))
        self.route("GET", f"{a}/contacts/search", "contact_search", self.search_contacts)
        self.route("POST", f"{a}/contacts", "contact_create", self.create_contact)
        self.route("POST", fr"{a}/contacts/(?P<contact_id>\d+)/contact_inboxes", "contact_inbox", self.contact_inbox)
        self.route("GET", fr"{a}/contacts/(?P<contact_id>\d+)/conversations", "contact_conversations",
                   self.contact_conversations)
        self.route("POST", f"{a}/conversations", "create", self.create_conversation)
        self.route("GET", f"{a}/conversations", "list", self.list_conversations)
        self.route("GET", fr"{a}/conversations/(?P<cid>\d+)", "show", self.show_conversation)
        self.route("POST", fr"{a}/conversations/(?P<cid>\d+)/toggle_priority", "priority", self.toggle_priority)
        self.route("POST", fr"{a}/conversations/(?P<cid>\d+)/labels", "labels", self.set_labels)
        self.route("POST", fr"{a}/conversations/(?P<cid>\d+)/messages", "message", self.create_message)
        self.route("GET", fr"{a}/conversations/(?P<cid>\d+)/messages", "messages", self.list_messages)

    # ------------------------------------------------------------------------- contacts
    def _contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        inboxes = [{"source_id": s, "inbox": {"id": INBOX, "name": "listener", "channel_type": "Channel::Api"}}
                   for s in contact["_sources"]]
        return {**{k: v for k, v in contact.items() if not k.startswith("_")}, "contact_inboxes": inboxes}

    def search_contacts(self, request: Request) -> Reply:
        q = self.param(request, "q")
        found = [self._contact(c) for c in self.contacts.values() if q in (c["name"], c.get("identifier"))]
        return ok({"meta": {"count": len(found), "current_page": 1}, "payload": found})

    def create_contact(self, request: Request) -> Reply:
        data = self.check(self.body(request), "contact", {"inbox_id": int},
                          {"name": str, "identifier": str, "additional_attributes": dict, "custom_attributes": dict})
        if data["inbox_id"] != INBOX:
            raise Invalid("unknown inbox", self.not_found("inbox"))
        if any(c.get("identifier") == data.get("identifier") for c in self.contacts.values()):
            return self.invalid("Identifier has already been taken")
        contact = {"id": self.new_id(), "name": data.get("name", ""), "identifier": data.get("identifier"),
                   "email": None, "phone_number": None,
                   "additional_attributes": data.get("additional_attributes", {}), "_sources": [str(uuid.uuid4())]}
        self.contacts[contact["id"]] = contact
        shown = self._contact(contact)
        return ok({"payload": {"contact": shown, "contact_inbox": shown["contact_inboxes"][0]}})

    def contact_inbox(self, request: Request, contact_id: str) -> Reply:
        contact = self.contacts.get(int(contact_id))
        if contact is None:
            return self.not_found("contact")
        data = self.check(self.body(request), "contact inbox", {"inbox_id": int}, {"source_id": str})
        contact["_sources"].append(data.get("source_id") or str(uuid.uuid4()))
        return ok({"source_id": contact["_sources"][-1], "inbox": {"id": INBOX}})

    def contact_conversations(self, request: Request, contact_id: str) -> Reply:
        if int(contact_id) not in self.contacts:
            return self.not_found("contact")
        return ok({"payload": [c for c in self.conversations.values() if c["meta"]["sender"]["id"] == int(contact_id)]})

    # ------------------------------------------------------------------------- conversations
    def create_conversation(self, request: Request) -> Reply:
        data = self.check(self.body(request), "conversation", {"source_id": str},
                          {"inbox_id": int, "contact_id": int, "additional_attributes": dict,
                           "custom_attributes": dict, "status": str, "assignee_id": int, "team_id": int,
                           "message": dict})
        contact = self.contacts.get(data.get("contact_id", 0))
        if contact is None or data["source_id"] not in contact["_sources"] or data.get("inbox_id") != INBOX:
            raise Invalid("source_id is not the contact's in this inbox", self.invalid("Source is invalid"))
        if data.get("status", "open") not in ("open", "resolved", "pending"):
            raise Invalid("status", self.invalid("Status is invalid"))
        if "message" in data:
            raise Invalid("an initial message would be sent as the agent", self.invalid("message"))
        now = int(self.clock.now().timestamp())
        cid = self.new_id()
        conversation = {"id": cid, "account_id": ACCOUNT, "inbox_id": INBOX, "status": data.get("status", "open"),
                        "custom_attributes": data.get("custom_attributes", {}),
                        "additional_attributes": data.get("additional_attributes", {}), "labels": [],
                        "priority": None, "created_at": now, "timestamp": now, "last_activity_at": now,
                        "first_reply_created_at": 0, "messages": [],
                        "meta": {"sender": {"id": contact["id"], "name": contact["name"], "type": "contact"}}}
        self.conversations[cid] = conversation
        self.messages[cid] = []
        return ok(conversation)

    def _conversation(self, cid: str) -> dict[str, Any]:
        conversation = self.conversations.get(int(cid))
        if conversation is None:
            raise Refusal(self.not_found("conversation"))
        return conversation

    def list_conversations(self, request: Request) -> Reply:
        status = request.param("status", "open")
        inbox = request.param("inbox_id")
        page = int(request.param("page", "1") or 1)
        found = [c for c in self.conversations.values()
                 if (status == "all" or c["status"] == status) and (inbox is None or c["inbox_id"] == int(inbox))]
        found.sort(key=lambda c: -c["last_activity_at"])
        return ok({"data": {"meta": {"all_count": len(found)}, "payload": found[(page - 1) * PAGE:page * PAGE]}})

    def show_conversation(self, request: Request, cid: str) -> Reply:
        return ok(self._conversation(cid))

    def toggle_priority(self, request: Request, cid: str) -> Reply:
        conversation = self._conversation(cid)
        data = self.check(self.body(request), "priority", {}, {"priority": (str, type(None))})
        if data.get("priority") not in (*PRIORITIES, None):
            raise Invalid("priority", self.invalid("Priority is invalid"))
        conversation["priority"] = data.get("priority")
        return ok({})

    def set_labels(self, request: Request, cid: str) -> Reply:
        conversation = self._conversation(cid)
        labels = self.check(self.body(request), "labels", {"labels": list})["labels"]
        conversation["labels"] = labels
        return ok({"payload": labels})

    def create_message(self, request: Request, cid: str) -> Reply:
        conversation = self._conversation(cid)
        data = self.check(self.body(request), "message", {"content": str},
                          {"message_type": str, "private": bool, "content_type": str, "content_attributes": dict})
        kind = data.get("message_type", "outgoing")
        if kind not in ("incoming", "outgoing"):
            raise Invalid("message_type", self.invalid("Message type is invalid"))
        return ok(self._message(conversation, data["content"], kind, data.get("private", False), sender="contact"
                                if kind == "incoming" else "api"))

    def _message(self, conversation: dict[str, Any], content: str, kind: str, private: bool,
                 sender: str) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        message = {"id": self.new_id(), "content": content, "message_type": 0 if kind == "incoming" else 1,
                   "private": private, "created_at": now, "conversation_id": conversation["id"],
                   "sender": {"type": "contact" if kind == "incoming" else "user", "name": sender}}
        self.messages[conversation["id"]].append(message)
        conversation["last_activity_at"] = now
        if kind == "incoming" and conversation["status"] == "resolved":
            conversation["status"] = "open"  # the customer wrote again
        return message

    def list_messages(self, request: Request, cid: str) -> Reply:
        conversation = self._conversation(cid)
        return ok({"meta": {"labels": conversation["labels"]}, "payload": self.messages[conversation["id"]]})

    # ------------------------------------------------------------------------- the helpdesk's own side
    def agent_reply(self, ticket_id: int, body: str = "Sorry! We are on it.", private: bool = False) -> datetime:
        with self.lock:
            conversation = self.conversations[ticket_id]
            self._message(conversation, body, "outgoing", private, sender="Agent Smith")
            if not private and not conversation["first_reply_created_at"]:
                conversation["first_reply_created_at"] = int(self.clock.now().timestamp())
        return self.clock.now()

    def solve(self, ticket_id: int) -> datetime:
        with self.lock:
            conversation = self.conversations[ticket_id]
            conversation["status"] = "resolved"
            conversation["last_activity_at"] = int(self.clock.now().timestamp())
        return self.clock.now()

    def delete(self, ticket_id: int) -> None:
        with self.lock:
            del self.conversations[ticket_id]
