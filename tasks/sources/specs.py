"""The sources a run reads: source specs, the sources TOML file and text files of URLs.

:func:`parse_source` turns what the user named (an http(s) URL, a ``.toml`` sources file, a URL list, a WARC
file or a directory of them) into :class:`SourceSpec` values; :func:`classify_url` guesses a URL's kind from
its path. Nothing here touches the network.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args
from urllib.parse import urlsplit

from tasks.fetch import REASON_BAD_URL
from tasks.records import STAGE_FETCH, Rejection, SourceHints

SourceKind = Literal["auto", "feed", "sitemap", "page", "warc"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")

# Reason code produced here (besides ``bad_url``, shared with the fetch stage).
REASON_NOT_A_URL_LIST = "not_a_url_list"
# Item keys of URL list rejections: the list's path and line (``urls:/data/list.txt#L3``), never taken for a
# local file's item key.
URL_LIST_KEY_PREFIX = "urls:"

_TOML_KEYS = frozenset({"url", "path", "kind", "name", "language", "country", "currency", "max_items", "rate"})
_HINT_KEYS = ("name", "language", "country", "currency")
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
_FEED_PATH = re.compile(r"(?:^|/)(?:feeds?|rss|atom)(?:/|\.xml|\.rss|$)|\.(?:rss|atom|rdf)$")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source to read: ``uri`` is an http(s) URL or a local path; kind "auto" is decided by content."""

    uri: str
    kind: SourceKind = "auto"
    hints: SourceHints = field(default_factory=SourceHints)
    max_items: int | None = None
    rate: float | None = None  # requests per second to this source's host (default: MEDIAWATCH_HOST_DELAY_SECONDS)
    # Set when the source could not be used (a URL list line that is no URL): discovery reports it, reads nothing.
    rejection: Rejection | None = None


def classify_url(url: str, default: SourceKind = "auto") -> SourceKind:
    """Return the kind a URL looks like from its path: ``sitemap``, ``feed``, else ``default``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return default
    path = parts.path.lower()
    if "sitemap" in path or path.endswith(".xml.gz"):
        return "sitemap"
    if (
        _FEED_PATH.search(path)
        or path.endswith(".xml")
        or re.search(r"(?:^|&)(?:format|output)=(?:rss|atom)", parts.query.lower())
    ):
        return "feed"
    return default


def parse_source(
    spec: str | Path,
    *,
    kind: SourceKind | None = None,
    hints: SourceHints | None = None,
    max_items: int | None = None,
    follow_symlinks: bool = False,
) -> list[SourceSpec]:
    """Return the sources ``spec`` names.

    ``spec`` is an http(s) URL (kind from ``kind``, else guessed from the path, else decided by content), a
    ``.toml`` sources file, a ``.warc``/``.warc.gz`` file, a directory (its WARC files), or a text file of
    URLs (one per line, ``#`` comments; each URL's kind guessed from its path, default ``page``).
    ``follow_symlinks`` lets a sources file's relative paths lead outside its folder (see
    :func:`load_sources_toml`). Lines of a URL list that cannot be used come back as specs carrying a
    :class:`~tasks.records.Rejection` (see :func:`read_url_list`).
    Raises ValueError for a spec that names nothing usable (a missing file, a FIFO or device, a bad TOML
    entry, a sources file path leading outside its folder).
    """
    return _parse_source(spec, kind, hints or SourceHints(), max_items, follow_symlinks, within=None, chain=())


def _parse_source(
    spec: str | Path,
    kind: SourceKind | None,
    hints: SourceHints,
    max_items: int | None,
    follow_symlinks: bool,
    *,
    within: Path | None,
    chain: tuple[Path, ...],
) -> list[SourceSpec]:
    """:func:`parse_source`, with the folder a sources file's paths must stay in and the sources files that
    led here (a file that names itself, directly or not, would never end)."""
    if kind is not None and kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
    text = str(spec).strip()
    if _URL_RE.match(text) and not text.lower().startswith("file://"):
        return [SourceSpec(uri=text, kind=kind or classify_url(text), hints=hints, max_items=max_items)]
    path = Path(text.removeprefix("file://")).expanduser()
    if not path.exists():
        raise ValueError(f"source {text!r} is neither an http(s) URL nor an existing file")
    check_readable(path, f"source {text!r}")
    if path.is_dir():
        warcs = sorted(p for p in path.iterdir() if p.name.lower().endswith(WARC_SUFFIXES))
        for warc in warcs:
            if within is not None and not warc.resolve().is_relative_to(within):
                raise ValueError(f"{warc} links to {warc.resolve()}, outside {within}")
            check_readable(warc, f"source {str(warc)!r}")
        if not warcs:
            raise ValueError(f"source directory {path} holds no .warc/.warc.gz files")
        return [SourceSpec(uri=str(p.resolve()), kind="warc", hints=hints, max_items=max_items) for p in warcs]
    name = path.name.lower()
    if kind == "warc" or name.endswith(WARC_SUFFIXES):
        return [SourceSpec(uri=str(path.resolve()), kind="warc", hints=hints, max_items=max_items)]
    if name.endswith(".toml"):
        resolved = path.resolve()
        if resolved in chain:
            raise ValueError(f"sources file {path} names itself through {' -> '.join(map(str, chain))}")
        return _load_sources_toml(path, hints, follow_symlinks, chain=(*chain, resolved))
    return read_url_list(path, kind=kind, hints=hints, max_items=max_items)


def check_readable(path: Path, label: str) -> None:
    """Raise ValueError (its message starting with ``label``) unless ``path``, followed through links, is a
    regular file or a directory.

    A FIFO would block the run forever waiting for a writer, ``/dev/zero`` never ends and a socket cannot be
    read as a file; none of them can be a source.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ValueError(f"{label} cannot be read: {exc}") from exc
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ValueError(f"{label} is not a regular file or directory (a FIFO, device or socket)")


def read_url_list(
    path: Path,
    *,
    kind: SourceKind | None = None,
    hints: SourceHints | None = None,
    max_items: int | None = None,
) -> list[SourceSpec]:
    """Return one source per line of a text file of URLs (blank lines and ``#`` comments skipped).

    A line that is not an absolute URL (``example.com/a``: no scheme) becomes a spec carrying a rejection
    ``bad_url`` whose payload is that line; the other lines go on. A file in which no line is a URL is not a
    URL list at all (an article, a password file named by mistake): it becomes one rejection
    ``not_a_url_list`` with an empty payload, so none of its lines is copied anywhere. Lines whose scheme is
    not http(s) are kept as ``page`` sources, which the fetch stage rejects with ``bad_scheme``.
    Raises ValueError when the file cannot be read.
    """
    hints = hints or SourceHints()
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise ValueError(f"URL list {path} cannot be read: {exc}") from exc
    specs: list[SourceSpec] = []
    bad: list[SourceSpec] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        url = line.split()[0]
        if not _URL_RE.match(url):
            detail = f"line {number} of {path.name} is not an absolute URL (scheme://host/...)"
            where = f"{path.resolve()}#L{number}"
            # The would-be URL goes in ``url``, as for any URL the fetch stage refuses.
            problem = _list_rejection(where, str(path), REASON_BAD_URL, detail, raw.encode(), url=url)
            bad.append(SourceSpec(uri=str(path), kind="page", hints=hints, rejection=problem))
            continue
        specs.append(
            SourceSpec(uri=url, kind=kind or classify_url(url, default="page"), hints=hints, max_items=max_items)
        )
    if bad and not specs:
        detail = f"{path.name}: none of its {len(bad)} lines is a URL"
        problem = _list_rejection(str(path.resolve()), str(path), REASON_NOT_A_URL_LIST, detail, b"")
        return [SourceSpec(uri=str(path), kind="page", hints=hints, rejection=problem)]
    return specs + bad


def _list_rejection(
    where: str, source_uri: str, reason: str, detail: str, payload: bytes, url: str | None = None
) -> Rejection:
    return Rejection(
        item_key=f"{URL_LIST_KEY_PREFIX}{where}",
        source_uri=source_uri,
        stage=STAGE_FETCH,
        reason=reason,
        detail=detail,
        payload=payload,
        url=url,
    )


def load_sources_toml(
    path: Path, *, defaults: SourceHints | None = None, follow_symlinks: bool = False
) -> list[SourceSpec]:
    """Return the sources of a TOML file::

        [defaults]                      # optional: hints for every source
        language = "en"
        country = "US"
        currency = "USD"

        [[source]]
        url = "https://example.com/feed.xml"
        kind = "feed"                   # optional: auto, feed, sitemap, page, warc
        name = "Example News"           # optional hints: name, language, country, currency
        max_items = 200                 # optional cap on URLs taken from this source
        rate = 0.5                      # optional requests per second to this source's host

        [[source]]
        path = "more-urls.txt"          # a URL list, WARC or directory, relative to this file

    A relative ``path`` must stay inside the sources file's folder once ``..`` and links are resolved (a
    shared sources file must not read ``../../etc/shadow``), unless ``follow_symlinks``; an absolute path is
    the operator's own choice. Either must be a regular file or a directory.
    Raises ValueError naming the entry and key when the file is malformed or a path is refused.
    """
    return _load_sources_toml(path, defaults or SourceHints(), follow_symlinks, chain=(path.resolve(),))


def _load_sources_toml(
    path: Path, defaults: SourceHints, follow_symlinks: bool, *, chain: tuple[Path, ...]
) -> list[SourceSpec]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from exc
    unknown_top = set(data) - {"defaults", "source", "sources"}
    if unknown_top:
        raise ValueError(f"{path}: unknown top-level keys {sorted(unknown_top)}")
    base = _hints_from(data.get("defaults", {}), defaults, f"{path} [defaults]")
    entries: list[object] = []
    for key in ("source", "sources"):
        value = data.get(key, [])
        if not isinstance(value, list):
            raise ValueError(f"{path}: '{key}' must be a list of tables, written [[{key}]]")
        entries.extend(value)
    if not entries:
        raise ValueError(f"{path}: no [[source]] entries")
    specs: list[SourceSpec] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path} source #{index}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a table")
        unknown = set(entry) - _TOML_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_TOML_KEYS)}")
        if ("url" in entry) == ("path" in entry):
            raise ValueError(f"{where}: give exactly one of 'url' or 'path'")
        kind = entry.get("kind")
        if kind is not None and kind not in SOURCE_KINDS:
            raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        max_items = entry.get("max_items")
        if max_items is not None and (not isinstance(max_items, int) or max_items <= 0):
            raise ValueError(f"{where}: max_items must be a positive integer")
        rate = entry.get("rate")
        if rate is not None and (not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0):
            raise ValueError(f"{where}: rate must be a positive number of requests per second")
        hints = _hints_from(entry, base, where)
        if "url" in entry:
            url = str(entry["url"]).strip()
            if not _URL_RE.match(url):
                raise ValueError(f"{where}: url {url!r} is not an absolute URL")
            specs.append(
                SourceSpec(
                    uri=url,
                    kind=cast(SourceKind, kind or classify_url(url)),
                    hints=hints,
                    max_items=max_items,
                    rate=float(rate) if rate is not None else None,
                )
            )
            continue
        target, within = _entry_path(path, str(entry["path"]), where, follow_symlinks)
        try:
            found = _parse_source(
                target,
                cast(SourceKind | None, kind),
                hints,
                max_items,
                follow_symlinks,
                within=within,
                chain=chain,
            )
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        specs.extend(found)
    return specs


def _entry_path(sources_file: Path, written: str, where: str, follow_symlinks: bool) -> tuple[Path, Path | None]:
    """Return the path a sources file entry names, and the folder it must stay in (None: anywhere).

    Raises ValueError naming the entry when a relative path leads outside the sources file's folder (after
    ``..`` and links are resolved) and ``follow_symlinks`` is off, or when the path is not a regular file or a
    directory.
    """
    given = Path(written).expanduser()
    if given.is_absolute():
        target, within = given, None
    else:
        target = sources_file.parent / given
        folder = sources_file.parent.resolve()
        within = None if follow_symlinks else folder
        if within is not None and not target.resolve().is_relative_to(folder):
            raise ValueError(
                f"{where}: path {written!r} leads outside {folder} (to {target.resolve()}); write an absolute "
                "path to read it, or allow paths outside the sources file's folder (follow_symlinks)"
            )
    if target.exists():
        check_readable(target, f"{where}: path {written!r}")
    return target, within


def _hints_from(table: object, base: SourceHints, where: str) -> SourceHints:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table")
    values: dict[str, str | None] = {}
    for key in _HINT_KEYS:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string")
        values[key] = value if value is not None else getattr(base, key)
    if values["currency"]:
        values["currency"] = values["currency"].upper()
    return SourceHints(**values)
