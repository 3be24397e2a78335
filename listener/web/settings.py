"""`[web]`: the care inbox's settings (listener/web)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from listener.durations import Duration
from listener.timezones import ZoneName


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listen: str = Field(default="127.0.0.1:8080",
                        description="host:port; keep it on loopback and put a TLS-terminating reverse proxy in front "
                                    "(docs/web.md).")
    base_url: str | None = Field(default=None,
                                 description="The inbox's public URL, e.g. \"https://care.example.org\": links in "
                                             "alerts; https makes cookies Secure.")
    auth: Literal["password", "header"] = Field(default="password",
                                                description="\"password\": listener's own sign-in; \"header\": the "
                                                            "reverse proxy signs users in and names them in "
                                                            "user_header.")
    user_header: str = Field(default="X-Forwarded-User",
                             description="With auth = \"header\": the proxy's header naming the signed-in user (users "
                                         "must exist: `listener users add NAME --no-password`) …")
    trusted_proxies: list[str] = Field(default_factory=list,
                                       description="… accepted only from these addresses or networks, e.g. "
                                                   "[\"127.0.0.1\", \"10.0.0.0/8\"]; also the proxies whose "
                                                   "X-Forwarded-For names the client for sign-in throttling: set it "
                                                   "behind nginx or Caddy (`listener doctor` warns when it is "
                                                   "missing).")
    session_secret: str = Field(default="web-session-secret",
                                description="Name of the secret that signs cookies and acknowledge links "
                                            "($LISTENER_WEB_SESSION_SECRET).")
    session_max_age: Duration = Field(default=timedelta(hours=12), description="A sign-in lasts this long.")
    ack_link_valid: Duration = Field(default=timedelta(hours=24),
                                     description="The acknowledge link in an alert works this long.")
    refresh: Duration = Field(default=timedelta(seconds=15),
                              description="How often an open queue page fetches new tasks.")
    timezone: ZoneName = Field(default="UTC", description="IANA time zone of times shown on pages.")
    login_attempts: int = Field(default=5, ge=1, le=1000,
                                description="Failed sign-ins per account from one client (listener/web/throttle.py) …")
    login_client_attempts: int = Field(default=20, ge=1, le=10_000,
                                       description="… per client address, any account …")
    login_account_attempts: int = Field(default=50, ge=1, le=100_000,
                                        description="… per account from browsers that never signed in to it …")
    login_lockout: Duration = Field(default=timedelta(minutes=15),
                                    description="… within this window; past a limit one attempt is let through after "
                                                "a delay that doubles, up to this.")
    login_delay: Duration = Field(default=timedelta(seconds=1), description="The first delay past a limit.")
    login_hashes: int = Field(default=2, ge=1, le=64,
                              description="Passwords checked at once (Argon2 takes 64 MiB each); further sign-ins "
                                          "wait their turn.")
    reply_approval: list[Literal["agent", "lead"]] = Field(
        default_factory=list,
        description="Roles whose replies to the platforms wait for a lead's approval (listener/replies), e.g. "
                    "[\"agent\"].")
    survey_answers: int = Field(default=10, ge=1, le=10_000,
                                description="The public survey page (listener/surveys) takes this many answers (and "
                                            "changes) per client address and per link …")
    survey_answers_window: Duration = Field(default=timedelta(hours=1),
                                            description="… within this window; then 429 (docs/satisfaction.md).")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port such as 127.0.0.1:8080, got {value!r}")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"expected an http(s) URL such as https://care.example.org, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value


    @model_validator(mode="after")
    def _header_needs_proxies(self) -> WebSettings:
        if self.auth == "header" and not self.trusted_proxies:
            raise ValueError("auth = \"header\" needs trusted_proxies (the reverse proxy's addresses)")
        return self

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def secure_cookies(self) -> bool:
        return bool(self.base_url and self.base_url.startswith("https://"))

    def is_trusted_proxy(self, address: str | None) -> bool:
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.trusted_proxies)
