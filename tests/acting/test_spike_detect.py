"""Spike statistics: small counts, missing history, robust baselines, exact tails, cooldown and re-arm."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from pydantic import ValidationError

from listener.acting.spikes.detect import (
    Arm,
    Counts,
    beta_binomial_tail,
    evaluate,
    negative_share,
    poisson_tail,
    volume,
)
from listener.acting.spikes.settings import SpikeSettings

S = SpikeSettings(name="t")


def weeks(*mentions: int, negatives: int | None = None) -> list[Counts]:
    return [Counts(m, negatives if negatives is not None else m // 10, m) for m in mentions]


def test_poisson_and_beta_binomial_tails_match_direct_sums() -> None:
    def poisson(k: int, lam: float) -> float:
        return 1 - sum(math.exp(-lam) * lam ** i / math.factorial(i) for i in range(k))

    for k, lam in [(0, 3.0), (1, 0.5), (5, 5.0), (12, 4.0), (30, 10.0)]:
        assert poisson_tail(k, lam) == pytest.approx(poisson(k, lam), rel=1e-9, abs=1e-15)
    assert poisson_tail(60, 10.0) == pytest.approx(
        float(sum(Fraction(10) ** i / math.factorial(i) for i in range(60, 200))) * math.exp(-10), rel=1e-9)
    assert poisson_tail(3, 0.0) == 0.0
    def beta(x: int, y: int) -> Fraction:  # B(x, y) for whole numbers, exactly
        return Fraction(math.factorial(x - 1) * math.factorial(y - 1), math.factorial(x + y - 1))

    exact = sum(math.comb(10, i) * beta(i + 2, 10 - i + 5) / beta(2, 5) for i in range(3, 11))
    assert beta_binomial_tail(3, 10, 2.0, 5.0) == pytest.approx(float(exact), rel=1e-9)
    assert beta_binomial_tail(0, 5, 1.0, 4.0) == 1.0 and beta_binomial_tail(6, 5, 1.0, 4.0) == 0.0
    # With a long history the share is known: the tail becomes the binomial one.
    binomial = sum(math.comb(20, i) * 0.1 ** i * 0.9 ** (20 - i) for i in range(6, 21))
    assert beta_binomial_tail(6, 20, 1e5, 9e5) == pytest.approx(binomial, rel=1e-3)
    assert beta_binomial_tail(6, 20, 1.0, 9.0) > 3 * binomial  # … with a short one, surprises are likelier


def test_a_clear_burst_with_enough_history_is_a_spike() -> None:
    verdict = volume(Counts(60), weeks(18, 20, 22, 19, 21, 20, 17, 23), S)
    assert verdict.spiking and verdict.expected == 20 and verdict.ratio == 3.0
    assert verdict.p_value < S.max_p and verdict.history_weeks == 8


def test_small_counts_never_fire_however_large_the_ratio() -> None:
    verdict = volume(Counts(9), weeks(0, 0, 1, 0, 0, 0, 1, 0), S)  # 9 where there is usually nothing
    assert not verdict.spiking and "below min_count 10" in verdict.reason
    assert volume(Counts(10), weeks(0, 0, 1, 0, 0, 0, 1, 0), S).spiking  # at min_count: a real change


def test_without_enough_history_there_is_no_verdict() -> None:
    for history in ([], weeks(5), weeks(5, 6)):
        verdict = volume(Counts(500), history, S)
        assert not verdict.spiking and f"{len(history)} of 3 weeks of history" in verdict.reason
    assert volume(Counts(500), weeks(5, 6, 4), S).spiking  # the third week makes a verdict possible


def test_a_noisy_history_raises_the_bar() -> None:
    steady = weeks(20, 20, 21, 19, 20, 20, 21, 19)
    erratic = weeks(5, 40, 8, 35, 20, 45, 3, 30)
    assert volume(Counts(45), steady, S).spiking
    assert not volume(Counts(45), erratic, S).spiking  # 45 happened twice in eight weeks


def test_one_earlier_burst_does_not_lift_the_median() -> None:
    assert volume(Counts(60), weeks(20, 20, 200, 20, 19, 21, 20, 20), S).spiking


def test_ratio_and_tail_both_have_to_pass() -> None:
    strict = SpikeSettings(name="t", min_ratio=4.0)
    verdict = volume(Counts(60), weeks(18, 20, 22, 19, 21, 20, 17, 23), strict)
    assert not verdict.spiking and "below min_ratio 4" in verdict.reason
    picky = SpikeSettings(name="t", max_p=1e-30)
    assert "above max_p" in volume(Counts(60), weeks(18, 20, 22, 19, 21, 20, 17, 23), picky).reason


def test_negative_share_against_a_pooled_baseline() -> None:
    history = [Counts(40, 4, 40)] * 8  # 10 % negative
    verdict = negative_share(Counts(40, 20, 40), history, S)
    assert verdict.spiking and verdict.share == 0.5
    assert verdict.baseline_share == pytest.approx(33 / 340)
    assert not negative_share(Counts(40, 6, 40), history, S).spiking  # 15 %: noise
    small = negative_share(Counts(5, 4, 5), history, S)  # 80 %, but of five mentions
    assert not small.spiking and "4 below min_negatives 5" in small.reason


def test_negative_share_with_unscored_mentions_or_no_negatives_before() -> None:
    assert not negative_share(Counts(50, 0, 0), [Counts(50, 5, 50)] * 4, S).spiking  # nothing scored yet
    verdict = negative_share(Counts(30, 12, 30), [Counts(30, 0, 30)] * 4, S)  # never negative before
    assert verdict.spiking and verdict.baseline_share == pytest.approx(1 / 140)
    assert evaluate("negative", Counts(30, 12, 30), [Counts(30, 0, 30)] * 4, S) == verdict


def test_cooldown_and_re_arm() -> None:
    arm, t0, cooldown = Arm(), datetime(2026, 3, 2, 9, tzinfo=UTC), timedelta(hours=6)
    assert arm.step(True, t0, cooldown)  # fires
    assert not arm.step(True, t0 + timedelta(hours=1), cooldown)  # the same spike goes on
    assert not arm.step(True, t0 + timedelta(hours=7), cooldown)  # past the cooldown, but never ended
    assert not arm.step(False, t0 + timedelta(hours=8), cooldown)  # ended: re-armed
    assert arm.step(True, t0 + timedelta(hours=9), cooldown)  # a new spike
    assert not arm.step(False, t0 + timedelta(hours=10), cooldown)
    assert not arm.step(True, t0 + timedelta(hours=11), cooldown)  # re-armed, but still cooling down
    assert arm.step(True, t0 + timedelta(hours=15), cooldown)


@pytest.mark.parametrize("bad", [{"min_history_weeks": 9, "history_weeks": 8}, {"window": "1m"},
                                 {"watch": []}, {"min_ratio": 0.5}, {"watch": ["volumes"]}])
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SpikeSettings.model_validate({"name": "t", **bad})
