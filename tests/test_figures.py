"""Unit tests for the figures rules (no model), plus object extraction with the real parser (integration)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.figures import (
    FigureContext,
    extract_figures,
    find_figures,
    guess_object,
    make_context,
    parse_number,
)
from tasks.records import Figure


def one(text: str, context: FigureContext | None = None, kind: str | None = None) -> Figure:
    """Return the single figure of ``text`` (of ``kind`` when given)."""
    figs = [f for f in find_figures(text, context) if kind is None or f.kind == kind]
    assert len(figs) == 1, figs
    return figs[0]


def spans(text: str, context: FigureContext | None = None) -> list[str]:
    return [f.text for f in find_figures(text, context)]


# ------------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("1,250", 1250.0),
        ("3-1/2", 3.5),
        ("1/4", 0.25),
        ("forty-five", 45.0),
        ("two hundred and ten", 210.0),
        ("a dozen", 12.0),
        ("6.6 billion", 6.6e9),
        ("77million", 7.7e7),
        ("3.5bn", 3.5e9),
        ("60m", 6e7),
    ],
)
def test_parse_number(written: str, value: float) -> None:
    assert parse_number(written) == pytest.approx(value)


# ------------------------------------------------------------------------------------------------ money


@pytest.mark.parametrize(
    ("text", "span", "value", "unit"),
    [
        ("The port earned US$4.2 billion last season.", "US$4.2 billion", 4.2e9, "USD"),
        ("Shares worth £3.5bn changed hands.", "£3.5bn", 3.5e9, "GBP"),
        ("The club paid 60m euros for the striker.", "60m euros", 6e7, "EUR"),
        ("Exports reached 540bn yen in the period.", "540bn yen", 5.4e11, "JPY"),
        ("Jakarta set aside 59.2 trillion rupiah for schools.", "59.2 trillion rupiah", 5.92e13, "IDR"),
        ("The grant of S$12 million was approved.", "S$12 million", 1.2e7, "SGD"),
        ("A flat in Kowloon sold for HK$8.8 million.", "HK$8.8 million", 8.8e6, "HKD"),
        ("Refunds of 3 billion yuan were issued.", "3 billion yuan", 3e9, "CNY"),
        ("The fund holds 2 billion renminbi in bonds.", "2 billion renminbi", 2e9, "CNY"),
        ("Farmers lost 400 crore rupees.", "400 crore rupees", 4e9, "INR"),
        ("The deal is worth 1.2 trillion won.", "1.2 trillion won", 1.2e12, "KRW"),
        ("Penang approved RM2.35 million for drains.", "RM2.35 million", 2.35e6, "MYR"),
        ("Eskom needs R230bn to stay afloat.", "R230bn", 2.3e11, "ZAR"),
        ("It costs €1.5 million a year.", "€1.5 million", 1.5e6, "EUR"),
        ("A $250-million loan was signed.", "$250-million", 2.5e8, "USD"),
    ],
)
def test_money_scaled_with_iso_currency(text: str, span: str, value: float, unit: str) -> None:
    fig = one(text, kind="money")
    assert (fig.text, fig.kind, fig.unit) == (span, "money", unit)
    assert fig.value == pytest.approx(value)
    assert text[fig.start_char : fig.end_char] == span


def test_sub_units_are_hundredths_of_the_currency() -> None:
    pence = one("A loaf now costs 85p more than last winter.", kind="money")
    assert (pence.unit, pence.value) == ("GBP", pytest.approx(0.85))
    cents = one("Fuel fell by 12 cents a litre.", make_context(country="US"), kind="money")
    assert (cents.unit, cents.value) == ("USD", pytest.approx(0.12))


def test_bare_dollar_follows_the_source_country_and_is_flagged_when_unknown() -> None:
    text = "The city spent $4 million on snow removal."
    canadian = one(text, make_context(text, country="CA"))
    assert (canadian.unit, canadian.currency_ambiguous) == ("CAD", False)
    british = one(text, make_context(text, country="GB"))
    assert (british.unit, british.currency_ambiguous) == ("USD", False)
    unknown = one(text, make_context(text))
    assert (unknown.unit, unknown.currency_ambiguous) == ("USD", True)
    by_currency = one(text, make_context(text, currency="AUD"))
    assert by_currency.unit == "AUD"


def test_bare_dollar_resolved_by_the_text_when_it_names_the_dollar() -> None:
    article = "Ottawa pledged C$2 billion. Of that, $500 million goes to ports."
    ctx = make_context(article)
    figs = find_figures(article, ctx)
    assert [(f.text, f.unit, f.currency_ambiguous) for f in figs] == [
        ("C$2 billion", "CAD", False),
        ("$500 million", "CAD", False),
    ]


def test_bare_yen_sign_follows_the_country() -> None:
    text = "Output was worth ¥30 billion."
    assert one(text, make_context(text, country="CN")).unit == "CNY"
    assert one(text, make_context(text, country="JP")).unit == "JPY"
    assert one(text, make_context(text)).currency_ambiguous is True


# ------------------------------------------------------------------------------------------------ percent


def test_percent_and_points_kept_apart() -> None:
    assert one("Turnout hit 71.5 per cent.").value == pytest.approx(71.5)
    pct = one("Unemployment is 4%.")
    assert (pct.kind, pct.unit, pct.value) == ("percent", "percent", 4.0)
    points = one("The bank cut rates by 50 basis points.")
    assert (points.kind, points.unit, points.value) == ("percent", "percentage_point", pytest.approx(0.5))
    pp = one("Support slipped 2.5 percentage points.")
    assert (pp.unit, pp.value) == ("percentage_point", 2.5)
    hyphen = one("A 25-basis-point hike followed.")
    assert (hyphen.text, hyphen.unit, hyphen.value) == ("25-basis-point", "percentage_point", pytest.approx(0.25))


def test_fomc_fractions() -> None:
    fig = one("The rate now stands at 2-3/4 percent.")
    assert fig.value == pytest.approx(2.75)


# ------------------------------------------------------------------------------------------------ ranges


def test_range_gives_two_mentions_with_low_and_high() -> None:
    figs = find_figures("Prices rose 15-20 per cent.")
    assert [(f.text, f.kind, f.value, f.low, f.high) for f in figs] == [
        ("15", "percent", 15.0, 15.0, 20.0),
        ("20 per cent", "percent", 20.0, 15.0, 20.0),
    ]
    between = find_figures("Between 250 and 300 workers were laid off.")
    assert [(f.value, f.low, f.high, f.kind) for f in between] == [
        (250.0, 250.0, 300.0, "count"),
        (300.0, 250.0, 300.0, "count"),
    ]
    money = find_figures("Tickets cost £40–55 each.")
    assert [(f.text, f.unit, f.value) for f in money] == [("£40", "GBP", 40.0), ("55", "GBP", 55.0)]


# ------------------------------------------------------------------------------------------------ quantities


@pytest.mark.parametrize(
    ("text", "span", "value", "unit"),
    [
        ("The tanker carried 2 million barrels per day.", "2 million barrels per day", 2e6, "barrel_per_day"),
        ("Mills produced 12,000 tonnes of steel.", "12,000 tonnes", 12000.0, "tonne"),
        ("It was 38°C in the shade.", "38°C", 38.0, "degree_celsius"),
        ("The trail runs 14 kilometres.", "14 kilometres", 14.0, "kilometre"),
        ("The farm covers 350 hectares.", "350 hectares", 350.0, "hectare"),
        ("A three-month pilot begins soon.", "three-month", 3.0, "month"),
        ("The 52-year-old was arrested.", "52-year-old", 52.0, "year"),
    ],
)
def test_quantities_with_units(text: str, span: str, value: float, unit: str) -> None:
    fig = one(text, kind="quantity")
    assert (fig.text, fig.value, fig.unit) == (span, pytest.approx(value), unit)


def test_counts_have_no_unit_and_number_words_count() -> None:
    fig = one("Rescuers found seventeen survivors.")
    assert (fig.kind, fig.value, fig.unit) == ("count", 17.0, None)
    big = one("The app has 3.2 million users.")
    assert (big.kind, big.value) == ("count", pytest.approx(3.2e6))


# ------------------------------------------------------------------------------------------------ dates


def test_dates_at_the_precision_written() -> None:
    assert one("The vote is on March 3, 2027.").date_value == "2027-03-03"
    assert one("Talks resumed in June 2023.").date_value == "2023-06"
    assert one("The plant opened in 1998.").date_value == "1998"
    assert one("It reopens on 4 July.").date_value == "XXXX-07-04"
    assert one("The budget for 2025/26 was tabled.").date_value == "2025/2026"


def test_month_only_dates_take_the_year_of_publication() -> None:
    published = make_context(published_at=datetime(2026, 3, 2, tzinfo=UTC))
    assert one("Sales fell in January.", published).date_value == "2026-01"
    assert one("Sales fell in January.").date_value == "XXXX-01"


def test_relative_dates_resolved_only_with_a_publication_date() -> None:
    text = "Profits doubled last year, the firm said on Tuesday."
    assert find_figures(text) == []
    ctx = make_context(published_at=datetime(2026, 3, 5, tzinfo=UTC))  # a Thursday
    figs = find_figures(text, ctx)
    assert [(f.text, f.date_value, f.relative) for f in figs] == [
        ("last year", "2025", True),
        ("Tuesday", "2026-03-03", True),
    ]


# ------------------------------------------------------------------------------------------------ ordinals, fractions


def test_ordinals_and_fractions() -> None:
    assert (one("It was the third straight loss.").kind, one("It was the third straight loss.").value) == (
        "ordinal",
        3.0,
    )
    assert one("She finished 2nd overall.").value == 2.0
    third = one("Almost a third of voters stayed home.")
    assert (third.kind, third.value, third.approximate, third.modifier) == (
        "fraction",
        pytest.approx(1 / 3),
        True,
        "Almost",
    )
    assert one("Two-thirds of the budget is spent.").value == pytest.approx(2 / 3)
    assert one("Roughly 4 in 10 adults agree.").value == pytest.approx(0.4)
    assert one("Revenue fell by half.").value == 0.5


# ------------------------------------------------------------------------------------------------ qualifiers


@pytest.mark.parametrize(
    ("text", "modifier", "approximate", "bound"),
    [
        ("The storm cut power to about 9,000 homes.", "about", True, "exact"),
        ("More than 400 flights were cancelled.", "More than", True, "lower"),
        ("Fines of up to $5,000 apply.", "up to", True, "upper"),
        ("Nearly 60% of staff agreed.", "Nearly", True, "upper"),
        ("At least 12 people died.", "At least", True, "lower"),
        ("Only 3 bidders remained.", "Only", False, "exact"),
    ],
)
def test_modifiers_and_bounds(text: str, modifier: str, approximate: bool, bound: str) -> None:
    fig = find_figures(text)[0]
    assert (fig.modifier, fig.approximate, fig.bound) == (modifier, approximate, bound)
    assert modifier not in fig.text


def test_role_change_and_level() -> None:
    figs = find_figures("Sales rose 5% to $11bn.", make_context(country="US"))
    assert [(f.text, f.kind, f.role, f.value, f.unit) for f in figs] == [
        ("5%", "percent", "change", 5.0, "percent"),
        ("$11bn", "money", "level", 1.1e10, "USD"),
    ]


# ------------------------------------------------------------------------------------------------ not figures


@pytest.mark.parametrize(
    "text",
    [
        "Leaders met at the G20 and the G7.",
        "The FTSE 100 and the CAC 40 were flat.",
        "The meeting starts at 10:30 a.m.",
        "Arsenal won 3-1 at home.",
        "Prices are three times higher.",
        "The court ruled 6-3 against the plan.",
        "She flew an ATR 72 into the storm.",
        "They reached net zero.",
    ],
)
def test_not_figures(text: str) -> None:
    assert find_figures(text) == []


# ------------------------------------------------------------------------------------------------ objects


def test_guess_object_for_counts_and_ordinals_without_parse() -> None:
    text = "Police arrested 14 football supporters after the first home defeat since May."
    figs = find_figures(text)
    count = next(f for f in figs if f.kind == "count")
    rank = next(f for f in figs if f.kind == "ordinal")
    assert guess_object(text, count, figs) == "football supporters"
    assert guess_object(text, rank, figs) == "home defeat"


def test_extract_figures_sets_sentence_ids_on_a_whole_text() -> None:
    text = "Output grew 3%. Imports hit $2 billion in 2024."
    figs = extract_figures(text, make_context(text, country="US"))
    assert [(f.text, f.sentence_id) for f in figs] == [("3%", 0), ("$2 billion", 1), ("2024", 1)]
    assert figs[1].sentence == "Imports hit $2 billion in 2024."


@pytest.mark.integration
def test_objects_from_the_parse() -> None:
    from tasks.nlp import PARSE_COMPONENTS, load_nlp

    parser = load_nlp("en_core_web_sm", PARSE_COMPONENTS)
    text = (
        "Japan bought ¥800 billion worth of American beef. "
        "Women make up 38 per cent of the workforce. "
        "The jobless rate fell to 5.1% in March."
    )
    figs = extract_figures(text, make_context(text, country="JP"), parse=parser.pipe)
    objects = {f.text: f.object for f in figs if f.kind != "date"}
    assert objects == {"¥800 billion": "American beef", "38 per cent": "workforce", "5.1%": "jobless rate"}


def test_word_ranges_ages_and_half_amounts() -> None:
    minutes = find_figures("The queue moved after 10 or 15 minutes.")
    assert [(f.text, f.unit, f.low, f.high) for f in minutes] == [
        ("10", "minute", 10.0, 15.0),
        ("15 minutes", "minute", 10.0, 15.0),
    ]
    ages = find_figures("The recruits were aged between 19 and 24.")
    assert [(f.kind, f.value, f.unit) for f in ages] == [("quantity", 19.0, "year"), ("quantity", 24.0, "year")]
    half = one("The agency got half a billion dollars more.", make_context(country="US"))
    assert (half.kind, half.value, half.unit) == ("money", 5e8, "USD")
