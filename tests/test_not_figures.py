"""Unit tests for numbers that are no figures (no model): phone numbers and their pieces, codes and model
names, citation markers, scores and tallies, multipliers, house and list numbers."""

from __future__ import annotations

import pytest

from tasks.figures import extract_figures, find_figures, make_context
from tests.figures_helpers import one

# ----------------------------------------------------------------------------------- not figures: codes and phones


@pytest.mark.parametrize(
    "text",
    [
        "For tickets call 0345 744 4422 or +44 20 7946 0958.",
        "Contact the box office at (555) 010-4477 before the show.",
        "Reach the news desk on 555-010-4477.",
        "The relay service answers on 18001 0800 555 0199.",
    ],
)
def test_phone_numbers_and_their_pieces_are_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_a_phone_number_beside_a_price_leaves_the_price() -> None:
    figs = find_figures("Call 555-010-4477 for seats at $25.", make_context(country="US"))
    assert [(f.text, f.value, f.unit) for f in figs] == [("$25", 25.0, "USD")]


def test_a_row_of_decimals_and_a_date_are_no_phone_numbers() -> None:
    assert [f.value for f in find_figures("Net sales were 107.7, 42.0 and 122.8 million.")][:2] == [107.7, 42.0]
    assert len(find_figures("The 2019 2020 2021 seasons were cut short.")) == 3  # years, not a phone number


@pytest.mark.parametrize(
    "text",
    [
        "He rode a Yamaha YZF-R6 to work.",
        "The new iPhone 15 sold out.",
        "The RTX 3090 runs hot.",
        "Airbus delivered the A320 late.",
        "Item #559393 is back in stock.",
    ],
)
def test_numbers_inside_model_names_and_codes_are_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_a_rand_amount_is_money_outside_a_model_name() -> None:
    fig = one("Petrol rose by R6 a litre.", make_context(country="ZA"))
    assert (fig.kind, fig.value, fig.unit) == ("money", 6.0, "ZAR")


def test_citation_markers_and_bracketed_lists_are_not_figures() -> None:
    assert find_figures("The charm was taught in class.[3][4] It was later banned.[12]") == []
    assert find_figures(">>> values = [1, 2, 3]") == []
    assert [f.text for f in find_figures("Some 40 pupils came.[2]")] == ["40"]


@pytest.mark.parametrize(
    "text", ["The vote was 52-48.", "They won 14-0 in the final.", "She beat her rival 6-4, 6-0 on Court 2."]
)
def test_scores_and_vote_tallies_are_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_a_range_with_a_scale_word_after_it_is_no_score() -> None:
    figs = find_figures("Some 20-25 million people voted.")
    assert [(f.value, f.low, f.high) for f in figs] == [(2e7, 2e7, 2.5e7), (2.5e7, 2e7, 2.5e7)]


@pytest.mark.parametrize(
    "text", ["Output rose 8 to 10 times.", "It is two to three times higher.", "Sales grew 8-10 times."]
)
def test_multiplier_ranges_are_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_house_numbers_list_numbers_and_live_blog_times_are_not_figures() -> None:
    assert find_figures("Police were called to the 2100 block of Main Street.") == []
    assert find_figures("The shelter is at 12943 61st St. North.") == []
    text = (
        "The ranking:\n\n01. Robert Plant\n\n02. Rob Halford\n\n16.06 Rescuers found 40 survivors.\n\nIt was 6 o’clock."
    )
    assert [f.text for f in extract_figures(text)] == ["40"]


def test_a_name_with_a_number_at_the_start_of_a_sentence_is_no_count() -> None:
    for text in ["Formula 1 returns to Las Vegas.", "Section 230 shields platforms.", "Figure 2 shows the trend.",
                 "He left. Route 66 is famous."]:  # fmt: skip
        assert find_figures(text) == [], text
    assert [(f.text, f.modifier) for f in find_figures("Some 40 pupils came.")] == [("40", "Some")]
    assert [f.text for f in find_figures("Exactly 12 people voted. Another 20 people left.")] == ["12", "20"]


def test_a_span_of_months_written_as_numbers_before_its_year_is_no_count() -> None:
    figs = find_figures("Sales were EUR 31.1 million (EUR 30.4 million, 1-6 2015).")
    assert [(f.text, f.kind) for f in figs] == [("EUR 31.1 million", "money"), ("EUR 30.4 million", "money"),
                                                ("2015", "date")]  # fmt: skip
