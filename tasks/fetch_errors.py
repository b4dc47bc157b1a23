"""What a failed fetch is: the reason codes, :class:`FetchError`, and which failures are worth retrying.

These sit below the client (:mod:`tasks.fetch`) and the modules it is built from (:mod:`tasks.fetch_guard`,
:mod:`tasks.fetch_body`), which all raise them; every name here is also importable from :mod:`tasks.fetch`.
Callers turn a :class:`FetchError` into a :class:`~tasks.records.Rejection` row whose reason is the error's code.
"""

from __future__ import annotations

from typing import Literal

# ------------------------------------------------------------------------------------------------------------
# Reason codes (``Rejection.reason`` for stage "fetch"). 4xx statuses are reported as ``http_<code>``.
REASON_HTTP_5XX = "http_5xx"
REASON_TIMEOUT = "timeout"
REASON_CONNECTION_ERROR = "connection_error"
REASON_TOO_LARGE = "too_large"
REASON_TRUNCATED_BODY = "truncated_body"
REASON_ROBOTS_DISALLOWED = "robots_disallowed"
REASON_ROBOTS_UNAVAILABLE = "robots_unavailable"
REASON_BLOCKED_ADDRESS = "blocked_address"
REASON_BAD_SCHEME = "bad_scheme"
REASON_BAD_URL = "bad_url"
REASON_BAD_CONTENT_TYPE = "bad_content_type"
REASON_REDIRECT_LOOP = "redirect_loop"
REASON_TOO_MANY_REDIRECTS = "too_many_redirects"
REASON_UNEXPECTED_STATUS = "unexpected_status"

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})


class FetchError(Exception):
    """A URL could not be fetched. ``reason`` is a ``REASON_*`` code or ``http_<status>``."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        url: str = "",
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.url = url
        self.status = status
        self.transient = transient
        self.retry_after = retry_after


class BudgetExhaustedError(FetchError):
    """A URL was not fetched because its host's or the run's time budget is spent (``FetchOptions``).

    Not a failure of the URL: callers leave it for the next run (no rejection, nothing recorded as fetched)
    and count it in ``FetchStats.deferred_budget``. ``scope`` says what is spent: ``host`` (the URL's host gets
    no more requests this run), ``run`` (nothing does), or None (too little time left for this URL's retry).
    """

    def __init__(
        self, detail: str, *, url: str = "", host: str = "", scope: Literal["host", "run"] | None = None
    ) -> None:
        super().__init__("budget_exhausted", detail, url=url)
        self.host = host
        self.scope = scope


def is_transient(exc_or_status: BaseException | int) -> bool:
    """Return True when a failure (an exception or an HTTP status) is worth retrying later.

    Transient: connection errors, timeouts, truncated bodies, 5xx, 408 and 429. Never other 4xx, robots or
    address refusals. Usable as a Prefect ``retry_condition_fn`` building block.
    """
    if isinstance(exc_or_status, bool):
        return False
    if isinstance(exc_or_status, int):
        return exc_or_status in TRANSIENT_STATUSES or 500 <= exc_or_status <= 599
    if isinstance(exc_or_status, FetchError):
        return exc_or_status.transient
    import requests  # here, not at the top: a run that fetches nothing does not import requests

    if isinstance(exc_or_status, requests.exceptions.SSLError):
        return False
    return isinstance(
        exc_or_status,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError
        | ConnectionError
        | TimeoutError,
    )


def reason_for_status(status: int) -> str:
    """Return the reason code for an HTTP error status: ``http_5xx`` for any 5xx, else ``http_<status>``."""
    return REASON_HTTP_5XX if 500 <= status <= 599 else f"http_{status}"
