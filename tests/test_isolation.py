"""One item never fails a batch: bad values are repaired and recorded, unusable items are quarantined, the rest go on.

Each test feeds a real stage (the clean stage's ``clean_item``, the NLP stage's ``analyze_articles`` with the real
``en_core_web_sm``, ``write_batch`` into a real lake in ``tmp_path``, the report over such a lake) one bad item
among good ones.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

import tasks.figures
from flows.cli import main
from flows.options import build_run_options
from flows.report import notable_figures, run_charts, top_entities
from flows.settings import Settings
from storage.lake import Lake
from storage.query import connect
from tasks.clean import (
    REASON_BINARY_PAYLOAD,
    REASON_EXTRACT_ERROR,
    REASON_TEXT_TOO_LONG,
    CleanOptions,
    clean_item,
    clean_items,
)
from tasks.nlp import ENTITY_COMPONENTS, NlpOptions, analyze_articles, load_nlp
from tasks.records import (
    REPAIR_BAD_UTC_OFFSET,
    REPAIR_CONTROL_CHARACTERS,
    REPAIR_FIGURES_FAILED,
    REPAIR_IMPLAUSIBLE_DATE,
    REPAIR_LONE_SURROGATE,
    REPAIR_UNPARSEABLE_DATE,
    STAGE_CLEAN,
    STAGE_EXTRACT,
    STAGE_WRITE,
    Analysis,
    Article,
    DedupDecision,
    Entity,
    Figure,
    RawItem,
    Rejection,
)
from tasks.report import build_report
from tasks.workers import READY, JobFailed, serve
from tasks.write import REASON_UNWRITABLE_ROW, write_batch

FETCHED = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
OPTIONS = CleanOptions(workers=0)
BODY = (
    "The city council approved the new budget on Tuesday after a long debate about schools and roads. "
    "Councillors said the plan would add two bus routes and repair the old bridge over the river by spring. "
)
NEWS = (
    "Chancellor Friedrich Merz met Premier Li Qiang in Berlin on Monday. "
    "China bought US$95 billion worth of German goods last year, Chinese data shows."
)


def text_item(text: str = BODY, key: str = "in.jsonl#L1", **fields: object) -> RawItem:
    return RawItem(
        item_key=key,
        source_uri="in.jsonl",
        payload=text.encode("utf-8"),
        kind="text",
        fetched_at=FETCHED,
        **fields,  # type: ignore[arg-type]
    )


def page_item(html: str | bytes, key: str = "page.html", **fields: object) -> RawItem:
    payload = html if isinstance(html, bytes) else html.encode("utf-8")
    return RawItem(
        item_key=key,
        source_uri=key,
        payload=payload,
        kind="html",
        fetched_at=FETCHED,
        **fields,  # type: ignore[arg-type]
    )


def page(body: str = BODY, head: str = "") -> str:
    return f"<html><head><title>Budget</title>{head}</head><body><article><p>{body}</p></article></body></html>"


def jsonld(**fields: object) -> str:
    # json.dumps writes "\ud800" for a lone surrogate, as a publisher's CMS does
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


def cleaned(item: RawItem, options: CleanOptions = OPTIONS) -> Article:
    result = clean_item(item, options)
    assert isinstance(result, Article), result
    return result


def rejected(item: RawItem, options: CleanOptions = OPTIONS) -> Rejection:
    result = clean_item(item, options)
    assert isinstance(result, Rejection), result
    return result


# --------------------------------------------------------------------------------------------- clean stage


def test_text_over_max_text_chars_is_rejected_in_clean_with_its_raw_bytes() -> None:
    # A JSONL item whose text is over spaCy's 1,000,000 characters (E088 in the NLP stage before).
    huge = text_item(BODY * (1_000_001 // len(BODY) + 1))
    result = rejected(huge)
    assert (result.stage, result.reason) == (STAGE_CLEAN, REASON_TEXT_TOO_LONG)
    assert result.payload == huge.payload
    assert "max_text_chars=500000" in result.detail
    # The same text is an article when the limit allows it, and the limit applies to pages too.
    assert cleaned(text_item(BODY * 20), replace(OPTIONS, max_text_chars=len(BODY) * 21)).word_count > 300
    long_page = page_item(page(BODY * 20))
    assert rejected(long_page, replace(OPTIONS, max_text_chars=len(BODY) * 10)).reason == REASON_TEXT_TOO_LONG


def test_a_huge_declared_body_is_not_taken_for_the_text() -> None:
    # The text is what the page shows; a JSON-LD articleBody only tells whether that text is a teaser.
    body = BODY * (600_000 // len(BODY))
    article = cleaned(page_item(page(BODY, jsonld(headline="Budget", articleBody=body))))
    assert len(article.text) < 2 * len(BODY)
    assert article.is_teaser


def test_lone_surrogates_in_item_fields_are_replaced_and_recorded() -> None:
    item = text_item(title="bad \ud800 title", authors=("Ann \udc00Lee", "Bo Ray"), url="https://x.example/a\ud800")
    article = cleaned(item)
    assert article.title == "bad \ufffd title"
    assert article.authors == ("Ann \ufffdLee", "Bo Ray")
    assert article.repairs == (REPAIR_LONE_SURROGATE,)
    assert article.article_id  # hashing the URL no longer fails
    assert "\ud800" not in json.dumps(article.provenance)


def test_lone_surrogate_in_a_json_ld_headline_is_replaced_and_recorded() -> None:
    item = page_item(page(head=jsonld(headline="bad \ud800 title", author={"name": "Jo \udfff Doe"})))
    article = cleaned(item)
    assert article.title == "bad \ufffd title"
    assert REPAIR_LONE_SURROGATE in article.repairs
    assert all("\ud800" not in s and "\udfff" not in s for s in (article.title or "", *article.authors))


@pytest.mark.parametrize(
    ("published_at", "expected", "tz_known", "repair"),
    [
        ("2024-05-02T10:00:00+25:00", None, None, REPAIR_BAD_UTC_OFFSET),
        ("yesterday-ish", None, None, REPAIR_UNPARSEABLE_DATE),
        ("1970-01-01T00:00:00Z", None, None, REPAIR_IMPLAUSIBLE_DATE),
        ("2024-05-02T10:00:00+02:00", datetime(2024, 5, 2, 8, 0, tzinfo=UTC), True, None),
    ],
)
def test_bad_published_dates_are_repaired_and_the_article_kept(
    published_at: str, expected: datetime | None, tz_known: bool | None, repair: str | None
) -> None:
    article = cleaned(text_item(published_at=published_at))
    assert (article.published_at, article.published_tz_known) == (expected, tz_known)
    assert article.repairs == ((repair,) if repair else ())


def test_a_bad_page_date_falls_back_to_the_items_date_and_is_recorded() -> None:
    head = jsonld(headline="Budget", datePublished="2024-05-02T10:00:00+25:00", dateModified="soon")
    item = page_item(page(head=head), published_at="2024-05-03T08:00:00Z")
    article = cleaned(item)
    # the page's time with an impossible offset gives way to the item's; the unreadable modified time is left out
    assert article.published_at == datetime(2024, 5, 3, 8, 0, tzinfo=UTC)
    assert (article.published_tz_known, article.provenance["published_at"]) == (True, "input")
    assert article.modified_at is None
    assert set(article.repairs) == {REPAIR_BAD_UTC_OFFSET, REPAIR_UNPARSEABLE_DATE}


def test_repairs_of_the_item_are_carried_into_the_article_first() -> None:
    article = cleaned(text_item(title="t\ud800", published_at="never", repairs=("loader_repair",)))
    assert article.repairs == ("loader_repair", REPAIR_LONE_SURROGATE, REPAIR_UNPARSEABLE_DATE)


def test_a_page_with_one_stray_nul_is_still_a_page() -> None:
    article = cleaned(page_item(page(BODY + "\x00" + BODY)))
    assert "\x00" not in article.text
    assert article.word_count > 60
    assert REPAIR_CONTROL_CHARACTERS in article.repairs
    plain = cleaned(text_item(BODY + "\x00\x01" + BODY))
    assert "\x00" not in plain.text and "\x01" not in plain.text
    assert plain.repairs == (REPAIR_CONTROL_CHARACTERS,)


def test_binary_is_decided_by_the_share_of_control_bytes_or_a_signature() -> None:
    noise = bytes((i * 7919 + 13) % 256 for i in range(4096))  # no file signature, 10 % control bytes
    assert rejected(page_item(noise)).reason == REASON_BINARY_PAYLOAD
    pdf = replace(text_item(), payload=b"%PDF-1.7\n" + BODY.encode())
    assert rejected(pdf).reason == REASON_BINARY_PAYLOAD


def test_an_unexpected_clean_failure_has_a_constant_reason_and_the_message_as_detail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("metadata reader\nexploded")

    monkeypatch.setattr("tasks.clean.extract_page_metadata", broken)
    articles, rejections = clean_items([page_item(page(), key="bad.html"), text_item()], OPTIONS)
    assert [a.item_key for a in articles] == ["in.jsonl#L1"]
    [rejection] = rejections
    assert rejection.reason == REASON_EXTRACT_ERROR
    assert rejection.detail == "RuntimeError: metadata reader exploded"


# ----------------------------------------------------------------------------------------------- workers


def test_a_worker_answers_a_failing_job_and_goes_on() -> None:
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()

    def handle(setup: str, job: str) -> str:
        if job == "bad":
            raise ValueError("no\nway")
        return f"{setup}:{job}"

    worker = threading.Thread(target=serve, args=(handle, lambda _: None, [str(to_worker_r), str(from_worker_w)]))
    worker.start()
    outbox = Connection(to_worker_w, readable=False)
    inbox = Connection(from_worker_r, writable=False)
    try:
        outbox.send("setup")
        assert inbox.recv() == READY
        outbox.send((0, "bad"))
        outbox.send((1, "good"))
        assert inbox.poll(60)  # a worker that died on the bad job would never answer
        assert inbox.recv() == (0, JobFailed("ValueError: no way"))
        assert inbox.recv() == (1, "setup:good")
    finally:
        if worker.is_alive():
            outbox.send(None)  # ends the worker, whose connections close its two ends
        worker.join(10)
        outbox.close()
        inbox.close()
    assert not worker.is_alive()


# ------------------------------------------------------------------------------------------------- NLP stage


def news_article(text: str, article_id: str) -> Article:
    return Article(
        article_id=article_id,
        item_key=f"k-{article_id}",
        source_uri="in.jsonl",
        source="example",
        text=text,
        content_hash="",
        fetched_at=FETCHED,
        published_at=FETCHED,
        language="en",
    )


def _over_the_models_limit(options: NlpOptions) -> str:
    limit = max(load_nlp(options.model, ENTITY_COMPONENTS).max_length, options.max_text_chars)
    return "word " * (limit // 5 + 1)


@pytest.mark.integration
def test_a_text_spacy_refuses_gets_an_error_and_the_others_their_entities() -> None:
    options = NlpOptions()
    articles = [news_article(NEWS, "a1"), news_article(_over_the_models_limit(options), "a2"), news_article(NEWS, "a3")]
    first, failed, third = analyze_articles(articles, options)
    assert failed.error is not None and "E088" in failed.error and "\n" not in failed.error
    assert failed == Analysis(error=failed.error)
    assert {e.canonical for e in first.entities} >= {"Friedrich Merz", "Li Qiang", "Berlin"}
    assert first == third and first.error is None
    assert any(f.kind == "money" for f in first.figures)


@pytest.mark.integration
def test_the_model_accepts_texts_up_to_the_clean_stages_limit() -> None:
    nlp = load_nlp(NlpOptions().model, ENTITY_COMPONENTS)
    before = nlp.max_length
    try:
        analyze_articles([news_article(NEWS, "a1")], NlpOptions(max_text_chars=before + 1000))
        assert nlp.max_length == before + 1000
    finally:
        nlp.max_length = before


@pytest.mark.integration
def test_a_text_spacy_refuses_in_a_worker_process_costs_only_that_article() -> None:
    from tasks.nlp import nlp_pool

    options = NlpOptions(n_process=2, batch_size=7)
    articles = [news_article(NEWS, f"a{i}") for i in range(4)]
    articles.insert(1, news_article("word " * 200_001, "long"))  # over the worker model's 1,000,000 characters
    try:
        results = analyze_articles(articles, options)
    finally:
        nlp_pool(options).close()
    assert results[1].error is not None and "E088" in results[1].error
    assert all(r.error is None and len(r.entities) >= 3 for i, r in enumerate(results) if i != 1)


@pytest.mark.integration
def test_a_figures_bug_keeps_the_articles_entities(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tasks.figures.figures_by_sentence

    def buggy(text: str, ctx: object, sentences: object) -> object:
        if "bridge" in text:
            raise IndexError("figure rule fell off the sentence")
        return real(text, ctx, sentences)  # type: ignore[arg-type]

    monkeypatch.setattr(tasks.figures, "figures_by_sentence", buggy)  # the NLP stage imports it where it is used
    bad = news_article(NEWS + " The old bridge cost 12 million euros.", "bad")
    good, broken = analyze_articles([news_article(NEWS, "good"), bad], NlpOptions())
    assert broken.error is None
    assert broken.figures == [] and broken.repairs == (REPAIR_FIGURES_FAILED,)
    assert {e.canonical for e in broken.entities} >= {"Friedrich Merz", "Li Qiang"}
    assert good.repairs == () and any(f.kind == "money" for f in good.figures)


@pytest.mark.integration
def test_a_failing_object_parse_keeps_the_articles_entities(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[Figure]:
        raise KeyError("head")

    monkeypatch.setattr("tasks.figures.attach_objects", broken)  # the NLP stage imports it where it is used
    [result] = analyze_articles([news_article(NEWS, "a1")], NlpOptions())
    assert result.repairs == (REPAIR_FIGURES_FAILED,) and result.figures == []
    assert len(result.entities) >= 3


# -------------------------------------------------------------------------------------------------- write


def decision(article: Article, duplicate_of: str | None = None) -> DedupDecision:
    return DedupDecision(
        article.article_id, duplicate_of or article.article_id, duplicate_of, "exact" if duplicate_of else None
    )


def entity(text: str = "Berlin") -> Entity:
    return Entity(text=text, label="GPE", canonical=text, entity_id=f"id-{text}", start_char=0, end_char=len(text))


def raw_for(article: Article, **fields: object) -> RawItem:
    return RawItem(
        item_key=article.item_key,
        source_uri=article.source_uri,
        payload=b"<html>raw page of " + article.article_id.encode() + b"</html>",
        kind="html",
        fetched_at=FETCHED,
        **fields,  # type: ignore[arg-type]
    )


def read_rows(lake: Lake, dataset: str) -> list[dict[str, object]]:
    return sorted(lake.read(dataset).to_pylist(), key=lambda r: str(r.get("article_id") or r.get("item_key")))


def test_a_lone_surrogate_in_an_articles_records_is_repaired_in_the_write(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    good = news_article(BODY, "good")
    bad = replace(news_article(BODY, "bad"), title="bad \ud800 title", authors=("Ann \udc00Lee",))
    raw_items = [raw_for(good), raw_for(bad, title="bad \ud800 title")]
    analyses = [Analysis([entity()]), Analysis([entity("Paris\ud800")])]
    counts = write_batch(lake, "r1", "b0", [good, bad], [decision(good), decision(bad)], analyses, [], 1000, raw_items)
    assert (counts.articles, counts.entities) == (2, 2)
    assert counts.repairs == Counter({REPAIR_LONE_SURROGATE: 1})
    articles = {r["article_id"]: r for r in read_rows(lake, "articles")}
    assert articles["bad"]["title"] == "bad \ufffd title"
    assert articles["bad"]["authors"] == ["Ann \ufffdLee"]
    assert {r["canonical"] for r in read_rows(lake, "entities")} == {"Berlin", "Paris\ufffd"}
    assert {r["title"] for r in read_rows(lake, "raw")} == {None, "bad \ufffd title"}
    assert lake.read("quarantine").num_rows == 0


def test_an_article_whose_rows_cannot_be_built_is_quarantined_and_the_rest_written(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    good = news_article(BODY, "good")
    bad = replace(news_article(BODY, "bad"), word_count=2**40)  # no int32 holds it
    copy = replace(news_article(BODY, "copy"), title="copy \udfff")
    articles = [good, bad, copy]
    decisions = [decision(good), decision(bad), decision(copy, "good")]
    counts = write_batch(
        lake, "r1", "b0", articles, decisions, [Analysis([entity()]), Analysis([entity()])], [], 1000, [raw_for(bad)]
    )
    assert (counts.articles, counts.entities, counts.duplicates) == (1, 1, 1)
    assert counts.quarantined == Counter({(STAGE_WRITE, REASON_UNWRITABLE_ROW): 1})
    assert counts.repairs == Counter({REPAIR_LONE_SURROGATE: 1})  # the copy's title
    assert [r["article_id"] for r in read_rows(lake, "articles")] == ["good"]
    assert [r["article_id"] for r in read_rows(lake, "entities")] == ["good"]  # none of the quarantined article
    [row] = read_rows(lake, "quarantine")
    assert (row["item_key"], row["stage"], row["reason"]) == ("k-bad", STAGE_WRITE, REASON_UNWRITABLE_ROW)
    assert row["payload"] == raw_for(bad).payload
    assert "\n" not in str(row["detail"]) and str(row["detail"])
    assert [r["title"] for r in read_rows(lake, "duplicates")] == ["copy \ufffd"]


def test_an_article_the_model_could_not_read_is_quarantined_in_the_write(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    good, long = news_article(BODY, "good"), news_article("word " * 10, "long")
    kept = replace(news_article(BODY, "kept"), repairs=(REPAIR_UNPARSEABLE_DATE,))
    articles = [good, long, kept]
    analyses = [
        Analysis([entity()]),
        Analysis(error="ValueError: [E088] Text of length 1000001 exceeds maximum of 1000000."),
        Analysis([entity()], repairs=(REPAIR_FIGURES_FAILED,)),
    ]
    counts = write_batch(lake, "r1", "b0", articles, [decision(a) for a in articles], analyses, [], 1000)
    assert (counts.articles, counts.entities) == (2, 2)
    assert counts.quarantined == Counter({(STAGE_EXTRACT, REASON_EXTRACT_ERROR): 1})
    assert counts.repairs == Counter({REPAIR_UNPARSEABLE_DATE: 1, REPAIR_FIGURES_FAILED: 1})
    assert [r["article_id"] for r in read_rows(lake, "articles")] == ["good", "kept"]
    [row] = read_rows(lake, "quarantine")
    assert (row["item_key"], row["stage"], row["reason"]) == ("k-long", STAGE_EXTRACT, REASON_EXTRACT_ERROR)
    assert str(row["detail"]).startswith("ValueError: [E088]")
    assert row["payload"] == long.text.encode()  # no raw page in this batch: the text stands in
    # with the batch's raw items, the page as it arrived is kept instead
    counts = write_batch(lake, "r2", "b0", [long], [decision(long)], analyses[1:2], [], 1000, [raw_for(long)])
    assert counts.quarantined[(STAGE_EXTRACT, REASON_EXTRACT_ERROR)] == 1
    assert raw_for(long).payload in [r["payload"] for r in read_rows(lake, "quarantine")]


def test_a_replay_the_model_fails_on_leaves_the_article_as_it_was(data_dir: Path) -> None:
    from tasks.replay import write_replay

    lake = Lake(str(data_dir))
    first, second = news_article(BODY, "first"), news_article(BODY, "second")
    pair = [first, second]
    write_batch(lake, "r1", "b0", pair, [decision(a) for a in pair], [Analysis([entity()])] * 2, [], 1000)
    failed = Analysis(error="ValueError: [E088] Text too long.")
    write_replay(lake, "r2", "b0", pair, [Analysis([entity(), entity()]), failed], [], 1000)
    assert sorted(r["article_id"] for r in read_rows(lake, "articles")) == ["first", "second"]
    entities = Counter(r["article_id"] for r in read_rows(lake, "entities"))
    assert entities == Counter({"first": 2, "second": 1})  # replaced, and left as it was
    [row] = read_rows(lake, "quarantine")
    assert (row["item_key"], row["stage"], row["reason"]) == ("k-second", STAGE_EXTRACT, REASON_EXTRACT_ERROR)


def test_rejections_with_bad_strings_are_always_written(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    rejections = [
        Rejection("in.jsonl#L3\ud800", "in\udfff.jsonl", "load", "invalid_json", "bad \ud800 line", b"{"),
        Rejection("in.jsonl#L4", "in.jsonl", "load", "invalid_json", "ok", b"{"),
        Rejection("in.jsonl#L5", "in.jsonl", "load", "invalid_json", None, "{\ud800}"),  # type: ignore[arg-type]
    ]
    counts = write_batch(lake, "r1", "b0", [], [], [], rejections, 1000)
    assert sum(counts.quarantined.values()) == 3
    rows = read_rows(lake, "quarantine")
    assert [r["item_key"] for r in rows] == ["in.jsonl#L3\ufffd", "in.jsonl#L4", "in.jsonl#L5"]
    assert rows[0]["detail"] == "bad \ufffd line" and rows[0]["source_uri"] == "in\ufffd.jsonl"
    assert rows[2]["payload"] == "{\ufffd}".encode()


# ------------------------------------------------------------------------------------------------- report


def test_report_works_on_an_empty_lake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.html"
    assert main(["report", "--data-dir", str(tmp_path / "data"), "--since", "2025-01-01", "--output", str(output)]) == 0
    document = output.read_text(encoding="utf-8")
    assert document.count("No data in this period.") == 7
    assert "report written" in capsys.readouterr().out


def test_report_works_on_a_lake_with_articles_but_no_figures_or_duplicates(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    article = replace(news_article(BODY, "a1"), source="courier.example", title="Budget approved")
    write_batch(lake, "r1", "b0", [article], [decision(article)], [Analysis([entity()])], [], 1000)
    document = build_report(str(data_dir), "2025-11-01", FETCHED)
    assert "courier.example" in document and "Berlin (GPE)" in document
    assert document.count("No data in this period.") == 4  # figures by kind, duplicates, money, runs
    assert run_charts(lake, "r1").count("_nothing to chart_") == 1  # figures by kind
    assert top_entities(lake, "r1")[0]["mentions"] == 1
    assert notable_figures(lake, "r1") == []
    assert notable_figures(Lake(str(data_dir / "empty")), "r1") == []


def test_every_view_has_a_date_partition_column_on_any_lake(data_dir: Path) -> None:
    since = datetime(2025, 1, 1).date()
    memory = Lake(f"memory://mediawatch-isolation/{uuid.uuid4().hex}")  # a remote lake: views over pyarrow tables
    article = news_article(BODY, "a1")
    write_batch(memory, "r1", "b0", [article], [decision(article)], [Analysis()], [], 1000)
    for lake_uri in (str(data_dir), memory.uri):
        con = connect(lake_uri)
        for name in ("articles", "entities", "figures", "duplicates", "quarantine", "runs", "raw"):
            rel = con.execute(f"select count(*) from {name} where date >= ?", [since])
            assert rel.fetchone() is not None
    assert connect(memory.uri).execute("select count(*) from articles where date >= ?", [since]).fetchone() == (1,)


# ------------------------------------------------------------------------------------------------ settings


def test_max_text_chars_reaches_the_clean_and_nlp_options() -> None:
    options = build_run_options(Settings.build(max_text_chars=1234))
    assert options.clean.max_text_chars == 1234
    assert options.nlp.max_text_chars == 1234
    assert Settings.build().max_text_chars == CleanOptions().max_text_chars == NlpOptions().max_text_chars


def test_analysis_unpacks_as_a_pair_and_survives_pickling() -> None:
    import pickle

    analysis = Analysis([entity()], [], error=None, repairs=(REPAIR_FIGURES_FAILED,))
    entities, figures = analysis
    assert (entities, figures) == ([entity()], [])
    copy = pickle.loads(pickle.dumps(analysis))
    assert copy == analysis and copy.repairs == (REPAIR_FIGURES_FAILED,)
    assert Analysis(error="x") != Analysis()
    assert Analysis() == ([], [])
