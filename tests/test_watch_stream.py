"""The watch stream (bench/watch_stream.py): real article leads laid out over 60 days with a known burst, a steady
topic and a syndicated story. Checked here against the stream's own items, with counts made independently of the
builder, and against mediawatch's loader, clean stage and dedup stage (no lake)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.watch_pool import POOL_PATH, lead_of, load_pool, paragraphs_of
from bench.watch_stream import (
    DEFAULT_DAYS,
    DEFAULT_START,
    STORIES_PER_BURST_DAY,
    SYNDICATION_COPIES,
    Stream,
    build_stream,
    fold,
    main,
    write_stream,
)
from tasks.clean import CleanOptions, clean_item, count_words
from tasks.dedup import DedupIndex, DedupOptions
from tasks.ids import content_hash
from tasks.load import LoadOptions, discover_local, load_items
from tasks.records import Article

SEED = 11


@pytest.fixture(scope="module")
def pool() -> list[Any]:
    return load_pool()


@pytest.fixture(scope="module")
def stream(pool: list[Any]) -> Stream:
    return build_stream(pool, seed=SEED)


def _has_word(item: dict[str, Any], term: str) -> bool:
    """Whether ``term`` stands as a whole word in the item's title or text (this test's own reading)."""
    return re.search(rf"\b{re.escape(term)}\b", f"{item['title']}\n{item['text']}", re.IGNORECASE) is not None


def _day(item: dict[str, Any]) -> str:
    return datetime.fromisoformat(item["published_at"]).astimezone(UTC).date().isoformat()


def _per_day(stream: Stream, term: str, *, copies: bool = True) -> Counter[str]:
    skip = set(stream.truth.syndicated_copies) if not copies else set()
    return Counter(_day(i) for i in stream.items if i["id"] not in skip and _has_word(i, term))


# ------------------------------------------------------------------------------------------------ the pool


def test_pool_is_a_small_fixture_of_distinct_real_leads(pool: list[Any]) -> None:
    assert POOL_PATH.stat().st_size < 700 * 1024
    assert len(pool) > 900
    assert len({t.id for t in pool}) == len(pool)
    assert len({content_hash(t.text) for t in pool}) == len(pool)
    languages = Counter(t.language for t in pool)
    assert languages["en"] > 350 and languages["de"] > 300
    assert {t.origin["set"] for t in pool} == {"bench", "dedup"}
    for text in pool:
        assert text.title.strip() and text.text.strip()
        paragraphs = paragraphs_of(text.text)
        # a lead: whole paragraphs up to ~180 words, more only when the first paragraph alone is longer
        assert count_words(text.text) <= 180 or count_words(" ".join(paragraphs[:-1])) < 60


def test_lead_keeps_whole_paragraphs_and_at_least_the_first() -> None:
    first = " ".join(["alpha"] * 30)
    second = " ".join(["beta"] * 50)
    third = " ".join(["gamma"] * 120)
    assert lead_of(f"{first}\n\n{second}\n\n{third}") == f"{first}\n\n{second}"
    assert lead_of(f"{third}\n\n{third}\n\n{first}") == f"{third}"
    long_first = " ".join(["delta"] * 400)
    assert lead_of(f"{long_first}\n\n{first}") == long_first
    # a headline-like first line does not make a lead on its own
    body = " ".join(["epsilon"] * 170)
    assert lead_of(f"Short headline\n\n{body}\n\n{first}") == f"Short headline\n\n{body}"


def test_fold_drops_case_and_accents() -> None:
    assert fold("Pública PUBLIC") == "publica public"


# ---------------------------------------------------------------------------------------------- the stream


def test_stream_is_deterministic_for_a_seed(pool: list[Any], stream: Stream) -> None:
    again = build_stream(pool, seed=SEED)
    assert again.items == stream.items
    assert again.truth == stream.truth
    other = build_stream(pool, seed=SEED + 1)
    assert [i["id"] for i in other.items] != [i["id"] for i in stream.items]
    # the topics come from the data, not from the seed
    assert (other.truth.burst_term, other.truth.steady_term) == (stream.truth.burst_term, stream.truth.steady_term)


def test_stream_size_and_dates(stream: Stream) -> None:
    assert 800 <= len(stream.items) <= 1000
    first, last = DEFAULT_START, DEFAULT_START + timedelta(days=DEFAULT_DAYS - 1)
    for item in stream.items:
        moment = datetime.fromisoformat(item["published_at"])
        assert moment.tzinfo is not None
        assert first <= moment.astimezone(UTC).date() <= last
    assert [i["published_at"] for i in stream.items] == sorted(i["published_at"] for i in stream.items)


def test_texts_are_distinct_except_the_syndicated_copies(stream: Stream) -> None:
    truth = stream.truth
    copies = [i for i in stream.items if i["id"] in set(truth.syndicated_copies)]
    others = [i for i in stream.items if i["id"] not in set(truth.syndicated_copies)]
    assert len(copies) == SYNDICATION_COPIES
    assert len({i["id"] for i in stream.items}) == len(stream.items)
    assert len({content_hash(i["text"]) for i in others}) == len(others)
    assert len({i["url"] for i in stream.items if i["url"]}) == sum(1 for i in stream.items if i["url"])
    original = next(i for i in others if i["id"] == truth.syndicated_story)
    for copy in copies:
        # the same text between one header line and one footer line of the copy's outlet
        header, body = copy["text"].split("\n\n", 1)
        body, footer = body.rsplit("\n\n", 1)
        assert body == original["text"]
        assert header and footer and header != footer
        assert copy["title"].removeprefix("UPDATE 1-") == original["title"]


def test_weekly_rhythm(stream: Stream) -> None:
    per_day = Counter(_day(i) for i in stream.items)
    weekday = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() < 5]
    weekend = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() >= 5]
    assert len(per_day) == DEFAULT_DAYS
    assert sum(weekday) / len(weekday) > 2 * sum(weekend) / len(weekend)
    assert min(weekday) > max(weekend)
    assert [r["items"] for r in stream.truth.daily] == [per_day[r["day"]] for r in stream.truth.daily]


def test_burst_days_hold_the_burst_topic(stream: Stream) -> None:
    truth = stream.truth
    assert truth.burst_query.casefold() == f'"{truth.burst_term}"'
    counts = _per_day(stream, truth.burst_term)
    assert len(truth.burst_days) == 3
    for day in truth.burst_days:
        assert counts[day] == STORIES_PER_BURST_DAY
        assert date.fromisoformat(day).weekday() < 5
    quiet = [counts[r["day"]] for r in truth.daily if r["day"] not in truth.burst_days]
    assert max(quiet) <= 1 and sum(quiet) >= 6
    burst_dates = sorted(date.fromisoformat(d) for d in truth.burst_days)
    assert all((b - a).days >= 7 for a, b in itertools.pairwise(burst_dates))
    assert {r["day"]: r["burst_articles"] for r in truth.daily} == {r["day"]: counts[r["day"]] for r in truth.daily}


def test_no_other_item_holds_a_topic_term_even_inside_a_word(stream: Stream) -> None:
    truth = stream.truth
    for term in (truth.burst_term, truth.steady_term):
        for item in stream.items:
            folded = fold(f"{item['title']}\n{item['text']}")
            if term in folded:
                assert _has_word(item, term), (term, item["id"])
    both = [i for i in stream.items if _has_word(i, truth.burst_term) and _has_word(i, truth.steady_term)]
    assert not both


def test_steady_topic_is_spread_evenly(stream: Stream) -> None:
    truth = stream.truth
    stories = _per_day(stream, truth.steady_term, copies=False)
    articles = _per_day(stream, truth.steady_term)
    days = [r["day"] for r in truth.daily]
    assert all(stories[d] <= 1 for d in days)
    assert sum(1 for d in days if stories[d]) >= DEFAULT_DAYS // 2
    # evenly: every week holds some of it, and no week twice as much as another but one
    weeks: dict[int, int] = defaultdict(int)
    for n, d in enumerate(days[:56]):
        weeks[n // 7] += stories[d]
    assert min(weeks.values()) >= 3
    assert articles[truth.syndication_day] == SYNDICATION_COPIES + 1
    assert stories[truth.syndication_day] == 1
    assert {r["day"]: (r["steady_articles"], r["steady_stories"]) for r in truth.daily} == {
        d: (articles[d], stories[d]) for d in days
    }


def test_syndication_day(stream: Stream) -> None:
    truth = stream.truth
    assert truth.syndication_day not in truth.burst_days
    items = [i for i in stream.items if i["id"] in {truth.syndicated_story, *truth.syndicated_copies}]
    assert {_day(i) for i in items} == {truth.syndication_day}
    original = next(i for i in items if i["id"] == truth.syndicated_story)
    copies = [i for i in items if i is not original]
    assert original["language"] == "en" and _has_word(original, truth.steady_term)
    assert all(c["published_at"] > original["published_at"] for c in copies)
    outlets = {i["outlet"] for i in items}
    assert len(outlets) == SYNDICATION_COPIES + 1
    assert all(c["outlet"].endswith(".example") and c["url"].startswith("https://www.") for c in copies)
    assert sorted(truth.syndication_outlets) == sorted(c["outlet"] for c in copies)


def _ingest(path: Path) -> tuple[list[Any], list[Article]]:
    """Read a stream file the way ``mediawatch run`` does (loader, then clean stage); return items and articles."""
    refs, rejections, skipped = discover_local([str(path)], LoadOptions())
    assert not rejections and not skipped
    items, rejections = load_items(refs, LoadOptions())
    assert not rejections
    articles = [clean_item(item, CleanOptions(workers=0)) for item in items]
    assert all(isinstance(a, Article) for a in articles)
    return items, [a for a in articles if isinstance(a, Article)]


def test_items_carry_what_mediawatch_run_reads_and_dedup_sees_one_syndicated_story(
    stream: Stream, tmp_path: Path
) -> None:
    path = tmp_path / "stream.jsonl"
    write_stream(stream, path)
    raw, articles = _ingest(path)
    assert len(raw) == len(stream.items)
    for item, given in zip(raw, stream.items, strict=True):
        assert set(given) == {"id", "url", "title", "text", "published_at", "outlet", "language"}
        assert item.kind == "text"
        assert item.external_id == given["id"]
        assert item.url == given["url"]
        assert item.title == given["title"]
        assert item.published_at == given["published_at"]
        assert item.source == given["outlet"]
        assert item.language == given["language"]
    for article, given in zip(articles, stream.items, strict=True):
        assert article.published_at == datetime.fromisoformat(given["published_at"])
    decisions = DedupIndex(DedupOptions()).check_and_add(articles)
    by_id = {a.article_id: a.external_id for a in articles}
    linked = {
        a.external_id: by_id.get(d.cluster_id) for a, d in zip(articles, decisions, strict=True) if d.duplicate_of
    }
    truth = stream.truth
    assert linked == {copy: truth.syndicated_story for copy in truth.syndicated_copies}


def test_write_command(tmp_path: Path) -> None:
    out = tmp_path / "stream.jsonl"
    assert main(["write", str(out), "--seed", "5"]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    truth = json.loads((tmp_path / "stream.truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 5 and truth["counts"]["items"] == len(lines)
    assert sum(r["items"] for r in truth["daily"]) == len(lines)
    assert {truth["burst_watch"], truth["steady_watch"]} == {"burst_topic", "steady_topic"}
