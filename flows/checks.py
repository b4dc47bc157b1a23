"""Checks before work: settings, sources, input paths and the data directory, validated before a run starts.

A mistake in what a run was given (a typo in a path, a malformed sources file, ``--batch-size 0``, a bad
``MEDIAWATCH_*`` value) is reported in one line that names what is wrong and how to fix it. The command line
calls these checks before any flow (so a typo never starts a Prefect server), and the ingest flow calls them
again first thing, since a deployment's parameters reach only the flow; there a refused run ends Failed at once
and is never retried: a mistake is not a transient failure.

Exit codes: :class:`ConfigurationError` is a usage or configuration error (2); :class:`InputPathError`, an input
path that does not exist or cannot be read, fails the run (1).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from flows.settings import Settings, open_lake

if TYPE_CHECKING:
    from storage.lake import Lake

EXIT_FAILED = 1
EXIT_USAGE = 2

# Settings that also have a command-line flag: the message names both ways of setting them.
_FLAGS = {
    "batch_size": "--batch-size",
    "data_dir": "--data-dir",
    "lock_wait_seconds": "--wait-lock",
    "refetch": "--refetch",
    "reprocess": "--reprocess",
    "follow_symlinks": "--follow-symlinks",
}


def one_line(text: object) -> str:
    """Return ``text`` with its whitespace (newlines included) collapsed: a message is one line."""
    return " ".join(str(text).split())


class RunRefused(Exception):  # noqa: N818 - a refusal, not an error of the program
    """A run (or command) that must not go ahead; ``exit_code`` is what the command line exits with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class ConfigurationError(RunRefused):
    """A usage or configuration error: a bad setting, option, sources file or data directory (exit code 2)."""


class InputPathError(RunRefused):
    """An input path that does not exist or cannot be read: the run fails (exit code 1)."""

    exit_code = EXIT_FAILED


def describe_settings_error(exc: ValidationError) -> str:
    """Return a settings validation error as one line naming the setting, its flag and variable, and the value."""
    errors = exc.errors()
    first = errors[0]
    name = str(first["loc"][0]) if first.get("loc") else "?"
    variable = f"MEDIAWATCH_{name.upper()}"
    where = f"{_FLAGS[name]} or {variable}" if name in _FLAGS else variable
    reason = str(first.get("msg", "invalid value"))
    reason = reason[:1].lower() + reason[1:]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"setting {name} ({where}): {reason}, got {first.get('input')!r}{more}; fix it and run again"


def build_settings(**overrides: Any) -> Settings:
    """Return the settings (environment plus ``overrides``); raise :class:`ConfigurationError` when invalid."""
    try:
        return Settings.build(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(describe_settings_error(exc)) from exc


def _is_url(source: str) -> bool:
    return "://" in source and not source.lower().startswith("file://")


def check_sources(sources: Sequence[str], follow_symlinks: bool = False) -> None:
    """Raise unless every source can be used: :class:`InputPathError` for a path that does not exist or cannot be
    read, :class:`ConfigurationError` for no sources at all or a sources file or URL list that names nothing
    usable (the message names the file, the entry and the key)."""
    from tasks.inputs import route_source
    from tasks.sources import parse_source

    if not sources:
        raise ConfigurationError("no sources given: name files, folders, URLs or a sources .toml file")
    for source in sources:
        if _is_url(source):
            continue
        path = Path(source.removeprefix("file://")).expanduser()
        if not path.exists():
            raise InputPathError(f"input path {source!r} does not exist: check the path (a typo?)")
        if not os.access(path, os.R_OK):
            raise InputPathError(f"input path {source!r} cannot be read (permission denied): check its permissions")
        if route_source(source) in ("web", "warc"):
            try:
                parse_source(source, follow_symlinks=follow_symlinks)
            except ValueError as exc:
                raise ConfigurationError(f"{exc}; fix it and run again") from exc


def uses_web(sources: Sequence[str]) -> bool:
    """Return True when a run of ``sources`` may send HTTP requests (URLs, URL lists, sources files)."""
    from tasks.inputs import route_source

    return any(_is_url(s) or route_source(s) == "web" for s in sources)


def check_data_dir(data_dir: str | Settings) -> Lake:
    """Return the lake of ``data_dir``: a path or URI, or the settings naming one (whose object-store settings
    are then used, see :func:`~flows.settings.open_lake`). Raise :class:`ConfigurationError` when it cannot be a
    data directory (a file, a bad URI)."""
    from storage.lake import Lake, LakeError

    uri = data_dir if isinstance(data_dir, str) else data_dir.data_dir
    if "://" not in uri and Path(uri).expanduser().is_file():
        raise ConfigurationError(f"data directory {uri!r} is a file: pass a folder with --data-dir")
    try:
        return Lake(data_dir) if isinstance(data_dir, str) else open_lake(data_dir)
    except LakeError as exc:
        raise ConfigurationError(f"data directory {uri!r}: {exc}") from exc


def require_lake(settings: Settings) -> Lake:
    """Return the lake of ``settings``; raise :class:`ConfigurationError` unless it holds mediawatch data (a
    mistyped ``--data-dir`` would otherwise answer every query with nothing)."""
    from storage.lake import LAKE_ID_FILE
    from storage.schemas import DATASETS

    lake = check_data_dir(settings)
    if lake.read_bytes(lake.path(LAKE_ID_FILE)) is not None or any(lake.exists(d) for d in DATASETS):
        return lake
    raise ConfigurationError(
        f"no mediawatch data in {settings.data_dir!r}: check --data-dir (or MEDIAWATCH_DATA_DIR); "
        "`mediawatch run` creates it"
    )
