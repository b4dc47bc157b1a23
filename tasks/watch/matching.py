"""Watches applied to articles: the ``mentions`` of a batch at ingest, and of the lake for a backfill.

Both paths build the same :class:`~tasks.watch.match.MatchInput` (from records at ingest, from the lake's rows in a
backfill) and call the same matcher, so a backfill writes exactly the rows incremental matching wrote. An article
is tokenised once for all watches (:func:`~tasks.watch.match.prepare`); each watch then costs a few set lookups.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks.records import Article, Entity, Figure, WatchMention
from tasks.watch.match import Match, MatchInput, inputs_from_records, match, prepare
from tasks.watch.watches import Watch


def _mention(watch: Watch, article_id: str, found: Match) -> WatchMention:
    figure = found.figure
    return WatchMention(
        watch=watch.name,
        fingerprint=watch.fingerprint,
        article_id=article_id,
        terms=tuple(found.terms),
        evidence=found.evidence,
        evidence_kind=found.evidence_kind,
        figure_text=figure.text if figure is not None else None,
        figure_kind=figure.kind if figure is not None else None,
        figure_value=figure.value if figure is not None else None,
        figure_unit=figure.unit if figure is not None else None,
    )


def match_input(doc: MatchInput, watches: Sequence[Watch]) -> tuple[WatchMention, ...]:
    """Return the mentions of one article for ``watches`` (in watch order)."""
    if not watches:
        return ()
    prepared = prepare(doc)
    found = ((w, match(w.query, prepared)) for w in watches)
    return tuple(_mention(w, doc.article_id, m) for w, m in found if m is not None)


def match_article(
    article: Article, entities: Sequence[Entity], figures: Sequence[Figure], watches: Sequence[Watch]
) -> tuple[WatchMention, ...]:
    """Return the mentions of an article about to be written (ingest, replay)."""
    if not watches:
        return ()
    return match_input(inputs_from_records(article, entities, figures), watches)


def match_article_safely(
    article: Article, entities: Sequence[Entity], figures: Sequence[Figure], watches: Sequence[Watch]
) -> tuple[tuple[WatchMention, ...], bool]:
    """Return :func:`match_article`'s mentions and False, or no mentions and True when matching raised: a fault
    in a watch costs the article its mentions (a repair the run counts), never the article itself."""
    try:
        return match_article(article, entities, figures, watches), False
    except Exception:  # noqa: BLE001 - see above
        return (), True
