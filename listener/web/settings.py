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

    listen: str = "127.0.0.1:8080"  # host:port; put a TLS-terminating reverse proxy in front (docs/web.md)
    base_url: str | None = None  # e.g. "https://care.example.org": links in alerts; https makes cookies Secure
    auth: Literal["password", "header"] = "password"
    user_header: str = "X-Forwarded-User"  # auth = "header": the proxy's header naming the signed-in user …
    trusted_proxies: list[str] = Field(default_factory=list)  # … accepted only from these addresses/networks
    session_secret: str = "web-session-secret"  # NAME of the secret that signs cookies and ack links
    session_max_age: Duration = timedelta(hours=12)
    ack_link_valid: Duration = timedelta(hours=24)
    refresh: Duration = timedelta(seconds=15)  # how often an open queue page fetches new tasks
    timezone: ZoneName = "UTC"  # times on pages
    login_attempts: int = Field(default=5, ge=1, le=1000)  # failed sign-ins per name or address …
    login_lockout: Duration = timedelta(minutes=15)  # … within this window lock sign-in for the rest of it
    # Roles whose replies to the platforms wait for a lead's approval (listener/replies), e.g. ["agent"].
    reply_approval: list[Literal["agent", "lead"]] = Field(default_factory=list)

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
