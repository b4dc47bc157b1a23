"""Tests for names in lines of results, standings and entry lists, and for country names the model missed."""

from __future__ import annotations

import pytest

from tasks.entities import Mention, canonical_form
from tasks.mentions import given_names, photo_credits, place_names
from tasks.nlp import NlpOptions, analyze_articles
from tasks.results_lines import clubs_in_match_reports, country_names, missed_countries, names_in_result_lines
from tests.test_entities import article


def _at(text: str, *rows: tuple[str, str]) -> list[Mention]:
    """Mentions of ``rows`` (written, label) at their first place in ``text``."""
    out = []
    for written, label in rows:
        start = text.index(written)
        out.append(Mention(written, label, start, start + len(written), None, canonical_form(written)))
    return out


def _read(found: list[Mention]) -> list[tuple[str, str]]:
    return [(m.text, m.label) for m in sorted(found, key=lambda m: m.start)]


def test_a_results_line_is_two_teams() -> None:
    text = "Results on Saturday:\nHarbury 2 Millbrook Rovers 0\nLeeds 0, Chelsea 1 (halftime 0-0)\nJapan 3 Peru 1"
    mentions = _at(text, ("Harbury 2 Millbrook Rovers", "PERSON"), ("Chelsea", "GPE"))
    found = names_in_result_lines(text, mentions, given_names())
    assert mentions == []  # the misread mentions are replaced
    assert _read(found) == [("Harbury", "ORG"), ("Millbrook Rovers", "ORG"), ("Leeds", "ORG"), ("Chelsea", "ORG"),
                            ("Japan", "GPE"), ("Peru", "GPE")]  # fmt: skip


def test_a_standings_row_is_a_team_or_a_player() -> None:
    text = "Standings:\nReal Harbury 12 7 3 2 20 10 24\n3. Greg Lindqvist 66 70 68 204\nNorway 5 3 2 10\n"
    found = names_in_result_lines(text, _at(text, ("Real Harbury", "PERSON")), given_names())
    assert _read(found) == [("Real Harbury", "ORG"), ("Greg Lindqvist", "PERSON"), ("Norway", "GPE")]


def test_prose_with_numbers_is_no_table_line() -> None:
    text = "Harbury won 2 of 3 games.\nThe club, founded in 1901, has 12 000 members.\nChannel 4 News 2024"
    assert names_in_result_lines(text, [], given_names()) == []


def test_a_country_in_brackets_and_the_player_before_it() -> None:
    text = "1 - Goran Lindqvist ( Croatia ) beat Ann Okafor (New Zealand) 7-6 6-3"
    mentions = _at(text, ("Ann Okafor", "PERSON"))
    found = names_in_result_lines(text, mentions, given_names())
    assert _read(found) == [("Goran Lindqvist", "PERSON"), ("Croatia", "GPE"), ("New Zealand", "GPE")]


def test_the_players_of_a_scorecard_are_people() -> None:
    text = (
        "Scorers: Okafor (23rd, 75th pen), Lindqvist (50th)\n"
        "Hussein c Parr b Cairo 45\nThorne not out 12\nAtwood lbw b Wasim 8\n"
        "Bowling: Cairo 10-2-34-1, Dowell 8-1-22-0\n"
        "The Harbury (12th) ranking fell."
    )
    found = names_in_result_lines(text, _at(text, ("Cairo", "GPE")), given_names())
    assert _read(found) == [("Okafor", "PERSON"), ("Lindqvist", "PERSON"), ("Hussein", "PERSON"), ("Parr", "PERSON"),
                            ("Cairo", "PERSON"), ("Thorne", "PERSON"), ("Atwood", "PERSON"), ("Wasim", "PERSON"),
                            ("Cairo", "PERSON"), ("Dowell", "PERSON")]  # fmt: skip


def test_a_country_the_model_missed_unless_it_is_part_of_a_longer_name() -> None:
    text = (
        "Exports to Chile rose. In Chile, Bank of Chile and Chile Telecom grew; Jordan Henderson scored. "
        "Jordan said so. Peru and Chile met in the U.S. and in Latin America."
    )
    found = missed_countries(text, _at(text, ("U.S.", "GPE")), given_names())
    assert _read(found) == [("Chile", "GPE"), ("Chile", "GPE"), ("Peru", "GPE"), ("Chile", "GPE")]
    assert [m.start for m in found][:2] == [text.index("Chile"), text.index("Chile", text.index("In Chile"))]


def test_a_city_in_a_match_report_is_its_club_and_a_country_its_side() -> None:
    text = (
        "Leeds beat Newcastle 3-0 and Japan drew 1-1 with China. Rios beat Muster 6-4 in Rotterdam. "
        "Voters in Leeds backed it 52-48. Newcastle grew 2-3% a year."
    )
    mentions = [*_at(text, ("Leeds", "GPE"), ("Newcastle", "PERSON"), ("Japan", "GPE"), ("Rotterdam", "GPE"))]
    later = text.index("Voters")
    mentions += [Mention("Leeds", "GPE", s, s + 5, None, "Leeds") for s in [text.index("Leeds", later)]]
    s = text.index("Newcastle grew")
    mentions.append(Mention("Newcastle", "GPE", s, s + 9, None, "Newcastle"))
    clubs_in_match_reports(text, mentions, place_names())
    assert [m.label for m in mentions] == ["ORG", "ORG", "GPE", "GPE", "GPE", "GPE"]


def test_country_names_come_from_the_alias_table() -> None:
    names = country_names()
    assert {"Chile", "New Zealand", "U.S.", "Britain", "England", "Wales"} <= names
    assert "US" not in names and "UK" not in names  # short acronyms are too often something else


@pytest.mark.integration
def test_wire_lines_through_the_model() -> None:
    text = (
        "SOCCER - HARBOUR LEAGUE RESULTS .\n"
        "Results of Harbour League matches on Sunday :\n"
        "Tenerife 2 Compostela 0\n"
        "Hamburg 1 Schalke 3\n"
        "CRICKET - ENGLAND V NEW ZEALAND SCOREBOARD .\n"
        "TENNIS - RESULTS AT ROTTERDAM OPEN .\n"
        "Marcelo Okafor ( Chile ) beat Thomas Lindqvist ( Austria ) 6-4 7-5\n"
    )
    ((entities, _),) = analyze_articles([article(text)], NlpOptions(with_figures=False))
    read = {(text[e.start_char : e.end_char], e.label) for e in entities}
    assert {("Tenerife", "ORG"), ("Compostela", "ORG"), ("Hamburg", "ORG"), ("Schalke", "ORG")} <= read
    assert {("ENGLAND", "GPE"), ("NEW ZEALAND", "GPE"), ("Chile", "GPE"), ("Austria", "GPE")} <= read
    assert ("Marcelo Okafor", "PERSON") in read and ("Thomas Lindqvist", "PERSON") in read
    assert not any(" - " in name or " V " in name for name, _ in read)
    assert not {label for name, label in read if name.endswith("OPEN") or name.endswith("Open")} & {"GPE", "LOC"}


@pytest.mark.integration
def test_banks_and_rating_agencies_are_organisations_with_their_possessive() -> None:
    text = "Standard & Poor 's said it may cut the rating . J.P. Morgan analysts expect a cut ."
    ((entities, _),) = analyze_articles([article(text)], NlpOptions(with_figures=False))
    read = {(text[e.start_char : e.end_char], e.label) for e in entities}
    assert {("Standard & Poor 's", "ORG"), ("J.P. Morgan", "ORG")} <= read


def test_a_photo_credit_is_a_photographer_and_agencies() -> None:
    text = "The crowd at the final. (Maria Ortega/AFP/Getty Images)"
    found = photo_credits(text, [Mention("Maria Ortega/AFP", "ORG", 25, 41, 0, "Maria Ortega/AFP")], [0])
    assert _read(found) == [("Maria Ortega", "PERSON"), ("AFP", "ORG"), ("Getty Images", "ORG")]
    assert photo_credits("Sales rose 5/6 of the way.", [], [0]) == []


@pytest.mark.integration
def test_acronyms_of_common_nouns_and_known_platforms_through_the_model() -> None:
    text = (
        "The CEO said GDP growth would slow, and the new UI ships with the SEO tools. "
        "She sent the photos from Safari to Dropbox. (Jon Price/Reuters)"
    )
    ((entities, _),) = analyze_articles([article(text)], NlpOptions(with_figures=False))
    read = {(text[e.start_char : e.end_char], e.label) for e in entities}
    assert not {name for name, _ in read} & {"CEO", "GDP", "UI", "SEO"}
    assert ("Jon Price", "PERSON") in read and ("Reuters", "ORG") in read
    assert not {label for name, label in read if name in ("Safari", "Dropbox")} & {"PERSON", "GPE", "LOC"}
