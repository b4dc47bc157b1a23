"""Main text by agreement (tasks/maintext.py): the vote, the continuation rule, and one hand-made page per path
through the real extractors (recall and resiliparse agree; the precision setting is the medoid; resiliparse
is; a text cut at a layout break is continued)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tasks.clean import CleanOptions, clean_item
from tasks.maintext import (
    PRECISION,
    RECALL,
    RESILIPARSE,
    MainText,
    bag,
    choose,
    continue_truncated,
    extract_main_text,
    overlap_f1,
)
from tasks.records import Article, RawItem

PAGES = Path(__file__).parent / "fixtures" / "maintext"

# The six paragraphs of the article on every hand-made page, in order.
ARTICLE = [
    "Officials in the river town said on Monday that the new flood barrier had held",
    "The barrier, built over three years at a cost the council put at twelve million euros",
    "Shopkeepers who had moved their stock upstairs before the storm returned on Sunday",
    "Engineers will inspect the sections this week for damage to the seals",
    "The regional authority has promised money for a second barrier downstream",
    "Residents of the farms along the lower river said they had heard such promises before",
]
# Text the pages hold around the article, which no path may keep.
FURNITURE = ["Home", "Contact us", "About the paper", "Advertisement", "Anna has covered", "Tags:", "seen from"]


def sentence(n: int) -> str:
    # 22 words: a prose paragraph (tasks.maintext.PROSE_MIN_WORDS is 20).
    return (
        f"Paragraph {n} tells how the council met the farmers of the lower river again and what each side "
        "promised the valley."
    )


# ------------------------------------------------------------------------------------------------ the vote


def test_the_text_the_others_agree_with_wins() -> None:
    article = "\n".join(sentence(n) for n in range(6))
    texts = {PRECISION: article, RECALL: article + "\nMore news: weather, sport, markets", RESILIPARSE: article}
    main = choose(texts)
    assert main.member == PRECISION  # ties between equally central texts go to the first member
    assert main.text == article
    assert main.agreement > 0.95


def test_an_empty_member_is_outvoted_and_a_lone_reader_wins() -> None:
    article = "\n".join(sentence(n) for n in range(6))
    assert choose({PRECISION: "", RECALL: article, RESILIPARSE: article}).member == RECALL
    alone = choose({PRECISION: "", RECALL: "", RESILIPARSE: article})
    assert (alone.member, alone.text, alone.agreement) == (RESILIPARSE, article, 0.0)


def test_overlap_is_the_bag_of_words_f1() -> None:
    assert overlap_f1(bag("a b c d"), bag("a b c d")) == 1.0
    assert overlap_f1(bag("a b"), bag("a b c d")) == pytest.approx(2 * 2 / 6)
    assert overlap_f1(bag(""), bag("a")) == 0.0


# ---------------------------------------------------------------------------------------- the continuation


def test_a_text_cut_at_a_layout_break_is_continued_from_the_member_that_read_on() -> None:
    first = [sentence(n) for n in range(4)]
    rest = [sentence(n) for n in range(4, 8)]
    cut = "\n".join(first)
    full = "\n".join(["Skip to content", *first, "Advertisement", *rest, "Share this", "Most read"])
    main = continue_truncated(MainText(cut, PRECISION, 1.0), {PRECISION: cut, RECALL: cut, RESILIPARSE: full})
    assert main.text.split("\n") == first + rest
    assert main.extractor == f"{PRECISION}+{RESILIPARSE}"


def test_a_few_trailing_paragraphs_are_not_taken_for_a_continuation() -> None:
    # An author box or two reader comments after the article: less than half the article again.
    article = [sentence(n) for n in range(6)]
    tail = [sentence(10) + " I disagree with the council entirely on this."]
    text = "\n".join(article)
    main = MainText(text, RECALL, 0.9)
    assert continue_truncated(main, {RECALL: text, RESILIPARSE: "\n".join(article + tail)}) == main


def test_the_continuation_stops_at_the_second_line_that_is_not_prose() -> None:
    first = [sentence(n) for n in range(2)]
    later = [sentence(n) for n in range(2, 5)]
    far = [sentence(n) for n in range(20, 30)]
    other = "\n".join([*first, *later, "Related", "Most read", *far])
    main = continue_truncated(MainText("\n".join(first), PRECISION, 1.0), {RESILIPARSE: other})
    assert main.text.split("\n") == first + later


def test_a_short_last_paragraph_is_no_anchor() -> None:
    cut = "\n".join([sentence(0), "Read on."])
    other = "\n".join([sentence(0), "Read on.", *(sentence(n) for n in range(1, 9))])
    main = MainText(cut, PRECISION, 1.0)
    assert continue_truncated(main, {RESILIPARSE: other}) == main


# ------------------------------------------------------------------------------- one hand-made page per path


@pytest.mark.parametrize(
    ("page", "extractor"),
    [
        ("agreed.html", RECALL),  # recall and resiliparse agree: the precision run is skipped
        ("precision_medoid.html", PRECISION),  # resiliparse keeps a bio box, tags and a caption
        ("resiliparse_medoid.html", RESILIPARSE),  # the trafilatura settings each keep a different part
        ("continued.html", f"{PRECISION}+{RESILIPARSE}"),  # an advertisement column splits the body
    ],
)
def test_each_path_gives_the_whole_article_and_nothing_around_it(page: str, extractor: str) -> None:
    html = (PAGES / page).read_text(encoding="utf-8")
    main = extract_main_text(lxml_html.fromstring(html), html, None)
    assert main.extractor == extractor
    positions = [main.text.find(opening) for opening in ARTICLE]
    assert all(p >= 0 for p in positions), main.text
    assert positions == sorted(positions)

    item = RawItem(item_key=page, source_uri=page, payload=html.encode(), kind="html", fetched_at=datetime.now(UTC))
    article = clean_item(item, CleanOptions(workers=0))
    assert isinstance(article, Article)
    assert article.extractor == extractor
    assert "trafilatura" in article.extractor_version and "resiliparse" in article.extractor_version
    assert all(opening in article.text for opening in ARTICLE)
    for furniture in FURNITURE:  # what a member kept around the article is gone from the stage's text
        assert furniture not in article.text
