"""What comes back from a fetch: content types, compressed bodies and charsets.

The client (:mod:`tasks.fetch`) asks for a kind of document (:data:`Accept`), judges the answer's
Content-Type by it, decodes gzip/deflate while it streams with a cap on the decompressed size (a gzip bomb is
cut off, not inflated), and leaves the bytes as bytes. Turning them into text follows the rule of
:mod:`tasks.decode`, the one every input is decoded by; :func:`resolve_charset` and :func:`decode_html` are the
shortcuts fetch callers use. Failures are :class:`~tasks.fetch_errors.FetchError` with a reason code.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Literal

from tasks.decode import decode_bytes
from tasks.fetch_errors import REASON_BAD_CONTENT_TYPE, REASON_TOO_LARGE, REASON_TRUNCATED_BODY, FetchError

Accept = Literal["html", "xml", "any"]
ACCEPT_HEADERS: dict[Accept, str] = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "xml": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1",
    "any": "*/*",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Served for files whose type the server does not know: decided by sniffing the body.
_AMBIGUOUS_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "text/plain"})
_XML_EXTRA_TYPES = frozenset({"text/html", "application/x-gzip", "application/gzip", "application/x-rss", "text/rss"})
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title)[\s>]", re.IGNORECASE)
# Bytes at the start of a body searched for an HTML tag: a page's doctype or <html> comes well before this.
_SNIFF_BYTES = 4096

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


def header_value(headers: HeadersLike, name: str) -> str | None:
    """Return the first header ``name`` (case-insensitive) from a mapping or a sequence of pairs, or None."""
    wanted = name.lower()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key.lower() == wanted:
            return value
    return None


# ------------------------------------------------------------------------------------------------------------
# Content types


def mime_type(content_type: str) -> str:
    """Return the media type of a Content-Type header, lower-cased and without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def content_type_acceptable(accept: Accept, content_type: str) -> bool:
    """Return True when a response of ``content_type`` may be what was asked for (``accept``).

    A type the server does not know (octet-stream, text/plain, none) is accepted here and judged by its body
    (:func:`sniffed_not_html`).
    """
    mime = mime_type(content_type)
    if accept == "any" or mime in _AMBIGUOUS_TYPES:
        return True
    if accept == "html":
        return mime in _HTML_TYPES
    return mime.endswith(("/xml", "+xml")) or mime in _XML_EXTRA_TYPES


def sniffed_not_html(content_type: str, body: bytes) -> bool:
    """Return True when the server did not say what ``body`` is and its start holds no HTML tag.

    A page served as ``application/octet-stream`` is still a page when it opens with ``<!doctype html>``;
    a PDF or an image served so is not.
    """
    return mime_type(content_type) in _AMBIGUOUS_TYPES and not _HTML_SNIFF.search(body[:_SNIFF_BYTES])


# ------------------------------------------------------------------------------------------------------------
# Compressed bodies


class Decompressor:
    """Streaming gzip/deflate decoding that stops as soon as the output passes the cap."""

    def __init__(self, wbits: int, url: str) -> None:
        self._wbits = wbits
        self._url = url
        self._obj = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, parts: list[bytes], produced: int, cap: int) -> int:
        """Append ``data`` decompressed to ``parts`` and return the bytes produced so far.

        Raises ``too_large`` once more than ``cap`` bytes came out, ``truncated_body`` for corrupt data.
        """
        while data:
            try:
                out = self._obj.decompress(data, cap - produced + 1)
            except zlib.error as exc:
                if not self._started and self._wbits == zlib.MAX_WBITS:
                    # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
                    self._wbits = -zlib.MAX_WBITS
                    self._obj = zlib.decompressobj(self._wbits)
                    continue
                raise FetchError(REASON_TRUNCATED_BODY, f"corrupt compressed body: {exc}", url=self._url) from exc
            self._started = True
            produced += len(out)
            if produced > cap:
                raise FetchError(REASON_TOO_LARGE, f"decompressed body exceeds {cap} bytes", url=self._url)
            parts.append(out)
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                break
        return produced

    def finish(self, parts: list[bytes], produced: int, cap: int) -> None:
        """Append what is left to ``parts``; raises ``too_large`` past ``cap``, ``truncated_body`` if cut short."""
        tail = self._obj.flush()
        if produced + len(tail) > cap:
            raise FetchError(REASON_TOO_LARGE, f"decompressed body exceeds {cap} bytes", url=self._url)
        parts.append(tail)
        if not self._obj.eof:
            raise FetchError(REASON_TRUNCATED_BODY, "compressed body ends early", url=self._url, transient=True)


def decoder_for(content_encoding: str, url: str) -> Decompressor | None:
    """Return the decoder for a Content-Encoding (None: the body is as sent).

    Raises ``bad_content_type`` for an encoding we did not ask for (we send ``Accept-Encoding: gzip, deflate``).
    """
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return Decompressor(16 + zlib.MAX_WBITS, url)
    if encoding == "deflate":
        return Decompressor(zlib.MAX_WBITS, url)
    raise FetchError(REASON_BAD_CONTENT_TYPE, f"unsupported content-encoding {encoding!r}", url=url)


def gunzip_capped(data: bytes, cap: int, url: str = "") -> bytes:
    """Return ``data`` un-gzipped when it starts with the gzip magic (a ``.xml.gz`` sitemap), else ``data``.

    Raises :class:`FetchError` ``too_large`` past ``cap`` decompressed bytes, ``truncated_body`` when corrupt.
    """
    if not data.startswith(b"\x1f\x8b"):
        return data
    decoder = Decompressor(16 + zlib.MAX_WBITS, url)
    parts: list[bytes] = []
    produced = decoder.feed(data, parts, 0, cap)
    decoder.finish(parts, produced, cap)
    return b"".join(parts)


# ------------------------------------------------------------------------------------------------------------
# Charset handling: the rule lives in tasks.decode, shared with local files and the clean stage. These two
# shortcuts (and tasks.decode.headers_with_charset, which tasks.fetch hands on) are what fetch callers use.


def resolve_charset(payload: bytes, headers: HeadersLike = ()) -> tuple[str, str]:
    """Return ``(codec, source)``: the codec :func:`tasks.decode.decode_bytes` reads ``payload`` with and how it
    was chosen (``bom``, ``utf8``, ``http_header``, ``meta``, ``detected``, ``fallback``).

    Raises :class:`~tasks.decode.DecodeError` (reason ``decode_error``) when no charset reads the bytes.
    """
    decoded = decode_bytes(payload, headers)
    return decoded.codec, decoded.source


def decode_html(payload: bytes, headers: HeadersLike = ()) -> str:
    """Return fetched ``payload`` as text, read as :func:`tasks.decode.decode_bytes` decides (a byte-order mark
    removed). Raises :class:`~tasks.decode.DecodeError` (reason ``decode_error``) when no charset reads it."""
    return decode_bytes(payload, headers).text
