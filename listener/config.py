"""The config file is the interface: one TOML file validated into typed settings.

Each component declares its settings next to its code (sources/*, nlp/settings.py, alerts/…); this module
assembles them and turns every validation problem into a message naming the exact key, e.g.
`source[1].every: expected a duration like '30s', '5m', '1h30m' or '2d', got '5 minutes'`.
Secrets never live here: see listener/secrets.py.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from listener.acting.hours import BusinessCalendar, HoursSettings, calendars
from listener.acting.rules import RuleSettings
from listener.acting.spikes.settings import SpikeSettings, every_as_cron
from listener.cluster.settings import ClusterSettings
from listener.delivery.channels import ChannelSettings
from listener.delivery.helpdesk.settings import HELPDESK_KINDS, check_helpdesk_references
from listener.delivery.settings import AlertsSettings, DeliverySettings
from listener.digest.settings import DigestSettings
from listener.durations import Duration
from listener.matching import BrandSettings
from listener.nlp.settings import NlpSettings, default_cache_dir
from listener.ops.settings import MetricsSettings, PrivacySettings, RetentionSettings
from listener.replies.platforms import can_reply, with_reply_keys
from listener.sources.kit import HttpSettings, SourceSettings, get_source_class
from listener.surveys.settings import ReportSettings, SurveySettings, check_surveys
from listener.web.settings import WebSettings

DEFAULT_CONFIG_PATHS = (Path("/etc/listener/listener.toml"), Path("listener.toml"))


class ConfigError(Exception):
    def __init__(self, path: Path | str, problems: list[tuple[str, str]]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {key}: {message}" for key, message in problems)
        super().__init__(f"config {path} is not valid:\n{lines}")


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="sqlite:///listener.db",
                     description="SQLAlchemy URL: `sqlite:///FILE` (WAL mode) or `postgresql+psycopg://user@host/db`; "
                                 "a PostgreSQL password comes from PGPASSWORD or ~/.pgpass, never from this file.")


class DaemonSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score_every: Duration = Field(default=timedelta(seconds=30),
                                  description="How often new mentions are scored; scoring also runs right after a poll "
                                              "stores new mentions.")
    deliver_every: Duration = Field(default=timedelta(seconds=15),
                                    description="How often due escalations and grouped messages are queued and the "
                                                "outbox delivered; also right after new tasks.")
    spikes_every: Duration = Field(default=timedelta(minutes=15),
                                   description="How often the [[spike]] watches are checked (only if there are any); "
                                               "must divide an hour or a day.")

    @field_validator("spikes_every")
    @classmethod
    def _spikes_every(cls, value: timedelta) -> timedelta:
        every_as_cron(value)  # runs as a periodic job: it must divide an hour or a day
        return value
    score_batch: int = Field(default=64, ge=1, le=10_000, description="Mentions scored per run of the scoring job.")
    cache_dir: Path | None = Field(default=None,
                                   description="Where converted model weights and graphs are cached; default "
                                               "$LISTENER_CACHE_DIR, else $CACHE_DIRECTORY (systemd), else "
                                               "~/.cache/listener.")


class LogSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description="Least severe level logged.")
    format: Literal["text", "json"] = Field(default="text",
                                            description="text: `event=polled source=… fetched=3` lines; json: one JSON "
                                                        "object per line.")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings,
                                       description="Where listener keeps mentions, scores, tasks and alerts.")
    http: HttpSettings = Field(default_factory=HttpSettings,
                               description="HTTP client settings shared by every source's requests.")
    brand: list[BrandSettings] = Field(default_factory=list,
                                       description="Brands and competitors to listen for; a mention that matches none "
                                                   "of them is dropped.")
    source: list[SourceSettings] = Field(default_factory=list,
                                         description="Where mentions come from: one table per feed, forum, platform or "
                                                     "review site, polled on its own schedule.")
    nlp: NlpSettings = Field(default_factory=NlpSettings,
                             description="The scoring model: language, sentiment, service categories and the "
                                         "negative-service flag.")
    channel: list[ChannelSettings] = Field(default_factory=list,
                                           description="Where alerts go: e-mail, a webhook or a chat tool through "
                                                       "Apprise. Rules, spikes and the digest name them.")
    hours: list[HoursSettings] = Field(default_factory=list,
                                       description="Named business calendars: opening hours, time zone and closed "
                                                   "days, for deadlines that count working time.")
    rule: list[RuleSettings] = Field(default_factory=list,
                                     description="Rules that turn a scored mention into a follow-up task and alerts.")
    spike: list[SpikeSettings] = Field(default_factory=list,
                                       description="Watches that alert when a brand's mention volume or negative share "
                                                   "rises far above its usual level.")
    daemon: DaemonSettings = Field(default_factory=DaemonSettings,
                                   description="How often `listener run` scores, delivers and checks spikes.")
    delivery: DeliverySettings = Field(default_factory=DeliverySettings,
                                       description="The alert outbox: retries, back-off and links in alerts.")
    alerts: AlertsSettings = Field(default_factory=AlertsSettings,
                                   description="The language and time zone of e-mail and chat alerts.")
    log: LogSettings = Field(default_factory=LogSettings, description="Log level and format.")
    digest: DigestSettings = Field(default_factory=DigestSettings,
                                   description="The weekly e-mail digest for marketing.")
    retention: RetentionSettings = Field(default_factory=RetentionSettings,
                                         description="How long mentions and closed tasks are kept before the daily "
                                                     "clean-up deletes them.")
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, description="How authors' names are stored.")
    cluster: ClusterSettings = Field(default_factory=ClusterSettings,
                                     description="Running several nodes on one PostgreSQL database (a job queue) or a "
                                                 "single node.")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="The Prometheus metrics endpoint.")
    web: WebSettings | None = Field(default=None,
                                    description="The care inbox web app; `listener run` serves it when this section is "
                                                "present.")
    survey: list[SurveySettings] = Field(
        default_factory=list,
        description="Satisfaction surveys: `{survey_url}` in a reply links the customer to one CSAT, CES or NPS "
                    "question on the care inbox (docs/satisfaction.md).")
    report: ReportSettings = Field(default_factory=ReportSettings,
                                   description="Satisfaction and sentiment recovery in `listener report`, the care "
                                               "inbox's report page and the digest.")

    @model_validator(mode="after")
    def _references(self) -> Settings:
        check_references(self)
        return self

    @property
    def cache_dir(self) -> Path:
        return self.daemon.cache_dir or default_cache_dir()

    def source_by_name(self, name: str) -> SourceSettings:
        for source in self.source:
            if source.name == name:
                return source
        raise KeyError(f"no source named {name!r}; configured: {', '.join(s.name for s in self.source)}")


def check_references(settings: Settings) -> None:
    """Names used across sections exist and are unique; each problem names its key."""
    _unique("brand", [b.name for b in settings.brand])
    _unique("source", [s.name for s in settings.source])
    _unique("channel", [c.name for c in settings.channel])
    _unique("rule", [r.name for r in settings.rule])
    _unique("hours", [h.name for h in settings.hours])
    channels = {c.name for c in settings.channel}
    brands = {b.name for b in settings.brand}
    for i, rule in enumerate(settings.rule):
        _check_rule_alerts(i, rule, channels, calendars(settings.hours))
        for name in rule.when.brands:
            if name not in brands:
                raise ValueError(f"rule[{i}].when.brands: no brand named {name!r}")
    _unique("spike", [s.name for s in settings.spike])
    for i, spike in enumerate(settings.spike):
        for name in spike.notify:
            if name not in channels:
                raise ValueError(f"spike[{i}].notify: no channel named {name!r}")
        for name in spike.brands:
            if name not in brands:
                raise ValueError(f"spike[{i}].brands: no brand named {name!r}")
        for key in ("neutral", "other"):  # deleted mentions would look like a quiet history: false spikes
            if getattr(settings.retention, key) < timedelta(weeks=spike.history_weeks + 1):
                raise ValueError(f"retention.{key}: keep mentions at least {spike.history_weeks + 1} weeks, as "
                                 f"spike[{i}] compares with the {spike.history_weeks} weeks before")
    _check_digest(settings)
    check_surveys(settings.survey, {r.name for r in settings.rule}, brands,
                  settings.web.base_url if settings.web else None, settings.web is not None)
    check_helpdesk_references(settings)
    settings.cluster.check_database(settings.database.url)
    for i, source in enumerate(settings.source):
        tied = getattr(source, "brand", None)
        if tied and tied not in brands:
            raise ValueError(f"source[{i}].brand: no brand named {tied!r}")


def _check_digest(settings: Settings) -> None:
    digest = settings.digest
    if digest.channel is not None:
        channel = next((c for c in settings.channel if c.name == digest.channel), None)
        if channel is None or channel.kind != "email":
            raise ValueError(f"digest.channel: no email channel named {digest.channel!r}")
    elif digest.recipients:
        raise ValueError("digest.channel: name the email channel whose SMTP server sends to digest.recipients")
    own = {b.name for b in settings.brand if not b.competitor}
    for name in digest.brands:
        if name not in own:
            raise ValueError(f"digest.brands: no own (non-competitor) brand named {name!r}")


def _check_rule_alerts(i: int, rule: RuleSettings, channels: set[str], hours: dict[str, BusinessCalendar]) -> None:
    """Channels and hours a rule names exist; binds the rule to its calendar."""
    routes = [("notify", rule.notify)] + [(f"escalate[{j}].notify", s.notify) for j, s in enumerate(rule.escalate)]
    if rule.outside_hours:
        routes.append(("outside_hours.notify", rule.outside_hours.notify))
    for key, names in routes:
        for name in names:
            if name not in channels:
                known = ", ".join(sorted(channels)) or "none"
                raise ValueError(f"rule[{i}].{key}: no channel named {name!r} (channels: {known})")
    if rule.task.hours is not None:
        if rule.task.hours not in hours:
            known = ", ".join(sorted(hours)) or "none; add an [[hours]] table"
            raise ValueError(f"rule[{i}].task.hours: no hours named {rule.task.hours!r} (hours: {known})")
        rule.task.bind(hours[rule.task.hours])
    elif rule.outside_hours is not None:
        raise ValueError(f"rule[{i}].outside_hours: needs task.hours (a rule without hours is never out of hours)")


def _unique(section: str, names: list[str]) -> None:
    seen = set()
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{section}[{i}].name: {name!r} is used twice")
        seen.add(name)


def _key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(top level)"


def _problems(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors():
        loc = prefix + tuple(error["loc"])
        # Tagged unions put the tag in the location (channel[0].email.to): drop it.
        if len(loc) > 2 and loc[0] == "channel" and loc[2] in ("email", "webhook", "apprise", *HELPDESK_KINDS):
            loc = loc[:2] + loc[3:]
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against config/listener.example.toml)"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        head = message.split(": ", 1)[0]
        if ": " in message and loc == () and " " not in head and ("[" in head or "." in head):
            key, message = message.split(": ", 1)  # cross-reference errors name their own key
            problems.append((key, message))
            continue
        problems.append((_key(loc), message))
    return problems


def _validate_sources(raw_sources: Any) -> tuple[list[SourceSettings], list[tuple[str, str]]]:
    if not isinstance(raw_sources, list):
        return [], [("source", "must be an array of tables: [[source]]")]
    sources, problems = [], []
    for i, raw in enumerate(raw_sources):
        if not isinstance(raw, dict):
            problems.append((f"source[{i}]", "must be a table"))
            continue
        kind = raw.get("kind")
        if not kind:
            problems.append((f"source[{i}].kind", "missing (e.g. kind = \"feed\")"))
            continue
        try:
            model = with_reply_keys(get_source_class(str(kind)).settings_model, str(kind))
        except KeyError as exc:
            problems.append((f"source[{i}].kind", str(exc.args[0])))
            continue
        if not can_reply(str(kind)) and (keys := [k for k in raw if k == "reply" or k.startswith("reply_")]):
            problems.append((f"source[{i}].{keys[0]}", f"{kind} has no write API listener can post replies through "
                             "(the care inbox keeps copy-and-open for it; docs/replies.md)"))
            continue
        try:
            sources.append(model.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_problems(exc, ("source", i)))
    return sources, problems


def parse_settings(raw: dict[str, Any], path: Path | str = "<config>") -> Settings:
    raw = dict(raw)
    sources, problems = _validate_sources(raw.pop("source", []))
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems(exc))
        raise ConfigError(path, problems) from None
    if problems:
        raise ConfigError(path, problems)
    settings.source = sources
    try:  # re-run cross-reference checks now that sources are in
        check_references(settings)
    except ValueError as exc:
        key, _, message = str(exc).partition(": ")
        raise ConfigError(path, [(key, message)]) from None
    return settings


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("LISTENER_CONFIG"):
        return Path(os.environ["LISTENER_CONFIG"])
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.exists():
            return candidate
    raise ConfigError("(none)", [("--config", "no config file given: use --config FILE or set LISTENER_CONFIG")])


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    config_path = find_config(path)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(config_path, [("(file)", "does not exist")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(config_path, [("(syntax)", str(exc))]) from None
    return parse_settings(raw, config_path)
