"""Stand-ins for the platforms' write APIs: real HTTP servers on loopback that check each request as the platform
documents it (path, auth headers, body fields) and answer with the platform's success and error shapes. The
success bodies start from real recorded answers in ../shared/wild, with the ids of the new post filled in.

Each fake keeps what was posted (`posts`), so a test can count what reached the platform.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import yaml

from tests.sources._http import JSON, ApiServer, Reply, Request, json_reply
from tests.wild import wild_path

DISCOURSE_POST = "discourse/discourse__discourse_api/spec/fixtures/post.json"
MASTODON_STATUS = "mastodon/halcy__Mastodon.py/tests/cassettes/test_status.yaml"


class PlatformFake(ApiServer):
    """An ApiServer with a lock around its state, a queue of canned failures for the next requests, and an
    optional hook run after a post is stored but before it is answered (a test kills the poster there)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.posts: list[dict[str, Any]] = []
        self.next_failures: list[Reply] = []
        self.after_post: Callable[[dict[str, Any]], None] | None = None

    def answer(self, request: Request) -> Reply:
        with self.lock:
            if self.next_failures and request.method == "POST":
                return self.next_failures.pop(0)
            reply = self.route(request)
        return reply

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def stored(self, post: dict[str, Any]) -> None:
        self.posts.append(post)
        if self.after_post is not None:
            self.after_post(post)


# ----------------------------------------------------------------------------- Discourse
def discourse_error(status: int, message: str, error_type: str | None = None, **extra: Any) -> Reply:
    """Discourse's error shape: {"errors": [...], "error_type": ...} (422s from PostCreator carry "action")."""
    body: dict[str, Any] = {"errors": [message]}
    if error_type:
        body["error_type"] = error_type
    body.update(extra)
    return json_reply(body, status)


class DiscourseFake(PlatformFake):
    """`POST /posts.json` (JSON body: topic_id, raw, reply_to_post_number; Api-Key + Api-Username headers),
    `GET /user_actions.json?username=&filter=5`, `GET /posts/{id}.json`."""

    def __init__(self, api_key: str = "write-key", username: str = "acme_care", topics: dict[int, int] | None = None,
                 closed: set[int] | None = None) -> None:
        super().__init__()
        self.api_key, self.username = api_key, username
        self.topics = dict(topics or {101: 3})  # topic id → highest post number
        self.closed = set(closed or ())
        self.recorded = json.loads(wild_path(DISCOURSE_POST).read_text())
        self.next_id = 9000

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("Api-Key") == self.api_key and request.headers.get("Api-Username") == self.username

    def route(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == "/posts.json":  # what the source polls: a quiet forum
            return json_reply({"latest_posts": []})
        if request.method == "GET" and request.path == "/search.json":
            return json_reply({"posts": [], "topics": [], "grouped_search_result": {}})
        if not self._authorised(request):
            return discourse_error(403, "You are not permitted to view the requested resource. The API username or "
                                   "key is invalid.", "invalid_access")
        if request.method == "POST" and request.path == "/posts.json":
            return self._create(request)
        if request.method == "GET" and request.path == "/session/current.json":
            return json_reply({"current_user": {"id": 7, "username": self.username, "name": "Acme Care"}})
        if request.method == "GET" and request.path == "/user_actions.json":
            if request.param("username") != self.username or request.param("filter") != "5":
                return discourse_error(400, "wrong user_actions query")
            actions = [{"action_type": 5, "topic_id": p["topic_id"], "post_id": p["id"],
                        "post_number": p["post_number"], "reply_to_post_number": p["reply_to_post_number"],
                        "username": self.username,
                        "excerpt": p["raw"][:100], "deleted": False, "created_at": p["created_at"]}
                       for p in reversed(self.posts)]
            return json_reply({"user_actions": actions})
        if request.method == "GET" and request.path.startswith("/posts/") and request.path.endswith(".json"):
            post_id = request.path.removeprefix("/posts/").removesuffix(".json")
            found = next((p for p in self.posts if str(p["id"]) == post_id), None)
            return json_reply(found) if found else discourse_error(
                404, "The requested URL or resource could not be found.", "not_found")
        return discourse_error(404, "The requested URL or resource could not be found.", "not_found")

    def _create(self, request: Request) -> Reply:
        if "application/json" not in (request.headers.get("Content-Type") or ""):
            return discourse_error(400, "expected a JSON body")
        body = request.json()
        topic_id, raw = body.get("topic_id"), body.get("raw")
        if set(body) - {"topic_id", "raw", "reply_to_post_number"} or not isinstance(topic_id, int) \
                or not isinstance(raw, str):
            return discourse_error(400, f"unexpected body {sorted(body)}")
        if topic_id not in self.topics:
            return discourse_error(404, "The requested URL or resource could not be found.", "not_found")
        if topic_id in self.closed:
            return discourse_error(422, "This topic is closed; it no longer accepts new replies.", action="create_post")
        if len(raw.strip()) < 20:
            return discourse_error(422, "Body is too short (minimum is 20 characters)", action="create_post")
        number = body.get("reply_to_post_number")
        if number is not None and (not isinstance(number, int) or number > self.topics[topic_id]):
            return discourse_error(422, "reply_to_post_number does not exist", action="create_post")
        self.next_id += 1
        self.topics[topic_id] += 1
        post = dict(self.recorded)
        post.update(id=self.next_id, topic_id=topic_id, post_number=self.topics[topic_id], raw=raw,
                    cooked=f"<p>{raw}</p>", username=self.username, reply_to_post_number=number,
                    topic_slug="parcel-lost", created_at="2026-01-05T09:00:00.000Z", yours=True)
        self.stored(post)
        return json_reply(post)


# ----------------------------------------------------------------------------- Mastodon
def recorded_mastodon_status() -> dict[str, Any]:
    cassette = yaml.safe_load(wild_path(MASTODON_STATUS).read_text())
    post = next(i for i in cassette["interactions"] if i["request"]["method"] == "POST")
    return dict(json.loads(post["response"]["body"]["string"]))


def mastodon_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """Mastodon's error entity: {"error": "..."}."""
    return json_reply({"error": message}, status, headers)


class MastodonFake(PlatformFake):
    """`POST /api/v1/statuses` (form fields status, in_reply_to_id, visibility; Bearer token; Idempotency-Key:
    a repeated key answers with the status it created), `GET /api/v1/statuses/{id}`, `…/{id}/context`,
    `GET /api/v1/accounts/verify_credentials`."""

    def __init__(self, token: str = "write-token", statuses: dict[str, str] | None = None) -> None:
        super().__init__()
        self.token = token
        self.known = dict(statuses or {"111": "customer"})  # status id → the author's acct
        self.by_key: dict[str, dict[str, Any]] = {}
        self.recorded = recorded_mastodon_status()
        self.next_id = 117020583223442465
        self.me = self.recorded["account"]
        self.timeline: list[dict[str, Any]] = []  # others' statuses on the hashtag timeline

    def route(self, request: Request) -> Reply:
        path = request.path
        if request.method == "GET" and path.startswith("/api/v1/timelines/tag/"):  # public: what the source reads
            return json_reply(list(reversed(self.timeline + self.posts)))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return mastodon_error(401, "The access token is invalid")
        if request.method == "POST" and path == "/api/v1/statuses":
            return self._create(request)
        if request.method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return json_reply(self.me)
        if request.method == "GET" and path.startswith("/api/v1/statuses/"):
            rest = path.removeprefix("/api/v1/statuses/")
            status_id, _, context = rest.partition("/")
            if status_id not in self.known and not any(p["id"] == status_id for p in self.posts):
                return mastodon_error(404, "Record not found")
            if context == "context":
                return json_reply({"ancestors": [], "descendants": [p for p in self.posts
                                                                    if p["in_reply_to_id"] == status_id]})
            return json_reply({**self.recorded, "id": status_id,
                               "account": {**self.me, "id": "5", "acct": self.known.get(status_id, "x")}})
        return mastodon_error(404, "Record not found")

    def _create(self, request: Request) -> Reply:
        if "application/x-www-form-urlencoded" not in (request.headers.get("Content-Type") or ""):
            return mastodon_error(422, "expected a form body")
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if set(form) - {"status", "in_reply_to_id", "visibility"}:
            return mastodon_error(422, f"unexpected fields {sorted(form)}")
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:
            return json_reply(self.by_key[key])
        text = form.get("status", "")
        if not text:
            return mastodon_error(422, "Validation failed: Text can't be blank")
        if len(text) > 500:
            return mastodon_error(422, "Validation failed: Text character limit of 500 exceeded")
        parent = form.get("in_reply_to_id")
        if parent not in self.known:
            return mastodon_error(404, "Record not found")
        if form.get("visibility") not in ("public", "unlisted", "private", "direct"):
            return mastodon_error(422, "Validation failed: Visibility is not included in the list")
        self.next_id += 1
        status = {**self.recorded, "id": str(self.next_id), "in_reply_to_id": parent,
                  "visibility": form["visibility"], "content": f"<p>{text}</p>",
                  "url": f"{self.base_url}/@{self.me['acct']}/{self.next_id}",
                  "uri": f"{self.base_url}/users/{self.me['acct']}/statuses/{self.next_id}"}
        if key:
            self.by_key[key] = status
        self.stored(status)
        return json_reply(status)


def rate_limited(retry_after: str = "30") -> Reply:
    return 429, {**JSON, "Retry-After": retry_after}, json.dumps({"error": "Too many requests"}).encode()


# ----------------------------------------------------------------------------- Reddit
REDDIT_COMMENT = "reddit/praw-dev__asyncpraw/tests/integration/cassettes/TestComment.test_attributes.json"


def recorded_reddit_comment() -> dict[str, Any]:
    cassette = json.loads(wild_path(REDDIT_COMMENT).read_text())
    info = next(i for i in cassette["interactions"] if "/api/info" in i["request"]["uri"])
    body = info["response"]["body"]
    raw = base64.b64decode(body["base64_string"]) if "base64_string" in body else body["string"].encode()
    return dict(json.loads(raw)["data"]["children"][0]["data"])


def reddit_errors(*items: tuple[str, str, str]) -> Reply:
    """Reddit's api_type=json refusal: HTTP 200 with {"json": {"errors": [[CODE, message, field], …]}}."""
    return json_reply({"json": {"errors": [list(i) for i in items]}})


class RedditFake(PlatformFake):
    """www.reddit.com's token endpoint and oauth.reddit.com in one server: `POST /api/v1/access_token`
    (Basic app credentials; refresh_token or password grant), `POST /api/comment` (form: api_type=json, text,
    thing_id; bearer token), `GET /api/v1/me`, `GET /user/{name}/comments`."""

    TOKEN = "reddit-access-token"

    def __init__(self, client_id: str = "app-id", client_secret: str = "app-secret",
                 refresh_token: str = "refresh-me", account: str = "acme_care") -> None:
        super().__init__()
        self.app = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.refresh_token, self.account = refresh_token, account
        self.recorded = recorded_reddit_comment()
        self.things = {"t3_kzj68i": "t3_kzj68i", "t1_gjq8c6o": "t3_kzj68i"}  # fullname → its submission
        self.locked: set[str] = set()
        self.next_id = int("gk00000", 36)

    def route(self, request: Request) -> Reply:
        path = request.path.rstrip("/")
        if request.method == "POST" and path == "/api/v1/access_token":
            grant = {k: v[0] for k, v in request.form().items()}
            if request.headers.get("Authorization") != f"Basic {self.app}":
                return json_reply({"message": "Unauthorized", "error": 401}, 401)
            if grant.get("grant_type") != "refresh_token" or grant.get("refresh_token") != self.refresh_token:
                return json_reply({"error": "invalid_grant"})  # Reddit answers a bad grant with 200
            return json_reply({"access_token": self.TOKEN, "token_type": "bearer", "expires_in": 3600,
                               "scope": "submit read identity history"})
        if request.headers.get("Authorization") != f"bearer {self.TOKEN}":
            return 401, {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"', **JSON}, \
                b'{"message": "Unauthorized", "error": 401}'
        if request.method == "POST" and path == "/api/comment":
            return self._comment({k: v[0] for k, v in request.form().items()})
        if request.method == "GET" and path == "/api/v1/me":
            return json_reply({"name": self.account, "id": "abc12", "is_suspended": False})
        if request.method == "GET" and path == f"/user/{self.account}/comments":
            children = [{"kind": "t1", "data": p} for p in reversed(self.posts)]
            return json_reply({"kind": "Listing", "data": {"after": None, "before": None, "dist": len(children),
                                                           "children": children}})
        return json_reply({"message": "Not Found", "error": 404}, 404)

    def _comment(self, form: dict[str, str]) -> Reply:
        if set(form) != {"api_type", "text", "thing_id"} or form["api_type"] != "json":
            return reddit_errors(("BAD_REQUEST", f"unexpected fields {sorted(form)}", "text"))
        parent = form["thing_id"]
        if parent not in self.things:
            return reddit_errors(("DELETED_COMMENT", "that comment has been deleted", "parent"))
        if parent in self.locked:
            return reddit_errors(("THREAD_LOCKED", "that thread is locked", "parent"))
        if len(form["text"]) > 10_000:
            return reddit_errors(("TOO_LONG", "this is too long (max: 10000)", "text"))
        self.next_id += 1
        base36 = _base36(self.next_id)
        link = self.things[parent]
        comment = {**self.recorded, "id": base36, "name": f"t1_{base36}", "parent_id": parent, "link_id": link,
                   "body": form["text"], "author": self.account, "archived": False,
                   "permalink": f"/r/acme/comments/{link[3:]}/parcel/{base36}/"}
        self.stored(comment)
        return json_reply({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": comment}]}}})


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


# ----------------------------------------------------------------------------- Bluesky
BLUESKY_THREAD = "bluesky/christopherkenny__bskyr/tests/testthat/_vcr/f_postthread.yml"


def recorded_bluesky_post() -> dict[str, Any]:
    cassette = yaml.safe_load(wild_path(BLUESKY_THREAD).read_text())
    body = cassette["http_interactions"][0]["response"]["body"]["string"]
    return dict(json.loads(body)["thread"]["post"])


def xrpc_error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """The XRPC error shape: {"error": Name, "message": …}."""
    return json_reply({"error": error, "message": message}, status, headers)


class BlueskyFake(PlatformFake):
    """An account's PDS under /xrpc: `com.atproto.server.createSession`, `com.atproto.repo.createRecord` (an
    app.bsky.feed.post with reply.root/reply.parent strong refs), `app.bsky.feed.getPostThread`."""

    ROOT = ("at://did:plc:customer/app.bsky.feed.post/3kroot", "bafyrootcid")
    PARENT = ("at://did:plc:customer/app.bsky.feed.post/3kparent", "bafyparentcid")

    def __init__(self, handle: str = "acme-care.bsky.social", password: str = "app-pass-word") -> None:
        super().__init__()
        self.handle, self.password, self.did = handle, password, "did:plc:acmecare"
        self.recorded = recorded_bluesky_post()
        self.cids = {self.ROOT[0]: self.ROOT[1], self.PARENT[0]: self.PARENT[1]}
        self.tokens: set[str] = set()
        self.sessions = 0
        self.next_rkey = 0

    def route(self, request: Request) -> Reply:
        name = request.path.removeprefix("/xrpc/")
        if request.method == "POST" and name == "com.atproto.server.createSession":
            body = request.json() or {}
            if body != {"identifier": self.handle, "password": self.password}:
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
            self.sessions += 1
            token = f"access-{self.sessions}"
            self.tokens.add(token)
            return json_reply({"accessJwt": token, "refreshJwt": f"refresh-{self.sessions}", "handle": self.handle,
                               "did": self.did, "active": True})
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in self.tokens:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if request.method == "POST" and name == "com.atproto.repo.createRecord":
            return self._create(request.json() or {})
        if request.method == "GET" and name == "app.bsky.feed.getPostThread":
            uri = request.param("uri")
            if uri not in self.cids:
                return xrpc_error(400, "NotFound", f"Post not found: {uri}")
            replies = [{"$type": "app.bsky.feed.defs#threadViewPost", "post": p} for p in self.posts
                       if p["record"]["reply"]["parent"]["uri"] == uri]
            return json_reply({"thread": {"$type": "app.bsky.feed.defs#threadViewPost",
                                          "post": {**self.recorded, "uri": uri, "cid": self.cids[uri]},
                                          "replies": replies}})
        return xrpc_error(501, "MethodNotImplemented", f"Method Not Implemented: {name}")

    def _create(self, body: dict[str, Any]) -> Reply:
        record = body.get("record") or {}
        if body.get("repo") != self.did or body.get("collection") != "app.bsky.feed.post" or \
                set(body) - {"repo", "collection", "record"}:
            return xrpc_error(400, "InvalidRequest", f"unexpected createRecord input {sorted(body)}")
        if record.get("$type") != "app.bsky.feed.post" or not isinstance(record.get("createdAt"), str) or \
                not isinstance(record.get("text"), str):
            return xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record must have the "
                              "properties \"text\" and \"createdAt\"")
        if len(record["text"]) > 300:
            return xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/text must not be "
                              "longer than 300 graphemes")
        reply = record.get("reply") or {}
        for part in ("root", "parent"):
            ref = reply.get(part) or {}
            if set(ref) != {"uri", "cid"} or self.cids.get(ref["uri"]) != ref["cid"]:
                return xrpc_error(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: reply/{part} must be "
                                  "a strong ref to an existing post")
        self.next_rkey += 1
        uri = f"at://{self.did}/app.bsky.feed.post/3lreply{self.next_rkey:05d}"
        cid = f"bafyreply{self.next_rkey}"
        self.cids[uri] = cid
        self.stored({**self.recorded, "uri": uri, "cid": cid, "record": record,
                     "author": {**self.recorded["author"], "did": self.did, "handle": self.handle}})
        return json_reply({"uri": uri, "cid": cid, "commit": {"cid": "bafycommit", "rev": "3lrev"},
                           "validationStatus": "valid"})
