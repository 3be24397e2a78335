"""Settings of the operator's surface: `[metrics]`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MetricsSettings(BaseModel):
    """`[metrics]`: where Prometheus scrapes and probes reach the daemon."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    listen: str = Field(default="127.0.0.1:9464",
                        description="host:port to serve them on (\"[::1]:9464\" for IPv6); port 0 picks a free port "
                                    "(logged at start).")

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
