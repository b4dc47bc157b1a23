"""The HTTP client against a real server on 127.0.0.1: retries, timeouts, caps, redirects, address guard,
robots.txt, conditional GET and charset decoding. Assertions come from the server's own request log."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from tasks.fetch import (
    FetchClient,
    FetchError,
    FetchOptions,
    HostLimiter,
    address_allowed,
    decode_html,
    headers_with_charset,
    is_transient,
    resolve_charset,
)
from tests.httpfaults import (
    FaultServer,
    Responder,
    drip,
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

HTML = b"<html><head><title>t</title></head><body><p>hello</p></body></html>"

FAST = FetchOptions(
    contact="ops@example.org",
    host_delay_seconds=0.05,
    backoff_base_seconds=0.05,
    retries=2,
    connect_timeout=1.0,
    read_timeout=1.0,
    total_timeout=3.0,
    allow_networks=("127.0.0.0/8",),
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def fetch_error(options: FetchOptions, url: str) -> FetchError:
    with FetchClient(options) as client, pytest.raises(FetchError) as caught:
        client.get(url)
    return caught.value


def gaps(server: FaultServer, path: str) -> list[float]:
    times = [r.at for r in server.requests(path)]
    return [b - a for a, b in itertools.pairwise(times)]


# -- retries -------------------------------------------------------------------------------------------------


def test_5xx_twice_then_200_is_retried_and_counted(server: FaultServer) -> None:
    server.route("/a", sequence(status(503), status(502), page(HTML)))
    with FetchClient(FAST) as client:
        response = client.get(server.url("/a"))
        assert response.status == 200
        assert response.body == HTML
        assert client.stats.retries == 2
    assert len(server.requests("/a")) == 3


def test_retry_spacing_grows_exponentially(server: FaultServer) -> None:
    options = replace(FAST, backoff_base_seconds=0.2, host_delay_seconds=0.0)
    server.route("/a", sequence(status(500), status(500), page(HTML)))
    with FetchClient(options) as client:
        client.get(server.url("/a"))
    first, second = gaps(server, "/a")
    # Equal jitter: attempt n waits between half and all of base * 2^n.
    assert first >= 0.1
    assert second >= 0.2


def test_429_retry_after_is_honoured(server: FaultServer) -> None:
    server.route("/a", sequence(status(429, {"Retry-After": "1"}), page(HTML)))
    with FetchClient(FAST) as client:
        assert client.get(server.url("/a")).status == 200
    (gap,) = gaps(server, "/a")
    assert gap >= 1.0


def test_retry_after_beyond_the_cap_is_not_waited_for(server: FaultServer) -> None:
    server.route("/a", status(503, {"Retry-After": "3600"}))
    error = fetch_error(FAST, server.url("/a"))
    assert error.reason == "http_5xx"
    assert len(server.requests("/a")) == 1


@pytest.mark.parametrize(("code", "reason"), [(404, "http_404"), (403, "http_403"), (410, "http_410")])
def test_permanent_4xx_is_never_retried(server: FaultServer, code: int, reason: str) -> None:
    server.route("/a", status(code))
    error = fetch_error(FAST, server.url("/a"))
    assert error.reason == reason
    assert not error.transient
    assert len(server.requests("/a")) == 1


def test_5xx_exhausts_retries(server: FaultServer) -> None:
    server.route("/a", status(500))
    error = fetch_error(FAST, server.url("/a"))
    assert (error.reason, error.status) == ("http_5xx", 500)
    assert len(server.requests("/a")) == FAST.retries + 1


def test_is_transient_classification() -> None:
    assert all(is_transient(code) for code in (500, 502, 503, 504, 408, 429))
    assert not any(is_transient(code) for code in (400, 401, 403, 404, 410, 451))
    assert is_transient(requests.exceptions.ConnectionError("reset"))
    assert is_transient(requests.exceptions.ReadTimeout("slow"))
    assert not is_transient(requests.exceptions.SSLError("bad cert"))
    assert not is_transient(FetchError("robots_disallowed", "no"))
    assert is_transient(FetchError("timeout", "slow", transient=True))
    assert not is_transient(ValueError("bug"))


# -- timeouts, resets, truncation, caps ----------------------------------------------------------------------


def test_slow_response_past_read_timeout(server: FaultServer) -> None:
    server.route("/slow", slow_headers(1.5))
    options = replace(FAST, read_timeout=0.3, retries=1)
    error = fetch_error(options, server.url("/slow"))
    assert error.reason == "timeout"
    assert error.transient
    assert len(server.requests("/slow")) == 2


def test_dripping_body_hits_the_total_deadline(server: FaultServer) -> None:
    server.route("/drip", drip(b"x" * 4000, interval=0.05, step=16))  # ~12 s if read to the end
    options = replace(FAST, read_timeout=1.0, total_timeout=0.5, retries=0)
    error = fetch_error(options, server.url("/drip"))
    assert error.reason == "timeout"
    assert "within" in error.detail


def test_connection_reset_is_retried_then_rejected(server: FaultServer) -> None:
    server.route("/reset", reset())
    error = fetch_error(FAST, server.url("/reset"))
    assert error.reason == "connection_error"
    assert len(server.requests("/reset")) == FAST.retries + 1


def test_truncated_body(server: FaultServer) -> None:
    server.route("/short", truncated(HTML, claimed=len(HTML) + 5000))
    error = fetch_error(replace(FAST, retries=0), server.url("/short"))
    assert error.reason == "truncated_body"


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_body_is_cut(server: FaultServer, declare_length: bool) -> None:
    server.route("/big", oversized(500_000, declare_length=declare_length))
    error = fetch_error(replace(FAST, max_bytes=100_000), server.url("/big"))
    assert error.reason == "too_large"
    assert len(server.requests("/big")) == 1


def test_gzip_bomb_is_stopped_at_the_decompressed_cap(server: FaultServer) -> None:
    server.route("/bomb", gzip_bomb(30_000_000))
    error = fetch_error(replace(FAST, max_decompressed_bytes=1_000_000), server.url("/bomb"))
    assert error.reason == "too_large"
    assert "decompressed" in error.detail


def test_gzip_page_is_decompressed(server: FaultServer) -> None:
    server.route("/gz", gzipped(HTML))
    with FetchClient(FAST) as client:
        assert client.get(server.url("/gz")).body == HTML


def test_non_html_content_type_is_rejected(server: FaultServer) -> None:
    server.route("/doc.pdf", status(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4"))
    server.route("/blob", status(200, {"Content-Type": "application/octet-stream"}, b"\x00\x01binary"))
    assert fetch_error(FAST, server.url("/doc.pdf")).reason == "bad_content_type"
    assert fetch_error(FAST, server.url("/blob")).reason == "bad_content_type"


# -- redirects and the address guard -------------------------------------------------------------------------


def test_redirects_are_followed_and_reported(server: FaultServer) -> None:
    server.route("/old", redirect("/mid", 301))
    server.route("/mid", redirect(server.url("/new"), 302))
    server.route("/new", page(HTML))
    with FetchClient(FAST) as client:
        response = client.get(server.url("/old"))
    assert response.final_url == server.url("/new")
    assert response.redirects == (server.url("/old"), server.url("/mid"))


def test_redirect_loop(server: FaultServer) -> None:
    server.route("/a", redirect("/b"))
    server.route("/b", redirect("/a"))
    error = fetch_error(FAST, server.url("/a"))
    assert error.reason == "redirect_loop"
    assert [r.path for r in server.requests() if r.path != "/robots.txt"] == ["/a", "/b"]


def test_too_many_redirects(server: FaultServer) -> None:
    for hop in range(10):
        server.route(f"/r{hop}", redirect(f"/r{hop + 1}"))
    error = fetch_error(FAST, server.url("/r0"))
    assert error.reason == "too_many_redirects"
    assert len([r for r in server.requests() if r.path != "/robots.txt"]) == FAST.max_redirects + 1


def test_redirect_to_cloud_metadata_is_blocked(server: FaultServer) -> None:
    server.route("/a", redirect("http://169.254.169.254/latest/meta-data/"))
    error = fetch_error(FAST, server.url("/a"))
    assert error.reason == "blocked_address"
    assert "169.254.169.254" in error.detail


def test_redirect_to_another_scheme_is_refused(server: FaultServer) -> None:
    server.route("/a", redirect("file:///etc/passwd"))
    assert fetch_error(FAST, server.url("/a")).reason == "bad_scheme"


def test_loopback_is_blocked_unless_opted_in(server: FaultServer) -> None:
    server.route("/a", page(HTML))
    error = fetch_error(replace(FAST, allow_networks=()), server.url("/a"))
    assert error.reason == "blocked_address"
    assert server.requests() == []  # not even robots.txt was asked for


def test_hostname_resolving_to_loopback_is_blocked(server: FaultServer) -> None:
    server.route("/a", page(HTML))
    error = fetch_error(replace(FAST, allow_networks=()), f"http://localhost:{server.port}/a")
    assert error.reason == "blocked_address"
    assert server.requests() == []


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:169.254.169.254", False),
        ("not-an-ip", False),
    ],
)
def test_address_allowed(address: str, allowed: bool) -> None:
    assert address_allowed(address) is allowed


def test_allow_networks_opts_in_only_the_given_range() -> None:
    assert address_allowed("10.0.0.5", ("10.0.0.0/24",))
    assert not address_allowed("10.0.1.5", ("10.0.0.0/24",))


# -- politeness ----------------------------------------------------------------------------------------------


def test_robots_disallowed_path_is_never_requested(server: FaultServer) -> None:
    server.route("/robots.txt", page(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    server.route("/private/secret", page(HTML))
    server.route("/public", page(HTML))
    with FetchClient(FAST) as client:
        assert client.get(server.url("/public")).status == 200
        with pytest.raises(FetchError) as caught:
            client.get(server.url("/private/secret"))
    assert caught.value.reason == "robots_disallowed"
    assert server.requests("/private/secret") == []
    assert len(server.requests("/robots.txt")) == 1


def test_robots_rules_for_our_token_win_over_the_wildcard(server: FaultServer) -> None:
    robots = b"User-agent: *\nAllow: /\n\nUser-agent: mediawatch\nDisallow: /news/\n"
    server.route("/robots.txt", page(robots, "text/plain"))
    server.route("/news/1", page(HTML))
    assert fetch_error(FAST, server.url("/news/1")).reason == "robots_disallowed"
    assert server.requests("/news/1") == []


def test_robots_crawl_delay_spaces_requests(server: FaultServer) -> None:
    server.route("/robots.txt", page(b"User-agent: *\nCrawl-delay: 0.4\n", "text/plain"))
    server.route("/a", page(HTML))
    server.route("/b", page(HTML))
    with FetchClient(FAST) as client:
        client.get(server.url("/a"))
        client.get(server.url("/b"))
    a, b = server.requests("/a")[0].at, server.requests("/b")[0].at
    assert b - a >= 0.4


def test_robots_unavailable_means_nothing_is_fetched(server: FaultServer) -> None:
    server.route("/robots.txt", status(503))
    server.route("/a", page(HTML))
    error = fetch_error(FAST, server.url("/a"))
    assert error.reason == "robots_unavailable"
    assert server.requests("/a") == []


@pytest.mark.parametrize("code", [503, 429])
def test_robots_txt_a_live_site_cannot_serve_is_robots_unavailable(server: FaultServer, code: int) -> None:
    # The site is up and answers, but not with its robots.txt (RFC 9309: treat as disallowed for now).
    server.route("/robots.txt", status(code))
    server.route("/a", page(HTML))
    error = fetch_error(replace(FAST, retries=0), server.url("/a"))
    assert (error.reason, error.transient) == ("robots_unavailable", False)
    assert error.detail.startswith(f"robots.txt unavailable: {'http_5xx' if code == 503 else 'http_429'}: HTTP {code}")
    assert [r.path for r in server.requests()] == ["/robots.txt"]


def test_a_host_that_is_down_is_a_connection_error_for_each_of_its_urls_not_a_robots_problem() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    errors = []
    with FetchClient(FAST) as client:
        for path in ("/a", "/b"):
            with pytest.raises(FetchError) as caught:
                client.get(origin + path)
            errors.append(caught.value)
        # robots.txt was tried once for the origin (with its retries); neither page was asked for.
        assert client.stats.robots_fetched == 1
        assert client.stats.requests == FAST.retries + 1
    for error, path in zip(errors, ("/a", "/b"), strict=True):
        assert (error.reason, error.url, error.transient) == ("connection_error", origin + path, True)
        assert error.detail.startswith("robots.txt: ")
        assert "connection refused" in error.detail.lower()


@pytest.mark.parametrize(
    ("robots", "reason"),
    [
        (reset(), "connection_error"),
        (slow_headers(1.5), "timeout"),
        (truncated(b"User-agent: *\nDisallow:", 500), "truncated_body"),
    ],
    ids=["reset", "timeout", "truncated"],
)
def test_robots_txt_lost_in_transport_gives_its_pages_the_transport_reason(
    server: FaultServer, robots: Responder, reason: str
) -> None:
    server.route("/robots.txt", robots)
    server.route("/a", page(HTML))
    error = fetch_error(replace(FAST, retries=0, read_timeout=0.3), server.url("/a"))
    assert error.reason == reason
    assert error.detail.startswith("robots.txt: ")
    assert error.transient
    assert [r.path for r in server.requests()] == ["/robots.txt"]


def test_missing_robots_allows_everything_and_user_agent_names_us(server: FaultServer) -> None:
    server.route("/a", page(HTML))
    with FetchClient(FAST) as client:
        client.get(server.url("/a"))
    (request,) = server.requests("/a")
    agent = request.header("User-Agent") or ""
    assert agent.startswith("mediawatch/")
    assert "ops@example.org" in agent


def test_host_limiter_keeps_one_request_in_flight_and_spaces_them() -> None:
    limiter = HostLimiter()
    in_flight = {"now": 0, "max": 0}
    lock = threading.Lock()
    starts: list[float] = []

    def work() -> None:
        import time

        with limiter.slot("example.org", 0.05):
            with lock:
                in_flight["now"] += 1
                in_flight["max"] = max(in_flight["max"], in_flight["now"])
                starts.append(time.monotonic())
            time.sleep(0.01)
            with lock:
                in_flight["now"] -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert in_flight["max"] == 1
    starts.sort()
    assert all(b - a >= 0.05 for a, b in itertools.pairwise(starts))


def test_conditional_get_sends_validators_and_reports_304(server: FaultServer) -> None:
    server.route("/a", page(HTML, etag='"v1"', last_modified=1_700_000_000))
    with FetchClient(FAST) as client:
        first = client.get(server.url("/a"))
        second = client.get(server.url("/a"), etag=first.header("etag"), last_modified=first.header("last-modified"))
        assert client.stats.not_modified == 1
    assert second.not_modified and second.body == b""
    conditional = server.requests("/a")[1]
    assert conditional.header("If-None-Match") == '"v1"'
    assert conditional.header("If-Modified-Since") == "Tue, 14 Nov 2023 22:13:20 GMT"


# -- charsets ------------------------------------------------------------------------------------------------

CP1252_TEXT = "Café “déjà vu” — 5 € naïve"
GB_TEXT = "中华人民共和国国务院总理李强说，经济增长百分之五。"


def test_windows_1252_declared_in_header_decodes(server: FaultServer) -> None:
    body = f"<html><body><p>{CP1252_TEXT}</p></body></html>".encode("cp1252")
    server.route("/w", page(body, "text/html; charset=windows-1252"))
    with FetchClient(FAST) as client:
        response = client.get(server.url("/w"))
    assert CP1252_TEXT in decode_html(response.body, response.headers)


def test_iso_8859_1_label_is_read_as_windows_1252() -> None:
    body = f"<p>{CP1252_TEXT}</p>".encode("cp1252")
    assert CP1252_TEXT in decode_html(body, {"Content-Type": "text/html; charset=ISO-8859-1"})


def test_gb2312_declared_in_meta_decodes(server: FaultServer) -> None:
    body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
        f"<body><p>{GB_TEXT}</p></body></html>"
    ).encode("gb2312")
    server.route("/gb", page(body, "text/html"))
    with FetchClient(FAST) as client:
        response = client.get(server.url("/gb"))
    assert GB_TEXT in decode_html(response.body, response.headers)
    headers = headers_with_charset(response.body, response.headers)
    assert ("content-type", "text/html; charset=gb18030") in headers


def test_gb2312_label_covers_gbk_characters() -> None:
    text = "朱镕基"  # 镕 is in GBK, not in GB2312: pages labelled gb2312 use it all the same
    body = f'<meta charset="gb2312"><p>{text}</p>'.encode("gbk")
    assert text in decode_html(body, ())


def test_header_charset_that_does_not_fit_falls_back_to_meta() -> None:
    body = f'<meta charset="windows-1252"><p>{CP1252_TEXT}</p>'.encode("cp1252")
    codec, source = resolve_charset(body, {"content-type": "text/html; charset=utf-8"})
    assert (codec, source) == ("cp1252", "meta")


@pytest.mark.parametrize("headers", [{"Content-Type": "text/html; charset=ISO-8859-1"}, {"Content-Type": "text/html"}])
def test_utf8_page_misdeclared_as_legacy_still_decodes(headers: dict[str, str]) -> None:
    body = f'<meta charset="gb2312"><p>{CP1252_TEXT} {GB_TEXT}</p>'.encode()
    assert f"{CP1252_TEXT} {GB_TEXT}" in decode_html(body, headers)


def test_undeclared_utf8_and_bom() -> None:
    assert resolve_charset("<p>naïve</p>".encode(), ()) == ("utf-8", "utf8")
    assert decode_html(b"\xef\xbb\xbf<p>x</p>", ()) == "<p>x</p>"


def test_undeclared_legacy_chinese_is_detected() -> None:
    body = ("<html><body><p>" + GB_TEXT * 6 + "</p></body></html>").encode("gb18030")
    assert GB_TEXT in decode_html(body, ())


def test_connected_peer_is_checked_even_if_the_name_check_is_fooled(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name resolved to a public address when checked, then to loopback when connecting.
    import tasks.fetch

    monkeypatch.setattr(tasks.fetch, "check_url", lambda url, allow_networks=(), resolve=True: "host")
    server.route("/a", page(HTML))
    error = fetch_error(replace(FAST, allow_networks=()), server.url("/a"))
    assert error.reason == "blocked_address"
    assert "127.0.0.1" in error.detail
    assert server.requests() == []


@pytest.mark.parametrize(("errno", "retried"), [(socket.EAI_NONAME, False), (socket.EAI_AGAIN, True)])
def test_only_temporary_name_failures_are_retried(monkeypatch: pytest.MonkeyPatch, errno: int, retried: bool) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(errno, "resolver says no")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with FetchClient(FAST) as client, pytest.raises(FetchError) as caught:
        client.get("http://news.example.org/a")
    assert caught.value.reason == "connection_error"
    assert client.stats.retries == (FAST.retries if retried else 0)
