"""Unit tests for the figures rules (no model), plus object extraction with the real parser (integration).

Dates and relative dates are in ``test_figures_dates.py``.
"""

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
from tests.figures_helpers import one


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
        ("The other 200 or so delegates left.", "or so", True, "exact"),
        ("There were 40-odd boats.", "odd", True, "exact"),
        ("You deal with one regulator, maybe 2.", "maybe", True, "exact"),
        ("At about the 50-second mark he stops.", "about", True, "exact"),
        ("Costs doubled roughly every 3.4 months.", "roughly", True, "exact"),
        ("It logged her place as often as every 2 seconds.", "as often as", True, "upper"),
        ("Open to ages 10 and up.", "and up", True, "lower"),
        ("They bowled 12 or more overs.", "or more", True, "lower"),
        ("Children aged 5 or younger enter free.", "or younger", True, "upper"),
        ("Complete a minimum of 30 credit hours.", "a minimum of", True, "lower"),
    ],
)
def test_modifiers_and_bounds(text: str, modifier: str, approximate: bool, bound: str) -> None:
    fig = find_figures(text)[-1]
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


# ------------------------------------------------------------------------------------------------ written forms


@pytest.mark.parametrize(
    ("text", "span", "value", "unit"),
    [
        ("Finland has a 1,340km land border with Russia.", "1,340km", 1340.0, "kilometre"),
        ("Seagate will ship 20TB hard drives.", "20TB", 20.0, "terabyte"),
        ("Sea levels could rise 28cm by 2100.", "28cm", 28.0, "centimetre"),
        ("The bag weighs 5kg when full.", "5kg", 5.0, "kilogram"),
        ("Most phones are closer to the 6in mark.", "6in", 6.0, "inch"),
    ],
)
def test_units_glued_to_the_number(text: str, span: str, value: float, unit: str) -> None:
    fig = one(text, kind="quantity")
    assert (fig.text, fig.value, fig.unit) == (span, pytest.approx(value), unit)


def test_glued_network_generations_are_not_units() -> None:
    assert [f.kind for f in find_figures("The 5G network covers 40 towns.")] == ["count"]


def test_glued_temperature_letters_need_talk_of_temperature() -> None:
    figs = find_figures("Temperatures will be between 10C and 14C, but could plunge as low as 1C overnight")
    assert [(f.text, f.value, f.unit) for f in figs] == [
        ("10C", 10.0, "degree_celsius"),
        ("14C", 14.0, "degree_celsius"),
        ("1C", 1.0, "degree_celsius"),
    ]
    assert one("Highs of 95F are expected in Phoenix.").unit == "degree_fahrenheit"
    assert [f.kind for f in find_figures("Staff must file Form 10C by then.")] == []


def test_hyphenated_multiword_units() -> None:
    fig = one("Much of the 12,500-square-foot structure was rebuilt.", kind="quantity")
    assert (fig.text, fig.value, fig.unit) == ("12,500-square-foot", 12500.0, "square_foot")


def test_a_unit_and_a_half_is_one_and_a_half_units() -> None:
    year = one("Buybacks ran for the past year and a half.", kind="quantity")
    assert (year.text, year.value, year.unit) == ("year and a half", 1.5, "year")
    hour = one("The hearing lasted an hour and a half.")
    assert (hour.kind, hour.text, hour.value, hour.unit) == ("quantity", "an hour and a half", 1.5, "hour")


def test_hyphenated_odds_are_fractions() -> None:
    figs = find_figures("It gives a one-in-two to two-in-three chance of success.")
    assert [(f.text, f.kind, f.value) for f in figs] == [
        ("one-in-two", "fraction", 0.5),
        ("two-in-three", "fraction", pytest.approx(2 / 3)),
    ]


def test_scale_word_written_once_for_a_range_of_counts() -> None:
    figs = find_figures("Some 45-50 million people could be at risk.")
    assert [(f.text, f.kind, f.value) for f in figs] == [
        ("45", "count", pytest.approx(45e6)),
        ("50 million", "count", pytest.approx(50e6)),
    ]
    to = find_figures("Forecasts range from 5 to 10 million units.")
    assert [f.value for f in to] == [pytest.approx(5e6), pytest.approx(10e6)]


def test_percent_range_with_the_sign_written_twice() -> None:
    figs = find_figures("The watch could lift revenue by 1%-3% next year.")
    assert [(f.text, f.value) for f in figs] == [("1%", 1.0), ("3%", 3.0)]
    assert one("Output changed by -3% in May.", kind="percent").value == -3.0


def test_kind_of_dollar_written_after_the_amount() -> None:
    ca = make_context(country="CA")
    assert one("Russia owes $670-billion (U.S.) to foreigners.", ca).unit == "USD"
    us = make_context(country="US")
    figs = find_figures("EFSF sold €180-billion ($254-billion Canadian) in bonds.", us)
    assert [(f.text, f.unit) for f in figs] == [("€180-billion", "EUR"), ("$254-billion", "CAD")]
    assert one("The city spent $4 million (US) on roads.", ca).currency_ambiguous is False


@pytest.mark.parametrize(
    ("text", "span", "unit"),
    [
        ("Subscribe for only N$85 a month.", "N$85", "NAD"),
        ("Bus fares rose to J$1,200.", "J$1,200", "JMD"),
        ("The ministry got TT$5 million.", "TT$5 million", "TTD"),
        ("Nassau pays B$2.4 million.", "B$2.4 million", "BSD"),
    ],
)
def test_other_dollars_written_before_the_amount(text: str, span: str, unit: str) -> None:
    fig = one(text, kind="money")
    assert (fig.text, fig.unit, fig.currency_ambiguous) == (span, unit, False)


def test_bare_slash_pairs_are_not_counts() -> None:
    assert find_figures("The only time it was invoked was after the 9/11 attacks.") == []
    assert find_figures("The helpline runs 24/7.") == []
    share = one("Nearly 1/3 of voters stayed home.")
    assert (share.kind, share.value) == ("fraction", pytest.approx(1 / 3))


def test_grouped_thousands_after_a_name_are_amounts() -> None:
    figs = find_figures("Spain has about 157,000 cases and Italy 143,600.")
    assert [(f.text, f.kind) for f in figs] == [("157,000", "count"), ("143,600", "count")]
    assert find_figures("The FTSE 100 closed flat.") == []


def test_first_as_an_adverb_is_no_rank() -> None:
    assert find_figures("They cut taxes without consulting the OBR first.") == []
    assert find_figures("First off, the screen is small.") == []
    rank = one("She finished first.")
    assert (rank.kind, rank.value) == ("ordinal", 1.0)


def test_descending_pairs_and_records_are_scores() -> None:
    assert find_figures("Their match against Aston Villa ended 7-2 at Villa Park.") == []
    assert find_figures("The Sixers hosted the fellow 5-1 Boston Celtics.") == []
    up = find_figures("Prices rose 15-20 per cent.")
    assert [f.value for f in up] == [15.0, 20.0]
    assert one("It now stands at 4-1/2 percent.").value == pytest.approx(4.5)


def test_clock_ranges_and_street_addresses_are_not_figures() -> None:
    text = "The event runs from 6-9 p.m. on June 11 at Bench 1775 Winery (1775 Naramata Rd., Penticton)."
    assert [(f.text, f.kind) for f in find_figures(text)] == [("June 11", "date")]
    assert find_figures("The centre at 1225 N. Rampart St. opened.") == []


def test_age_after_who_turns() -> None:
    figs = find_figures("Josh Acheampong, who turns 18 in three days, came on.")
    assert [(f.text, f.value, f.unit) for f in figs] == [("18", 18.0, "year"), ("three days", 3.0, "day")]
    ages = find_figures("The victims were two women who were 22 and 24 years old at the time.")
    assert [(f.text, f.kind, f.unit) for f in ages] == [
        ("two", "count", None),
        ("22", "quantity", "year"),
        ("24 years", "quantity", "year"),
    ]


def test_a_length_of_time_compared_with_than() -> None:
    fig = one("Microsoft aims for net zero a decade earlier than Amazon.")
    assert (fig.kind, fig.text, fig.value, fig.unit) == ("quantity", "a decade", 1.0, "decade")
    assert find_figures("Sales had doubled a year earlier.") == []


def test_bare_number_compared_with_a_measure_takes_its_unit() -> None:
    figs = find_figures("Demand reached 44,947 megawatts, much lower than the 46,797 he saw on Friday.")
    assert [(f.text, f.kind, f.unit) for f in figs] == [
        ("44,947 megawatts", "quantity", "megawatt"),
        ("46,797", "quantity", "megawatt"),
    ]
    rate = find_figures("The jobless rate fell to 5.1% from 5.3 in March.")
    assert [(f.text, f.kind, f.unit) for f in rate if f.kind != "date"] == [
        ("5.1%", "percent", "percent"),
        ("5.3", "percent", "percent"),
    ]
    counted = find_figures("The trail runs 14 kilometres from 12 villages.")
    assert [(f.text, f.kind) for f in counted] == [("14 kilometres", "quantity"), ("12", "count")]


def test_minus_written_out_and_spaced_temperature_letters() -> None:
    text = "The average is about minus 80 degrees Fahrenheit, from minus 195 F near the poles to 70 F (20 C) at noon."
    figs = [f for f in find_figures(text) if f.kind == "quantity"]
    assert [(f.text, f.value, f.unit) for f in figs] == [
        ("minus 80 degrees Fahrenheit", -80.0, "degree_fahrenheit"),
        ("minus 195 F", -195.0, "degree_fahrenheit"),
        ("70 F", 70.0, "degree_fahrenheit"),
        ("20 C", 20.0, "degree_celsius"),
    ]


def test_speed_in_knots_and_areas_in_square_nautical_miles() -> None:
    figs = find_figures("It flew at 353 knots over up to 10,000 square nautical miles.")
    assert [(f.text, f.unit) for f in figs] == [
        ("353 knots", "knot"),
        ("10,000 square nautical miles", "square_nautical_mile"),
    ]


def test_a_possessive_before_a_number_is_no_name() -> None:
    figs = find_figures("About 36 percent of Afghanistan’s 30 million people are poor.")
    assert [(f.text, f.kind, f.value) for f in figs] == [
        ("36 percent", "percent", 36.0),
        ("30 million", "count", pytest.approx(3e7)),
    ]
    assert one("The City’s 2022 trading policy stands.").date_value == "2022"


def test_age_after_also() -> None:
    fig = one("Her friend Bianca Jones, also 19, died the same day.", kind="quantity")
    assert (fig.text, fig.value, fig.unit) == ("19", 19.0, "year")


def test_count_objects_without_parse_from_partitives_and_coordination() -> None:
    def objects(text: str) -> list[tuple[str, str | None]]:
        return [(f.text, f.object) for f in extract_figures(text, make_context(text, country="US"))]

    assert objects("Four of the 12 boxes of masks were gone.") == [("Four", "boxes of masks"), ("12", "boxes of masks")]
    assert objects("The surge took the presence from 100 troops to 1,100 in a year.")[:2] == [
        ("100", "troops"),
        ("1,100", "troops"),
    ]
    assert objects("Spain has 157,000 cases and Italy 143,600.") == [("157,000", "cases"), ("143,600", "cases")]
    assert objects("Eventually, all five publishers reached out-of-court settlements.") == [("five", "publishers")]
    assert objects("Agents found 202 bricks of a white powdery substance.") == [("202", "bricks")]
    assert objects("A two-year consent agreement allowing Amazon to cut prices expired.") == [
        ("two-year", "consent agreement")
    ]
    # a count joined to a noun by a hyphen counts that noun; "-strong" and "-time" say how it is meant
    assert objects("Prosecutors filed a 19-page affidavit.") == [("19", "page")]
    assert objects("The eight-module course consists of lessons.") == [("eight", "module")]
    assert objects("An 18,000-strong student body voted.") == [("18,000", "student body")]
    assert objects("A two-time champion returned.") == [("two", "champion")]


def test_lengths_of_time_take_the_noun_they_complete() -> None:
    text = "The bank adopted a time horizon of 18 to 24 months for its target."
    figs = extract_figures(text, make_context(text, country="CA"))
    assert [(f.text, f.object) for f in figs] == [("18", "time horizon"), ("24 months", "time horizon")]


@pytest.mark.integration
def test_objects_from_the_parse_for_subjects_brackets_and_named_dollars() -> None:
    from tasks.nlp import PARSE_COMPONENTS, load_nlp

    parser = load_nlp("en_core_web_sm", PARSE_COMPONENTS)
    text = (
        "JPMorgan Chase earned $4.9 billion in the fourth quarter. "
        "Finland has a 1,340km (832-mile) land border with Russia. "
        "Olympus Mons is roughly 17 miles high. "
        "EFSF has sold €180-billion ($254-billion Canadian) in bonds. "
        "The collector has an estimated net worth of $186.3 billion."
    )
    figs = extract_figures(text, make_context(text, country="US"), parse=parser.pipe)
    objects = {f.text: f.object for f in figs if f.kind in ("money", "quantity")}
    assert objects == {
        "$4.9 billion": "JPMorgan Chase",
        "1,340km": "land border",
        "832-mile": "land border",
        "17 miles": "Olympus Mons",
        "€180-billion": "bonds",
        "$254-billion": "bonds",
        "$186.3 billion": "net worth",
    }


def test_more_between_number_and_unit() -> None:
    fig = one("They figured they had two more years.")
    assert (fig.kind, fig.text, fig.value, fig.unit) == ("quantity", "two more years", 2.0, "year")


def test_ordinals_in_street_names_are_no_ranks() -> None:
    assert find_figures("The crash was on Southwest 117th Avenue.") == []
    assert find_figures("Shops on Fifth Avenue closed.") == []
    assert one("It was the 117th day of the strike.").value == 117.0


# ------------------------------------------------------------------------------------------------ ranges (2)


def test_spelled_ranges_carry_the_scale_and_currency_to_both_ends() -> None:
    us = make_context(country="US")
    figs = find_figures("It would cost one to two billion dollars a year.", us)
    assert [(f.text, f.kind, f.value, f.unit, f.low, f.high) for f in figs] == [
        ("one", "money", 1e9, "USD", 1e9, 2e9),
        ("two billion dollars", "money", 2e9, "USD", 1e9, 2e9),
    ]
    assert [(f.value, f.low, f.high) for f in find_figures("Repairs cost $1-2 billion.", us)] == [
        (1e9, 1e9, 2e9),
        (2e9, 1e9, 2e9),
    ]
    assert [(f.value, f.low, f.high) for f in find_figures("Between 3 and 4 million people fled.")] == [
        (3e6, 3e6, 4e6),
        (4e6, 3e6, 4e6),
    ]
    # the bare first number is no smaller amount of the scale written after the second: it stays as written
    assert find_figures("Between 300 and 4 million people fled.")[0].value == 300.0


def test_a_hedge_in_front_of_a_range_covers_both_ends() -> None:
    figs = find_figures("Rooms cost approximately $350 to $600 a night.", make_context(country="US"))
    assert [(f.value, f.approximate, f.modifier) for f in figs] == [
        (350.0, True, "approximately"),
        (600.0, True, "approximately"),
    ]


# ------------------------------------------------------------------------------------------------ tables and lists


def test_pipe_table_cells_are_marked_in_table_with_row_and_column_labels() -> None:
    text = (
        "Results below.\n\n| Group | 2016 | 2015 |\n\n|---|---|---|\n\n| Net sales | 31.1 | 30.4 |\n\n"
        "| Equity ratio (%) | 88.5 | 59.9 |\n\n| Earnings per share (EUR) | 0.029 | 0.006 |\n\n"
        "Net sales rose 2 percent."
    )
    figs = extract_figures(text, make_context(text))
    assert [(f.text, f.kind, f.value, f.unit, f.object) for f in figs if f.in_table] == [
        ("31.1", "count", 31.1, None, "Net sales, 2016"),
        ("30.4", "count", 30.4, None, "Net sales, 2015"),
        ("88.5", "percent", 88.5, "percent", "Equity ratio (%), 2016"),
        ("59.9", "percent", 59.9, "percent", "Equity ratio (%), 2015"),
        ("0.029", "money", 0.029, "EUR", "Earnings per share (EUR), 2016"),
        ("0.006", "money", 0.006, "EUR", "Earnings per share (EUR), 2015"),
    ]
    assert [f.text for f in figs if not f.in_table] == ["2 percent"]  # the header's years are labels, no figures
    assert next(f for f in figs if f.in_table).sentence == "| Net sales | 31.1 | 30.4 |"


def test_runs_of_short_numeric_lines_are_a_list_not_prose() -> None:
    text = (
        "The bag in short:\n\n- Temp rating: 15°F\n\n- Comfort rating: 26°F\n\nIt kept me warm for 3 nights.\n\n"
        "Arsenal 38 26 6 6\nChelsea 38 24 8 6\nLiverpool 38 22 10 6"
    )
    figs = extract_figures(text)
    listed = [(f.text, f.object) for f in figs if f.in_table]
    assert listed[:2] == [("15°F", "Temp rating"), ("26°F", "Comfort rating")]
    assert listed[2:6] == [("38", "Arsenal"), ("26", "Arsenal"), ("6", "Arsenal"), ("6", "Arsenal")]
    assert len(listed) == 14
    assert [f.text for f in figs if not f.in_table] == ["3 nights"]


def test_prose_figures_never_come_from_across_a_line_break_or_a_kicker() -> None:
    text = "Budget 3.0\nThe agency gets R4bn to hire staff."
    figs = extract_figures(text, make_context(text, country="ZA"), sentences=[(0, len(text))])
    assert [(f.text, f.sentence) for f in figs if f.kind == "money"] == [
        ("R4bn", "The agency gets R4bn to hire staff.")
    ]
    kicker = "BUDGET 2.0 | The agency gets R4bn to hire staff"
    figs = extract_figures(kicker, make_context(kicker, country="ZA"), sentences=[(0, len(kicker))])
    assert [f.sentence for f in figs if f.kind == "money"] == ["The agency gets R4bn to hire staff"]


# ------------------------------------------------------------------------------------------------ objects (2)


@pytest.mark.integration
def test_objects_name_what_is_measured_and_are_empty_rather_than_generic() -> None:
    from tasks.nlp import PARSE_COMPONENTS, load_nlp

    parser = load_nlp("en_core_web_sm", PARSE_COMPONENTS)
    expected = {
        "Budget 2024 set aside $1.1 billion for the purpose.": None,
        "Investors lost more than $2 trillion in the year after the peak.": None,
        "Lee estimated that coating the glaciers would cost $13 billion.": "coating the glaciers",
        "The net worth of Portuguese families reached 855 billion euros in 2023.": "net worth of Portuguese families",
        "Oman is a newcomer to the global space industry, which was estimated to be worth $630 billion in 2023.": (
            "global space industry"
        ),
        "How $1.8 billion in aid was moved offshore.": "aid",
        "The bill includes $3.8 billion for space operations.": "space operations",
        "The bank earned $39.7 billion in net income.": "net income",
    }
    for text, obj in expected.items():
        figs = extract_figures(text, make_context(text, country="US"), parse=parser.pipe)
        money = [f for f in figs if f.kind == "money"]
        assert [f.object for f in money] == [obj], text


@pytest.mark.integration
def test_a_person_is_never_an_object() -> None:
    from tasks.figures import attach_objects, find_figures
    from tasks.nlp import PARSE_COMPONENTS, load_nlp

    parser = load_nlp("en_core_web_sm", PARSE_COMPONENTS)
    text = "Karlsson earned $5 million last year."
    figs = find_figures(text, make_context(text, country="US"))
    doc = parser(text)
    assert [f.object for f in attach_objects(figs, doc) if f.kind == "money"] == ["Karlsson"]
    people = [(0, len("Karlsson"))]
    assert [f.object for f in attach_objects(figs, doc, people=people) if f.kind == "money"] == [None]
    said = "Karlsson estimated that the bridge would cost $5 million."
    figs = extract_figures(said, make_context(said, country="US"), parse=parser.pipe)
    assert [f.object for f in figs if f.kind == "money"] == ["bridge"]


# ------------------------------------------------------------------------------------------------ the scorer and rows


def test_scorer_object_precision_and_coverage() -> None:
    from bench.figures_eval import Score

    def gold(start: int, end: int, text: str, obj: str | None) -> dict[str, object]:
        return {"start": start, "end": end, "text": text, "kind": "count", "value": float(text), "unit": None,
                "approximate": False, "object": obj}  # fmt: skip

    def pred(start: int, end: int, text: str, obj: str | None) -> Figure:
        return Figure(text=text, kind="count", start_char=start, end_char=end, value=float(text), object=obj)

    score = Score()
    text = "5 red apples, 6 pears, 7 plums and 8 figs"
    score.add("s1", text, [pred(0, 1, "5", "red apples"), pred(14, 15, "6", "bananas"), pred(23, 24, "7", None),
                           pred(34, 35, "8", None)],
              [gold(0, 1, "5", "apples"), gold(14, 15, "6", "pears"), gold(23, 24, "7", "plums"),
               gold(34, 35, "8", None)])  # fmt: skip
    precision, coverage, agreement = score.object_precision()
    assert (precision, agreement) == (0.5, 0.5)  # "red apples" right, "bananas" wrong; "8" right as both are empty
    assert coverage == pytest.approx(2 / 3)


def test_figure_rows_carry_the_currency_source_and_the_table_flag() -> None:
    from tasks.records import Article
    from tasks.rows import figures_table

    art = Article(article_id="a1", item_key="k", source_uri="u", source="s", text="It cost $5.", content_hash="h",
                  fetched_at=datetime(2025, 1, 2, tzinfo=UTC))  # fmt: skip
    fig = Figure(text="$5", kind="money", start_char=8, end_char=10, value=5.0, unit="USD", currency_ambiguous=True,
                 currency_source="default", in_table=True)  # fmt: skip
    [row] = figures_table([(art, [fig])], "run-1").to_pylist()
    assert (row["currency_source"], row["in_table"], row["currency_ambiguous"]) == ("default", True, True)


def test_counts_joined_by_a_hyphen_are_a_range() -> None:
    figs = find_figures("Some 5,000-6,000 troops and 50-60 people came.")
    assert [(f.text, f.value, f.low, f.high) for f in figs] == [
        ("5,000", 5000.0, 5000.0, 6000.0), ("6,000", 6000.0, 5000.0, 6000.0),
        ("50", 50.0, 50.0, 60.0), ("60", 60.0, 50.0, 60.0),
    ]  # fmt: skip
    for text in ["The Boeing 737-800 landed.", "COVID-19 cases rose.", "They won 5-4 in the final.", "Call 555-1234."]:
        assert find_figures(text) == [], text
