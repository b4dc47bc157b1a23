"""A real HTTP server on 127.0.0.1 that serves feeds, sitemaps, pages and faults, and logs every request.

Tests and the fetch benchmark start one (or several: each port is a separate "host" for the politeness
limiter), register responders on paths, run the real client against it, and assert on the server's own log:
what was asked for, with which headers, and when.

    with FaultServer() as server:
        server.route("/a", sequence(status(503), status(503), page(b"<html>ok</html>")))
        ...
        assert [r.path for r in server.requests("/a")] == ["/a", "/a", "/a"]
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Responder = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Logged:
    """One request as the server saw it; ``at`` is ``time.monotonic()`` when it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    at: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class FaultServer:
    """A threaded HTTP/1.0 server on 127.0.0.1 (random port) with a request log. Use as a context manager."""

    def __init__(self) -> None:
        self._routes: dict[str, Responder] = {}
        self._log: list[Logged] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, path: str, responder: Responder) -> None:
        """Serve ``responder`` for ``path`` (the query string is part of the match when present)."""
        with self._lock:
            self._routes[path] = responder

    def requests(self, path: str | None = None) -> list[Logged]:
        """Return the logged requests, all or those for ``path``, in arrival order."""
        with self._lock:
            return [r for r in self._log if path is None or r.path == path]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        entry = Logged(handler.command, handler.path, dict(handler.headers.items()), time.monotonic())
        with self._lock:
            self._log.append(entry)
            responder = self._routes.get(handler.path) or self._routes.get(handler.path.split("?", 1)[0])
        (responder or status(404))(handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # slow responders must not hold up teardown
    allow_reuse_address = True
    owner: FaultServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def do_GET(self) -> None:
        # The client may hang up first (timeout, size cap): that is what the test is about.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.server.owner._dispatch(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _send(
    handler: BaseHTTPRequestHandler,
    code: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    content_length: int | None = None,
) -> None:
    handler.send_response(code)
    merged = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    for name, value in merged.items():
        handler.send_header(name, value)
    if content_length is not None or "Content-Length" not in merged:
        handler.send_header("Content-Length", str(len(body) if content_length is None else content_length))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


# -- responders ----------------------------------------------------------------------------------------------


def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Responder:
    """Answer with ``code`` (and an optional body)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, code, body, headers)

    return respond


def page(
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    *,
    etag: str | None = None,
    last_modified: float | None = None,
    headers: dict[str, str] | None = None,
) -> Responder:
    """Serve ``body``; with ``etag``/``last_modified`` (epoch seconds) answer conditional GETs with 304."""
    validators: dict[str, str] = {}
    if etag:
        validators["ETag"] = etag
    if last_modified is not None:
        validators["Last-Modified"] = formatdate(last_modified, usegmt=True)

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if etag and handler.headers.get("If-None-Match") == etag:
            _send(handler, 304, b"", validators)
            return
        if not etag and last_modified is not None and handler.headers.get("If-Modified-Since"):
            _send(handler, 304, b"", validators)
            return
        _send(handler, 200, body, {"Content-Type": content_type, **validators, **(headers or {})})

    return respond


def sequence(*responders: Responder) -> Responder:
    """Use the responders in turn, one per request; the last one repeats."""
    lock = threading.Lock()
    calls = [0]

    def respond(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            index = min(calls[0], len(responders) - 1)
            calls[0] += 1
        responders[index](handler)

    return respond


def redirect(location: str, code: int = 302) -> Responder:
    return status(code, {"Location": location})


def slow_headers(delay: float, then: Responder | None = None) -> Responder:
    """Say nothing for ``delay`` seconds (past a read timeout), then answer with ``then`` (default 200)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        (then or page(b"<html><body>late</body></html>"))(handler)

    return respond


def drip(body: bytes, interval: float, step: int = 16) -> Responder:
    """Send headers at once, then ``step`` bytes every ``interval`` seconds (each read is quick, the whole
    body is slow: only a total deadline stops it)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        for start in range(0, len(body), step):
            handler.wfile.write(body[start : start + step])
            handler.wfile.flush()
            time.sleep(interval)

    return respond


def reset() -> Responder:
    """Close the connection with a TCP RST and no response."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        sock: socket.socket = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        handler.close_connection = True

    return respond


def truncated(body: bytes, claimed: int) -> Responder:
    """Declare ``claimed`` bytes in Content-Length, send ``body`` (shorter) and close."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 200, body, content_length=claimed)

    return respond


def oversized(size: int, *, declare_length: bool = True) -> Responder:
    """Serve ``size`` bytes of HTML; without ``declare_length`` the body simply runs until the close."""
    body = b"<html><body>" + b"x" * size + b"</body></html>"

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        if declare_length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for start in range(0, len(body), 65_536):
            handler.wfile.write(body[start : start + 65_536])

    return respond


def gzip_bomb(decompressed: int) -> Responder:
    """Serve a small gzip body (Content-Encoding: gzip) that inflates to ``decompressed`` bytes."""
    zeros = b"<html><body>" + b"\0" * decompressed
    body = gzip.compress(zeros, compresslevel=9)

    def respond(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 200, body, {"Content-Encoding": "gzip"})

    return respond


def gzipped(body: bytes, content_type: str = "text/html; charset=utf-8") -> Responder:
    """Serve ``body`` with Content-Encoding: gzip."""
    compressed = gzip.compress(body)
    return status(200, {"Content-Type": content_type, "Content-Encoding": "gzip"}, compressed)
