"""Spike detection on a simulated year of seasonal traffic: recall of injected bursts, false alarms without them.

    python bench/bench_spikes.py                     # 5 brands per traffic level, 52 weeks, seed 1
    python bench/bench_spikes.py --brands 10 --seed 2
    python bench/bench_spikes.py --store 1000000       # also time one check's SQL count on a 1M-mention store

Traffic per brand and hour: Poisson counts around a rate with daily seasonality (quiet nights, an afternoon
peak), weekly seasonality (quieter weekends) and 20 % growth over the year; 15 % of mentions negative
(binomial). Three traffic levels: 1000, 250 and 60 mentions a day. Into a copy of that traffic, bursts are
injected about twice a month per brand at random hours (night ones too): for `--burst-hours` hours the volume is
3× normal ("volume" bursts) or, separately, the negative share is 3× normal at unchanged volume ("negative").

Both detectors are checked every hour on the hour just ended, from the week `min_history_weeks` on (a new
install), with the same cooldown and re-arm (`listener.acting.spikes.detect.Arm`):
  * listener — `listener.acting.spikes.detect.evaluate` with the default `[[spike]]` settings: the same hour of
    the week in up to 8 previous weeks, median/MAD + Poisson tail (volume), pooled share + beta-binomial tail;
  * naive — a fixed threshold over the trailing 24-hour mean: count ≥ min_ratio × mean and ≥ min_count
    (share ≥ min_ratio × trailing share and negatives ≥ min_negatives for "negative").
A burst is found when an alert fires for a window that overlaps it; recall is also given for "busy" bursts, those
over at least 10 normal mentions an hour (3× of 3 mentions at night cannot be told from noise in one hour without
paging for noise every week). False alarms are counted on the same traffic without bursts, per brand per month
(30 days), and in the run with bursts as alerts outside every burst.

With --store N (default 200000; 0 skips it): a SQLite store of N mentions spread over a year across three brands,
without ANALYZE statistics, and the wall time of one check's count (`counts.window_counts`: the trailing hour and
the same hour in 8 earlier weeks, for all three brands) against a baseline measured in the same run: reading
every mention time of the brands and counting the windows in Python.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from suite import Figure, add_summary_option, write_summary  # noqa: E402

from listener.acting.spikes.counts import seen_at, window_counts, windows  # noqa: E402
from listener.acting.spikes.detect import Arm, Counts, evaluate  # noqa: E402
from listener.acting.spikes.settings import Kind, SpikeSettings  # noqa: E402
from listener.store.engine import Store, upgrade  # noqa: E402
from listener.store.models import MentionBrand, MentionRow, SourceRow  # noqa: E402

HOURS_PER_WEEK = 168
LEVELS = {"large (1000/day)": 1000.0, "medium (250/day)": 250.0, "small (60/day)": 60.0}
NEGATIVE_SHARE = 0.15
BUSY = 10.0  # recall is also reported for bursts over at least this many normal mentions an hour
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def seasonal_rate(per_day: float, weeks: int) -> np.ndarray:
    hours = np.arange(weeks * HOURS_PER_WEEK)
    hour_of_day = hours % 24
    day_of_week = (hours // 24) % 7
    daily = 0.2 + 1.6 * np.exp(-(((hour_of_day - 14.5) / 4.5) ** 2))  # quiet nights, afternoon peak
    weekly = np.where(day_of_week >= 5, 0.65, 1.0)
    growth = 1.0 + 0.2 * hours / len(hours)
    shape = daily * weekly * growth
    return per_day / 24.0 * shape / shape.mean()


@dataclass
class Traffic:
    mentions: np.ndarray
    negatives: np.ndarray
    bursts: list[tuple[int, int]] = field(default_factory=list)  # [start hour, end hour)
    busy: list[bool] = field(default_factory=list)  # per burst: normal traffic ≥ BUSY mentions an hour


def simulate(rate: np.ndarray, rng: np.random.Generator, burst: Kind | None, burst_hours: int,
             first_hour: int) -> Traffic:
    normal, rate = rate, rate.copy()
    share = np.full(len(rate), NEGATIVE_SHARE)
    bursts: list[tuple[int, int]] = []
    if burst:
        hour = first_hour + int(rng.integers(0, 24 * 15))
        while hour + burst_hours < len(rate):
            bursts.append((hour, hour + burst_hours))
            if burst == "volume":
                rate[hour:hour + burst_hours] *= 3.0
            else:
                share[hour:hour + burst_hours] *= 3.0
            hour += int(rng.integers(24 * 7, 24 * 23))  # about two a month
    mentions = rng.poisson(rate)
    negatives = rng.binomial(mentions, share)
    return Traffic(mentions, negatives, bursts, [bool(normal[a:b].min() >= BUSY) for a, b in bursts])


def listener_alerts(t: Traffic, kind: Kind, s: SpikeSettings, first_hour: int) -> list[int]:
    """Checks every hour on the trailing `window` (whole hours), against the same hours in previous weeks."""
    width = max(1, round(s.window.total_seconds() / 3600))
    mentions = np.concatenate([[0], np.cumsum(t.mentions)])
    negatives = np.concatenate([[0], np.cumsum(t.negatives)])

    def counts(end: int) -> Counts:  # the `width` hours ending with hour `end - 1`
        n = int(mentions[end] - mentions[end - width])
        return Counts(n, int(negatives[end] - negatives[end - width]), n)

    arm, fired = Arm(), []
    for hour in range(max(first_hour, width), len(t.mentions)):
        back = [hour + 1 - k * HOURS_PER_WEEK for k in range(1, s.history_weeks + 1)]
        history = [counts(end) for end in back if end - width >= 0]
        spiking = evaluate(kind, counts(hour + 1), history, s).spiking
        if arm.step(spiking, START + timedelta(hours=hour), s.cooldown):
            fired.append(hour)
    return fired


def naive_alerts(t: Traffic, kind: Kind, s: SpikeSettings, first_hour: int) -> list[int]:
    arm, fired = Arm(), []
    for hour in range(max(first_hour, 24), len(t.mentions)):
        volume_mean = t.mentions[hour - 24:hour].mean()
        if kind == "volume":
            observed, spiking = int(t.mentions[hour]), t.mentions[hour] >= s.min_ratio * max(volume_mean, 1e-9)
        else:
            trailing = t.negatives[hour - 24:hour].sum() / max(1, t.mentions[hour - 24:hour].sum())
            share = t.negatives[hour] / max(1, t.mentions[hour])
            observed, spiking = int(t.negatives[hour]), share >= s.min_ratio * max(trailing, 1e-9)
        least = s.min_count if kind == "volume" else s.min_negatives
        if arm.step(bool(spiking and observed >= least), START + timedelta(hours=hour), s.cooldown):
            fired.append(hour)
    return fired


def found(t: Traffic, alerts: list[int]) -> tuple[int, int, int]:
    """(bursts with an alert in them, of those the busy ones, alerts outside every burst)."""
    hit = [any(start <= a < end for a in alerts) for start, end in t.bursts]
    outside = sum(1 for a in alerts if not any(start <= a < end for start, end in t.bursts))
    return sum(hit), sum(h and b for h, b in zip(hit, t.busy, strict=True)), outside


def time_counts(n: int, settings: SpikeSettings) -> dict[str, float]:
    """Median milliseconds of one check's count, by SQL and by the Python baseline."""
    brands = ["Acme", "Globex", "Initech"]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db")
        upgrade(store)
        rng = random.Random(1)
        with store.write() as session:
            session.add(SourceRow(name="bench", kind="feed", cursor={}))
            session.flush()
            for first in range(0, n, 50_000):
                size = min(n, first + 50_000) - first
                times = [START + timedelta(seconds=rng.random() * 364 * 86400) for _ in range(size)]
                session.execute(insert(MentionRow), [
                    {"id": first + i + 1, "source_id": 1, "source_kind": "feed", "external_id": str(first + i),
                     "text": "x", "published_at": t if i % 10 else None, "fetched_at": t, "content_hash": "h",
                     "reach": {}, "score_attempts": 0} for i, t in enumerate(times)])
                session.execute(insert(MentionBrand), [{"mention_id": first + i + 1, "brand": rng.choice(brands)}
                                                       for i in range(len(times))])
        end = START + timedelta(days=300, hours=10)
        spans = windows(end, settings.window, settings.history_weeks)

        def sql() -> dict[str, dict[int, Counts]]:
            with store.read() as session:
                return window_counts(session, brands, spans)

        def python() -> dict[str, dict[int, Counts]]:
            out: dict[str, dict[int, Counts]] = {b: {} for b in brands}
            with store.read() as session:
                rows = session.execute(select(MentionBrand.brand, seen_at()).join(
                    MentionRow, MentionRow.id == MentionBrand.mention_id).where(MentionBrand.brand.in_(brands)))
                for brand, seen in rows:
                    for k, (start, stop) in enumerate(spans):
                        if start <= seen < stop:
                            out[brand][k] = Counts(out[brand].get(k, Counts(0)).mentions + 1)
            return out

        results, medians = {}, {}
        for name, count in (("sql", sql), ("python", python)):
            took = []
            for _ in range(5):
                began = time.perf_counter()
                results[name] = count()
                took.append(time.perf_counter() - began)
            medians[name] = sorted(took)[2] * 1000
            label = "SQL (window_counts)" if name == "sql" else "baseline: read and count in Python"
            print(f"{label:<38} median {medians[name]:8.1f} ms of 5 (min {min(took) * 1000:.1f})")
        assert results["sql"] == results["python"], "the two counts disagree"
        store.dispose()
    return medians


def figures(results: dict[tuple[str, str, str], tuple[float, float | None, float]], timing: dict[str, float],
            store: int) -> list[Figure]:
    """What bench/run.py tabulates: the targets on the 1000/day brands and on busy hours, the rest for reference."""
    out = []
    for level in LEVELS:
        ours, naive = results[level, "volume", "listener"], results[level, "volume", "naive"]
        busy_target = level.startswith("medium")
        out.append(Figure("spikes", f"3× volume bursts found, {level}", f"{ours[0]:.2f}", f"naive {naive[0]:.2f}",
                          "≥ 0.9" if level.startswith("large") else "", ours[0] >= 0.9 if level.startswith("large")
                          else None))
        if ours[1] is not None:
            out.append(Figure("spikes", f"… of bursts over ≥ {BUSY:g} mentions/h, {level}", f"{ours[1]:.2f}",
                              f"naive {naive[1]:.2f}" if naive[1] is not None else "",
                              "≥ 0.9" if busy_target else "", ours[1] >= 0.9 if busy_target else None))
        out.append(Figure("spikes", f"false alarms / brand / month, volume, {level}", f"{ours[2]:.2f}",
                          f"naive {naive[2]:.2f}", "≤ 1", ours[2] <= 1))
        negative, naive_negative = results[level, "negative", "listener"], results[level, "negative", "naive"]
        out.append(Figure("spikes", f"3× negative-share bursts found, {level}", f"{negative[0]:.2f}",
                          f"naive {naive_negative[0]:.2f}"))
        out.append(Figure("spikes", f"false alarms / brand / month, negative share, {level}", f"{negative[2]:.2f}",
                          f"naive {naive_negative[2]:.2f}", "≤ 1", negative[2] <= 1))
    if timing:
        out.append(Figure("spikes", f"one check's SQL count, ms ({store:,} mentions, SQLite)", f"{timing['sql']:.1f}",
                          f"read + count in Python {timing['python']:.0f}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=5, help="brands per traffic level")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--burst-hours", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a [[spike]] setting, e.g. --set max_p=1e-3 --set min_count=8")
    parser.add_argument("--store", type=int, default=200_000, help="mentions in the store for the SQL timing")
    add_summary_option(parser)
    args = parser.parse_args()
    results: dict[tuple[str, str, str], tuple[float, float | None, float]] = {}
    settings = SpikeSettings.model_validate({"name": "bench", **dict(kv.split("=", 1) for kv in args.set)})
    first_hour = settings.min_history_weeks * HOURS_PER_WEEK
    months = (args.weeks * HOURS_PER_WEEK - first_hour) / (24 * 30)
    rng = np.random.default_rng(args.seed)
    began = time.process_time()
    print(f"{args.weeks} weeks, {args.brands} brands per level, bursts of 3× for {args.burst_hours} h, "
          f"checks hourly from week {settings.min_history_weeks}; settings: min_count={settings.min_count} "
          f"min_negatives={settings.min_negatives} "
          f"min_ratio={settings.min_ratio:g} max_p={settings.max_p:g} history_weeks={settings.history_weeks} "
          f"cooldown={settings.cooldown}; seed {args.seed}\n")
    print(f"{'traffic':<18} {'kind':<9} {'detector':<9} {'bursts':>6} {'recall':>7} {'busy':>5} {'recall':>7} "
          f"{'false alarms/brand/month':>25} {'(with bursts)':>14}")
    for level, per_day in LEVELS.items():
        rate = seasonal_rate(per_day, args.weeks)
        for kind in ("volume", "negative"):
            runs = [(simulate(rate, rng, kind, args.burst_hours, first_hour),
                     simulate(rate, rng, None, args.burst_hours, first_hour)) for _ in range(args.brands)]
            for name, detector in (("listener", listener_alerts), ("naive", naive_alerts)):
                bursts = busy = hits = busy_hits = quiet_alarms = noisy_alarms = 0
                for with_bursts, without in runs:
                    got, busy_got, outside = found(with_bursts, detector(with_bursts, kind, settings, first_hour))
                    bursts, busy = bursts + len(with_bursts.bursts), busy + sum(with_bursts.busy)
                    hits, busy_hits, noisy_alarms = hits + got, busy_hits + busy_got, noisy_alarms + outside
                    quiet_alarms += len(detector(without, kind, settings, first_hour))
                per_month, noisy = quiet_alarms / args.brands / months, noisy_alarms / args.brands / months
                busy_recall = f"{busy_hits / busy:.2f}" if busy else "-"
                print(f"{level:<18} {kind:<9} {name:<9} {bursts:>6} {hits / bursts:>7.2f} {busy:>5} "
                      f"{busy_recall:>7} {per_month:>25.2f} {noisy:>14.2f}")
                results[level, kind, name] = (hits / bursts, busy_hits / busy if busy else None, per_month)
    timing = {}
    if args.store:
        print(f"\none check's count on a SQLite store of {args.store} mentions (3 brands, a year, no ANALYZE):")
        timing = time_counts(args.store, settings)
    write_summary(args.summary, figures(results, timing, args.store))
    print(f"\nbusy: bursts over ≥ {BUSY:g} normal mentions an hour. {time.process_time() - began:.0f} s CPU. "
          "Targets: recall ≥ 0.9 of 3× volume bursts, ≤ 1 false alarm per brand per month.")
    assert math.isfinite(months)


if __name__ == "__main__":
    main()
