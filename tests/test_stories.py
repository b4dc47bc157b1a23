"""Stories as data: merges recorded in the batch commits, ``story_id`` resolved by the query views, distinct
outlets per story, on a lake whose answers were worked out by hand (see each test's comment)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.lake import Lake
from storage.query import connect
from tasks.records import Analysis, Article, DedupDecision, Entity
from tasks.report import gather_report_data
from tasks.write import write_batch

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def article(article_id: str, url: str, hours: int = 0, title: str | None = None) -> Article:
    return Article(
        article_id=article_id,
        item_key=f"key-{article_id}",
        source_uri=f"/in/{article_id}.html",
        source=url.split("/")[2],
        text=f"Text of {article_id}.",
        content_hash=f"hash-{article_id}",
        fetched_at=DAY + timedelta(hours=hours),
        url=url,
        canonical_url=url,
        title=title or f"Title {article_id}",
        published_at=DAY + timedelta(hours=hours),
    )


def original(a: Article) -> DedupDecision:
    return DedupDecision(a.article_id, a.article_id)


def copy(a: Article, of: str, cluster: str) -> DedupDecision:
    return DedupDecision(a.article_id, cluster, duplicate_of=of, method="minhash", similarity=0.9)


def entity(name: str) -> Entity:
    return Entity(text=name, label="ORG", canonical=name, entity_id=f"id-{name}", start_char=0, end_char=4)


def build_lake(root: Path) -> Lake:
    """Three batches:

    1. story A: original ``a1`` (www.portnews.com.au), copies ``a2`` (news.portnews.com.au: the same outlet)
       and ``a3`` (harbour.co.uk); story B: original ``b1`` (trade.example.org);
    2. copy ``b2``, a Wayback capture of a page of wire.example.net; story C: original ``c1`` (wire.example.net);
       this batch finds that B is A (merge B -> A);
    3. copy ``c2`` (www.harbour.co.uk), and the batch finds that C is B (merge C -> B, so C ends in A).
    """
    lake = Lake(str(root))
    a1 = article("a1", "https://www.portnews.com.au/a1", title="Port volumes slip")
    a2 = article("a2", "https://news.portnews.com.au/a2", 1)
    a3 = article("a3", "https://harbour.co.uk/a3", 2)
    b1 = article("b1", "https://trade.example.org/b1", 3)
    write_batch(
        lake,
        "run-1",
        "b00001",
        [a1, a2, a3, b1],
        [original(a1), copy(a2, "a1", "a1"), copy(a3, "a1", "a1"), original(b1)],
        [Analysis([entity("Port")]), Analysis([entity("Trade")])],
        [],
        1000,
    )
    b2 = article("b2", "https://web.archive.org/web/20260302000000/https://wire.example.net/b", 4)
    c1 = article("c1", "https://wire.example.net/c1", 5)
    write_batch(
        lake,
        "run-1",
        "b00002",
        [b2, c1],
        [copy(b2, "b1", "b1"), original(c1)],
        [Analysis([entity("Wire")])],
        [],
        1000,
        merges={"b1": "a1"},
    )
    c2 = article("c2", "https://www.harbour.co.uk/c2", 6)
    write_batch(lake, "run-2", "b00001", [c2], [copy(c2, "c1", "c1")], [], [], 1000, merges={"c1": "b1"})
    return lake


def test_every_row_of_merged_stories_resolves_to_the_first_story(tmp_path: Path) -> None:
    build_lake(tmp_path)
    con = connect(str(tmp_path))
    # Rows keep the cluster_id they were written with; story_id follows the merges, chains included.
    rows = con.sql("select article_id, cluster_id, story_id from articles order by article_id").fetchall()
    assert rows == [("a1", "a1", "a1"), ("b1", "b1", "a1"), ("c1", "c1", "a1")]
    rows = con.sql("select article_id, cluster_id, story_id from duplicates order by article_id").fetchall()
    assert rows == [("a2", "a1", "a1"), ("a3", "a1", "a1"), ("b2", "b1", "a1"), ("c2", "c1", "a1")]
    assert con.sql("select * from story_map order by cluster_id").fetchall() == [("b1", "a1"), ("c1", "a1")]
    assert con.sql("select distinct story_id from entities").fetchall() == [("a1",)]
    assert con.sql("select count(*) from figures").fetchall() == [(0,)]


def test_outlets_per_story_count_each_publisher_once(tmp_path: Path) -> None:
    build_lake(tmp_path)
    # By hand: seven articles; outlets portnews.com.au (a1, a2), harbour.co.uk (a3, c2), example.org (b1:
    # trade.example.org is a subdomain of example.org), example.net (b2, the capture of wire.example.net, and
    # c1): four.
    story = connect(str(tmp_path)).sql("select * from stories").fetchall()
    assert len(story) == 1
    story_id, title, articles, copies, outlets, first_seen, last_seen, last_date = story[0]
    assert (story_id, title, articles, copies, outlets) == ("a1", "Port volumes slip", 7, 4, 4)
    assert (first_seen, last_seen) == (DAY, DAY + timedelta(hours=6))
    # The last partition: copies sit in the day the run saw them.
    assert last_date == connect(str(tmp_path)).sql("select max(date) from duplicates").fetchall()[0][0]
    # The HTML report's table is the same view.
    report = gather_report_data(str(tmp_path), "2026-03-01")["duplicates_per_cluster"]
    assert report == [{"story": "Port volumes slip", "articles": 7, "copies": 4, "outlets": 4}]


def test_before_any_merge_each_story_stands_alone(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    a1 = article("a1", "https://www.portnews.com.au/a1")
    a2 = article("a2", "https://news.portnews.com.au/a2", 1)
    write_batch(lake, "run-1", "b00001", [a1, a2], [original(a1), copy(a2, "a1", "a1")], [Analysis()], [], 1000)
    con = connect(str(tmp_path))
    # The same outlet twice is one outlet (a copy from the original's own site adds none).
    assert con.sql("select story_id, articles, copies, outlets from stories").fetchall() == [("a1", 2, 1, 1)]
    assert con.sql("select count(*) from story_map").fetchall() == [(0,)]


def test_story_ids_survive_replay_and_compaction(tmp_path: Path) -> None:
    from tasks.maintenance import compact_lake
    from tasks.replay import write_replay

    lake = build_lake(tmp_path)

    def stories() -> dict[str, list[tuple[str, str]]]:
        con = connect(str(tmp_path))
        return {
            name: con.sql(f"select article_id, story_id from {name} order by all").fetchall()
            for name in ("articles", "duplicates", "entities")
        }

    before = stories()
    # Replay the three originals (their derived rows are replaced, cluster ids kept), then compact every partition.
    originals = [
        article("a1", "https://www.portnews.com.au/a1", title="Port volumes slip"),
        article("b1", "https://trade.example.org/b1", 3),
        article("c1", "https://wire.example.net/c1", 5),
    ]
    analyses = [Analysis([entity("Port")]), Analysis([entity("Trade")]), Analysis([entity("Wire")])]
    assert write_replay(lake, "replay-1", "b00000", originals, analyses, [], 1000) > 0
    compact_lake(lake)
    assert stories() == before
    assert {s for _, s in before["articles"]} == {"a1"}


def test_an_index_rebuilt_from_the_lake_follows_its_merges(tmp_path: Path) -> None:
    from tasks.dedup import DedupOptions
    from tasks.index import rebuild_index

    a, b, c = "a" * 16, "b" * 16, "c" * 16  # article ids as the pipeline makes them: 16 hex digits
    lake = Lake(str(tmp_path))
    one, two, three = (
        article(a, "https://one.example/a"),
        article(b, "https://two.example/b", 1),
        article(c, "https://three.example/c", 2),
    )
    write_batch(lake, "run-1", "b00001", [one, two], [original(one), original(two)], [Analysis(), Analysis()], [], 1000)
    write_batch(lake, "run-1", "b00002", [three], [original(three)], [Analysis()], [], 1000, merges={b: a})
    write_batch(lake, "run-2", "b00001", [], [], [], [], 1000, merges={c: b})
    # By hand: merges b -> a, then c -> b, so every story ends in a; the rows the index is rebuilt from carry the
    # cluster ids they were written with (b, c), and without the merges each would be a story of its own.
    index = rebuild_index(lake, DedupOptions(), now=DAY + timedelta(days=1))
    assert index.cluster_aliases() == {b: a, c: a}


def test_an_unchanged_index_is_not_written_again(tmp_path: Path) -> None:
    from storage.dedup_store import index_path
    from tasks.dedup import DedupOptions
    from tasks.index import STATE_NAME, open_index, persist_index

    lake = Lake(str(tmp_path))
    one = article("a" * 16, "https://one.example/a")
    text = "The harbour board voted on Tuesday to rebuild the north pier. " * 5
    one = replace(one, text=text, fetched_at=datetime.now(UTC))  # inside the dedup window
    write_batch(lake, "run-1", "b00001", [one], [original(one)], [Analysis()], [], 1000)
    options = DedupOptions()
    index = open_index(lake, options)  # rebuilt from the lake: written
    persist_index(index, lake)
    saved = index_path(lake.state_dir(STATE_NAME))
    first = saved.stat().st_mtime_ns
    again = open_index(lake, options)  # loaded as saved, nothing added: the file stays as it is
    assert len(again) == 1 and not again.modified
    persist_index(again, lake)
    assert saved.stat().st_mtime_ns == first
    two = replace(one, article_id="b" * 16, item_key="key-b", text="A different story about the port. " * 10)
    again.check_and_add([two])
    assert again.modified
    persist_index(again, lake)
    assert saved.stat().st_mtime_ns != first
