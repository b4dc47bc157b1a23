"""The dedup stage: each method on small texts, reruns, persistence and rebuild, hard negatives."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tasks.dedup import (
    METHOD_ALREADY_INGESTED,
    METHOD_CANONICAL_URL,
    METHOD_CONTAINMENT,
    METHOD_CONTENT_HASH,
    METHOD_MINHASH,
    METHOD_TITLE,
    DedupIndex,
    DedupOptions,
    IndexRow,
    KeyTable,
    check_articles,
    compare_texts,
    compute_signatures,
    index_path,
    load_index,
    save_index,
)
from tasks.dedup.verification import NOT_VERIFIED
from tasks.ids import content_hash, make_article_id
from tasks.records import Article, DedupDecision
from tasks.urls import canonicalize_url, site_of

WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)

_WORDS = (
    "council housing plan vote members said on monday the city would build new homes near river district "
    "residents opposed project because traffic noise schools parks budget million pounds tax rise mayor "
    "spokesman added that construction could start next spring after public consultation ends several "
    "families living nearby told reporters they feared rents climbing further while developers promised "
    "affordable units green spaces cycle lanes bus routes local shops police report fire brigade hospital "
    "weather storm flooding roads closed minister government parliament election campaign poll voters "
    "opposition leader party economy inflation bank interest rates market shares company profits workers "
    "strike union talks agreement court judge ruling appeal lawyers evidence trial witness investigation "
    "scientists study research university data climate energy prices gas electricity wind solar farm "
    "football match club season coach players goal fans stadium league title championship final"
)
VOCAB = _WORDS.split()


def story(seed: int, paragraphs: int = 7, words: int = 40) -> list[str]:
    """Return the paragraphs of a made-up story: random words from a fixed vocabulary, one seed per story."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(VOCAB) for _ in range(words)).capitalize() + "." for _ in range(paragraphs)]


def article(
    paragraphs: list[str],
    url: str | None = None,
    title: str | None = "Council votes on the riverside housing plan",
    source: str | None = None,
    published_at: datetime | None = WHEN,
    canonical_url: str | None = None,
) -> Article:
    text = "\n\n".join(paragraphs)
    canonical = canonical_url or (canonicalize_url(url) if url else None)
    return Article(
        article_id=make_article_id(canonical, text),
        item_key=f"test#{url}",
        source_uri="test",
        source=source or site_of(url) or "example.org",
        text=text,
        content_hash=content_hash(text),
        fetched_at=(published_at or WHEN) + timedelta(hours=2),
        title=title,
        url=url,
        canonical_url=canonical,
        published_at=published_at,
    )


def check(index: DedupIndex, *articles: Article) -> list[DedupDecision]:
    return index.check_and_add(list(articles))


@pytest.fixture
def index() -> DedupIndex:
    return DedupIndex(DedupOptions())


def test_unrelated_articles_are_originals(index: DedupIndex) -> None:
    a = article(story(1), "https://a.example/one")
    b = article(story(2), "https://b.example/two", title="Another story entirely")
    decisions = check(index, a, b)
    assert [d.duplicate_of for d in decisions] == [None, None]
    assert [d.cluster_id for d in decisions] == [a.article_id, b.article_id]
    assert len(index) == 2


def test_syndicated_copy_with_boilerplate_is_minhash(index: DedupIndex) -> None:
    paras = story(3)
    original = article(paras, "https://a.example/story")
    copy = article(
        ["Skip to main content", *paras, "Copyright 2025 The Valley Post. All rights reserved."],
        "https://valley.example/wire/story-123",
        title="UPDATE 1-Council votes on the riverside housing plan",
    )
    first, second = check(index, original, copy)
    assert first.duplicate_of is None
    assert second.method == METHOD_MINHASH
    assert second.duplicate_of == original.article_id
    assert second.cluster_id == original.article_id
    assert second.similarity is not None and second.similarity > 0.8


def test_typos_and_trimmed_tail_are_minhash(index: DedupIndex) -> None:
    paras = story(4, paragraphs=9)
    edited = [p.replace("council", "councl").replace("housing", "housnig") for p in paras[:6]]
    original = article(paras, "https://a.example/story")
    copy = article(edited, "https://b.example/other-url", title="Housing plan vote")
    decisions = check(index, original, copy)
    assert decisions[1].method == METHOD_MINHASH
    assert decisions[1].cluster_id == original.article_id


def test_lead_only_teaser_is_containment(index: DedupIndex) -> None:
    paras = story(5, paragraphs=20)
    original = article(paras, "https://a.example/long-read")
    teaser = article(
        [
            "Share this article",
            *paras[:2],
            "This is an excerpt. The full article is available to subscribers.",
            "Copyright 2025 Metro Daily Wire. This material may not be published, broadcast or redistributed.",
        ],
        "https://metro.example/story/98765",
    )
    decisions = check(index, original, teaser)
    assert decisions[1].method == METHOD_CONTAINMENT
    assert decisions[1].cluster_id == original.article_id


def test_teaser_seen_before_its_original_stays_the_original(index: DedupIndex) -> None:
    paras = story(6, paragraphs=15)
    teaser = article([*paras[:3], "Continue reading on the Harbour Times website."], "https://t.example/a")
    original = article(paras, "https://a.example/full")
    first, second = check(index, teaser, original)
    assert first.duplicate_of is None
    assert second.duplicate_of == teaser.article_id
    assert second.method in (METHOD_CONTAINMENT, METHOD_MINHASH)


def test_same_canonical_url_with_new_text_is_canonical_url(index: DedupIndex) -> None:
    # No rel=canonical: ids come from the text, so a corrected text at a tracking variant of the URL gets a new id.
    paras = story(7)
    first = article(paras, "https://a.example/story?utm_source=rss", canonical_url=None)
    first = replace(first, canonical_url=None, article_id=make_article_id(None, first.text))
    fixed = replace(
        article([*paras[:-1], "Correction: an earlier version misstated the budget."], "https://m.a.example/story"),
        canonical_url=None,
    )
    fixed = replace(fixed, article_id=make_article_id(None, fixed.text))
    decisions = check(index, first, fixed)
    assert decisions[1].method == METHOD_CANONICAL_URL
    assert decisions[1].similarity == 1.0


def test_identical_body_elsewhere_is_content_hash(index: DedupIndex) -> None:
    paras = story(8)
    a = article(paras, "https://a.example/story")
    b = article([p.upper().replace(".", " !") for p in paras], "https://b.example/other", title="Other title")
    decisions = check(index, a, b)
    assert decisions[1].method == METHOD_CONTENT_HASH


def test_same_title_same_outlet_same_day_is_title_method(index: DedupIndex) -> None:
    paras = story(9)
    a = article(paras, "https://a.example/politics/story", title="Council approves the housing plan")
    b = article(
        [*paras[:4], *story(10, paragraphs=3)],
        "https://a.example/local/story-2",
        title="Council approves the housing plan!",
        published_at=WHEN + timedelta(hours=5),
    )
    decisions = check(index, a, b)
    assert decisions[1].method == METHOD_TITLE
    assert decisions[1].cluster_id == a.article_id


def test_same_generic_title_with_different_bodies_is_not_a_copy(index: DedupIndex) -> None:
    a = article(story(11), "https://a.example/briefing-1", title="Your morning briefing from the newsroom")
    b = article(story(12), "https://a.example/briefing-2", title="Your morning briefing from the newsroom")
    assert [d.duplicate_of for d in check(index, a, b)] == [None, None]


def test_shared_background_paragraph_is_not_a_copy(index: DedupIndex) -> None:
    base = story(13, paragraphs=8)
    host = story(14, paragraphs=7)
    host.insert(4, base[5])
    a = article(base, "https://a.example/base")
    b = article(host, "https://b.example/host", title="A different story that reuses background")
    assert [d.duplicate_of for d in check(index, a, b)] == [None, None]


def test_same_names_different_story_is_not_a_copy(index: DedupIndex) -> None:
    names = "Indonesia AirAsia Surabaya Singapore Java Sea Airbus search rescue agency"
    a = article([f"{names} {p}" for p in story(15)], "https://a.example/one")
    b = article([f"{names} {p}" for p in story(16)], "https://b.example/two", title="Search resumes")
    assert [d.duplicate_of for d in check(index, a, b)] == [None, None]


def test_unspaced_script_uses_character_shingles(index: DedupIndex) -> None:
    rng = random.Random(17)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 400)]
    paras = ["".join(rng.choice(hanzi) for _ in range(80)) + "。" for _ in range(5)]
    other = ["".join(rng.choice(hanzi) for _ in range(80)) + "。" for _ in range(5)]
    a = article(paras, "https://cn.example/a", title="中国航天合作论坛在京开幕")
    copy = article(["人民网 北京3月1日电", *paras], "https://wire.example/b", title="航天合作论坛开幕")
    unrelated = article(other, "https://cn.example/c", title="另一条新闻")
    decisions = check(index, a, copy, unrelated)
    assert decisions[1].method == METHOD_MINHASH
    assert decisions[2].duplicate_of is None
    sigs = compute_signatures(["".join(paras)], DedupOptions())
    assert sigs.tokens[0] == 400  # one token per character


def test_rerun_is_idempotent(index: DedupIndex) -> None:
    paras = story(18)
    original = article(paras, "https://a.example/story")
    copy = article(["By Staff Reporter", *paras], "https://b.example/copy", title="Wire copy")
    other = article(story(19), "https://c.example/other", title="Other news")
    first = check(index, original, copy, other)
    second = check(index, original, copy, other)
    assert all(d.method == METHOD_ALREADY_INGESTED for d in second)
    assert [d.cluster_id for d in second] == [d.cluster_id for d in first]
    assert [d.duplicate_of for d in second] == [original.article_id, original.article_id, other.article_id]
    assert len(index) == 3


def test_same_article_twice_in_one_batch(index: DedupIndex) -> None:
    a = article(story(20), "https://a.example/story")
    first, second = check(index, a, a)
    assert first.duplicate_of is None
    assert second.method == METHOD_ALREADY_INGESTED
    assert second.duplicate_of == a.article_id


def test_bridging_article_folds_clusters(index: DedupIndex) -> None:
    paras = story(21, paragraphs=16)
    tail_teaser = article(paras[8:], "https://x.example/second-half", title="Second half")
    head_teaser = article(paras[:8], "https://y.example/first-half", title="First half")
    full = article(paras, "https://z.example/full", title="Full story")
    decisions = check(index, tail_teaser, head_teaser, full)
    assert decisions[0].duplicate_of is None and decisions[1].duplicate_of is None
    assert decisions[2].cluster_id == tail_teaser.article_id
    assert index.cluster_aliases() == {head_teaser.article_id: tail_teaser.article_id}


def test_invalid_article_id_is_rejected(index: DedupIndex) -> None:
    bad = replace(article(story(22), "https://a.example/x"), article_id="not-an-id")
    with pytest.raises(ValueError, match="16 hex digits"):
        check(index, bad)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="power of two"):
        DedupOptions(num_perm=100)
    with pytest.raises(ValueError, match="divide"):
        DedupOptions(lsh_rows=3)


def test_empty_and_tiny_texts(index: DedupIndex) -> None:
    empty = article([""], "https://a.example/empty", title=None)
    tiny = article(["Hi."], "https://b.example/tiny", title=None)
    tiny2 = article(["Bye."], "https://c.example/tiny", title=None)
    decisions = check(index, empty, tiny, tiny2)
    assert [d.duplicate_of for d in decisions] == [None, None, None]
    assert check(index) == []


def corpus(seed: int, n: int) -> list[Article]:
    """Return ``n`` articles: originals and copies of them (syndicated, teasers), in a fixed shuffled order."""
    rng = random.Random(seed)
    out: list[Article] = []
    for s in range(n // 3):
        paras = story(seed * 1000 + s, paragraphs=8)
        out.append(article(paras, f"https://a.example/{seed}/{s}", title=f"Story {seed} {s} of the day"))
        out.append(article(["Most read", *paras, "All rights reserved."], f"https://w.example/{seed}/{s}"))
        out.append(article([*paras[:2], "Continue reading."], f"https://t.example/{seed}/{s}", title=None))
    rng.shuffle(out)
    return out


def rows_of(articles: list[Article], decisions: list[DedupDecision]) -> list[IndexRow]:
    return [
        IndexRow(
            article_id=a.article_id,
            cluster_id=d.cluster_id,
            canonical_url=a.canonical_url,
            content_hash=a.content_hash,
            title=a.title,
            source=a.source,
            published_at=a.published_at,
            fetched_at=a.fetched_at,
            text=a.text,
            url=a.url,
        )
        for a, d in zip(articles, decisions, strict=True)
        if d.method != METHOD_ALREADY_INGESTED
    ]


def test_corpus_clusters_are_found(index: DedupIndex) -> None:
    articles = corpus(1, 60)
    decisions = index.check_and_add(articles)
    clusters: dict[str, set[str]] = {}
    for a, d in zip(articles, decisions, strict=True):
        clusters.setdefault(d.cluster_id, set()).add(a.url.rsplit("/", 1)[-1] if a.url else "")
    assert len(clusters) == 20
    assert all(len(members) == 1 for members in clusters.values())  # one story id per cluster


def test_save_load_round_trip(tmp_path: Path) -> None:
    first, later = corpus(2, 60), corpus(3, 30) + corpus(2, 30)[:5]
    live = DedupIndex(DedupOptions())
    live.check_and_add(first)
    save_index(live, str(tmp_path))
    loaded = load_index(str(tmp_path), DedupOptions())
    assert loaded is not None
    assert len(loaded) == len(live) == 60
    for name, arr in live.to_saved().to_arrays().items():
        assert np.array_equal(arr, loaded.to_saved().to_arrays()[name]), name
    assert loaded.check_and_add(later) == live.check_and_add(later)


def test_load_missing_corrupt_or_incompatible_gives_none(tmp_path: Path) -> None:
    assert load_index(str(tmp_path / "nowhere"), DedupOptions()) is None
    live = DedupIndex(DedupOptions())
    live.check_and_add(corpus(4, 9))
    save_index(live, str(tmp_path))
    assert load_index(str(tmp_path), DedupOptions(shingle_size=4)) is None
    index_path(str(tmp_path)).write_bytes(b"not an index")
    assert load_index(str(tmp_path), DedupOptions()) is None
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_window_evicts_old_entries_on_save_and_load(tmp_path: Path) -> None:
    options = DedupOptions(window_days=30)
    index = DedupIndex(options)
    old = article(story(30), "https://a.example/old", published_at=WHEN - timedelta(days=60))
    recent = article(story(31), "https://a.example/recent", published_at=WHEN - timedelta(days=3))
    index.check_and_add([old, recent])
    save_index(index, str(tmp_path))
    loaded = load_index(str(tmp_path), options)
    assert loaded is not None and len(loaded) == 1
    # The old story is gone: seen again it is a new original; the recent one is still known.
    decisions = loaded.check_and_add([old, recent])
    assert decisions[0].duplicate_of is None
    assert decisions[1].method == METHOD_ALREADY_INGESTED
    later = load_index(str(tmp_path), options, now=WHEN + timedelta(days=40))
    assert later is not None and len(later) == 0


def test_rebuild_matches_the_live_index() -> None:
    options = DedupOptions()
    first, later = corpus(5, 90), corpus(6, 30) + corpus(5, 90)[:10]
    live = DedupIndex(options)
    decisions = live.check_and_add(first)
    rebuilt = DedupIndex.rebuild(rows_of(first, decisions), options, batch_size=7)
    assert len(rebuilt) == len(live)
    assert rebuilt.check_and_add(later) == live.check_and_add(later)


def test_merging_recent_inserts_changes_nothing() -> None:
    articles = corpus(7, 90)
    eager = DedupIndex(DedupOptions(merge_every=1))
    lazy = DedupIndex(DedupOptions())
    batches = [articles[i : i + 10] for i in range(0, len(articles), 10)]
    assert [eager.check_and_add(b) for b in batches] == [lazy.check_and_add(b) for b in batches]


def test_plain_function_behind_the_task(index: DedupIndex) -> None:
    a = article(story(40), "https://a.example/x")
    assert check_articles(index, [a])[0].cluster_id == a.article_id


def test_a_batch_is_matched_against_itself_as_if_one_by_one() -> None:
    articles = corpus(8, 90) + corpus(8, 90)[:6]  # copies inside the batch, and reruns of earlier items
    whole = DedupIndex(DedupOptions())
    single = DedupIndex(DedupOptions())
    assert whole.check_and_add(articles) == [single.check_and_add([a])[0] for a in articles]
    assert len(whole) == len(single) == 90


def test_bulk_rows_skip_known_and_repeated_ids() -> None:
    articles = corpus(9, 30)
    live = DedupIndex(DedupOptions())
    rows = rows_of(articles, live.check_and_add(articles))
    rebuilt = DedupIndex(DedupOptions())
    rebuilt.add_rows(rows[:10] + rows[:10])
    rebuilt.add_rows(rows)
    assert len(rebuilt) == 30
    assert rebuilt.check_and_add(articles) == live.check_and_add(articles)


def test_key_table_levels_agree() -> None:
    keys = np.asarray([[5, 7], [5, 0], [9, 5]], dtype=np.uint64)
    table = KeyTable(np.uint64)
    table.add_batch(keys[:2], np.asarray([0, 1], dtype=np.int32))
    table.merge()
    table.add_batch(keys[2:], np.asarray([2], dtype=np.int32))
    query = np.asarray([[5], [7], [3]], dtype=np.uint64)
    before = table.find_batch(query, limit=64)
    table.merge()
    after = table.find_batch(query, limit=64)
    for found in (before, after):
        assert sorted(zip(found[0].tolist(), found[1].tolist(), strict=True)) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    # At most ``limit`` rows per key and level, the most recent ones.
    assert table.find_batch(query[:1], limit=2)[1].tolist() == [1, 2]


def test_an_article_dedup_cannot_read_is_quarantined_not_the_batch(index: DedupIndex) -> None:
    from tasks.dedup import check_articles_isolated

    good = [article(story(41), "https://a.example/1"), article(story(42), "https://a.example/2")]
    broken = replace(article(story(43), "https://a.example/3"), article_id="not-an-id")
    kept, decisions, rejections = check_articles_isolated(index, [good[0], broken, good[1]])
    assert kept == good
    assert [d.article_id for d in decisions] == [a.article_id for a in good]
    assert [(r.stage, r.reason, r.item_key) for r in rejections] == [("dedup", "dedup_error", broken.item_key)]
    assert len(index) == 2


# -- verification: a shared block is not a copy; a copy of the whole is --------------------------------------


def _host_with(paragraph: str, position: str, seed: int, length: int) -> list[str]:
    """Return a different story of ``length`` paragraphs with ``paragraph`` at its start, middle or end."""
    host = story(seed, paragraphs=length)
    at = {"start": 0, "middle": length // 2, "end": length}[position]
    return [*host[:at], paragraph, *host[at:]]


def _background_base() -> list[str]:
    """Return a story whose fifth paragraph is long background: most of a brief that would reuse it."""
    base = story(50, paragraphs=8, words=30)
    base[4] = story(51, paragraphs=1, words=70)[0]
    return base


@pytest.mark.parametrize("position", ["start", "middle", "end"])
@pytest.mark.parametrize("length", [2, 7])
def test_verification_rejects_a_reused_background_paragraph(position: str, length: int) -> None:
    base = _background_base()
    host = _host_with(base[4], position, 52, length)
    syndicated = ["Skip to main content", *base, "All rights reserved."]
    text = "\n\n".join
    verdicts = compare_texts([text(base), text(syndicated)], [text(host), text(host)], DedupOptions())
    assert verdicts.rank.tolist() == [NOT_VERIFIED, NOT_VERIFIED]
    # The same pair with the host's own text shortened to nothing is the background paragraph plus a header:
    # still one shared block.
    verdicts = compare_texts([text(base)], [text(["Photo gallery", base[4]])], DedupOptions())
    assert verdicts.rank.tolist() == [NOT_VERIFIED]


@pytest.mark.parametrize("position", ["start", "middle", "end"])
def test_a_reused_background_paragraph_links_no_article(index: DedupIndex, position: str) -> None:
    base = _background_base()
    original = article(base, "https://a.example/base")
    syndicated = article(["Skip to main content", *base, "All rights reserved."], "https://w.example/base")
    host = article(_host_with(base[4], position, 52, 2), "https://b.example/host", title="Another story")
    # The host before and after the base's story: neither order links it.
    before = DedupIndex(DedupOptions())
    assert [d.duplicate_of for d in check(before, host, original, syndicated)][:2] == [None, None]
    decisions = check(index, original, syndicated, host)
    assert decisions[1].duplicate_of == original.article_id
    assert decisions[2].duplicate_of is None
    assert decisions[2].cluster_id == host.article_id


def test_the_same_standard_paragraph_on_two_stories_is_not_a_copy(index: DedupIndex) -> None:
    about = (
        "About Northwind Systems: Northwind Systems is an engineering company based in Leeds. It employs about "
        "two thousand people in nine countries and serves customers in transport, energy and public services. "
        "For more information visit the company website."
    )
    first = [*story(53, paragraphs=2, words=20), about]
    second = [*story(54, paragraphs=2, words=20), about]
    text = "\n\n".join
    assert compare_texts([text(first)], [text(second)], DedupOptions()).rank.tolist() == [NOT_VERIFIED]
    a = article(first, "https://a.example/release-1", title="First release")
    b = article(second, "https://b.example/release-2", title="Second release")
    assert [d.duplicate_of for d in check(index, a, b)] == [None, None]


def test_a_shared_quote_is_not_a_copy(index: DedupIndex) -> None:
    base = story(55, paragraphs=6)
    quote = '"We will not accept a plan that leaves the river district without schools," the mayor said.'
    base[0] = f"{base[0]} {quote}"
    hosts = [story(56, paragraphs=2), story(56, paragraphs=2)]
    hosts[0].insert(0, quote)
    hosts[1][0] = f"{quote} {hosts[1][0]}"
    text = "\n\n".join
    verdicts = compare_texts([text(base)] * 2, [text(h) for h in hosts], DedupOptions())
    assert verdicts.rank.tolist() == [NOT_VERIFIED, NOT_VERIFIED]
    decisions = check(index, article(base, "https://a.example/q"), article(hosts[0], "https://b.example/q", title="Q"))
    assert [d.duplicate_of for d in decisions] == [None, None]


def test_a_lead_only_teaser_with_boilerplate_and_a_truncated_copy_are_linked(index: DedupIndex) -> None:
    paras = story(57, paragraphs=12, words=35)
    original = article(paras, "https://a.example/long")
    teaser = article(
        [
            "Skip to main content",
            *paras[:2],
            "Copyright 2025 Valley Post. This material may not be published, broadcast or redistributed.",
            "Have a news tip? Contact the Valley Post newsroom.",
        ],
        "https://valley.example/teaser",
        title="Teaser",
    )
    truncated = article(paras[:7], "https://t.example/truncated", title="Truncated")
    decisions = check(index, teaser, original, truncated)
    assert decisions[0].duplicate_of is None  # first seen: the teaser is the story's original
    assert decisions[1].duplicate_of == teaser.article_id
    assert decisions[2].duplicate_of == teaser.article_id
    assert decisions[1].method == METHOD_CONTAINMENT


def test_a_teaser_of_the_first_paragraph_alone_is_linked(index: DedupIndex) -> None:
    paras = story(58, paragraphs=10, words=45)
    teaser = article(["Share this article", paras[0], "Continue reading."], "https://t.example/one", title="T")
    decisions = check(index, article(paras, "https://a.example/one"), teaser)
    assert decisions[1].method == METHOD_CONTAINMENT


# -- no chaining, merges ---------------------------------------------------------------------------------------


def test_a_weak_link_cannot_pull_a_third_article_into_a_story(index: DedupIndex) -> None:
    paras = story(60, paragraphs=8)
    original = article(paras, "https://a.example/story")
    teaser = article([*paras[:2], "Continue reading on our website."], "https://t.example/teaser", title="T")
    # A different story that opens with the teaser's two paragraphs: wholly containing the teaser, but only a
    # quarter of the original.
    other = article([*paras[:2], *story(61, paragraphs=10)], "https://o.example/other", title="Other story")
    decisions = check(index, original, teaser, other)
    assert decisions[1].duplicate_of == original.article_id
    assert decisions[2].duplicate_of is None
    assert decisions[2].cluster_id == other.article_id
    assert index.cluster_aliases() == {}


def test_stories_merge_only_on_verified_evidence_and_merges_are_reported_per_batch(index: DedupIndex) -> None:
    paras = story(62, paragraphs=16)
    tail_teaser = article(paras[8:], "https://x.example/second-half", title="Second half")
    head_teaser = article(paras[:8], "https://y.example/first-half", title="First half")
    check(index, tail_teaser, head_teaser)
    assert index.batch_merges() == []
    # One paragraph of each half inside a different story: no evidence that the halves are one story.
    mixed = article([paras[3], *story(63, paragraphs=6), paras[12]], "https://m.example/mixed", title="Mixed")
    assert check(index, mixed)[0].duplicate_of is None
    assert index.batch_merges() == []
    full = article(paras, "https://z.example/full", title="Full story")
    decision = check(index, full)[0]
    assert decision.cluster_id == tail_teaser.article_id  # the earlier original keeps its id
    assert index.batch_merges() == [(head_teaser.article_id, tail_teaser.article_id)]
    assert index.cluster_aliases() == {head_teaser.article_id: tail_teaser.article_id}
    check(index, article(story(64), "https://n.example/next", title="Next"))
    assert index.batch_merges() == []


def test_a_rebuilt_index_keeps_the_merges_of_stories(index: DedupIndex) -> None:
    paras = story(62, paragraphs=16)  # the halves and the whole of the merge test above
    tail = article(paras[8:], "https://x.example/tail", title="Second half")
    head = article(paras[:8], "https://y.example/head", title="First half")
    full = article(paras, "https://z.example/whole", title="Full story")
    ingested = [tail, head, full]
    decisions = check(index, tail, head) + check(index, full)  # the whole story arrives later and joins the halves
    assert index.cluster_aliases() == {head.article_id: tail.article_id}
    rebuilt = DedupIndex.rebuild(rows_of(ingested, decisions), DedupOptions())
    rebuilt.restore_merges(index.cluster_aliases().items())
    assert rebuilt.cluster_aliases() == index.cluster_aliases()
    copy = article([*paras[:8], "Copyright 2025 Metro Wire."], "https://c.example/head-copy", title="First half")
    assert check(rebuilt, copy) == check(index, copy)
    assert check(rebuilt, copy)[0].cluster_id == tail.article_id  # the story the head was folded into


def test_without_its_original_a_story_is_joined_through_most_of_its_members(index: DedupIndex) -> None:
    paras = story(65, paragraphs=8)
    original = article(paras, "https://a.example/gone")
    teaser = article([*paras[:3], "Continue reading."], "https://t.example/gone", title="Teaser")
    wire = article(["By Staff Reporter", *paras], "https://w.example/gone", title="Wire")
    check(index, original, teaser, wire)
    assert index.forget([original.article_id]) == 1
    later = article([*paras, "All rights reserved."], "https://l.example/gone", title="Later copy")
    decision = check(index, later)[0]
    assert decision.cluster_id == original.article_id


# -- the floor for short items ---------------------------------------------------------------------------------


def test_short_items_are_linked_only_above_the_word_floor(index: DedupIndex) -> None:
    options = DedupOptions()
    assert options.min_shared_words == 25
    rng = random.Random(66)
    sentences = [" ".join(rng.choice(VOCAB) for _ in range(10)).capitalize() + "." for _ in range(3)]
    body = story(67, paragraphs=8)
    original = article([*sentences, *body], "https://a.example/briefs")
    brief = article([*sentences[:2], "Copyright 2025 Metro Wire."], "https://b.example/brief", title="Brief")
    longer = article([*sentences, "Copyright 2025 Metro Wire."], "https://c.example/brief", title="Brief two")
    decisions = check(index, original, brief, longer)
    assert decisions[1].duplicate_of is None  # 20 shared words: a brief of two sentences identifies no story
    assert decisions[2].duplicate_of == original.article_id  # 30 shared words
    # The same floor for identical bodies: two one-line pages are not one story.
    notice = "Please enable JavaScript to read this page."
    pages = check(index, article([notice], "https://p.example/1", title=None), article([notice], "https://q.example/2"))
    assert [d.duplicate_of for d in pages] == [None, None]


def test_storage_does_not_import_the_stages() -> None:
    import ast

    import storage.dedup_store as store

    tree = ast.parse(Path(store.__file__).read_text(encoding="utf-8"))
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if m.split(".")[0] in ("tasks", "flows")]


def test_one_shared_opening_paragraph_is_not_enough_unless_word_for_word() -> None:
    base = story(70, paragraphs=8, words=30)
    edited = base[0].replace(base[0].split()[5], "harbour", 1)  # one word changed: the same paragraph, fuzzily
    follow_up = [edited, *story(71, paragraphs=1, words=35)]  # another story reusing the (edited) lead
    teaser = [edited, base[1], "Continue reading."]  # the story's first two paragraphs
    reused_lead = [base[0], *story(71, paragraphs=1, words=35)]  # word for word, then a story of its own
    lead_teaser = [base[0], "Copyright 2025 Metro Wire."]  # word for word, and little else: a teaser
    text = "\n\n".join
    verdicts = compare_texts(
        [text(base)] * 4,
        [text(follow_up), text(teaser), text(reused_lead), text(lead_teaser)],
        DedupOptions(),
    )
    assert verdicts.rank.tolist()[0] == NOT_VERIFIED
    assert verdicts.rank.tolist()[1] != NOT_VERIFIED
    assert verdicts.rank.tolist()[2] == NOT_VERIFIED
    assert verdicts.rank.tolist()[3] != NOT_VERIFIED
