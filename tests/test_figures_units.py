"""Unit tests for currencies and units (no model): where a bare dollar's currency comes from (the outlet's
country, its domain or site name, the text), temperatures and the other units news uses."""

from __future__ import annotations

import pytest

from tasks.figures import FigureContext, find_figures, make_context
from tests.figures_helpers import one

# ------------------------------------------------------------------------------------------------ currency sources


@pytest.mark.parametrize(
    ("outlet", "site_name", "country"),
    [
        ("cbc.ca", None, "CA"),
        ("bbc.co.uk", None, "GB"),
        ("smh.com.au", None, "AU"),
        ("nationalpost.com", None, "CA"),
        ("bostonherald.com", None, "US"),
        ("example.com", "Ottawa Citizen", "CA"),
        ("example.com", "The Times of India", "IN"),
        ("brand.io", None, None),
        ("example.com", "The Daily Gazette", None),
    ],
)
def test_outlet_country_from_the_domain_or_the_site_name(outlet: str, site_name: str | None, country: str) -> None:
    from tasks.figures import outlet_country

    assert outlet_country(outlet, site_name) == country


def test_currency_source_says_where_a_bare_dollar_was_resolved() -> None:
    text = "The council approved $4 million for roads."

    def read(ctx: FigureContext) -> tuple[str | None, str | None, bool]:
        fig = one(text, ctx)
        return fig.unit, fig.currency_source, fig.currency_ambiguous

    assert read(make_context(text, outlet="cbc.ca")) == ("CAD", "outlet_country", False)
    assert read(make_context(text, outlet="bbc.co.uk")) == ("USD", "outlet_country", False)
    assert read(make_context(text, country="JM")) == ("JMD", "outlet_country", False)
    assert read(make_context(text)) == ("USD", "default", True)
    written = "Ottawa pledged C$2 billion. Of that, $500 million goes to ports."
    assert [(f.unit, f.currency_source) for f in find_figures(written, make_context(written))] == [
        ("CAD", "symbol"),
        ("CAD", "text"),
    ]
    us = "The fund raised US$3 billion, and $1 billion came from banks."
    assert [(f.unit, f.currency_source) for f in find_figures(us, make_context(us))] == [
        ("USD", "symbol"),
        ("USD", "text"),
    ]
    ohio = "COLUMBUS, Ohio - The Ohio budget adds $300 million for schools in Cleveland."
    assert read_one(ohio) == ("USD", "text_places", False)
    assert one("It cost €5 million.").currency_source == "symbol"
    assert one("Prices rose 5%.").currency_source is None


def read_one(text: str) -> tuple[str | None, str | None, bool]:
    fig = one(text, make_context(text), kind="money")
    return fig.unit, fig.currency_source, fig.currency_ambiguous


def test_an_outlet_dollar_is_its_own_even_where_the_text_names_us_dollars() -> None:
    text = "The firm paid US$2 billion, and the province added $500 million."
    figs = find_figures(text, make_context(text, outlet="theglobeandmail.com"))
    assert [(f.unit, f.currency_source) for f in figs] == [("USD", "symbol"), ("CAD", "outlet_country")]


# ------------------------------------------------------------------------------------------------ units (2)


@pytest.mark.parametrize(
    ("text", "span", "value", "unit"),
    [
        ("Lows hit -7 °C overnight.", "-7 °C", -7.0, "degree_celsius"),
        ("Lows hit -7 ° C overnight.", "-7 ° C", -7.0, "degree_celsius"),
        ("Lows hit -7° Celsius overnight.", "-7° Celsius", -7.0, "degree_celsius"),
        ("It was 7℃ at dawn.", "7℃", 7.0, "degree_celsius"),
        ("Keep it above 60° degrees Fahrenheit.", "60° degrees Fahrenheit", 60.0, "degree_fahrenheit"),
        ("Gusts reached 120 km/h.", "120 km/h", 120.0, "kilometre_per_hour"),
        ("Gusts reached 120 km / h.", "120 km / h", 120.0, "kilometre_per_hour"),
        ("Carbon dioxide reached 420 ppm.", "420 ppm", 420.0, "part_per_million"),
        ("Winds of 15 m/s were measured.", "15 m/s", 15.0, "metre_per_second"),
        ("The chip runs at 3.2GHz.", "3.2GHz", 3.2, "gigahertz"),
    ],
)
def test_temperatures_and_other_news_units(text: str, span: str, value: float, unit: str) -> None:
    fig = one(text, kind="quantity")
    assert (fig.text, fig.value, fig.unit) == (span, value, unit)


def test_a_second_reading_after_a_slash_keeps_its_minus() -> None:
    figs = find_figures("Temp rating: 20°F/-7°C")
    assert [(f.value, f.unit) for f in figs] == [(20.0, "degree_fahrenheit"), (-7.0, "degree_celsius")]


def test_bare_degrees_of_temperature_take_the_scale_of_the_text_or_the_outlet() -> None:
    text = "Highs of 14 degrees are forecast. The low was 2 degrees Celsius."
    assert [f.unit for f in find_figures(text, make_context(text))] == ["degree_celsius", "degree_celsius"]
    seoul = "Temperatures reached 14 degrees in Seoul."
    assert one(seoul, make_context(seoul, country="KR")).unit == "degree_celsius"
    assert one(seoul, make_context(seoul, country="US")).unit == "degree"  # a US outlet may mean either scale
    assert one("Cut the stems at a 45-degree angle.", make_context(country="KR")).unit == "degree"


def test_inches_written_with_a_double_quote_city_blocks_credit_hours_and_grade_points() -> None:
    quoted = [(f.text, f.value, f.unit) for f in find_figures('It measures 25" x 22", framed.')]
    assert quoted == [('25"', 25.0, "inch"), ('22"', 22.0, "inch")]
    assert all(f.unit != "inch" for f in find_figures('He said "I have 22" and left.'))  # a closing quote
    blocks = one("The new hall is two blocks from the station.")
    assert (blocks.text, blocks.value, blocks.unit) == ("two blocks", 2.0, "block")
    assert [f.unit for f in find_figures("They built two blocks of flats.")] == [None]
    assert one("Complete 30 credit hours a year.").unit == "credit_hour"
    assert one("She has a 3.5 GPA.").unit == "grade_point"


def test_decimals_spoken_in_words_and_negative_temperatures() -> None:
    cold = one("It fell to negative six-point-six degrees Celsius.")
    assert (cold.text, cold.value, cold.unit) == ("negative six-point-six degrees Celsius", -6.6, "degree_celsius")
    assert one("Growth was two point five percent.").value == 2.5
    assert one("Seoul was at negative 5.3 degrees Celsius.").value == -5.3
    assert [f.text for f in find_figures("It was a point of contention for two years.")] == ["two years"]
