"""Mastodon: a status in reply to the mention (`POST /api/v1/statuses` with `status`, `in_reply_to_id`,
`visibility`), with a Bearer token of the answering account (scope `write:statuses`) and an `Idempotency-Key`
header: Mastodon keeps the key for an hour and answers a repeated request with the status it already created.

A reply only reaches the customer when it mentions them, so `@acct` is put in front unless the text has it.
Status ids belong to one server: replies are posted on the instance the source reads (`reply_instance`
otherwise: then the mention is looked up there first, `GET /api/v2/search?resolve=true`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import Field, model_validator

from listener.clock import Clock
from listener.replies.platforms.base import (
    PostedReply,
    ReplyAuthError,
    ReplyClient,
    ReplyRejected,
    ReplySettings,
    ReplyTarget,
    Secrets,
    raise_for_answer,
    send,
)
from listener.sources.kit import SourceSettings, html_to_text

MAX_LENGTH = 500  # Mastodon's default; the @mention of the customer counts too
MARKDOWN = False  # statuses are plain text (links and @mentions are recognised)


class Settings(ReplySettings):
    reply_token_secret: str | None = Field(default=None,
        description="Access token of the answering account, scope write:statuses (+ read).")
    reply_visibility: Literal["public", "unlisted", "private", "direct"] = Field(default="unlisted",
        description="In the thread, off timelines.")
    reply_instance: str | None = Field(default=None,
        description="The account's server if it is not the one the source reads.")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not self.reply_token_secret:
            raise ValueError("reply = true needs reply_token_secret (an access token with write:statuses)")
        return self


def _plain(html: str) -> str:
    return " ".join(html_to_text(html).split())


@dataclass
class MastodonReplies:
    api_root: str
    token: str
    visibility: str
    http: httpx.Client
    clock: Clock
    same_server: bool = True
    kind: str = "mastodon"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = True
    _me: str | None = field(default=None, repr=False)

    def _headers(self, **more: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **more}

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code == 403 and "scope" in response.text:
            raise ReplyAuthError(f"mastodon: the token lacks a scope ({response.text[:200]})")
        raise_for_answer(response, "mastodon", self.clock.now())
        try:
            return response.json()
        except ValueError:
            raise ReplyRejected(f"mastodon: unreadable answer (HTTP {response.status_code})") from None

    def _status(self, target: ReplyTarget) -> dict[str, Any]:
        """The mention as a status of the answering account's server (its id and author there)."""
        if self.same_server:
            data = self._json(send(self.http, "GET", f"{self.api_root}/api/v1/statuses/{target.external_id}",
                                   "mastodon", headers=self._headers()))
        else:
            found = self._json(send(self.http, "GET", f"{self.api_root}/api/v2/search", "mastodon",
                                    params={"q": target.url or "", "type": "statuses", "resolve": "true"},
                                    headers=self._headers()))
            statuses = found.get("statuses") if isinstance(found, dict) else None
            data = statuses[0] if isinstance(statuses, list) and statuses else None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ReplyRejected(f"mastodon: cannot find the post {target.url or target.external_id} to answer")
        return data

    def _reply_to(self, target: ReplyTarget) -> tuple[str, str | None]:
        acct = target.extra.get("acct")
        if self.same_server and acct:
            return target.external_id, acct
        status = self._status(target)
        account = status.get("account")
        return status["id"], account.get("acct") if isinstance(account, dict) else None

    @staticmethod
    def _posted(data: Any) -> PostedReply:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ReplyRejected(f"mastodon: answer without a status id: {str(data)[:200]}")
        return PostedReply(platform_id=data["id"], url=data.get("url") or data.get("uri"))

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        status_id, acct = self._reply_to(target)
        if acct and f"@{acct}".casefold() not in text.casefold():
            text = f"@{acct} {text}"
        body = {"status": text, "in_reply_to_id": status_id, "visibility": self.visibility}
        response = send(self.http, "POST", f"{self.api_root}/api/v1/statuses", "mastodon", data=body,
                        headers=self._headers(**{"Idempotency-Key": idempotency_key}))
        return self._posted(self._json(response))

    def _my_account(self) -> str:
        if self._me is None:
            me = self._json(send(self.http, "GET", f"{self.api_root}/api/v1/accounts/verify_credentials",
                                 "mastodon", headers=self._headers()))
            self._me = str(me.get("id")) if isinstance(me, dict) else ""
        return self._me

    def verify(self) -> str:
        me = self._json(send(self.http, "GET", f"{self.api_root}/api/v1/accounts/verify_credentials", "mastodon",
                             headers=self._headers()))
        return f"posts as @{me.get('acct') if isinstance(me, dict) else '?'} on {self.api_root}"

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        status_id, _ = self._reply_to(target)
        me = self._my_account()
        context = self._json(send(self.http, "GET", f"{self.api_root}/api/v1/statuses/{status_id}/context",
                                  "mastodon", headers=self._headers()))
        wanted = " ".join(text.split())
        descendants = context.get("descendants") if isinstance(context, dict) else None
        for status in descendants if isinstance(descendants, list) else []:
            account = status.get("account") if isinstance(status, dict) else None
            if not isinstance(account, dict) or str(account.get("id")) != me:
                continue
            if status.get("in_reply_to_id") == status_id and wanted in _plain(str(status.get("content") or "")):
                return self._posted(status)
        return None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    reading = str(getattr(settings, "base_url", None) or getattr(settings, "instance", "")).rstrip("/")
    root = (settings.reply_instance or reading).rstrip("/")
    return MastodonReplies(api_root=root, token=secrets(settings.reply_token_secret or ""),
                           visibility=settings.reply_visibility, http=http, clock=clock,
                           same_server=settings.reply_instance is None)
