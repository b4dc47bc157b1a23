"""The pool of real article leads the watch stream is laid from (``python -m bench.watch_stream pool``).

Benchmark pages run through the clean stage itself (complete articles of 80 words or more) and the real stories
of the dedup development set, each cut to its lead, exact copies and pairs the dedup stage links dropped, written
as ``tests/fixtures/watch/pool.jsonl.gz``. See :mod:`bench.watch_stream` for the stream.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.clean import count_words, split_paragraphs
from tasks.ids import content_hash, make_article_id
from tasks.outlets import outlet_for, outlet_of
from tasks.urls import canonicalize_url

REPO = Path(__file__).resolve().parents[1]
POOL_PATH = REPO / "tests" / "fixtures" / "watch" / "pool.jsonl.gz"

# ------------------------------------------------------------------------------------------------ the pool

# Fewest words of a benchmark page's cleaned text for it to count as an article: shorter texts are briefs,
# captions or the remains of a section front page.
MIN_ARTICLE_WORDS = 80
# A lead is cut after the paragraph that brings it to about this many words (whole paragraphs only): two or three
# paragraphs of news prose, enough for a watch to match and for dedup to tell copies apart, while a thousand leads
# stay well under a megabyte of gzip.
LEAD_WORDS = 180
# ... but a lead is never shorter than this while paragraphs remain: a first paragraph that is only a headline
# or a dateline is not a lead.
LEAD_MIN_WORDS = 60
# Every item of the pool is "fetched" at this time when the dedup stage compares the pool with itself.
POOL_FETCHED_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# Roles in the dedup set's provenance of the real stories (the rest of its items are generated variants).
DEDUP_REAL_ROLES = ("original", "shared_paragraph_host")


@dataclass(frozen=True, slots=True)
class PoolText:
    """One real article of the pool: its lead, its metadata and where it came from.

    ``origin`` names the set (``bench`` or ``dedup``) and the id in that set; ``outlet`` is the registrable
    domain of the page URL, else the outlet the dedup set gives (a publisher's name when it had no URL).
    """

    id: str
    title: str
    text: str
    language: str
    outlet: str | None
    url: str | None
    origin: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """Return the pool line of this text."""
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PoolText:
        """Return the text of a pool line."""
        return cls(
            id=obj["id"],
            title=obj["title"],
            text=obj["text"],
            language=obj["language"],
            outlet=obj.get("outlet"),
            url=obj.get("url"),
            origin=dict(obj["origin"]),
        )


def paragraphs_of(text: str) -> list[str]:
    """Return the paragraphs of ``text`` as the ingest reads a text item: blank-line separated when the text has
    blank lines, else one per line (:func:`tasks.clean.split_paragraphs`)."""
    return split_paragraphs(text, blank_line_separated=bool(re.search(r"\n\s*\n", text)))


def lead_of(text: str, max_words: int = LEAD_WORDS, min_words: int = LEAD_MIN_WORDS) -> str:
    """Return the lead of ``text``: its first paragraphs, whole, joined by blank lines.

    The first paragraph is always kept; the next ones are added while the lead is under ``min_words`` or while
    it stays within ``max_words``.
    """
    kept: list[str] = []
    words = 0
    for paragraph in paragraphs_of(text):
        n = count_words(paragraph)
        if kept and words >= min_words and words + n > max_words:
            break
        kept.append(paragraph)
        words += n
    return "\n\n".join(kept)


def _one_line(text: str) -> str:
    """Return ``text`` on one line, whitespace collapsed: a title as the loader and the clean stage keep it."""
    return " ".join(text.split())


def _bare(url: str | None) -> str | None:
    """Return ``url`` without surrounding whitespace (some pages declare ``og:url`` with a trailing space)."""
    return (url.strip() or None) if url else None


def pool_from_bench(data: Path, workers: int = 2) -> list[PoolText]:
    """Return the benchmark pages that the clean stage turns into complete articles of ``MIN_ARTICLE_WORDS``
    words or more, each cut to its lead (a page with no title or no language is left out)."""
    from tasks.clean import CleanOptions, clean_items
    from tasks.records import RawItem

    manifest = [json.loads(line) for line in (data / "bench" / "manifest.jsonl").read_text().splitlines()]
    raw = [
        RawItem(
            item_key=m["id"],
            source_uri=m["path"],
            payload=gzip.decompress((data / m["path"]).read_bytes()),
            kind="html",
            fetched_at=POOL_FETCHED_AT,
            url=m["url"],
        )
        for m in manifest
    ]
    by_key = {m["id"]: m for m in manifest}
    articles, _rejections = clean_items(raw, CleanOptions(workers=workers))
    out: list[PoolText] = []
    for article in articles:
        if article.is_teaser or article.word_count < MIN_ARTICLE_WORDS or not article.title or not article.language:
            continue
        meta = by_key[article.item_key]
        outlet, _captured = outlet_for(article.canonical_url, article.url)
        out.append(
            PoolText(
                id=meta["id"],
                title=_one_line(article.title),
                text=lead_of(article.text),
                language=article.language,
                outlet=outlet,
                url=_bare(article.url) or _bare(article.canonical_url),
                origin={"set": "bench", "id": meta["id"], "source": meta["source"]},
            )
        )
    return out


def pool_from_dedup(data: Path) -> list[PoolText]:
    """Return the real stories of the dedup set (originals and hosts), each cut to its lead.

    A host is a real story into which the set inserted one paragraph of another story (``hard_negatives.jsonl``
    names it); that paragraph is taken out again, so the pool holds the host as it was published.
    """
    folder = data / "dedup"
    items = {obj["id"]: obj for obj in map(json.loads, (folder / "items.jsonl").read_text().splitlines())}
    roles = {
        obj["id"]: obj["role"]
        for obj in map(json.loads, (folder / "provenance.jsonl").read_text().splitlines())
        if obj["role"] in DEDUP_REAL_ROLES
    }
    inserted: dict[str, str] = {}
    for obj in map(json.loads, (folder / "hard_negatives.jsonl").read_text().splitlines()):
        if obj["kind"] == "shared_background_paragraph":
            inserted[obj["ids"][1]] = obj["shared_paragraph"]
    out: list[PoolText] = []
    for item_id in sorted(roles):
        item = items[item_id]
        paragraphs = paragraphs_of(item["text"])
        if item_id in inserted:
            foreign = unicodedata.normalize("NFC", " ".join(inserted[item_id].split()))
            paragraphs = [p for p in paragraphs if p != foreign]
        if not item.get("title") or not item.get("language"):
            continue
        out.append(
            PoolText(
                id=f"dedup-{item_id}",
                title=_one_line(item["title"]),
                text=lead_of("\n\n".join(paragraphs)),
                language=item["language"],
                outlet=outlet_of(_bare(item.get("url"))) or item.get("outlet"),
                url=_bare(item.get("url")),
                origin={"set": "dedup", "id": item_id, "role": roles[item_id]},
            )
        )
    return out


def drop_copies(texts: Sequence[PoolText]) -> tuple[list[PoolText], list[tuple[str, str]]]:
    """Return the texts without copies, in order, and the ``(dropped id, kept id)`` pairs.

    A copy is a text whose lead is, once normalised, identical to an earlier one, or that the dedup stage
    (:class:`tasks.dedup.DedupIndex`, default options) links to an earlier one: the same article reached the
    pool through both sources, or one page exists at two addresses. The first seen is kept.
    """
    from tasks.dedup import DedupIndex, DedupOptions
    from tasks.records import Article

    seen_hashes: dict[str, str] = {}
    unique: list[PoolText] = []
    dropped: list[tuple[str, str]] = []
    for text in texts:
        digest = content_hash(text.text)
        if digest in seen_hashes:
            dropped.append((text.id, seen_hashes[digest]))
            continue
        seen_hashes[digest] = text.id
        unique.append(text)
    articles = []
    for n, text in enumerate(unique):
        canonical = canonicalize_url(text.url) if text.url else None
        articles.append(
            Article(
                article_id=make_article_id(canonical, text.text),
                item_key=f"pool#{n}",
                source_uri="pool",
                source=text.outlet or "unknown",
                text=text.text,
                content_hash=content_hash(text.text),
                fetched_at=POOL_FETCHED_AT,
                title=text.title,
                url=text.url,
                canonical_url=canonical,
                external_id=text.id,
                language=text.language,
            )
        )
    decisions = DedupIndex(DedupOptions()).check_and_add(articles)
    by_article = {article.article_id: article.external_id for article in articles}
    kept: list[PoolText] = []
    for text, decision in zip(unique, decisions, strict=True):
        if decision.duplicate_of is None:
            kept.append(text)
        else:
            dropped.append((text.id, str(by_article.get(decision.cluster_id, decision.cluster_id))))
    return kept, dropped


def build_pool(data: Path, workers: int = 2) -> tuple[list[PoolText], list[tuple[str, str]]]:
    """Return the pool (benchmark pages first, then the dedup set's stories, copies dropped; sorted by id) and
    the dropped copies."""
    kept, dropped = drop_copies([*pool_from_bench(data, workers), *pool_from_dedup(data)])
    return sorted(kept, key=lambda t: t.id), dropped


def write_pool(path: Path, texts: Iterable[PoolText]) -> None:
    """Write the pool as gzipped JSONL with a fixed gzip header time, so the same pool gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(t.to_json(), ensure_ascii=False, sort_keys=True) + "\n" for t in texts)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as out:
        out.write(body.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def load_pool(path: Path = POOL_PATH) -> list[PoolText]:
    """Return the pool stored at ``path``."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [PoolText.from_json(json.loads(line)) for line in lines if line.strip()]
