"""Chatwoot (developers.chatwoot.com, application API v1), in an API-channel inbox of your account.

- Auth: the `api_access_token` header (an agent's or admin's access token).
- Contact: `GET /api/v1/accounts/{account}/contacts/search?q=<external id>` finds it by `identifier`; else
  `POST …/contacts` with `identifier`, name, the inbox and the profile URL in `additional_attributes` (no e-mail).
  Its contact inbox (`source_id`) comes with it, or from `POST …/contacts/{id}/contact_inboxes`.
- Conversation: `POST …/conversations` with `source_id`, `inbox_id`, `contact_id` and our task key in
  `custom_attributes.listener_ticket`; after a crash `GET …/contacts/{id}/conversations` finds it. Then
  `POST …/conversations/{id}/toggle_priority` and `…/labels` (both idempotent).
- Messages: the customer's words as an `incoming` message, listener's notes as private `outgoing` ones
  (`POST …/conversations/{id}/messages`); `GET …/conversations/{id}/messages` finds a marker.
- Read back: `GET …/conversations?inbox_id=…&status=all&page=…` (then `GET …/conversations/{id}` for any not
  listed): status `resolved` resolves the task, `first_reply_created_at` (an agent's first public reply) makes it
  responded.
- Webhook: `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<body>")>`; the
  timestamp must be recent and `X-Chatwoot-Delivery` new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from listener.delivery.helpdesk.content import marker
from listener.delivery.helpdesk.driver import Driver, Watch, fresh, hmac_hex, json_body, parse_time, same
from listener.delivery.helpdesk.http import Api, as_dict, as_list
from listener.delivery.helpdesk.model import BadWebhook, HookCall, Opening, Post, Ticket, TicketGone, TicketState
from listener.delivery.helpdesk.settings import ChatwootSettings

ATTRIBUTE = "listener_ticket"
MAX_PAGES = 20  # conversations of the inbox read per read-back before the rest of ours are read one by one


class Chatwoot(Driver):
    kind = "chatwoot"
    label = "Chatwoot"
    default_priorities: ClassVar[dict[str, str]] = {"P1": "urgent", "P2": "high", "P3": "medium"}
    opening_is_post = True
    settings: ChatwootSettings

    @property
    def account(self) -> str:
        return f"/api/v1/accounts/{self.settings.account_id}"

    def api(self) -> Api:
        token = self.secret(self.settings.token_secret)
        return Api(self.settings.name, self.label, self.settings.url, self.settings.timeout, self.clock,
                   headers={"api_access_token": token}, secret_name=self.settings.token_secret)

    def _ticket(self, conversation: dict[str, Any], contact_id: int | str | None) -> Ticket:
        return Ticket(id=str(conversation["id"]),
                      url=f"{self.settings.url}/app/accounts/{self.settings.account_id}/conversations/"
                          f"{conversation['id']}",
                      requester_ref=str(contact_id) if contact_id is not None else None)

    def _contact(self, api: Api, opening: Opening) -> tuple[int, str]:
        """(contact id, its source id in our inbox), found by identifier or created."""
        r = opening.requester
        inbox = self.settings.inbox_id
        found = as_dict(api.get(f"{self.account}/contacts/search", params={"q": r.external_id}), "answer")
        for contact in as_list(found.get("payload"), "payload"):
            if isinstance(contact, dict) and contact.get("identifier") == r.external_id:
                for contact_inbox in contact.get("contact_inboxes") or []:
                    inbox_of = contact_inbox.get("inbox") if isinstance(contact_inbox, dict) else None
                    if isinstance(inbox_of, dict) and inbox_of.get("id") == inbox and contact_inbox.get("source_id"):
                        return int(contact["id"]), str(contact_inbox["source_id"])
                made = api.post(f"{self.account}/contacts/{contact['id']}/contact_inboxes", {"inbox_id": inbox})
                made = made[0] if isinstance(made, list) and made else made
                return int(contact["id"]), str(as_dict(made, "contact inbox")["source_id"])
        attributes = {"platform": r.platform, **({"profile_url": r.profile_url} if r.profile_url else {})}
        created = as_dict(as_dict(api.post(f"{self.account}/contacts", {
            "inbox_id": inbox, "name": r.name, "identifier": r.external_id, "additional_attributes": attributes,
        }), "answer").get("payload"), "payload")
        contact = as_dict(created.get("contact"), "contact")
        return int(contact["id"]), str(as_dict(created.get("contact_inbox"), "contact inbox")["source_id"])

    def find_ticket(self, api: Api, opening: Opening) -> Ticket | None:
        contact_id, _ = self._contact(api, opening)
        data = as_dict(api.get(f"{self.account}/contacts/{contact_id}/conversations"), "answer")
        ours = [c for c in as_list(data.get("payload"), "payload") if isinstance(c, dict)
                and (c.get("custom_attributes") or {}).get(ATTRIBUTE) == opening.external_id]
        return self._ticket(min(ours, key=lambda c: int(c["id"])), contact_id) if ours else None

    def create_ticket(self, api: Api, opening: Opening) -> Ticket:
        contact_id, source_id = self._contact(api, opening)
        conversation = as_dict(api.post(f"{self.account}/conversations", {
            "source_id": source_id, "inbox_id": self.settings.inbox_id, "contact_id": contact_id, "status": "open",
            "custom_attributes": {ATTRIBUTE: opening.external_id},
        }), "conversation")
        return self._ticket(conversation, contact_id)

    def finish_opening(self, api: Api, ticket: Ticket, opening: Opening) -> None:
        path = f"{self.account}/conversations/{ticket.id}"
        api.post(f"{path}/toggle_priority", {"priority": self.priority(opening.priority)},
                 gone_is=f"Chatwoot conversation {ticket.id}")
        api.post(f"{path}/labels", {"labels": opening.tags}, gone_is=f"Chatwoot conversation {ticket.id}")

    def add_post(self, api: Api, ticket: Ticket, post: Post) -> str:
        message = {"content": post.text.markdown, "message_type": "incoming" if post.from_customer else "outgoing",
                   "private": not post.from_customer}
        return str(as_dict(api.post(f"{self.account}/conversations/{ticket.id}/messages", message,
                                    gone_is=f"Chatwoot conversation {ticket.id}"), "message").get("id", ""))

    def has_post(self, api: Api, ticket: Ticket, key: str) -> bool:
        data = as_dict(api.get(f"{self.account}/conversations/{ticket.id}/messages",
                               gone_is=f"Chatwoot conversation {ticket.id}"), "answer")
        return any(marker(key) in str(m.get("content") or "") for m in as_list(data.get("payload"), "payload")
                   if isinstance(m, dict))

    @staticmethod
    def _state(conversation: dict[str, Any]) -> TicketState:
        status = str(conversation.get("status", ""))
        return TicketState(str(conversation["id"]), status, closed=status == "resolved",
                           responded_at=parse_time(conversation.get("first_reply_created_at")),
                           closed_at=parse_time(conversation.get("last_activity_at")) if status == "resolved" else None)

    def states(self, api: Api, watches: Sequence[Watch], since: datetime | None) -> dict[str, TicketState]:
        wanted = {w.ticket_id for w in watches}
        found: dict[str, TicketState] = {}
        for page in range(1, MAX_PAGES + 1):
            if wanted <= set(found):
                break
            data = as_dict(as_dict(api.get(f"{self.account}/conversations", params={
                "inbox_id": self.settings.inbox_id, "status": "all", "page": page}), "answer").get("data"), "data")
            listed = [c for c in as_list(data.get("payload"), "payload") if isinstance(c, dict)]
            for conversation in listed:
                if str(conversation.get("id")) in wanted:
                    found[str(conversation["id"])] = self._state(conversation)
            if not listed:
                break
        for ticket_id in sorted(wanted - set(found)):
            try:
                found[ticket_id] = self._state(as_dict(api.get(f"{self.account}/conversations/{ticket_id}",
                                                               gone_is=f"Chatwoot conversation {ticket_id}"),
                                                       "conversation"))
            except TicketGone:
                found[ticket_id] = TicketState(ticket_id, "deleted", closed=False, gone=True)
        return found

    def verify_hook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> HookCall:
        stamp = headers.get("x-chatwoot-timestamp", "")
        expected = "sha256=" + hmac_hex(self.webhook_secret(), stamp.encode() + b"." + body, "sha256")
        if not same(expected, headers.get("x-chatwoot-signature")):
            raise BadWebhook("the X-Chatwoot-Signature does not match")
        fresh(parse_time(int(stamp)) if stamp.isdigit() else None, now, self.settings.webhook_max_age)
        payload = json_body(body)
        conversation = payload.get("conversation")
        if isinstance(conversation, dict) and conversation.get("id"):  # message events
            ticket_id = conversation["id"]
        elif str(payload.get("event", "")).startswith("conversation_"):
            ticket_id = payload.get("id")
        else:
            ticket_id = None
        return HookCall(headers.get("x-chatwoot-delivery") or None, [str(ticket_id)] if ticket_id else [])

    def check(self, api: Api) -> str:
        profile = as_dict(api.get("/api/v1/profile"), "profile")
        return f"signed in as {profile.get('name') or profile.get('email')}"
