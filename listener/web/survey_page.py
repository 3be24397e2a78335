"""The public survey page on [web]: `GET /survey/<token>` asks the task's survey, `POST` takes the answer.

For the customer, not the care team: no sign-in and no cookie, no script (a form and a stylesheet from this
server, under a policy that allows nothing else), phone-sized first, in the task's language. The page names
nothing about the complaint. The token is the only capability: a forged one answers 400, an expired one 410.

The form carries the signed token (the page's only secret, so another site cannot fill it in without it) and its
POST must come from this site (Origin, or Referer where a browser sends no Origin, equal to [web] base_url's
origin). Answers are counted per client address and per link (`[web] survey_answers` per
`survey_answers_window`); past that: 429. The answer is kept once and can be changed within the survey's
`change_within` (answers.py); re-opening the link shows it.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from babel.dates import format_timedelta
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from listener.store.models import TaskRow
from listener.surveys.answers import (
    COMMENT_LIMIT,
    AnswerError,
    answer_of,
    changeable_until,
    clean_comment,
    parse_score,
    record_answer,
)
from listener.surveys.i18n import TEXTS
from listener.surveys.links import InvalidSurveyLink, SurveyLinks, survey_for
from listener.surveys.metrics import record_refusal
from listener.surveys.settings import SurveySettings
from listener.web.app import Web, client_address
from listener.web.i18n import negotiate
from listener.web.security import LoginThrottle, session_secret

log = logging.getLogger(__name__)
PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    # The token in the address goes to no other site; not "no-referrer", under which browsers send
    # `Origin: null` with the form's POST and the origin check could not tell our own page from another site.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
}
MAX_BODY = 16_384  # a score and a comment of COMMENT_LIMIT characters fit many times over


class AnswerLimit:
    """At most `per_window` answers per client address and per link within `window` (LoginThrottle counts events
    per key; here every answer taken counts, not only failures)."""

    def __init__(self, per_window: int, window: Any, clock: Any):
        self.throttle = LoginThrottle(per_window, window, clock)

    def blocked(self, task_id: int | None, address: str) -> bool:
        return self.throttle.blocked(f"task-{task_id}", address)

    def count(self, task_id: int, address: str) -> None:
        self.throttle.failed(f"task-{task_id}", address)


@dataclass
class PageState:
    links: SurveyLinks
    limit: AnswerLimit
    env: Environment


@dataclass
class Opened:
    """A link that checked out: the task's survey, the page's language and the answer so far."""

    task_id: int
    survey: SurveySettings
    language: str
    score: int | None = None
    comment: str | None = None
    until: datetime | None = None  # the answer can be changed until then (None: no answer yet)


class Refusal(Exception):
    """A request the page turns down; `language` when the task is known (else the browser's is used)."""

    def __init__(self, status: int, key: str, language: str | None = None):
        self.status, self.key, self.language = status, key, language
        super().__init__(key)


def _state(request: Request) -> PageState:
    """Built on first use, in the event loop's thread (so once), from the app's settings."""
    state = getattr(request.app.state, "surveys", None)
    if state is None:
        web: Web = request.app.state.web
        env = Environment(loader=PackageLoader("listener.surveys", "templates"), undefined=StrictUndefined,
                          autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        state = PageState(SurveyLinks(session_secret(web.config), web.clock),
                          AnswerLimit(web.config.survey_answers, web.config.survey_answers_window, web.clock), env)
        request.app.state.surveys = state
    return state


def origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port and parts.port != {"http": 80, "https": 443}[parts.scheme] else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def same_origin(request: Request, base_url: str | None) -> bool:
    """The POST comes from a page of this site: Origin (or, without one, Referer) is [web] base_url's origin."""
    origin = request.headers.get("origin")
    given = origin_of(origin) if origin and origin != "null" else origin_of(request.headers.get("referer"))
    expected = origin_of(base_url)
    return given is not None and expected is not None and hmac.compare_digest(given, expected)


def open_link(web: Web, state: PageState, token: str) -> Opened:
    try:
        task_id, made = state.links.read(token)
    except InvalidSurveyLink:
        raise Refusal(400, "invalid") from None
    with web.store.read() as session:
        task = session.get(TaskRow, task_id)
        survey = survey_for(web.settings.survey, task) if task is not None else None
        if task is None or survey is None:
            raise Refusal(404, "gone")
        score = task.mention.score
        language, _ = survey.question_in(score.language if score else None)
        try:
            state.links.check_age(made, survey)
        except InvalidSurveyLink:
            raise Refusal(410, "expired", language) from None
        opened = Opened(task.id, survey, language)
        answer = answer_of(session, task.id)
        if answer is not None:
            opened.score, opened.comment, opened.until = answer.score, answer.comment, changeable_until(answer, survey)
        return opened


def _respond(state: PageState, template: str, status: int, lang: str, **context: Any) -> HTMLResponse:
    html = state.env.get_template(template).render(lang=lang, t=TEXTS[lang], **context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def refusal_page(state: PageState, refusal: Refusal, lang: str) -> HTMLResponse:
    record_refusal(refusal.key)
    lang = refusal.language or lang
    headers = {"retry-after": str(int(state.limit.throttle.window.total_seconds()))} if refusal.status == 429 else {}
    response = _respond(state, "refused.html", refusal.status, lang, message=TEXTS[lang][refusal.key])
    response.headers.update(headers)
    return response


def form_page(web: Web, state: PageState, token: str, opened: Opened, status: int = 200, saved: bool = False,
              error: str | None = None, score: int | None = None, comment: str | None = None) -> HTMLResponse:
    now = web.clock.now()
    survey, lang = opened.survey, opened.language
    changeable = opened.until is None or now < opened.until
    left = format_timedelta(opened.until - now, threshold=1.5, locale=lang) if opened.until and changeable else None
    return _respond(state, "survey.html", status, lang, token=token, survey=survey,
                    question=survey.question_in(lang)[1], scale=list(survey.scale),
                    low=TEXTS[lang][f"low_{survey.kind}"], high=TEXTS[lang][f"high_{survey.kind}"],
                    answered=opened.until is not None, changeable=changeable, left=left, saved=saved, error=error,
                    score=score if score is not None else opened.score,
                    comment=comment if comment is not None else (opened.comment or ""), comment_limit=COMMENT_LIMIT)


def show(web: Web, state: PageState, request: Request, token: str) -> Response:
    try:
        opened = open_link(web, state, token)
    except Refusal as refusal:
        return refusal_page(state, refusal, negotiate(request.headers.get("accept-language")))
    return form_page(web, state, token, opened, saved=request.query_params.get("saved") == "1")


def take(web: Web, state: PageState, request: Request, token: str, form: FormData) -> Response:
    lang = negotiate(request.headers.get("accept-language"))
    address = client_address(web, request)
    try:
        if not same_origin(request, web.config.base_url):
            raise Refusal(403, "origin")
        if not hmac.compare_digest(str(form.get("token", "")).encode(), token.encode()):
            raise Refusal(400, "invalid")  # the signed token in the form is the page's CSRF token
        if state.limit.blocked(None, address):
            raise Refusal(429, "limited")
        opened = open_link(web, state, token)
        lang = opened.language
        if state.limit.blocked(opened.task_id, address):
            raise Refusal(429, "limited")
        state.limit.count(opened.task_id, address)
    except Refusal as refusal:
        return refusal_page(state, refusal, lang)
    raw_comment = str(form.get("comment", ""))
    try:
        score = parse_score(form.get("score"), opened.survey)
    except AnswerError:
        return form_page(web, state, token, opened, 400, error=TEXTS[lang]["score"],
                         comment=raw_comment[:COMMENT_LIMIT])
    try:
        comment = clean_comment(raw_comment)
    except AnswerError:
        return form_page(web, state, token, opened, 400, error=TEXTS[lang]["too_long"].format(limit=COMMENT_LIMIT),
                         score=score, comment=raw_comment[:COMMENT_LIMIT])
    try:
        changed = _store(web, opened, score, comment)
    except AnswerError:
        return refusal_page(state, Refusal(409, "closed"), lang)
    log.info("event=survey_answer task=%d survey=%s kind=%s changed=%s", opened.task_id, opened.survey.name,
             opened.survey.kind, changed)
    return RedirectResponse(f"{token}?saved=1", status_code=303)  # relative: right behind a proxy's path prefix too


def _store(web: Web, opened: Opened, score: int, comment: str | None) -> bool:
    """Record the answer; True when it changed an earlier one. Two first answers racing: the loser changes."""
    for attempt in (1, 2):
        try:
            with web.store.write() as session:
                answer = record_answer(session, opened.task_id, opened.survey, score, comment, opened.language,
                                       web.clock.now())
                return answer.changes > 0
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def survey_endpoint(request: Request) -> Response:
    web: Web = request.app.state.web
    state = _state(request)
    token = str(request.path_params["token"])
    if request.method != "POST":
        return await run_in_threadpool(show, web, state, request, token)
    form = await read_form(request)
    if form is None:
        return refusal_page(state, Refusal(400, "invalid"), negotiate(request.headers.get("accept-language")))
    return await run_in_threadpool(take, web, state, request, token, form)


async def read_form(request: Request) -> FormData | None:
    """The page's form (urlencoded, at most MAX_BODY bytes, however the body is sent); None for anything else."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        fields: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10))
    except (UnicodeDecodeError, ValueError):
        return None
    return FormData(fields)


def survey_routes() -> list[BaseRoute]:
    return [
        Route("/survey/{token:str}", survey_endpoint, methods=["GET", "POST"]),
        Mount("/survey-assets", StaticFiles(packages=[("listener.surveys", "static")]), name="survey-assets"),
    ]
