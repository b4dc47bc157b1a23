"""Unit tests for the date figures (no model): dates at the precision written, and relative dates ("on Thursday",
"yesterday", "three months ago") resolved against the publication day on the outlet's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.figures import find_figures, make_context
from tests.figures_helpers import one

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
    january = make_context(published_at=datetime(2025, 1, 15, tzinfo=UTC))
    assert one("Sales fell in December.", january).date_value == "2024-12"  # the last December
    assert one("The plant will open on December 3.", january).date_value == "2025-12-03"


def test_relative_dates_resolved_only_with_a_publication_date() -> None:
    text = "Profits doubled last year, the firm said on Tuesday."
    assert find_figures(text) == []
    ctx = make_context(published_at=datetime(2026, 3, 5, tzinfo=UTC))  # a Thursday
    figs = find_figures(text, ctx)
    assert [(f.text, f.date_value, f.relative) for f in figs] == [
        ("last year", "2025", True),
        ("Tuesday", "2026-03-03", True),
    ]


def test_a_span_of_years_is_two_dates_and_a_fiscal_year_one() -> None:
    figs = find_figures("The funds cover the period 2021-2027.")
    assert [(f.text, f.date_value) for f in figs] == [("2021", "2021"), ("2027", "2027")]
    assert one("The budget for 2025-26 was tabled.").date_value == "2025/2026"


def test_calendar_year_abbreviation_is_a_date() -> None:
    assert one("Revenue could rise 3% for CY 2015.", kind="date").date_value == "2015"
    assert [(f.text, f.date_value) for f in find_figures("Exports peaked in FY25; FY2024 and FY'23 were weaker.")] == [
        ("FY25", "2025"), ("FY2024", "2024"), ("FY'23", "2023"),
    ]  # fmt: skip


def test_last_and_next_month_names_are_relative() -> None:
    ctx = make_context(published_at=datetime(2023, 11, 7, tzinfo=UTC))
    last = one("Questions asked last June went unanswered.", ctx)
    assert (last.date_value, last.relative) == ("2023-06", True)
    nxt = one("The line opens next March.", ctx)
    assert (nxt.date_value, nxt.relative) == ("2024-03", True)
    plain = one("The line opened in June.", ctx)
    assert (plain.date_value, plain.relative) == ("2023-06", False)


# ------------------------------------------------------------------------------------------------ relative dates


def dated(text: str, published_at: datetime, country: str | None = None) -> list[tuple[str, str | None]]:
    """Return ``(text, date_value)`` of the relative dates of ``text`` published at ``published_at``."""
    ctx = make_context(text, published_at=published_at, country=country)
    return [(f.text, f.date_value) for f in find_figures(text, ctx) if f.relative]


TUESDAY = datetime(2024, 11, 26, 13, 0, tzinfo=UTC)  # Tuesday 26 November 2024


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # the tense of the clause picks the week: the coming Thursday is the 28th, the past one the 21st
        ("The minister will publish the figures on Thursday.", "2024-11-28"),
        ("The annual report on Thursday will show a deficit.", "2024-11-28"),
        ("The council is meeting on Thursday to vote.", "2024-11-28"),
        ("The board is expected to decide on Thursday.", "2024-11-28"),
        ("The exhibition opens Thursday at the city gallery.", "2024-11-28"),
        ("Shares rallied ahead of Thursday's vote.", "2024-11-28"),
        ("The minister published the figures on Thursday.", "2024-11-21"),
        ("Two men have been charged after a fire on Thursday night.", "2024-11-21"),
        ("She said on Thursday that the plant will close.", "2024-11-21"),
        ("Police arrested a man Thursday.", "2024-11-21"),
        ("Voters backed a measure on Thursday that will raise taxes.", "2024-11-21"),
        ("The leaders met for a debate on Thursday ahead of the vote.", "2024-11-21"),
        # the publication day itself counts in either direction
        ("The central bank said Tuesday it was ready to act.", "2024-11-26"),
        ("The leaders will meet on Tuesday evening.", "2024-11-26"),
        # the word in front decides
        ("The plant closed last Thursday.", "2024-11-21"),
        ("The plant will close next Thursday.", "2024-11-28"),
        ("The plant closes this Thursday.", "2024-11-28"),
        ("The plant closed on Friday last week.", "2024-11-22"),
        ("The plant will close on Monday next week.", "2024-12-02"),
    ],
)
def test_weekday_resolved_by_tense(text: str, value: str) -> None:
    assert [v for _t, v in dated(text, TUESDAY)] == [value]


@pytest.mark.parametrize(
    "text",
    [
        "The shop is open Tuesday-Saturday by appointment.",
        "The food bank opens on the 2nd Thursday of each month.",
        "It was a Sunday in late fall.",
        "The Good Friday Agreement ended decades of conflict.",
        "The rally is on Saturday, June 21.",
        "Cases rose last week and may rise this weekend.",
    ],
)
def test_weekdays_and_weeks_that_are_no_day(text: str) -> None:
    assert dated(text, TUESDAY) == []


def test_a_weekday_written_with_its_date_is_the_date() -> None:
    figs = find_figures("The vote is on Saturday, June 21.", make_context(published_at=TUESDAY))
    assert [(f.text, f.date_value, f.relative) for f in figs] == [("June 21", "2024-06-21", False)]


def test_yesterday_and_tomorrow_across_a_month_and_a_year_end() -> None:
    text = "Prices fell yesterday and will be reviewed tomorrow."
    assert dated(text, datetime(2024, 3, 1, 9, tzinfo=UTC)) == [("yesterday", "2024-02-29"), ("tomorrow", "2024-03-02")]
    assert dated(text, datetime(2024, 11, 30, 9, tzinfo=UTC)) == [
        ("yesterday", "2024-11-29"),
        ("tomorrow", "2024-12-01"),
    ]
    assert dated(text, datetime(2024, 12, 31, 9, tzinfo=UTC)) == [
        ("yesterday", "2024-12-30"),
        ("tomorrow", "2025-01-01"),
    ]
    assert dated("The strike ended last night.", datetime(2025, 1, 1, 9, tzinfo=UTC)) == [("last night", "2024-12-31")]


def test_today_is_the_day_only_when_something_happens_on_it() -> None:
    published = datetime(2024, 11, 26, 13, tzinfo=UTC)
    assert dated("The company announced today that it will cut 200 jobs.", published)[0] == ("today", "2024-11-26")
    assert dated("Shares rose earlier today.", published) == [("today", "2024-11-26")]
    assert dated("Details emerged at today's hearing.", published) == [("today", "2024-11-26")]
    assert dated("Buyers are more demanding today.", published) == []  # "nowadays"
    assert dated("Few schools teach Latin today.", published) == []


def test_counted_days_months_and_years_ago() -> None:
    published = datetime(2024, 5, 10, 12, tzinfo=UTC)
    assert dated("The mine closed 20 years ago.", published) == [("20 years ago", "2004")]
    assert dated("The plant opened a year ago.", published) == [("a year ago", "2023")]
    assert dated("Talks stalled three months ago.", published) == [("three months ago", "2024-02")]
    assert dated("The storm hit five days ago.", published) == [("five days ago", "2024-05-05")]
    # a week is not a day: a count of weeks names an ISO week
    assert dated("The storm hit two weeks ago.", published) == [("two weeks ago", "2024-W17")]
    assert dated("Twenty years from now the debt will be paid.", published) == [("Twenty years from now", "2044")]


def test_in_n_days_is_a_date_only_in_a_future_clause() -> None:
    published = datetime(2024, 5, 30, 12, tzinfo=UTC)
    assert dated("The bridge will reopen in three days.", published) == [("in three days", "2024-06-02")]
    figs = find_figures("Tickets sold out in three days.", make_context(published_at=published))
    assert [(f.text, f.kind, f.relative) for f in figs] == [("three days", "quantity", False)]


def test_next_and_last_month_and_year_across_the_year_end() -> None:
    december = datetime(2024, 12, 10, 12, tzinfo=UTC)
    assert dated("Rates will rise next month.", december) == [("next month", "2025-01")]
    assert dated("Rates will rise next year.", december) == [("next year", "2025")]
    january = datetime(2025, 1, 10, 12, tzinfo=UTC)
    assert dated("Rates rose last month.", january) == [("last month", "2024-12")]
    # "the last year" is the twelve months up to now, not a calendar year
    assert dated("Rates rose over the last year.", january) == []


def test_relative_dates_use_the_publication_day_on_the_outlet_clock() -> None:
    text = "The council voted yesterday."
    # 03:30 UTC on Wednesday is Tuesday evening in New York
    late = datetime(2024, 11, 27, 3, 30, tzinfo=UTC)
    assert dated(text, late, country="US") == [("yesterday", "2024-11-25")]
    assert dated(text, late) == [("yesterday", "2024-11-26")]  # no country: the UTC day
    assert dated(text, late, country="IN") == [("yesterday", "2024-11-26")]  # 09:00 in Delhi
    # a time written with its own offset is the outlet's clock already
    own = datetime.fromisoformat("2024-11-26T23:30:00-05:00")
    assert dated(text, own, country="GB") == [("yesterday", "2024-11-25")]
    # midnight UTC is how a page stating only its date is stored: the date stays
    assert dated(text, datetime(2024, 11, 27, tzinfo=UTC), country="US") == [("yesterday", "2024-11-26")]
    # the weekday follows the local day too: Tuesday evening's "on Tuesday" is that day
    assert dated("The council voted on Tuesday.", late, country="US") == [("Tuesday", "2024-11-26")]


def test_scorer_scores_relative_dates_only_where_they_are_annotated() -> None:
    import json
    from pathlib import Path

    from bench.figures_eval import annotates_relative

    data = Path(__file__).resolve().parents[1] / "bench" / "data"

    def rows(name: str) -> list[dict[str, object]]:
        return [json.loads(line) for line in (data / name).read_text(encoding="utf-8").splitlines() if line.strip()]

    assert annotates_relative(rows("figures_relative_dev.jsonl"))
    assert not annotates_relative(rows("figures_heldout.jsonl"))


def test_a_day_with_slashes_after_on_and_decades_in_words() -> None:
    us = make_context("x", country="US")
    assert [(f.text, f.date_value) for f in find_figures("Join our panel on 11/9 at noon.", us)] == [
        ("11/9", "XXXX-11-09")
    ]
    gb = make_context("x", country="GB")
    assert one("Join our panel on 11/9 at noon.", gb).date_value == "XXXX-09-11"
    assert find_figures("Scores were 11/9 and 7/3 in the sample.", us) == []  # no "on": no day
    assert one("The mood echoes that of the Thirties.").date_value == "193X"
    assert one("It was built in the late Sixties.").date_value == "196X"
    assert find_figures("She is in her thirties.")[0].kind == "quantity"  # an age, no decade of the calendar
