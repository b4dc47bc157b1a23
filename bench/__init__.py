"""Benchmarks: each script prints its figures (never asserts them). Run them from the repository root."""

from pathlib import Path

# The development data sets live beside the repository, in ../shared/data (see the README's Benchmarks).
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
