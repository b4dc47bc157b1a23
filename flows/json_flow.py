"""A Prefect flow whose plain JSON parameters are recorded as they are.

Prefect records a flow run's parameters through FastAPI's ``jsonable_encoder``, and importing FastAPI costs a
quarter of a second, a tenth of an unchanged ad-hoc rerun. mediawatch's flows take strings, numbers, booleans
and lists of them, which are JSON already: :class:`JsonFlow` records those unchanged and hands anything else to
Prefect's encoder, so what the server stores is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Flow

P = ParamSpec("P")
R = TypeVar("R")


def is_plain_json(value: Any) -> bool:
    """Return True when ``value`` is a JSON scalar or a list/dict of them with string keys (what JSON keeps as is)."""
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(is_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain_json(v) for k, v in value.items())
    return False


class JsonFlow(Flow[P, R]):
    """A :class:`prefect.Flow` that records plain JSON parameters without importing FastAPI."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Return ``parameters`` as recorded on the flow run: unchanged when all are plain JSON (lists as lists)."""
        if all(is_plain_json(value) for value in parameters.values()):
            return {key: _as_json(value) for key, value in parameters.items()}
        return super().serialize_parameters(parameters)

    def with_options(self, **options: Any) -> JsonFlow[P, R]:
        """Prefect's ``with_options``, keeping this class (Prefect's builds a plain ``Flow``)."""
        copy = super().with_options(**options)
        copy.__class__ = type(self)
        return copy  # type: ignore[return-value]


def _as_json(value: Any) -> Any:
    """Return ``value`` with tuples as lists, as JSON (and FastAPI's encoder) has them."""
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


def json_flow(**options: Any) -> Callable[[Callable[P, R]], JsonFlow[P, R]]:
    """Decorator like ``@prefect.flow(**options)`` that builds a :class:`JsonFlow`."""

    def build(fn: Callable[P, R]) -> JsonFlow[P, R]:
        return JsonFlow(fn=fn, **options)

    return build
