"""Trends of a watch: the count model's tail against exact sums, spikes on seeded synthetic series with a weekly
rhythm (steady watches stay quiet, bursts are flagged, the warm-up and the weekend are respected, the verdict does
not depend on how the series arrived), entities crossing into a watch, and days summed for charts."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction

import numpy as np
import pytest

from tasks.watch.trends import (
    MIN_STORIES,
    PRIOR_STORIES,
    REASON_NO_COVERAGE,
    REASON_SPIKE,
    SCORE_THRESHOLD,
    DayCount,
    DayScore,
    EntityRow,
    First,
    bucket_series,
    evaluate_spikes,
    fill_days,
    find_firsts,
    log_upper_tail,
    upper_tail_score,
)

MONDAY = date(2025, 3, 3)
WEEKDAY_VOLUME = 2000  # the lake's stories on a weekday ...
WEEKEND_VOLUME = 800  # ... and on a Saturday or Sunday


def lake_volume(rng: np.random.Generator, n: int) -> list[int]:
    """A lake's daily distinct stories from MONDAY on: a weekly rhythm with Poisson noise."""
    days = (MONDAY + timedelta(days=i) for i in range(n))
    return [int(rng.poisson(WEEKDAY_VOLUME if d.weekday() < 5 else WEEKEND_VOLUME)) for d in days]


def watch_counts(rng: np.random.Generator, volume: Sequence[int], rate: float, swing: float) -> list[int]:
    """A steady watch averaging ``rate`` stories a day, following the lake's volume. ``swing`` 0 is Poisson noise;
    otherwise each day's rate is multiplied by a Gamma variable of mean 1 and coefficient of variation ``swing``
    (news is overdispersed: some days a topic simply gets more attention), so the variance is
    mean + swing**2 x mean**2."""
    mean_volume = sum(volume) / len(volume)
    out = []
    for total in volume:
        mu = rate * total / mean_volume
        if swing:
            shape = 1.0 / swing**2
            mu *= rng.gamma(shape, 1.0 / shape)
        out.append(int(rng.poisson(mu)))
    return out


def make_series(volume: Sequence[int], stories: Sequence[int]) -> list[DayCount]:
    return [
        DayCount(MONDAY + timedelta(days=i), s, s, total)
        for i, (total, s) in enumerate(zip(volume, stories, strict=True))
    ]


def synthetic(seed: int, rate: float, swing: float = 0.0, n: int = 60) -> tuple[list[int], list[int]]:
    rng = np.random.default_rng(seed)
    volume = lake_volume(rng, n)
    return volume, watch_counts(rng, volume, rate, swing)


# -- the count model -----------------------------------------------------------------------------------------------


def exact_poisson_tail(k: int, mean: Fraction, terms: int = 400) -> float:
    """P(X >= k) for a Poisson mean, the series summed exactly in rationals (the truncation is far below 1e-30)."""
    term = Fraction(1)
    below = Fraction(0)
    above = Fraction(0)
    for j in range(terms):
        if j:
            term = term * mean / j
        if j < k:
            below += term
        else:
            above += term
    return float(above) * math.exp(-float(mean)) if k > float(mean) else 1.0 - float(below) * math.exp(-float(mean))


def exact_nb_tail(k: int, r: int, p: Fraction) -> Fraction:
    """P(X >= k) for a negative binomial with integer size r and success probability p: at least k failures before
    the r-th success is fewer than r successes in the first k + r - 1 trials (a binomial sum, exact)."""
    n = k + r - 1
    return sum((Fraction(math.comb(n, i)) * p**i * (1 - p) ** (n - i) for i in range(r)), Fraction(0))


@pytest.mark.parametrize(
    ("k", "mean"),
    [
        (3, Fraction(1, 2)),
        (8, Fraction(1, 2)),
        (40, Fraction(1, 2)),
        (5, Fraction(10)),
        (30, Fraction(10)),
        (1, Fraction(3)),
    ],
)
def test_poisson_tail_matches_the_exact_series(k: int, mean: Fraction) -> None:
    want = exact_poisson_tail(k, mean)
    got = math.exp(log_upper_tail(k, float(mean)))
    assert got == pytest.approx(want, rel=1e-11)


def test_poisson_tail_known_values() -> None:
    # P(X >= 3) for a Poisson of mean 1 is 1 - 2.5/e; P(X >= 1) is 1 - e**-mean.
    assert math.exp(log_upper_tail(3, 1.0)) == pytest.approx(1 - 2.5 / math.e, rel=1e-13)
    assert math.exp(log_upper_tail(1, 0.02)) == pytest.approx(-math.expm1(-0.02), rel=1e-13)
    assert log_upper_tail(0, 5.0) == 0.0
    assert upper_tail_score(0, 5.0) == 0.0


@pytest.mark.parametrize(("k", "mean", "size"), [(3, 2.0, 1.0), (10, 2.0, 1.0), (60, 0.5, 1.0)])
def test_negative_binomial_of_size_one_is_geometric(k: int, mean: float, size: float) -> None:
    q = mean / (mean + size)  # P(X >= k) = q**k exactly
    assert math.exp(log_upper_tail(k, mean, size)) == pytest.approx(q**k, rel=1e-12)
    assert upper_tail_score(k, mean, size) == pytest.approx(-k * math.log10(q), rel=1e-12)


@pytest.mark.parametrize(
    ("k", "r", "mean"), [(2, 3, Fraction(1, 2)), (9, 3, Fraction(1, 2)), (4, 5, Fraction(7)), (25, 2, Fraction(3))]
)
def test_negative_binomial_tail_matches_the_binomial_identity(k: int, r: int, mean: Fraction) -> None:
    p = Fraction(r) / (r + mean)
    assert math.exp(log_upper_tail(k, float(mean), float(r))) == pytest.approx(float(exact_nb_tail(k, r, p)), rel=1e-11)


def test_tiny_tails_do_not_underflow_and_a_larger_size_tends_to_poisson() -> None:
    score = upper_tail_score(400, 0.5)  # P about 1e-980: far below the smallest float
    assert 900 < score < 1100
    assert math.isfinite(upper_tail_score(400, 0.5, 0.3))
    poisson = upper_tail_score(12, 2.0)
    assert upper_tail_score(12, 2.0, 1e7) == pytest.approx(poisson, rel=1e-5)
    assert upper_tail_score(12, 2.0, 2.0) < poisson  # overdispersion makes a high count less surprising


# -- spikes: steady watches ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.2, 1.0, 5.0])
@pytest.mark.parametrize("seed", range(5))
def test_a_steady_watch_has_no_spike_in_sixty_days(seed: int, rate: float) -> None:
    volume, stories = synthetic(seed, rate)
    scores = evaluate_spikes(make_series(volume, stories))
    assert [s.day for s in scores if s.flagged] == []
    assert sum(s.eligible for s in scores) == 60 - 14


@pytest.mark.parametrize("rate", [0.2, 1.0, 5.0])
@pytest.mark.parametrize("seed", range(5))
def test_an_overdispersed_steady_watch_has_no_spike_on_an_ordinary_day(seed: int, rate: float) -> None:
    # Day-to-day swings of 30 %: the noise itself now and then makes an extraordinary day (seed 1 at 5 stories a
    # day has a Sunday with 12 stories where 2.4 are usual, a count the noise gives one chance in 8,000). The
    # detector may flag those, and no other.
    swing = 0.3
    volume, stories = synthetic(seed, rate, swing)
    scores = evaluate_spikes(make_series(volume, stories))
    mean_volume = sum(volume) / len(volume)
    for i, s in enumerate(scores):
        if s.flagged:
            generator_tail = math.exp(log_upper_tail(s.observed, rate * volume[i] / mean_volume, 1.0 / swing**2))
            assert generator_tail < 1e-3, (s, generator_tail)
    assert sum(s.flagged for s in scores) <= 1


def test_chance_flags_stay_rare_over_many_steady_watches() -> None:
    eligible = flagged = 0
    for seed in range(1000, 1100):
        for rate in (0.2, 1.0, 5.0, 20.0):
            for swing in (0.0, 0.3):
                scores = evaluate_spikes(make_series(*synthetic(seed, rate, swing)))
                eligible += sum(s.eligible for s in scores)
                flagged += sum(s.flagged for s in scores)
    print(f"\nchance flags: {flagged} of {eligible} eligible days")
    assert eligible == 100 * 8 * 46
    assert flagged / eligible <= 3e-4


def test_expected_follows_the_watch_share_and_the_day_volume() -> None:
    # A watch with exactly 1 % of a lake of 1000 stories a day, then a day of 500 stories: 5 expected (plus the prior).
    series = [DayCount(MONDAY + timedelta(days=i), 10, 10, 1000) for i in range(28)]
    series.append(DayCount(MONDAY + timedelta(days=28), 5, 5, 500))
    last = evaluate_spikes(series)[-1]
    assert last.expected == pytest.approx((280 + PRIOR_STORIES) / 28_000 * 500)
    assert last.eligible and not last.flagged
    assert last.reason == "ratio 1.0 below 3"


# -- spikes: bursts ------------------------------------------------------------------------------------------------


BURST_DAYS = (20, 33, 47, 54)  # a Saturday, a Friday, a Friday and a Friday after the lake's first 14 days
BURST = 8


@pytest.mark.parametrize("seed", range(5))
def test_every_burst_day_is_flagged_and_nothing_else(seed: int) -> None:
    volume, stories = synthetic(seed, 0.5)
    for day in BURST_DAYS:
        stories[day] = BURST
    scores = evaluate_spikes(make_series(volume, stories))
    assert [i for i, s in enumerate(scores) if s.flagged] == list(BURST_DAYS)
    for day in BURST_DAYS:
        assert scores[day].reason == REASON_SPIKE
        assert scores[day].score >= SCORE_THRESHOLD
        assert scores[day].observed >= 3 * scores[day].expected


def test_a_flagged_day_stays_out_of_later_baselines() -> None:
    volume = [1000] * 40
    stories = [1] * 40
    stories[30] = stories[31] = 12  # two days of one event
    scores = evaluate_spikes(make_series(volume, stories))
    assert scores[30].flagged and scores[31].flagged
    # The second day is judged against the same quiet past as the first, not against a past raised by the first.
    assert scores[31].expected == pytest.approx(scores[30].expected, rel=0.01)  # with day 30 in: 40 % higher
    assert scores[32].expected == pytest.approx(scores[30].expected, rel=0.01)


def test_a_level_held_for_most_of_the_window_becomes_the_new_normal() -> None:
    volume = [1000] * 100
    stories = [1] * 30 + [10] * 70  # ten times the attention from day 30 on, for good
    scores = evaluate_spikes(make_series(volume, stories))
    flagged = [i for i, s in enumerate(scores) if s.flagged]
    assert flagged[0] == 30
    assert flagged == list(range(30, flagged[-1] + 1))  # flagged while it is new ...
    assert flagged[-1] < 30 + 28  # ... and no longer once it has held for most of the 28-day window
    assert scores[-1].expected == pytest.approx(10, rel=0.05)


def test_a_burst_during_the_warm_up_is_not_flagged_and_says_why() -> None:
    volume, stories = synthetic(3, 0.5)
    stories[9] = 20
    scores = evaluate_spikes(make_series(volume, stories))
    assert not scores[9].flagged and not scores[9].eligible
    assert scores[9].reason == "warm-up: 9 of 14 days"
    assert scores[0].reason == "warm-up: 0 of 14 days"
    assert scores[0].expected == 0.0 and scores[0].score == 0.0  # nothing before the first day
    assert scores[14].eligible
    assert not any(s.flagged for s in scores)


def test_warm_up_counts_days_the_lake_covered() -> None:
    volume = [1000] * 10 + [0] * 10 + [1000] * 10  # a ten-day gap in the lake
    scores = evaluate_spikes(make_series(volume, [1] * 10 + [0] * 10 + [1] * 10))
    assert scores[12].reason == REASON_NO_COVERAGE and not scores[12].eligible
    assert scores[20].reason == "warm-up: 10 of 14 days"
    assert scores[24].eligible


def test_a_gap_longer_than_the_baseline_leaves_nothing_to_compare_with() -> None:
    volume = [1000] * 20 + [0] * 30 + [1000] * 5
    stories = [1] * 20 + [0] * 30 + [9] * 5
    scores = evaluate_spikes(make_series(volume, stories))
    assert scores[50].reason == "no lake coverage in the last 28 days"
    assert not scores[50].flagged and scores[50].expected == 0.0
    assert scores[51].eligible  # day 50 is its baseline now


def test_a_weekend_burst_is_judged_against_weekend_volume() -> None:
    # The lake has 1000 stories on weekdays and 250 at weekends; the watch holds 0.4 % of them (4 and 1).
    volume = [1000 if (MONDAY + timedelta(days=i)).weekday() < 5 else 250 for i in range(42)]
    stories = [4 if v == 1000 else 1 for v in volume]
    saturday, wednesday = 33, 37
    assert (MONDAY + timedelta(days=saturday)).weekday() == 5
    stories[saturday] = stories[wednesday] = 8
    scores = evaluate_spikes(make_series(volume, stories))
    # Both baselines hold four weeks of the same 0.4 % (the flagged Saturday stays out of Wednesday's).
    assert scores[saturday].expected == pytest.approx(scores[wednesday].expected / 4, rel=1e-3)
    assert scores[saturday].flagged  # eight stories on a quiet Saturday: eight times the usual
    assert not scores[wednesday].flagged  # eight on a Wednesday: twice the usual
    assert scores[wednesday].reason == "ratio 2.0 below 3"
    assert [s.day.weekday() for s in scores if s.flagged] == [5]


def test_a_watch_with_no_history_gets_a_positive_expected_count() -> None:
    volume = [1000] * 40
    stories = [0] * 40
    stories[30] = MIN_STORIES
    stories[35] = 2
    scores = evaluate_spikes(make_series(volume, stories))
    assert scores[30].expected == pytest.approx(PRIOR_STORIES / 28)  # half a story over four weeks, not 0
    assert scores[30].flagged and scores[30].score > SCORE_THRESHOLD  # three stories out of nowhere
    assert scores[35].reason == f"2 stories, fewer than {MIN_STORIES}"
    assert scores[35].expected == pytest.approx(PRIOR_STORIES / 27)  # the spike stays out of the baseline


def test_the_verdict_is_a_function_of_the_series_only() -> None:
    volume, stories = synthetic(7, 1.0, 0.3)
    for day in (18, 25, 26, 50):
        stories[day] = 12
    series = make_series(volume, stories)
    once = evaluate_spikes(series)
    assert [s.flagged for s in once].count(True) == 4
    day_by_day = [evaluate_spikes(series[: n + 1])[-1] for n in range(len(series))]
    assert day_by_day == once
    shuffled = list(series)
    random.Random(1).shuffle(shuffled)
    assert evaluate_spikes(shuffled) == once
    assert evaluate_spikes(series[:40]) == once[:40]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="5 stories matched but the lake has 3"):
        DayCount(MONDAY, 5, 5, 3)
    with pytest.raises(ValueError, match="negative"):
        DayCount(MONDAY, -1, 0, 3)
    with pytest.raises(ValueError, match="day given twice"):
        evaluate_spikes([DayCount(MONDAY, 1, 1, 9), DayCount(MONDAY, 2, 2, 9)])
    with pytest.raises(ValueError, match="prior_stories"):
        evaluate_spikes([], prior_stories=0)
    assert evaluate_spikes([]) == []


def test_min_stories_is_per_watch() -> None:
    volume, stories = [1000] * 40, [0] * 40
    stories[30] = 2
    by_default = evaluate_spikes(make_series(volume, stories))
    assert by_default[30].reason == "2 stories, fewer than 3"
    assert evaluate_spikes(make_series(volume, stories), min_stories=None) == by_default
    two = evaluate_spikes(make_series(volume, stories), min_stories=2)
    assert two[30].reason.startswith("score ")  # judged by the model now: two stories out of nowhere, p about 4e-4
    assert [s.day for s in evaluate_spikes(make_series(volume, stories), min_stories=2, threshold=3) if s.flagged] == [
        MONDAY + timedelta(days=30)
    ]


def test_a_burst_series_table() -> None:
    volume, stories = synthetic(11, 0.5, n=42)
    stories[12] = stories[30] = stories[31] = BURST
    scores = evaluate_spikes(make_series(volume, stories))
    print("\nday         wd  lake  obs  expected  score  verdict")  # shown by pytest -s
    for s, total in zip(scores, volume, strict=True):
        print(
            f"{s.day}  {s.day:%a}  {total:4d}  {s.observed:3d}  {s.expected:8.3f}  {s.score:5.2f}  "
            f"{'FLAG ' if s.flagged else ''}{s.reason}"
        )
    assert [i for i, s in enumerate(scores) if s.flagged] == [30, 31]
    assert scores[12].reason == "warm-up: 12 of 14 days"


# -- daily series --------------------------------------------------------------------------------------------------


def test_fill_days_gives_every_day_with_zeros_for_no_match() -> None:
    d = [MONDAY + timedelta(days=i) for i in range(6)]
    series = fill_days({d[2]: (3, 4)}, {d[0]: 100, d[1]: 90, d[2]: 80, d[4]: 70})
    assert series == [
        DayCount(d[0], 0, 0, 100),
        DayCount(d[1], 0, 0, 90),
        DayCount(d[2], 3, 4, 80),
        DayCount(d[3], 0, 0, 0),  # the lake did not cover this day
        DayCount(d[4], 0, 0, 70),
    ]
    assert fill_days({}, {d[1]: 5}, first=d[0], last=d[2]) == [
        DayCount(d[0], 0, 0, 0),
        DayCount(d[1], 0, 0, 5),
        DayCount(d[2], 0, 0, 0),
    ]
    assert fill_days({}, {}) == []
    with pytest.raises(ValueError, match="stories matched but the lake has 0"):
        fill_days({d[5]: (1, 1)}, {d[0]: 100})


# -- firsts --------------------------------------------------------------------------------------------------------

START = date(2025, 1, 1)


def day(n: int) -> date:
    return START + timedelta(days=n)


def test_an_entity_crosses_in_on_its_first_prominent_day_after_the_warm_up() -> None:
    rows = [
        EntityRow(day(2), "e-siemens", "Siemens", "ORG", 3, False),  # prominent during the warm-up: starting population
        EntityRow(day(20), "e-siemens", "Siemens AG", "ORG", 5, True),
        EntityRow(day(3), "e-lagarde", "Lagarde", "PERSON", 1, False),  # a passing mention in the warm-up ...
        EntityRow(day(16), "e-lagarde", "Christine Lagarde", "PERSON", 1, True),  # ... then in a title
        EntityRow(day(16), "e-lagarde", "Lagarde", "PERSON", 2, False),
        EntityRow(day(16), "e-lagarde", "Christine Lagarde", "PERSON", 4, False),
        EntityRow(day(17), "e-chile", "Chile", "GPE", 1, False),  # never prominent
        EntityRow(day(21), "e-chile", "Chile", "GPE", 1, False),
        EntityRow(day(19), "e-euro", "euro", "MONEY", 5, True),  # not a label that counts
        EntityRow(day(22), "e-basf", "BASF", "ORG", 2, False),
        EntityRow(day(18), "e-basf", "BASF", "ORG", 1, False),  # earlier, but only in passing
        EntityRow(day(22), "e-kenyan", "Kenyan", "NORP", 1, True),
        EntityRow(day(14), "e-tokyo", "Tokyo", "GPE", 2, False),  # the first day after a 14-day warm-up
    ]
    firsts = find_firsts(rows, coverage_start=START, warmup_days=14)
    assert firsts == [
        First("e-tokyo", "Tokyo", "GPE", day(14), 1),
        First("e-lagarde", "Christine Lagarde", "PERSON", day(16), 3),
        First("e-basf", "BASF", "ORG", day(22), 1),
        First("e-kenyan", "Kenyan", "NORP", day(22), 1),
    ]
    assert find_firsts(list(reversed(rows)), coverage_start=START, warmup_days=14) == firsts  # order of rows: no matter
    assert [f.entity_id for f in find_firsts(rows, coverage_start=START, warmup_days=14, min_mentions=1)] == [
        "e-tokyo",  # Lagarde is now prominent in the warm-up, BASF crosses in on day 18
        "e-chile",
        "e-basf",
        "e-kenyan",
    ]
    assert find_firsts(rows, coverage_start=START, warmup_days=30) == []
    only_money = find_firsts(rows, coverage_start=START, warmup_days=14, labels=("MONEY",))
    assert only_money == [First("e-euro", "euro", "MONEY", day(19), 1)]


# -- charts --------------------------------------------------------------------------------------------------------


def scored(n: int, first: date = MONDAY, flagged: Sequence[int] = ()) -> list[DayScore]:
    return [DayScore(first + timedelta(days=i), i % 3, 0.5, 1.0, i in flagged, True, "") for i in range(n)]


def test_short_ranges_stay_days() -> None:
    series = scored(120, flagged=[5])
    unit, buckets = bucket_series(series)
    assert unit == "day" and len(buckets) == 120
    assert [(b.start, b.stories, b.flagged, b.days) for b in buckets[4:6]] == [
        (MONDAY + timedelta(days=4), 1, False, 1),
        (MONDAY + timedelta(days=5), 2, True, 1),
    ]


def test_long_ranges_are_summed_by_iso_week_then_by_month() -> None:
    wednesday = MONDAY + timedelta(days=2)
    series = scored(200, first=wednesday, flagged=[3])
    unit, buckets = bucket_series(series)
    assert unit == "week"
    assert buckets[0].start == MONDAY and buckets[0].days == 5  # Wednesday to Sunday of the first ISO week
    assert buckets[0].stories == sum(s.observed for s in series[:5])
    assert buckets[0].expected == pytest.approx(2.5)
    assert buckets[0].flagged and not buckets[1].flagged
    assert all(b.start.weekday() == 0 for b in buckets)
    assert sum(b.stories for b in buckets) == sum(s.observed for s in series)
    assert sum(b.days for b in buckets) == 200

    unit, buckets = bucket_series(scored(1000), max_points=120)
    assert unit == "month"
    assert buckets[0].start == date(2025, 3, 1) and buckets[0].days == 29  # from the 3rd of March
    assert buckets[1].start == date(2025, 4, 1) and buckets[1].days == 30
    assert sum(b.days for b in buckets) == 1000
    assert bucket_series([]) == ("day", [])
