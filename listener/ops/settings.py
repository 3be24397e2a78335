"""Settings of the operator's surface: `[metrics]`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class MetricsSettings(BaseModel):
    """`[metrics]`: where Prometheus scrapes and probes reach the daemon."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    listen: str = "127.0.0.1:9464"  # host:port ([::1]:9464 for IPv6); port 0 picks a free port (logged)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_address(value)
        return value


def split_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected host:port like '127.0.0.1:9464', got {value!r}")
    return host.strip("[]"), int(port)
