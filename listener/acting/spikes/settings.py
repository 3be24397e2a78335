"""`[[spike]]`: which brands are watched for spikes, how sure a spike must be, and who is told."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from listener.durations import Duration

Kind = Literal["volume", "negative"]


class SpikeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    brands: list[str] = Field(default_factory=list)  # empty: every configured brand
    notify: list[str] = Field(default_factory=list)
    watch: list[Kind] = Field(default=["volume", "negative"], min_length=1)
    window: Duration = timedelta(hours=1)  # the trailing window counted at each check ([daemon] spikes_every)
    history_weeks: int = Field(default=8, ge=1, le=52)  # the same window 1 … N weeks earlier is the baseline
    min_history_weeks: int = Field(default=3, ge=1, le=52)  # fewer weeks of listening: no verdict yet
    min_count: int = Field(default=10, ge=1)  # mentions in the window, for a volume spike
    min_negatives: int = Field(default=5, ge=1)  # negative mentions in the window, for a negative-share spike
    min_ratio: float = Field(default=2.0, ge=1.0)  # observed / expected volume, and share / usual share
    max_p: float = Field(default=1e-3, gt=0.0, lt=1.0)  # Poisson (volume) / beta-binomial (share) tail probability
    cooldown: Duration = timedelta(hours=6)  # no second alert for a brand and kind sooner than this …
    # … and none before a check has seen the spike end (re-arm)
    themes: int = Field(default=5, ge=0, le=20)
    top_posts: int = Field(default=3, ge=0, le=20)

    @model_validator(mode="after")
    def _history(self) -> SpikeSettings:
        if self.min_history_weeks > self.history_weeks:
            raise ValueError("min_history_weeks cannot exceed history_weeks")
        if self.window > timedelta(days=1) or self.window < timedelta(minutes=5):
            raise ValueError("window must be between 5m and 1d")
        return self


def every_as_cron(every: timedelta) -> str:
    """`[daemon] spikes_every` as the crontab the periodic-job registry runs: it must divide an hour or a day."""
    minutes = every.total_seconds() / 60
    if minutes.is_integer() and 1 <= minutes < 60 and 60 % minutes == 0:
        return f"*/{int(minutes)} * * * *" if minutes > 1 else "* * * * *"
    hours = minutes / 60
    if hours.is_integer() and 1 <= hours <= 24 and 24 % hours == 0:
        return {1: "0 * * * *", 24: "0 0 * * *"}.get(int(hours), f"0 */{int(hours)} * * *")
    raise ValueError(f"must divide an hour or a day (1m, 5m, 15m, 30m, 1h, 2h, 6h, 1d …), got {every}")
