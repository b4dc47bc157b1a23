"""Benchmarks: each script prints its figures (never asserts them). Run them from the repository root."""

import hashlib
from pathlib import Path

# The development data sets live beside the repository, in ../shared/data (see the README's Benchmarks).
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def part_of(story: str) -> str:
    """Return ``tune`` or ``check`` for a story, from a hash of its id (stable, about half each): the split every
    quality scorer uses, so rules are written on one half and the other half says how they generalise."""
    return "tune" if hashlib.sha1(story.encode()).digest()[0] % 2 == 0 else "check"
