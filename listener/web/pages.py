"""The other pages: mention search, sources' health, the response-time report, reply templates, silences."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from listener.acting.report import response_report
from listener.acting.silences import SilenceError, active_silences, add_silence, expire_silence
from listener.domain import SENTIMENTS
from listener.durations import parse_duration
from listener.nlp.categories import CATEGORIES
from listener.store.models import MentionBrand, MentionRow, ReplyTemplate, ScoreRow, SourceRow, TaskRow, UserRow
from listener.surveys.report import satisfaction_report
from listener.web import params
from listener.web.app import Web, formatter, page, refuse, render
from listener.web.i18n import LANGUAGES
from listener.web.users import can_edit_silences, can_edit_templates

SEARCH_PAGE = 50
MAX_SILENCE = timedelta(days=366)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@page()
def mentions_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    q = request.query_params
    brand, text, sentiment = params.text(q.get("brand"), 200), params.text(q.get("q"), 500).strip(), \
        params.text(q.get("sentiment"), 20)
    since, until = params.day(q.get("since"), "since"), params.day(q.get("until"), "until")
    before = params.whole(q.get("before"), "before", 0, 1, params.MAX_ID) or None
    query = select(MentionRow).order_by(MentionRow.id.desc()).limit(SEARCH_PAGE)
    if brand:
        query = query.where(MentionRow.id.in_(select(MentionBrand.mention_id).where(MentionBrand.brand == brand)))
    if text:
        pattern = f"%{_escape_like(text)}%"
        query = query.where(or_(MentionRow.text.ilike(pattern, escape="\\"),
                                MentionRow.title.ilike(pattern, escape="\\")))
    if sentiment in SENTIMENTS:
        query = query.join(ScoreRow, ScoreRow.mention_id == MentionRow.id).where(ScoreRow.sentiment == sentiment)
    if since:
        query = query.where(MentionRow.published_at >= since)
    if until:
        query = query.where(MentionRow.published_at < until + timedelta(days=1))
    if before:
        query = query.where(MentionRow.id < before)
    with web.store.read() as session:
        rows = list(session.scalars(query))
        tasks = {t.mention_id: t for t in session.scalars(
            select(TaskRow).where(TaskRow.mention_id.in_([m.id for m in rows])))} if rows else {}
        return render(web, request, user, "mentions.html", rows=rows, tasks=tasks,
                      brands=[b.name for b in web.settings.brand], sentiments=SENTIMENTS,
                      rules=[r.name for r in web.settings.rule],
                      form={"brand": brand, "q": text, "sentiment": sentiment,
                            "since": f"{since:%Y-%m-%d}" if since else "",
                            "until": f"{until:%Y-%m-%d}" if until else ""},
                      more=rows[-1].id if len(rows) == SEARCH_PAGE else None)


@page()
def sources_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    with web.store.read() as session:
        stored = {s.name: s for s in session.scalars(select(SourceRow))}
        rows = [(cfg, stored.get(cfg.name)) for cfg in web.settings.source]
        return render(web, request, user, "sources.html", rows=rows, now=web.clock.now())


@page()
def report_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    days = params.whole(request.query_params.get("days"), "days", 7, 1, 366)
    now = web.clock.now()
    with web.store.read() as session:
        figures = response_report(session, web.settings.rule, now, now - timedelta(days=days))
        satisfaction = satisfaction_report(session, web.settings, now, now - timedelta(days=days))
    rows = [("all tasks", None, figures.overall)] + [("rule", k, v) for k, v in figures.per_rule.items()] + \
        [("agent", k, v) for k, v in figures.per_agent.items()]
    return render(web, request, user, "report.html", rows=rows, backlog=figures.backlog_by_age, days=days,
                  satisfaction=satisfaction)


@page()
def templates_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    edit_id = params.ident(request.query_params.get("edit"))
    with web.store.read() as session:
        rows = list(session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.category, ReplyTemplate.language,
                                                                   ReplyTemplate.name)))
    editing = next((r for r in rows if r.id == edit_id), None)
    return render(web, request, user, "templates.html", rows=rows, editing=editing, categories=CATEGORIES,
                  languages=LANGUAGES, error=None)


@page(can_edit_templates)
def template_save(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    assert form is not None
    name, body = params.text(form.get("name"), 200).strip(), params.text(form.get("body"), 10_000).strip()
    category, language = params.text(form.get("category"), 50), params.text(form.get("language"), 10)
    if not name or not body or (category and category not in CATEGORIES) or language not in LANGUAGES:
        return refuse(web, request, user, 400, "A template needs a name, a text, a known category and language.")
    template_id = params.ident(str(form.get("id", "")))
    with web.store.write() as session:
        row = session.get(ReplyTemplate, template_id) if template_id else None
        if row is None:
            row = ReplyTemplate(name=name, category=category, language=language, body=body)
            session.add(row)
        row.name, row.category, row.language, row.body = name, category, language, body
        row.updated_by, row.updated_at = user.name, web.clock.now()
    return RedirectResponse("/templates", status_code=303)


@page(can_edit_templates)
def template_delete(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    with web.store.write() as session:
        row = session.get(ReplyTemplate, params.path_id(request, "template_id", "There is no template #{id}."))
        if row is not None:
            session.delete(row)
    return RedirectResponse("/templates", status_code=303)


@page()
def silences_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    now = web.clock.now()
    with web.store.read() as session:
        active = active_silences(session, now)
    return render(web, request, user, "silences.html", silences=active, brands=[b.name for b in web.settings.brand],
                  categories=CATEGORIES, rules=[r.name for r in web.settings.rule], now=now)


@page(can_edit_silences)
def silence_add(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    assert form is not None
    try:
        duration = parse_duration(params.text(form.get("duration"), 50))
        if duration > MAX_SILENCE:
            raise SilenceError("a silence lasts at most a year")
        with web.store.write() as session:
            add_silence(session, web.clock.now(), duration, brand=params.text(form.get("brand"), 200) or None,
                        category=params.text(form.get("category"), 100) or None,
                        rule=params.text(form.get("rule"), 200) or None,
                        note=params.text(form.get("note"), 1000).strip() or None, created_by=user.name)
    except (ValueError, OverflowError, SilenceError) as exc:
        return refuse(web, request, user, 400, str(exc))
    return RedirectResponse("/silences", status_code=303)


@page(can_edit_silences)
def silence_end(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    try:
        with web.store.write() as session:
            expire_silence(session, params.path_id(request, "silence_id", "There is no silence #{id}."),
                           web.clock.now())
    except SilenceError as exc:
        return refuse(web, request, user, 404, str(exc))
    return RedirectResponse("/silences", status_code=303)


DIGEST_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@page()
def digest_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    """The weekly digest as marketing will receive it (last complete week, or ?week=2026-W48): the digest's own
    HTML with its charts inline, served under a policy that allows no script at all."""
    from listener.digest.compose import make_digest
    from listener.digest.period import PeriodError, choose_period

    settings = web.settings.digest
    try:
        period = choose_period(params.text(request.query_params.get("week"), 20) or None, None, None,
                               settings.timezone, web.clock.now())
    except (PeriodError, ValueError, OverflowError) as exc:
        return refuse(web, request, user, 400, str(exc))
    lang = formatter(web, request, user).language
    digest = make_digest(web.store, web.settings, period, lang=lang)
    return HTMLResponse(digest.html(inline_images=True), headers={"content-security-policy": DIGEST_CSP})


def page_routes() -> list[BaseRoute]:
    return [
        Route("/mentions", mentions_page),
        Route("/sources", sources_page),
        Route("/report", report_page),
        Route("/templates", templates_page),
        Route("/templates/save", template_save, methods=["POST"]),
        Route("/templates/{template_id:int}/delete", template_delete, methods=["POST"]),
        Route("/silences", silences_page),
        Route("/digest", digest_page),
        Route("/silences/add", silence_add, methods=["POST"]),
        Route("/silences/{silence_id:int}/end", silence_end, methods=["POST"]),
    ]
