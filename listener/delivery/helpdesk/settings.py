"""`[[channel]]` tables of kind zendesk, freshdesk, zammad and chatwoot: the care team's helpdesk as a channel.

Only plain settings live here (listener/delivery/channels reads them into its tagged union); the channel itself is
listener/delivery/helpdesk/handoff.py. Secrets are named, never written: `token_secret` and `webhook_secret` name a
systemd credential or a LISTENER_* environment variable (listener/secrets.py).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.acting.spikes.settings import every_as_cron
from listener.durations import Duration

if TYPE_CHECKING:
    from listener.config import Settings

HELPDESK_KINDS = ("zendesk", "freshdesk", "zammad", "chatwoot")
URGENCIES = ("P1", "P2", "P3")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class HelpdeskSettings(BaseModel):
    """What every helpdesk channel has: where it is, how often its open tickets are read back, its webhook."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The channel's name, as rules' `notify` lists it.")
    url: str = Field(description="The helpdesk's base URL, e.g. https://acme.zendesk.com.")
    token_secret: str = Field(min_length=1, description="Names the secret holding the API token or key.")
    timeout: Duration = Field(default=timedelta(seconds=15), description="Timeout of one API request.")
    poll_every: Duration = Field(default=timedelta(minutes=5),
                                 description="How often open hand-offs are read back (status, public answers).")
    webhook_secret: str | None = Field(
        default=None, description="Names the secret the helpdesk's webhook proves itself with (signing key, or "
                                  "Freshdesk's token); no webhook if unset.")
    webhook_max_age: Duration = Field(default=timedelta(minutes=5),
                                      description="A signed webhook older than this is a replay and is refused.")
    external_id_prefix: str = Field(
        default="listener", description="Our key on the helpdesk: \"<prefix>-task-<id>\" (ticket) and "
                                        "\"<prefix>-contact:<platform>:<account>\" (requester); give each listener "
                                        "installation sharing one helpdesk its own prefix.")
    tags: list[str] = Field(default_factory=list,
                            description="Extra tags on every ticket, besides \"listener\" and the categories.")
    priorities: dict[str, str] = Field(default_factory=dict,
                                       description="Task priority (P1, P2, P3) → the helpdesk's word; defaults per "
                                                   "kind.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"expected the helpdesk's http(s) base URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("poll_every")
    @classmethod
    def _poll_every(cls, value: timedelta) -> timedelta:
        every_as_cron(value)
        return value

    @field_validator("external_id_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError(f"lower-case letters, digits and '-' (at most 40), got {value!r}")
        return value

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in URGENCIES:
                raise ValueError(f"keys are task priorities {', '.join(URGENCIES)}, got {key!r}")
        return value

    @property
    def poll_cron(self) -> str:
        return every_as_cron(self.poll_every)


class ZendeskSettings(HelpdeskSettings):
    kind: Literal["zendesk"] = Field(description="Zendesk Support (REST API v2).")
    email: str = Field(min_length=3, description="The agent the API token belongs to (HTTP Basic "
                                                 "\"{email}/token:{token}\").")


class FreshdeskSettings(HelpdeskSettings):
    kind: Literal["freshdesk"] = Field(description="Freshdesk (REST API v2).")
    source: int = Field(default=2, ge=1, description="The ticket's source (2 = Portal); Freshdesk has none for "
                                                     "social posts.")


class ZammadSettings(HelpdeskSettings):
    kind: Literal["zammad"] = Field(description="Zammad (REST API v1).")
    group: str = Field(min_length=1, description="The group new tickets go to (Zammad requires one).")
    closed_states: list[str] = Field(default_factory=lambda: ["closed"],
                                     description="Ticket state names that resolve the task.")


class ChatwootSettings(HelpdeskSettings):
    kind: Literal["chatwoot"] = Field(description="Chatwoot (application API).")
    account_id: int = Field(ge=1, description="The Chatwoot account's id.")
    inbox_id: int = Field(ge=1, description="An API-channel inbox: the conversations listener opens land there.")


AnyHelpdeskSettings = ZendeskSettings | FreshdeskSettings | ZammadSettings | ChatwootSettings
HELPDESK_SETTINGS = (ZendeskSettings, FreshdeskSettings, ZammadSettings, ChatwootSettings)


def is_helpdesk(settings: object) -> bool:
    return isinstance(settings, HelpdeskSettings)


def check_helpdesk_references(settings: Settings) -> None:
    """A helpdesk channel opens one ticket per task: spikes and grouped messages (about no single task) cannot go
    there. Each problem names its key, as config.check_references does."""
    helpdesks = {c.name for c in settings.channel if is_helpdesk(c)}
    for i, spike in enumerate(settings.spike):
        for name in spike.notify:
            if name in helpdesks:
                raise ValueError(f"spike[{i}].notify: {name!r} is a helpdesk channel; it takes task alerts only")
    for i, rule in enumerate(settings.rule):
        if rule.group is not None:
            for name in rule.notify:
                if name in helpdesks:
                    raise ValueError(f"rule[{i}].notify: {name!r} is a helpdesk channel, which opens one ticket per "
                                     "task; a rule with `group` sends one message per group (drop `group`, or "
                                     "notify the helpdesk from a rule without it)")
