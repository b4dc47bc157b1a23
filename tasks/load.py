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

Rejection reasons: ``unreadable_file``, ``bad_gzip``, ``too_large``, ``decode_error``, ``invalid_json``,
``invalid_item``, ``missing_content``, ``empty_payload``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tasks.records import STAGE_LOAD, RawItem, Rejection, SourceHints

REASON_UNREADABLE = "unreadable_file"
REASON_BAD_GZIP = "bad_gzip"
REASON_TOO_LARGE = "too_large"
REASON_DECODE = "decode_error"
REASON_INVALID_JSON = "invalid_json"
REASON_INVALID_ITEM = "invalid_item"
REASON_MISSING_CONTENT = "missing_content"
REASON_EMPTY = "empty_payload"

FileKind = Literal["html", "text", "jsonl"]

_SUFFIXES: dict[str, FileKind] = {".html": "html", ".htm": "html", ".txt": "text", ".jsonl": "jsonl"}


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How local files are read."""

    # 20 MB: larger than any real article page (the biggest of 1,022 sampled pages is 2.2 MB) yet small
    # enough that a mislabelled dump or a gzip bomb is refused before it eats memory.
    max_bytes: int = 20_000_000
    hints: SourceHints = field(default_factory=SourceHints)


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


def iter_files(paths: Iterable[str]) -> Iterator[Path]:
    """Yield the files under ``paths`` as absolute paths (directories recursively, sorted, hidden ones skipped)."""
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(p.startswith(".") for p in child.relative_to(path).parts):
                    yield child
        else:
            yield path


def _read_bytes(path: Path, gzipped: bool, max_bytes: int) -> bytes:
    """Return the (decompressed) content of ``path``; raise ``ValueError(reason)`` when it cannot be had."""
    try:
        if path.stat().st_size > max_bytes:
            raise ValueError(REASON_TOO_LARGE)
        with path.open("rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ValueError(REASON_UNREADABLE) from exc
    if not gzipped:
        return raw
    try:
        # Decompress incrementally with a cap: a tiny .gz can expand to gigabytes.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise ValueError(REASON_BAD_GZIP) from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise ValueError(REASON_TOO_LARGE)
    return data


def discover_local(paths: Sequence[str], options: LoadOptions) -> tuple[list[ItemRef], list[Rejection], list[str]]:
    """List the items under ``paths``.

    Returns ``(refs, rejections, skipped)``: one reference per file or JSONL line; rejections for paths that
    do not exist or cannot be read (``unreadable_file``, ``bad_gzip``, ``too_large``); and the files skipped
    because their type is not a news format (named so the run can report them, not silently dropped).
    """
    refs: list[ItemRef] = []
    rejections: list[Rejection] = []
    skipped: list[str] = []
    for path in iter_files(paths):
        uri = str(path)
        if not path.exists():
            rejections.append(_reject(uri, uri, REASON_UNREADABLE, "no such file or directory", b""))
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
            content = _read_bytes(path, gzipped, options.max_bytes * 50)
        except ValueError as exc:
            rejections.append(_reject(uri, uri, str(exc), f"cannot read {path.name}", b""))
            continue
        offset = 0
        for number, line in enumerate(content.splitlines(keepends=True), start=1):
            if line.strip():
                refs.append(ItemRef(uri, "jsonl", gzipped, line=number, offset=offset, length=len(line)))
            offset += len(line)
    return refs, rejections, skipped


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
    """Return ``data`` as text: UTF-8 (with or without BOM), else the detected encoding."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise ValueError(REASON_DECODE) from None
        return str(best)


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


def _jsonl_item(ref: ItemRef, line: bytes, fetched_at: datetime, options: LoadOptions) -> RawItem | Rejection:
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _reject(ref.key, ref.path, REASON_INVALID_JSON, f"line {ref.line}: {exc}", line)
    if not isinstance(obj, dict):
        return _reject(ref.key, ref.path, REASON_INVALID_ITEM, f"line {ref.line}: not a JSON object", line)
    external_id = _str_or_none(obj.get("id"))
    html, text = obj.get("html"), obj.get("text")
    if isinstance(html, str) and html.strip():
        payload, kind = html.encode("utf-8"), "html"
    elif isinstance(text, str) and text.strip():
        payload, kind = text.encode("utf-8"), "text"
    else:
        detail = f"line {ref.line}: no non-empty 'text' or 'html' field"
        return _reject(ref.key, ref.path, REASON_MISSING_CONTENT, detail, line, external_id)
    authors = obj.get("authors") or obj.get("author") or ()
    if isinstance(authors, str):
        authors = (authors,)
    published = _str_or_none(obj.get("published_at") or obj.get("date"))
    return RawItem(
        item_key=ref.key,
        source_uri=ref.path,
        payload=payload,
        kind="html" if kind == "html" else "text",
        fetched_at=fetched_at,
        url=_str_or_none(obj.get("url")),
        external_id=external_id,
        title=_str_or_none(obj.get("title")),
        published_at=published,
        published_at_source="input" if published else None,
        authors=tuple(str(a) for a in authors if isinstance(a, str | int) and str(a).strip()),
        source=_str_or_none(obj.get("source") or obj.get("outlet")),
        language=_str_or_none(obj.get("language")),
        hints=options.hints,
    )


def load_items(refs: Sequence[ItemRef], options: LoadOptions) -> tuple[list[RawItem], list[Rejection]]:
    """Read a batch of references; return ``(items, rejections)`` with one entry per reference.

    Rejection reasons: see the module docstring.
    """
    items: list[RawItem] = []
    rejections: list[Rejection] = []
    fetched_at = datetime.now(UTC)
    jsonl_cache: dict[str, bytes] = {}
    for ref in refs:
        path = Path(ref.path)
        try:
            if ref.kind == "jsonl":
                if ref.path not in jsonl_cache:
                    jsonl_cache[ref.path] = _read_bytes(path, ref.gzipped, options.max_bytes * 50)
                line = jsonl_cache[ref.path][ref.offset : ref.offset + ref.length]
                result = _jsonl_item(ref, line, fetched_at, options)
                if isinstance(result, RawItem):
                    items.append(result)
                else:
                    rejections.append(result)
                continue
            data = _read_bytes(path, ref.gzipped, options.max_bytes)
        except ValueError as exc:
            rejections.append(_reject(ref.key, ref.path, str(exc), f"cannot read {path.name}", b""))
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
        items.append(
            RawItem(ref.key, ref.path, body.encode("utf-8"), "text", fetched_at, title=title, hints=options.hints)
        )
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
        content = _read_bytes(path, gzipped, options.max_bytes * 50)
    except ValueError:
        return None
    offset = 0
    for number, line in enumerate(content.splitlines(keepends=True), start=1):
        if number == int(line_text):
            return ItemRef(str(path), "jsonl", gzipped, line=number, offset=offset, length=len(line))
        offset += len(line)
    return None
