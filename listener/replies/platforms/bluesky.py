"""Bluesky: a post in reply to the mention, `com.atproto.repo.createRecord` of an `app.bsky.feed.post` whose
`reply.root` and `reply.parent` are strong refs ({uri, cid}) — the parent is the mention, the root its thread's
first post (the mention itself when it starts the thread) — after `com.atproto.server.createSession` with the
answering account's app password. Links in the text get `app.bsky.richtext.facet#link` facets (byte offsets),
or Bluesky shows them as plain text.

No idempotency key: after a crash or a lost answer the client reads the mention's thread
(`app.bsky.feed.getPostThread`, depth 1) for a reply by our account with our text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC
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

MAX_LENGTH = 300  # graphemes; counted here in code points, which is never fewer
MARKDOWN = False
MAX_BYTES = 3000  # the record's text limit in UTF-8 bytes
LINK = re.compile(r"https?://[^\s<>\"')\]]+")
REFUSED_TOKEN = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}


class Settings(ReplySettings):
    reply_app_password_secret: str | None = Field(default=None, description="An app password of the answering account.")
    reply_handle: str | None = Field(default=None, description="That account; default: the source's `handle`.")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not self.reply_app_password_secret:
            raise ValueError("reply = true needs reply_app_password_secret (an app password of the account that "
                             "answers)")
        return self


def link_facets(text: str) -> list[dict[str, Any]]:
    facets = []
    for match in LINK.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        start = len(text[:match.start()].encode())
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(url.encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]})
    return facets


@dataclass
class BlueskyReplies:
    xrpc: str
    handle: str
    password: str
    http: httpx.Client
    clock: Clock
    kind: str = "bluesky"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = False
    _session: dict[str, str] | None = field(default=None, repr=False)

    def _call(self, method: str, name: str, retry_login: bool = True, **kwargs: Any) -> Any:
        session = self._login()
        response = send(self.http, method, f"{self.xrpc}/{name}", "bluesky",
                        headers={"Authorization": f"Bearer {session['accessJwt']}"}, **kwargs)
        if response.status_code in (400, 401) and retry_login and _error(response) in REFUSED_TOKEN:
            self._session = None  # expired or revoked: one fresh session, one retry
            return self._call(method, name, retry_login=False, **kwargs)
        return self._json(response)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code in (400, 401) and _error(response) in REFUSED_TOKEN | {"AuthFactorTokenRequired"}:
            raise ReplyAuthError(f"bluesky: the app password or session was refused ({_error(response)})")
        raise_for_answer(response, "bluesky", self.clock.now())
        try:
            return response.json()
        except ValueError:
            raise ReplyRejected(f"bluesky: unreadable answer (HTTP {response.status_code})") from None

    def _login(self) -> dict[str, str]:
        if self._session is None:
            response = send(self.http, "POST", f"{self.xrpc}/com.atproto.server.createSession", "bluesky",
                            json={"identifier": self.handle, "password": self.password})
            if response.status_code == 401:
                raise ReplyAuthError(f"bluesky: the app password of {self.handle} was refused")
            data = self._json(response)
            if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("accessJwt", "did")):
                raise ReplyRejected("bluesky: createSession answered without accessJwt/did")
            self._session = {"accessJwt": data["accessJwt"], "did": data["did"],
                             "handle": str(data.get("handle") or self.handle)}
        return self._session

    @staticmethod
    def _refs(target: ReplyTarget) -> dict[str, dict[str, str]]:
        cid = target.extra.get("cid")
        if not target.external_id.startswith("at://") or not cid:
            raise ReplyRejected("bluesky: the mention was stored without its cid (read before listener kept it); "
                                "answer it on Bluesky")
        parent = {"uri": target.external_id, "cid": cid}
        root_uri, root_cid = target.extra.get("root_uri"), target.extra.get("root_cid")
        root = {"uri": root_uri, "cid": root_cid} if root_uri and root_cid else parent
        return {"root": root, "parent": parent}

    def _posted(self, uri: str) -> PostedReply:
        handle = (self._session or {}).get("handle") or self.handle
        return PostedReply(platform_id=uri, url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}")

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        if len(text.encode()) > MAX_BYTES:
            raise ReplyRejected(f"bluesky: the text has more than {MAX_BYTES} bytes")
        reply = self._refs(target)
        session = self._login()
        now = self.clock.now().astimezone(UTC)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "reply": reply,
                                  "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"}
        if facets := link_facets(text):
            record["facets"] = facets
        data = self._call("POST", "com.atproto.repo.createRecord",
                          json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record})
        if not isinstance(data, dict) or not isinstance(data.get("uri"), str):
            raise ReplyRejected(f"bluesky: createRecord answered without a uri: {str(data)[:200]}")
        return self._posted(data["uri"])

    def verify(self) -> str:
        session = self._login()
        return f"posts as @{session['handle']} ({session['did']})"

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        session = self._login()
        data = self._call("GET", "app.bsky.feed.getPostThread", params={"uri": target.external_id, "depth": 1,
                                                                         "parentHeight": 0})
        thread = data.get("thread") if isinstance(data, dict) else None
        replies = thread.get("replies") if isinstance(thread, dict) else None
        for item in replies if isinstance(replies, list) else []:
            post = item.get("post") if isinstance(item, dict) else None
            if not isinstance(post, dict):
                continue
            author, record = post.get("author") or {}, post.get("record") or {}
            if author.get("did") == session["did"] and str(record.get("text") or "").strip() == text.strip():
                return self._posted(str(post.get("uri")))
        return None


def _error(response: httpx.Response) -> str | None:
    try:
        name = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    xrpc = str(getattr(settings, "base_url", "https://bsky.social/xrpc")).rstrip("/")
    handle = (settings.reply_handle or str(getattr(settings, "handle", ""))).strip().lstrip("@")
    return BlueskyReplies(xrpc=xrpc, handle=handle, password=secrets(settings.reply_app_password_secret or ""),
                          http=http, clock=clock)
