"""Fetch benchmark: a local mirror of news sites with faults, fetched end to end, twice.

Starts several HTTP servers on 127.0.0.1 (each port is one "host" to the politeness limiter), each serving a
feed or a Google News sitemap that lists ~25 pages. The pages are real news HTML from the shared bench set
when it is there (read at run time, never copied), else generated. A share of the pages misbehave, in 16
ways: 404, 410, always-500, 503-then-OK, 429 with Retry-After, a response slower than the read timeout, a
connection reset, a truncated body, an oversized body, a gzip bomb, a PDF, a redirect loop, a redirect to the
cloud metadata address, a path robots.txt disallows, a redirect chain that ends well, and windows-1252 /
gzip-encoded pages that must decode. Two extra feeds are malformed and a billion-laughs bomb, and a WARC file
written here adds CC-NEWS-style records.

Run 1 goes through parse_source -> discover_targets -> fetch_targets and commits the fetch state; run 2 does
the same with a new client on the same state, so unchanged feeds answer 304 and delivered pages are skipped.

    python -m bench.fetch_mirror [--hosts 10] [--pages-per-host 25] [--host-delay 0.1]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import io
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.fetch_state import FetchState
from tasks.fetch import FetchClient, FetchOptions, decode_html
from tasks.records import RawItem, Rejection
from tasks.sources import SourceSpec, discover_targets, fetch_targets, parse_source
from tests.httpfaults import (
    FaultServer,
    Responder,
    gzip_bomb,
    gzipped,
    oversized,
    page,
    redirect,
    reset,
    sequence,
    slow_headers,
    status,
    truncated,
)

SHARED_BENCH = SHARED_DATA
FAULTS = (
    "http_404",
    "http_410",
    "always_500",
    "503_then_ok",
    "429_retry_after",
    "slow",
    "reset",
    "truncated",
    "oversized",
    "gzip_bomb",
    "pdf",
    "redirect_loop",
    "redirect_metadata",
    "robots_disallowed",
    "redirect_chain_ok",
    "cp1252_page",
    "gzip_page",
)


@dataclass
class RunResult:
    items_in: int
    fetched: int
    rejected: collections.Counter[str]
    stats: dict[str, int]
    seconds: float
    items: list[RawItem]


def load_pages(count: int, seed: int) -> list[bytes]:
    """Return ``count`` HTML pages: real ones from the shared bench set if present, else generated."""
    manifest = SHARED_BENCH / "bench" / "manifest.jsonl"
    pages: list[bytes] = []
    if manifest.exists():
        rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
        random.Random(seed).shuffle(rows)
        for row in rows[:count]:
            try:
                pages.append(gzip.decompress((SHARED_BENCH / row["path"]).read_bytes()))
            except OSError:
                continue
    while len(pages) < count:
        n = len(pages)
        pages.append(
            f"<html><head><title>Story {n}</title></head><body><article><p>Story {n} says prices rose "
            f"{n % 9}.{n % 7}% in May.</p></article></body></html>".encode()
        )
    return pages


def fault_responder(kind: str, server: FaultServer, path: str, body: bytes) -> Responder:
    ok = page(body, etag=f'"{abs(hash(path))}"')
    table: dict[str, Callable[[], Responder]] = {
        "http_404": lambda: status(404),
        "http_410": lambda: status(410),
        "always_500": lambda: status(500),
        "503_then_ok": lambda: sequence(status(503), ok),
        "429_retry_after": lambda: sequence(status(429, {"Retry-After": "1"}), ok),
        "slow": lambda: slow_headers(2.0, ok),
        "reset": reset,
        "truncated": lambda: truncated(body[:1000], claimed=len(body) + 10_000),
        "oversized": lambda: oversized(3_000_000),
        "gzip_bomb": lambda: gzip_bomb(50_000_000),
        "pdf": lambda: status(200, {"Content-Type": "application/pdf"}, b"%PDF-1.7 " * 100),
        "redirect_loop": lambda: redirect(path),
        "redirect_metadata": lambda: redirect("http://169.254.169.254/latest/meta-data/iam/"),
        "robots_disallowed": lambda: ok,
        "redirect_chain_ok": lambda: redirect(path + "-hop1", 301),
        "cp1252_page": lambda: page(
            "<html><head><meta charset='windows-1252'><title>Caf\u00e9</title></head><body><p>\u201cQuoted\u201d "
            "caf\u00e9 \u2013 5 \u20ac</p></body></html>".encode("cp1252"),
            "text/html",
        ),
        "gzip_page": lambda: gzipped(body),
    }
    if kind == "redirect_chain_ok":
        server.route(path + "-hop1", redirect(path + "-hop2", 302))
        server.route(path + "-hop2", ok)
    return table[kind]()


def build_mirror(hosts: int, per_host: int, seed: int) -> tuple[list[FaultServer], list[str], dict[str, str]]:
    """Start the servers; return them, the source URLs and the fault kind of each page URL."""
    rng = random.Random(seed)
    bodies = load_pages(hosts * per_host, seed)
    servers: list[FaultServer] = []
    sources: list[str] = []
    faults: dict[str, str] = {}
    fault_cycle = 0
    for h in range(hosts):
        server = FaultServer().start()
        servers.append(server)
        server.route("/robots.txt", page(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
        links: list[str] = []
        for p in range(per_host):
            body = bodies[h * per_host + p]
            # About one page in three misbehaves; the rest are plain good pages.
            if rng.random() < 0.36:
                kind = FAULTS[fault_cycle % len(FAULTS)]
                fault_cycle += 1
            else:
                kind = "ok"
            path = f"/private/{p}" if kind == "robots_disallowed" else f"/news/{h}/{p}"
            responder = page(body, etag=f'"{h}-{p}"') if kind == "ok" else fault_responder(kind, server, path, body)
            server.route(path, responder)
            url = server.url(path)
            faults[url] = kind
            links.append(url)
        if h % 2 == 0:
            items = "".join(
                f"<item><title>Story {i}</title><link>{u}</link><guid>{u}</guid>"
                f"<pubDate>Mon, 0{1 + i % 9} Apr 2024 10:00:00 GMT</pubDate></item>"
                for i, u in enumerate(links)
            )
            feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Host {h}</title>{items}</channel></rss>'
            server.route("/feed.xml", page(feed.encode(), "application/rss+xml", etag=f'"feed-{h}"'))
            sources.append(server.url("/feed.xml"))
        else:
            urls = "".join(
                f"<url><loc>{u}</loc><news:news><news:publication><news:name>Host {h}</news:name>"
                f"<news:language>en</news:language></news:publication><news:publication_date>2024-04-0{1 + i % 9}"
                f"T10:00:00Z</news:publication_date><news:title>Story {i}</news:title></news:news></url>"
                for i, u in enumerate(links)
            )
            sitemap = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
            )
            server.route("/news-sitemap.xml", page(sitemap.encode(), "application/xml", last_modified=1_712_000_000))
            sources.append(server.url("/news-sitemap.xml"))
    bad = servers[0]
    bad.route("/broken-feed.xml", page(b"\x00<rss><channel><item>not closed", "application/rss+xml"))
    bad.route("/bomb-feed.xml", page(BILLION_LAUGHS, "application/rss+xml"))
    sources += [bad.url("/broken-feed.xml"), bad.url("/bomb-feed.xml")]
    return servers, sources, faults


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
)


def write_warc(path: Path, pages: list[bytes]) -> None:
    """Write a CC-NEWS-style WARC: one response record per page plus a non-HTML and a non-200 record."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    records = [(f"https://warc.example.org/{i}", "200 OK", "text/html; charset=utf-8", p) for i, p in enumerate(pages)]
    records += [
        ("https://warc.example.org/logo.png", "200 OK", "image/png", b"\x89PNG"),
        ("https://warc.example.org/gone", "404 Not Found", "text/html", b"gone"),
    ]
    for url, code, content_type, body in records:
        headers = StatusAndHeaders(code, [("Content-Type", content_type)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    path.write_bytes(buffer.getvalue())


def run_once(sources: list[SourceSpec], state: FetchState, options: FetchOptions) -> RunResult:
    started = time.perf_counter()
    with FetchClient(options) as client:
        targets, rejected, warc_items = discover_targets(sources, client, state, options)
        fetched, failed = fetch_targets(targets, client, state, options)
        stats = client.stats.snapshot()
    seconds = time.perf_counter() - started
    rejections: list[Rejection] = [*rejected, *failed]
    state.commit()  # the flow does this after the lake write
    items = [*warc_items, *fetched]
    return RunResult(
        # Everything that entered: each page listed, each WARC record, each listing that failed.
        items_in=len(targets) + len(warc_items) + len(rejected),
        fetched=len(items),
        rejected=collections.Counter(r.reason for r in rejections),
        stats=stats,
        seconds=seconds,
        items=items,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--pages-per-host", type=int, default=25)
    parser.add_argument("--warc-pages", type=int, default=20)
    parser.add_argument("--host-delay", type=float, default=0.1, help="seconds between requests to one host")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    servers, urls, faults = build_mirror(args.hosts, args.pages_per_host, args.seed)
    options = FetchOptions(
        contact="bench@example.org",
        host_delay_seconds=args.host_delay,
        backoff_base_seconds=0.2,
        retries=2,
        connect_timeout=1.0,
        read_timeout=1.0,
        total_timeout=5.0,
        max_bytes=2_000_000,
        max_decompressed_bytes=8_000_000,
        allow_networks=("127.0.0.0/8",),
        max_workers=8,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="mediawatch-fetch-bench-") as tmp:
            warc = Path(tmp) / "CC-NEWS-bench.warc.gz"
            write_warc(warc, load_pages(args.warc_pages, args.seed + 1))
            sources = [spec for url in [*urls, str(warc)] for spec in parse_source(url)]
            with FetchState(Path(tmp) / "state") as state:
                first = run_once(sources, state, options)
            with FetchState(Path(tmp) / "state") as state:
                second = run_once(sources, state, options)
    finally:
        for server in servers:
            server.stop()

    page_urls = len(faults)
    kinds = collections.Counter(faults.values())
    garbled = sum(1 for item in first.items if "\ufffd" in decode_html(item.payload, item.http_headers))
    print(f"mirror: {args.hosts} hosts, {page_urls} page URLs ({page_urls - kinds['ok']} faulty, "
          f"{len(kinds) - 1} fault kinds), {args.warc_pages + 2} WARC records, 2 bad feeds; "
          f"host delay {args.host_delay}s")  # fmt: skip
    print(f"run 1: items in {first.items_in}, fetched {first.fetched}, rejected {sum(first.rejected.values())}, "
          f"retries {first.stats['retries']}, requests {first.stats['requests']}, "
          f"wall {first.seconds:.1f}s")  # fmt: skip
    for reason, count in sorted(first.rejected.items()):
        print(f"    {reason:<22} {count}")
    print(f"    decoded with U+FFFD: {garbled} of {first.fetched}")
    warc_again = sum(1 for item in second.items if item.item_key.startswith("warc:"))
    print(f"run 2 (incremental): items in {second.items_in}, pages fetched {second.fetched - warc_again} "
          f"(+{warc_again} WARC records re-read), 304s {second.stats['not_modified']}, "
          f"skipped known {second.stats['skipped_known']}, requests {second.stats['requests']} "
          f"(robots.txt {second.stats['robots_fetched']}), rejected {sum(second.rejected.values())} "
          f"(the failures are tried again), retries {second.stats['retries']}, wall {second.seconds:.1f}s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
