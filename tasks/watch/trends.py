"""Trends of a watch over days: spikes of attention, entities that cross into a watch, and series cut for charts.

Everything here is a pure function of daily series that the caller computes from the lake (no I/O, no clock):

* :func:`fill_days` turns the watch's days with matches and the lake's daily volume into one :class:`DayCount`
  per calendar day, a day without matches being a zero;
* :func:`evaluate_spikes` scores every day against the watch's own recent past and flags the spikes
  (:class:`DayScore`);
* :func:`find_firsts` names the entities that appear prominently in a watch's articles for the first time
  (:class:`First`);
* :func:`bucket_series` sums days into ISO weeks or months when a range is too long to draw day by day.

The spike detector follows the outbreak detectors of public-health surveillance (Farrington et al. 1996, and the
negative binomial form of Noufaily et al. 2013): an expected count from a trailing baseline, past outbreaks left out
of it, a dispersion estimated from the baseline and clipped at one, and an alarm that needs both an improbable count
and a minimum count. The expected count follows the lake's volume (a watch's *share* of the lake's stories), so the
weekly rhythm and a quieter lake do not look like a change of attention. Each day depends only on the days before
it: the result for a series does not depend on whether it was computed at once or a day at a time.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, NamedTuple

# Spikes. A day is flagged only when all three hold (defaults of evaluate_spikes):
# - at least MIN_STORIES distinct stories: one or two stories are an anecdote whatever the model says (a watch that
#   gets one story a month is "surprised" by two in a day);
# - at least MIN_RATIO times the expected count: a significant rise of a large watch by a fifth is not news about
#   the watch; three times its usual attention is;
# - an upper-tail probability of at most 10**-SCORE_THRESHOLD under the count model. 1e-4 rather than the 1e-3 of
#   surveillance practice, measured on 60-day synthetic series with a weekly rhythm (set on 300 seeds per setting,
#   checked on 600 others): steady watches of 0.2 to 20 stories a day, Poisson or with day-to-day swings of 30 %,
#   get a chance flag on at most 2 eligible days in 10,000 (12 at 1e-3), while an 8-story day of a watch that
#   averages 0.5 is still flagged 98 % of the time (99.8 % at 1e-3; a 6-story day 87 %, 99 %). A user with 20
#   watches has 7,000 watch-days a year: one chance alert a year or so, instead of several. (With swings of 50 %
#   some days get three times the usual attention by chance, and about 1 day in 1,000 is flagged at either level.)
#   tests/test_watch_trends.py measures the chance rate again on seeds of its own.
MIN_STORIES = 3
MIN_RATIO = 3.0
SCORE_THRESHOLD = 4.0
# Four weeks of baseline: whole weeks so every weekday weighs the same, long enough for a share estimate, short
# enough to follow a watch whose topic slowly grows or fades.
BASELINE_DAYS = 28
# Two weeks of lake coverage before a day can be flagged: the first days of a lake have no past to compare with.
WARMUP_DAYS = 14
# The prior on a watch's share, in stories added to the baseline's matched stories: half a story is the Jeffreys
# prior of a Poisson rate (Gamma(1/2)). A watch that never matched gets a small positive expected count (half a
# story over the baseline's volume) instead of zero, so its first stories are scored, not divided by zero.
PRIOR_STORIES = 0.5
# Flagged days are left out of later baselines (a spike must not raise the bar for the next day of the same
# event), but only while they are at most this share of the baseline's days: when a higher level has held for
# most of the window it is the watch's new normal, and the detector stops flagging it.
MAX_EXCLUDED_SHARE = 0.5

# Upper-tail sums stop when what is left is below this fraction of the sum (float precision).
_TAIL_TOLERANCE = 1e-17
_MAX_TAIL_TERMS = 1_000_000

REASON_SPIKE = "spike"
REASON_NO_COVERAGE = "no lake coverage that day"


@dataclass(frozen=True, slots=True)
class DayCount:
    """One watch on one day: distinct stories matched (a syndicated story once), matched articles, and the distinct
    stories of the whole lake that day (its volume, which carries the weekly rhythm)."""

    day: date
    stories: int
    articles: int
    total_stories: int

    def __post_init__(self) -> None:
        if min(self.stories, self.articles, self.total_stories) < 0:
            raise ValueError(f"{self.day}: negative count in {self}")
        if self.stories > self.total_stories:
            raise ValueError(
                f"{self.day}: {self.stories} stories matched but the lake has {self.total_stories} that day"
            )


@dataclass(frozen=True, slots=True)
class DayScore:
    """The verdict on one day. ``expected`` is the watch's baseline share times the day's lake volume (0 when the
    baseline has no coverage), ``score`` is -log10 of the upper-tail probability of ``observed`` (0 without a
    baseline), ``reason`` says why the day is or is not flagged: ``"spike"``, why it is not eligible
    (``"warm-up: 9 of 14 days"``, ``"no lake coverage that day"``, ``"no lake coverage in the last 28 days"``) or
    which condition failed (``"2 stories, fewer than 3"``, ``"ratio 2.1 below 3"``, ``"score 2.6 below 4"``)."""

    day: date
    observed: int
    expected: float
    score: float
    flagged: bool
    eligible: bool
    reason: str


class EntityRow(NamedTuple):
    """One entity in one article a watch matched (plain tuples in this order are accepted too)."""

    day: date
    entity_id: str
    name: str
    label: str
    mention_count: int
    in_title: bool


@dataclass(frozen=True, slots=True)
class First:
    """An entity that crossed into a watch: the first day it was prominent in the watch's articles, its name on that
    day, and the number of matched articles that day in which it was prominent."""

    entity_id: str
    name: str
    label: str
    day: date
    articles: int


BucketUnit = Literal["day", "week", "month"]


@dataclass(frozen=True, slots=True)
class Bucket:
    """Days summed for a chart: ``start`` is the day, the Monday of the ISO week or the first of the month (the
    period, even when the series covers only part of it), ``days`` the days of the series inside it."""

    start: date
    stories: int
    expected: float
    flagged: bool
    days: int


# -- daily series --------------------------------------------------------------------------------------------------


def fill_days(
    counts: Mapping[date, tuple[int, int]],
    volume: Mapping[date, int],
    *,
    first: date | None = None,
    last: date | None = None,
) -> list[DayCount]:
    """One :class:`DayCount` per calendar day from ``first`` to ``last`` (by default the first and last day of
    ``volume`` and ``counts`` together), in order.

    ``counts`` maps the days the watch matched to ``(stories, articles)``, ``volume`` maps days to the lake's
    distinct stories. A day missing from ``counts`` is a day with no match; a day missing from ``volume`` is a day
    the lake did not cover (volume 0). Raises ValueError (from :class:`DayCount`) on a day with more watch stories
    than lake stories: the two queries disagree, and a share above one would make every score meaningless.
    """
    known = [*counts, *volume]
    if not known and (first is None or last is None):
        return []
    day = min(known) if first is None else first
    end = max(known) if last is None else last
    out: list[DayCount] = []
    while day <= end:
        stories, articles = counts.get(day, (0, 0))
        out.append(DayCount(day, stories, articles, volume.get(day, 0)))
        day += timedelta(days=1)
    return out


# -- spikes --------------------------------------------------------------------------------------------------------


def evaluate_spikes(
    series: Sequence[DayCount],
    *,
    baseline_days: int = BASELINE_DAYS,
    warmup_days: int = WARMUP_DAYS,
    min_stories: int | None = MIN_STORIES,
    threshold: float = SCORE_THRESHOLD,
    min_ratio: float = MIN_RATIO,
    prior_stories: float = PRIOR_STORIES,
) -> list[DayScore]:
    """One :class:`DayScore` per day of ``series``, in day order.

    For day *t* the baseline is the days of the ``baseline_days`` calendar days before *t* that the lake covered
    (``total_stories > 0``), less the days already judged spikes (while they are at most half of them, see
    ``MAX_EXCLUDED_SHARE``). With S the baseline's matched stories and T its lake stories:

    * share = (S + ``prior_stories``) / T and expected = share x the day's lake stories;
    * dispersion = Pearson chi-square of the baseline days against their own expected counts over (days - 1),
      clipped at 1 (news counts vary more than Poisson; never assume less);
    * the day's count is scored under a negative binomial with that mean and variance
      ``dispersion x (expected + expected**2 / (S + prior_stories))``: the Poisson-Gamma predictive (the share is an
      estimate from S stories, not a known rate), both terms widened by the dispersion (overdispersed days make
      the share less certain too). score = -log10 P(X >= observed).

    A day is eligible when the lake covered it, covered ``warmup_days`` days before it (anywhere in the series) and
    covered some day of its baseline window; it is flagged when eligible, ``observed >= min_stories``,
    ``observed >= min_ratio x expected`` and ``score >= threshold``. A day that meets the three conditions during
    the warm-up is not flagged but leaves later baselines all the same: a burst in the lake's first days would
    otherwise inflate the dispersion, and hide the next spike, for four weeks. Days are judged in order because an
    outlier changes the baselines after it; nothing after a day changes its verdict. ``min_stories`` None is the
    default (a watch that sets none). Raises ValueError on a day given twice or on a parameter out of range.
    """
    if min_stories is None:  # a watch that does not set its own
        min_stories = MIN_STORIES
    if baseline_days < 1 or warmup_days < 0 or min_stories < 1 or min_ratio < 0:
        raise ValueError("baseline_days >= 1, warmup_days >= 0, min_stories >= 1 and min_ratio >= 0 are required")
    if prior_stories <= 0:
        raise ValueError("prior_stories must be > 0: a watch with no history would get an expected count of 0")
    days = sorted(series, key=lambda c: c.day)
    for before, after in itertools.pairwise(days):
        if before.day == after.day:
            raise ValueError(f"{after.day}: day given twice")

    scores: list[DayScore] = []
    outliers: set[date] = set()  # days that looked like spikes, eligible or not
    covered_before = 0
    for index, count in enumerate(days):
        window_start = count.day - timedelta(days=baseline_days)
        window = [
            c for c in days[max(0, index - baseline_days) : index] if c.day >= window_start and c.total_stories > 0
        ]
        kept = [c for c in window if c.day not in outliers]
        if len(window) - len(kept) > MAX_EXCLUDED_SHARE * len(window):
            kept = window  # a level held for most of the window is the new normal
        expected, score = _expected_and_score(count, kept, prior_stories)
        eligible, reason = _eligibility(count, covered_before, warmup_days, bool(window), baseline_days)
        verdict = _verdict(count.stories, expected, score, min_stories, min_ratio, threshold)
        if verdict == REASON_SPIKE:
            outliers.add(count.day)
        flagged = eligible and verdict == REASON_SPIKE
        if eligible:
            reason = verdict
        scores.append(DayScore(count.day, count.stories, expected, score, flagged, eligible, reason))
        if count.total_stories > 0:
            covered_before += 1
    return scores


def _expected_and_score(count: DayCount, baseline: Sequence[DayCount], prior_stories: float) -> tuple[float, float]:
    """The expected count of ``count``'s day and the score of its observed count against ``baseline``; (0, 0) when
    there is nothing to compare with (no baseline, or the lake did not cover the day)."""
    lake = sum(c.total_stories for c in baseline)
    if lake == 0 or count.total_stories == 0:
        return 0.0, 0.0
    matched = sum(c.stories for c in baseline) + prior_stories
    share = matched / lake
    expected = share * count.total_stories
    pearson = sum((c.stories - share * c.total_stories) ** 2 / (share * c.total_stories) for c in baseline)
    dispersion = max(1.0, pearson / (len(baseline) - 1)) if len(baseline) > 1 else 1.0
    # Variance = dispersion * (mu + mu**2 / matched); as a negative binomial (variance mu + mu**2 / size):
    size = expected / (dispersion * (1.0 + expected / matched) - 1.0)
    return expected, upper_tail_score(count.stories, expected, size)


def _verdict(observed: int, expected: float, score: float, min_stories: int, min_ratio: float, threshold: float) -> str:
    """``"spike"`` or the first condition the count fails."""
    if observed < min_stories:
        return f"{observed} {'story' if observed == 1 else 'stories'}, fewer than {min_stories}"
    if expected == 0.0:
        return "no baseline"  # only on days that are not eligible
    if observed < min_ratio * expected:
        return f"ratio {observed / expected:.1f} below {min_ratio:g}"
    if score < threshold:
        return f"score {score:.1f} below {threshold:g}"
    return REASON_SPIKE


def _eligibility(
    count: DayCount, covered_before: int, warmup_days: int, has_baseline: bool, baseline_days: int
) -> tuple[bool, str]:
    if count.total_stories == 0:
        return False, REASON_NO_COVERAGE
    if covered_before < warmup_days:
        return False, f"warm-up: {covered_before} of {warmup_days} days"
    if not has_baseline:
        return False, f"no lake coverage in the last {baseline_days} days"
    return True, ""


# -- count model ---------------------------------------------------------------------------------------------------


def log_upper_tail(k: int, mean: float, size: float | None = None) -> float:
    """Natural log of P(X >= k) for X Poisson with ``mean`` (``size`` None) or negative binomial with ``mean`` and
    ``size`` r (variance mean + mean**2 / r). Accurate for tiny tails (no 1 - sum when the tail is small): above
    the mode the tail is summed upward from P(X = k), the terms taken relative to the first one so that nothing
    underflows, and the sum stops when a geometric bound on the rest is below float precision."""
    if k <= 0:
        return 0.0
    if mean <= 0:
        return -math.inf
    if size is not None and size <= 0:
        raise ValueError(f"negative binomial size must be > 0, got {size}")
    if size is None:
        mode = math.floor(mean)

        def log_pmf(j: int) -> float:
            return -mean + j * math.log(mean) - math.lgamma(j + 1)

        def ratio(j: int) -> float:  # P(X = j + 1) / P(X = j)
            return mean / (j + 1)

        limit = 0.0  # Poisson ratios fall towards 0
    else:
        r = size
        log_q = math.log(mean) - math.log(mean + r)  # q = mean / (mean + r), the "failure" probability
        log_p = math.log(r) - math.log(mean + r)
        q = math.exp(log_q)
        mode = math.floor((r - 1.0) * mean / r) if r > 1.0 else 0

        def log_pmf(j: int) -> float:
            return math.lgamma(j + r) - math.lgamma(r) - math.lgamma(j + 1) + r * log_p + j * log_q

        def ratio(j: int) -> float:
            return q * (j + r) / (j + 1)

        limit = q  # negative binomial ratios tend to q (from above when r > 1, from below when r < 1)

    if k <= mode:  # the tail holds at least about half the mass: 1 - P(X < k) is accurate
        below = math.fsum(math.exp(log_pmf(j)) for j in range(k))
        return math.log1p(-min(below, 1.0 - 1e-16))

    total, term, j = 1.0, 1.0, k
    for _ in range(_MAX_TAIL_TERMS):
        term *= ratio(j)
        total += term
        j += 1
        if term == 0.0:
            break
        # Every later ratio is at most max(next ratio, limit) < 1: the rest is below a geometric series.
        bound_ratio = max(ratio(j), limit)
        if bound_ratio < 1.0 and term * bound_ratio / (1.0 - bound_ratio) <= _TAIL_TOLERANCE * total:
            break
    return log_pmf(k) + math.log(total)


def upper_tail_score(k: int, mean: float, size: float | None = None) -> float:
    """-log10 P(X >= k) (see :func:`log_upper_tail`): 0 for an unremarkable count, 3 for one chance in a thousand."""
    return max(0.0, -log_upper_tail(k, mean, size) / math.log(10.0))


# -- firsts --------------------------------------------------------------------------------------------------------


def find_firsts(
    rows: Iterable[tuple[date, str, str, str, int, bool]],
    *,
    coverage_start: date,
    warmup_days: int,
    labels: Sequence[str] = ("PERSON", "ORG", "GPE", "NORP"),
    min_mentions: int = 2,
    min_articles: int = 1,
    within_days: int = 1,
) -> list[First]:
    """The entities that crossed into a watch after its warm-up, one :class:`First` each.

    ``rows`` are :class:`EntityRow` tuples ``(day, entity_id, name, label, mention_count, in_title)``, one per
    entity per matched article. An entity is *prominent* in an article when it is mentioned at least
    ``min_mentions`` times there or appears in its title (a passing mention in one sentence is not attention to
    it). It *crosses* into the watch on the first day it has been prominent in ``min_articles`` of the watch's
    articles within ``within_days`` days ending that day (one article, one day by default; two articles in a
    week make a broad watch's firsts worth reading: one article bringing up a name is not yet a trend). Entities
    prominent in any article before ``coverage_start + warmup_days`` are the watch's starting population and are
    never returned. Only ``labels`` count.

    The name is the one most of the crossing day's prominent rows use (ties: the alphabetically first),
    ``articles`` the number of prominent rows in the window. Ordered by day, then most articles first, then name
    and id.
    """
    if min_articles < 1 or within_days < 1:
        raise ValueError("min_articles and within_days must be >= 1")
    wanted = set(labels)
    days_of: dict[str, list[date]] = defaultdict(list)
    names: dict[tuple[str, date], Counter[str]] = defaultdict(Counter)
    entity_label: dict[str, str] = {}
    for day, entity_id, name, label, mention_count, in_title in rows:
        if label not in wanted or not (in_title or mention_count >= min_mentions):
            continue
        days_of[entity_id].append(day)
        names[entity_id, day][name] += 1
        # One label per id is expected; should two disagree, the result must not depend on the order of the rows.
        entity_label[entity_id] = min(entity_label.get(entity_id, label), label)
    alert_from = coverage_start + timedelta(days=warmup_days)
    firsts: list[First] = []
    for entity_id, days in days_of.items():
        days.sort()
        if days[0] < alert_from:
            continue
        for day in days:
            window = [d for d in days if 0 <= (day - d).days < within_days]
            if len(window) >= min_articles:
                counts = names[entity_id, day]
                name = min(counts, key=lambda n: (-counts[n], n))
                firsts.append(First(entity_id, name, entity_label[entity_id], day, len(window)))
                break
    firsts.sort(key=lambda f: (f.day, -f.articles, f.name, f.entity_id))
    return firsts


# -- charts --------------------------------------------------------------------------------------------------------


def bucket_series(series: Sequence[DayScore], max_points: int = 120) -> tuple[BucketUnit, list[Bucket]]:
    """``(unit, buckets)`` for a chart of ``series``: days as they are when the range spans at most ``max_points``
    days, else ISO weeks when at most ``max_points`` weeks are touched, else months. Stories and expected counts
    are summed, a bucket is flagged when any of its days is. Buckets in order, only those holding days of the
    series."""
    if max_points < 1:
        raise ValueError("max_points must be >= 1")
    if not series:
        return "day", []
    days = sorted(series, key=lambda s: s.day)
    span = (days[-1].day - days[0].day).days + 1
    unit: BucketUnit
    if span <= max_points:
        unit = "day"
    elif len({_period_start(s.day, "week") for s in days}) <= max_points:
        unit = "week"
    else:
        unit = "month"
    buckets: list[Bucket] = []
    for score in days:
        start = _period_start(score.day, unit)
        if buckets and buckets[-1].start == start:
            last = buckets[-1]
            buckets[-1] = Bucket(
                start,
                last.stories + score.observed,
                last.expected + score.expected,
                last.flagged or score.flagged,
                last.days + 1,
            )
        else:
            buckets.append(Bucket(start, score.observed, score.expected, score.flagged, 1))
    return unit, buckets


def _period_start(day: date, unit: BucketUnit) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if unit == "month":
        return day.replace(day=1)
    return day
