"""Sentiment recovery on a seeded history, checked exactly on SQLite and PostgreSQL: what each answered customer
posted next within the window — the first scored post decides, the team's label before the model, the window's
end counts to the second, pending tasks wait, dismissed and unanswered tasks stay out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from listener.surveys.figures import Figures, first_response, grouped
from listener.surveys.recovery import outcomes
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.contacts.support import platform
from tests.surveys.history import History

DAY = timedelta(days=1)
WINDOW = timedelta(days=14)


def seed(store: Store, clock: FakeClock) -> dict[str, int]:
    """Thirteen customers, each with one complaint on the forum; returns task ids by customer."""
    h = History(store, clock)
    forum, fedi = platform("discourse", "forum", clock), platform("mastodon", "fedi", clock)
    t0 = clock.now()
    r = t0 + timedelta(hours=2)  # the first response, for most
    tasks: dict[str, int] = {}

    def complaint(who: str, rule: str = "negative", agent: str | None = "alice", brand: str = "Acme",
                  categories: tuple[str, ...] = ("delivery",), **task: object) -> None:
        mention = h.post(forum, who, t0, "negative", brand=brand, categories=categories)
        tasks[who] = h.task(mention, rule, t0, assignee=agent, **task)  # type: ignore[arg-type]

    complaint("anna", responded=r)
    h.post(forum, "anna", r + 2 * DAY, "positive")  # the next post decides …
    h.post(forum, "anna", r + 5 * DAY, "negative")  # … not a later one
    complaint("ben", rule="billing", agent="bob", categories=("billing",), responded=r)
    h.post(forum, "ben", r + timedelta(hours=1), "negative")
    complaint("carl", responded=r)  # says nothing more
    complaint("dora", agent="bob", responded=r)
    h.post(forum, "dora", r + WINDOW + DAY, "positive")  # too late
    complaint("emil", brand="Globex", responded=r)
    h.post(fedi, "emil", r + DAY, "positive")  # another platform: not the same contact (yet)
    complaint("fay", status="dismissed", resolved=r)  # a false alarm: out
    h.post(forum, "fay", r + DAY, "negative")
    complaint("gus")  # never answered: out
    h.post(forum, "gus", r + DAY, "negative")
    complaint("jo", rule="billing", categories=("billing",), responded=r)
    h.post(forum, "jo", r + timedelta(hours=1), None)  # not scored yet: waits
    h.post(forum, "jo", r + timedelta(hours=2), "negative")
    complaint("kai", agent=None, responded=r)
    h.post(forum, "kai", r + DAY, "negative", label="positive")  # the care team's verdict wins
    complaint("lu", resolved=r)  # resolved without a separate response step
    h.post(forum, "lu", r + DAY, "negative")
    complaint("mo", brand="Globex", responded=r)
    h.post(forum, "mo", r, "negative")  # at the very second of the answer: not after it
    h.post(forum, "mo", r + WINDOW, "neutral")  # the window's last second counts
    complaint("nora", responded=r)
    h.post(forum, "nora", r + WINDOW + timedelta(seconds=1), "negative")  # one second late
    clock.advance(timedelta(days=30))
    recent = clock.now() - timedelta(days=3)
    complaint("hana", responded=recent)  # answered 3 days ago, nothing yet: pending
    complaint("ida", agent="bob", responded=recent)
    h.post(forum, "ida", recent + DAY, "neutral")  # decided before its window ends
    return tasks


@pytest.fixture
def history(database_url: str) -> tuple[Store, FakeClock, dict[str, int]]:
    store, clock = Store(database_url), FakeClock()
    upgrade(store)
    return store, clock, seed(store, clock)


def test_each_answered_task_gets_what_its_customer_posted_next(
        history: tuple[Store, FakeClock, dict[str, int]]) -> None:
    from sqlalchemy import select

    from listener.store.models import TaskRow

    store, clock, tasks = history
    first = first_response()
    answered = select(TaskRow.id.label("task_id"), TaskRow.mention_id, first.label("at")).where(
        first.is_not(None), TaskRow.status != "dismissed").subquery()
    with store.read() as session:
        found = dict(session.execute(select(outcomes(answered, WINDOW, clock.now()))).all())
    by_name = {name: found.get(task_id) for name, task_id in tasks.items()}
    assert by_name == {
        "anna": "recovered", "ben": "negative_again", "carl": "silent", "dora": "silent", "emil": "silent",
        "fay": None, "gus": None, "jo": "negative_again", "kai": "recovered", "lu": "negative_again",
        "mo": "recovered", "nora": "silent", "hana": "pending", "ida": "recovered",
    }
    store.dispose()


def test_recovery_shares_per_rule_agent_brand_and_category(
        history: tuple[Store, FakeClock, dict[str, int]]) -> None:
    store, clock, _ = history
    with store.read() as session:
        figures = grouped(session, None, clock.now(), [clock.now() - timedelta(days=40)], None, WINDOW)
    overall = figures.overall
    assert (overall.tasks, overall.answered) == (14, 12)
    assert (overall.silent, overall.recovered, overall.negative_again, overall.pending) == (4, 4, 3, 1)
    assert overall.decided == 11
    assert (overall.share("recovered"), overall.share("negative_again"), overall.share("silent")) == \
        (4 / 11, 3 / 11, 4 / 11)

    def outcome(f: Figures) -> tuple[int, int, int, int]:
        return f.silent, f.recovered, f.negative_again, f.pending

    assert {k: outcome(v) for k, v in figures.per_rule.items()} == {"billing": (0, 0, 2, 0),
                                                                     "negative": (4, 4, 1, 1)}
    assert {k: outcome(v) for k, v in figures.per_agent.items()} == {
        "(unassigned)": (0, 1, 0, 0), "alice": (3, 2, 2, 1), "bob": (1, 1, 1, 0)}
    assert {k: outcome(v) for k, v in figures.per_brand.items()} == {"Acme": (3, 3, 3, 1), "Globex": (1, 1, 0, 0)}
    assert {k: outcome(v) for k, v in figures.per_category.items()} == {"billing": (0, 0, 2, 0),
                                                                         "delivery": (4, 4, 1, 1)}
    assert list(figures.per_week) == [0] and outcome(figures.per_week[0]) == outcome(overall)
    store.dispose()


def test_the_same_contact_is_every_identity_an_agent_linked(database_url: str) -> None:
    """Posts on another platform count once an agent has linked the two identities as one contact, and no longer
    once the link is undone."""
    from sqlalchemy import select

    from listener.contacts.linking import link, unlink
    from listener.contacts.lookup import contact_of_mention
    from listener.store.models import TaskRow

    store, clock = Store(database_url), FakeClock()
    upgrade(store)
    h = History(store, clock)
    forum, fedi = platform("discourse", "forum", clock), platform("mastodon", "fedi", clock)
    complaint = h.post(forum, "emil", clock.now(), "negative")
    task_id = h.task(complaint, "negative", clock.now(), responded=clock.now() + timedelta(hours=1))
    elsewhere = h.post(fedi, "emil_on_fedi", clock.now() + DAY, "positive")
    clock.advance(timedelta(days=20))
    first = first_response()
    answered = select(TaskRow.id.label("task_id"), TaskRow.mention_id, first.label("at")).where(
        first.is_not(None)).subquery()

    def outcome() -> str:
        with store.read() as session:
            return dict(session.execute(select(outcomes(answered, WINDOW, clock.now()))).all())[task_id]

    assert outcome() == "silent"
    with store.write() as session:
        keep, merge = contact_of_mention(session, complaint), contact_of_mention(session, elsewhere)
        assert keep is not None and merge is not None and keep.id != merge.id
        made = link(session, keep.id, merge.id, "lea", clock.now(), reason="same person")
    assert outcome() == "recovered"
    with store.write() as session:
        unlink(session, made.id, "lea", clock.now())
    assert outcome() == "silent"
    store.dispose()


@needs_chromium
def test_the_report_page_shows_the_recovery_of_the_seeded_history(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The care inbox's report page in Chromium (German) over the seeded history, with a few answers: the figures
    as computed above, in the page; a screenshot to look at."""
    from playwright.sync_api import sync_playwright

    from listener.surveys.models import SurveyAnswer
    from tests.surveys.support import survey_settings
    from tests.web_support import PASSWORD, SECRET_ENV, add_users, serving

    monkeypatch.setenv(SECRET_ENV, "report-page-secret")
    settings = survey_settings(f"sqlite:///{tmp_path / 'l.db'}")
    store, clock = Store(settings.database.url), FakeClock()
    upgrade(store)
    tasks = seed(store, clock)
    add_users(store, clock, lea="lead")
    with store.write() as session:
        for name, kind, score in (("anna", "csat", 5), ("ben", "csat", 2), ("carl", "csat", 4), ("kai", "nps", 10),
                                  ("mo", "nps", 6), ("ida", "ces", 6)):
            session.add(SurveyAnswer(task_id=tasks[name], survey=kind, kind=kind, score=score, comment=None,
                                     language="de", answered_at=clock.now(), updated_at=clock.now(), changes=0))
    with serving(settings, store, clock) as base, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(locale="de-DE", viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/login")
        page.get_by_label("Name").fill("lea")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.goto(f"{base}/report?days=40")
        rows = page.locator("table.satisfaction tbody tr")
        cells = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
        # answered 12, invited = answered by survey (no reply carried a link here): 6; CSAT 2 of 3; CES 6;
        # NPS (1 promoter − 1 detractor) / 2 = 0; recovery 4 silent, 4 recovered, 3 negative of 11, 1 pending
        assert cells == ["12", "6", "6", "100 %", "67 %", "6", "0", "1 / 0 / 1", "36 %", "36 %", "27 %", "1"], cells
        page.screenshot(path=str(screenshot_folder(tmp_path) / "report-recovery-de.png"), full_page=True)
        browser.close()
    store.dispose()
