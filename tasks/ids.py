"""Stable identifiers and content fingerprints.

An ``article_id`` must be the same for the same article in every run, on every machine, so that reruns are
idempotent and users can join on it: it is a hash of the canonical URL when there is one, else of the
normalised text. Hashes are truncated BLAKE2b (standard library, fast, no collisions in practice at 16 hex
digits for the sizes a monitor sees).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_text(text: str) -> str:
    """Return ``text`` in the form used for content hashing: NFKC, case-folded, punctuation dropped,
    whitespace collapsed. Two copies that differ only in quotes, dashes, spacing or case hash the same."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", _NON_WORD.sub(" ", folded)).strip()


def short_hash(value: str, digits: int = 16) -> str:
    """Return the first ``digits`` hex digits of BLAKE2b over ``value`` (UTF-8)."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=max(8, digits // 2 + digits % 2)).hexdigest()[:digits]


def content_hash(text: str) -> str:
    """Return the fingerprint of an article body after :func:`normalize_text`."""
    return short_hash(normalize_text(text), 32)


def make_article_id(canonical_url: str | None, text: str) -> str:
    """Return the stable article id: hash of the canonical URL, else of the normalised text."""
    if canonical_url:
        return short_hash("url:" + canonical_url)
    return short_hash("text:" + normalize_text(text))


def make_entity_id(kind: str, name: str) -> str:
    """Return the stable id of an entity: the hash of its ``entity_key``, ``kind:name`` (``GPE:united states``).

    ``kind`` is the entity's coarse type and ``name`` its alias-resolved name (see ``tasks.entities``), both
    decided within one article, so the id never depends on what else was ingested. A GPE, ORG or PERSON name
    that no alias rule changes keeps the id it had when ids hashed the label and the canonical form."""
    return short_hash(f"{kind}:{name.casefold()}")
