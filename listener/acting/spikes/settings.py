"""`[[spike]]`: which brands are watched for spikes, how sure a spike must be, and who is told."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from listener.durations import Duration

Kind = Literal["volume", "negative"]


class SpikeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The watch's unique name, shown in its alerts.")
    brands: list[str] = Field(default_factory=list, description="Brands to watch; empty: every configured brand.")
    notify: list[str] = Field(default_factory=list, description="Channels that get the spike alert.")
    watch: list[Kind] = Field(default=["volume", "negative"], min_length=1,
                              description="What to watch: mention volume and/or the negative share.")
    window: Duration = Field(default=timedelta(hours=1),
                             description="The trailing window counted at each check ([daemon] spikes_every); 5m … 1d.")
    history_weeks: int = Field(default=8, ge=1, le=52,
                               description="The baseline: the same window 1 … N weeks earlier (median for volume, "
                                           "pooled share).")
    min_history_weeks: int = Field(default=3, ge=1, le=52,
                                   description="With fewer weeks since listener first fetched a mention of the brand, "
                                               "no verdict yet.")
    min_count: int = Field(default=10, ge=1,
                           description="A volume spike has at least this many mentions in the window.")
    min_negatives: int = Field(default=5, ge=1,
                               description="A negative-share spike has at least this many negative mentions in the "
                                           "window.")
    min_ratio: float = Field(default=2.0, ge=1.0,
                             description="At least this many times the expected volume, or the usual negative share.")
    max_p: float = Field(default=1e-3, gt=0.0, lt=1.0,
                         description="Tail probability (Poisson for volume, beta-binomial for share) the observation "
                                     "must fall below.")
    cooldown: Duration = Field(default=timedelta(hours=6),
                               description="No second alert for a brand and kind sooner than this, and none before a "
                                           "check has seen the spike end.")
    themes: int = Field(default=5, ge=0, le=20, description="Theme words named in the alert.")
    top_posts: int = Field(default=3, ge=0, le=20, description="Posts quoted in the alert.")

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
