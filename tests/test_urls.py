"""URL canonicalisation: tracking, mobile and AMP variants of one article URL collapse; content stays apart."""

from __future__ import annotations

import pytest

from tasks.urls import canonicalize_url, site_of

BASE = "https://example.com/news/2025/03/01/council-votes-on-housing"


@pytest.mark.parametrize(
    "variant",
    [
        BASE,
        BASE + "/",
        "HTTPS://Example.COM/news/2025/03/01/council-votes-on-housing",
        "http://example.com/news/2025/03/01/council-votes-on-housing",
        "https://example.com:443/news/2025/03/01/council-votes-on-housing",
        "http://example.com:80/news/2025/03/01/council-votes-on-housing",
        "https://www.example.com/news/2025/03/01/council-votes-on-housing",
        "https://m.example.com/news/2025/03/01/council-votes-on-housing",
        "https://amp.example.com/news/2025/03/01/council-votes-on-housing",
        BASE + "#comments",
        BASE + "#disqus_thread?fbclid=abc",
        BASE + "?utm_source=twitter&utm_medium=social&utm_campaign=share",
        BASE + "?fbclid=IwAR0296193fecbe8",
        BASE + "?gclid=f7020d594ccb",
        BASE + "?CMP=share_btn_tw",
        BASE + "?cmpid=rss&utm_content=b32fd9df0d9c",
        BASE + "?mc_cid=ec749a2c00ef&mc_eid=9c538f3b",
        BASE + "?ref=rss",
        BASE + "/amp",
        BASE + "/amp/",
        BASE + "?amp",
        BASE + "?amp=1",
        BASE + "?outputType=amp",
        BASE + "/?utm_source=RSS_Feed&utm_medium=RSS",
        BASE + "?utm_source=newsletter&amp;utm_medium=email",
        "  " + BASE + "  ",
    ],
)
def test_variants_of_one_article_collapse(variant: str) -> None:
    assert canonicalize_url(variant) == "https://example.com/news/2025/03/01/council-votes-on-housing"


def test_content_selecting_parameters_are_kept_and_sorted() -> None:
    a = canonicalize_url("https://example.com/article.php?seite=all&id=42&utm_source=x")
    b = canonicalize_url("https://example.com/article.php?id=42&seite=all")
    assert a == b == "https://example.com/article.php?id=42&seite=all"
    assert canonicalize_url("https://example.com/a?id=1") != canonicalize_url("https://example.com/a?id=2")


def test_other_amp_values_and_paths_stay_distinct() -> None:
    assert canonicalize_url("https://example.com/a?outputType=json") == "https://example.com/a?outputType=json"
    assert canonicalize_url("https://example.com/story.amp.html") == "https://example.com/story.html"
    assert canonicalize_url("https://example.com/ampere/story") == "https://example.com/ampere/story"
    assert canonicalize_url("https://example.com/a/b") != canonicalize_url("https://example.com/a/c")


def test_hosts_keep_two_labels_and_other_subdomains() -> None:
    assert canonicalize_url("https://m.co/x") == "https://m.co/x"
    assert canonicalize_url("https://de.euronews.com/x") == "https://de.euronews.com/x"
    assert canonicalize_url("https://m.world.kbs.co.kr/x?Seq_Code=1&lang=e") == (
        "https://world.kbs.co.kr/x?Seq_Code=1&lang=e"
    )
    assert canonicalize_url("https://example.com.:8080/x") == "https://example.com:8080/x"


def test_hashbang_fragment_is_kept() -> None:
    assert canonicalize_url("https://example.com/#!/story/42") == "https://example.com/#!/story/42"


@pytest.mark.parametrize(
    "bad", ["", "not a url", "ftp://example.com/file", "mailto:desk@example.com", "https://", "http://[::1/x"]
)
def test_non_http_urls_give_none(bad: str) -> None:
    assert canonicalize_url(bad) is None


def test_canonicalisation_is_idempotent() -> None:
    for url in ("https://M.Example.com/a/amp?b=2&a=1&utm_term=x#top", "http://example.com/?q=a+b&p=%2F"):
        once = canonicalize_url(url)
        assert once is not None
        assert canonicalize_url(once) == once


def test_site_of() -> None:
    assert site_of("https://www.Example.com/a") == "example.com"
    assert site_of("https://m.example.com/a") == "example.com"
    assert site_of("https://news.example.co.uk/a") == "news.example.co.uk"
    assert site_of(None) is None
    assert site_of("no url") is None
