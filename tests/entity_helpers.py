"""What the entity rule tests share: mentions placed on the names written in a text."""

from __future__ import annotations

from tasks.entities import Mention


def found(text: str, *names: tuple[str, str]) -> list[Mention]:
    """Return mentions of the written names in ``text`` (the first occurrence of each) with the given labels."""
    out = []
    for written, label in names:
        start = text.index(written)
        out.append(Mention(written, label, start, start + len(written), 0, written))
    return out
