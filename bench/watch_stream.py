"""A news stream from real article texts, with a known burst, a steady topic and a syndicated story, for the
watch tests and the watch benchmark.

    python -m bench.watch_stream pool [--data ../shared/data] [--out tests/fixtures/watch/pool.jsonl.gz]
    python -m bench.watch_stream write OUT.jsonl [--seed N] [--days 60] [--start 2025-03-03] [--pool PATH]

**The pool** (built once, committed as ``tests/fixtures/watch/pool.jsonl.gz``) holds real article texts as the
lake would hold them: the benchmark pages (``<data>/bench/manifest.jsonl``) run through the clean stage itself, keeping
the pages that became complete articles (not teasers) of 80 words or more, and the real stories of the dedup
development set (its originals and shared-paragraph hosts, never its generated variants; a host is taken without
the paragraph of another story that was inserted into it). Each text is cut to its lead, whole paragraphs up to
about 180 words, so that the fixture stays small. The two sources hold some of the same articles (the dedup set
took its texts from the same repositories' pages), so exact copies and every pair the dedup stage links are
dropped: the pool holds no hidden duplicates.

**The stream** (:func:`build_stream`, pure and deterministic for a seed) lays pool texts over ``days`` days of
publication: a weekly rhythm of background news, a *burst topic* on three days, a *steady topic* spread evenly
and, on one day, one story of the steady topic run by twelve more outlets. The two topics are picked from the
data by a rule (:func:`pick_topics`), not by name, and the stream's :class:`StreamTruth` says where everything
went, so a test can check what a watch over the ingested stream must see.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import SHARED_DATA
from bench.watch_pool import POOL_PATH, PoolText, build_pool, load_pool, paragraphs_of, write_pool
from tasks.clean import count_words
from tasks.outlets import outlet_of

# ---------------------------------------------------------------------------------------------- the topics

# A token with the apostrophes and hyphens that may join it to its neighbours ("Trump's", "public-private"), or
# one punctuation mark.
_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")
# A token that is a plain ASCII word on its own: every word tokeniser reads it as one whole word, whatever it
# does with apostrophes, hyphens and digits, so a watch query for it matches it.
_PLAIN_WORD = re.compile(r"[A-Za-z]+")
# Shortest topic term: three-letter words are mostly abbreviations or parts of names.
MIN_TERM_CHARS = 4
# A noun makes a whole noun phrase with "the" ("the public.", "the city of") in at least this share of its uses;
# an adjective after "the" is followed by its noun ("the best way", "the national team"), and reporting verbs
# and adverbs ("said", "according"), frequent in every story, never follow "the".
MIN_NOUN_SHARE = 0.1
# Burst texts spread over the days that are not burst days: at most one every other day, so that no such day
# looks like a burst; and at least this many, so the burst topic has a baseline to rise from.
MIN_THIN_TEXTS = 6


@dataclass(frozen=True, slots=True)
class TermStats:
    """How a candidate term occurs in the pool: ``members`` are the texts where it stands as a plain word,
    ``english`` how many of them are English, ``noun_share`` the share of its English uses that make a whole
    noun phrase with "the" (see ``MIN_NOUN_SHARE``), ``display`` its most frequent spelling."""

    term: str
    members: frozenset[str]
    english: int
    noun_share: float
    display: str


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of a stream: its term, and the texts it owns (``own``: where the term stands as a plain word
    and the other topic's term does not occur) and touches (``touched``: where the term occurs at all, inside
    a longer word, joined by a hyphen or an apostrophe, or with accents)."""

    stats: TermStats
    own: frozenset[str]
    touched: frozenset[str]

    @property
    def term(self) -> str:
        """Return the term, lower case."""
        return self.stats.term

    @property
    def query(self) -> str:
        """Return the watch query of the topic: the term as a one-word phrase, in its usual spelling."""
        return f'"{self.stats.display}"'


@dataclass(frozen=True, slots=True)
class Topics:
    """The two topics of a stream."""

    burst: Topic
    steady: Topic


def fold(text: str) -> str:
    """Return ``text`` case-folded and without accents: the most a watch's word matching could ignore."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _stop_words() -> frozenset[str]:
    """Return spaCy's English stop words (function words and the most general verbs and adverbs)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def term_stats(pool: Sequence[PoolText]) -> dict[str, TermStats]:
    """Return the stats of every candidate term of the pool: a plain ASCII word of ``MIN_TERM_CHARS`` letters
    or more, not a stop word, found in title or text (case-insensitive)."""
    stop = _stop_words()
    members: dict[str, set[str]] = defaultdict(set)
    english: Counter[str] = Counter()
    uses: Counter[str] = Counter()
    after_the: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for text in pool:
        tokens = _TOKEN.findall(f"{text.title}\n{text.text}")
        lowered = [token.casefold() for token in tokens] + ["."]
        seen: set[str] = set()
        for n, token in enumerate(tokens):
            term = lowered[n]
            if len(term) < MIN_TERM_CHARS or term in stop or not _PLAIN_WORD.fullmatch(token):
                continue
            seen.add(term)
            spellings[term][token] += 1
            if text.language == "en":
                uses[term] += 1
                following = lowered[n + 1]
                closed = following in stop or not _PLAIN_WORD.match(following)
                after_the[term] += n > 0 and lowered[n - 1] == "the" and closed
        for term in seen:
            members[term].add(text.id)
            english[term] += text.language == "en"
    stats: dict[str, TermStats] = {}
    for term, ids in members.items():
        display = min(spellings[term].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        share = after_the[term] / uses[term] if uses[term] else 0.0
        stats[term] = TermStats(term, frozenset(ids), english[term], share, display)
    return stats


def touching(folded: dict[str, str], term: str) -> frozenset[str]:
    """Return the ids of the texts (``folded``: id -> :func:`fold` of title and text) that contain ``term``."""
    return frozenset(i for i, content in folded.items() if term in content)


def pick_topics(pool: Sequence[PoolText], days: int = 60, burst_days: int = 3, per_burst: int = 8) -> Topics:
    """Return the burst and steady topics of ``pool`` by rule.

    Candidates are nouns by the rule of ``MIN_NOUN_SHARE`` (names, never written after "the", do not qualify; no
    name of this pool is in enough texts for a burst anyway). The burst term is the candidate in the most English
    texts whose own texts (in any language) fill the burst days and then at most every other remaining day,
    with at least ``MIN_THIN_TEXTS`` left for those. The steady term is the other candidate in the most English
    texts whose own texts come to between one every other day and one a day. A text that holds both terms
    belongs to neither (it is left out of the stream). Raises ValueError when no pair qualifies.
    """
    stats = term_stats(pool)
    folded = {text.id: fold(f"{text.title}\n{text.text}") for text in pool}
    nouns = sorted((s for s in stats.values() if s.noun_share >= MIN_NOUN_SHARE), key=lambda s: (-s.english, s.term))
    burst_min = burst_days * per_burst + MIN_THIN_TEXTS
    burst_max = burst_days * per_burst + (days - burst_days - 1) // 2
    for burst in nouns:
        if not burst_min <= len(burst.members) <= burst_max:
            continue
        burst_touched = touching(folded, burst.term)
        for steady in nouns:
            if steady.term in burst.term or burst.term in steady.term:
                continue
            steady_own = steady.members - burst_touched
            if not days // 2 <= len(steady_own) <= days - 1:
                continue
            steady_touched = touching(folded, steady.term)
            burst_own = burst.members - steady_touched
            if burst_min <= len(burst_own):
                return Topics(
                    Topic(burst, frozenset(burst_own), burst_touched),
                    Topic(steady, frozenset(steady_own), steady_touched),
                )
    raise ValueError(f"no burst and steady topic in a pool of {len(pool)} texts over {days} days")


# ---------------------------------------------------------------------------------------------- the stream

DEFAULT_SEED = 2025
# A Monday, so that the weekly rhythm starts with a full week.
DEFAULT_START = date(2025, 3, 3)
DEFAULT_DAYS = 60
# Background items a day: a regional desk's working week against its weekend (inclusive ranges, means 15 and 5).
WEEKDAY_ITEMS = (13, 17)
WEEKEND_ITEMS = (4, 6)
BURST_DAYS = 3
# Distinct stories of the burst topic on each burst day: against at most one on other days, a rise no spike
# detector can miss, while the day's other news goes on.
STORIES_PER_BURST_DAY = 8
# Burst days fall after this many days of history (a spike needs a baseline; a third of a shorter stream) and at
# least a week apart.
FIRST_BURST_DAY = 21
BURST_GAP_DAYS = 7
# Outlets that run the syndicated story besides its own: 13 articles, one story.
SYNDICATION_COPIES = 12
# Hours (UTC) within which items are published: two hours or more from midnight, so that an item falls on the
# same day for a reader up to two hours east or west of UTC.
FIRST_HOUR, LAST_HOUR = 6, 21

# Invented outlets on the reserved .example domain, each with the lines it puts around a copy.
SYNDICATION_OUTLETS: tuple[tuple[str, str], ...] = (
    ("Northern Ledger", "northern-ledger"),
    ("Harbour Gazette", "harbour-gazette"),
    ("Valley Courier", "valley-courier"),
    ("Lakeside Herald", "lakeside-herald"),
    ("Coastal Tribune", "coastal-tribune"),
    ("Midland Post", "midland-post"),
    ("River Town Times", "river-town-times"),
    ("Highland Observer", "highland-observer"),
    ("Evening Chronicle", "evening-chronicle"),
    ("Prairie Journal", "prairie-journal"),
    ("Metro Bulletin", "metro-bulletin"),
    ("Summit Record", "summit-record"),
    ("Bay Sentinel", "bay-sentinel"),
    ("Granite State Dispatch", "granite-state-dispatch"),
)
SYNDICATION_HEADERS = ("{name}", "{name} | Newswire", "From the {name} news desk")
SYNDICATION_FOOTERS = (
    "© {year} {name}. All rights reserved.",
    "Copyright {year} {name}. Distributed to partner newspapers.",
    "Follow {name} for more updates.",
)
# Wire services re-send a story with this in front of the headline when they update it.
UPDATE_PREFIX = "UPDATE 1-"


@dataclass(frozen=True, slots=True)
class StreamTruth:
    """What the stream holds by construction, for a test or a benchmark to check a watch against.

    ``daily`` has one row per day: ``day``, ``items``, ``burst_articles``, ``steady_articles`` and
    ``steady_stories`` (the syndicated copies counted once). The topics' articles are the items whose title or
    text holds the term as a plain word; no other item holds it at all, not even inside another word.
    """

    seed: int
    start: str
    days: int
    burst_watch: str
    burst_term: str
    burst_query: str
    burst_days: list[str]
    steady_watch: str
    steady_term: str
    steady_query: str
    syndication_day: str
    syndicated_story: str
    syndicated_copies: list[str]
    syndication_outlets: list[str]
    daily: list[dict[str, Any]]
    counts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the truth as a JSON object."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Stream:
    """The items of a stream (JSONL-ready dicts for ``mediawatch run``, in publication order) and its truth."""

    items: list[dict[str, Any]]
    truth: StreamTruth


def _moment(day: date, rng: random.Random) -> datetime:
    """Return a publication time on ``day`` between ``FIRST_HOUR`` and ``LAST_HOUR`` (UTC), to the minute."""
    minute = rng.randrange(FIRST_HOUR * 60, LAST_HOUR * 60)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=UTC)


def _item(text: PoolText, moment: datetime) -> dict[str, Any]:
    """Return the stream item of a pool text published at ``moment``."""
    return {
        "id": text.id,
        "url": text.url,
        "title": text.title,
        "text": text.text,
        "published_at": moment.isoformat(),
        "outlet": text.outlet,
        "language": text.language,
    }


def _slug(title: str, fallback: str) -> str:
    """Return a URL slug of the first eight words of ``title`` (ASCII letters and digits), else ``fallback``."""
    words = re.findall(r"[a-z0-9]+", fold(title))[:8]
    return "-".join(words) or fallback


def _pick_days(candidates: Sequence[int], count: int, gap: int, rng: random.Random) -> list[int]:
    """Return ``count`` of ``candidates``, at least ``gap`` apart, drawn with ``rng``; ValueError if impossible."""
    for _attempt in range(1000):
        chosen = sorted(rng.sample(list(candidates), count))
        if all(b - a >= gap for a, b in itertools.pairwise(chosen)):
            return chosen
    raise ValueError(f"cannot place {count} days {gap} apart among {len(candidates)} candidates")


def _spread(count: int, slots: int) -> list[int]:
    """Return how many of ``count`` things go in each of ``slots`` slots, as evenly as integers allow."""
    return [(k + 1) * count // slots - k * count // slots for k in range(slots)]


def syndicate(
    original: PoolText, moment: datetime, outlets: Sequence[tuple[str, str]], rng: random.Random
) -> list[dict[str, Any]]:
    """Return the copies of ``original`` run by ``outlets`` on the day of ``moment``.

    Each copy has its outlet's URL, a header line and a footer line of that outlet around the same text, a
    publication time after the original's (same UTC day), and every third copy a wire update prefix on the
    headline: what a dedup stage must still recognise as one story.
    """
    copies: list[dict[str, Any]] = []
    when = moment
    limit = datetime.combine(moment.date(), time(LAST_HOUR), tzinfo=UTC)
    for k, (name, slug) in enumerate(outlets, start=1):
        when = min(when + timedelta(minutes=rng.randrange(5, 40)), limit)
        header = SYNDICATION_HEADERS[rng.randrange(len(SYNDICATION_HEADERS))].format(name=name)
        footer = SYNDICATION_FOOTERS[rng.randrange(len(SYNDICATION_FOOTERS))].format(name=name, year=when.year)
        url = f"https://www.{slug}.example/news/{when:%Y/%m/%d}/{_slug(original.title, original.id)}"
        copies.append(
            {
                "id": f"{original.id}-copy{k:02d}",
                "url": url,
                "title": (UPDATE_PREFIX if k % 3 == 0 else "") + original.title,
                "text": f"{header}\n\n{original.text}\n\n{footer}",
                "published_at": when.isoformat(),
                "outlet": outlet_of(url),
                "language": original.language,
            }
        )
    return copies


def _clean_outlets(topics: Topics) -> list[tuple[str, str]]:
    """Return the syndication outlets whose lines hold neither topic term (they must not add matches)."""
    terms = (topics.burst.term, topics.steady.term)
    lines = (*SYNDICATION_HEADERS, *SYNDICATION_FOOTERS)
    return [
        (name, slug)
        for name, slug in SYNDICATION_OUTLETS
        if not any(term in fold(line.format(name=name, year=2000) + slug) for term in terms for line in lines)
    ]


def _syndication_text(texts: Sequence[PoolText]) -> list[PoolText]:
    """Return the texts fit to be syndicated: English, with a URL (its outlet counts), and three paragraphs or
    more of 100 words or more in all (a copy's header and footer must stay a small part of it)."""
    return [
        t
        for t in texts
        if t.language == "en" and t.url and len(paragraphs_of(t.text)) >= 3 and count_words(t.text) >= 100
    ]


def build_stream(
    pool: Sequence[PoolText],
    seed: int = DEFAULT_SEED,
    days: int = DEFAULT_DAYS,
    start: date = DEFAULT_START,
) -> Stream:
    """Return a stream of ``days`` days of news from ``pool`` starting on ``start``, the same for the same seed.

    - Background: every day ``WEEKDAY_ITEMS`` or ``WEEKEND_ITEMS`` texts that hold neither topic term.
    - Burst topic (:func:`pick_topics`): ``STORIES_PER_BURST_DAY`` of its texts on each of ``BURST_DAYS``
      weekdays (after ``FIRST_BURST_DAY`` days, a week apart or more), the rest at most one a day on other days.
    - Steady topic: its texts spread evenly over the days, one at most, except on the syndication day.
    - Syndication day (a weekday that is no burst day nor next to one): one steady-topic text and its
      ``SYNDICATION_COPIES`` copies (:func:`syndicate`), and no other text of the steady topic.

    No pool text appears twice (a reused text would be a copy, not a new article); only the copies repeat a text.
    Raises ValueError when the pool has too few texts for the plan.
    """
    rng = random.Random(seed)
    ordered = sorted(pool, key=lambda t: t.id)
    by_id = {t.id: t for t in ordered}
    topics = pick_topics(ordered, days, BURST_DAYS, STORIES_PER_BURST_DAY)
    day_list = [start + timedelta(days=n) for n in range(days)]
    weekdays = [n for n, d in enumerate(day_list) if d.weekday() < 5]

    first_burst = min(FIRST_BURST_DAY, days // 3)
    burst_days = _pick_days([n for n in weekdays if n >= first_burst], BURST_DAYS, BURST_GAP_DAYS, rng)
    # The syndication day, too, comes after some history: its 13 articles must stand against a baseline.
    free = [n for n in weekdays if n >= min(14, days // 4) and all(abs(n - b) > 1 for b in burst_days)]
    if not free:
        raise ValueError(f"no weekday of {days} days is free for the syndicated story")
    syndication_day = free[rng.randrange(len(free))]

    placed: dict[int, list[PoolText]] = defaultdict(list)
    burst_texts = [by_id[i] for i in sorted(topics.burst.own)]
    rng.shuffle(burst_texts)
    for k, n in enumerate(burst_days):
        placed[n].extend(burst_texts[k * STORIES_PER_BURST_DAY : (k + 1) * STORIES_PER_BURST_DAY])
    thin = burst_texts[BURST_DAYS * STORIES_PER_BURST_DAY :]
    other_days = [n for n in range(days) if n not in burst_days]
    thin = thin[: len(other_days)]
    for n, text in zip(sorted(rng.sample(other_days, len(thin))), thin, strict=True):
        placed[n].append(text)

    steady_texts = [by_id[i] for i in sorted(topics.steady.own)]
    candidates = _syndication_text(steady_texts)
    if not candidates:
        raise ValueError(f"no text of the steady topic {topics.steady.term!r} can be syndicated")
    original = candidates[rng.randrange(len(candidates))]
    steady_texts.remove(original)
    rng.shuffle(steady_texts)
    steady_days = [n for n in range(days) if n != syndication_day]
    cursor = 0
    for n, count in zip(steady_days, _spread(len(steady_texts), len(steady_days)), strict=True):
        placed[n].extend(steady_texts[cursor : cursor + count])
        cursor += count

    background = [t for t in ordered if t.id not in topics.burst.touched and t.id not in topics.steady.touched]
    rng.shuffle(background)
    needed = 0
    for n, d in enumerate(day_list):
        low, high = WEEKDAY_ITEMS if d.weekday() < 5 else WEEKEND_ITEMS
        count = rng.randint(low, high)
        if needed + count > len(background):
            raise ValueError(f"the pool's {len(background)} background texts run out on day {n + 1} of {days}")
        placed[n].extend(background[needed : needed + count])
        needed += count

    items: list[dict[str, Any]] = []
    for n, d in enumerate(day_list):
        for text in placed[n]:
            items.append(_item(text, _moment(d, rng)))
    syndicated_at = datetime.combine(day_list[syndication_day], time(FIRST_HOUR, rng.randrange(60)), tzinfo=UTC)
    items.append(_item(original, syndicated_at))
    outlets = _clean_outlets(topics)
    if len(outlets) < SYNDICATION_COPIES:
        raise ValueError(f"only {len(outlets)} syndication outlets hold neither topic term")
    copies = syndicate(original, syndicated_at, rng.sample(outlets, SYNDICATION_COPIES), rng)
    items.extend(copies)
    copy_of = {copy["id"]: original.id for copy in copies}
    items.sort(key=lambda item: (item["published_at"], item["id"]))

    truth = StreamTruth(
        seed=seed,
        start=start.isoformat(),
        days=days,
        burst_watch="burst_topic",
        burst_term=topics.burst.term,
        burst_query=topics.burst.query,
        burst_days=[day_list[n].isoformat() for n in burst_days],
        steady_watch="steady_topic",
        steady_term=topics.steady.term,
        steady_query=topics.steady.query,
        syndication_day=day_list[syndication_day].isoformat(),
        syndicated_story=original.id,
        syndicated_copies=[c["id"] for c in copies],
        syndication_outlets=[str(c["outlet"]) for c in copies],
        daily=_daily(items, day_list, topics, copy_of),
        counts=_counts(items, topics, copy_of),
    )
    return Stream(items, truth)


def _daily(
    items: Sequence[dict[str, Any]], day_list: Sequence[date], topics: Topics, copy_of: dict[str, str]
) -> list[dict[str, Any]]:
    """Return the per-day rows of the truth (see :class:`StreamTruth`); ``copy_of`` maps a copy to its original."""
    counts: dict[str, Counter[str]] = {d.isoformat(): Counter() for d in day_list}
    for item in items:
        day = counts[item["published_at"][:10]]
        day["items"] += 1
        base = copy_of.get(item["id"], item["id"])
        day["burst_articles"] += base in topics.burst.own
        day["steady_articles"] += base in topics.steady.own
        day["steady_stories"] += base in topics.steady.own and item["id"] not in copy_of
    columns = ("items", "burst_articles", "steady_articles", "steady_stories")
    return [{"day": day, **{c: counts[day][c] for c in columns}} for day in counts]


def _counts(items: Sequence[dict[str, Any]], topics: Topics, copy_of: dict[str, str]) -> dict[str, Any]:
    """Return the totals of the truth: items, distinct texts, copies, topic articles and items per language."""
    bases = [copy_of.get(item["id"], item["id"]) for item in items]
    return {
        "items": len(items),
        "distinct_texts": len(set(bases)),
        "copies": len(copy_of),
        "burst_articles": sum(1 for b in bases if b in topics.burst.own),
        "steady_articles": sum(1 for b in bases if b in topics.steady.own),
        "languages": dict(sorted(Counter(str(item["language"]) for item in items).items())),
    }


# ------------------------------------------------------------------------------------------------ commands


def summary(stream: Stream) -> str:
    """Return a few lines that describe a stream: sizes, topics, burst and syndication days, weekly rhythm."""
    truth = stream.truth
    weekday: list[int] = []
    weekend: list[int] = []
    for row in truth.daily:
        (weekday if date.fromisoformat(row["day"]).weekday() < 5 else weekend).append(row["items"])
    burst_rows = [r for r in truth.daily if r["day"] in truth.burst_days]
    other_burst = max(r["burst_articles"] for r in truth.daily if r["day"] not in truth.burst_days)
    steady = [r["steady_stories"] for r in truth.daily]
    counts = truth.counts
    return "\n".join(
        [
            f"{counts['items']} items over {truth.days} days from {truth.start} (seed {truth.seed}): "
            f"{counts['distinct_texts']} distinct texts, {counts['copies']} syndicated copies",
            f"languages: {', '.join(f'{k} {v}' for k, v in counts['languages'].items())}",
            f"items a day: weekdays {sum(weekday) / len(weekday):.1f}, weekends {sum(weekend) / len(weekend):.1f}",
            f"burst topic {truth.burst_query} ({truth.burst_watch}): {counts['burst_articles']} articles; on "
            + ", ".join(f"{r['day']} {r['burst_articles']}" for r in burst_rows)
            + f"; at most {other_burst} on any other day",
            f"steady topic {truth.steady_query} ({truth.steady_watch}): {counts['steady_articles']} articles; "
            f"stories a day {min(steady)}-{max(steady)}",
            f"syndication day {truth.syndication_day}: {truth.syndicated_story} and "
            f"{len(truth.syndicated_copies)} copies ({', '.join(truth.syndication_outlets[:3])}, ...)",
        ]
    )


def write_stream(stream: Stream, out: Path) -> Path:
    """Write the stream's items to ``out`` (JSONL) and its truth beside it (``<stem>.truth.json``); return the
    truth's path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as lines:
        for item in stream.items:
            lines.write(json.dumps(item, ensure_ascii=False) + "\n")
    truth_path = out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(stream.truth.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth_path


def main(argv: list[str] | None = None) -> int:
    """Build the pool (``pool``) or write a stream and its truth (``write``); print what was made."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    pool_cmd = commands.add_parser("pool", help="build the pool of real article leads")
    pool_cmd.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    pool_cmd.add_argument("--out", type=Path, default=POOL_PATH)
    pool_cmd.add_argument("--workers", type=int, default=2, help="clean stage worker processes")
    write_cmd = commands.add_parser("write", help="write a stream (JSONL) and its truth (.truth.json)")
    write_cmd.add_argument("out", type=Path)
    write_cmd.add_argument("--seed", type=int, default=DEFAULT_SEED)
    write_cmd.add_argument("--days", type=int, default=DEFAULT_DAYS)
    write_cmd.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    write_cmd.add_argument("--pool", type=Path, default=POOL_PATH)
    args = parser.parse_args(argv)
    if args.command == "pool":
        texts, dropped = build_pool(args.data, args.workers)
        write_pool(args.out, texts)
        by_set = Counter(t.origin["set"] for t in texts)
        print(
            f"{len(texts)} texts ({', '.join(f'{k} {v}' for k, v in sorted(by_set.items()))}), "
            f"{len(dropped)} copies dropped; {args.out} ({args.out.stat().st_size / 1024:.0f} KB)"
        )
        languages = Counter(t.language for t in texts)
        print("per language: " + ", ".join(f"{k} {v}" for k, v in languages.most_common()))
        return 0
    stream = build_stream(load_pool(args.pool), seed=args.seed, days=args.days, start=args.start)
    truth_path = write_stream(stream, args.out)
    print(summary(stream))
    print(f"wrote {args.out} and {truth_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
