"""Spike statistics on counts: no database, no clock — the benchmark and the daemon run the same code.

Volume: the expected count is the median of the same window in previous weeks (robust to an earlier burst),
and a window is a spike when its count reaches `min_count`, `min_ratio` × expected and has a Poisson upper-tail
probability below `max_p` given a rate that also allows for the spread of the history (MAD) and for the
uncertainty of a median of few weeks. Negative share: the baseline share is pooled over the history windows
and the window's negatives are tested against it with a beta-binomial upper tail (a binomial whose share is
only as certain as the history it was pooled from).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from listener.acting.spikes.settings import Kind, SpikeSettings

PRIOR_NEGATIVES, PRIOR_MENTIONS = 1.0, 20.0


@dataclass(frozen=True)
class Counts:
    mentions: int
    negatives: int = 0
    scored: int = 0  # mentions with a sentiment score: the denominator of the negative share


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    spiking: bool
    observed: int
    expected: float
    ratio: float
    p_value: float
    history_weeks: int
    reason: str  # why it is or is not a spike, for `listener spikes check`
    share: float | None = None  # negative share now and usually (kind "negative")
    baseline_share: float | None = None


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), summed from k upwards so tiny tails keep their precision."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if k <= lam:
        return max(0.0, 1.0 - sum(math.exp(i * math.log(lam) - lam - math.lgamma(i + 1)) for i in range(k)))
    term = math.exp(k * math.log(lam) - lam - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > total * 1e-12 and i < k + 100_000:
        total += term
        i += 1
        term *= lam / i
    return total


def beta_binomial_tail(k: int, n: int, a: float, b: float) -> float:
    """P(X >= k) for X ~ BetaBinomial(n, a, b): a binomial whose share is itself only known from a history of
    `a` - 1 negatives among `a + b` - 2 mentions (with the prior), so a short history widens the tail."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    base = math.lgamma(n + 1) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) - math.lgamma(n + a + b)
    return min(1.0, sum(math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + math.lgamma(i + a)
                                 + math.lgamma(n - i + b)) for i in range(k, n + 1)))


def _not_enough(kind: Kind, observed: int, history: list[Counts], settings: SpikeSettings) -> Verdict | None:
    if len(history) < settings.min_history_weeks:
        return Verdict(kind, False, observed, 0.0, 0.0, 1.0, len(history),
                       f"{len(history)} of {settings.min_history_weeks} weeks of history")
    key, least = ("min_count", settings.min_count) if kind == "volume" else ("min_negatives", settings.min_negatives)
    if observed < least:
        return Verdict(kind, False, observed, 0.0, 0.0, 1.0, len(history), f"{observed} below {key} {least}")
    return None


def volume(current: Counts, history: list[Counts], settings: SpikeSettings) -> Verdict:
    early = _not_enough("volume", current.mentions, history, settings)
    counts = [h.mentions for h in history]
    expected = float(statistics.median(counts)) if counts else 0.0
    if early:
        return Verdict("volume", False, current.mentions, expected, 0.0, 1.0, len(history), early.reason)
    mad = statistics.median(abs(c - expected) for c in counts)
    # A rate the window should beat: the median, plus whatever spread the history shows beyond Poisson noise,
    # plus the standard error of a median of len(history) Poisson counts (≈ 1.25·√(λ/n)).
    extra_spread = max(0.0, 1.4826 * mad - math.sqrt(expected))
    rate = max(expected, 0.5) + extra_spread + 1.25 * math.sqrt(max(expected, 0.5) / len(counts))
    ratio = current.mentions / max(expected, 1.0)
    p_value = poisson_tail(current.mentions, rate)
    return _decide("volume", current.mentions, expected, ratio, p_value, len(history), settings)


def negative_share(current: Counts, history: list[Counts], settings: SpikeSettings) -> Verdict:
    early = _not_enough("negative", current.negatives, history, settings)
    # A prior worth twenty mentions at 5 % negative keeps a history without negatives from making any a spike.
    a = sum(h.negatives for h in history) + PRIOR_NEGATIVES
    b = sum(h.scored - h.negatives for h in history) + PRIOR_MENTIONS - PRIOR_NEGATIVES
    baseline = a / (a + b)
    share = current.negatives / current.scored if current.scored else 0.0
    expected = baseline * current.scored
    if early:
        return Verdict("negative", False, current.negatives, expected, 0.0, 1.0, len(history), early.reason,
                       share, baseline)
    ratio = share / baseline
    p_value = beta_binomial_tail(current.negatives, current.scored, a, b)
    verdict = _decide("negative", current.negatives, expected, ratio, p_value, len(history), settings)
    return Verdict(**{**verdict.__dict__, "share": share, "baseline_share": baseline})


def _decide(kind: Kind, observed: int, expected: float, ratio: float, p_value: float, weeks: int,
            settings: SpikeSettings) -> Verdict:
    spiking = False
    if ratio < settings.min_ratio:
        reason = f"ratio {ratio:.1f} below min_ratio {settings.min_ratio:g}"
    elif p_value > settings.max_p:
        reason = f"tail probability {p_value:.1e} above max_p {settings.max_p:g}"
    else:
        spiking, reason = True, f"{observed} against {expected:.1f} expected ({ratio:.1f}×, p={p_value:.1e})"
    return Verdict(kind, spiking, observed, expected, ratio, p_value, weeks, reason)


def evaluate(kind: Kind, current: Counts, history: list[Counts], settings: SpikeSettings) -> Verdict:
    return volume(current, history, settings) if kind == "volume" else negative_share(current, history, settings)


@dataclass
class Arm:
    """Cooldown and re-arm for one brand and kind: one alert per spike, none again before it has ended."""

    armed: bool = True
    last_fired_at: datetime | None = None

    def step(self, spiking: bool, now: datetime, cooldown: timedelta) -> bool:
        if not spiking:
            self.armed = True
            return False
        if self.armed and (self.last_fired_at is None or now - self.last_fired_at >= cooldown):
            self.armed, self.last_fired_at = False, now
            return True
        return False
