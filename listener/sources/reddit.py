"""Reddit through praw: new submissions and new comments of chosen subreddits, and a site-wide search for
the brand terms (newest first).

Each listing is read forwards from the newest item seen (`before=<fullname>`, as praw's own streams do),
one page of 100 at a time, so a burst of posts between two polls is read completely over the following
polls rather than skipped. When the anchor item has been deleted Reddit answers `before=` with nothing; the
source then reads the newest page and keeps what is newer than the anchor by id (Reddit ids grow).

Cursor: `{"listings": {"r/<sub>/new": "t3_…", "r/<sub>/comments": "t1_…", "search": "t3_…"}}`.
The first poll reads one page of each listing (the search: of the last day).

praw does its own HTTP (requests through prawcore) with its own rate limiter, which follows Reddit's
`X-Ratelimit-*` headers; prawcore's errors are mapped to the source errors here. Reddit's Data API needs
an approved app (client id and secret, see docs/sources/reddit.md), read from secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import praw
import prawcore
import requests
from pydantic import Field, HttpUrl, field_validator, model_validator

from listener.domain import Batch, Mention
from listener.sources.kit import (
    BadPayload,
    ClientError,
    RateLimited,
    Source,
    SourceContext,
    SourceSettings,
    SourceUnavailable,
    Targets,
    counts,
    html_to_text,
    parse_retry_after,
    register,
    search_terms,
    source_secret,
    unix_time,
)

log = logging.getLogger(__name__)

PAGE = 100  # Reddit's largest listing page
PERMALINK_BASE = "https://www.reddit.com"
GONE = {"[deleted]", "[removed]"}


class RedditSettings(SourceSettings):
    kind: str = Field(default="reddit",
                      description="\"reddit\": new posts and comments of subreddits and a site-wide search, through "
                                  "praw (needs approved API access).")
    subreddits: list[str] = Field(default_factory=list,
                                  description="Subreddit names without \"r/\"; new submissions (and comments) of each "
                                              "are read.")
    comments: bool = Field(default=True, description="Also read the subreddits' new comments.")
    search: bool = Field(default=True, description="Also search all of Reddit for the brand terms (submissions only).")
    client_id_secret: str = Field(default="reddit-client-id",
                                  description="Name of the secret holding the approved app's client id "
                                              "($LISTENER_REDDIT_CLIENT_ID).")
    client_secret_secret: str | None = Field(default="reddit-client-secret",
                                             description="Name of the secret holding the app's client secret; unset: "
                                                         "an \"installed app\" without one.")
    username_secret: str | None = Field(default=None,
                                        description="With password_secret: act as this account (a \"script\" app).")
    password_secret: str | None = Field(default=None, description="Name of the secret holding that account's password.")
    user_agent: str | None = Field(default=None,
                                   description="User-Agent in Reddit's required format \"<platform>:<app id>:<version> "
                                               "(by /u/<name>)\".")
    base_url: HttpUrl | None = Field(default=None,
                                     description="One server for both oauth_url and reddit_url (a proxy or a test "
                                                 "server).")
    oauth_url: HttpUrl = Field(default=HttpUrl("https://oauth.reddit.com"), description="Reddit's OAuth API server.")
    reddit_url: HttpUrl = Field(default=HttpUrl("https://www.reddit.com"),
                                description="Reddit's web server (token requests).")
    max_pages: int = Field(default=5, ge=1, le=50, description="Pages of 100 per listing and poll.")

    @field_validator("subreddits")
    @classmethod
    def _plain_names(cls, names: list[str]) -> list[str]:
        cleaned = [n.strip().removeprefix("/").removeprefix("r/").strip("/") for n in names]
        if any(not n or "/" in n or " " in n for n in cleaned):
            raise ValueError("subreddits are plain names such as 'de' or 'AskReddit' (without r/)")
        return cleaned

    @model_validator(mode="after")
    def _something_to_read(self) -> RedditSettings:
        if not self.subreddits and not self.search:
            raise ValueError("give subreddits, or set search = true")
        return self


def _id_number(fullname: str | None) -> int | None:
    """Reddit ids are base-36 counters: t3_kzj68i < t3_kzj68x."""
    if not fullname or "_" not in fullname:
        return None
    try:
        return int(fullname.split("_", 1)[1], 36)
    except ValueError:
        return None


@contextmanager
def reddit_errors(now: datetime) -> Iterator[None]:
    """prawcore's and praw's exceptions as the source errors the daemon understands."""
    try:
        yield
    except prawcore.TooManyRequests as exc:
        retry_after = parse_retry_after(exc.response.headers.get("retry-after"), now)
        if retry_after is None:
            reset = exc.response.headers.get("x-ratelimit-reset")
            retry_after = float(reset) if reset and reset.replace(".", "", 1).isdigit() else None
        raise RateLimited("rate limited (429) by Reddit", retry_after=retry_after) from exc
    except prawcore.ServerError as exc:
        raise SourceUnavailable(f"server error {exc.response.status_code} from Reddit") from exc
    except prawcore.RequestException as exc:
        raise SourceUnavailable(f"cannot reach Reddit: {exc.original_exception}") from exc
    except prawcore.BadJSON as exc:
        kind = exc.response.headers.get("content-type", "unknown content type")
        raise BadPayload(f"expected JSON from Reddit, got unreadable {kind}") from exc
    except prawcore.OAuthException as exc:
        raise ClientError(f"Reddit refused the credentials: {exc.error}", status=401) from exc
    except prawcore.Redirect as exc:  # an unknown subreddit redirects to the search page
        raise ClientError(f"Reddit redirected to {exc.path} (unknown subreddit?)",
                          status=exc.response.status_code) from exc
    except prawcore.ResponseException as exc:  # Forbidden, NotFound, InvalidToken, BadRequest …
        status = exc.response.status_code
        if status == 429:  # the token endpoint's throttle comes as a plain ResponseException
            retry_after = parse_retry_after(exc.response.headers.get("retry-after"), now)
            raise RateLimited("rate limited (429) by Reddit", retry_after=retry_after) from exc
        if status >= 500:
            raise SourceUnavailable(f"server error {status} from Reddit ({type(exc).__name__})") from exc
        raise ClientError(f"HTTP {status} from Reddit ({type(exc).__name__})", status=status) from exc
    except prawcore.PrawcoreException as exc:
        raise ClientError(f"Reddit: {exc}") from exc
    except praw.exceptions.PRAWException as exc:
        raise ClientError(f"Reddit: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadPayload(f"unexpected answer from Reddit: {type(exc).__name__}: {exc}") from exc


@register
class RedditSource(Source):
    kind = "reddit"
    settings_model = RedditSettings
    settings: RedditSettings

    def __init__(self, settings: RedditSettings, context: SourceContext):
        super().__init__(settings, context)
        self._reddit: praw.Reddit | None = None

    # ------------------------------------------------------------------------- praw
    def _secret(self, name: str | None) -> str | None:
        return source_secret(name) if name else None

    @property
    def reddit(self) -> praw.Reddit:
        if self._reddit is None:
            settings = self.settings
            oauth_url = str(settings.base_url or settings.oauth_url).rstrip("/")
            reddit_url = str(settings.base_url or settings.reddit_url).rstrip("/")
            http = self.context.http.settings
            credentials: dict[str, Any] = {
                "client_id": self._secret(settings.client_id_secret),
                "client_secret": self._secret(settings.client_secret_secret),
            }
            if settings.username_secret and settings.password_secret:
                credentials["username"] = self._secret(settings.username_secret)
                credentials["password"] = self._secret(settings.password_secret)
            session = requests.Session()  # praw's own; honours HTTPS_PROXY like the shared fetcher
            self._reddit = praw.Reddit(
                site_name=None,
                user_agent=settings.user_agent or http.user_agent,
                oauth_url=oauth_url,
                reddit_url=reddit_url,
                timeout=max(1, int(http.timeout.total_seconds())),
                check_for_updates=False,
                check_for_async=False,
                requestor_kwargs={"session": session},
                **credentials,
            )
        return self._reddit

    # ------------------------------------------------------------------------- poll
    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        anchors = dict(cursor.get("listings") or {})
        items: dict[str, Mention] = {}
        with reddit_errors(now):
            reddit = self.reddit
        # Each subreddit (its new posts and comments) and the search is a target: one that fails (unknown,
        # private, banned) is listed in the source's health and keeps its anchors; the others are read.
        groups: list[tuple[str, list[tuple[str, Callable[..., Any]]]]] = []
        for name in self.settings.subreddits:
            subreddit = reddit.subreddit(name)  # lazy: no request yet
            listings: list[tuple[str, Callable[..., Any]]] = [(f"r/{name}/new", subreddit.new)]
            if self.settings.comments:
                listings.append((f"r/{name}/comments", subreddit.comments))
            groups.append((f"r/{name}", listings))
        terms = search_terms(self.context.brands) if self.settings.search else []
        if terms:
            query = " OR ".join(f'"{t}"' if " " in t else t for t in terms)
            everywhere = reddit.subreddit("all")

            def search(**kwargs: Any) -> Any:
                first = not anchors.get("search")
                return everywhere.search(query, sort="new", time_filter="day" if first else "week", **kwargs)

            groups.append(("search", [("search", search)]))
        targets = Targets(self.name)
        for target, listings in groups:
            found: dict[str, Mention] = {}
            moved: dict[str, str] = {}
            with targets.target(target), reddit_errors(now):
                for key, listing in listings:
                    newest = anchors.get(key)
                    for thing in self._read(key, listing, newest):
                        mention = self._mention(thing, now)
                        if mention is not None:
                            found.setdefault(mention.external_id, mention)
                        if (_id_number(thing.fullname) or 0) > (_id_number(newest) or -1):
                            newest = thing.fullname
                    if newest:
                        moved[key] = newest
                anchors.update(moved)  # the target's items and anchors together, or neither
                for external_id, mention in found.items():
                    items.setdefault(external_id, mention)
        return Batch(items=list(items.values()), next_cursor={"listings": anchors}, failed_targets=targets.failed())

    def _read(self, key: str, listing: Callable[..., Any], anchor: str | None) -> list[Any]:
        """Items newer than `anchor`, reading forwards page by page (the first poll: the newest page)."""
        if not anchor:
            return list(listing(limit=PAGE))
        found: list[Any] = []
        before = anchor
        for _ in range(self.settings.max_pages):
            page = list(listing(limit=PAGE, params={"before": before}))
            found += page
            if len(page) < PAGE:
                break
            before = max(page, key=lambda t: _id_number(t.fullname) or 0).fullname
        else:
            log.info("event=reddit_more_next_poll source=%s listing=%s", self.name, key)
        if found:
            return found
        # Nothing after the anchor — or the anchor was deleted, which makes `before=` answer nothing.
        floor = _id_number(anchor) or 0
        newer = [t for t in listing(limit=PAGE) if (_id_number(t.fullname) or 0) > floor]
        if newer:
            log.info("event=reddit_anchor_gone source=%s listing=%s anchor=%s", self.name, key, anchor)
        return newer

    # ------------------------------------------------------------------------- mapping
    def _mention(self, thing: Any, now: datetime) -> Mention | None:
        data = vars(thing)  # the listing's fields only: attribute access could make praw fetch more
        fullname = thing.fullname
        author = data.get("author")
        author_name = getattr(author, "name", None) if author is not None else None
        subreddit = str(data.get("subreddit") or "") or None
        published_at = unix_time(data.get("created_utc"))
        permalink = data.get("permalink")
        url = PERMALINK_BASE + permalink if isinstance(permalink, str) and permalink.startswith("/") else None
        if isinstance(thing, praw.models.Comment):
            body = data.get("body")
            if not isinstance(body, str) or body.strip() in GONE:
                return None
            text = html_to_text(data["body_html"]) if isinstance(data.get("body_html"), str) else body.strip()
            if not text:
                return None
            return self.mention(
                external_id=fullname, text=text, fetched_at=now,
                url=url, author=author_name, published_at=published_at,
                reach=counts(score=data.get("score")),
                thread_id=data.get("link_id") if isinstance(data.get("link_id"), str) else None,
                parent_id=data.get("parent_id") if isinstance(data.get("parent_id"), str) else None,
                extra={k: v for k, v in {"type": "comment", "subreddit": subreddit,
                                         "link_title": data.get("link_title")}.items() if v},
            )
        if isinstance(thing, praw.models.Submission):
            title = " ".join(str(data.get("title") or "").split())
            selftext = data.get("selftext") if isinstance(data.get("selftext"), str) else ""
            if selftext.strip() in GONE:
                selftext = ""
            text = (html_to_text(data["selftext_html"]) if selftext and isinstance(data.get("selftext_html"), str)
                    else " ".join(selftext.split())) or title
            if not text:
                return None
            link = data.get("url") if not data.get("is_self") else None
            return self.mention(
                external_id=fullname, text=text, fetched_at=now,
                url=url, author=author_name, title=title or None, published_at=published_at,
                reach=counts(score=data.get("score"), replies=data.get("num_comments"),
                             followers=data.get("subreddit_subscribers")),
                thread_id=fullname,
                lang_hint=None,
                extra={k: v for k, v in {"type": "submission", "subreddit": subreddit, "link": link,
                                         "over_18": data.get("over_18") or None}.items() if v},
            )
        raise BadPayload(f"Reddit listing holds a {type(thing).__name__}, expected submissions or comments")
