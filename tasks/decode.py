"""Decoding: the one place where input bytes become text, for every input (local files, JSONL ``html`` fields,
fetched pages, WARC records, plain-text files).

:func:`decode_bytes` applies one rule, in this order:

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) decides;
2. bytes that are valid UTF-8 and hold non-ASCII characters are UTF-8, whatever a legacy label says: legacy
   text is practically never valid UTF-8 by accident, while templates that declare ISO-8859-1 or Shift_JIS for
   UTF-8 pages are common;
3. the HTTP ``Content-Type`` charset, then the page's ``<meta charset>`` / ``<meta http-equiv>`` / XML
   declaration (HTML only), each kept when it reads the bytes with few replaced characters
   (:data:`MAX_REPLACED_SHARE`): one stray byte in a page declared UTF-8 becomes one U+FFFD, the page is not
   re-guessed;
4. plain ASCII is UTF-8;
5. statistical detection (charset-normalizer); among Latin-script code pages, the reading whose accented
   letters one language's alphabet holds, windows-1252 on a tie;
6. UTF-8 with U+FFFD where few bytes fail; otherwise :class:`DecodeError` (reason ``decode_error``).

Labels are read as browsers read them (WHATWG Encoding Standard): "iso-8859-1", "latin1" and "ascii" are
windows-1252, "gb2312" and "gbk" are gb18030, every Shift_JIS spelling is windows-31j (cp932), "euc-kr" is
windows-949. Results are :class:`Decoded` values that say how the codec was chosen. No Prefect here.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

REASON_DECODE_ERROR = "decode_error"

Source = Literal["bom", "utf8", "http_header", "meta", "detected", "fallback"]
Headers = Mapping[str, str] | Iterable[tuple[str, str]]

# A declared charset (or a detected one, or the UTF-8 fallback) is kept while at most this share of the
# non-ASCII characters it decodes are U+FFFD. Measured against the non-ASCII characters, not the whole page,
# because markup dilutes any share of the whole: a French page of 100 KB of HTML with 150 accented letters in
# windows-1252, wrongly declared UTF-8, fails on 0.15 % of its characters but on every one of its accented
# letters. A page really in the declared charset fails on a stray byte among good non-ASCII characters
# ("Société Générale" plus one lone 0xE9 pasted from a legacy source: 1 in 4), a wrong declaration on nearly
# all of them: read as UTF-8, the legacy paragraphs of tests/fixtures/charsets.tsv fail on 92-100 % of their
# non-ASCII characters in single-byte code pages and on 80-86 % in GB18030, Shift_JIS, EUC-JP, EUC-KR and Big5.
MAX_REPLACED_SHARE = 0.25
# The HTML spec's prescan reads 1024 bytes; real pages put long scripts and styles before the meta tag.
META_SCAN_BYTES = 8192
# Bytes handed to detection: a page's text shows its encoding long before 200 KB, and detection's cost grows
# with its input.
DETECT_BYTES = 200_000

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark is its first two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG labels that Python does not know, or knows as another encoding.
_LABELS = {
    # x-user-defined maps bytes 0x80-0xFF to private-use characters; windows-1252 gives readable text instead.
    "x-user-defined": "cp1252",
    "iso-8859-8-i": "iso8859-8",
    "csiso88598i": "iso8859-8",
    "logical": "iso8859-8",
    "windows-874": "cp874",
    "dos-874": "cp874",
    **{f"x-cp125{digit}": f"cp125{digit}" for digit in range(9)},
    "x-mac-roman": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-ukrainian": "mac-cyrillic",
    "windows-31j": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "x-gbk": "gb18030",
    "csgb2312": "gb18030",
    "csiso58gb231280": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "cseuckr": "cp949",
    "csksc56011987": "cp949",
    "iso-ir-149": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "windows-949": "cp949",
    "x-euc-jp": "euc_jp",
    "cseucpkdfmtjapanese": "euc_jp",
    "csiso2022jp": "iso2022_jp",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "unicode-1-1-utf-8": "utf-8",
    "unicode11utf8": "utf-8",
    "unicode20utf8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "unicodefffe": "utf-16-be",
    "unicode": "utf-16-le",
    "csunicode": "utf-16-le",
    "iso-10646-ucs-2": "utf-16-le",
    "ucs-2": "utf-16-le",
    "unicodefeff": "utf-16-le",
}
# Python codecs that browsers replace by a superset: decoding with the narrower one garbles curly quotes and
# the euro sign (ISO-8859-1 against windows-1252) or rarer Chinese characters (GB2312 against GB18030).
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "utf-16": "utf-16-le",
}
# The encodings of the WHATWG standard, by Python name. Anything else a label may name is refused: Python's
# "unicode_escape", "base64" or "utf-7" are no web encodings, and the standard maps ISO-2022-KR, HZ and
# ISO-2022-CN to its "replacement" encoding (their escape sequences can hide markup), so such a label counts
# as no label at all.
_WEB_CODECS = frozenset(
    {
        "utf-8",
        "utf-16-le",
        "utf-16-be",
        "cp866",
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "cp874",
        *(f"cp125{digit}" for digit in range(9)),
        "gb18030",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "cp932",
        "cp949",
    }
)
# What detection chooses among: the legacy encodings news pages are still found in. Left out: ISO-8859-1/15
# (windows-1252 reads them), and macintosh, windows-1258, ISO-8859-3/10/14/16, whose readings of Western text
# charset-normalizer often ranked above the right one (Italian "più" read as Vietnamese windows-1258).
_DETECTABLE = (
    "utf-8",
    "cp1250",
    "cp1251",
    "cp1252",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp874",
    "cp866",
    "koi8-r",
    "koi8-u",
    *(f"iso8859-{n}" for n in (2, 4, 5, 6, 7, 8, 13)),
    "gb18030",
    "big5hkscs",
    "euc_jp",
    "iso2022_jp",
    "cp932",
    "cp949",
)
# Single-byte code pages for Latin-script languages: they share ASCII and differ in a few accented letters,
# which charset-normalizer's statistics do not tell apart on a news paragraph (it read windows-1252 "déjà" as
# Baltic "déją" and "più" as Central European "piů"). Among them the reading is chosen by alphabet below.
_LATIN_CODE_PAGES = ("cp1252", "cp1250", "iso8859-2", "cp1254", "cp1257", "iso8859-13", "iso8859-4")
# The letters beyond ASCII that each Latin-script language writes its ordinary words with (rare ones left out:
# French "æ" and "ÿ", Turkish "â"). The right reading of a text is one whose accented letters a single alphabet
# holds: Croatian "četvrtak" read as windows-1252 gives "èetvrtak" (French letter) next to "æe" (Danish), which
# no one alphabet holds. On the 59 undeclared news paragraphs of tests/fixtures/charsets.tsv (30 languages, 15
# legacy encodings), each as a page and as plain text, whole and cut to 160 characters, charset-normalizer's own
# pick was right for 159 of the 236; choosing among Latin code pages by these alphabets, for all 236.
_ALPHABETS = (
    "àâçéèêëîïôœùûü",  # French
    "äöüß",  # German
    "áéíñóúü",  # Spanish
    "áâãàçéêíóôõú",  # Portuguese
    "àèéìòù",  # Italian
    "àçèéíïòóú",  # Catalan
    "éëïöü",  # Dutch
    "åäöé",  # Swedish, Finnish
    "æøåé",  # Danish, Norwegian
    "áðéíóúýþæö",  # Icelandic
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "ăâîșțşţ",  # Romanian
    "čćđšž",  # Croatian, Bosnian, Serbian Latin, Slovene
    "çğıöşü",  # Turkish
    "ąčęėįšųūž",  # Lithuanian
    "āčēģīķļņšūž",  # Latvian
    "äöõüšž",  # Estonian
)
_LETTER_SETS = tuple(frozenset(letters + letters.upper()) for letters in _ALPHABETS)
# Marks that do sit between two letters in Latin-script text: apostrophe ("won’t"), Catalan middle dot
# ("col·legi"), soft hyphen.
_IN_WORD_MARKS = frozenset("’·\u00ad")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:\-]+)""", re.IGNORECASE)
# Both <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([\w.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([\w.:\-]+)""", re.IGNORECASE)
# Markup removed before detection, so the sample is the page's text rather than its ASCII scaffolding.
_SCRIPT_OR_STYLE = re.compile(rb"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(rb"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes: ``codec`` is the Python codec name, ``source`` says how it was chosen
    (``bom``, ``utf8``, ``http_header``, ``meta``, ``detected``, ``fallback``), ``replaced`` counts the
    U+FFFD characters in ``text``. A byte-order mark is not part of ``text``."""

    text: str
    codec: str
    source: Source
    replaced: int


class DecodeError(ValueError):
    """The bytes cannot be read as text in any plausible charset (rejection reason ``decode_error``)."""

    reason = REASON_DECODE_ERROR


def normalize_charset(label: str | None) -> str | None:
    """Return the Python codec name for a charset label as a browser reads it, or None for a label that names
    no web encoding."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_LABELS.get(key, key)).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it
        return None
    name = _SUPERSETS.get(name, name)
    return name if name in _WEB_CODECS else None


def bom_codec(payload: bytes) -> str | None:
    """Return the codec named by the byte-order mark ``payload`` starts with, or None."""
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return codec
    return None


def declared_charsets(payload: bytes, http_headers: Headers = (), *, markup: bool = True) -> list[tuple[str, Source]]:
    """Return the ``(codec, source)`` pairs the input declares, in the order they are tried: the HTTP
    Content-Type charset (``http_header``), then, when ``markup``, the XML declaration or ``<meta>`` charset in
    the first :data:`META_SCAN_BYTES` (``meta``). Labels naming no web encoding are left out."""
    found: list[tuple[str, Source]] = []
    content_type = _header(http_headers, "content-type") or ""
    match = _HEADER_CHARSET.search(content_type)
    if match and (codec := normalize_charset(match.group(1))):
        found.append((codec, "http_header"))
    if markup:
        head = payload[:META_SCAN_BYTES]
        for pattern in (_XML_ENCODING, _META_CHARSET):
            declared = pattern.search(head)
            if declared and (codec := normalize_charset(declared.group(1).decode("ascii", "replace"))):
                # A UTF-16 label in bytes that were readable as ASCII is not UTF-16 (HTML spec: use UTF-8).
                found.append(("utf-8" if codec.startswith("utf-16") else codec, "meta"))
                break
    return found


def decode_bytes(payload: bytes, http_headers: Headers = (), *, markup: bool = True) -> Decoded:
    """Return ``payload`` as text by the module's rule (BOM, valid UTF-8, HTTP header, meta, ASCII, detection,
    UTF-8 fallback). ``markup=False`` is for plain text: no ``<meta>`` scan, no markup stripped before detection.

    Raises :class:`DecodeError` (reason ``decode_error``) when no candidate reads the bytes with at most
    :data:`MAX_REPLACED_SHARE` of the non-ASCII characters replaced.
    """
    if codec := bom_codec(payload):
        text, replaced = _decode(payload, codec)
        if not _acceptable(text, replaced):
            raise DecodeError(f"{replaced} bytes do not decode under the {codec} byte-order mark")
        return Decoded(text.removeprefix("\ufeff"), codec, "bom", replaced)
    if not payload.isascii():
        try:
            return Decoded(payload.decode("utf-8"), "utf-8", "utf8", 0)
        except UnicodeDecodeError:
            pass
    tried: set[str] = set()
    for codec, source in declared_charsets(payload, http_headers, markup=markup):
        if codec not in tried:
            tried.add(codec)
            text, replaced = _decode(payload, codec)
            if _acceptable(text, replaced):
                return Decoded(text, codec, source, replaced)
    if payload.isascii():
        return Decoded(payload.decode("ascii"), "utf-8", "utf8", 0)
    detected = _detect(payload, markup)
    if detected and detected not in tried:
        text, replaced = _decode(payload, detected)
        if _acceptable(text, replaced):
            return Decoded(text, detected, "detected", replaced)
    text, replaced = _decode(payload, "utf-8")
    if _acceptable(text, replaced):
        return Decoded(text, "utf-8", "fallback", replaced)
    raise DecodeError(f"no charset reads the bytes as text ({replaced} of them are not UTF-8)")


def headers_with_charset(payload: bytes, headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Return ``headers`` with a Content-Type that names the charset :func:`decode_bytes` reads the payload with.

    ``x-charset-source`` records how it was chosen (a :data:`Source`), and the original Content-Type is kept as
    ``x-original-content-type`` when it changes. Headers of a payload that does not decode are returned as given:
    the clean stage rejects it with ``decode_error``.
    """
    try:
        decoded = decode_bytes(payload, headers)
    except DecodeError:
        return headers
    original = _header(headers, "content-type") or ""
    mime = original.split(";", 1)[0].strip().lower() or "text/html"
    rest = tuple((k, v) for k, v in headers if k.lower() != "content-type")
    content_type = f"{mime}; charset={decoded.codec}"
    extra: tuple[tuple[str, str], ...] = (("x-charset-source", decoded.source),)
    if original and original != content_type:
        extra += (("x-original-content-type", original),)
    return (("content-type", content_type), *rest, *extra)


def _header(headers: Headers, name: str) -> str | None:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key.lower() == name:
            return value
    return None


def _acceptable(text: str, replaced: int) -> bool:
    if not replaced:
        return True
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return replaced <= MAX_REPLACED_SHARE * non_ascii


def _decode(payload: bytes, codec: str) -> tuple[str, int]:
    """Return the text ``payload`` reads as under ``codec`` and its count of U+FFFD."""
    errors = _c1_error_handler() if codec == "cp1252" else "replace"
    text = payload.decode(codec, errors=errors)
    return text, text.count("\ufffd")


@lru_cache(maxsize=1)
def _c1_error_handler() -> str:
    """Register (once) the error handler that maps windows-1252's five unassigned bytes (0x81, 0x8D, 0x8F, 0x90,
    0x9D) to the C1 controls of the same number, as browsers do, so that a latin-1 page declared windows-1252
    with a stray 0x81 reads whole instead of counting a replaced character."""
    name = "mediawatch-c1"

    def handler(err: UnicodeError) -> tuple[str, int]:
        if not isinstance(err, UnicodeDecodeError):
            raise err
        return "".join(chr(b) for b in err.object[err.start : err.end]), err.end

    codecs.register_error(name, handler)
    return name


def _detect(payload: bytes, markup: bool) -> str | None:
    """Return the codec charset-normalizer finds for ``payload`` among :data:`_DETECTABLE`, or None; when that
    is a Latin-script code page, the one :func:`_latin_reading` picks."""
    from charset_normalizer import from_bytes

    sample = payload[:DETECT_BYTES]
    if markup:
        text_only = _TAG.sub(b" ", _SCRIPT_OR_STYLE.sub(b" ", sample))
        if not text_only.isascii():
            sample = text_only
    best = from_bytes(sample, cp_isolation=list(_DETECTABLE), preemptive_behaviour=False).best()
    if best is None:
        return None
    codec = normalize_charset(best.encoding)
    readings = {normalize_charset(name) for name in best.could_be_from_charset}
    if codec in _LATIN_CODE_PAGES or "cp1252" in readings:
        return _latin_reading(sample, codec)
    return codec


def _latin_reading(sample: bytes, detected: str | None) -> str:
    """Return the Latin-script code page whose reading of ``sample`` one language's alphabet covers best.

    Ties go to windows-1252 (what browsers read undeclared pages as in most locales), then to ``detected``.
    """
    chosen, chosen_score = "cp1252", -1.0
    for codec in dict.fromkeys(("cp1252", detected or "cp1252", *_LATIN_CODE_PAGES)):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:  # windows-1252 leaves five bytes unassigned
            continue
        score = _alphabet_coverage(text)
        if score > chosen_score:
            chosen, chosen_score = codec, score
    return chosen


def _alphabet_coverage(text: str) -> float:
    """Return the largest share of the non-ASCII letters of ``text`` that one alphabet of :data:`_ALPHABETS`
    holds (1.0 when there are none). A symbol between two letters counts as a letter no alphabet holds: it is
    how a letter of another code page shows (Polish "Rząd" read as windows-1252 is "Rz¹d")."""
    letters: Counter[str] = Counter()
    wedged = 0
    for match in _NON_ASCII.finditer(text):
        char, at = match.group(), match.start()
        if char.isalpha():
            letters[char] += 1
        elif char not in _IN_WORD_MARKS and text[at - 1 : at].isalpha() and text[at + 1 : at + 2].isalpha():
            wedged += 1
    total = letters.total() + wedged
    if not total:
        return 1.0
    return max(sum(n for char, n in letters.items() if char in alphabet) for alphabet in _LETTER_SETS) / total
