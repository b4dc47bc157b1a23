"""The dedup stage over a batch: decisions from the index, relabelled for reruns and same-run repeats, with an
article that cannot be read quarantined on its own; and the thin Prefect task around it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import replace

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.dedup.index import DedupIndex
from tasks.dedup.keys import batch_keys
from tasks.dedup.signatures import compute_signatures
from tasks.dedup.verification import METHOD_ALREADY_INGESTED, METHOD_CANONICAL_URL, METHOD_CONTENT_HASH
from tasks.records import STAGE_DEDUP, Article, DedupDecision, Rejection, describe_error

# Rejection reason: an article whose dedup keys or signatures could not be computed.
REASON_DEDUP_ERROR = "dedup_error"


def relabel_known_copies(decisions: Sequence[DedupDecision], known_copies: set[str]) -> list[DedupDecision]:
    """Return ``decisions`` with copies already recorded in ``duplicates`` relabelled ``already_ingested``.

    The index keeps originals; when it is rebuilt from ``articles`` after a crash, a copy committed by the
    crashed run would otherwise be found again and recorded twice. Adds this batch's new copies to
    ``known_copies``.
    """
    out: list[DedupDecision] = []
    for decision in decisions:
        if decision.duplicate_of is not None and decision.method != METHOD_ALREADY_INGESTED:
            if decision.article_id in known_copies:
                decision = dataclasses.replace(decision, method=METHOD_ALREADY_INGESTED)
            else:
                known_copies.add(decision.article_id)
        out.append(decision)
    return out


def relabel_same_run(
    articles: Sequence[Article], decisions: Sequence[DedupDecision], seen_this_run: set[str]
) -> list[DedupDecision]:
    """Return ``decisions`` with ``already_ingested`` copies of an article first seen in this run relabelled.

    The same ``article_id`` twice in one run is not a rerun but two items with one canonical URL (or, without a
    URL, one text): ``canonical_url`` or ``content_hash``. Updates ``seen_this_run`` with this batch's originals.
    """
    out: list[DedupDecision] = []
    for article, decision in zip(articles, decisions, strict=True):
        if decision.method == METHOD_ALREADY_INGESTED and article.article_id in seen_this_run:
            method = METHOD_CANONICAL_URL if article.canonical_url else METHOD_CONTENT_HASH
            decision = dataclasses.replace(decision, method=method, similarity=1.0)
        elif decision.duplicate_of is None:
            seen_this_run.add(article.article_id)
        out.append(decision)
    return out


def check_articles(index: DedupIndex, articles: Sequence[Article]) -> list[DedupDecision]:
    """Return the dedup decisions of ``articles`` (see :meth:`DedupIndex.check_and_add`); adds them to
    ``index``."""
    return index.check_and_add(articles)


def check_articles_isolated(
    index: DedupIndex, articles: Sequence[Article]
) -> tuple[list[Article], list[DedupDecision], list[Rejection]]:
    """Return ``(articles, decisions, rejections)``: the decisions of the articles dedup could read, and a
    rejection (stage ``dedup``, reason ``dedup_error``) for each article whose keys or signatures raise, so one
    article never fails its batch. Keys and signatures are computed before the index changes; an error after
    that (a fault of the index, not of an article) is raised."""
    size = len(index)
    try:
        return list(articles), index.check_and_add(articles), []
    except Exception:
        if len(index) != size:
            raise
    kept: list[Article] = []
    rejections: list[Rejection] = []
    for article in articles:
        try:
            batch_keys([article], index.options)
            compute_signatures([article.text], index.options)
        except Exception as exc:  # noqa: BLE001 - this article's fault: quarantined, the batch goes on
            detail = describe_error(exc)
            payload = article.text.encode("utf-8", "replace")
            rejection = Rejection(
                article.item_key, article.source_uri, STAGE_DEDUP, REASON_DEDUP_ERROR, detail, payload
            )
            rejections.append(replace(rejection, external_id=article.external_id, url=article.url))
            continue
        kept.append(article)
    return kept, index.check_and_add(kept), rejections


# No caching: the index is mutable state, and hashing it as an input would read every array.
check_articles_task = task(name="dedup", task_run_name="dedup", cache_policy=NO_CACHE)(check_articles_isolated)
