"""Local inputs: files and directories of HTML, plain text and JSONL news items.

Loading is split in two so that a directory of a million files streams in bounded batches:
:func:`discover_local` lists *references* (a file, or one line of a JSONL file by byte offset), and
:func:`load_items` reads a batch of references into :class:`~tasks.records.RawItem` values.

Formats:
- ``.html``/``.htm`` (optionally ``.gz``): one page per file, bytes kept as they are (the clean stage decodes).
- ``.txt`` (optionally ``.gz``): first non-empty line is the title, the rest is the body.
- ``.jsonl`` (optionally ``.gz``): one object per line with any of ``id``, ``url``, ``title``, ``text`` or
  ``html``, ``published_at``, ``source`` (or ``outlet``), ``language``, ``authors``; ``id`` becomes
  ``external_id`` on every row derived from the item.

Inputs are read to the end or rejected: a gzip stream must end cleanly (every member read, ``truncated_input``
otherwise); size caps apply to the bytes actually read, decompressed; only regular files are read
(``not_regular_file`` for a FIFO or a device, which would hang or never end); and a symbolic link inside a folder
is followed only when its target stays inside that folder (``symlink_outside``; ``follow_symlinks`` allows it), so
a link to a secret never copies the secret into the lake.

A bad value in a field that is not the content (a title that is a list, a lone surrogate) is dropped or repaired
and the item kept, with a repair code (see ``tasks.records``); only unusable content rejects the item.

Rejection reasons: ``unreadable_file``, ``not_regular_file``, ``symlink_outside``, ``bad_gzip``,
``truncated_input``, ``too_large``, ``decode_error``, ``invalid_json``, ``invalid_item``, ``missing_content``,
``empty_payload``, ``file_changed``.
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tasks.decode import decode_bytes
from tasks.records import (
    REPAIR_LONE_SURROGATE,
    STAGE_LOAD,
    RawItem,
    Rejection,
    SourceHints,
    describe_error,
    fix_surrogates,
    repair_surrogates,
    with_repairs,
)

REASON_UNREADABLE = "unreadable_file"
REASON_BAD_GZIP = "bad_gzip"
REASON_TOO_LARGE = "too_large"
REASON_DECODE = "decode_error"
REASON_INVALID_JSON = "invalid_json"
REASON_INVALID_ITEM = "invalid_item"
REASON_MISSING_CONTENT = "missing_content"
REASON_EMPTY = "empty_payload"
REASON_NOT_REGULAR = "not_regular_file"
REASON_SYMLINK_OUTSIDE = "symlink_outside"
REASON_TRUNCATED = "truncated_input"
REASON_FILE_CHANGED = "file_changed"
# Repair: a field that is not the content had a JSON type that cannot be it (a list as a title); left out.
REPAIR_BAD_FIELD_TYPE = "bad_field_type"

FileKind = Literal["html", "text", "jsonl"]

_SUFFIXES: dict[str, FileKind] = {".html": "html", ".htm": "html", ".txt": "text", ".jsonl": "jsonl"}


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How local files are read."""

    # 20 MB: larger than any real article page (the biggest of 1,022 sampled pages is 2.2 MB) yet small
    # enough that a mislabelled dump or a gzip bomb is refused before it eats memory.
    max_bytes: int = 20_000_000
    hints: SourceHints = field(default_factory=SourceHints)
    # Follow symbolic links inside input folders to targets outside them (off: a link to /etc/shadow in a
    # folder of pages must not put its lines into the lake).
    follow_symlinks: bool = False


@dataclass(frozen=True, slots=True)
class ItemRef:
    """A pointer to one item: a whole file, or one JSONL line by byte offset and length."""

    path: str
    kind: FileKind
    gzipped: bool
    line: int = 0
    offset: int = 0
    length: int = -1

    @property
    def key(self) -> str:
        """Return the run-stable item key (``path`` or ``path#L<line>``)."""
        return f"{self.path}#L{self.line}" if self.kind == "jsonl" else self.path


def file_kind(path: Path) -> tuple[FileKind, bool] | None:
    """Return the kind of ``path`` from its suffixes and whether it is gzipped, or None if unsupported."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in _SUFFIXES:
        return None
    return _SUFFIXES[suffixes[-1]], gzipped


class ReadError(ValueError):
    """A file could not be read whole; ``reason`` is the rejection reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def walk_inputs(paths: Iterable[str], follow_symlinks: bool = False) -> Iterator[Path | Rejection]:
    """Yield the files under ``paths`` as absolute paths (directories recursively, sorted, hidden ones skipped),
    or a rejection for an entry that must not be read.

    A path given here is read wherever a link in it points (the user named it); inside a folder, a symbolic link
    whose target leaves the folder is refused (``symlink_outside``) unless ``follow_symlinks``, and anything that
    is not a regular file or a folder (a FIFO, a socket, a device) is refused (``not_regular_file``) without
    being opened. Folder links are followed only with ``follow_symlinks`` (once per real folder, so a link cycle
    ends), since a link to a folder inside the tree repeats files already read.
    """
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        if not path.is_dir():
            yield path
            continue
        yield from sorted(_walk_folder(path, follow_symlinks), key=_entry_path)


def _entry_path(entry: Path | Rejection) -> Path:
    return entry if isinstance(entry, Path) else Path(entry.item_key)


def _walk_folder(path: Path, follow_symlinks: bool) -> Iterator[Path | Rejection]:
    """Yield the entries of one input folder in walk order (the caller sorts them by path)."""
    root = path.resolve()
    seen_dirs = {root}
    for directory, dirnames, filenames in os.walk(path, followlinks=follow_symlinks):
        here = Path(directory)
        kept_dirs = []
        for name in sorted(dirnames):
            if name.startswith("."):
                continue
            child = here / name
            if child.is_symlink():
                target = child.resolve()
                if not follow_symlinks:
                    if not _is_within(target, root):
                        yield _reject(str(child), str(child), REASON_SYMLINK_OUTSIDE, _outside(child), b"")
                    continue
                if target in seen_dirs:
                    continue
                seen_dirs.add(target)
            kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            child = here / name
            if child.is_symlink() and not follow_symlinks and not _is_within(child.resolve(), root):
                yield _reject(str(child), str(child), REASON_SYMLINK_OUTSIDE, _outside(child), b"")
                continue
            yield child


def _outside(link: Path) -> str:
    return f"{link.name} is a link to a file outside the input folder (pass --follow-symlinks to read it)"


def _open_regular(path: Path) -> int:
    """Return a descriptor of ``path`` opened for reading; raise ``ValueError(reason)`` unless it is a regular
    file (checked before opening, so a FIFO never blocks, and again on the descriptor)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ReadError(REASON_NOT_REGULAR)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise ReadError(REASON_UNREADABLE) from exc
    except OSError as exc:
        raise ReadError(REASON_UNREADABLE) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ReadError(REASON_NOT_REGULAR)
    return fd


def _read_capped(fd: int, cap: int) -> bytes:
    """Read at most ``cap + 1`` bytes from ``fd`` (one past the cap tells that the file is larger)."""
    parts: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = os.read(fd, min(1 << 20, cap + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def gunzip_all(data: bytes, max_bytes: int) -> bytes:
    """Return every member of the gzip stream ``data`` decompressed, at most ``max_bytes`` of it.

    Raises ``ValueError`` with ``bad_gzip`` (not gzip, or corrupt), ``truncated_input`` (the stream stops before
    a member's end: a cut download) or ``too_large`` (more than ``max_bytes`` decompressed; checked as it
    inflates, so a small bomb never expands in memory). Zero bytes after the last member (tape padding) are
    allowed.
    """
    out: list[bytes] = []
    size = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(rest, max_bytes + 1 - size)
            while inflater.unconsumed_tail and size + len(chunk) <= max_bytes:
                chunk += inflater.decompress(inflater.unconsumed_tail, max_bytes + 1 - size - len(chunk))
        except zlib.error as exc:
            raise ReadError(REASON_BAD_GZIP) from exc
        size += len(chunk)
        out.append(chunk)
        if size > max_bytes:
            raise ReadError(REASON_TOO_LARGE)
        if not inflater.eof:
            raise ReadError(REASON_TRUNCATED)
        rest = inflater.unused_data
        if not rest.strip(b"\0"):
            return b"".join(out)


def _read_bytes(path: Path, gzipped: bool, max_bytes: int) -> bytes:
    """Return the (decompressed) content of ``path``; raise ``ValueError(reason)`` when it cannot be had whole.

    Reasons: ``unreadable_file``, ``not_regular_file``, ``too_large`` (on the bytes read, and on the bytes
    inflated), ``bad_gzip``, ``truncated_input``.
    """
    fd = _open_regular(path)
    try:
        raw = _read_capped(fd, max_bytes)
    except OSError as exc:
        raise ReadError(REASON_UNREADABLE) from exc
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise ReadError(REASON_TOO_LARGE)
    return gunzip_all(raw, max_bytes) if gzipped else raw


def discover_local(paths: Sequence[str], options: LoadOptions) -> tuple[list[ItemRef], list[Rejection], list[str]]:
    """List the items under ``paths``.

    Returns ``(refs, rejections, skipped)``: one reference per file or JSONL line; rejections for paths that
    do not exist or must not or cannot be read (``unreadable_file``, ``not_regular_file``, ``symlink_outside``,
    ``bad_gzip``, ``truncated_input``, ``too_large``); and the files skipped because their type is not a news
    format (named so the run can report them, not silently dropped).
    """
    refs: list[ItemRef] = []
    rejections: list[Rejection] = []
    skipped: list[str] = []
    for entry in walk_inputs(paths, options.follow_symlinks):
        if isinstance(entry, Rejection):
            rejections.append(entry)
            continue
        path, uri = entry, str(entry)
        try:
            mode = path.stat().st_mode
        except OSError:
            rejections.append(_reject(uri, uri, REASON_UNREADABLE, "no such file or directory", b""))
            continue
        if not stat.S_ISREG(mode):
            rejections.append(
                _reject(uri, uri, REASON_NOT_REGULAR, "not a regular file (a FIFO, socket or device)", b"")
            )
            continue
        kind = file_kind(path)
        if kind is None:
            skipped.append(uri)
            continue
        file_type, gzipped = kind
        if file_type != "jsonl":
            refs.append(ItemRef(path=uri, kind=file_type, gzipped=gzipped))
            continue
        try:
            content = _read_bytes(path, gzipped, options.max_bytes)
        except ReadError as exc:
            rejections.append(_reject(uri, uri, exc.reason, _unreadable_detail(path, exc.reason, options), b""))
            continue
        refs.extend(jsonl_refs(uri, gzipped, content))
    return refs, rejections, skipped


def jsonl_refs(uri: str, gzipped: bool, content: bytes) -> list[ItemRef]:
    """Return a reference per non-blank line of a JSONL file's ``content``."""
    refs: list[ItemRef] = []
    offset = 0
    for number, line in enumerate(content.splitlines(keepends=True), start=1):
        if line.strip():
            refs.append(ItemRef(uri, "jsonl", gzipped, line=number, offset=offset, length=len(line)))
        offset += len(line)
    return refs


def _unreadable_detail(path: Path, reason: str, options: LoadOptions) -> str:
    """Return a one-line explanation of why ``path`` was not read."""
    if reason == REASON_TOO_LARGE:
        return f"{path.name} is over {options.max_bytes} bytes (MEDIAWATCH_MAX_FILE_BYTES), compressed or not"
    if reason == REASON_TRUNCATED:
        return f"{path.name} ends inside a compressed stream: a cut copy; nothing of it was read"
    if reason == REASON_NOT_REGULAR:
        return f"{path.name} is not a regular file (a FIFO, socket or device)"
    return f"cannot read {path.name}"


def _reject(key: str, uri: str, reason: str, detail: str, payload: bytes, external_id: str | None = None) -> Rejection:
    return Rejection(
        item_key=key,
        source_uri=uri,
        stage=STAGE_LOAD,
        reason=reason,
        detail=detail,
        payload=payload,
        external_id=external_id,
    )


def _decode_text(data: bytes) -> str:
    """Return a plain-text file as text, read by :func:`tasks.decode.decode_bytes` (no ``<meta>`` scan).

    Raises :class:`~tasks.decode.DecodeError`, a ValueError, when no charset reads it (``decode_error``).
    """
    return decode_bytes(data, markup=False).text


def split_title(text: str) -> tuple[str | None, str]:
    """Return ``(title, body)`` of a plain-text article: the first non-empty line and the rest."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip():
            return line.strip(), "\n".join(lines[index + 1 :]).strip()
    return None, ""


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _field(obj: dict[str, Any], repairs: list[str], *names: str) -> str | None:
    """Return the first present of ``names`` as text: a string, or a number (an id, an epoch time); any other
    JSON type (a list as a title) is left out with the repair ``bad_field_type``."""
    for name in names:
        value = obj.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
            return _str_or_none(value)
        repairs.append(REPAIR_BAD_FIELD_TYPE)
        return None
    return None


def _authors(obj: dict[str, Any], repairs: list[str]) -> tuple[str, ...]:
    value = obj.get("authors") or obj.get("author") or ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        repairs.append(REPAIR_BAD_FIELD_TYPE)
        return ()
    names = [str(a).strip() for a in value if isinstance(a, str) and a.strip()]
    if len(names) != len([a for a in value if a not in (None, "")]):
        repairs.append(REPAIR_BAD_FIELD_TYPE)
    return tuple(names)


def _jsonl_item(ref: ItemRef, line: bytes, fetched_at: datetime, options: LoadOptions) -> RawItem | Rejection:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:  # also an integer past Python's digit limit
        return _reject(ref.key, ref.path, REASON_INVALID_JSON, f"line {ref.line}: {describe_error(exc)}", line)
    if not isinstance(obj, dict):
        return _reject(ref.key, ref.path, REASON_INVALID_ITEM, f"line {ref.line}: not a JSON object", line)
    repairs: list[str] = []
    external_id = _field(obj, repairs, "id")
    html, text = obj.get("html"), obj.get("text")
    content, kind = (html, "html") if isinstance(html, str) and html.strip() else (text, "text")
    if not isinstance(content, str) or not content.strip():
        if any(v is not None and not isinstance(v, str) for v in (html, text)):
            wrong = type(text if text is not None else html).__name__
            detail = f"line {ref.line}: 'text' and 'html' must be strings, not {wrong}"
            return _reject(ref.key, ref.path, REASON_INVALID_ITEM, detail, line, external_id)
        detail = f"line {ref.line}: no non-empty 'text' or 'html' field"
        return _reject(ref.key, ref.path, REASON_MISSING_CONTENT, detail, line, external_id)
    fixed = fix_surrogates(content)
    if fixed is not content:
        repairs.append(REPAIR_LONE_SURROGATE)
    published = _field(obj, repairs, "published_at", "date")
    item = RawItem(
        item_key=ref.key,
        source_uri=ref.path,
        payload=fixed.encode("utf-8"),
        kind="html" if kind == "html" else "text",
        fetched_at=fetched_at,
        url=_field(obj, repairs, "url"),
        external_id=external_id,
        title=_field(obj, repairs, "title"),
        published_at=published,
        published_at_source="input" if published else None,
        authors=_authors(obj, repairs),
        source=_field(obj, repairs, "source", "outlet"),
        language=_field(obj, repairs, "language"),
        hints=options.hints,
    )
    item, changed = repair_surrogates(item)
    if changed:
        repairs.append(REPAIR_LONE_SURROGATE)
    return replace(item, repairs=with_repairs(item.repairs, *repairs)) if repairs else item


def file_version(path: Path) -> str:
    """Return the version of a file for the item ledger: ``<size>:<mtime_ns>`` ("" when it cannot be read)."""
    try:
        info = path.stat()
    except OSError:
        return ""
    return f"{info.st_size}:{info.st_mtime_ns}"


@dataclass(slots=True)
class ContentCache:
    """The decompressed content of the last JSONL file read, so a file split over many batches is read once
    per run rather than once per batch; the file's version is checked, so a file rewritten during the run is
    noticed instead of being read at stale offsets."""

    path: str = ""
    version: str = ""
    content: bytes = b""

    def get(self, ref: ItemRef, max_bytes: int, version: str | None = None) -> bytes:
        """Return the content of ``ref``'s file; raise ``ValueError(reason)`` as :func:`_read_bytes` does, or
        ``file_changed`` when the file's version is no longer ``version``."""
        current = file_version(Path(ref.path))
        if version is not None and current != version:
            raise ReadError(REASON_FILE_CHANGED)
        if (ref.path, current) != (self.path, self.version):
            self.content = _read_bytes(Path(ref.path), ref.gzipped, max_bytes)
            self.path, self.version = ref.path, current
        return self.content


def load_items(
    refs: Sequence[ItemRef],
    options: LoadOptions,
    cache: ContentCache | None = None,
    versions: Mapping[str, str] | None = None,
) -> tuple[list[RawItem], list[Rejection]]:
    """Read a batch of references; return ``(items, rejections)`` with one entry per reference.

    ``cache`` keeps a JSONL file read for the next batch; ``versions`` (item key -> file version when planned)
    turns a file changed since into ``file_changed`` rejections (its items are read again next run).
    Rejection reasons: see the module docstring.
    """
    items: list[RawItem] = []
    rejections: list[Rejection] = []
    fetched_at = datetime.now(UTC)
    cache = cache if cache is not None else ContentCache()
    for ref in refs:
        path = Path(ref.path)
        try:
            if ref.kind == "jsonl":
                content = cache.get(ref, options.max_bytes, (versions or {}).get(ref.key))
                line = content[ref.offset : ref.offset + ref.length]
                result = _jsonl_item(ref, line, fetched_at, options)
                if isinstance(result, RawItem):
                    items.append(result)
                else:
                    rejections.append(result)
                continue
            data = _read_bytes(path, ref.gzipped, options.max_bytes)
        except ReadError as exc:
            reason = exc.reason
            rejections.append(_reject(ref.key, ref.path, reason, _unreadable_detail(path, reason, options), b""))
            continue
        if not data.strip():
            rejections.append(_reject(ref.key, ref.path, REASON_EMPTY, "file is empty", data))
            continue
        if ref.kind == "html":
            items.append(RawItem(ref.key, ref.path, data, "html", fetched_at, source=None, hints=options.hints))
            continue
        try:
            title, body = split_title(_decode_text(data))
        except ValueError:
            rejections.append(_reject(ref.key, ref.path, REASON_DECODE, "not decodable as text", data))
            continue
        item = RawItem(
            ref.key, ref.path, body.encode("utf-8", "replace"), "text", fetched_at, title=title, hints=options.hints
        )
        item, changed = repair_surrogates(item)
        items.append(replace(item, repairs=(REPAIR_LONE_SURROGATE,)) if changed else item)
    return items, rejections


def ref_from_key(item_key: str, options: LoadOptions) -> ItemRef | None:
    """Return a fresh reference for a local item key (``path`` or ``path#L<n>``), or None when the file is gone.

    Used to retry quarantined items from their source, which the user may have fixed since.
    """
    path_text, _, line_text = item_key.partition("#L")
    path = Path(path_text)
    kind = file_kind(path)
    if kind is None or not path.is_file():
        return None
    file_type, gzipped = kind
    if file_type != "jsonl":
        return ItemRef(path=str(path), kind=file_type, gzipped=gzipped)
    if not line_text.isdigit():
        return None
    try:
        content = _read_bytes(path, gzipped, options.max_bytes)
    except ValueError:
        return None
    offset = 0
    for number, line in enumerate(content.splitlines(keepends=True), start=1):
        if number == int(line_text):
            return ItemRef(str(path), "jsonl", gzipped, line=number, offset=offset, length=len(line))
        offset += len(line)
    return None
