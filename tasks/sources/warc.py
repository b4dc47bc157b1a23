"""WARC archives (CC-NEWS layout): HTML ``response`` records read straight into raw items, streamed.

Records are read one at a time with warcio, so an archive of any size stays within bounded memory; a corrupt
archive yields the items before the damage and then one rejection.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from tasks.fetch import (
    KEPT_HEADERS,
    REASON_BAD_CONTENT_TYPE,
    REASON_TOO_LARGE,
    FetchOptions,
    headers_with_charset,
    reason_for_status,
)
from tasks.records import STAGE_FETCH, RawItem, Rejection
from tasks.sources.entries import sniff_kind
from tasks.sources.specs import SourceSpec
from tasks.sources.targets import REJECTION_PAYLOAD_BYTES
from tasks.urls import site_of

# Reason codes produced here (besides the fetch reasons of tasks.fetch).
REASON_WARC_ERROR = "warc_error"
REASON_TRUNCATED_INPUT = "truncated_input"
REASON_NOT_A_WARC = "not_a_warc"
REASON_EMPTY_PAYLOAD = "empty_payload"
# Bytes looked at to tell an archive from another file: a record's first line is far shorter.
_SNIFF_BYTES = 4096


def iter_warc(spec: SourceSpec, options: FetchOptions) -> Iterator[RawItem | Rejection]:
    """Yield a :class:`RawItem` for each HTML ``response`` record of a WARC file, or a :class:`Rejection`.

    Other record types (request, metadata, warcinfo, revisit) are not items and are passed over. The archive
    is read to its end: a record whose body is shorter than its Content-Length, or a gzip member that stops
    before its trailer, means the file was cut (a copy still running, a full disk), and that record becomes a
    rejection instead of a short item. Rejection reasons: ``http_<status>``/``http_5xx`` for non-200 responses,
    ``bad_content_type`` for non-HTML, ``too_large`` past ``options.max_decompressed_bytes``,
    ``truncated_input`` for a cut archive, ``not_a_warc`` for a file holding no WARC record at all,
    ``empty_payload`` for an empty file, ``warc_error`` when the file is unreadable or corrupt (the items
    before the damage are still yielded).
    """
    path = Path(spec.uri)
    label = path.name
    count = 0  # response records handed out
    seen = 0  # records of any type

    def reject(reason: str, detail: str, where: str) -> Rejection:
        return Rejection(
            item_key=f"warc:{label}#{where}",
            source_uri=spec.uri,
            stage=STAGE_FETCH,
            reason=reason,
            detail=detail[:1000],
            payload=b"",
        )

    records: Any = None
    try:
        if path.stat().st_size == 0:
            yield reject(REASON_EMPTY_PAYLOAD, "the file is empty", "error")
            return
        if not _starts_like_an_archive(path):
            yield reject(REASON_NOT_A_WARC, "the file does not start with a WARC or ARC record", "error")
            return
        with path.open("rb") as handle:
            records = _checked_archive()(handle, arc2warc=True)
            last: Any = None  # the last record, checked for a short body once the archive is read
            cut_reported = False
            for record in records:
                seen += 1
                last = record
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if spec.max_items is not None and count >= spec.max_items:
                    return
                count += 1
                result = _warc_record_to_item(record, records, label, spec, options)
                cut_reported = isinstance(result, Rejection) and result.reason == REASON_TRUNCATED_INPUT
                yield result
        if seen == 0:
            yield reject(REASON_NOT_A_WARC, "no WARC record found", "error")
        elif not cut_reported and (_short_record(last) or records.cut):
            yield reject(REASON_TRUNCATED_INPUT, f"the archive ends inside a record after {count} records", "end")
    except OSError as exc:
        yield reject(REASON_WARC_ERROR, f"after {count} records: {type(exc).__name__}: {exc}", "error")
    except Exception as exc:  # noqa: BLE001 (warcio raises many kinds on corrupt input; each becomes a rejection)
        reason = REASON_TRUNCATED_INPUT if _cut_member(records) else REASON_WARC_ERROR
        yield reject(reason, f"after {count} records: {type(exc).__name__}: {exc}", "error")


def _starts_like_an_archive(path: Path) -> bool:
    """Return True when the file (un-gzipped) starts like a WARC (``WARC/1.x``) or an ARC (``filedesc://``).

    warcio reads nearly anything as some record (a five-word line of text is a valid ARC header to it), so a
    note saved as ``x.warc`` would otherwise pass as an archive with no pages in it.
    """
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _SNIFF_BYTES)
        except zlib.error:
            return True  # a damaged gzip: the reader reports it with what it could read
    return head.lstrip().startswith((b"WARC/", b"filedesc://"))


def _short_record(record: Any) -> bool:
    """Return True when ``record``'s body ended before its Content-Length (warcio's limit reader has bytes
    left over once the record was read to its end)."""
    return record is not None and int(getattr(record.raw_stream, "limit", 0) or 0) > 0


def _cut_member(records: Any) -> bool:
    """Return True when the gzip member being read stopped before its trailer (the file was cut)."""
    member = getattr(getattr(records, "reader", None), "decompressor", None)
    return member is not None and not member.eof and not member.unused_data


@cache
def _checked_archive() -> Any:
    """Return warcio's ``ArchiveIterator`` extended to note, as it closes, whether the archive was cut.

    warcio ends quietly when the last gzip member stops early (even inside a record's headers, which then
    never comes out as a record); its decompressor, asked just before warcio closes it, still knows.
    """
    from warcio.archiveiterator import ArchiveIterator

    class CheckedArchiveIterator(ArchiveIterator):  # type: ignore[misc]
        cut = False

        def close(self) -> None:
            self.cut = self.cut or _cut_member(self)
            super().close()

    return CheckedArchiveIterator


def _read_capped(stream: Any, cap: int) -> bytes:
    """Read a (possibly short-reading) stream to its end, or to one byte past ``cap``."""
    parts: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = stream.read(min(65_536, cap + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _warc_record_to_item(
    record: Any, records: Any, label: str, spec: SourceSpec, options: FetchOptions
) -> RawItem | Rejection:
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI") or None
    record_id = headers.get_header("WARC-Record-ID") or None
    http = record.http_headers
    status = int(http.get_statuscode() or 0)
    content_type = http.get_header("Content-Type") or ""
    # Read the body before asking for the record's offset: warcio skips to the record's end to tell it.
    payload = _read_capped(record.content_stream(), options.max_decompressed_bytes) if status == 200 else b""
    key = f"warc:{label}#{records.get_record_offset()}"

    def reject(reason: str, detail: str, payload: bytes = b"") -> Rejection:
        return Rejection(key, spec.uri, STAGE_FETCH, reason, detail, payload, external_id=record_id, url=url)

    # Asked only now: finding the offset read the record to its end, so a cut body shows as bytes left over.
    if _short_record(record) or _cut_member(records):
        return reject(REASON_TRUNCATED_INPUT, f"the archive ends inside this record ({record.length} bytes declared)")

    if status != 200:
        return reject(reason_for_status(status) if status >= 400 else f"http_{status}", f"WARC response {status}")
    if len(payload) > options.max_decompressed_bytes:
        return reject(REASON_TOO_LARGE, f"record body exceeds {options.max_decompressed_bytes} bytes")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in ("text/html", "application/xhtml+xml") and sniff_kind(payload) != "page":
        return reject(REASON_BAD_CONTENT_TYPE, f"content-type {content_type!r}", payload[:REJECTION_PAYLOAD_BYTES])
    kept = tuple((name, value) for name, value in http.headers if name.lower() in KEPT_HEADERS)
    return RawItem(
        item_key=key,
        source_uri=spec.uri,
        payload=payload,
        kind="html",
        fetched_at=_warc_date(headers.get_header("WARC-Date")),
        url=url,
        external_id=record_id,
        source=spec.hints.name or site_of(url),
        language=spec.hints.language,
        http_headers=headers_with_charset(payload, kept),
        hints=spec.hints,
    )


def _warc_date(value: str | None) -> datetime:
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
