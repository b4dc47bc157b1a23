"""Unit tests for forms of numbers that are figures only in some uses (no model): ages told by name or decade,
ordinals that are adverbs, idioms or parts of names, ratings, journal references, statute years, ranges of days,
the pronoun "one", and currencies written as an ISO code with a dollar sign."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tasks.figures import extract_figures, find_figures, make_context

if TYPE_CHECKING:
    from spacy.language import Language


def _parser() -> Language:
    from tasks.nlp import PARSE_COMPONENTS, load_nlp

    return load_nlp("en_core_web_sm", PARSE_COMPONENTS)  # loaded once per process


def objects(text: str, **context: object) -> list[tuple[str, str | None]]:
    """Return (text, object) of every figure in ``text``, objects read from the real model's parse."""
    ctx = make_context(text, **context)  # type: ignore[arg-type]
    return [(f.text, f.object) for f in extract_figures(text, ctx, parse=_parser().pipe)]


def spans(text: str, **context: object) -> list[tuple[str, str]]:
    """Return (text, kind) of every figure the rules find in ``text``."""
    ctx = make_context(**context) if context else None  # type: ignore[arg-type]
    return [(f.text, f.kind) for f in find_figures(text, ctx)]


def test_ages_closing_a_clause_and_ages_by_decade() -> None:
    [age] = find_figures("“We will rebuild,” said Maria Ortega, 47.")
    assert (age.text, age.kind, age.value, age.unit) == ("47", "quantity", 47.0, "year")
    [twenties, thirties] = find_figures("Most of the volunteers are in their 20s and 30s.")
    assert (twenties.text, twenties.value, twenties.unit, twenties.approximate) == ("20s", 20.0, "year", True)
    assert (thirties.text, thirties.value) == ("30s", 30.0)


def test_a_bound_written_after_the_number_makes_it_approximate() -> None:
    [count] = find_figures("He joined 200-plus protesters outside the court.")
    assert (count.text, count.value, count.approximate) == ("200", 200.0, True)


def test_ordinals_that_rank_nothing_are_no_figures() -> None:
    assert spans("The rule was first proposed in 2019.") == [("2019", "date")]
    assert spans("Sales through third-party sellers grew.") == []
    assert spans("She invoked the Fifth Amendment at the hearing.") == []
    assert spans("He finished second-hand in the queue.") == []
    assert spans("The couple are expecting a third child.") == [("third", "ordinal")]
    assert spans("Prices fell by a third last year.")[0] == ("a third", "fraction")
    assert spans("It was the first time the team had won.") == [("first", "ordinal")]


def test_ratings_references_and_statute_years_are_no_figures() -> None:
    assert spans("They stayed at a five star hotel near the port.") == []
    assert spans("Cell Biology 41(3): 212–219.") == []
    assert spans("The Clean Water Act of 1972 set the standard.") == []
    assert spans("Today (12), the council met.", published_at=datetime(2024, 3, 12, tzinfo=UTC)) == [("Today", "date")]
    assert spans("They took a two-nil lead.") == []


def test_the_pronoun_one_is_no_count() -> None:
    assert spans("From the tower one can see the coast.") == []
    assert spans("It was the same one she wore last year.") == []
    assert spans("Only one bidder remains.") == [("one", "count")]


def test_a_range_of_days_gives_both_days_and_a_month_of_a_named_year() -> None:
    published = make_context(published_at=datetime(2022, 4, 21, 14, tzinfo=UTC))
    found = find_figures("The summit will be held June 6-10 in Los Angeles.", published)
    assert [(f.text, f.date_value) for f in found] == [("June 6", "2022-06-06"), ("10", "2022-06-10")]
    [month] = find_figures("The deal closed in May of this year.", published)
    assert (month.text, month.date_value, month.relative) == ("May of this year", "2022-05", True)
    assert find_figures("The choir sings every other Sunday.", published) == []


def test_currency_codes_written_with_a_dollar_sign_and_new_units() -> None:
    [money] = find_figures("It signed a CAD$250 million loan.")
    assert (money.text, money.value, money.unit, money.currency_ambiguous) == ("CAD$250 million", 2.5e8, "CAD", False)
    [length] = find_figures("The scale bar is 65 µm long.")
    assert (length.value, length.unit) == (65.0, "micrometre")
    [count] = find_figures("Affiliates in half-a-dozen countries.")
    assert (count.kind, count.value) == ("count", 6.0)


def test_addresses_phone_numbers_copyright_lines_and_lists_of_names_are_no_figures() -> None:
    assert spans("Visit the shop at 33 Rue Majorelle or 70, rue El Houria.") == []
    assert spans("Call 212 24 43 61 08 or 225-8452 for tickets.") == []
    assert spans("Gardens, 531 N. Military Trail, West Palm Beach.") == []
    assert spans("Copyright 2015. All rights reserved.") == []
    assert spans("He said Sections 21, 24, and 26 of the bill are vague.") == []
    assert spans("Water Tunnel No. 2 opened later.") == []
    assert spans("welington • 3 weeks ago") == []
    assert spans("He never wanted to be one.") == []
    assert spans("Between 100-1000 units were sold.")[0] == ("100", "count")


def test_decades_ages_and_dates_written_with_of_or_to() -> None:
    assert [(f.text, f.date_value) for f in find_figures("Prices last fell in the 1970s and the ’60s.")] == [
        ("1970s", "197X"),
        ("’60s", "196X"),
    ]
    [age] = find_figures("She moved abroad in her twenties.")
    assert (age.text, age.value, age.unit, age.approximate) == ("twenties", 20.0, "year", True)
    [birth] = find_figures("She gave birth at the age of 19.")
    assert (birth.value, birth.unit) == (19.0, "year")
    [day] = find_figures("I deployed to Iraq March 1st of 2004.")
    assert day.date_value == "2004-03-01"
    assert [f.date_value for f in find_figures("The fair runs June 13 to 17, 2022.")] == ["2022-06-13", "2022-06-17"]
    assert [f.date_value for f in find_figures("October 21: a deer entered the road.")] == ["XXXX-10-21"]


def test_fractions_written_with_one_character_or_a_space() -> None:
    [length] = find_figures("Rain fell for 2½ days.")
    assert (length.value, length.unit) == (2.5, "day")
    [piece] = find_figures("Cut it into 1 1/2-inch pieces.")
    assert (piece.value, piece.unit) == (1.5, "inch")


def test_numbers_that_are_labels_handles_references_or_idioms() -> None:
    assert spans("The 911 dispatcher was inundated with calls.") == []
    assert spans("Errors range up to 4% body fat (3).") == [("4%", "percent")]
    assert spans("Our favourites: 1) Deviled, 2) Scotch, 3) Boiled.") == []
    assert spans("They live in @1377 Apartments.") == []
    assert spans("Three real-life cases were studied.") == [("Three", "count")]
    assert spans("Two loggias flank the pool, one off the suite and the other off the hall.") == [("Two", "count")]
    assert spans("ChatGPT is by one measure still small.") == []
    assert spans("Drugs that could one day be used by doctors.") == []
    assert spans("The ideas that first inspire brands.") == []
    assert spans("The grape is a first cousin of Pinot Noir.") == []
    assert spans("The Budget 2024 plan was tabled.") == []
    assert spans("Some 2000 people marched.") == [("2000", "count")]
    assert spans("If I could ask Benjamin three questions.") == [("three", "count")]
    [clip] = find_figures("- 30-Second Hair Hacks")
    assert (clip.value, clip.unit) == (30.0, "second")


def test_ranks_written_no_or_hash_and_names_that_look_like_months() -> None:
    assert spans("As No. 4 Ohio State meets No. 1 Alabama.") == [("No. 4", "ordinal"), ("No. 1", "ordinal")]
    assert spans("Research moves strawberries up to #2!") == [("#2", "ordinal")]
    assert spans("Mistake #6 is common.") == []
    assert spans("Both times, May, who said the team was out, got it right.") == []
    assert spans("It opened in May.") == [("May", "date")]
    assert spans("(Four of the dresses are new.)") == [("Four", "count")]
    assert spans("Characters barely change from one episode to the next.") == []


def test_dimensions_and_the_idiom_in_the_first_place_are_no_figures() -> None:
    assert spans("The museum bought a 3-D scanner and 2D maps for 3 rooms.") == [("3", "count")]
    assert spans("That does not explain why it rose in the first place.") == []
    assert spans("She finished in first place.") == [("first", "ordinal")]
    assert spans("The team was in the first place in the table after two rounds.")[0] == ("first", "ordinal")


@pytest.mark.integration
def test_an_object_stops_before_a_verb_the_tagger_read_as_a_noun() -> None:
    text = "Rivals trail far behind, while Samsung hovers around 30%."
    assert _parser()(text)[7].tag_ == "NNS"  # "hovers" read as a plural noun heading the clause
    assert objects(text) == [("30%", "Samsung")]


@pytest.mark.integration
def test_a_quoted_title_cut_in_two_is_left_out_of_an_object() -> None:
    assert objects('Fans paid $6 for "Star Trek" stickers at the fair.', country="US") == [("$6", "stickers")]


def test_a_unit_long_adjective_is_one_of_the_unit() -> None:
    [week] = find_figures("Kwanzaa, a week-long celebration, began on Friday.")
    assert (week.text, week.kind, week.value, week.unit) == ("week-long", "quantity", 1.0, "week")
    [year] = find_figures("The yearlong inquiry ended.")
    assert (year.text, year.value, year.unit) == ("yearlong", 1.0, "year")
    [two] = find_figures("They took a two-week-long trip.")
    assert (two.text, two.value, two.unit) == ("two-week", 2.0, "week")
    assert spans("It was a long week.") == []


def test_enumerators_clock_words_and_ordinals_before_a_count_are_no_ranks() -> None:
    assert spans("Second, currency swings can hurt bond investors.") == []
    assert spans("They were called to the hospital after five o’clock.") == []
    assert spans("The first two are related.") == [("two", "count")]
    assert spans("He came second, behind Smith.") == [("second", "ordinal")]
    assert spans("The second 10-year auction went well.") == [("second", "ordinal"), ("10-year", "quantity")]


def test_ages_in_a_list_of_people() -> None:
    [age] = find_figures("Casey Conaway, 30, Edinburg was arrested by Kincaid police.")
    assert (age.text, age.kind, age.value, age.unit) == ("30", "quantity", 30.0, "year")
    [_, young] = find_figures("October 20: A male juvenile, 16, Taylorville, was arrested.")
    assert (young.text, young.unit) == ("16", "year")
    assert spans("Main Street, 12, Springfield") == [("12", "count")]


@pytest.mark.integration
def test_an_object_ends_before_a_clause_on_a_gerund() -> None:
    text = "Firms face a £1,000 fine for allowing self-isolating staff to attend their workplace."
    assert objects(text) == [("£1,000", "fine")]


@pytest.mark.integration
def test_objects_of_a_predeterminer_a_price_after_a_change_and_an_age_before_a_name() -> None:
    assert objects("Half the aid that reached the hospital was burial bags.") == [("Half", "aid")]
    assert objects("Cisco Systems Inc. traded up 0.48% at $28.49.") == [
        ("0.48%", "Cisco Systems Inc."),
        ("$28.49", "Cisco Systems Inc."),
    ]
    assert objects("Police named the surfer as 50-year-old Kevin Swanson.") == [("50-year-old", None)]
    assert objects("A 50-year-old man was hurt.") == [("50-year-old", None)]  # a person's age has no object


def test_a_plus_sign_before_a_name_and_the_subject_an_ordinal_ranks() -> None:
    assert spans("The findings were published by +972 Magazine.") == []
    [first] = extract_figures("The movie was also the first to introduce talking zombies.")
    assert (first.text, first.kind, first.object) == ("first", "ordinal", "movie")
    [first] = extract_figures("She was the first to arrive.")
    assert first.object is None


def test_a_third_in_a_list_and_a_rank_written_without_a_dot() -> None:
    text = "One plan is to sell, another is to lease, and a third is to rebuild."
    assert [(f.text, f.kind, f.value) for f in find_figures(text)] == [("third", "ordinal", 3.0)]
    assert [(f.kind, f.value) for f in find_figures("A third of voters stayed home.")] == [("fraction", 1 / 3)]
    assert next((f.text, f.kind, f.value) for f in find_figures("She beat world No 38 in two sets.")) == (
        "No 38", "ordinal", 38.0,
    )  # fmt: skip
    assert not [f for f in find_figures("The team of No 10 said so.") if f.kind == "ordinal"]


@pytest.mark.integration
def test_the_end_of_a_change_from_a_to_b_takes_the_object_of_its_start() -> None:
    text = "The firm went from 12% of all online sales to over 20% in a year."
    assert objects(text)[:2] == [("12%", "online sales"), ("20%", "online sales")]


def test_up_to_after_a_verb_of_motion_is_no_bound_and_a_parent_of_three_counts_children() -> None:
    climb = find_figures("Start slow and build up to 30 minutes a day.")[0]
    assert (climb.modifier, climb.approximate) == (None, False)
    assert find_figures("Fines of up to 30 dollars apply.")[0].modifier == "up to"
    assert find_figures("Research moves strawberries up to #2!")[0].modifier is None
    text = "His family, including father-of-three Chris, and a mother of two children came."
    assert [(f.text, f.kind, f.value, f.object) for f in extract_figures(text)] == [
        ("three", "count", 3.0, None), ("two", "count", 2.0, "children"),
    ]  # fmt: skip


@pytest.mark.integration
def test_a_gerund_of_change_is_no_object() -> None:
    text = "The aim is to stop them from rising more than 2 degrees Celsius; they committed to spending $2 billion."
    assert objects(text, country="US") == [("2 degrees Celsius", None), ("$2 billion", "spending")]


@pytest.mark.integration
def test_objects_of_a_valued_noun_a_change_year_on_year_and_a_change_in_cents() -> None:
    assert objects("The deal, valued at about $4.5 billion, is expected to close.", country="US") == [
        ("$4.5 billion", "deal")
    ]
    assert objects("Exports to China slumped 7.5% year on year.") == [("7.5%", "Exports")]
    assert objects("Brent settled up 87 cents, or 1.1%, at $82.10 a barrel.", country="US") == [
        ("87 cents", "Brent"), ("1.1%", "Brent"), ("$82.10", "Brent"),
    ]  # fmt: skip


@pytest.mark.integration
def test_a_share_of_a_generic_doer_names_it_and_pence_end_a_sentence() -> None:
    assert objects("Half of firms said so.") == [("Half", "firms")]
    assert objects("45% of companies agreed.") == [("45%", "companies")]
    assert objects("The bank raised $2 billion.", country="US") == [("$2 billion", None)]
    assert [(f.text, f.value, f.unit) for f in find_figures("Shares rose to 480p.")] == [("480p", 4.8, "GBP")]
    assert find_figures("The video streams in 480p.") == []


@pytest.mark.integration
def test_goods_worth_an_amount_are_its_object_and_a_tally_by_votes_is_no_figure() -> None:
    assert objects("Beijing put levies on US farm goods worth about US$21 billion.") == [
        ("US$21 billion", "US farm goods")
    ]
    assert objects("Police seized 1.2 tonnes of cocaine worth an estimated $360 million.", country="AU")[1] == (
        "$360 million", "cocaine",
    )  # fmt: skip
    assert find_figures("The bill passed the Senate by 51 votes to 49.") == []
    assert find_figures("The House approved it by 217 to 212.") == []
    assert [f.text for f in find_figures("Sales grew by 10 to 20 units.")] == ["10", "20"]


@pytest.mark.integration
def test_a_change_noun_with_a_noun_before_it_names_what_changes() -> None:
    assert objects("Siemens expects revenue growth of 3% to 7% in fiscal 2025.") == [
        ("3%", "revenue"), ("7%", "revenue"), ("2025", None),
    ]  # fmt: skip
    assert objects("A 10% increase in the median price.") == [("10%", "median price")]


@pytest.mark.integration
def test_the_level_a_change_reached_takes_its_object() -> None:
    assert objects("The index fell 1.2% to 5,950.3 on Monday.") == [("1.2%", "index"), ("5,950.3", "index")]
    found = objects("Layoffs jumped 28% in January to 49,795, a tracker said.", published_at=datetime(2025, 2, 6))
    assert [o for t, o in found if t != "January"] == ["Layoffs", "Layoffs"]


@pytest.mark.integration
def test_a_measure_with_its_dimension_measures_the_noun_before_it_and_earlier_levels_share_the_noun() -> None:
    assert objects("The asteroid, roughly 300 metres wide, will pass by.")[0] == ("300 metres", "asteroid")
    assert objects("A wall 3 metres high surrounds it.") == [("3 metres", "wall")]
    assert objects("The UK recorded 2,345 new cases, up from 1,980 a week earlier.") == [
        ("2,345", "new cases"), ("1,980", "new cases"),
    ]  # fmt: skip


def test_centuries_iso_dates_and_days_of_the_month_are_dates() -> None:
    dates = [(f.text, f.date_value) for f in find_figures("A study of 19th-century trade and of 15th century Venice.")]
    assert dates == [("19th-century", "18XX"), ("15th century", "14XX")]
    assert [(f.text, f.date_value) for f in find_figures("The abbey dates from the mid-1600s.")] == [("1600s", "16XX")]
    assert [(f.text, f.date_value) for f in find_figures("Filed 2019-03-07 by the clerk.")] == [
        ("2019-03-07", "2019-03-07")
    ]
    assert [(f.text, f.kind, f.date_value) for f in find_figures("The show runs until the 21st.")] == [
        ("21st", "date", "XXXX-XX-21")
    ]
    # a rank that names what it ranks, and a list of ranks before a weekday, stay ordinals
    assert [f.kind for f in find_figures("Their office moved to the 5th floor.")] in ([], ["ordinal"])
    assert {f.kind for f in find_figures("Meetings on the 1st and 3rd Monday of each month.")} == {"ordinal"}


def test_kitchen_measures_and_dimensions_share_the_unit_written_once() -> None:
    cups = [(f.text, f.value, f.unit) for f in find_figures("Whisk 2/3 cup of milk with 2 tbsp sugar.")]
    assert cups == [("2/3 cup", pytest.approx(2 / 3), "cup"), ("2 tbsp", 2.0, "tablespoon")]
    sides = [(f.text, f.value, f.unit) for f in find_figures("Icons are 64 x 48 pixels and the rug 8 by 10 feet.")]
    assert sides == [("64", 64.0, "pixel"), ("48 pixels", 48.0, "pixel"), ("8", 8.0, "foot"), ("10 feet", 10.0, "foot")]


def test_a_unit_word_capitalised_in_running_text_is_part_of_a_name() -> None:
    text = "Fans of the club travelled far and wide to watch the side lift the 1998 Cup in front of the old stand."
    assert [(f.text, f.kind) for f in find_figures(text)] == [("1998", "date")]
    assert [f.unit for f in find_figures("Bake 12-Minute Muffins")] == ["minute"]  # a title writes its units so
    hot = "Forecasters said that afternoon highs near 31 Celsius are expected across most of the region."
    assert [(f.text, f.unit) for f in find_figures(hot)] == [("31 Celsius", "degree_celsius")]


def test_idioms_of_half_and_one_are_no_figures_but_a_share_is() -> None:
    assert find_figures("Slice the peppers in half lengthwise.") == []
    assert find_figures("Their budget was cut in half last spring.") == []
    assert [(f.text, f.value) for f in find_figures("He finished in half the time.")] == [("half", 0.5)]
    assert [(f.text, f.value) for f in find_figures("The deal gave Maria half of the shares.")] == [("half", 0.5)]
    assert find_figures("Let us look at the list one last time.") == []
    assert find_figures("It has been one hell of a season.") == []


def test_bounds_written_without_of_and_adverbs_that_open_a_sentence() -> None:
    [term] = find_figures("The charge carries a maximum 15-year sentence.")
    assert (term.value, term.unit, term.approximate) == (15.0, "year", True)
    [count] = find_figures("Already 240 homes have been connected to the grid.")
    assert (count.text, count.kind, count.value) == ("240", "count", 240.0)


def test_objects_of_lists_names_addresses_dimensions_and_spending() -> None:
    assert objects("The fair drew some 500 potters, weavers, jewellers and glass-blowing artists together.") == [
        ("500", "potters, weavers, jewellers and glass-blowing artists")
    ]
    assert objects("They spoke to two farmers, three grocers and a baker.")[0] == ("two", "farmers")
    assert objects("The film follows 5th grade teacher Ana Lopez, who moves to Lyon.") == [("5th", "grade teacher")]
    assert objects("Order now at example-shop.com, $25-$40.") == [("$25", None), ("$40", None)]
    assert objects("Rovers crossed a 40-km-wide crater near the pole.") == [("40-km", "crater")]
    assert objects("The council spent $12 million on repairing the bridges.") == [("$12 million", "bridges")]
    assert objects("The city has spent over $3 million on new buses.") == [("$3 million", "new buses")]
    assert objects("It was a 25 minute walk from the station.") == [("25 minute", "walk")]
    assert objects("Folds flat  - Three year warranty  Steel Frame") == [("Three year", "warranty")]


def units(text: str, **context: object) -> list[tuple[str, str, float | None, str | None]]:
    """Return (text, kind, value, unit) of every figure in ``text`` (rules only)."""
    ctx = make_context(text, **context)  # type: ignore[arg-type]
    return [(f.text, f.kind, f.value, f.unit) for f in find_figures(text, ctx)]


def test_unit_symbols_in_capitals_inch_marks_and_kitchen_and_power_units() -> None:
    assert units("The laptop ships with 8 GB of memory and a 50 MW plant runs at 60 Hz.") == [
        ("8 GB", "quantity", 8.0, "gigabyte"),
        ("50 MW", "quantity", 50.0, "megawatt"),
        ("60 Hz", "quantity", 60.0, "hertz"),
    ]
    assert units("Fit a 100 watts bulb or a 60W lamp, and add five pints of milk.") == [
        ("100 watts", "quantity", 100.0, "watt"),
        ("60W", "quantity", 60.0, "watt"),
        ("five pints", "quantity", 5.0, "pint"),
    ]
    assert units("Resize the photo to 2048 px wide.") == [("2048 px", "quantity", 2048.0, "pixel")]
    assert units("Cut the berries into 1/4″ slices.") == [("1/4″", "quantity", 0.25, "inch")]
    assert units("Cut out circles about 3” wide.") == [("3”", "quantity", 3.0, "inch")]
    assert units("They called it the “Top 10” list.") == [("10", "count", 10.0, None)]


def test_glued_metres_and_seconds_against_millions() -> None:
    assert units("The collision dented the 30m vessel.") == [("30m", "quantity", 30.0, "metre")]
    assert units("He won the 400m hurdles in 49.28s.") == [
        ("400m", "quantity", 400.0, "metre"),
        ("49.28s", "quantity", 49.28, "second"),
    ]
    assert units("He opened a gap with 300m to go.") == [("300m", "quantity", 300.0, "metre")]
    assert units("About 3m people watched.") == [("3m", "count", 3e6, None)]
    assert units("The club signed a 3m deal.") == [("3m", "count", 3e6, None)]
    assert units("The start-up raised 3m in funding.") == [("3m", "count", 3e6, None)]


def test_tons_in_a_us_outlet_are_short_tons() -> None:
    text = "The barn stores 10 tons of hay and 5 metric tons of corn."
    assert [u for *_, u in units(text, country="US")] == ["ton", "tonne"]
    assert [u for *_, u in units(text, country="GB")] == ["tonne", "tonne"]


def test_compact_dates_slashed_days_after_a_weekday_and_a_year_or_so() -> None:
    def dates(text: str) -> list[tuple[str, str | None]]:
        return [(f.text, f.date_value) for f in find_figures(text, make_context(text, country="US"))]

    assert dates("Posted by admin 11Oct12") == [("11Oct12", "2012-10-11")]
    assert dates("Posted by admin 3Dec99") == [("3Dec99", "1999-12-03")]
    text = "The band plays Tuesday (11/13) at Glasslands and Thursday (11/15) at Pianos."
    assert dates(text) == [("11/13", "XXXX-11-13"), ("11/15", "XXXX-11-15")]
    [year] = find_figures("I first went online in 1993 or so.")
    assert (year.date_value, year.approximate, year.modifier) == ("1993", True, "or so")


def test_references_times_and_spelled_phone_numbers_are_no_figures() -> None:
    assert find_figures("Colossians 1:9 in all English translations") == []
    assert find_figures("He won in 2:04:38 after a 1:41.73 split.") == []
    assert find_figures("Consumer inquiries: 888-INFO-FDA or 1-800-FLOWERS") == []
    assert find_figures("3)Twist it into a bun and pin it.") == []
    assert [f.text for f in find_figures("The first few pages set the scene.")] == []


def test_one_out_of_every_five_is_a_share() -> None:
    [share] = find_figures("Nearly one out of every five trials collects extra data.")
    assert (share.text, share.kind, share.value, share.approximate) == ("one out of every five", "fraction", 0.2, True)


def test_objects_of_hyphenated_ages_possessives_praise_and_slashes_in_price() -> None:
    assert objects("He took a minute off Mosop's one-year old record.")[-1] == ("one-year", "record")
    assert objects("The ruling ends the two firms’ patent disputes.") == [("two", "firms")]
    assert objects("Two of the company's stores closed.") == [("Two", "company's stores")]
    assert objects("Here are 30 awesome cutting edge designs.") == [("30", "cutting edge designs")]
    assert objects("It had the third highest opening weekend.") == [("third", "opening weekend")]
    assert objects("Cases: 12 (second highest after Delhi)")[-1] == ("second", None)
    assert objects("The seller took a $20,000 slash in price.", country="US") == [("$20,000", "price")]


def test_the_pronoun_one_after_adjectives_or_a_verb_and_phone_and_zone_pieces_are_no_figures() -> None:
    assert find_figures("Make your own or buy an adorable custom one with your name.") == []
    assert find_figures("What if there is no chance to buy one? Then wait.") == []
    assert find_figures("The way forward is a difficult one trudged through mud.") == []
    assert find_figures("She is his one and only!") == []
    assert [f.text for f in find_figures("He scored one goal and needs one vote.")] == ["one", "one"]
    assert find_figures("Please call (212) 560 – 6928 today.") == []
    assert find_figures("The briefing opens at 9.30 am (CEST+1) or UTC-05:00.") == []


def test_ages_after_a_pronoun_or_turning_dozens_and_decades_written_with_a_prime() -> None:
    ages = [(f.text, f.unit) for f in find_figures("If you’re 50 or older, or when I was about 3 or 4, you saved.")]
    assert ages == [("50", "year"), ("3", "year"), ("4", "year")]
    assert [(f.text, f.unit) for f in find_figures("On Turning 40 and the GIF turns 25 this year")] == [
        ("40", "year"),
        ("25", "year"),
    ]
    assert [(f.text, f.kind, f.unit) for f in find_figures("He was 17 points behind.")] == [("17", "count", None)]
    assert [(f.text, f.value) for f in find_figures("I bought 4 dozen eggs and two dozen rolls.")] == [
        ("4 dozen", 48.0),
        ("two dozen", 24.0),
    ]
    assert [(f.text, f.date_value) for f in find_figures("chairs of the ’50′s and the 1960's")] == [
        ("’50′s", "195X"),
        ("1960's", "196X"),
    ]


def test_labels_spelled_phones_and_a_length_of_time_ago_are_no_counts() -> None:
    assert find_figures("Peel the tab marked with the number “2”.") == []
    assert find_figures("Dial 855-543-DRUG (3784) and press star.") == []
    assert find_figures("Five short months ago I lived there.") == []
    assert objects("To be exact, it's 2,095 now and counting.") == [("2,095", None)]


def test_half_units_bounds_written_max_generic_one_and_rate_units() -> None:
    assert [(f.text, f.value, f.unit) for f in find_figures("We missed the half-hour trip by a half mile.")] == [
        ("half-hour", 0.5, "hour"),
        ("half mile", 0.5, "mile"),
    ]
    [cap] = find_figures("Limits fall to an absolute max of $2500.", make_context("", country="US"))
    assert (cap.approximate, cap.modifier, cap.bound) == (True, "max of", "upper")
    assert objects("Groups hold a maximum of 20.") == [("20", None)]
    assert find_figures("One wishes to look cool to one’s niece.") == []
    assert objects("The new limit is $6450/year for a family.", country="US") == [("$6450", None)]


def test_more_before_the_noun_halves_with_hyphens_clock_words_and_bracketed_labels() -> None:
    assert objects("The city will hire 300 more nurses next year.") == [("300", "nurses")]
    [half] = find_figures("They walked a 3-and-a-half mile loop.")
    assert (half.text, half.value, half.unit) == ("3-and-a-half mile", 3.5, "mile")
    assert find_figures("It happened a year and a half later.") == []
    assert find_figures("The shop closes at 3 in the afternoon on Sundays.") == []
    assert [f.text for f in find_figures("They sell four colours now (1, 2, 3 and 4), and more.")] == ["four"]
    [rank] = find_figures("It is the no.1 selling car.")
    assert (rank.kind, rank.value) == ("ordinal", 1.0)
    assert [(f.text, f.kind) for f in find_figures("The guide rated it first in the region.")] == [("first", "ordinal")]


def test_hedges_as_phrases_levels_reached_again_poll_margins_and_event_years() -> None:
    [_second, hedged] = find_figures("The second leg should take in the range of 40 min, traffic permitting.")
    assert (hedged.text, hedged.unit, hedged.approximate, hedged.modifier) == (
        "40 min",
        "minute",
        True,
        "in the range of",
    )
    [level] = find_figures("The queue is back up to five.")
    assert (level.approximate, level.modifier) == (False, None)
    [margin] = find_figures("In the latest poll the race is within 2 points.")
    assert (margin.kind, margin.unit) == ("percent", "percentage_point")
    assert [(f.kind, f.unit) for f in find_figures("He was 17 points behind.")] == [("count", None)]
    assert find_figures("The best county is one where the roads are quiet.") == []
    [year] = find_figures("Mayor Opens 2019 Harbour Festival")
    assert (year.kind, year.date_value) == ("date", "2019")


def test_objects_of_ages_payments_coordinated_nouns_and_compound_measures() -> None:
    assert objects("At the age of 40, he moved to Lyon.") == [("40", None)]
    assert objects("The bank agreed to pay $40 million in stock for the startup and its patents.", country="US") == [
        ("$40 million", "startup and its patents")
    ]
    assert objects("About 3 percent of doctors, nurses and pharmacists said they had quit.") == [
        ("3 percent", "doctors, nurses and pharmacists")
    ]
    assert objects("Workers may move there on a low income tax rate (15%), while keeping benefits.") == [
        ("15%", "low income tax rate")
    ]
    assert objects("The deal is in the region of $5m, sources said.", country="US") == [("$5m", "deal")]


def test_places_in_a_sequence_kitchen_symbols_prime_feet_and_distances_in_metres() -> None:
    assert [(f.text, f.kind, f.value) for f in find_figures("The vote comes in week 12 of the session.")] == [
        ("12", "ordinal", 12.0)
    ]
    assert spans("Every day 40 lorries cross the bridge.") == [("40", "count")]
    assert spans("The Idol Season 14 Finalists were named.") == []
    assert objects("Stage 3 of the works starts soon.") == [("3", "Stage")]
    [flour] = find_figures("Sift 350 g flour into the bowl.")
    assert (flour.text, flour.kind, flour.unit) == ("350 g", "quantity", "gram")
    [stock] = find_figures("Pour in 400 ml stock.")
    assert (stock.text, stock.unit) == ("400 ml", "millilitre")
    hedge = find_figures("The hedge grows 6′ to 9′ tall.")
    assert [(f.text, f.unit) for f in hedge] == [("6′", "foot"), ("9′", "foot")]
    assert [f.unit for f in find_figures("The wreck lies 60m deep, 300m from the harbour wall.")] == ["metre", "metre"]
    [raised] = find_figures("The club raised 30m from the sale of its ground.")
    assert (raised.kind, raised.value) == ("count", 3e7)


def test_phone_and_service_numbers_and_the_pronoun_of_anyone() -> None:
    assert spans("For advice, ring the clinic on 0161 496 0700.") == []
    assert spans("Where 101 isn't available, phone the station.") == []
    assert spans("A neighbour phoned 999 at once.") == []
    assert spans("If one drives at night, the road is quiet.") == []
    assert spans("The boy already has a bike and wants one.") == []
    assert spans("If one company leaves, the deal fails.") == [("one", "count")]
    assert spans("When one class ends, the bell rings.") == [("one", "count")]


def test_versions_multipliers_asides_inches_in_brackets_and_numbered_names() -> None:
    assert spans("Upgrade the app to version 4.2 first.") == []
    assert spans("MinimumVersion: 3.1") == []
    assert spans("Play the clip at 1.5x speed.") == []
    assert spans("Set the sauce to one side to cool.") == []
    assert spans("Critics called the review one-sided.") == []
    [cm, inch] = find_figures("Bake it in a 20cm (8 in) square tin.")
    assert (inch.text, inch.unit, cm.unit) == ("8 in", "inch", "centimetre")
    assert spans("The 9th Circuit Court of Appeals ruled on it.") == []
    assert spans("The march went down 125th street.") == []
    [oil] = find_figures("Warm 3 teaspoon oil, then heat 2 cups stock.")[:1]
    assert (oil.text, oil.kind) == ("3 teaspoon", "quantity")
    [okra] = find_figures("Add 150 gm okra.")
    assert (okra.text, okra.unit) == ("150 gm", "gram")


def test_an_object_never_holds_the_figure_or_another_measure() -> None:
    for sentence in ("What stands out is HTML's 4Kb rise.", "The biggest change is the font’s 19Kb rise."):
        assert all(obj is None or text not in obj for text, obj in objects(sentence))
    from tasks.figures.objects import _NUMBER_LIKE

    assert _NUMBER_LIKE.fullmatch("/350F") and not _NUMBER_LIKE.fullmatch("3-door hatchbacks")
    for sentence in ("Roast at 180°C /350F for an hour.", "Reheat in a 180°C /350F oven for 5 minutes."):
        assert all(obj is None or not _NUMBER_LIKE.fullmatch(obj) for _, obj in objects(sentence))


def test_ages_in_brackets_hyphened_codes_older_years_and_abbreviations_in_objects() -> None:
    [age] = find_figures("Peter Moyo (71), a retired teacher, spoke first.")
    assert (age.text, age.kind, age.unit) == ("71", "quantity", "year")
    assert [(f.text, f.kind) for f in find_figures("Grandpa (80) still farms.")] == [("80", "quantity")]
    assert [f.kind for f in find_figures("Jones (9) tops the list of sponsors.")] == ["count"]
    assert spans("Bookings: 301-555-2468-10.") == []
    assert [(f.text, f.kind) for f in find_figures("The abbey was founded in 1642.")] == [("1642", "date")]
    assert spans("The herd grew to 1642 cattle.") == [("1642", "count")]
    assert objects("It placed ninth of 30 large U.S. metro areas.")[-1] == ("30", "large U.S. metro areas")
    assert objects("Of the three bridges, one spans the river.") == [("three", "bridges"), ("one", None)]


def test_heights_stat_lines_code_pins_fixed_compounds_and_age_limits() -> None:
    assert [(f.text, f.unit) for f in find_figures("The 6-foot-8 forward and a 5′11″ guard signed.")] == [
        ("6-foot", "foot"),
        ("8", "inch"),
        ("5′", "foot"),
        ("11″", "inch"),
    ]
    assert [(f.text, f.unit) for f in find_figures("The 6-ft-4 lock signed.")] == [("6-ft", "foot"), ("4", "inch")]
    assert spans("The visitors went 3-for-14 from deep.") == []
    assert spans("Pin requests==2.31.0 and use the image node:20 for builds.") == []
    assert spans("She is a two-way player; tickets go on a first-come, first-served basis.") == []
    assert spans("The clinic treats 5-alpha reductase deficiency.") == []
    assert spans("The fort sits at 51°30′26″ N.") == []
    under, over = find_figures("Entry is free for children under 7 and costs more for anyone over 65.")
    assert (under.text, under.kind, under.unit, over.text, over.unit) == ("7", "quantity", "year", "65", "year")
    assert [(f.text, f.kind) for f in find_figures("Looking back on turning 30 or 40 if you must.")] == [
        ("30", "quantity"),
        ("40", "quantity"),
    ]


@pytest.mark.integration
def test_a_persons_age_has_no_object_an_old_things_does() -> None:
    found = dict(objects("A 41-year-old nurse crossed the 300-year-old bridge with two 19-year-old students."))
    assert found["41-year-old"] is None and found["19-year-old"] is None
    assert found["300-year-old"] == "bridge"
    assert dict(objects("The 62-year-old Tomas Berger spoke."))["62-year-old"] is None


def test_numbers_of_a_name_in_a_list_or_a_span_and_fixed_ordinal_compounds() -> None:
    assert spans("Support for Python 2.6 and 2.7 ended, as did Ruby 1.8, 1.9 and 2.0.") == []
    assert spans("The port moved from Perl 5 to 6.") == []
    assert [f.text for f in find_figures("The rally lifted the Nasdaq 100 to 4,000.")] == ["4,000"]
    assert spans("It avoids 3rd party packages and third-party code.") == []
    assert spans("She bought a second-hand van.") == []
    assert spans("The Greens became the third party in the chamber.") == [("third", "ordinal")]


def test_a_plus_after_the_number_is_a_lower_bound_of_a_measure_or_a_count() -> None:
    [life] = find_figures("The panels have a working life of 25+ years.")
    assert (life.text, life.kind, life.unit, life.approximate) == ("25+ years", "quantity", "year", True)
    assert objects("The hall seats 300+ guests.") == [("300", "guests")]


def test_levels_of_a_scale_money_in_a_compound_names_given_as_numbers() -> None:
    assert spans("Schools stay open under level 3 restrictions.") == [("3", "ordinal")]
    assert spans("Forecasters expect a category 4 storm.") == [("4", "ordinal")]
    assert spans("Each day 30 people arrive.") == [("30", "count")]
    [dish] = find_figures("The 2.5-billion-yuan dish opened.")
    assert (dish.kind, dish.value, dish.unit) == ("money", 2.5e9, "CNY")
    assert spans("The signal came from a source known as 180916.") == []
    assert spans("Tutors give one-to-one lessons and one-on-one calls.") == []


@pytest.mark.integration
def test_a_source_cited_in_brackets_is_no_object_and_a_verb_ends_the_phrase() -> None:
    for sentence in ("Sea levels rose by 9 cm (Ocean Service, 2021).", "It was 1.4°C (Climate Service, 2023)."):
        assert all(obj is None or "Service" not in obj for _, obj in objects(sentence))
    assert dict(objects("One reader wrote to complain."))["One"] == "reader"
