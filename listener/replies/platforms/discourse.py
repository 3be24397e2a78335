"""Discourse: a reply in the mention's topic, answering its post (`POST /posts.json` with `topic_id`, `raw`,
`reply_to_post_number`), as the user an API key acts for (`Api-Key` + `Api-Username` headers).

Discourse has no idempotency key. After a crash or a lost answer the client looks for our reply first: the
account's recent replies (`/user_actions.json?filter=5`) in that topic to that post, and the raw text of each
(`/posts/{id}.json`) compared with ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
from listener.sources.kit import SourceSettings

MAX_LENGTH = 32_000  # Discourse's default `max_post_length` (site setting; a forum may set it lower)
MARKDOWN = True


class Settings(ReplySettings):
    reply_api_key_secret: str | None = Field(default=None,
        description="An API key allowed to create posts (\"write\" scope or a global key).")
    reply_username: str | None = Field(default=None,
        description="The forum account the replies are posted as (the key acts for it).")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not (self.reply_api_key_secret and self.reply_username):
            raise ValueError("reply = true needs reply_api_key_secret and reply_username (the account that answers)")
        return self


@dataclass
class DiscourseReplies:
    base: str
    api_key: str
    username: str
    http: httpx.Client
    clock: Clock
    kind: str = "discourse"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = False

    def _headers(self) -> dict[str, str]:
        return {"Api-Key": self.api_key, "Api-Username": self.username, "Accept": "application/json"}

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code == 403 and "invalid" in response.text and "key" in response.text.lower():
            raise ReplyAuthError(f"discourse: the API key or username was refused ({response.text[:200]})")
        raise_for_answer(response, "discourse", self.clock.now())
        try:
            return response.json()
        except ValueError:
            raise ReplyRejected(f"discourse: unreadable answer (HTTP {response.status_code})") from None

    @staticmethod
    def _where(target: ReplyTarget) -> tuple[int, int | None]:
        if not (target.thread_id or "").isdigit():
            raise ReplyRejected(f"discourse: the mention has no topic id to answer in ({target.thread_id!r})")
        number = target.extra.get("post_number", "")
        return int(target.thread_id or 0), int(number) if str(number).isdigit() else None

    def _posted(self, post: dict[str, Any]) -> PostedReply:
        if not isinstance(post.get("id"), int):
            raise ReplyRejected(f"discourse: answer without a post id: {str(post)[:200]}")
        topic, number, slug = post.get("topic_id"), post.get("post_number"), post.get("topic_slug")
        url = None
        if isinstance(topic, int) and isinstance(number, int):
            url = f"{self.base}/t/{slug}/{topic}/{number}" if slug else f"{self.base}/t/{topic}/{number}"
        return PostedReply(platform_id=str(post["id"]), url=url)

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        topic_id, number = self._where(target)
        body: dict[str, Any] = {"topic_id": topic_id, "raw": text}
        if number is not None:
            body["reply_to_post_number"] = number
        response = send(self.http, "POST", f"{self.base}/posts.json", "discourse", json=body,
                        headers=self._headers())
        post = self._check(response)
        return self._posted(post if isinstance(post, dict) else {})

    def verify(self) -> str:
        data = self._check(send(self.http, "GET", f"{self.base}/session/current.json", "discourse",
                                headers=self._headers()))
        user = data.get("current_user") if isinstance(data, dict) else None
        return f"posts as {user.get('username') if isinstance(user, dict) else self.username}"

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        topic_id, number = self._where(target)
        response = send(self.http, "GET", f"{self.base}/user_actions.json", "discourse",
                        params={"username": self.username, "filter": "5"}, headers=self._headers())
        actions = self._check(response)
        actions = actions.get("user_actions") if isinstance(actions, dict) else None
        for action in actions if isinstance(actions, list) else []:
            if not isinstance(action, dict) or action.get("topic_id") != topic_id or action.get("deleted"):
                continue
            if number is not None and action.get("reply_to_post_number") not in (number, None):
                continue
            post_id = action.get("post_id")
            if not isinstance(post_id, int):
                continue
            post = self._check(send(self.http, "GET", f"{self.base}/posts/{post_id}.json", "discourse",
                                    headers=self._headers()))
            if isinstance(post, dict) and str(post.get("raw") or "").strip() == text.strip():
                return self._posted(post)
        return None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    base = str(getattr(settings, "base_url", "")).rstrip("/")
    return DiscourseReplies(base=base, api_key=secrets(settings.reply_api_key_secret or ""),
                            username=settings.reply_username or "", http=http, clock=clock)
