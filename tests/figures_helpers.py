"""What the figures tests share: reading the one figure a sentence holds."""

from __future__ import annotations

from tasks.figures import FigureContext, find_figures
from tasks.records import Figure


def one(text: str, context: FigureContext | None = None, kind: str | None = None) -> Figure:
    """Return the single figure of ``text`` (of ``kind`` when given); fail naming them when there are more or none."""
    figs = [f for f in find_figures(text, context) if kind is None or f.kind == kind]
    assert len(figs) == 1, figs
    return figs[0]
