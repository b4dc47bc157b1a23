"""The words a figure is described with: its kinds, the percent units, bounds and roles.

Every module of the package and every reader of the ``figures`` dataset compares against these strings, so they
live in one place that imports nothing, next to the function that turns a one-string word list into a set.
"""

from __future__ import annotations

KIND_MONEY = "money"
KIND_PERCENT = "percent"
KIND_QUANTITY = "quantity"
KIND_COUNT = "count"
KIND_DATE = "date"
KIND_ORDINAL = "ordinal"
KIND_FRACTION = "fraction"

UNIT_PERCENT = "percent"
UNIT_POINT = "percentage_point"

BOUND_EXACT = "exact"
BOUND_LOWER = "lower"
BOUND_UPPER = "upper"
ROLE_LEVEL = "level"
ROLE_CHANGE = "change"

# Kinds that carry a role (level or change).
ROLE_KINDS = frozenset({KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, KIND_COUNT, KIND_FRACTION})


def _words(text: str) -> frozenset[str]:
    """Return the words of ``text`` as a set: the package's word lists are written as one string each."""
    return frozenset(text.split())
