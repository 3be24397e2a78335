"""Settings, served app and survey links for the survey tests."""

from __future__ import annotations

from typing import Any

from listener.clock import Clock
from listener.config import Settings, parse_settings
from listener.demo.servers import free_port
from listener.store.engine import Store
from listener.store.models import TaskRow
from listener.surveys.links import survey_link

CSAT = {"name": "csat", "kind": "csat", "question": {"en": "How satisfied are you with our answer?",
                                                      "de": "Wie zufrieden sind Sie mit unserer Antwort?"}}
NPS = {"name": "nps", "kind": "nps", "rules": ["praise"], "question": {
    "en": "How likely are you to recommend Acme to a friend?",
    "de": "Wie wahrscheinlich ist es, dass Sie Acme einem Freund empfehlen?"}}
CES = {"name": "effort", "kind": "ces", "rules": ["billing"], "comment": False, "question": {
    "en": "How easy was it to get your problem solved?", "de": "Wie einfach war es, Ihr Anliegen zu lösen?"}}


def survey_settings(db_url: str, surveys: list[dict[str, Any]] | None = None, **web: Any) -> Settings:
    port = free_port()
    raw: dict[str, Any] = {
        "database": {"url": db_url},
        "brand": [{"name": "Acme", "terms": ["Acme"]}, {"name": "Globex", "terms": ["Globex"]}],
        "rule": [{"name": name, "when": {"sentiment": "negative"}, "task": {"priority": "P2"}}
                 for name in ("negative", "praise", "billing")],
        "survey": surveys if surveys is not None else [CES, NPS, CSAT],
        "web": {"listen": f"127.0.0.1:{port}", "base_url": f"http://127.0.0.1:{port}", **web},
    }
    return parse_settings(raw)


def link_for(settings: Settings, store: Store, task_id: int, clock: Clock) -> str:
    with store.read() as session:
        return survey_link(settings, session.get_one(TaskRow, task_id), clock)
